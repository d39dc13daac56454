"""Retention tiers against the real stores: rollups answer as raw does, and expiry drops what the schedule says.

Every test runs on ClickHouse 18.16 and on chDB. The properties insert random datums in random
batches (so later batches are late data inside windows already rolled up), then read each range
once from raw and once from a rollup.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from services.ingest.domain import RetentionSchedule, partition_end, percentiles
from services.ingest.domain._statistics import has_exact_percentiles
from services.ingest.store import (
    PERCENTILE_ERROR,
    RAW_COLUMNS,
    RAW_COUNTS,
    RAW_MAX,
    RAW_MIN,
    RAW_SUM,
    ROLLUPS,
    MetricStore,
    build_columns,
    rollup_select,
)
from stackwatch.domain.metrics import Datum
from stackwatch.store import AsyncEngine
from stackwatch.store.errors import StoreError
from tests.integration.datums import ACCOUNT_A, T0, sid, stat_set, value, values

DAY = 86400
_names = itertools.count()
QUANTILES = (0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0)


def _fresh_metric() -> str:
    """A metric name no other example used: each example reads only its own series."""
    return f"M{next(_names)}"


def _datum(kind: str, t: float, vs: Sequence[float], cs: Sequence[float], name: str, unit: str) -> Datum:
    if kind == "value":
        return value(t, vs[0], name=name, unit=unit)
    if kind == "values":
        return values(t, vs, cs, name=name, unit=unit)
    n = float(sum(cs))
    return stat_set(t, n, float(sum(v * c for v, c in zip(vs, cs, strict=True))), min(vs), max(vs), name=name,
                    unit=unit)


_magnitudes = st.one_of(st.just(0.0), st.floats(1e-9, 1e12, allow_nan=False, allow_infinity=False),
                        st.integers(0, 5000).map(float))
_datums = st.lists(st.tuples(
    st.sampled_from(["value", "value", "values", "stats"]),
    st.integers(0, 2 * DAY - 1),  # seconds after T0
    st.integers(0, 999),  # milliseconds
    st.lists(st.tuples(_magnitudes, st.sampled_from([1.0, 2.0, 0.5, 3.0])), min_size=1, max_size=4),
    st.sampled_from(["None", "None", "Milliseconds"]),
    st.booleans(),  # negative (percentiles then withheld, on both tiers)
), min_size=1, max_size=60)


async def _load(store: MetricStore, raw: list[tuple[object, ...]], name: str, order: random.Random,
                exact: bool) -> None:
    datums = []
    for kind, offset, ms, pairs, unit, negative in raw:
        vs = [v for v, _ in pairs]
        if negative:
            vs[0] = -vs[0] - 1.0
        if exact:  # dyadic values: every sum in any order is exact, so rollup sums equal raw sums bit for bit
            vs = [math.floor(v) / 4 for v in vs]
        datums.append(_datum(str(kind), T0 + int(offset) + int(ms) / 1000, vs, [c for _, c in pairs], name, str(unit)))
    order.shuffle(datums)
    cuts = sorted(order.sample(range(1, len(datums) + 1), k=min(3, len(datums))))
    start = 0
    for cut in cuts:  # several INSERTs, out of time order: late data lands in windows already rolled up
        await store.insert([(ACCOUNT_A, d) for d in datums[start:cut]], now=T0)
        start = cut


def _percentiles_close(raw: float, rolled: float) -> bool:
    return abs(rolled - raw) <= PERCENTILE_ERROR * abs(raw)


async def _compare(store: MetricStore, name: str, start: int, end: int, period: int, tier: int,
                   *, exact: bool) -> None:
    series = sid(ACCOUNT_A, name=name)
    for unit in (None, "Milliseconds"):
        raw_stats, raw_hist = await store.statistics_and_histograms(ACCOUNT_A, series, start, end, period, unit)
        rolled_stats, rolled_hist = await store.statistics_and_histograms(
            ACCOUNT_A, series, start, end, period, unit, tier=tier)
        assert [r[:2] for r in rolled_stats] == [r[:2] for r in raw_stats]
        for a, b in zip(raw_stats, rolled_stats, strict=True):
            assert (a[2], a[4], a[5]) == (b[2], b[4], b[5]), (a, b)  # count (whole and halves), min, max
            if exact:
                assert a[3] == b[3], (a, b)
            else:
                assert math.isclose(a[3], b[3], rel_tol=1e-12, abs_tol=1e-6), (a, b)
            key = (a[0], a[1])
            raw_ok = has_exact_percentiles(raw_hist.get(key), a[2], a[4])
            assert raw_ok == has_exact_percentiles(rolled_hist.get(key), b[2], b[4])
            if raw_ok:
                want = percentiles(raw_hist[key], QUANTILES)
                got = percentiles(rolled_hist[key], QUANTILES)
                assert all(map(_percentiles_close, want, got)), (want, got)
                assert got[0] == want[0] and got[-1] == want[-1]  # p0 and p100 are the exact min and max
        # GetMetricData's read (units merged when none is asked for)
        raw_many, rolled_many = [
            (await store.series_buckets(ACCOUNT_A, [series], start, end, period, unit, histograms=True,
                                        tier=t)).get(series, []) for t in (0, tier)]
        assert [(b[0], b[1], b[3], b[4]) for b in rolled_many] == [(b[0], b[1], b[3], b[4]) for b in raw_many]
        for a, b in zip(raw_many, rolled_many, strict=True):
            assert sum(a[5][1]) == sum(b[5][1])


# No shrinking: an example is a few hundred queries, and shrinking one took over five minutes.
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(raw=_datums, seed=st.integers(0, 2**32), exact=st.booleans())
async def test_rollups_give_raws_statistics_and_percentiles_within_the_bound(
        async_engine: AsyncEngine, database: str, raw: list[tuple[object, ...]], seed: int, exact: bool) -> None:
    store = MetricStore(async_engine, database)
    await store.ensure_schema()
    name = _fresh_metric()
    await _load(store, raw, name, random.Random(seed), exact)
    for period, tier in ((300, 300), (900, 300), (3600, 300), (3600, 3600), (21600, 3600), (DAY, 3600)):
        await _compare(store, name, T0, T0 + 2 * DAY, period, tier, exact=exact)
    await _compare(store, name, T0 + 3600, T0 + 7200, 300, 300, exact=exact)  # a window inside the data


async def test_late_datum_in_a_merged_window_is_folded_in(store: MetricStore, async_engine: AsyncEngine) -> None:
    series = sid(ACCOUNT_A)
    await store.insert([(ACCOUNT_A, value(T0 + 10, 4.0)), (ACCOUNT_A, value(T0 + 400, 8.0))], now=T0)
    for table, _, _, _ in ROLLUPS.values():
        await async_engine.execute(f"OPTIMIZE TABLE {store.database}.{table} FINAL")
    assert await store.statistics(ACCOUNT_A, series, T0, T0 + 3600, 3600, None, tier=3600) == [
        (T0, "None", 2.0, 12.0, 4.0, 8.0)]
    await store.insert([(ACCOUNT_A, value(T0 + 20, 1.0)), (ACCOUNT_A, value(T0 + 3599, 100.0))], now=T0 + 5000)
    assert await store.statistics(ACCOUNT_A, series, T0, T0 + 3600, 3600, None, tier=3600) == [
        (T0, "None", 4.0, 113.0, 1.0, 100.0)]
    assert await store.statistics(ACCOUNT_A, series, T0, T0 + 3600, 300, None, tier=300) == [
        (T0, "None", 2.0, 5.0, 1.0, 4.0), (T0 + 300, "None", 1.0, 8.0, 8.0, 8.0),
        (T0 + 3300, "None", 1.0, 100.0, 100.0, 100.0)]


async def test_a_data_directory_from_before_the_rollups_is_backfilled_at_start(
        async_engine: AsyncEngine, database: str) -> None:
    store = MetricStore(async_engine, database)
    await store.ensure_schema()
    for table, view, _, _ in ROLLUPS.values():  # as a directory written by the previous release
        await async_engine.execute(f"DROP TABLE {database}.{view}")
        await async_engine.execute(f"DROP TABLE {database}.{table}")
    await async_engine.execute(f"DROP TABLE {database}.schema_migrations")  # which had no migrations table
    await store.insert([(ACCOUNT_A, value(T0 + i * 97, float(i))) for i in range(100)], now=T0)
    await store.ensure_schema()
    await store.ensure_schema()  # idempotent: no second backfill
    series = sid(ACCOUNT_A)
    raw = await store.statistics(ACCOUNT_A, series, T0, T0 + 3 * 3600, 3600, None)
    assert raw and await store.statistics(ACCOUNT_A, series, T0, T0 + 3 * 3600, 3600, None, tier=3600) == raw
    assert await store.statistics(ACCOUNT_A, series, T0, T0 + 3 * 3600, 300, None, tier=300) == \
        await store.statistics(ACCOUNT_A, series, T0, T0 + 3 * 3600, 300, None)
    await store.insert([(ACCOUNT_A, value(T0 + 5, 1000.0))], now=T0)  # and the view feeds it from now on
    (n, *_), = [r[2:] for r in await store.statistics(ACCOUNT_A, series, T0, T0 + 3600, 3600, None, tier=3600)]
    assert n == 1 + len([i for i in range(100) if i * 97 < 3600])


# --- expiry -------------------------------------------------------------------------------------

_schedules = st.builds(
    lambda m, f, h: RetentionSchedule(high_resolution=3 * 3600, minute=m * DAY, five_minute=(m + f) * DAY,
                                      hour=(m + f + h) * DAY),
    st.integers(1, 20), st.integers(0, 40), st.integers(0, 60))


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(days=st.lists(st.integers(0, 150), min_size=1, max_size=25), schedule=_schedules,
       later=st.integers(0, 200 * DAY))
async def test_expiry_drops_exactly_the_partitions_past_their_tiers_retention(
        async_engine: AsyncEngine, database: str, days: list[int], schedule: RetentionSchedule, later: int) -> None:
    store = MetricStore(async_engine, database)
    await store.ensure_schema()
    name = _fresh_metric()
    first = T0 - T0 % DAY
    stamps = sorted({first + d * DAY + (d * 7919) % DAY for d in days})
    await store.insert([(ACCOUNT_A, value(t, 1.0, name=name)) for t in stamps], now=T0)
    now = first + later  # an injected clock: no sleeping
    await store.expire(now, schedule)
    series = sid(ACCOUNT_A, name=name)
    span = (first - DAY, first + 400 * DAY)
    for tier, retention, cover in ((0, schedule.raw, "day"), (300, schedule.five_minute, "day"),
                                   (3600, schedule.hour, "month")):
        kept = [t for t in stamps if _partition_end(t, cover) > now - retention]
        period = 300 if tier == 0 else tier
        got = await store.series_buckets(ACCOUNT_A, [series], span[0], span[1], period, None, histograms=False,
                                         tier=tier)
        assert sum(b[1] for b in got.get(series, [])) == len(kept), (tier, retention, now)
    left = await store.partitions()
    for table, retention in (("raw", schedule.raw), ("roll_5m", schedule.five_minute), ("roll_1h", schedule.hour)):
        assert all(partition_end(p) > now - retention for p in left[table])


def _partition_end(t: int, cover: str) -> int:
    d = dt.datetime.fromtimestamp(t, dt.UTC)
    return partition_end(d.strftime("%Y%m%d" if cover == "day" else "%Y%m"))


async def test_expire_logs_each_drop_and_drops_nothing_twice(store: MetricStore,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    first = T0 - T0 % DAY
    await store.insert([(ACCOUNT_A, value(first + d * DAY, 1.0)) for d in range(20)], now=T0)
    schedule = RetentionSchedule(minute=5 * DAY, five_minute=10 * DAY, hour=400 * DAY)
    with caplog.at_level("INFO", logger="services.ingest.store"):
        dropped = await store.expire(first + 20 * DAY, schedule)
    assert len([1 for t, _ in dropped if t == "raw"]) == 15  # days 0..14 end by day 15 = now - 5 days
    assert len([1 for t, _ in dropped if t == "roll_5m"]) == 10
    assert not [1 for t, _ in dropped if t == "roll_1h"]
    assert len([r for r in caplog.records if "retention: dropped" in r.getMessage()]) == 25
    assert await store.expire(first + 20 * DAY, schedule) == []


# --- one-value rows stored compactly ------------------------------------------------------------


async def test_a_one_value_datum_keeps_its_value_once(store: MetricStore, async_engine: AsyncEngine) -> None:
    await store.insert([(ACCOUNT_A, value(T0 + 1, 2.5)), (ACCOUNT_A, stat_set(T0 + 2, 1, 7, 7, 7)),
                        (ACCOUNT_A, values(T0 + 3, [4.0], [2.0]))], now=T0)
    rows = await async_engine.execute(f"SELECT isNaN(sum), isNaN(min), isNaN(max), values, counts"
                                      f" FROM {store.database}.raw ORDER BY ts")
    # a statistic set (no values) and a value counted twice keep their own columns
    assert rows == [(1, 1, 1, [2.5], []), (0, 0, 0, [], []), (0, 0, 0, [4.0], [2.0])]
    got = await store.statistics_and_histograms(ACCOUNT_A, sid(ACCOUNT_A), T0, T0 + 60, 60, None)
    assert got == ([(T0, "None", 4.0, 17.5, 2.5, 7.0)], {(T0, "None"): [(2.5, 1.0), (4.0, 2.0)]})


async def test_a_data_directory_of_full_rows_and_old_views_reads_the_same_and_gets_the_new_views(
        async_engine: AsyncEngine, database: str) -> None:
    """Rows as the previous release wrote them (every copy of the value) beside compact ones, on every tier."""
    store = MetricStore(async_engine, database)
    await store.ensure_schema()
    for tier, (_, view, _, _) in ROLLUPS.items():  # the previous release's views
        await async_engine.execute(f"DROP TABLE {database}.{view}")
        old = (rollup_select(database, tier).replace(RAW_SUM, "sum").replace(RAW_MIN, "min")
               .replace(RAW_MAX, "max").replace(RAW_COUNTS, "counts"))
        await async_engine.execute(f"CREATE MATERIALIZED VIEW {database}.{view.removesuffix('_v2')}"
                                   f" TO {database}.{ROLLUPS[tier][0]} AS {old}")
    before = [(ACCOUNT_A, value(T0 + i * 61, float(i) / 4)) for i in range(60)]
    columns, _ = build_columns(before)
    for i, vs in enumerate(columns["values"]):  # full rows, as the previous release wrote them
        columns["sum"][i] = columns["min"][i] = columns["max"][i] = vs[0]
        columns["counts"][i] = (1.0,)
    async_engine.engine.insert(f"{database}.raw", RAW_COLUMNS, columns)
    await async_engine.execute(f"DROP TABLE {database}.schema_migrations")  # that release had none
    await store.ensure_schema()
    tables = {name for (name,) in await async_engine.execute(
        "SELECT name FROM system.tables WHERE database = %(db)s", {"db": database})}
    assert {"raw_to_5m", "raw_to_1h"}.isdisjoint(tables) and {"raw_to_5m_v2", "raw_to_1h_v2"} <= tables
    await store.insert([(ACCOUNT_A, value(T0 + 30 + i * 61, -float(i))) for i in range(60)], now=T0)
    series = sid(ACCOUNT_A)
    everything = [(T0 + i * 61, float(i) / 4) for i in range(60)] + [(T0 + 30 + i * 61, -float(i)) for i in range(60)]
    for period in (300, 3600):
        want = []
        for b in range(T0, T0 + 3 * 3600, period):
            vs = [v for t, v in everything if b <= t < b + period]
            if vs:
                want.append((b, "None", float(len(vs)), math.fsum(vs), min(vs), max(vs)))
        for tier in (0, period):
            got = await store.statistics(ACCOUNT_A, series, T0, T0 + 3 * 3600, period, None, tier=tier)
            assert [(b, u, n, lo, hi) for b, u, n, _, lo, hi in got] == [(b, u, n, lo, hi) for b, u, n, _, lo, hi in want]
            assert all(math.isclose(g[3], w[3], abs_tol=1e-9) for g, w in zip(got, want, strict=True))
        hists = await store.histograms(ACCOUNT_A, series, T0, T0 + 3 * 3600, period, None)
        assert sum(c for h in hists.values() for _, c in h) == len(everything)


# --- repair after a failure between raw's part and the views' -----------------------------------


async def test_rollup_windows_missed_by_a_failed_insert_are_repaired_from_raw(
        store: MetricStore, async_engine: AsyncEngine) -> None:
    """A view that throws fails the INSERT after raw's part is written: replay would skip those rows."""
    db = store.database
    series = sid(ACCOUNT_A)
    await store.insert([(ACCOUNT_A, value(T0 + 100 + i, float(i)), 1) for i in range(5)], now=T0, wal_id=9)
    await async_engine.execute(f"CREATE TABLE {db}.sink (x UInt8) ENGINE = Null")
    await async_engine.execute(  # pushed to before the rollup views on both engines, or after: either way
        f"CREATE MATERIALIZED VIEW {db}.aaa_sabotage TO {db}.sink AS"
        f" SELECT throwIf(count = 7) AS x FROM {db}.raw")
    failed = [(ACCOUNT_A, value(T0 + 200, 50.0), 2), (ACCOUNT_A, values(T0 + 4000, [2.0, 3.0], [3.0, 4.0]), 2),
              (ACCOUNT_A, stat_set(T0 + 4100, 7, 70, 1, 20), 2)]
    with pytest.raises(StoreError):
        await store.insert(failed, now=T0, wal_id=9)
    await async_engine.execute(f"DROP TABLE {db}.aaa_sabotage")
    assert await store.logged_rows(9, 1, 2, T0 - DAY) == {(1, 20270115), (2, 20270115)}  # raw holds them

    store._REPAIR_CHUNK = 1  # one INSERT per window: the chunking is exercised too
    repaired = await store.repair_rollups(9, 2, 2, T0 - DAY)

    assert repaired >= 1
    for period, tier in ((300, 300), (3600, 3600), (3600, 300)):
        raw = await store.statistics_and_histograms(ACCOUNT_A, series, T0, T0 + 2 * 3600, period, None)
        rolled = await store.statistics_and_histograms(ACCOUNT_A, series, T0, T0 + 2 * 3600, period, None,
                                                       tier=tier)
        assert rolled[0] == raw[0]
        assert [(k, [c for _, c in h]) for k, h in rolled[1].items()] == [(k, [c for _, c in h])
                                                                         for k, h in raw[1].items()]
    assert await store.repair_rollups(9, 1, 2, T0 - DAY) == 0  # whole again: nothing more to do
