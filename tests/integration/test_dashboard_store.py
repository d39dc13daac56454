# ruff: noqa: D103 - test names say what each test checks
"""The dashboards table against both engines (ClickHouse 18.16 and chDB): the same tests on each."""

from __future__ import annotations

import pytest

from services.alarm.dashboard_store import DashboardStore
from stackwatch.store import AsyncEngine

NOW = 1_796_292_000.0
BODY = '{"widgets": [],   "start": "-PT6H", "note": "caf\\u00e9 \u2603"}'


@pytest.fixture
async def store(async_engine: AsyncEngine, database: str) -> DashboardStore:
    """A :class:`DashboardStore` with its table, in a database of its own."""
    s = DashboardStore(async_engine, database)
    await s.ensure_schema()
    return s


def _arn(name: str) -> str:
    return f"arn:aws:cloudwatch::123456789012:dashboard/{name}"


async def _put(store: DashboardStore, account: str, name: str, body: str = BODY, now: float = NOW,
               tags: tuple[tuple[str, str], ...] = ()) -> None:
    await store.put(account, name, _arn(name), body, round(now * 1000), tags, now)


async def test_a_body_comes_back_byte_for_byte_with_its_tags_in_order(store):
    await _put(store, "acct-a", "web", tags=(("team", "ops"), ("env", "prod")))
    found = await store.get("acct-a", ["web"])
    assert list(found) == ["web"]
    d = found["web"]
    assert (d.body, d.arn, d.modified_ms) == (BODY, _arn("web"), round(NOW * 1000))
    assert d.tags == (("team", "ops"), ("env", "prod"))


async def test_a_later_put_replaces_the_body(store):
    await _put(store, "acct-a", "web")
    await _put(store, "acct-a", "web", body='{"widgets":[]}', now=NOW + 5)
    d = (await store.get("acct-a", ["web"]))["web"]
    assert (d.body, d.modified_ms) == ('{"widgets":[]}', round((NOW + 5) * 1000))


async def test_entries_list_by_name_with_the_size_in_utf8_bytes(store):
    for name in ("zeta", "alpha", "mid"):
        await _put(store, "acct-a", name)
    entries = await store.entries("acct-a")
    assert [e.name for e in entries] == ["alpha", "mid", "zeta"]
    assert {e.size for e in entries} == {len(BODY.encode("utf-8"))}
    assert len(BODY.encode("utf-8")) > len(BODY)  # the snowman is three bytes
    assert entries[0].arn == _arn("alpha") and entries[0].modified_ms == round(NOW * 1000)


async def test_prefix_and_keyset_position_narrow_the_listing(store):
    for name in ("web-a", "web-b", "web-c", "webx", "db"):
        await _put(store, "acct-a", name)
    assert [e.name for e in await store.entries("acct-a", prefix="web-")] == ["web-a", "web-b", "web-c"]
    assert [e.name for e in await store.entries("acct-a", prefix="web-", after="web-a", limit=1)] == ["web-b"]
    assert [e.name for e in await store.entries("acct-a", prefix="%")] == []  # no LIKE wildcards


async def test_a_thousand_and_one_dashboards_page_as_cloudwatch_pages_them(store, async_engine, database):
    names = [f"d{i:05d}" for i in range(1001)]
    # one INSERT (one part) rather than 1001: the table does not care how rows arrived
    n = len(names)
    await async_engine.insert(f"{database}.dashboards", ("account", "name", "version", "deleted", "arn", "body",
                                                        "size", "modified_ms", "tags"), {
        "account": ["acct-a"] * n, "name": names, "version": list(range(1, n + 1)), "deleted": [0] * n,
        "arn": [_arn(x) for x in names], "body": ['{"widgets":[]}'] * n, "size": [14] * n,
        "modified_ms": [0] * n, "tags": ["[]"] * n})
    first = await store.entries("acct-a", limit=1001)
    assert len(first) == 1001
    page = await store.entries("acct-a", limit=1000)
    rest = await store.entries("acct-a", after=page[-1].name, limit=1000)
    assert [e.name for e in page + rest] == names and len(rest) == 1


async def test_deleted_dashboards_are_gone_and_can_come_back(store):
    await _put(store, "acct-a", "web", tags=(("k", "v"),))
    await _put(store, "acct-a", "db")
    await store.delete("acct-a", ["web", "db"], NOW + 1)
    assert await store.get("acct-a", ["web", "db"]) == {}
    assert await store.entries("acct-a") == []
    await _put(store, "acct-a", "web", body='{"widgets":[]}', now=NOW + 2)
    back = (await store.get("acct-a", ["web"]))["web"]
    assert back.body == '{"widgets":[]}' and back.tags == ()


async def test_one_account_never_reads_or_deletes_another_accounts_dashboards(store):
    await _put(store, "acct-a", "shared-name", body='{"widgets":[],"owner":"a"}')
    await _put(store, "acct-b", "shared-name", body='{"widgets":[],"owner":"b"}')
    await _put(store, "acct-b", "only-b")
    assert [e.name for e in await store.entries("acct-a")] == ["shared-name"]
    assert (await store.get("acct-a", ["shared-name", "only-b"]))["shared-name"].body.endswith('"a"}')
    await store.delete("acct-a", ["shared-name"], NOW + 1)
    assert (await store.get("acct-b", ["shared-name"]))["shared-name"].body.endswith('"b"}')


async def test_a_reopened_store_writes_above_the_versions_it_finds(store, async_engine, database):
    await _put(store, "acct-a", "web", now=NOW + 1000)  # versions from a clock ahead of the next process
    reopened = DashboardStore(async_engine, database)
    await reopened.ensure_schema()
    await reopened.delete("acct-a", ["web"], NOW)
    assert await reopened.get("acct-a", ["web"]) == {}
