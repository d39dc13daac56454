"""MetricStore against a real ClickHouse 18.16 server and chDB: the same tests, once per engine."""

from __future__ import annotations

import random

import pytest

from services.ingest.store import MetricStore, split_timestamp
from stackwatch.store import AsyncEngine
from tests.integration.datums import ACCOUNT_A, ACCOUNT_B, T0, sid, stat_set, value, values

HOSTILE = [
    "it's",
    'double "quoted"',
    "back\\slash\\",
    "trailing backslash \\",
    "'; DROP TABLE raw; --",
    "') OR 1=1 --",
    "%(account)s and %s and %%",
    "new\nline\r\ttab",
    "nul\x00byte",
    "ünïcødé 漢字 😀 \u2028",
    "{name:String}",
]


async def test_ensure_schema_is_idempotent(store: MetricStore, async_engine: AsyncEngine) -> None:
    await store.ensure_schema()
    await store.ensure_schema()
    tables = await async_engine.execute(
        "SELECT name FROM system.tables WHERE database = %(db)s ORDER BY name", {"db": store.database})
    assert tables == [("catalog",), ("raw",), ("raw_to_1h_v2",), ("raw_to_5m_v2",), ("roll_1h",), ("roll_5m",),
                      ("schema_migrations",)]


async def test_modern_engine_gets_low_cardinality_and_codecs(store: MetricStore,
                                                              async_engine: AsyncEngine) -> None:
    raw = await async_engine.execute(f"DESCRIBE TABLE {store.database}.raw")
    catalog = await async_engine.execute(f"DESCRIBE TABLE {store.database}.catalog")
    raw_cols = {name: type_ for name, type_, *_ in raw}
    catalog_cols = {name: type_ for name, type_, *_ in catalog}
    if (await async_engine.dialect()).modern:
        assert raw_cols["unit"] == catalog_cols["namespace"] == "LowCardinality(String)"
        assert catalog_cols["dim_names"] == "Array(LowCardinality(String))"
        codecs = {row[0]: row[5] for row in raw}
        assert codecs["ts"].startswith("DoubleDelta") and codecs["sum"].startswith("ZSTD")
    else:
        assert raw_cols["unit"] == catalog_cols["namespace"] == "String"
    assert raw_cols["ts"] == "DateTime('UTC')"
    assert raw_cols["values"] == "Array(Float64)"
    # the identity lives in the catalog only; raw rows carry the series id
    assert not {"namespace", "metric", "dim_names", "dim_values"} & set(raw_cols)


async def test_value_datums_aggregate_exactly(store: MetricStore) -> None:
    await store.insert([(ACCOUNT_A, value(T0 + 1, 1.0)), (ACCOUNT_A, value(T0 + 10.25, 2.0)),
                        (ACCOUNT_A, value(T0 + 59.999, 3.5)), (ACCOUNT_A, value(T0 + 60, -4.0))],
                       now=T0 + 100)
    rows = await store.statistics(ACCOUNT_A, sid(ACCOUNT_A), T0, T0 + 120, 60, None)
    assert rows == [(T0, "None", 3.0, 6.5, 1.0, 3.5), (T0 + 60, "None", 1.0, -4.0, -4.0, -4.0)]


async def test_values_counts_and_statistic_sets_combine(store: MetricStore) -> None:
    await store.insert([
        (ACCOUNT_A, values(T0 + 5, [1.0, 2.0, 3.0], [1.0, 2.0, 3.0])),  # n=6, sum=14
        (ACCOUNT_A, stat_set(T0 + 6, 10.0, 100.0, 0.5, 20.0)),
        (ACCOUNT_A, stat_set(T0 + 7, 5.0, 50.0, 1.5, 30.0)),
    ], now=T0 + 10)
    rows = await store.statistics(ACCOUNT_A, sid(ACCOUNT_A), T0, T0 + 60, 60, None)
    assert rows == [(T0, "None", 21.0, 164.0, 0.5, 30.0)]


