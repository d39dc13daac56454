"""Default labels, dynamic labels, and the labels evaluate() gives its results (SEARCH included)."""

from __future__ import annotations

import pytest

from stackwatch import errors
from stackwatch.domain.metricmath import (
    MetricRef,
    Query,
    SearchCall,
    Series,
    default_labels,
    evaluate,
    plan,
    render_label,
)

T0 = 1_717_977_600.0  # 2024-06-10 00:00:00 UTC
CPU_A = MetricRef("AWS/EC2", "CPUUtilization", (("InstanceId", "i-a"),), "Average", 300)
CPU_B = MetricRef("AWS/EC2", "CPUUtilization", (("InstanceId", "i-b"),), "Average", 300)
SEARCH_TEXT = "{AWS/EC2,InstanceId} MetricName=\"CPUUtilization\""


@pytest.mark.parametrize(("refs", "expected"), [
    ([CPU_A], ["CPUUtilization"]),
    ([CPU_A, CPU_B], ["CPUUtilization i-a", "CPUUtilization i-b"]),
    ([CPU_A, MetricRef("AWS/EC2", "NetworkIn", (("InstanceId", "i-a"),), "Sum", 300)],
     ["CPUUtilization", "NetworkIn"]),
    ([CPU_A, MetricRef("AWS/EC2", "CPUUtilization", (("InstanceId", "i-a"),), "Maximum", 300)],
     ["CPUUtilization Average", "CPUUtilization Maximum"]),
    ([MetricRef("N", "Latency", (("Api", "x"), ("Stage", "prod")), "p99", 60),
      MetricRef("N", "Latency", (("Api", "y"), ("Stage", "prod")), "p99", 60)],
     ["Latency x", "Latency y"]),
], ids=["alone", "two-instances", "different-names", "different-stats", "only-differing-dimensions"])
def test_default_labels_of_metrics(refs: list[MetricRef], expected: list[str]) -> None:
    queries = [Query(f"m{i}", None, r) for i, r in enumerate(refs)] + [Query("e1", "m0 * 2", None)]
    assert default_labels(queries) == {**{f"m{i}": label for i, label in enumerate(expected)}, "e1": "e1"}


SERIES = Series((T0, T0 + 300, T0 + 600), (4.0, 10.0, 1.0), "CPUUtilization i-a", CPU_A)


@pytest.mark.parametrize(("template", "expected"), [
    ("${LABEL}", "CPUUtilization i-a"),
    ("${PROP('Dim.InstanceId')}", "i-a"),
    ('${PROP("Dim.InstanceId")} cpu', "i-a cpu"),
    ("${PROP('Dim.Nope')}|", "|"),
    ("${PROP('MetricName')} ${PROP('Namespace')} ${PROP('Period')} ${PROP('Stat')}",
     "CPUUtilization AWS/EC2 300 Average"),
    ("avg ${AVG} min ${MIN} max ${MAX} sum ${SUM}", "avg 5 min 1 max 10 sum 15"),
    ("${FIRST} ${LAST} ${DATAPOINT_COUNT} ${FIRST_LAST_RANGE} ${MIN_MAX_RANGE}", "4 1 3 -3 9"),
    ("${FIRST_TIME} / ${LAST_TIME}", "2024-06-10 00:00:00 / 2024-06-10 00:10:00"),
    ("${MAX_TIME} ${MIN_TIME}", "2024-06-10 00:05:00 2024-06-10 00:10:00"),
    ("${FIRST_LAST_TIME_RANGE} ${MIN_MAX_TIME_RANGE}", "10m 5m"),
    ("${PROP('AccountId')} ${WHAT}", "${PROP('AccountId')} ${WHAT}"),
    ("no dynamic part", "no dynamic part"),
], ids=lambda v: v)
def test_render_label(template: str, expected: str) -> None:
    assert render_label(template, SERIES) == expected


def test_time_values_render_in_the_requested_timezone_and_relative_to_now() -> None:
    assert render_label("${FIRST_TIME}", SERIES, timezone="+0130") == "2024-06-10 01:30:00"
    assert render_label("${LAST_TIME}", SERIES, timezone="-0500") == "2024-06-09 19:10:00"
    assert render_label("${FIRST_TIME_RELATIVE}", SERIES, now=T0 + 3900) == "1h 5m"
    assert render_label("${LAST_TIME_RELATIVE}", SERIES) == "${LAST_TIME_RELATIVE}"  # no reference time


def test_statistics_of_an_empty_series_render_empty() -> None:
    assert render_label("[${AVG}${FIRST_TIME}]", Series((), (), "x", CPU_A)) == "[]"


@pytest.mark.parametrize("timezone", ["0130", "+130", "+01:30", "+0175", "UTC"])
def test_a_malformed_timezone_is_refused(timezone: str) -> None:
    with pytest.raises(errors.InvalidParameterValue) as caught:
        render_label("${FIRST_TIME}", SERIES, timezone=timezone)
    assert caught.value.message == f"The value {timezone} for parameter LabelOptions.Timezone is invalid."


def _search_run(label: str | None, hits: list[Series]) -> list[tuple[str, tuple[float, ...]]]:
    queries = [Query("e1", f"SEARCH('{SEARCH_TEXT}', 'Average', 300)", None, label=label)]
    p = plan(queries)
    results = evaluate(p, {}, {p.searches[0]: hits}, start=T0, end=T0 + 900, period=300)
    return [(r.label, r.values) for r in results]


