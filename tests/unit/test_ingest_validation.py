# ruff: noqa: D103 - test names and ids say what each case checks
"""PutMetricData / GetMetricStatistics / ListMetrics input rules: exact AWS codes, messages, paths.

Each rejection table row is one request that must fail with one error class (which fixes the AWS
code and HTTP status) and one message, word for word. Each acceptance row sits on the allowed side
of a boundary the rejection table crosses. The reduction table checks what a valid datum becomes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from services.ingest.domain import RawDatum, validate_list_filters, validate_metric_identity, validate_put
from services.ingest.domain._identity import validate_list_request
from stackwatch import errors
from stackwatch.domain.metrics import Datum, Dimension, StatisticSet

NOW = 1_717_243_200.0  # 2024-06-01T12:00:00Z
DAY = 86400.0
ABOVE_LIMIT = math.nextafter(2.0**360, math.inf)
NAN, INF = math.nan, math.inf
UNITS = ("Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
         "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
         "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
         "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
         "Count/Second", "None")
UNIT_MESSAGE = ("The parameter MetricData.member.1.Unit must be a value in the set [ Seconds, Microseconds, "
                "Milliseconds, Bytes, Kilobytes, Megabytes, Gigabytes, Terabytes, Bits, Kilobits, Megabits, "
                "Gigabits, Terabits, Percent, Count, Bytes/Second, Kilobytes/Second, Megabytes/Second, "
                "Gigabytes/Second, Terabytes/Second, Bits/Second, Kilobits/Second, Megabits/Second, "
                "Gigabits/Second, Terabits/Second, Count/Second, None ].")
M1 = "MetricData.member.1"
BOTH = "are mutually exclusive and you have specified both."
CONTROL = "The value for parameter Namespace contains control characters."


def raw(**fields: Any) -> RawDatum:
    """A valid datum (one Value, no extras) with ``fields`` replaced."""
    base = RawDatum(metric_name="Latency", dimensions=(), timestamp=None, value=1.0, statistic_values=None,
                    values=(), counts=(), unit=None, storage_resolution=None)
    return base._replace(**fields)


def dims(n: int, name: str = "d", value: str = "v") -> tuple[tuple[str, str], ...]:
    return tuple((f"{name}{i}", value) for i in range(n))


def put(*raws: RawDatum, namespace: str = "App") -> list[Datum]:
    return validate_put(namespace, raws, NOW)


def error_of(call: Callable[[], object]) -> errors.ServiceError:
    with pytest.raises(errors.ServiceError) as info:
        call()
    return info.value


IPV, IPC, MISSING = errors.InvalidParameterValue, errors.InvalidParameterCombination, errors.MissingParameter


def case(id: str, raws: Sequence[RawDatum], error: type[errors.ServiceError], message: str,
         namespace: str = "App") -> Any:
    return pytest.param(namespace, list(raws), error, message, id=id)


PUT_REJECTED = [
    # --- namespace and request shape
    case("namespace-missing", [raw()], MISSING, "The parameter Namespace is required.", namespace=""),
    case("namespace-256-chars", [raw()], IPV, "The parameter Namespace must be shorter than 256 characters.",
         namespace="n" * 256),
    case("namespace-leading-colon", [raw()], IPV,
         "The value :App for parameter Namespace is not matching the expected pattern [^:].*.",
         namespace=":App"),
    case("namespace-bell-char", [raw()], IPV, CONTROL, namespace="A\x07pp"),
    case("namespace-newline", [raw()], IPV, CONTROL, namespace="App\n"),
    case("namespace-del-char", [raw()], IPV, CONTROL, namespace="A\x7fpp"),
    case("no-datums", [], MISSING, "The parameter MetricData is required."),
    case("1001-datums", [raw()] * 1001, IPV,
         "The collection MetricData must not have a size greater than 1000."),
    # --- metric name and dimensions
    case("metric-name-missing-on-member-2", [raw(), raw(metric_name="")], MISSING,
         "The parameter MetricData.member.2.MetricName is required."),
    case("metric-name-256-chars", [raw(metric_name="m" * 256)], IPV,
         f"The parameter {M1}.MetricName must be shorter than 256 characters."),
    case("31-dimensions", [raw(dimensions=dims(31))], IPV,
         f"The collection {M1}.Dimensions must not have a size greater than 30."),
    case("dimension-name-missing", [raw(dimensions=(("a", "1"), ("", "2")))], MISSING,
         f"The parameter {M1}.Dimensions.member.2.Name is required."),
    case("dimension-value-missing", [raw(dimensions=(("a", ""),))], MISSING,
         f"The parameter {M1}.Dimensions.member.1.Value is required."),
    case("dimension-name-256-chars", [raw(dimensions=(("n" * 256, "v"),))], IPV,
         f"The parameter {M1}.Dimensions.member.1.Name must be shorter than 256 characters."),
    case("dimension-value-1025-chars", [raw(dimensions=(("n", "v"), ("m", "v" * 1025)))], IPV,
         f"The parameter {M1}.Dimensions.member.2.Value must be shorter than 1025 characters."),
    case("dimension-name-twice", [raw(dimensions=(("Host", "a"), ("Az", "b"), ("Host", "c")))], IPV,
         "No metric may specify the same dimension name twice."),
    # --- one of Value / StatisticValues / Values (StatisticValues with Values is accepted)
    case("value-and-statistic-values", [raw(statistic_values=(1, 1, 1, 1))], IPC,
         f"The parameters {M1}.Value and {M1}.StatisticValues {BOTH}"),
    case("value-and-values", [raw(values=(1.0,))], IPC,
         f"The parameters {M1}.Value and {M1}.Values {BOTH}"),
    case("statistic-values-and-values-with-bad-counts",
         [raw(value=None, statistic_values=(2, 3, 1, 2), values=(1.0, 2.0), counts=(1.0,))], IPV,
         f"The parameter {M1}.Counts must have the same number of members as the parameter {M1}.Values "
         "(1 given, 2 expected)."),
    case("all-three", [raw(statistic_values=(1, 1, 1, 1), values=(1.0,))], IPC,
         f"The parameters {M1}.Value and {M1}.StatisticValues {BOTH}"),
    case("none-of-them", [raw(value=None)], IPC,
         f"At least one of the parameters {M1}.Value and {M1}.StatisticValues must be specified."),
    case("only-empty-values-and-counts", [raw(value=None, values=(), counts=(1.0,))], IPC,
         f"At least one of the parameters {M1}.Value and {M1}.StatisticValues must be specified."),
    # --- doubles: finite and within [-2**360, 2**360]
    case("value-nan", [raw(value=NAN)], IPV, f"The value NaN for parameter {M1}.Value is invalid."),
    case("value-infinity", [raw(value=INF)], IPV, f"The value Infinity for parameter {M1}.Value is invalid."),
    case("value-minus-infinity", [raw(value=-INF)], IPV,
         f"The value -Infinity for parameter {M1}.Value is invalid."),
    case("value-just-above-2**360", [raw(value=ABOVE_LIMIT)], IPV,
         f"The value 2.348542582773834E108 for parameter {M1}.Value is invalid."),
    case("value-just-below--2**360", [raw(value=-ABOVE_LIMIT)], IPV,
         f"The value -2.348542582773834E108 for parameter {M1}.Value is invalid."),
    case("value-nan-on-member-3", [raw(), raw(), raw(value=NAN)], IPV,
         "The value NaN for parameter MetricData.member.3.Value is invalid."),
    case("values-member-nan", [raw(value=None, values=(1.0, 2.0, NAN))], IPV,
         f"The value NaN for parameter {M1}.Values.member.3 is invalid."),
    case("values-member-too-large", [raw(value=None, values=(1e109,))], IPV,
         f"The value 1.0E109 for parameter {M1}.Values.member.1 is invalid."),
    case("counts-member-infinity", [raw(value=None, values=(1.0, 2.0), counts=(1.0, INF))], IPV,
         f"The value Infinity for parameter {M1}.Counts.member.2 is invalid."),
    case("sample-count-nan", [raw(value=None, statistic_values=(NAN, 1, 1, 1))], IPV,
         f"The value NaN for parameter {M1}.StatisticValues.SampleCount is invalid."),
    case("sum-infinity", [raw(value=None, statistic_values=(1, INF, 1, 1))], IPV,
         f"The value Infinity for parameter {M1}.StatisticValues.Sum is invalid."),
    case("minimum-too-small", [raw(value=None, statistic_values=(1, 1, -ABOVE_LIMIT, 1))], IPV,
         f"The value -2.348542582773834E108 for parameter {M1}.StatisticValues.Minimum is invalid."),
    case("maximum-nan", [raw(value=None, statistic_values=(1, 1, 1, NAN))], IPV,
         f"The value NaN for parameter {M1}.StatisticValues.Maximum is invalid."),
    # --- Values and Counts
    case("151-values", [raw(value=None, values=tuple(float(i) for i in range(151)))], IPV,
         f"The collection {M1}.Values must not have a size greater than 150."),
    case("counts-shorter-than-values", [raw(value=None, values=(1.0, 2.0), counts=(1.0,))], IPV,
         f"The parameter {M1}.Counts must have the same number of members as the parameter {M1}.Values "
         "(1 given, 2 expected)."),
    case("counts-longer-than-values", [raw(value=None, values=(1.0,), counts=(1.0, 1.0))], IPV,
         f"The parameter {M1}.Counts must have the same number of members as the parameter {M1}.Values "
         "(2 given, 1 expected)."),
    case("counts-with-value", [raw(counts=(3.0,))], IPV,
         f"The parameter {M1}.Counts must have the same number of members as the parameter {M1}.Values "
         "(1 given, 0 expected)."),
    case("negative-count", [raw(value=None, values=(1.0, 2.0), counts=(1.0, -1.0))], IPV,
         f"The value -1.0 for parameter {M1}.Counts.member.2 is invalid. Counts must not be negative."),
    # --- StatisticValues
    case("sample-count-zero", [raw(value=None, statistic_values=(0, 0, 0, 0))], IPV,
         f"The value 0.0 for parameter {M1}.StatisticValues.SampleCount is invalid. "
         "SampleCount must be greater than 0."),
    case("sample-count-negative", [raw(value=None, statistic_values=(-2.5, 1, 1, 1))], IPV,
         f"The value -2.5 for parameter {M1}.StatisticValues.SampleCount is invalid. "
         "SampleCount must be greater than 0."),
    case("minimum-above-maximum", [raw(value=None, statistic_values=(2, 5, 3, 2))], IPV,
         f"The parameter {M1}.StatisticValues.Minimum must not be greater than the parameter "
         f"{M1}.StatisticValues.Maximum."),
    # --- Unit and StorageResolution
    case("unit-unknown", [raw(unit="Parsecs")], IPV, UNIT_MESSAGE),
    case("unit-wrong-case", [raw(unit="seconds")], IPV, UNIT_MESSAGE),
    case("unit-empty", [raw(unit="")], IPV, UNIT_MESSAGE),
    case("storage-resolution-5", [raw(storage_resolution=5)], IPV,
         f"The parameter {M1}.StorageResolution must be a value in the set [ 1, 60 ]."),
    case("storage-resolution-0", [raw(storage_resolution=0)], IPV,
         f"The parameter {M1}.StorageResolution must be a value in the set [ 1, 60 ]."),
    case("storage-resolution-300", [raw(storage_resolution=300)], IPV,
         f"The parameter {M1}.StorageResolution must be a value in the set [ 1, 60 ]."),
    # --- Timestamp window: [now - 14 days, now + 2 hours]
    case("timestamp-14-days-and-1s-old", [raw(timestamp=NOW - 14 * DAY - 1)], IPV,
         f"The parameter {M1}.Timestamp must specify a time within the past two weeks."),
    case("timestamp-a-year-old", [raw(timestamp=NOW - 365 * DAY)], IPV,
         f"The parameter {M1}.Timestamp must specify a time within the past two weeks."),
    case("timestamp-2h-and-1s-ahead", [raw(timestamp=NOW + 7201)], IPV,
         f"The parameter {M1}.Timestamp must specify a time no more than two hours in the future."),
    case("timestamp-nan", [raw(timestamp=NAN)], IPV,
         f"The value NaN for parameter {M1}.Timestamp is invalid."),
    # --- the first invalid datum decides
    case("first-bad-datum-wins", [raw(), raw(value=NAN), raw(metric_name="")], IPV,
         "The value NaN for parameter MetricData.member.2.Value is invalid."),
]


@pytest.mark.parametrize(("namespace", "raws", "error", "message"), PUT_REJECTED)
def test_put_rejects(namespace: str, raws: list[RawDatum], error: type[errors.ServiceError],
                     message: str) -> None:
    got = error_of(lambda: validate_put(namespace, raws, NOW))

    assert type(got) is error
    assert (got.code, got.status, got.sender_fault) == (error.code, 400, True)
    assert got.message == message


def test_error_classes_carry_the_aws_codes() -> None:
    assert (IPV.code, IPC.code, MISSING.code) == (
        "InvalidParameterValue", "InvalidParameterCombination", "MissingParameter")


PUT_ACCEPTED = [
    pytest.param("n" * 255, [raw()], id="namespace-255-chars"),
    pytest.param("Company/App:Prod #1", [raw()], id="namespace-with-slash-colon-space"),
    pytest.param("App", [raw()] * 1000, id="1000-datums"),
    pytest.param("App", [raw(metric_name="m" * 255)], id="metric-name-255-chars"),
    pytest.param("App", [raw(dimensions=dims(30))], id="30-dimensions"),
    pytest.param("App", [raw(dimensions=(("n" * 255, "v" * 1024),))], id="dimension-name-255-value-1024"),
    pytest.param("App", [raw(dimensions=(("Host", "a"), ("host", "a")))], id="names-differ-in-case"),
    pytest.param("App", [raw(value=None, values=tuple(float(i) for i in range(150)))], id="150-values"),
    pytest.param("App", [raw(value=2.0**360), raw(value=-(2.0**360))], id="value-exactly-2**360"),
    pytest.param("App", [raw(value=None, statistic_values=(2.0**360, 2.0**360, -(2.0**360), 2.0**360))],
                 id="statistic-values-at-the-limit"),
    pytest.param("App", [raw(value=None, values=(1.0,), counts=(2.0**360,))], id="count-exactly-2**360"),
    pytest.param("App", [raw(value=0.0), raw(value=-0.0), raw(value=5e-324)], id="zero-and-subnormal-values"),
    pytest.param("App", [raw(timestamp=NOW - 14 * DAY)], id="timestamp-exactly-14-days-old"),
    pytest.param("App", [raw(timestamp=NOW + 7200)], id="timestamp-exactly-2h-ahead"),
    pytest.param("App", [raw(storage_resolution=1), raw(storage_resolution=60)], id="resolution-1-and-60"),
    pytest.param("App", [raw(unit=u) for u in UNITS], id="every-standard-unit"),
    pytest.param("App", [raw(value=None, statistic_values=(3, 6, 2, 2))], id="statistic-set-min-equals-max"),
]


@pytest.mark.parametrize(("namespace", "raws"), PUT_ACCEPTED)
def test_put_accepts_boundaries(namespace: str, raws: list[RawDatum]) -> None:
    out = validate_put(namespace, raws, NOW)

    assert len(out) == len(raws)
    assert all(d.namespace == namespace for d in out)


def datum(stats: tuple[float, float, float, float], values: tuple[float, ...], counts: tuple[float, ...],
          **fields: Any) -> Datum:
    """The expected reduction of a default datum (namespace App, metric Latency, received at NOW)."""
    base: dict[str, Any] = {"namespace": "App", "metric_name": "Latency", "dimensions": (), "timestamp": NOW,
                            "unit": "None", "storage_resolution": 60}
    return Datum(stats=StatisticSet(*stats), values=values, counts=counts, **{**base, **fields})


REDUCTIONS = [
    pytest.param(raw(value=42.5), datum((1, 42.5, 42.5, 42.5), (42.5,), (1.0,)), id="value-is-one-sample"),
    pytest.param(raw(value=None, values=(3.0, 1.0, 2.0)),
                 datum((3, 6.0, 1.0, 3.0), (3.0, 1.0, 2.0), (1.0, 1.0, 1.0)), id="values-default-count-1"),
    pytest.param(raw(value=None, values=(10.0, 20.0), counts=(3.0, 1.0)),
                 datum((4, 50.0, 10.0, 20.0), (10.0, 20.0), (3.0, 1.0)), id="values-weighted-by-counts"),
    pytest.param(raw(value=None, values=(10.0, 99.0, 20.0), counts=(1.0, 0.0, 2.0)),
                 datum((3, 50.0, 10.0, 20.0), (10.0, 20.0), (1.0, 2.0)), id="zero-count-value-did-not-occur"),
    pytest.param(raw(value=None, values=(0.5,), counts=(2.5,)), datum((2.5, 1.25, 0.5, 0.5), (0.5,), (2.5,)),
                 id="fractional-count"),
    pytest.param(raw(value=None, statistic_values=(10, 100, 2, 30)), datum((10, 100, 2, 30), (), ()),
                 id="statistic-set-has-no-values"),
    pytest.param(raw(value=None, statistic_values=(1, 7.5, 7.5, 7.5)),
                 datum((1, 7.5, 7.5, 7.5), (7.5,), (1,)), id="degenerate-set-single-sample"),
    pytest.param(raw(value=None, statistic_values=(4, 8, 2, 2)), datum((4, 8, 2, 2), (2,), (4,)),
                 id="degenerate-set-min-equals-max"),
    pytest.param(raw(value=None, statistic_values=(3, 0.30000000000000004, 0.1, 0.1)),
                 datum((3, 0.30000000000000004, 0.1, 0.1), (0.1,), (3,)), id="degenerate-set-float-sum"),
    pytest.param(raw(value=None, statistic_values=(3, 7, 2, 2)), datum((3, 7, 2, 2), (), ()),
                 id="min-equals-max-but-sum-disagrees"),
    pytest.param(raw(value=None, statistic_values=(1, 5, 5, 6)), datum((1, 5, 5, 6), (), ()),
                 id="single-sample-but-min-below-max"),
    pytest.param(raw(value=None, statistic_values=(4, 10.5, 1.5, 4.0), values=(1.0, 4.0), counts=(3.0, 1.0)),
                 datum((4, 10.5, 1.5, 4.0), (1.0, 4.0), (3.0, 1.0)),
                 id="statistic-set-with-values-keeps-both-as-sent"),
    pytest.param(raw(value=None, statistic_values=(2, 3, 1, 2), values=(5.0,), counts=(0.0,)),
                 datum((2, 3, 1, 2), (), ()), id="statistic-set-with-values-that-did-not-occur"),
    pytest.param(raw(timestamp=NOW - 3600.25), datum((1, 1, 1, 1), (1.0,), (1.0,), timestamp=NOW - 3600.25),
                 id="timestamp-kept-with-fraction"),
    pytest.param(raw(unit="Bytes/Second", storage_resolution=1),
                 datum((1, 1, 1, 1), (1.0,), (1.0,), unit="Bytes/Second", storage_resolution=1),
                 id="unit-and-resolution-kept"),
    pytest.param(raw(dimensions=(("Zone", "b"), ("Host", "a"))),
                 datum((1, 1, 1, 1), (1.0,), (1.0,),
                       dimensions=(Dimension("Host", "a"), Dimension("Zone", "b"))),
                 id="dimensions-sorted-by-name"),
]


@pytest.mark.parametrize(("given", "expected"), REDUCTIONS)
def test_each_datum_reduces_to(given: RawDatum, expected: Datum) -> None:
    [got] = put(given)

    assert got == expected
    assert isinstance(got.values, tuple) and isinstance(got.counts, tuple)


def test_datum_whose_counts_are_all_zero_is_dropped_not_rejected() -> None:
    out = put(raw(metric_name="a"), raw(metric_name="b", value=None, values=(1.0, 2.0), counts=(0.0, 0.0)),
              raw(metric_name="c"))

    assert [d.metric_name for d in out] == ["a", "c"]


def test_data_keep_request_order() -> None:
    out = put(*(raw(metric_name=f"m{i}", value=float(i)) for i in range(5)))

    assert [(d.metric_name, d.stats.sum) for d in out] == [(f"m{i}", float(i)) for i in range(5)]


D = "Dimensions.member"
IDENTITY_REJECTED = [
    pytest.param("", "M", (), MISSING, "The parameter Namespace is required.", id="namespace-missing"),
    pytest.param(":x", "M", (), IPV,
                 "The value :x for parameter Namespace is not matching the expected pattern [^:].*.",
                 id="namespace-leading-colon"),
    pytest.param("A\tB", "M", (), IPV, CONTROL, id="namespace-tab"),
    pytest.param("A", "", (), MISSING, "The parameter MetricName is required.", id="metric-name-missing"),
    pytest.param("A", "m" * 256, (), IPV, "The parameter MetricName must be shorter than 256 characters.",
                 id="metric-name-256"),
    pytest.param("A", "M", dims(31), IPV, "The collection Dimensions must not have a size greater than 30.",
                 id="31-dimensions"),
    pytest.param("A", "M", (("a", "1"), ("", "2")), MISSING, f"The parameter {D}.2.Name is required.",
                 id="dimension-name-missing"),
    pytest.param("A", "M", (("a", ""),), MISSING, f"The parameter {D}.1.Value is required.",
                 id="dimension-value-missing"),
    pytest.param("A", "M", (("a", "v" * 1025),), IPV,
                 f"The parameter {D}.1.Value must be shorter than 1025 characters.", id="value-1025"),
    pytest.param("A", "M", (("a", "1"), ("a", "2")), IPV,
                 "No metric may specify the same dimension name twice.", id="dimension-name-twice"),
]


@pytest.mark.parametrize(("namespace", "name", "dimensions", "error", "message"), IDENTITY_REJECTED)
def test_metric_identity_rejects(namespace: str, name: str, dimensions: tuple[tuple[str, str], ...],
                                 error: type[errors.ServiceError], message: str) -> None:
    got = error_of(lambda: validate_metric_identity(namespace, name, dimensions))

    assert type(got) is error
    assert got.message == message


def test_metric_identity_is_canonical() -> None:
    got = validate_metric_identity("App", "Latency", [("Zone", "b"), ("Host", "a")])

    assert got == ("App", "Latency", (Dimension("Host", "a"), Dimension("Zone", "b")))


def test_metric_identity_accepts_30_dimensions() -> None:
    _, _, got = validate_metric_identity("App", "M", dims(30))

    assert len(got) == 30


FILTERS_REJECTED = [
    pytest.param([("d", None)] * 11, IPV, "The collection Dimensions must not have a size greater than 10.",
                 id="11-filters"),
    pytest.param([("a", None), ("", "x")], MISSING, f"The parameter {D}.2.Name is required.",
                 id="name-missing"),
    pytest.param([("n" * 256, None)], IPV, f"The parameter {D}.1.Name must be shorter than 256 characters.",
                 id="name-256"),
    pytest.param([("a", "v" * 1025)], IPV, f"The parameter {D}.1.Value must be shorter than 1025 characters.",
                 id="value-1025"),
    pytest.param([("a", "")], IPV, f"The parameter {D}.1.Value must be longer than 0 characters.",
                 id="value-present-but-empty"),
]


@pytest.mark.parametrize(("filters", "error", "message"), FILTERS_REJECTED)
def test_list_filters_reject(filters: list[tuple[str, str | None]], error: type[errors.ServiceError],
                             message: str) -> None:
    got = error_of(lambda: validate_list_filters(filters))

    assert type(got) is error
    assert got.message == message


def test_list_filters_pass_through_in_order() -> None:
    filters: list[tuple[str, str | None]] = [("Zone", None), ("Host", "a"), ("n" * 255, "v" * 1024)]

    assert validate_list_filters(filters) == filters
    assert validate_list_filters([("d", None)] * 10) == [("d", None)] * 10
    assert validate_list_filters([]) == []


RA_MESSAGE = "The parameter RecentlyActive must be a value in the set [ PT3H ]."
EMPTY, TOO_LONG = "must be longer than 0 characters.", "must be shorter than 256 characters."
LIST_REJECTED = [
    pytest.param(dict(namespace=""), IPV, f"The parameter Namespace {EMPTY}", id="namespace-empty"),
    pytest.param(dict(namespace="n" * 256), IPV, f"The parameter Namespace {TOO_LONG}", id="namespace-256"),
    pytest.param(dict(namespace=":x"), IPV,
                 "The value :x for parameter Namespace is not matching the expected pattern [^:].*.",
                 id="namespace-leading-colon"),
    pytest.param(dict(namespace="A\nB"), IPV, CONTROL, id="namespace-newline"),
    pytest.param(dict(metric_name=""), IPV, f"The parameter MetricName {EMPTY}", id="metric-name-empty"),
    pytest.param(dict(metric_name="m" * 256), IPV, f"The parameter MetricName {TOO_LONG}",
                 id="metric-name-256"),
    pytest.param(dict(recently_active=""), IPV, RA_MESSAGE, id="recently-active-present-but-empty"),
    pytest.param(dict(recently_active="PT1H"), IPV, RA_MESSAGE, id="recently-active-pt1h"),
    pytest.param(dict(recently_active="pt3h"), IPV, RA_MESSAGE, id="recently-active-case"),
    pytest.param(dict(filters=[("a", "")]), IPV, f"The parameter {D}.1.Value {EMPTY}",
                 id="filter-value-present-but-empty"),
    pytest.param(dict(namespace="", recently_active="PT1H"), IPV, f"The parameter Namespace {EMPTY}",
                 id="namespace-checked-first"),
]


def list_request(namespace: str | None = None, metric_name: str | None = None,
                 filters: Sequence[tuple[str, str | None]] = (),
                 recently_active: str | None = None) -> list[tuple[str, str | None]]:
    return validate_list_request(namespace, metric_name, filters, recently_active)


@pytest.mark.parametrize(("fields", "error", "message"), LIST_REJECTED)
def test_list_request_rejects(fields: dict[str, Any], error: type[errors.ServiceError], message: str) -> None:
    got = error_of(lambda: list_request(**fields))

    assert type(got) is error
    assert got.message == message


@pytest.mark.parametrize("fields", [
    pytest.param({}, id="nothing-given"),
    pytest.param(dict(namespace="A", metric_name="M"), id="namespace-and-name"),
    pytest.param(dict(namespace="n" * 255, metric_name="m" * 255), id="255-characters"),
    pytest.param(dict(namespace="AWS/EC2"), id="aws-namespace"),
    pytest.param(dict(recently_active="PT3H"), id="recently-active"),
])
def test_list_request_accepts(fields: dict[str, Any]) -> None:
    assert list_request(**fields, filters=[("Host", None)]) == [("Host", None)]