@pytest.mark.parametrize(("t", "counted"), [
    (T0 - 0.001, False),    # falls in second T0-1: before start
    (T0, True),             # start is inclusive
    (T0 + 0.4, True),
    (T0 + 299.999, True),   # the last millisecond before end
    (T0 + 300, False),      # end is exclusive
    (T0 + 300.5, False),
], ids=["before-start", "at-start", "sub-second", "just-before-end", "at-end", "after-end"])
async def test_range_is_start_inclusive_end_exclusive_by_second(store: MetricStore, t: float,
                                                                counted: bool) -> None:
    await store.insert([(ACCOUNT_A, value(t, 7.0))], now=T0)
    rows = await store.statistics(ACCOUNT_A, sid(ACCOUNT_A), T0, T0 + 300, 60, None)
    assert [r[2] for r in rows] == ([1.0] if counted else [])


def test_split_timestamp_floors_to_the_second() -> None:
    assert split_timestamp(T0 + 0.9996) == (T0, 999)
    assert split_timestamp(T0 + 0.25) == (T0, 250)
    assert split_timestamp(float(T0)) == (T0, 0)
    assert split_timestamp(T0 - 0.001) == (T0 - 1, 999)


async def test_buckets_align_to_start_not_to_the_clock(store: MetricStore) -> None:
    start = T0 + 17
    await store.insert([(ACCOUNT_A, value(start, 1.0)), (ACCOUNT_A, value(start + 59.9, 2.0)),
                        (ACCOUNT_A, value(start + 60, 4.0)), (ACCOUNT_A, value(start + 250, 8.0))], now=T0)
    rows = await store.statistics(ACCOUNT_A, sid(ACCOUNT_A), start, start + 300, 60, None)
    assert [(b - start, n, s) for b, _, n, s, _, _ in rows] == [
        (0, 2.0, 3.0), (60, 1.0, 4.0), (240, 1.0, 8.0)]
    rows = await store.statistics(ACCOUNT_A, sid(ACCOUNT_A), start, start + 300, 300, None)
    assert rows == [(start, "None", 4.0, 15.0, 1.0, 8.0)]


async def test_high_resolution_one_second_periods(store: MetricStore) -> None:
    await store.insert([(ACCOUNT_A, value(T0 + i / 4, float(i), resolution=1)) for i in range(12)], now=T0)
    rows = await store.statistics(ACCOUNT_A, sid(ACCOUNT_A), T0, T0 + 3, 1, None)
    assert rows == [(T0, "None", 4.0, 6.0, 0.0, 3.0), (T0 + 1, "None", 4.0, 22.0, 4.0, 7.0),
                    (T0 + 2, "None", 4.0, 38.0, 8.0, 11.0)]


async def test_units_are_kept_apart_and_filterable(store: MetricStore) -> None:
    await store.insert([(ACCOUNT_A, value(T0 + 1, 1.0, unit="Seconds")),
                        (ACCOUNT_A, value(T0 + 2, 1000.0, unit="Milliseconds")),
                        (ACCOUNT_A, value(T0 + 3, 3.0, unit="Seconds"))], now=T0)
    s = sid(ACCOUNT_A)
    assert await store.statistics(ACCOUNT_A, s, T0, T0 + 60, 60, None) == [
        (T0, "Milliseconds", 1.0, 1000.0, 1000.0, 1000.0), (T0, "Seconds", 2.0, 4.0, 1.0, 3.0)]
    assert await store.statistics(ACCOUNT_A, s, T0, T0 + 60, 60, "Seconds") == [
        (T0, "Seconds", 2.0, 4.0, 1.0, 3.0)]
    assert await store.statistics(ACCOUNT_A, s, T0, T0 + 60, 60, "Bytes") == []


async def test_dimensions_make_distinct_series(store: MetricStore) -> None:
    await store.insert([(ACCOUNT_A, value(T0, 1.0, d=[("Host", "a")])),
                        (ACCOUNT_A, value(T0, 2.0, d=[("Host", "b")])),
                        (ACCOUNT_A, value(T0, 4.0, d=[("Host", "a"), ("Zone", "z1")]))], now=T0)
    for d, total in (([("Host", "a")], 1.0), ([("Host", "b")], 2.0), ([("Zone", "z1"), ("Host", "a")], 4.0)):
        rows = await store.statistics(ACCOUNT_A, sid(ACCOUNT_A, d=d), T0, T0 + 60, 60, None)
        assert [r[3] for r in rows] == [total]


