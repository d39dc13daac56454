"""Properties: a result depends on the data, not on how the shell happened to hand it over.

The shell may list SEARCH hits in any order, build ``fetched`` in any order, and assemble a series
from pages read newest-first or oldest-first. None of that may change a single label, timestamp
or value of any result.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stackwatch.domain.metricmath import MetricRef, Query, Result, Series, evaluate, plan

T0 = 1_717_977_600.0
P = 60
N = 8
SEARCH = "SEARCH('{Test,Host} MetricName=\"Load\"', 'Average', 60)"
EXPRESSIONS = [
    "m0 + m1 * 2 - m2",
    "m0 / m1",
    "(m0 > m1 AND m2 != 0) || m1 <= -3",
    "IF(m0 > 0, m1, m2)",
    "FILL(m0, LINEAR) + FILL(m1, REPEAT) ^ 2 - FILL(m2, m0)",
    "RATE(m0) + DIFF(m1) + DIFF_TIME(m2) + RUNNING_SUM(m0)",
    "SUM(METRICS()) + AVG(METRICS()) - MAX([m0, m1]) * MIN(METRICS()) + STDDEV(METRICS())",
    "m0 - AVG(m0) + DATAPOINT_COUNT(m1) + STDDEV(m2) + TIME_SERIES(SUM(m1))",
    f"{SEARCH}",
    f"SORT(CONCAT({SEARCH}, METRICS()), SUM, DESC, 3)",
    f"SLICE(SORT(REMOVE_EMPTY({SEARCH}), MAX, ASC), 1)",
    f"FIRST(SORT({SEARCH}, AVG, DESC)) + LAST(SORT({SEARCH}, MIN, ASC)) + SUM({SEARCH})",
    f"FILL({SEARCH}, 0) / METRIC_COUNT({SEARCH})",
    f"ABS(CEIL({SEARCH} - m0)) + FLOOR(LOG10(ABS(m1) + 1))",
]

values = st.integers(min_value=-20, max_value=20).map(float)
sparse = st.lists(st.one_of(st.none(), values), min_size=N, max_size=N)


def to_series(points: list[float | None], ref: MetricRef | None = None) -> Series:
    pairs = [(T0 + i * P, v) for i, v in enumerate(points) if v is not None]
    return Series(tuple(t for t, _ in pairs), tuple(v for _, v in pairs), "", ref)


def host(i: int) -> MetricRef:
    return MetricRef("Test", "Load", (("Host", f"h{i}"),), "Average", P)


def queries(expression: str) -> list[Query]:
    metrics = [Query(f"m{i}", None, MetricRef("Test", f"M{i}", (), "Sum", P), return_data=i == 0) for i in range(3)]
    return [*metrics, Query("e", expression, None, label="${LABEL} ${MAX}")]


def run(expression: str, fetched: dict[str, Series], hits: list[Series]) -> list[Result]:
    p = plan(queries(expression))
    searched = {call: hits for call in p.searches}
    return evaluate(p, fetched, searched, start=T0, end=T0 + N * P, period=P)


def repaginate(series: Series, cuts: list[int], reverse: bool) -> Series:
    """Split ``series`` into pages at ``cuts`` and concatenate them, newest page first if ``reverse``."""
    pairs = list(zip(series.timestamps, series.values, strict=True))
    bounds = sorted({c % (len(pairs) + 1) for c in cuts} | {0, len(pairs)})
    pages = [pairs[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    if reverse:
        pages = [list(reversed(page)) for page in reversed(pages)]
    merged = [pair for page in pages for pair in page]
    return Series(tuple(t for t, _ in merged), tuple(v for _, v in merged), series.label, series.ref)


@settings(max_examples=60, deadline=None)
@given(
    expression=st.sampled_from(EXPRESSIONS),
    metric_points=st.lists(sparse, min_size=3, max_size=3),
    hit_points=st.lists(sparse, max_size=4),
    data=st.data(),
)
def test_results_do_not_depend_on_supply_order_or_pagination(
        expression: str, metric_points: list[list[float | None]], hit_points: list[list[float | None]],
        data: st.DataObject) -> None:
    fetched = {f"m{i}": to_series(p) for i, p in enumerate(metric_points)}
    hits = [to_series(p, host(i)) for i, p in enumerate(hit_points)]
    expected = run(expression, fetched, hits)

    shuffled_hits = data.draw(st.permutations(hits))
    order = data.draw(st.permutations(sorted(fetched)))
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=N), max_size=3))
    reverse = data.draw(st.booleans())
    paged = {k: repaginate(fetched[k], cuts, reverse) for k in order}
    paged_hits = [repaginate(s, cuts, reverse) for s in shuffled_hits]
    assert run(expression, paged, paged_hits) == expected


@settings(max_examples=40, deadline=None)
@given(a=sparse, b=sparse)
def test_arithmetic_reads_a_missing_point_as_zero_and_drops_division_by_zero(
        a: list[float | None], b: list[float | None]) -> None:
    fetched = {"m0": to_series(a), "m1": to_series(b), "m2": to_series([None] * N)}
    (_, result) = run("m0 / m1", fetched, [])
    expected = {T0 + i * P: (x or 0.0) / (y or 0.0) for i, (x, y) in enumerate(zip(a, b, strict=True))
                if (x is not None or y is not None) and (y or 0.0) != 0}
    assert dict(zip(result.timestamps, result.values, strict=True)) == expected
