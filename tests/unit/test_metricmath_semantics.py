"""Behaviour the AWS documentation leaves open, pinned down as StackWatch chose it (see the package docstring)."""

from __future__ import annotations

import pytest

from stackwatch.domain.metricmath import MetricRef, Query, Series, evaluate, plan

T0 = 1_717_977_600.0
P = 60
Values = list[float | None]


def run(expression: str, periods: int = 3, **metrics: Values) -> list[tuple[str, Values]]:
    queries = [Query(m, None, MetricRef("Test", m.upper(), (), "Sum", P), return_data=False) for m in metrics]
    queries.append(Query("e", expression, None))
    fetched = {}
    for m, values in metrics.items():
        pairs = [(T0 + i * P, float(v)) for i, v in enumerate(values) if v is not None]
        fetched[m] = Series(tuple(t for t, _ in pairs), tuple(v for _, v in pairs), "")
    results = evaluate(plan(queries), fetched, {}, start=T0, end=T0 + periods * P, period=P)
    out = []
    for r in results:
        by_time = dict(zip(r.timestamps, r.values, strict=True))
        out.append((r.label, [by_time.get(T0 + i * P) for i in range(periods)]))
    return out


@pytest.mark.parametrize(("expression", "metrics", "expected"), [
    ("m1 * IF(1, 2, 3)", {"m1": [1, None, 2]}, [("M1", [2, None, 4])]),
    ("m1 + IF(0, 5)", {"m1": [1, None, 2]}, [("M1", [None, None, None])]),           # no scalar at all
    ("m1 + AVG(m2)", {"m1": [1, None, 2], "m2": [None, None, None]}, [("M1", [None, None, None])]),
    ("TIME_SERIES(AVG(m1))", {"m1": [None, None, None]}, [("e", [None, None, None])]),
    ("m1 + DATAPOINT_COUNT(m2)", {"m1": [1, None, 2], "m2": [None, 4, None]}, [("M1", [2, None, 3])]),
    ("MAX([m1, m2])", {"m1": [1, None, -5], "m2": [None, -2, -3]}, [("e", [1, -2, -3])]),  # present points only
    ("STDDEV([m1, m2])", {"m1": [1, None, 2], "m2": [3, 5, 4]}, [("e", [1, 0, 1])]),       # population stddev
    ("SORT([m1, m2, m3], SUM, DESC)", {"m1": [1, 1, 1], "m2": [None, None, None], "m3": [3, 0, 0]},
     [("M1", [1, 1, 1]), ("M3", [3, 0, 0]), ("M2", [None, None, None])]),                  # ties stable, empty last
    ("SLICE([m1, m2, m3], -1)", {"m1": [1, 1, 1], "m2": [2, 2, 2], "m3": [3, 3, 3]}, [("M3", [3, 3, 3])]),
    ("FIRST(METRICS('none'))", {"m1": [1, 1, 1]}, [("e", [None, None, None])]),
    ("FILL(METRICS(), m1)", {"m1": [1, 2, None], "m2": [None, None, 7]}, [("M1", [1, 2, None]), ("M2", [1, 2, 7])]),
    ("(-8) ^ (1 / 3) + m1 * 0", {"m1": [1, 1, None]}, [("M1", [None, None, None])]),      # complex root dropped
    ("m1 == 1 OR m1 != m1", {"m1": [1, 2, None]}, [("e", [1, 0, None])]),
], ids=lambda v: v if isinstance(v, str) else "")
def test_open_questions(expression: str, metrics: dict[str, Values], expected: list[tuple[str, Values]]) -> None:
    assert run(expression, **metrics) == expected