async def test_histograms_sum_counts_per_distinct_value(store: MetricStore) -> None:
    await store.insert([
        (ACCOUNT_A, values(T0 + 1, [1.0, 2.0, 2.0], [1.0, 1.0, 3.0])),
        (ACCOUNT_A, value(T0 + 2, 2.0)),
        (ACCOUNT_A, value(T0 + 3, 0.5, unit="Seconds")),
        (ACCOUNT_A, stat_set(T0 + 4, 100.0, 1000.0, 1.0, 50.0)),  # no values: no histogram entry
        (ACCOUNT_A, value(T0 + 61, 9.0)),
        (ACCOUNT_A, value(T0 + 120, 9.0)),                         # outside [T0, T0+120)
    ], now=T0)
    hist = await store.histograms(ACCOUNT_A, sid(ACCOUNT_A), T0, T0 + 120, 60, None)
    assert hist == {(T0, "None"): [(1.0, 1.0), (2.0, 5.0)], (T0, "Seconds"): [(0.5, 1.0)],
                    (T0 + 60, "None"): [(9.0, 1.0)]}
    assert await store.histograms(ACCOUNT_A, sid(ACCOUNT_A), T0, T0 + 120, 60, "Seconds") == {
        (T0, "Seconds"): [(0.5, 1.0)]}


async def test_histograms_leave_out_values_whose_counts_sum_to_zero(store: MetricStore) -> None:
    await store.insert([
        (ACCOUNT_A, values(T0 + 1, [1.0, 2.0, 3.0], [0.0, 2.0, 0.0])),
        (ACCOUNT_A, values(T0 + 2, [3.0, 4.0], [0.0, 1.0])),
        (ACCOUNT_A, values(T0 + 61, [7.0], [0.0])),               # a bucket with no counted value
    ], now=T0)

    hist = await store.histograms(ACCOUNT_A, sid(ACCOUNT_A), T0, T0 + 120, 60, None)

    assert hist == {(T0, "None"): [(2.0, 2.0), (4.0, 1.0)]}


