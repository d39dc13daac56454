"""The action outbox and its dispatcher on both engines: real HTTP endpoints, a real autoscale server.

Each test writes due actions the way the alarm writer does, runs the dispatcher, and checks what
the endpoint received, the Action history items and which outbox rows are still pending, including
across a "restart" (a new dispatcher over the same tables).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp import web

from services.alarm import messages
from services.alarm.delivery import ActionRouter, Dispatcher, HttpPoster, RetryPolicy
from services.alarm.domain import AlarmKind, initial_state, set_alarm_state
from services.alarm.domain.model import from_epoch
from services.alarm.egress import parse_networks
from services.alarm.records import AlarmConfig
from services.alarm.signing import SigningKey
from services.alarm.store import AlarmStore
from services.alarm.topics import NotificationStore, PendingAction, StoredSubscription, Topic, outbox_id
from services.alarm.writer import AlarmWriter
from services.autoscale.main import running as autoscale_running
from stackwatch.clock import FakeClock
from stackwatch.config import AutoscaleSettings
from stackwatch.domain.arn import account_number
from stackwatch.proto.auth.v1 import auth_pb2
from stackwatch.proto.autoscale.v1 import autoscale_pb2, autoscale_pb2_grpc
from stackwatch.rpc import TokenSigner, open_channel, principal_metadata
from stackwatch.store import AsyncEngine

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC).timestamp()
ACCOUNT = "0d5f0c4e-5b7e-4a53-9d2f-aaaaaaaaaaaa"
NUMBER = account_number(ACCOUNT)
TOPIC = f"arn:aws:sns:us-east-1:{NUMBER}:ops"
ALARM = f"arn:aws:cloudwatch:us-east-1:{NUMBER}:alarm:cpu"
KEY = SigningKey.generate()
QUICK = RetryPolicy(first_wait=0.01, max_wait=0.05, deadline=2.0)


class Endpoint:
    """A subscriber on 127.0.0.1 answering each POST with the next status of ``statuses`` (then 200)."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.received: list[dict[str, str]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(json.loads(await request.read()))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    ep = Endpoint()
    app = web.Application()
    app.router.add_post("/hook", ep.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    ep.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/hook"  # type: ignore[union-attr]
    yield ep
    await runner.cleanup()


class World(tuple):  # type: ignore[type-arg]
    """(alarms, topics, router, clock), plus the autoscale stub and tenant metadata for tests that need them."""

    autoscale: autoscale_pb2_grpc.AutoscaleServiceStub
    metadata: tuple[tuple[str, str], ...]


@pytest.fixture
async def world(async_engine: AsyncEngine, engine_url: str, database: str, endpoint: Endpoint):
    alarms = AlarmStore(async_engine, database)
    await alarms.ensure_schema()
    topics = NotificationStore(async_engine, database)
    await topics.ensure_schema()
    await topics.put_topic(Topic(ACCOUNT, "ops", TOPIC, {}), T0)
    await topics.put_subscription(StoredSubscription(ACCOUNT, "ops", "s1", f"{TOPIC}:s1", TOPIC, "http", endpoint.url,
                                                     "tok", True, 1), T0)
    await topics.put_subscription(StoredSubscription(ACCOUNT, "ops", "s2", f"{TOPIC}:s2", TOPIC, "http", endpoint.url,
                                                     "tok2", False, 2), T0)  # pending: gets nothing
    post = HttpPoster(timeout=2.0)
    clock = FakeClock(T0)
    internal = b"integration-key-0123456789"
    # the autoscale service's tables live in the same test database (no name is shared)
    async with autoscale_running(AutoscaleSettings(bind="127.0.0.1:0", store_url=engine_url, database=database),
                                 internal, clock=clock) as autoscale:
        channel = open_channel(f"127.0.0.1:{autoscale.port}")
        stub = autoscale_pb2_grpc.AutoscaleServiceStub(channel)
        metadata = principal_metadata(TokenSigner(internal, clock).issue(auth_pb2.Principal(account_id=ACCOUNT)))
        await stub.CreateLaunchConfiguration(autoscale_pb2.CreateLaunchConfigurationRequest(
            launch_configuration=autoscale_pb2.LaunchConfiguration(name="lc", image_id="t", instance_type="o")),
            metadata=metadata)
        await stub.CreateAutoScalingGroup(autoscale_pb2.CreateAutoScalingGroupRequest(group=autoscale_pb2.AutoScalingGroup(
            name="web", min_size=1, max_size=3, launch_configuration_name="lc")), metadata=metadata)
        router = ActionRouter(topics, post, stub, TokenSigner(internal, clock), KEY,
                              messages.Links("http://127.0.0.1:1", KEY.certificate_name), "us-east-1", QUICK)
        world = World((alarms, topics, router, clock))
        world.autoscale, world.metadata = stub, metadata
        yield world
        await channel.close()
    await post.close()


def _due(target: str, key: str = f"{ALARM}#t1") -> PendingAction:
    return PendingAction(ACCOUNT, outbox_id(key, target), "cpu", ALARM, target, key, '{"NewStateValue":"ALARM"}',
                         round(T0 * 1000))


async def _dispatch(alarms, topics, router, clock) -> Dispatcher:
    dispatcher = Dispatcher(topics, alarms, router, clock)
    await dispatcher.run_once()
    await dispatcher.idle()
    return dispatcher


async def _actions(alarms: AlarmStore) -> list[str]:
    return [h.item.summary for h in await alarms.history(ACCOUNT, item_type="Action", ascending=True)]


async def test_the_writer_queues_due_actions_once_and_the_dispatcher_delivers_them_once(world, endpoint):
    alarms, topics, router, clock = world
    config = AlarmConfig(name="cpu", namespace="App", metric_name="CPU", dimensions=(), period=60,
                         evaluation_periods=1, threshold=1.0, comparison_operator="GreaterThanThreshold",
                         statistic="Average", alarm_actions=(TOPIC,), updated=T0)
    writer = AlarmWriter(alarms, "us-east-1", topics)
    woken = []
    writer.wake = lambda: woken.append(1)
    old = initial_state(from_epoch(T0))
    outcome = set_alarm_state(AlarmKind.METRIC, old, "ALARM", "test", None, from_epoch(T0))
    await writer.record(ACCOUNT, ALARM, config, old, outcome, T0)
    await writer.record(ACCOUNT, ALARM, config, old, outcome, T0)  # the same change again: the same row
    assert woken == [1, 1]
    [due] = await topics.pending()
    assert (due.target, due.key) == (TOPIC, f"{ALARM}#2026-12-03T10:00:00.000+0000")
    await _dispatch(alarms, topics, router, clock)
    [note] = endpoint.received  # one confirmed subscription, one delivery
    assert (note["Type"], note["TopicArn"], note["Subject"]) == ("Notification", TOPIC, 'ALARM: "cpu" in us-east-1')
    assert json.loads(note["Message"])["NewStateValue"] == "ALARM"
    assert await _actions(alarms) == [f"Successfully executed action {TOPIC}"]
    assert await topics.pending() == []
    await _dispatch(alarms, topics, router, clock)  # a restart: nothing is delivered again
    assert len(endpoint.received) == 1 and len(await _actions(alarms)) == 1


async def test_a_pending_row_left_by_a_crash_is_delivered_at_the_next_start(world, endpoint):
    alarms, topics, router, clock = world
    await topics.add_pending([_due(TOPIC)], T0)  # written, then the process died before delivering
    await _dispatch(alarms, topics, router, clock)
    assert [m["MessageId"] for m in endpoint.received] == [endpoint.received[0]["MessageId"]]
    assert await topics.pending() == []


async def test_recoverable_failures_are_retried_and_recorded_once(world, endpoint):
    alarms, topics, router, clock = world
    endpoint.statuses = [500, 503]
    await topics.add_pending([_due(TOPIC)], T0)
    await _dispatch(alarms, topics, router, clock)
    assert len(endpoint.received) == 3 and len({m["MessageId"] for m in endpoint.received}) == 1  # stable id
    assert await _actions(alarms) == [f"Successfully executed action {TOPIC}"]


async def test_a_client_error_fails_at_once(world, endpoint):
    alarms, topics, router, clock = world
    endpoint.statuses = [400]
    await topics.add_pending([_due(TOPIC)], T0)
    await _dispatch(alarms, topics, router, clock)
    assert len(endpoint.received) == 1
    [item] = await alarms.history(ACCOUNT, item_type="Action")
    assert item.item.summary == f"Failed to execute action {TOPIC}"
    assert json.loads(item.item.data)["error"] == f"{endpoint.url}: The endpoint answered HTTP 400."
    assert await topics.pending() == []


async def test_an_unknown_scaling_policy_is_a_failed_action_not_retried(world):
    alarms, topics, router, clock = world
    policy = f"arn:aws:autoscaling:us-east-1:{NUMBER}:scalingPolicy:1a2b:autoScalingGroupName/web:policyName/up"
    await topics.add_pending([_due(policy)], T0)
    await _dispatch(alarms, topics, router, clock)
    [item] = await alarms.history(ACCOUNT, item_type="Action")
    assert item.item.summary == f"Failed to execute action {policy}"
    assert "not found" in json.loads(item.item.data)["error"]
    assert await topics.pending() == []


async def test_a_scaling_policy_action_scales_once_however_often_it_is_delivered(world):
    alarms, topics, router, clock = world
    put = await world.autoscale.PutScalingPolicy(autoscale_pb2.PutScalingPolicyRequest(policy=autoscale_pb2.ScalingPolicy(
        auto_scaling_group_name="web", policy_name="up", policy_type="StepScaling",
        step_adjustments=[autoscale_pb2.StepAdjustment(metric_interval_lower_bound=0, scaling_adjustment=1)],
        estimated_instance_warmup=0, enabled=True)), metadata=world.metadata)  # no warm-up to hide a repeat
    row = _due(put.policy_arn)
    reason = {"threshold": 50.0, "recentDatapoints": [70.0]}
    row = dataclasses.replace(row, reason_data=json.dumps(reason))
    for _ in range(2):  # the same row delivered again (a crash before it was marked done)
        await topics.add_pending([row], T0)
        await _dispatch(alarms, topics, router, clock)
    described = await world.autoscale.DescribeAutoScalingGroups(
        autoscale_pb2.DescribeAutoScalingGroupsRequest(names=["web"]), metadata=world.metadata)
    assert described.groups[0].desired_capacity == 2
    assert await _actions(alarms) == [f"Successfully executed action {put.policy_arn}"] * 2


@pytest.mark.parametrize("target", [
    "arn:aws:sns:us-east-1:123456789012:ops",  # another account's topic of the same name
    f"arn:aws:sns:us-east-1:{NUMBER}:missing",
    f"arn:aws:autoscaling:us-east-1:{NUMBER}:scalingPolicy:x",
])
async def test_targets_that_cannot_be_used_fail_without_delivering(world, endpoint, target):
    alarms, topics, router, clock = world
    await topics.add_pending([_due(target)], T0)
    await _dispatch(alarms, topics, router, clock)
    assert endpoint.received == []
    assert await _actions(alarms) == [f"Failed to execute action {target}"]


async def test_topics_and_subscriptions_are_scoped_and_deleted_together(world):
    _, topics, _, _ = world
    assert [t.name for t in await topics.topics(ACCOUNT)] == ["ops"]
    assert await topics.topics("someone-else") == []
    assert [s.id for s in await topics.subscriptions(ACCOUNT, topic="ops")] == ["s1", "s2"]
    page = await topics.subscriptions(ACCOUNT, after=("ops", 1, "s1"))
    assert [s.id for s in page] == ["s2"]
    await topics.delete_topic(ACCOUNT, "ops", T0 + 1)
    assert await topics.topics(ACCOUNT) == [] and await topics.subscriptions(ACCOUNT) == []
    await topics.put_topic(Topic(ACCOUNT, "ops", TOPIC, {}), T0 + 2)  # re-created: no old subscriptions
    assert await topics.subscriptions(ACCOUNT, topic="ops") == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_denied_networks_are_refused_for_good_after_dns(endpoint, host):
    envelope = messages.Envelope({"Content-Type": "text/plain"}, b"{}")
    url = endpoint.url.replace("127.0.0.1", host)
    guarded = HttpPoster(timeout=2.0, denied=parse_networks("127.0.0.0/8, ::1/128"))
    open_ = HttpPoster(timeout=2.0, denied=parse_networks("169.254.0.0/16"))
    try:
        refused = await guarded(url, envelope)
        assert not refused.ok and not refused.recoverable and "not allowed" in (refused.error or "")
        assert endpoint.received == []
        assert (await open_(url, envelope)).ok and len(endpoint.received) == 1
    finally:
        await guarded.close()
        await open_.close()