HIT_B = Series((T0,), (2.0,), "", CPU_B)
HIT_A = Series((T0 + 300,), (1.0,), "", CPU_A)


@pytest.mark.parametrize(("label", "expected"), [
    (None, [("CPUUtilization i-a", (1.0,)), ("CPUUtilization i-b", (2.0,))]),
    ("${PROP('Dim.InstanceId')}", [("i-a", (1.0,)), ("i-b", (2.0,))]),
    ("${PROP('Dim.InstanceId')} peak ${MAX}", [("i-a peak 1", (1.0,)), ("i-b peak 2", (2.0,))]),
    ("CPU:", [("CPU: CPUUtilization i-a", (1.0,)), ("CPU: CPUUtilization i-b", (2.0,))]),
], ids=["default", "dimension", "dimension-and-max", "static-prefix"])
def test_search_results_are_ordered_by_metric_and_labelled_per_metric(
        label: str | None, expected: list[tuple[str, tuple[float, ...]]]) -> None:
    assert _search_run(label, [HIT_B, HIT_A]) == expected


def test_a_search_hit_keeps_the_label_the_shell_gave_it() -> None:
    named = Series(HIT_A.timestamps, HIT_A.values, "web-1", CPU_A)
    assert _search_run(None, [named]) == [("web-1", (1.0,))]


def test_a_search_without_hits_returns_no_result() -> None:
    assert _search_run(None, []) == []


def test_metric_label_template_sees_the_default_label_and_the_metric() -> None:
    queries = [Query("m1", None, CPU_A, label="${LABEL} on ${PROP('Dim.InstanceId')} avg ${AVG}"),
               Query("m2", None, CPU_B, return_data=False)]
    fetched = {"m1": Series((T0,), (3.0,), "ignored"), "m2": Series((), (), "")}
    (result,) = evaluate(plan(queries), fetched, {}, start=T0, end=T0 + 300, period=300)
    assert result.label == "CPUUtilization i-a on i-a avg 3"


@pytest.mark.parametrize(("expression", "label", "expected"), [
    ("m1 + m2", None, "e1"),                 # no single source: the Id
    ("m1 * 2", None, "CPUUtilization i-a"),  # one series mapped to one keeps its label
    ("FIRST(SORT(METRICS(), MAX, DESC))", None, "CPUUtilization i-b"),
    ("m1 + m2", "Total", "Total"),
    ("m1 + m2", "Total ${MAX}", "Total 5"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_labels_of_single_series_expressions(expression: str, label: str | None, expected: str) -> None:
    queries = [Query("m1", None, CPU_A, return_data=False), Query("m2", None, CPU_B, return_data=False),
               Query("e1", expression, None, label=label)]
    fetched = {"m1": Series((T0,), (1.0,), ""), "m2": Series((T0,), (4.0,), "")}
    (result,) = evaluate(plan(queries), fetched, {}, start=T0, end=T0 + 300, period=300)
    assert result.label == expected


def test_an_expression_reads_the_labels_of_the_queries_it_names() -> None:
    queries = [Query("m1", None, CPU_A, label="web", return_data=False),
               Query("e1", "METRICS()", None, label="", return_data=False),
               Query("e2", "SORT(e1, SUM, DESC)", None)]
    (result,) = evaluate(plan(queries), {"m1": Series((T0,), (1.0,), "")}, {}, start=T0, end=T0 + 300, period=300)
    assert result.label == "web"


def test_a_search_call_the_shell_did_not_resolve_gives_no_series() -> None:
    p = plan([Query("e1", f"SEARCH('{SEARCH_TEXT}', 'Average', 300)", None)])
    assert evaluate(p, {}, {SearchCall("other", "Average", 300): [HIT_A]}, start=T0, end=T0 + 300, period=300) == []


def test_evaluate_renders_times_in_the_label_timezone_and_relative_to_now() -> None:
    queries = [Query("m1", None, CPU_A, label="${LAST_TIME} (${LAST_TIME_RELATIVE} ago)")]
    fetched = {"m1": Series((T0, T0 + 300), (1.0, 2.0), "")}
    p = plan(queries)
    (at_end,) = evaluate(p, fetched, {}, start=T0, end=T0 + 900, period=300, timezone="+0130")
    (at_now,) = evaluate(p, fetched, {}, start=T0, end=T0 + 900, period=300, now=T0 + 7500)
    assert at_end.label == "2024-06-10 01:35:00 (10m ago)"
    assert at_now.label == "2024-06-10 00:05:00 (2h ago)"


def test_evaluate_refuses_a_malformed_timezone() -> None:
    with pytest.raises(errors.InvalidParameterValue):
        evaluate(plan([Query("m1", None, CPU_A)]), {}, {}, start=T0, end=T0 + 300, period=300, timezone="UTC")


def test_an_empty_label_on_a_metric_falls_back_to_the_default_label() -> None:
    (result,) = evaluate(plan([Query("m1", None, CPU_A, label="")]), {}, {}, start=T0, end=T0 + 300, period=300)
    assert result.label == "CPUUtilization"
