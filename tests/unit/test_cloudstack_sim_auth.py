"""The simulator's reading of a request: the servlet's parameter merge and ``verifyRequest``'s order.

These are the rules a real management server applies before any command runs; the integration
tests drive them over HTTP with real clients, these pin each rule on its own.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from stackwatch.clock import FakeClock
from stackwatch.cloudstack import signed_params
from stackwatch.cloudstack._sim_auth import UNVERIFIED, MalformedQuery, servlet_params, verify_request
from stackwatch.cloudstack._sim_state import ApiFailure, SimState

NOW = 1_900_000_000.0
KNOWN = {"listZones", "getUser"}
ADMIN_ONLY = {"getUser"}


@pytest.fixture
def state() -> SimState:
    return SimState(clock=FakeClock(NOW), admin_keys=("AKadmin", "SKadmin"))


def _multi(params: Mapping[str, str]) -> dict[str, list[str]]:
    return {k: [v] for k, v in params.items()}


def test_query_string_names_repeat_with_their_last_value() -> None:
    assert servlet_params("name=a&name=b&x=1")["name"] == ["b"]


def test_body_names_repeat_with_their_first_value() -> None:
    assert servlet_params("", "name=a&name=b")["name"] == ["a", "b"]


def test_query_string_wins_over_the_body() -> None:
    assert servlet_params("name=q", "name=b")["name"] == ["q"]


def test_values_are_url_decoded_as_utf8() -> None:
    params = servlet_params("a=web+tier&b=web%20tier&c=%C3%BC&d=%7E&e=x%3Dy&f")
    assert [params[k][0] for k in "abcdef"] == ["web tier", "web tier", "ü", "~", "x=y", ""]


def test_a_broken_escape_is_refused() -> None:
    with pytest.raises(MalformedQuery):
        servlet_params("name=%zz")


def _signed(state: SimState, command: str = "listZones", *, key: str = "AKadmin", secret: str = "SKadmin",
            expires_in: float | None = 600, now: float = NOW, **params: str) -> dict[str, list[str]]:
    return _multi(signed_params(command, params, key, secret, expires_in, now))


def _refusal(state: SimState, params: Mapping[str, list[str]]) -> ApiFailure:
    with pytest.raises(ApiFailure) as info:
        verify_request(params, state, KNOWN, ADMIN_ONLY)
    return info.value


def test_a_good_request_names_its_user(state: SimState) -> None:
    assert verify_request(_signed(state), state, KNOWN, ADMIN_ONLY) is state.admin_user


@pytest.mark.parametrize("case", ["no-command", "unknown-command", "no-apikey", "no-signature",
                                  "wrong-secret", "unknown-key", "v3-no-expires", "v3-expired",
                                  "v3-garbage-expires", "tampered"])
def test_refusals_are_all_the_same_401(state: SimState, case: str) -> None:
    params = _signed(state)
    if case == "no-command":
        del params["command"]
    elif case == "unknown-command":
        params = _signed(state, "listzones")  # names are case-sensitive
    elif case == "no-apikey":
        del params["apiKey"]
    elif case == "no-signature":
        del params["signature"]
    elif case == "wrong-secret":
        params = _signed(state, secret="SKwrong")
    elif case == "unknown-key":
        params = _signed(state, key="AKnobody")
    elif case == "v3-no-expires":
        del params["expires"]
    elif case == "v3-expired":
        params = _signed(state, now=NOW - 601)
    elif case == "v3-garbage-expires":
        params = _signed(state)
        params["expires"] = ["soon"]
    elif case == "tampered":
        params["name"] = ["extra"]
    refusal = _refusal(state, params)
    assert (refusal.errorcode, refusal.errortext, refusal.cserrorcode) == (401, UNVERIFIED, None)


def test_without_v3_expires_is_ignored(state: SimState) -> None:
    params = _signed(state, expires_in=None, expires="2000-01-01T00:00:00+0000")
    assert verify_request(params, state, KNOWN, ADMIN_ONLY) is state.admin_user


def test_v3_request_valid_until_its_expiry(state: SimState) -> None:
    assert verify_request(_signed(state, now=NOW - 600), state, KNOWN, ADMIN_ONLY) is state.admin_user


@pytest.mark.parametrize("who", ["user", "account"])
@pytest.mark.parametrize("status", ["disabled", "locked"])
def test_disabled_or_locked_owner_is_refused(state: SimState, who: str, status: str) -> None:
    account = state.add_account("acme")
    user = state.add_user(account, "alice", api_key="AKalice", secret_key="SKalice")
    if who == "user":
        user.state = status
    else:
        account.state = status
    params = _signed(state, key="AKalice", secret="SKalice")
    assert _refusal(state, params).errorcode == 401


def test_role_check_comes_before_the_signature(state: SimState) -> None:
    account = state.add_account("acme")
    state.add_user(account, "alice", api_key="AKalice", secret_key="SKalice")
    # Even with a wrong secret, a non-admin asking for getUser hears about the role first (432).
    refusal = _refusal(state, _signed(state, "getUser", key="AKalice", secret="SKwrong", userapikey="x"))
    assert refusal.errorcode == 432
    assert refusal.errortext == "The API [getUser] does not exist or is not available for the account acme."


def test_a_user_without_secret_key_is_refused(state: SimState) -> None:
    account = state.add_account("acme")
    user = state.add_user(account, "alice", api_key="AKalice", secret_key="SKalice")
    user.secret_key = None
    assert _refusal(state, _signed(state, key="AKalice", secret="SKalice")).errorcode == 401


def test_rotated_keys_stop_the_old_pair(state: SimState) -> None:
    state.rotate_keys(state.admin_user)
    assert _refusal(state, _signed(state)).errorcode == 401
