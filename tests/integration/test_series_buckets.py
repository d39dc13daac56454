"""MetricStore.series_buckets (GetMetricData's one query for many series), on both engines."""

from __future__ import annotations

import math

from services.ingest.store import MetricStore
from tests.integration.datums import ACCOUNT_A, ACCOUNT_B, T0, sid, stat_set, value, values


async def test_many_series_in_one_query_grouped_by_series_and_bucket(store: MetricStore) -> None:
    await store.insert([
        (ACCOUNT_A, value(T0 + 1, 1.0, d=[("Host", "a")])),
        (ACCOUNT_A, value(T0 + 30, 3.0, d=[("Host", "a")])),
        (ACCOUNT_A, value(T0 + 61, 5.0, d=[("Host", "a")])),
        (ACCOUNT_A, value(T0 + 2, 10.0, d=[("Host", "b")])),
        (ACCOUNT_A, value(T0 + 2, 99.0, d=[("Host", "c")])),  # not asked for
    ], now=T0 + 100)
    a, b, c = (sid(ACCOUNT_A, d=[("Host", h)]) for h in "abc")

    got = await store.series_buckets(ACCOUNT_A, [a, b, b], T0, T0 + 120, 60, None, histograms=False)

    assert got == {a: [(T0, 2.0, 4.0, 1.0, 3.0), (T0 + 60, 1.0, 5.0, 5.0, 5.0)],
                   b: [(T0, 1.0, 10.0, 10.0, 10.0)]}
    assert c not in got


async def test_without_extremes_min_and_max_are_nan_and_the_rest_unchanged(store: MetricStore) -> None:
    await store.insert([(ACCOUNT_A, value(T0 + 1, 1.0)), (ACCOUNT_A, value(T0 + 30, 3.0)),
                        (ACCOUNT_A, stat_set(T0 + 61, 4, 10, 1, 4))], now=T0 + 100)
    s = sid(ACCOUNT_A)
    for tier in (0, 300):  # raw and a rollup
        got = await store.series_buckets(ACCOUNT_A, [s], T0, T0 + 600 if tier else T0 + 120, 300 if tier else 60,
                                         None, histograms=False, extremes=False, tier=tier)
        rows = got[s]
        assert [r[:3] for r in rows] == ([(T0, 6.0, 14.0)] if tier else [(T0, 2.0, 4.0), (T0 + 60, 4.0, 10.0)])
        assert all(math.isnan(r[3]) and math.isnan(r[4]) for r in rows)


async def test_histograms_sum_values_per_bucket_and_statistic_sets_add_none(store: MetricStore) -> None:
    await store.insert([
        (ACCOUNT_A, values(T0 + 5, [2.0, 1.0], [1.0, 3.0])),
        (ACCOUNT_A, value(T0 + 6, 2.0)),
        (ACCOUNT_A, stat_set(T0 + 7, 4, 10, 1, 4)),
    ], now=T0 + 100)

    got = await store.series_buckets(ACCOUNT_A, [sid(ACCOUNT_A)], T0, T0 + 60, 60, None, histograms=True)

    assert got == {sid(ACCOUNT_A): [(T0, 9.0, 17.0, 1.0, 4.0, ([1.0, 2.0], [3.0, 2.0]))]}
    [(bucket, *_)] = got[sid(ACCOUNT_A)]
    assert type(bucket) is int


async def test_unit_filter_and_units_merged_without_it(store: MetricStore) -> None:
    await store.insert([(ACCOUNT_A, value(T0, 1.0, unit="Bytes")), (ACCOUNT_A, value(T0, 2.0, unit="Count"))],
                       now=T0 + 100)
    s = sid(ACCOUNT_A)

    merged = await store.series_buckets(ACCOUNT_A, [s], T0, T0 + 60, 60, None, histograms=False)
    only = await store.series_buckets(ACCOUNT_A, [s], T0, T0 + 60, 60, "Count", histograms=False)
    none = await store.series_buckets(ACCOUNT_A, [s], T0, T0 + 60, 60, "Seconds", histograms=False)

    assert merged == {s: [(T0, 2.0, 3.0, 1.0, 2.0)]}
    assert only == {s: [(T0, 1.0, 2.0, 2.0, 2.0)]}
    assert none == {}


async def test_another_accounts_rows_never_count_even_with_its_series_id(store: MetricStore) -> None:
    await store.insert([(ACCOUNT_B, value(T0, 7.0))], now=T0 + 100)

    got = await store.series_buckets(ACCOUNT_A, [sid(ACCOUNT_B)], T0, T0 + 60, 60, None, histograms=True)

    assert got == {}


async def test_range_is_start_inclusive_end_exclusive_with_buckets_aligned_to_start(store: MetricStore) -> None:
    await store.insert([(ACCOUNT_A, value(T0 + t, 1.0)) for t in (9, 10, 25, 39, 40)], now=T0 + 100)

    got = await store.series_buckets(ACCOUNT_A, [sid(ACCOUNT_A)], T0 + 10, T0 + 40, 20, None, histograms=False)

    assert [(b, n) for b, n, *_ in got[sid(ACCOUNT_A)]] == [(T0 + 10, 2.0), (T0 + 30, 1.0)]


async def test_no_series_asks_nothing(store: MetricStore) -> None:
    assert await store.series_buckets(ACCOUNT_A, [], T0, T0 + 60, 60, None, histograms=True) == {}