async def test_statistics_and_histograms_is_both_queries_in_one(store: MetricStore) -> None:
    rng = random.Random(7)
    batch = []
    for i in range(300):
        t = T0 + rng.uniform(0, 600)
        unit = rng.choice(["None", "Seconds"])
        form = i % 3
        if form == 0:
            batch.append((ACCOUNT_A, value(t, rng.choice([0.5, 1.0, 2.0, 1e9, -3.0]), unit=unit)))
        elif form == 1:
            vs = rng.sample([1.0, 2.0, 3.0, 4.5, 8.0], 3)
            batch.append((ACCOUNT_A, values(t, vs, [float(rng.randint(0, 5)) for _ in vs], unit=unit)))
        else:
            batch.append((ACCOUNT_A, stat_set(t, 4.0, 10.0, 1.0, 4.0, unit=unit)))
    await store.insert(batch, now=T0)

    for period, unit in ((60, None), (300, "Seconds"), (1, None), (600, "Bytes")):
        where = (ACCOUNT_A, sid(ACCOUNT_A), T0, T0 + 600, period, unit)
        expected: dict[tuple[int, str], dict[float, float]] = {}
        for _, d in batch:
            if unit in (None, d.unit):
                counted = expected.setdefault((T0 + (int(d.timestamp) - T0) // period * period, d.unit), {})
                for v, c in zip(d.values, d.counts, strict=True):
                    counted[v] = counted.get(v, 0.0) + c

        stats, hist = await store.statistics_and_histograms(*where)

        assert stats == await store.statistics(*where)  # the same buckets as the query without sumMap
        assert hist == {key: sorted((v, c) for v, c in counted.items() if c > 0)
                        for key, counted in expected.items() if any(c > 0 for c in counted.values())}
        assert await store.histograms(*where) == hist


def _catalog_batch() -> list:
    d = [
        ("App", "Latency", [("Host", "a"), ("Service", "api")]),
        ("App", "Latency", [("Host", "b"), ("Service", "api")]),
        ("App", "Latency", []),
        ("App", "Errors", [("Host", "a")]),
        ("AppX", "Latency", [("Service", "api")]),
        ("Other", "Latency", [("Service", "web")]),
    ]
    return [(ACCOUNT_A, value(T0, 1.0, ns=ns, name=name, d=dd)) for ns, name, dd in d]


def _names(rows: list) -> list[tuple[str, str, list]]:
    return [(ns, name, dims) for ns, name, dims, _ in rows]


async def test_list_metrics_filters(store: MetricStore) -> None:
    await store.insert(_catalog_batch(), now=T0)
    since = T0 - 10

    everything = await store.list_metrics(ACCOUNT_A, active_since=since)
    assert len(everything) == 6
    assert _names(everything) == sorted(_names(everything), key=lambda r: (r[0], r[1]))
    assert all(s == sid(ACCOUNT_A, ns, name, dims) for ns, name, dims, s in everything)

    errors_only = await store.list_metrics(ACCOUNT_A, namespace="App", metric_name="Errors",
                                           active_since=since)
    assert _names(errors_only) == [("App", "Errors", [("Host", "a")])]
    # namespace is exact, not a prefix
    assert {r[0] for r in await store.list_metrics(ACCOUNT_A, namespace="App", active_since=since)} == {"App"}
    # a name-only dimension filter: any value
    host = await store.list_metrics(ACCOUNT_A, dimension_filters=[("Host", None)], active_since=since)
    assert sorted(_names(host)) == [("App", "Errors", [("Host", "a")]),
                                    ("App", "Latency", [("Host", "a"), ("Service", "api")]),
                                    ("App", "Latency", [("Host", "b"), ("Service", "api")])]
    # name and value; several filters all apply
    both = await store.list_metrics(ACCOUNT_A, dimension_filters=[("Host", "a"), ("Service", "api")],
                                    active_since=since)
    assert _names(both) == [("App", "Latency", [("Host", "a"), ("Service", "api")])]
    # the value belongs to that name, not to any dimension
    assert await store.list_metrics(ACCOUNT_A, dimension_filters=[("Host", "api")], active_since=since) == []
    other = await store.list_metrics(ACCOUNT_A, namespace="Other", dimension_filters=[("Service", "web")],
                                     active_since=since)
    assert _names(other) == [("Other", "Latency", [("Service", "web")])]


async def test_list_metrics_active_since_uses_receive_time_and_dedupes(store: MetricStore) -> None:
    old = value(T0 - 30 * 86400, 1.0, name="Old")  # timestamp long ago, received at T0: active
    await store.insert([(ACCOUNT_A, value(T0, 1.0, name="Stale")), (ACCOUNT_A, old)], now=T0)
    await store.insert([(ACCOUNT_A, value(T0, 2.0, name="Fresh"))], now=T0 + 3 * 86400)
    await store.insert([(ACCOUNT_A, value(T0, 3.0, name="Fresh"))], now=T0 + 4 * 86400)
    await store.insert([(ACCOUNT_A, value(T0, 3.0, name="Fresh"))], now=T0 + 4 * 86400)
    assert [r[1] for r in await store.list_metrics(ACCOUNT_A, active_since=T0 + 86400)] == ["Fresh"]
    assert [r[1] for r in await store.list_metrics(ACCOUNT_A, active_since=T0)] == ["Fresh", "Old", "Stale"]
    assert [r[1] for r in await store.list_metrics(ACCOUNT_A, active_since=T0 + 4 * 86400)] == ["Fresh"]
    assert await store.list_metrics(ACCOUNT_A, active_since=T0 + 4 * 86400 + 1) == []


async def test_list_metrics_pages_through_everything_once(store: MetricStore) -> None:
    rng = random.Random(7)
    batch = [(ACCOUNT_A, value(T0, 1.0, ns=rng.choice(["A", "B", "C"]), name=f"M{rng.randrange(4)}",
                               d=[("Host", f"h{i}")])) for i in range(1234)]
    await store.insert(batch, now=T0)
    await store.insert(batch[:700], now=T0 + 1)  # duplicates in the catalog must not show
    seen: list = []
    after = None
    pages = 0
    while True:
        rows = await store.list_metrics(ACCOUNT_A, active_since=T0, after=after, limit=501)
        page = rows[:500]
        seen.extend(page)
        pages += 1
        if len(rows) <= 500:
            break
        after = (page[-1][0], page[-1][1], page[-1][3])
    assert pages == 3
    keys = [(ns, name, s) for ns, name, _, s in seen]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys) == 1234


async def test_tenants_are_isolated(store: MetricStore) -> None:
    await store.insert([(ACCOUNT_A, value(T0, 5.0)), (ACCOUNT_A, values(T0 + 1, [1.0], [2.0]))], now=T0)
    a = sid(ACCOUNT_A)
    assert await store.statistics(ACCOUNT_A, a, T0, T0 + 60, 60, None) != []
    assert await store.statistics(ACCOUNT_B, a, T0, T0 + 60, 60, None) == []
    assert await store.statistics(ACCOUNT_B, sid(ACCOUNT_B), T0, T0 + 60, 60, None) == []
    assert await store.histograms(ACCOUNT_B, a, T0, T0 + 60, 60, None) == {}
    assert await store.list_metrics(ACCOUNT_B, active_since=0) == []
    assert await store.list_metrics(ACCOUNT_B, namespace="App", active_since=0,
                                    after=("", "", 0)) == []


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
async def test_hostile_strings_round_trip_exactly(store: MetricStore, async_engine: AsyncEngine,
                                                  text: str) -> None:
    d = [("Dim " + text, text), ("Plain", "v")]
    await store.insert([(ACCOUNT_A, value(T0, 1.0, ns=text, name=text, d=d, unit=text))], now=T0)
    rows = await store.list_metrics(ACCOUNT_A, namespace=text, metric_name=text, active_since=T0,
                                    dimension_filters=[("Dim " + text, text), ("Plain", None)])
    assert _names(rows) == [(text, text, sorted(d))]
    assert rows[0][3] == sid(ACCOUNT_A, text, text, d)
    stats = await store.statistics(ACCOUNT_A, rows[0][3], T0, T0 + 60, 60, text)
    assert stats == [(T0, text, 1.0, 1.0, 1.0, 1.0)]
    # the hostile account sees nothing, and the tables are all still there
    assert await store.list_metrics(text, active_since=0) == []
    assert await store.list_metrics(ACCOUNT_A, namespace=text + "x", active_since=0) == []
    tables = await async_engine.execute("SELECT count() FROM system.tables WHERE database = %(db)s",
                                        {"db": store.database})
    assert tables == [(7,)]  # raw, catalog, two rollups and their views, schema_migrations


async def test_fifty_thousand_datums_in_one_insert(store: MetricStore) -> None:
    batch = [(ACCOUNT_A, value(T0 + (i % 3600), float(i % 100), d=[("Host", f"h{i % 50}")]))
             for i in range(50_000)]
    await store.insert(batch, now=T0)
    total = 0.0
    count = 0.0
    for h in range(50):
        series = sid(ACCOUNT_A, d=[("Host", f"h{h}")])
        rows = await store.statistics(ACCOUNT_A, series, T0, T0 + 3600, 3600, None)
        count += sum(r[2] for r in rows)
        total += sum(r[3] for r in rows)
    assert count == 50_000
    assert total == sum(float(i % 100) for i in range(50_000))
    assert len(await store.list_metrics(ACCOUNT_A, active_since=T0)) == 50


async def test_catalog_rows_are_refreshed_only_after_the_refresh_interval(
        async_engine: AsyncEngine, database: str) -> None:
    store = MetricStore(async_engine, database, catalog_refresh=900)
    await store.ensure_schema()

    async def catalog_rows() -> int:
        rows = await async_engine.execute(f"SELECT count() FROM {database}.catalog")
        return int(rows[0][0])

    await store.insert([(ACCOUNT_A, value(T0, 1.0))], now=T0)
    await store.insert([(ACCOUNT_A, value(T0 + 1, 2.0))], now=T0 + 899)
    assert await catalog_rows() == 1  # the second write of the same series skipped the catalog
    # ... but its data is all there, and the metric is listed as active since its first write
    assert (await store.statistics(ACCOUNT_A, sid(ACCOUNT_A), T0, T0 + 60, 60, None))[0][2] == 2.0
    assert len(await store.list_metrics(ACCOUNT_A, active_since=T0)) == 1
    await store.insert([(ACCOUNT_A, value(T0 + 2, 3.0)), (ACCOUNT_A, value(T0, 1.0, name="New"))],
                       now=T0 + 900)
    assert await catalog_rows() == 3  # refreshed, plus the new series
    assert [r[1] for r in await store.list_metrics(ACCOUNT_A, active_since=T0 + 900)] == ["Latency", "New"]
