"""The MetricWidget JSON of GetMetricWidgetImage: defaults, repeats, options, times, and each refusal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from gateway.widgets import auto_period, parse_time, parse_widget
from stackwatch import errors

NOW = datetime(2026, 12, 3, 18, 7, 30, tzinfo=UTC)


def parse(**doc: object):
    return parse_widget(json.dumps(doc), NOW)


def problems(text: str) -> list[dict[str, str]]:
    with pytest.raises(errors.InvalidParameterInput) as e:
        parse_widget(text, NOW)
    assert e.value.status == 400 and e.value.sender_fault
    head, _, listed = e.value.message.partition(":\n")
    found = json.loads(listed)
    assert head == f"The metric widget is invalid, there are {len(found)} validation errors"
    return found


def test_defaults_are_cloudwatchs():
    w = parse(metrics=[["NS", "CPU"]])
    assert (w.width, w.height, w.view, w.stacked, w.legend, w.title) == (600, 400, "timeSeries", False, "bottom", "")
    assert (w.start, w.end) == (NOW - timedelta(hours=3), NOW)
    (row,) = w.rows
    assert (row.id, row.namespace, row.metric_name, row.dimensions) == ("m1", "NS", "CPU", ())
    assert (row.stat, row.period, row.y_axis, row.visible, row.label, row.color) == (
        "Average", 300, "left", True, None, None)


def test_dot_repeats_the_item_above_and_ellipsis_the_leading_items():
    w = parse(metrics=[["NS", "CPU", "Host", "a", "Zone", "z1"],
                       [".", ".", ".", "b", ".", "."],
                       ["...", "z2"],
                       [".", "Memory", "Host", "c"]])
    assert [(r.namespace, r.metric_name, r.dimensions) for r in w.rows] == [
        ("NS", "CPU", (("Host", "a"), ("Zone", "z1"))),
        ("NS", "CPU", (("Host", "b"), ("Zone", "z1"))),
        ("NS", "CPU", (("Host", "b"), ("Zone", "z2"))),
        ("NS", "Memory", (("Host", "c"),)),
    ]
    assert [r.id for r in w.rows] == ["m1", "m2", "m3", "m4"]


def test_row_options_override_the_widget():
    w = parse(stat="Sum", period=60, metrics=[
        ["NS", "CPU", {"label": "cpu", "color": "#FF7F0E", "stat": "p99", "period": 3600, "yAxis": "right",
                       "visible": False, "id": "cpu", "region": "us-east-1", "accountId": "1"}],
        ["NS", "Mem"],
        [{"expression": "cpu * 2", "label": "twice"}],
        [{"expression": "m2 + 1", "id": "plus"}]])
    cpu, mem, twice, plus = w.rows
    assert (cpu.id, cpu.label, cpu.color, cpu.stat, cpu.period, cpu.y_axis, cpu.visible) == (
        "cpu", "cpu", "#ff7f0e", "p99", 3600, "right", False)
    assert (mem.stat, mem.period) == ("Sum", 60)
    assert (twice.id, twice.expression, twice.label, twice.namespace) == ("e3", "cpu * 2", "twice", "")
    assert (plus.id, plus.expression) == ("plus", "m2 + 1")


def test_everything_else_a_widget_may_say():
    w = parse(metrics=[["NS", "CPU"]], width=1, height=2000, title="t", view="bar", stacked=True,
              setPeriodToTimeRange=True, liveData=True, region="r", timezone="-0130",
              start="2026-12-01T00:00:00Z", end="2026-12-02T00:00:00.000Z",
              yAxis={"left": {"min": 0, "max": 100, "label": "%", "showUnits": False}, "right": {"min": -5}},
              legend={"position": "right"},
              annotations={"horizontal": [{"value": 80, "label": "high", "color": "#d62728", "fill": "above"},
                                          [{"value": 10, "label": "band"}, {"value": 20}],
                                          {"value": 5, "visible": False}],
                           "vertical": [{"value": "-PT1H", "label": "deploy", "fill": "after"},
                                        [{"value": "2026-12-01T06:00:00Z"}, {"value": "2026-12-01T07:00:00Z"}]]})
    assert (w.width, w.height, w.title, w.view, w.stacked, w.whole_range, w.legend) == (
        1, 2000, "t", "bar", True, True, "right")
    assert w.utc_offset == -timedelta(hours=1, minutes=30)
    assert (w.start, w.end) == (datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC))
    assert (w.left.min, w.left.max, w.left.label, w.right.min, w.right.max) == (0, 100, "%", -5, None)
    assert [(h.value, h.label, h.color, h.fill, h.end) for h in w.horizontal] == [
        (80, "high", "#d62728", "above", None), (10, "band", None, None, 20)]
    assert [(v.value, v.label, v.fill, v.end) for v in w.vertical] == [
        (NOW - timedelta(hours=1), "deploy", "after", None),
        (datetime(2026, 12, 1, 6, tzinfo=UTC), "", None, datetime(2026, 12, 1, 7, tzinfo=UTC))]


@pytest.mark.parametrize(("text", "expected"), [
    ("-PT3H", NOW - timedelta(hours=3)),
    ("-PT15M", NOW - timedelta(minutes=15)),
    ("-P7D", NOW - timedelta(days=7)),
    ("-P1W", NOW - timedelta(days=7)),
    ("-P1DT12H", NOW - timedelta(days=1, hours=12)),
    ("-PT0H", NOW),
    ("2018-04-25T12:00:00.000Z", datetime(2018, 4, 25, 12, tzinfo=UTC)),
    ("2018-04-25T12:00:00", datetime(2018, 4, 25, 12, tzinfo=UTC)),
    ("2018-04-25T14:00:00+02:00", datetime(2018, 4, 25, 12, tzinfo=UTC)),
    ("-P", None), ("yesterday", None), ("", None),
], ids=lambda v: str(v))
def test_times_relative_and_absolute(text, expected):
    assert parse_time(text, NOW) == expected


@pytest.mark.parametrize(("span", "age", "period"), [
    (timedelta(hours=3), timedelta(hours=3), 300),           # CloudWatch's documented default
    (timedelta(days=1), timedelta(days=1), 300),              # 288 points
    (timedelta(days=7), timedelta(days=7), 900),              # 2,016 at 300 s is too many
    (timedelta(days=455), timedelta(days=455), 86400),        # 15 months
    (timedelta(hours=3), timedelta(days=90), 3600),           # only hourly data is kept after 63 days
], ids=["3h", "1d", "7d", "15mo", "old"])
def test_automatic_period(span, age, period):
    start = NOW - age
    assert auto_period(start, start + span, NOW) == period
    assert parse(metrics=[["NS", "CPU"]], start=start.isoformat(), end=(start + span).isoformat()).rows[0].period == period


@pytest.mark.parametrize(("doc", "path", "message"), [
    ({}, "", "Should have required property 'metrics'"),
    ({"metrics": []}, "/metrics", "Should NOT have fewer than 1 items"),
    ({"metrics": [["NS", "M"]] * 101}, "/metrics", "Should NOT have more than 100 items"),
    ({"metrics": {"a": 1}}, "/metrics", "Should be array"),
    ({"metrics": [["NS"]]}, "/metrics/0", "A metric row should name a namespace and a metric name"),
    ({"metrics": [["NS", "M", "Host"]]}, "/metrics/0", "Dimensions should come in name and value pairs"),
    ({"metrics": [["NS", 5]]}, "/metrics/0/1", "Should be a non-empty string"),
    ({"metrics": [[".", "M"]]}, "/metrics/0/0", "'.' needs a value at the same place in the previous metric row"),
    ({"metrics": [["...", "M"]]}, "/metrics/0/0", "'...' needs a previous metric row to repeat"),
    ({"metrics": [[{"label": "x"}]]}, "/metrics/0",
     "Should have a namespace and metric name, or an object with 'expression'"),
    ({"metrics": [["NS", "M", {"color": "red"}]]}, "/metrics/0/2/color", "Should match pattern \"^#([0-9a-fA-F]{6})$\""),
    ({"metrics": [["NS", "M", {"period": 45}]]}, "/metrics/0/2/period", "Should be 1, 5, 10, 20, 30 or a multiple of 60"),
    ({"metrics": [["NS", "M", {"yAxis": "top"}]]}, "/metrics/0/2/yAxis",
     "Should be equal to one of the allowed values: left, right"),
    ({"metrics": [["NS", "M", {"id": "Bad"}]]}, "/metrics/0/2/id",
     "Should start with a lowercase letter and hold only letters, digits and _"),
    ({"metrics": [["NS", "M", {"visible": "no"}]]}, "/metrics/0/2/visible", "Should be boolean"),
    ({"metrics": [["NS", "M"]], "width": 0}, "/width", "Should be >= 1 and <= 2000"),
    ({"metrics": [["NS", "M"]], "height": 2001}, "/height", "Should be >= 1 and <= 2000"),
    ({"metrics": [["NS", "M"]], "width": "600"}, "/width", "Should be integer"),
    ({"metrics": [["NS", "M"]], "view": "donut"}, "/view",
     "Should be equal to one of the allowed values: timeSeries, singleValue, bar, pie"),
    ({"metrics": [["NS", "M"]], "stacked": "yes"}, "/stacked", "Should be boolean"),
    ({"metrics": [["NS", "M"]], "period": 0}, "/period", "Should be integer >= 1"),
    ({"metrics": [["NS", "M"]], "start": "soon"}, "/start",
     "Should be an ISO 8601 date-time or a relative duration such as -PT3H"),
    ({"metrics": [["NS", "M"]], "start": "-PT1H", "end": "-PT2H"}, "/start", "Should be before end"),
    ({"metrics": [["NS", "M"]], "legend": {"position": "top"}}, "/legend/position",
     "Should be equal to one of the allowed values: bottom, right, hidden"),
    ({"metrics": [["NS", "M"]], "timezone": "CET"}, "/timezone",
     "Should match pattern \"^[+-][0-9]{4}$\" (for example +0130)"),
    ({"metrics": [["NS", "M"]], "yAxis": {"left": {"min": 5, "max": 1}}}, "/yAxis/left/min", "Should be less than max"),
    ({"metrics": [["NS", "M"]], "yAxis": {"left": {"min": "0"}}}, "/yAxis/left/min", "Should be number"),
    ({"metrics": [["NS", "M"]], "annotations": {"horizontal": [{"label": "x"}]}}, "/annotations/horizontal/0",
     "Should have required property 'value'"),
    ({"metrics": [["NS", "M"]], "annotations": {"horizontal": [{"value": 1, "fill": "left"}]}},
     "/annotations/horizontal/0/fill", "Should be equal to one of the allowed values: above, below"),
    ({"metrics": [["NS", "M"]], "annotations": {"vertical": [{"value": "noon"}]}}, "/annotations/vertical/0/value",
     "Should be an ISO 8601 date-time or a relative duration such as -PT3H"),
], ids=lambda v: v if isinstance(v, str) and v.startswith("/") else None)
def test_each_rule_is_reported_with_its_data_path(doc, path, message):
    assert problems(json.dumps(doc)) == [{"dataPath": path, "message": message}]


def test_every_problem_is_reported_at_once():
    found = problems(json.dumps({"metrics": [["NS", "M", {"color": "blue"}]], "width": 0, "view": "donut"}))
    assert {f["dataPath"] for f in found} == {"/width", "/view", "/metrics/0/2/color"}


@pytest.mark.parametrize("text", ["{", "not json", "[1, 2]", "42", "null", '"metrics"', "[" * 100_000])
def test_text_that_is_not_a_json_object(text):
    (found,) = problems(text)
    assert found["dataPath"] == "" and found["message"].startswith("Should be")


@pytest.mark.parametrize(("start", "end", "period"), [
    ("-PT3H", "-PT0H", 3 * 3600 + 60 + 60),        # 18:07:30 back 3 h, from 15:07: 3 h 0.5 min, up to whole minutes
    ("-PT1H", "-PT30M", 1800 + 60 + 60),
    ("-P30D", "-P20D", 10 * 86400 + 2 * 3600),     # past 15 days: whole hours
], ids=["3h", "30min", "old"])
def test_set_period_to_time_range_asks_for_one_bucket(start, end, period):
    from gateway.apis.widgets import data_request

    w = parse(metrics=[["NS", "CPU"]], view="bar", setPeriodToTimeRange=True, start=start, end=end)
    assert w.range_period == period
    (query,) = data_request(w).metric_data_queries
    assert query.metric_stat.period == period
    seconds = (w.end - w.start.replace(second=0)).total_seconds()
    assert seconds < query.metric_stat.period  # one bucket covers it all
