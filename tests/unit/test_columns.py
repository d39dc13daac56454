"""Column-wise PutMetricData validation agrees with the row-wise reference, result and error alike.

``validate_request`` takes a fast path for columns of plain Value datums and hands everything else
to ``validate_put``. These tests hold it to the promise in its module docstring: for any columns,
it returns what ``validate_put`` returns for the same datums as rows, or raises the same error.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ingest.domain import DatumColumns, _columns, columns_to_rows, validate_put, validate_request
from stackwatch import errors
from stackwatch.domain.metrics import DatumBatch

NOW = 1_800_000_000.0

names = st.sampled_from(["Latency", "Errors", "", "x" * 255, "x" * 256])
dim_names = st.sampled_from(["Host", "Service", "Zone", "", "n" * 256])
dim_values = st.sampled_from(["a", "b", "web", "", "v" * 1025])
doubles = st.one_of(st.floats(-1e6, 1e6), st.sampled_from([math.nan, math.inf, 2.0**360, -(2.0**361), 0.0]))
stamps = st.one_of(st.just(math.nan), st.floats(NOW - 15 * 86400, NOW + 3 * 3600))
units = st.sampled_from(["", "Milliseconds", "Count", "None", "Furlongs"])
resolutions = st.sampled_from([0, 1, 60, 5])


@st.composite
def columns(draw: st.DrawFn, plain: bool = False) -> DatumColumns:
    n = draw(st.integers(1, 6))
    counts = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    total = sum(counts)
    forms = draw(st.lists(st.sampled_from([1] if plain else [0, 1, 2, 3, 4, 5, 1, 1]), min_size=n, max_size=n))
    n_values = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)) if not plain else [0] * n
    cols = DatumColumns(
        metric_names=draw(st.lists(names, min_size=n, max_size=n)),
        dimension_counts=counts,
        dimension_names=draw(st.lists(dim_names, min_size=total, max_size=total)),
        dimension_values=draw(st.lists(dim_values, min_size=total, max_size=total)),
        timestamps=draw(st.one_of(st.just([]), st.lists(stamps, min_size=n, max_size=n))),
        forms=draw(st.sampled_from([forms, []])) if plain else forms,
        values=draw(st.lists(doubles, min_size=n, max_size=n)),
        sample_counts=[] if plain else draw(st.lists(st.sampled_from([1.0, 3.0, 0.0]), min_size=n, max_size=n)),
        sums=[] if plain else [2.0] * n, minimums=[] if plain else [1.0] * n, maximums=[] if plain else [1.0] * n,
        value_list_counts=n_values, value_list=draw(st.lists(doubles, min_size=sum(n_values), max_size=sum(n_values))),
        units=draw(st.one_of(st.just([]), st.lists(units, min_size=n, max_size=n))),
        storage_resolutions=draw(st.one_of(st.just([]), st.lists(resolutions, min_size=n, max_size=n))),
    )
    return cols


counts_of = st.one_of(st.floats(0.5, 100.0), st.sampled_from([1.0, 0.0, -1.0, math.nan, math.inf, 2.0**361]))


@st.composite
def value_lists(draw: st.DrawFn) -> DatumColumns:
    """Datums with Value or with Values (and maybe Counts): the shapes the fast path takes on."""
    n = draw(st.integers(1, 6))
    forms = draw(st.lists(st.sampled_from([1, 4, 4]), min_size=n, max_size=n))
    n_values = [draw(st.integers(0, 4)) if f == 4 else draw(st.sampled_from([0, 0, 0, 1])) for f in forms]
    with_counts = draw(st.booleans())
    n_counts = [draw(st.sampled_from([k, k, k, 0, k + 1])) if with_counts else 0 for k in n_values]
    value_list = draw(st.lists(st.one_of(doubles, st.floats(-1e300, 1e300), st.sampled_from([1e308, -1e308])),
                               min_size=sum(n_values), max_size=sum(n_values)))
    return DatumColumns(
        metric_names=["M"] * n, timestamps=[NOW] * n, forms=forms,
        values=draw(st.lists(doubles, min_size=n, max_size=n)),
        value_list_counts=n_values, value_list=value_list,
        count_list_counts=n_counts, count_list=draw(st.lists(counts_of, min_size=sum(n_counts),
                                                             max_size=sum(n_counts))))


def _outcome(fn):
    try:
        return "ok", fn()
    except errors.ServiceError as e:
        return e.code, e.message


def _same(a, b) -> bool:
    """Batches equal, NaN-free by then (valid data has no NaN), dimensions compared by value."""
    return a == b


@settings(max_examples=400, deadline=None)
@given(columns())
def test_columns_agree_with_rows(cols):
    got = _outcome(lambda: validate_request("App", [], cols, NOW))
    want = _outcome(lambda: DatumBatch.from_datums("App", validate_put("App", columns_to_rows(cols), NOW)))
    assert got[0] == want[0]
    assert _same(got[1], want[1])


@settings(max_examples=400, deadline=None)
@given(columns(plain=True))
def test_plain_value_columns_agree_with_rows(cols):
    got = _outcome(lambda: validate_request("App", [], cols, NOW))
    want = _outcome(lambda: DatumBatch.from_datums("App", validate_put("App", columns_to_rows(cols), NOW)))
    assert got[0] == want[0]
    assert _same(got[1], want[1])


@settings(max_examples=600, deadline=None)
@given(value_lists())
def test_value_list_columns_agree_with_rows(cols):
    got = _outcome(lambda: validate_request("App", [], cols, NOW))
    want = _outcome(lambda: DatumBatch.from_datums("App", validate_put("App", columns_to_rows(cols), NOW)))
    assert got[0] == want[0]
    assert _same(got[1], want[1])


def test_values_with_counts_take_the_fast_path(monkeypatch):
    n = 250
    cols = DatumColumns(metric_names=["M"] * n, timestamps=[NOW] * n, forms=[4] * n, values=[0.0] * n,
                        value_list_counts=[20] * n, value_list=[float(i % 97) / 3 for i in range(20 * n)],
                        count_list_counts=[20] * n, count_list=[float(1 + i % 5) for i in range(20 * n)])
    want = DatumBatch.from_datums("App", validate_put("App", columns_to_rows(cols), NOW))

    def refuse(*_a, **_k):
        raise AssertionError("fell back to the row-wise validator")

    monkeypatch.setattr(_columns, "validate_put", refuse)
    assert validate_request("App", [], cols, NOW) == want


def test_the_common_case_takes_the_fast_path(monkeypatch):
    n = 1000
    cols = DatumColumns(metric_names=[f"M{i % 20}" for i in range(n)], dimension_counts=[2] * n,
                        dimension_names=["Service", "Host"] * n,
                        dimension_values=[v for i in range(n) for v in ("api", f"h{i % 50}")],
                        timestamps=[NOW - i for i in range(n)], values=[float(i) for i in range(n)],
                        units=["Milliseconds"] * n)

    def refuse(*_a, **_k):
        raise AssertionError("fell back to the row-wise validator")

    monkeypatch.setattr(_columns, "validate_put", refuse)
    batch = validate_request("App", [], cols, NOW)
    assert batch.size == n and batch.units[0] == "Milliseconds" and batch.resolutions[0] == 60
    assert [d.name for d in batch.dimensions[0]] == ["Host", "Service"]  # canonical order
    assert batch.dimensions[0] is batch.dimensions[1000 - 1000]


def test_rows_come_before_columns_in_error_paths():
    from services.ingest.domain import RawDatum

    row = RawDatum("Ok", (), None, 1.0, None, (), (), None, None)
    cols = DatumColumns(metric_names=["Bad"], values=[math.nan])
    with pytest.raises(errors.InvalidParameterValue) as exc:
        validate_request("App", [row, row], cols, NOW)
    assert "MetricData.member.3.Value" in exc.value.message


@pytest.mark.parametrize(("cols", "fragment"), [
    (DatumColumns(metric_names=["a", "b"], values=[1.0]), "metric_columns.values has 1 entries for 2"),
    (DatumColumns(metric_names=["a"], values=[1.0], dimension_counts=[2], dimension_names=["x"],
                  dimension_values=["y"]), "metric_columns.dimension_names has 1 entries"),
])
def test_ragged_columns_are_refused(cols, fragment):
    with pytest.raises(errors.InvalidParameterValue) as exc:
        validate_request("App", [], cols, NOW)
    assert fragment in exc.value.message


def test_a_value_form_without_values_is_no_value():
    with pytest.raises(errors.InvalidParameterCombination) as exc:
        validate_request("App", [], DatumColumns(metric_names=["a"]), NOW)
    assert "MetricData.member.1.Value" in exc.value.message
