"""Tenants sign with keys that exist only in CloudStack (the faithful simulator), end to end.

The stack's auth service looks keys up in a running ``CloudStackSimulator`` (getUser, getUserKeys,
listAccounts, signed as CloudStack verifies them), with short cache lifetimes so that disabling a
user or rotating a key shows within the test. Clients are real boto3 clients over HTTP.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from stackwatch.cloudstack import SimulatorThread
from tests.e2e.clients import cloudwatch
from tests.e2e.stack import Stack

TTL = 1.5


@pytest.fixture(scope="module")
def sim():
    with SimulatorThread(job_seconds=0.1) as s:
        yield s


@pytest.fixture(scope="module")
def cs_stack(sim, e2e_store_url, tmp_path_factory):
    admin = sim.admin_keys
    s = Stack(e2e_store_url, "e2e_cs_" + uuid.uuid4().hex[:8], tmp_path_factory.mktemp("cs-stack"), auth={
        "cloudstack_url": sim.endpoint, "cloudstack_api_key": admin.api_key, "cloudstack_secret_key": admin.secret_key,
        "cache_ttl": TTL, "negative_ttl": 0.5, "stale_ttl": 120, "cloudstack_timeout": 2.0}).start()
    yield s
    s.stop()


def _client(stack, keys, tmp_path_factory, protocol="json"):
    return cloudwatch(stack.endpoint, protocol, keys.api_key, keys.secret_key, tmp_path_factory.getbasetemp())


def _code(exc):
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.mark.parametrize("protocol", ["json", "query", "cbor"])
def test_cloudstack_keys_sign_requests_and_scope_data(sim, cs_stack, tmp_path_factory, protocol):
    account, _, keys = sim.add_tenant(f"acme-{protocol}")
    _, _, other = sim.add_tenant(f"globex-{protocol}")
    cw = _client(cs_stack, keys, tmp_path_factory, protocol)
    ns = f"CS/{uuid.uuid4().hex[:8]}"
    t = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "Hits", "Timestamp": t, "Value": 5.0}])
    assert [m["MetricName"] for m in cw.list_metrics(Namespace=ns)["Metrics"]] == ["Hits"]
    assert _client(cs_stack, other, tmp_path_factory, protocol).list_metrics(Namespace=ns)["Metrics"] == []
    # the datum is the CloudStack account's: a second user of the same account sees it
    with sim.state.lock:
        colleague = sim.state.add_user(account, f"carol-{protocol}")
    from stackwatch.cloudstack import Keys

    same = _client(cs_stack, Keys(colleague.api_key, colleague.secret_key), tmp_path_factory, protocol)
    assert [m["MetricName"] for m in same.list_metrics(Namespace=ns)["Metrics"]] == ["Hits"]


def test_the_cache_keeps_load_off_cloudstack(sim, cs_stack, tmp_path_factory):
    _, _, keys = sim.add_tenant("busy")
    cw = _client(cs_stack, keys, tmp_path_factory)
    before = sim.calls["getUser"]
    for _ in range(30):
        cw.list_metrics(Namespace="Nothing/Here")
    assert sim.calls["getUser"] - before == 1


def test_a_disabled_user_or_account_is_refused_within_the_ttl(sim, cs_stack, tmp_path_factory):
    account, user, keys = sim.add_tenant("soon-disabled")
    cw = _client(cs_stack, keys, tmp_path_factory)
    cw.list_metrics()
    with sim.state.lock:
        user.state = "disabled"
    time.sleep(TTL + 0.2)
    with pytest.raises(ClientError) as exc:
        cw.list_metrics()
    assert _code(exc) == ("InvalidClientTokenId", 403)
    assert "disabled" in exc.value.response["Error"]["Message"]
    with sim.state.lock:
        user.state = "enabled"
        account.state = "disabled"
    time.sleep(TTL + 0.2)
    with pytest.raises(ClientError) as exc:
        cw.list_metrics()
    assert "account" in exc.value.response["Error"]["Message"]


def test_a_rotated_key_stops_working_and_the_new_one_works(sim, cs_stack, tmp_path_factory):
    from stackwatch.cloudstack import Keys

    _, user, old = sim.add_tenant("rotating")
    _client(cs_stack, old, tmp_path_factory).list_metrics()
    sim.state.rotate_keys(user)
    new = Keys(user.api_key, user.secret_key)
    _client(cs_stack, new, tmp_path_factory).list_metrics()  # works at once
    time.sleep(TTL + 0.2)
    with pytest.raises(ClientError) as exc:
        _client(cs_stack, old, tmp_path_factory).list_metrics()
    assert _code(exc) == ("InvalidClientTokenId", 403)


def test_cloudstack_down_cached_keys_keep_working_unknown_keys_get_a_clean_503(sim, cs_stack, tmp_path_factory):
    _, _, known = sim.add_tenant("known-before-outage")
    _, _, unseen = sim.add_tenant("unseen-before-outage")
    _client(cs_stack, known, tmp_path_factory).list_metrics()
    sim.set_unavailable(True)
    try:
        time.sleep(TTL + 0.2)  # past the ttl: only the stale allowance keeps it working
        _client(cs_stack, known, tmp_path_factory).list_metrics()
        started = time.monotonic()
        with pytest.raises(ClientError) as exc:
            _client(cs_stack, unseen, tmp_path_factory).list_metrics()
        assert _code(exc) == ("ServiceUnavailable", 503)
        assert time.monotonic() - started < 10
    finally:
        sim.set_unavailable(False)
    _client(cs_stack, unseen, tmp_path_factory).list_metrics()


def test_an_unknown_key_is_refused(cs_stack, tmp_path_factory):
    from stackwatch.cloudstack import Keys

    with pytest.raises(ClientError) as exc:
        _client(cs_stack, Keys("nosuchkey" * 4, "x"), tmp_path_factory).list_metrics()
    assert _code(exc) == ("InvalidClientTokenId", 403)


def test_secrets_and_signatures_stay_out_of_the_logs(sim, cs_stack, tmp_path_factory, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    _, _, keys = sim.add_tenant("quiet")
    cw = _client(cs_stack, keys, tmp_path_factory)
    signatures = []
    cw.meta.events.register("before-send.cloudwatch.*", lambda request, **_: signatures.append(
        str(request.headers.get("Authorization", b""), "utf-8", "replace").rsplit("Signature=", 1)[-1]))
    cw.list_metrics()
    bad = _client(cs_stack, type(keys)(keys.api_key, "wrong-secret"), tmp_path_factory)
    with pytest.raises(ClientError):
        bad.list_metrics()
    ours = [r for r in caplog.records if r.name.split(".")[0] in ("gateway", "services", "stackwatch")]
    text = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in ours)  # botocore logs its own request
    for secret in (keys.secret_key, sim.admin_keys.secret_key, *signatures):
        assert secret and secret not in text
    assert keys.api_key in text  # refusals are logged, by key id
