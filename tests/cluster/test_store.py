"""The store on the local 2 x 2 cluster: schema, routing, exactly-once inserts, and reads equal to one server's.

The services' own store classes run here unchanged on a :class:`~stackwatch.store.ClusterEngine`;
the same data written to the single test server must read back the same.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from services.ingest.commit import GroupCommitter, ShardedCommitter, WalCommitter
from services.ingest.domain import RetentionSchedule, parse_insights, parse_search
from services.ingest.servicer import validate
from services.ingest.store import MetricStore
from services.ingest.wal import WriteAheadLog
from stackwatch import errors
from stackwatch.clock import SystemClock
from stackwatch.domain.metrics import DatumBatch
from stackwatch.store import AsyncEngine, Schema, ShardsUnavailable, Step, StoreUnavailable, open_engine, shard_of
from stackwatch.store.testing import ClickHouseCluster
from tests.integration.datums import T0, value, values
from tests.integration.test_wal_committer import request

from .conftest import connect

pytestmark = pytest.mark.cluster

DAY = 86400


def _accounts(shard: int, n: int) -> list[str]:
    """``n`` account ids that live on ``shard`` (from 0) of 2."""
    out = []
    for i in range(10_000):
        acct = f"{uuid.UUID(int=i + 1)}"
        if shard_of(acct, 2) == shard:
            out.append(acct)
            if len(out) == n:
                return out
    raise AssertionError("not enough accounts")


ON_0, ON_1 = _accounts(0, 3), _accounts(1, 3)


@pytest.fixture
async def cluster_engine(cluster: ClickHouseCluster) -> AsyncIterator[AsyncEngine]:
    engine = AsyncEngine(open_engine(cluster.url(insert_quorum_timeout=2, unknown_wait=20, ddl_timeout=5)))
    yield engine
    engine.close()


@pytest.fixture
async def single_engine(clickhouse_url: str) -> AsyncIterator[AsyncEngine]:
    engine = AsyncEngine(open_engine(clickhouse_url))
    yield engine
    engine.close()


def _db() -> str:
    return f"c_{uuid.uuid4().hex[:10]}"


def _count(cluster: ClickHouseCluster, shard: int, replica: int, table: str) -> int:
    [(n,)] = connect(cluster.server(shard, replica)).execute(f"SELECT count() FROM {table}")
    return int(n)


# --- schema ---------------------------------------------------------------------------------------

async def test_every_table_is_replicated_with_a_distributed_front_on_every_server(cluster, cluster_engine):
    db = _db()
    store = MetricStore(cluster_engine, db)
    await store.ensure_schema()
    await store.ensure_schema()  # recorded: runs nothing the second time
    for server in cluster.servers:
        engines = dict(connect(server).execute(
            "SELECT name, engine FROM system.tables WHERE database = %(db)s", {"db": db}))
        for table in ("raw", "catalog", "roll_5m", "roll_1h", "schema_migrations"):
            assert engines[table] == "Distributed"
            assert engines[f"{table}_local"].startswith("Replicated")
        assert engines["roll_5m_local"] == "ReplicatedAggregatingMergeTree"
        assert engines["catalog_local"] == "ReplicatedReplacingMergeTree"
        assert engines["raw_to_5m_v2"] == engines["raw_to_1h_v2"] == "MaterializedView"
    [(applied, copies)] = await cluster_engine.execute(
        f"SELECT uniqExact(scope, version), count() FROM {db}.schema_migrations")
    assert (applied, copies) == (1, 2)  # once, on each shard (a global table)
    replicas = connect(cluster.server(2, 2)).execute(
        "SELECT zookeeper_path, total_replicas, active_replicas FROM system.replicas"
        " WHERE database = %(db)s AND table = 'raw_local'", {"db": db})
    assert replicas == [(f"/clickhouse/tables/2/{db}/raw_local", 2, 2)]


async def test_migrations_run_in_order_once_per_scope(cluster_engine):
    db = _db()
    ran: list[str] = []

    def step(name: str):
        async def run(schema: Schema) -> None:
            ran.append(name)
            await schema.create_table(f"CREATE TABLE IF NOT EXISTS {db}.{name} (account String, v UInt64)"
                                      " ENGINE = ReplacingMergeTree(v) ORDER BY account")
        return run

    schema = Schema(cluster_engine, db)
    assert await schema.migrate("one", [Step(1, "a", step("a")), Step(2, "b", step("b"))]) == [1, 2]
    assert await schema.migrate("one", [Step(1, "a", step("a")), Step(2, "b", step("b")), Step(3, "c", step("c"))]) \
        == [3]
    assert await schema.migrate("two", [Step(1, "d", step("d"))]) == [1]  # another scope, its own versions
    assert ran == ["a", "b", "c", "d"]
    with pytest.raises(ValueError):
        await schema.migrate("one", [Step(2, "x", step("x")), Step(1, "y", step("y"))])


# --- writes -----------------------------------------------------------------------------------------

async def test_an_accounts_rows_live_on_its_shard_on_both_replicas_when_acknowledged(cluster, cluster_engine):
    db = _db()
    store = MetricStore(cluster_engine, db)
    await store.ensure_schema()
    batch = [(acct, value(T0 + i, float(i))) for acct in ON_0 + ON_1 for i in range(10)]
    await store.insert(batch, now=T0)
    for shard in (1, 2):
        for replica in (1, 2):  # the quorum: both replicas have it when insert returns
            assert _count(cluster, shard, replica, f"{db}.raw_local") == 30
            [(accounts,)] = connect(cluster.server(shard, replica)).execute(
                f"SELECT groupUniqArray(account) FROM {db}.raw_local")
            assert sorted(accounts) == sorted(ON_0 if shard == 1 else ON_1)
            assert _count(cluster, shard, replica, f"{db}.roll_5m_local") == 3  # the views stay on the shard
    [(n,)] = await cluster_engine.execute(f"SELECT count() FROM {db}.raw")
    assert n == 60


async def test_a_resent_block_is_written_once_with_its_rollups(cluster, cluster_engine):
    db = _db()
    store = MetricStore(cluster_engine, db)
    await store.ensure_schema()
    batch = [(ON_1[0], value(T0 + i, 1.0)) for i in range(5)]
    await store.insert(batch, now=T0, wal_id=7)
    await store.insert(batch, now=T0, wal_id=7)  # what a retry of an unknown outcome sends
    [(n, total)] = await cluster_engine.execute(f"SELECT count(), sumMerge(count) FROM {db}.roll_5m")
    assert (n, total) == (1, 5.0)
    assert _count(cluster, 2, 1, f"{db}.raw_local") == 5


async def test_two_commits_of_identical_rows_are_both_stored(cluster, cluster_engine):
    """Two clients sending one value at one timestamp: both stored.

    A replicated table would drop the second block as a repeat of the first, were the commits not
    told apart (wal_seq holds a commit id).
    """
    db = _db()
    store = MetricStore(cluster_engine, db)
    await store.ensure_schema()
    batch = [(ON_0[0], value(T0 + i, 1.0)) for i in range(5)]
    await store.insert(batch, now=T0)
    await store.insert(batch, now=T0)
    [(n, rolled)] = await cluster_engine.execute(
        f"SELECT (SELECT count() FROM {db}.raw), (SELECT sumMerge(count) FROM {db}.roll_5m)")
    assert (n, rolled) == (10, 10.0)


async def test_writers_to_one_shard_take_turns_instead_of_failing(cluster):
    """Several ingest processes writing to one shard wait for their turn.

    18.16 runs one quorum insert per table and shard at a time and refuses the others (286).
    """
    db = _db()
    engines = [AsyncEngine(open_engine(cluster.url(insert_quorum_timeout=10))) for _ in range(4)]
    try:
        stores = [MetricStore(e, db) for e in engines]
        for store in stores:
            await store.ensure_schema()

        async def writer(store: MetricStore, k: int) -> None:
            for i in range(10):
                await store.insert([(ON_1[0], value(T0 + 1000 * k + i, float(k)))], now=T0)

        await asyncio.gather(*(writer(store, k) for k, store in enumerate(stores)))
        [(n,)] = await engines[0].execute(f"SELECT count() FROM {db}.raw")
        assert n == 40
    finally:
        for e in engines:
            e.close()


async def test_a_global_tables_rows_go_to_every_shard_and_need_only_one(cluster, cluster_engine):
    """Tables without an account (alarm heartbeats, migrations applied) live on every shard.

    So a shard that is down stops none of their writes and reads.
    """
    db = _db()
    schema = Schema(cluster_engine, db)
    await schema.migrate("members", [Step(1, "members", lambda s: s.create_table(
        f"CREATE TABLE IF NOT EXISTS {db}.members (member String, version UInt64)"
        " ENGINE = ReplacingMergeTree(version) ORDER BY member"))])
    await cluster_engine.insert(f"{db}.members", ("member", "version"), {"member": ["m1"], "version": [1]})
    for shard in (1, 2):
        assert _count(cluster, shard, 1, f"{db}.members_local") == 1
    read = (f"SELECT member, max(version) FROM {db}.members GROUP BY member"
            " SETTINGS skip_unavailable_shards = 1")
    for server in cluster.shard_servers(1):
        server.kill()
    try:
        await cluster_engine.insert(f"{db}.members", ("member", "version"), {"member": ["m1"], "version": [2]})
        assert await cluster_engine.execute(read) == [("m1", 2)]
        assert await Schema(cluster_engine, db).migrate("members", []) == []  # the start of a service
    finally:
        for server in cluster.shard_servers(1):
            server.start()
    assert await cluster_engine.execute(read) == [("m1", 2)]


async def test_a_shard_without_live_replicas_fails_only_its_own_rows(cluster, cluster_engine):
    db = _db()
    store = MetricStore(cluster_engine, db)
    await store.ensure_schema()
    for server in cluster.shard_servers(2):
        server.kill()
    try:
        started = time.monotonic()
        with pytest.raises(ShardsUnavailable) as e:
            await store.insert([(acct, value(T0, 1.0)) for acct in ON_0 + ON_1], now=T0)
        assert list(e.value.failed) == [1] and e.value.written == [0]
        assert e.value.retryable and time.monotonic() - started < 10  # refused at once, no quorum wait
        assert _count(cluster, 1, 2, f"{db}.raw_local") == 3

        # ingest's per-shard group commit: the dead shard's callers fail, the others are acknowledged
        committer = ShardedCommitter([GroupCommitter(store.insert, SystemClock()) for _ in range(2)],
                                     lambda a: shard_of(a, 2))
        runner = asyncio.create_task(committer.run())
        outcomes = await asyncio.gather(
            *(committer.submit(acct, DatumBatch.from_datums("App", [value(T0 + 60, 2.0)])) for acct in ON_0 + ON_1),
            return_exceptions=True)
        committer.close()
        await runner
        assert outcomes[:3] == [None, None, None]
        assert all(isinstance(o, StoreUnavailable) for o in outcomes[3:])
        assert _count(cluster, 1, 1, f"{db}.raw_local") == 6
    finally:
        for server in cluster.shard_servers(2):
            server.start()
    await store.insert([(acct, value(T0 + 120, 3.0)) for acct in ON_1], now=T0)  # recovers by itself
    [(n,)] = await cluster_engine.execute(f"SELECT count() FROM {db}.raw WHERE account IN %(a)s", {"a": tuple(ON_1)})
    assert n == 3


async def test_an_insert_of_unknown_outcome_is_resent_until_it_is_written_exactly_once(cluster, cluster_engine):
    """A replica dies under a quorum insert; the same block is sent until it returns, and lands once.

    The first attempt fails with 319 (the quorum timed out, the part is on the live replica), the
    resends with 286 (the quorum still pending) until the replica is back.
    """
    db = _db()
    store = MetricStore(cluster_engine, db)
    await store.ensure_schema()
    await store.insert([(ON_0[0], value(T0, 0.0))], now=T0)
    victim = cluster.server(1, 2)
    victim.kill()
    batch = [(ON_0[1], value(T0 + i, float(i))) for i in range(100)]
    writing = asyncio.create_task(store.insert(batch, now=T0))
    await asyncio.sleep(5.0)  # past the first attempt's quorum timeout (2 s): the block is being resent
    assert not writing.done()
    victim.start()  # from this thread: a server dies with the thread that started it
    await writing
    for replica in (1, 2):
        [(n, s)] = connect(cluster.server(1, replica)).execute(
            f"SELECT count(), sum(values[1]) FROM {db}.raw_local WHERE account = %(a)s", {"a": ON_0[1]})
        assert (n, s) == (100, float(sum(range(100))))
    [(rolled,)] = await cluster_engine.execute(
        f"SELECT sumMerge(count) FROM {db}.roll_1h WHERE account = %(a)s", {"a": ON_0[1]})
    assert rolled == 100.0


# --- reads equal one server's -------------------------------------------------------------------------

def _load() -> list[tuple[str, object]]:
    rng = random.Random(11)
    out: list[tuple[str, object]] = []
    for acct in ON_0[:2] + ON_1[:2]:
        for host in ("h1", "h2", "h3"):
            for i in range(240):
                t = T0 + i * 37 + rng.random()
                out.append((acct, value(t, round(rng.uniform(0, 100), 2), ns="App", name="Latency",
                                        d=[("Host", host)], unit="Milliseconds")))
            out.append((acct, values(T0 + 100, [1.0, 2.0, 5.0], [3.0, 1.0, 2.0], ns="App", name="Latency",
                                     d=[("Host", host)])))
        out.append((acct, value(T0 + 50, 1.0, ns="Other", name="Count")))
    return out


async def _reads(store: MetricStore, account: str, series: list[int]) -> list[object]:
    out: list[object] = []
    for tier in (0, 300, 3600):
        out.append(await store.statistics(account, series[0], T0, T0 + 3 * 3600, 3600, None, tier=tier))
        out.append(await store.histograms(account, series[1], T0, T0 + 3 * 3600, 3600, "Milliseconds", tier=tier))
        buckets = await store.series_buckets(account, series, T0, T0 + 3 * 3600, 900, None, histograms=True, tier=tier)
        out.append(sorted(buckets.items()))
    out.append(await store.list_metrics(account, active_since=0))
    out.append(await store.list_metrics(account, namespace="App", dimension_filters=[("Host", "h2")], active_since=0))
    out.append(await store.search_metrics(account, parse_search("Latency Host"), active_since=0))
    out.append(await store.insights(account, parse_insights(
        "SELECT AVG(Latency) FROM SCHEMA(App, Host) GROUP BY Host ORDER BY MAX() DESC"), T0, T0 + 3 * 3600, 600))
    return out


def _same(a: object, b: object) -> bool:
    """Equal, floats up to their last bits.

    A sum's value depends on the order its terms are added in, which parts and merges decide (it
    differs between two runs on one server too).
    """
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


async def test_reads_equal_the_single_servers_on_the_same_data(cluster_engine, single_engine):
    stores = [MetricStore(cluster_engine, _db()), MetricStore(single_engine, _db())]
    data = _load()
    for store in stores:
        await store.ensure_schema()
        for at in range(0, len(data), 500):  # several inserts, as commits come
            await store.insert(data[at:at + 500], now=T0)  # type: ignore[arg-type]
    from tests.integration.datums import sid

    for account in ON_0[:2] + ON_1[:2]:
        series = [sid(account, "App", "Latency", [("Host", h)]) for h in ("h1", "h2", "h3")]
        on_cluster, on_single = [await _reads(s, account, series) for s in stores]
        assert _same(on_cluster, on_single)
        assert on_cluster[0] and on_cluster[-4]  # not vacuous: there is data to compare


async def test_expiry_drops_old_partitions_on_every_shard(cluster, cluster_engine):
    db = _db()
    store = MetricStore(cluster_engine, db)
    await store.ensure_schema()
    old, new = T0 - 30 * DAY, T0
    await store.insert([(acct, value(t, 1.0)) for acct in ON_0[:1] + ON_1[:1] for t in (old, new)], now=T0)
    parts = await store.partitions()
    assert len(parts["raw"]) == 2
    dropped = await store.expire(T0 + 3600, RetentionSchedule.parse("1s=3h,1m=15d,5m=63d,1h=455d"))
    assert ("raw", time.strftime("%Y%m%d", time.gmtime(old))) in dropped
    for shard in (1, 2):
        for replica in (1, 2):
            assert _count(cluster, shard, replica, f"{db}.raw_local") == 1


async def test_the_write_ahead_log_goes_on_for_live_shards_and_applies_a_dead_ones_records_once(
        cluster, cluster_engine, tmp_path):
    """`stackwatch up`'s path: acknowledged once logged; each shard's records applied in a lane of their own."""
    db = _db()
    store = MetricStore(cluster_engine, db)
    await store.ensure_schema()
    log = WriteAheadLog(tmp_path)

    async def write(rows, now) -> None:
        await store.insert(rows, now, log.wal_id)

    async def present(first: int, last: int, since: int, shard: int | None) -> set[tuple[int, int]]:
        return await store.logged_rows(log.wal_id, first, last, since, shard)

    committer = WalCommitter(log, write, present, SystemClock(), read_wait=1.0, shards=store.shards,
                             shard_of=store.shard_of)
    task = asyncio.create_task(committer.run())
    live, dead = ON_0[0], ON_1[0]

    async def put(account: str, t: int) -> None:
        req = request((t, 1.0))
        await committer.submit(account, validate(req, T0), T0, req.SerializeToString())

    try:
        await put(live, T0)
        await committer.visible(live)
        for server in cluster.shard_servers(2):
            server.kill()
        try:
            for i in range(1, 6):  # acknowledged: in the log
                await put(dead, T0 + i)
                await put(live, T0 + i)
            await committer.visible(live)  # the live shard's records went in although older ones wait
            with pytest.raises(errors.ServiceUnavailable):
                await committer.visible(dead)
        finally:
            for server in cluster.shard_servers(2):
                server.start()
        deadline = time.monotonic() + 60
        while True:  # each look waits read_wait (1 s); the shard takes a few seconds to settle
            try:
                await committer.visible(dead)
                break
            except errors.ServiceUnavailable:
                assert time.monotonic() < deadline, "the dead shard's records were not applied after its return"
    finally:
        committer.close()
        await asyncio.wait_for(task, 30)
    for account, n in ((live, 6), (dead, 5)):
        [(count,)] = await cluster_engine.execute(f"SELECT count() FROM {db}.raw WHERE account = %(a)s", {"a": account})
        assert count == n


def test_three_replicas_with_a_quorum_of_two_keep_writing_while_one_is_down(tmp_path):
    """What the docs say R = 3 buys: a replica SIGKILLed, and quorum inserts go on at once."""
    from .conftest import start_cluster

    cluster = start_cluster(tmp_path / "r3", shards=1, replicas=3)
    engine = AsyncEngine(open_engine(cluster.url(insert_quorum_timeout=5, unknown_wait=10)))
    try:
        async def scenario() -> None:
            db = _db()
            store = MetricStore(engine, db)
            await store.ensure_schema()
            await store.insert([(ON_0[0], value(T0, 1.0))], now=T0)
            cluster.server(1, 3).kill()  # ZooKeeper still thinks it is alive: the other two make the quorum
            for i in range(1, 11):
                await store.insert([(ON_0[0], value(T0 + i, 1.0))], now=T0)
            for replica in (1, 2):
                assert _count(cluster, 1, replica, f"{db}.raw_local") == 11
            cluster.server(1, 3).start()
            await store.insert([(ON_0[0], value(T0 + 11, 1.0))], now=T0)
            [(n,)] = await engine.execute(f"SELECT count() FROM {db}.raw")
            assert n == 12

        asyncio.run(scenario())
    finally:
        engine.close()
        cluster.stop()
