"""The CloudStack credential provider against the CloudStack simulator, over HTTP."""

from __future__ import annotations

import pytest

from services.auth.cloudstack import CloudStackCredentialProvider
from services.auth.provider import ProviderUnavailable
from stackwatch.cloudstack import CloudStackClient, CloudStackSimulator


@pytest.fixture
async def sim():
    async with CloudStackSimulator(job_seconds=0) as s:
        yield s


def _provider(sim, keys=None) -> CloudStackCredentialProvider:
    key, secret = keys or sim.admin_keys
    return CloudStackCredentialProvider(CloudStackClient(sim.endpoint, key, secret, timeout=2.0, attempts=2,
                                                         backoff=0.01))


async def test_a_known_key_gives_the_account_uuid_and_the_secret(sim):
    account, user, keys = sim.add_tenant("acme", "alice")
    provider = _provider(sim)
    try:
        got = await provider.lookup(keys.api_key)
    finally:
        await provider.close()
    assert (got.account_id, got.user, got.secret_access_key, got.active) == (account.id, "alice", keys.secret_key, True)
    assert len(got.account_number) == 12
    assert sim.calls["getUser"] == 1 and sim.calls["getUserKeys"] == 1 and sim.calls["listAccounts"] == 1


async def test_an_unknown_key_is_none(sim):
    provider = _provider(sim)
    try:
        assert await provider.lookup("no-such-key") is None
    finally:
        await provider.close()


@pytest.mark.parametrize(("who", "state", "fragment"), [("user", "disabled", "user"), ("user", "locked", "locked"),
                                                         ("account", "disabled", "account")])
async def test_disabled_or_locked_users_and_disabled_accounts_are_inactive(sim, who, state, fragment):
    account, user, keys = sim.add_tenant("acme")
    with sim.state.lock:
        (user if who == "user" else account).state = state
    provider = _provider(sim)
    try:
        got = await provider.lookup(keys.api_key)
    finally:
        await provider.close()
    assert not got.active and fragment in got.reason and state in got.reason


@pytest.mark.parametrize("secret_in_get_user", [True, False], ids=["old-cloud", "hidden-secret"])
async def test_without_get_user_keys_the_secret_of_get_user_is_used(sim, secret_in_get_user):
    """CloudStack before 4.10 has no getUserKeys (432) but returns the secret in getUser."""
    _, _, keys = sim.add_tenant("old-cloud")
    sim.state.secret_key_in_response = secret_in_get_user
    sim.fail_next("getUserKeys", 432, "The given command does not exist or it is not available for the user")
    provider = _provider(sim)
    try:
        got = await provider.lookup(keys.api_key)
    finally:
        await provider.close()
    if secret_in_get_user:
        assert got.secret_access_key == keys.secret_key
    else:  # no secret anywhere: the key cannot be verified, so it is as good as unknown
        assert got is None


async def test_cloudstack_down_or_refusing_our_keys_is_provider_unavailable(sim):
    _, _, keys = sim.add_tenant("acme")
    sim.set_unavailable(True)
    provider = _provider(sim)
    try:
        with pytest.raises(ProviderUnavailable):
            await provider.lookup(keys.api_key)
    finally:
        await provider.close()
    sim.set_unavailable(False)
    wrong = _provider(sim, (sim.admin_keys.api_key, "not-the-admin-secret"))
    try:
        with pytest.raises(ProviderUnavailable):
            await wrong.lookup(keys.api_key)
    finally:
        await wrong.close()
