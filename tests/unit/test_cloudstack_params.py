"""Client-side tables: parameter encoding, idempotency, and which failures the client retries."""

from __future__ import annotations

import pytest

from stackwatch.cloudstack import (
    CloudStackError,
    CloudStackUnavailable,
    encode_params,
    is_idempotent,
    map_param,
)
from stackwatch.cloudstack._client import _should_retry, _unwrap
from stackwatch.cloudstack._errors import error_from_envelope


def test_encode_params_writes_what_cloudstack_parses() -> None:
    assert encode_params({"listall": True, "expunge": False, "pagesize": 50, "ratio": 1.5, "name": "web",
                          "ids": ["a", "b"], "resourceids": ("x",), "keyword": None, "networkids": []}) == {
        "listall": "true", "expunge": "false", "pagesize": "50", "ratio": "1.5", "name": "web",
        "ids": "a,b", "resourceids": "x"}


@pytest.mark.parametrize("name", ["apiKey", "apikey", "signature", "command", "response", "expires",
                                  "signatureVersion"])
def test_encode_params_refuses_names_the_signer_owns(name: str) -> None:
    with pytest.raises(ValueError):
        encode_params({name: "x"})


def test_encode_params_refuses_a_mapping() -> None:
    with pytest.raises(TypeError, match="map_param"):
        encode_params({"tags": {"key": "a"}})  # type: ignore[dict-item]


def test_map_param_spells_entries_out() -> None:
    assert map_param("tags", [{"key": "sw-group", "value": "web"}, {"key": "env", "value": None},
                              {"key": "ha", "value": True}]) == {
        "tags[0].key": "sw-group", "tags[0].value": "web", "tags[1].key": "env",
        "tags[2].key": "ha", "tags[2].value": "true"}


@pytest.mark.parametrize(("command", "expected"), [
    ("listVirtualMachines", True), ("getUser", True), ("getUserKeys", True), ("queryAsyncJobResult", True),
    ("deployVirtualMachine", False), ("destroyVirtualMachine", False), ("createTags", False),
    ("assignToLoadBalancerRule", False), ("registerUserKeys", False),
])
def test_is_idempotent(command: str, expected: bool) -> None:
    assert is_idempotent(command) is expected


@pytest.mark.parametrize(("code", "transient", "may_have_run"), [
    (401, False, True), (411, False, True), (430, False, True), (431, False, True), (432, False, True),
    (531, False, True), (532, False, True), (533, False, True), (535, False, True), (536, False, True),
    (537, False, True),
    (429, True, False), (503, True, False), (530, True, True), (534, True, True),
])
def test_envelope_codes_are_classified(code: int, transient: bool, may_have_run: bool) -> None:
    error = error_from_envelope("listZones", {"errorcode": code, "cserrorcode": 9999, "errortext": "x"})
    assert isinstance(error, CloudStackError) and error.errorcode == code and error.cserrorcode == 9999
    assert isinstance(error, CloudStackUnavailable) is transient
    if transient:
        assert isinstance(error, CloudStackUnavailable) and error.may_have_run is may_have_run


@pytest.mark.parametrize(("error", "idempotent", "retry"), [
    (CloudStackUnavailable(0, None, "refused", "c", may_have_run=False), False, True),
    (CloudStackUnavailable(0, None, "timeout", "c"), False, False),
    (CloudStackUnavailable(0, None, "timeout", "c"), True, True),
    (CloudStackUnavailable(503, None, "proxy", "c"), False, False),
    (CloudStackError(431, 9999, "missing", "c"), True, False),
    (CloudStackError(401, None, "signature", "c"), True, False),
    (ValueError("bug"), True, False),
], ids=["refused-write", "timeout-write", "timeout-read", "proxy-503-write", "431-read", "401-read", "bug"])
def test_retry_gate(error: BaseException, idempotent: bool, retry: bool) -> None:
    assert _should_retry(error, idempotent) is retry


def test_unwrap_returns_the_inner_object_even_when_empty() -> None:
    assert _unwrap("listZones", 200, "application/json; charset=UTF-8", b'{"listzonesresponse":{}}') == {}
    assert _unwrap("listZones", 200, "text/javascript", b'{"listzonesresponse":{"count":1,"zone":[{}]}}') == {
        "count": 1, "zone": [{}]}


def test_unwrap_raises_the_envelope_error() -> None:
    body = b'{"errorresponse":{"uuidList":[],"errorcode":432,"cserrorcode":9999,"errortext":"no"}}'
    with pytest.raises(CloudStackError) as info:
        _unwrap("getUser", 432, "application/json", body)
    assert (info.value.errorcode, info.value.cserrorcode, info.value.errortext) == (432, 9999, "no")
    assert not isinstance(info.value, CloudStackUnavailable)


@pytest.mark.parametrize(("status", "transient"), [(502, True), (503, True), (504, True), (404, False),
                                                    (200, False)])
def test_unwrap_without_an_envelope(status: int, transient: bool) -> None:
    with pytest.raises(CloudStackError) as info:
        _unwrap("listZones", status, "text/html", b"<html>nope</html>")
    assert info.value.errorcode == status
    assert isinstance(info.value, CloudStackUnavailable) is transient
