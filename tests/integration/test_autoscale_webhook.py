"""The webhook actuator against a real aiohttp endpoint: signed payloads, retries, refusals."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from services.autoscale.actuators import ActuatorError, CapacityChange, WebhookActuator, sign_payload

SECRET = "group-secret-123"


@dataclass
class Endpoint:
    url: str = ""
    answers: list[int] = field(default_factory=list)  # status to answer per request, then 200
    seen: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    state = Endpoint()

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        state.seen.append((dict(request.headers), body))
        status = state.answers.pop(0) if state.answers else 200
        return web.Response(status=status, text="ok" if status == 200 else "no")

    app = web.Application()
    app.router.add_post("/scale", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.url = f"http://127.0.0.1:{runner.addresses[0][1]}/scale"
    yield state
    await runner.cleanup()


CHANGE = CapacityChange("heap", 3, 2, "At 2026-01-01T00:00:00Z alarm HighHeap in state ALARM triggered policy grow",
                        "arn:alarm:HighHeap/1767225600000")


def verify(headers: dict[str, str], body: bytes, secret: str = SECRET) -> bool:
    """What a receiver does: recompute the HMAC over "<timestamp>." + body, compare in constant time."""
    mac = hmac.new(secret.encode(), headers["X-StackWatch-Timestamp"].encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest("v1=" + mac.hexdigest(), headers["X-StackWatch-Signature"])


async def test_the_payload_is_json_signed_with_the_groups_secret(endpoint: Endpoint) -> None:
    await WebhookActuator(endpoint.url, SECRET).set_capacity(CHANGE)
    [(headers, body)] = endpoint.seen
    assert json.loads(body) == {"group": "heap", "desired": 3, "previous": 2, "cause": CHANGE.cause,
                                "idempotency_key": CHANGE.idempotency_key}
    assert headers["Idempotency-Key"] == CHANGE.idempotency_key
    assert headers["Content-Type"] == "application/json"
    assert verify(headers, body)
    assert not verify(headers, body, "another-secret")
    assert not verify(headers, body.replace(b'"desired":3', b'"desired":9'))
    assert sign_payload(SECRET, 1, b"{}") != sign_payload(SECRET, 2, b"{}")  # the timestamp is signed


async def test_5xx_and_429_are_retried_with_the_same_idempotency_key(endpoint: Endpoint) -> None:
    endpoint.answers = [503, 429, 500]
    await WebhookActuator(endpoint.url, SECRET, backoff=0.01).set_capacity(CHANGE)
    assert len(endpoint.seen) == 4
    assert {h["Idempotency-Key"] for h, _ in endpoint.seen} == {CHANGE.idempotency_key}
    assert all(verify(h, b) for h, b in endpoint.seen)


async def test_a_4xx_is_a_refusal_and_not_retried(endpoint: Endpoint) -> None:
    endpoint.answers = [403]
    with pytest.raises(ActuatorError) as info:
        await WebhookActuator(endpoint.url, SECRET, backoff=0.01).set_capacity(CHANGE)
    assert not info.value.recoverable and len(endpoint.seen) == 1


async def test_giving_up_after_the_attempts_is_recoverable(endpoint: Endpoint) -> None:
    endpoint.answers = [502] * 10
    with pytest.raises(ActuatorError) as info:
        await WebhookActuator(endpoint.url, SECRET, attempts=3, backoff=0.01).set_capacity(CHANGE)
    assert info.value.recoverable and len(endpoint.seen) == 3


async def test_a_closed_port_is_retried_then_recoverable() -> None:
    actuator = WebhookActuator("http://127.0.0.1:9/scale", SECRET, attempts=2, backoff=0.01, timeout=1)
    with pytest.raises(ActuatorError) as info:
        await actuator.set_capacity(CHANGE)
    assert info.value.recoverable


async def test_webhook_reconciler_hands_over_changes_until_acknowledged(endpoint: Endpoint) -> None:
    from services.autoscale.domain import GroupSpec, LaunchConfiguration
    from services.autoscale.reconcile import Activity, WebhookReconciler

    spec = GroupSpec("acct", "heap", 1, 4, 2, LaunchConfiguration("lc", "", ""))
    acked: dict[str, int] = {}
    records: list[Activity] = []

    async def source() -> GroupSpec:
        return spec

    async def acknowledged() -> int | None:
        return acked.get("n")

    async def record(activity: Activity) -> None:
        records.append(activity)
        if activity.status == "Successful":  # what the store does: the last success is the state
            acked["n"] = int(activity.details["desired"])

    rec = WebhookReconciler(source, acknowledged, WebhookActuator(endpoint.url, SECRET, attempts=2, backoff=0.01),
                            record)
    endpoint.answers = [503, 503]  # the first change fails after its two attempts
    assert await rec.pass_once() is False
    assert [r.status for r in records] == ["InProgress", "Failed"]
    assert await rec.pass_once() is True  # the next pass hands it over (a new activity, a new key)
    assert await rec.pass_once() is False  # nothing left to do: no request
    assert len(endpoint.seen) == 3 and acked == {"n": 2}
    first, second = (json.loads(b) for _, b in endpoint.seen[1:])
    assert (second["desired"], second["previous"]) == (2, 0)
    assert json.loads(endpoint.seen[0][1])["idempotency_key"] == first["idempotency_key"] != second["idempotency_key"]
    assert second["idempotency_key"] == records[-1].id and records[-1].status == "Successful"
    spec = GroupSpec("acct", "heap", 1, 4, 9, LaunchConfiguration("lc", "", ""))  # clamped to max 4
    assert await rec.pass_once() is True
    last = json.loads(endpoint.seen[-1][1])
    assert (last["desired"], last["previous"]) == (4, 2) and "from 2 to 4" in last["cause"]
