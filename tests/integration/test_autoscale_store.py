"""The autoscale store on both engines: latest versions win, deletions hide, accounts never mix."""

from __future__ import annotations

import dataclasses

import pytest

from services.autoscale.domain import LaunchConfiguration, Tag
from services.autoscale.domain.policies import PolicyType, ScalingPolicy, StepAdjustment
from services.autoscale.domain.scaling import Activity, ActivityStatus, Capacity
from services.autoscale.records import GroupRecord
from services.autoscale.store import AutoscaleStore, Instance
from stackwatch.store import AsyncEngine

A, B = "acct-a", "acct-b"
LC = LaunchConfiguration("lc", "tmpl-1", "offering-1", "zone-1", ("net-1",), "dXNlcg==", "key", ("sg",), 5)


@pytest.fixture
async def store(async_engine: AsyncEngine, database: str) -> AutoscaleStore:
    s = AutoscaleStore(async_engine, database)
    await s.ensure_schema()
    return s


def _group(name: str = "web", desired: int = 2) -> GroupRecord:
    return GroupRecord(A, name, f"arn:{name}", LC, Capacity(1, 4, desired, 60, 1234, ((99, 1),)), 10,
                       ("lb-1",), (Tag("team", "x", True),), "EC2", 30, (("Launch", "User suspended"),))


async def test_a_group_round_trips_and_its_latest_version_wins(store):
    await store.put_group(_group(), 100)
    await store.put_group(_group(desired=3), 100)  # same ms: the version still grows
    [g] = await store.groups(A)
    assert g == _group(desired=3)
    spec = g.spec()
    assert (spec.min_size, spec.max_size, spec.desired_capacity, spec.launch_configuration) == (1, 4, 3, LC)
    assert await store.groups(B) == []
    assert [x.name for x in await store.all_groups()] == ["web"]


async def test_deleted_things_disappear_and_can_come_back(store):
    await store.put_launch_configuration(A, LC, 1)
    await store.put_group(_group(), 1)
    await store.delete_group(A, "web", 2)
    await store.delete_launch_configuration(A, "lc", 2)
    assert await store.groups(A) == [] and await store.launch_configurations(A) == []
    await store.put_launch_configuration(A, LC, 3)
    assert await store.launch_configurations(A, ["lc"]) == [LC]
    assert await store.launch_configurations(B, ["lc"]) == []


async def test_policies_are_found_by_name_or_arn(store):
    step = ScalingPolicy("up", "web", "arn:up", PolicyType.STEP, step_adjustments=(StepAdjustment(1, 0, None),),
                         estimated_instance_warmup=30)
    simple = ScalingPolicy("down", "web", "arn:down", scaling_adjustment=-1, cooldown=10)
    await store.put_policy(A, step, 1)
    await store.put_policy(A, simple, 1)
    assert await store.policies(A, "web") == [simple, step]
    assert await store.policies(A, names=["arn:up"]) == [step]
    await store.delete_policy(A, "web", "up", 2)
    assert await store.policies(A) == [simple]
    assert await store.policies(B) == []


async def test_activities_update_in_place_and_list_newest_first(store):
    first = Activity("1", "web", "c1", "d1", ActivityStatus.IN_PROGRESS, 100)
    second = Activity("2", "web", "c2", "d2", ActivityStatus.SUCCESSFUL, 200, 200, 100)
    await store.put_activity(A, first, 100)
    await store.put_activity(A, second, 200)
    done = dataclasses.replace(first, status=ActivityStatus.SUCCESSFUL, end_ms=300, progress=100)
    await store.put_activity(A, done, 300)
    listed = await store.activities(A, "web")
    assert [a for _, a in listed] == [second, done]
    assert [a for _, a in await store.activities(A, ids=["1"])] == [done]
    assert [a for _, a in await store.activities(A, before=listed[0][0])] == [done]
    assert await store.activities(B) == []


async def test_activities_of_one_millisecond_keep_their_write_order(store):
    for n in range(5):
        await store.put_activity(A, Activity(f"id-{9 - n}", "web", "c", "d", ActivityStatus.SUCCESSFUL, 100), 100)
    assert [a.activity_id for _, a in await store.activities(A)] == [f"id-{9 - n}" for n in reversed(range(5))]


async def test_instances_and_executions(store):
    await store.put_instance(A, Instance("web", "vm-1", "InService", launch_configuration="lc"), 1)
    await store.put_instance(A, Instance("web", "vm-2", "Pending"), 1)
    await store.put_instance(A, Instance("web", "vm-2", "Pending"), 2, deleted=True)
    assert [i.instance_id for i in await store.instances(A, "web")] == ["vm-1"]
    assert await store.instances(B) == []
    assert await store.execution(A, "k") is None
    await store.put_execution(A, "k", '{"desired":3}', 1)
    assert await store.execution(A, "k") == '{"desired":3}'
    assert await store.execution(B, "k") is None
