# ruff: noqa: D103 - test names say what each test checks
"""PutDashboard's body check and name rules: each rule, table-driven, with the path it reports."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.alarm.domain.dashboard import (
    MAX_BODY_BYTES,
    BodyCheck,
    ValidationMessage,
    check_body,
    name_problem,
    prefix_problem,
)

ROW_SHAPE = ('Field "metrics" has to be an array of array of strings, with an optional metricRenderer object '
             "as last element")


def metric(**props: Any) -> dict[str, Any]:
    return {"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6,
            "properties": {"metrics": [["App", "Latency", "Service", "web"]], "region": "us-east-1", **props}}


def body(*widgets: Any, **top: Any) -> str:
    return json.dumps({"widgets": list(widgets), **top})


def errors_of(text: str) -> list[tuple[str, str]]:
    return [(m.data_path, m.message) for m in check_body(text).errors]


GOOD = {
    "no widgets": body(),
    "a metric widget": body(metric()),
    "dot repeats the previous row": body(metric(metrics=[["App", "Latency", "Service", "web"],
                                                         [".", ".", ".", "api"], [".", "Errors"]])),
    "three dots repeat the previous row but its last items": body(metric(metrics=[
        ["App", "Latency", "Service", "web"], ["...", "api"]])),
    "rendering options last": body(metric(metrics=[["App", "Latency", {"stat": "p99", "label": "slow"}]])),
    "a math row": body(metric(metrics=[["App", "A", {"id": "a"}], [{"expression": "a * 2", "id": "e1"}]])),
    "annotations instead of metrics": body({"type": "metric", "properties": {
        "annotations": {"alarms": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu"]}}}),
    "a text widget": body({"type": "text", "x": 0, "y": 7, "width": 24, "height": 2,
                           "properties": {"markdown": "# Web"}}),
    "an alarm widget": body({"type": "alarm", "properties": {"alarms": ["arn:aws:cloudwatch:::alarm:a"]}}),
    "the grid's corners": body({"type": "text", "x": 23, "y": 10_000, "width": 1, "height": 1000,
                                "properties": {"markdown": ""}}),
    "top-level options": body(metric(view="singleValue", stacked=True, period=300, stat="Sum", title="t"),
                              start="-PT6H", end="P0D", periodOverride="inherit"),
    "500 widgets": body(*[metric() for _ in range(500)]),
}


@pytest.mark.parametrize("text", GOOD.values(), ids=GOOD.keys())
def test_bodies_cloudwatch_accepts_have_no_errors(text: str) -> None:
    assert check_body(text) == BodyCheck((), ())


BAD = {
    "not JSON": ("{widgets: []}", [("", "The field DashboardBody must be a valid JSON object")]),
    "a JSON array": ("[]", [("", "The field DashboardBody must be a valid JSON object")]),
    "no widgets": ('{"start": "-PT3H"}', [("", "Should have required property 'widgets'")]),
    "widgets not an array": ('{"widgets": {}}', [("/widgets", "Should be array")]),
    "501 widgets": (body(*[{"type": "text", "properties": {"markdown": ""}}] * 501),
                    [("/widgets", "Should NOT have more than 500 items")]),
    "a widget not an object": (body(3), [("/widgets/0", "Should be object")]),
    "no type": (body({"properties": {}}), [("/widgets/0", "Should have required property 'type'")]),
    "unknown type": (body({"type": "graph", "properties": {}}),
                     [("/widgets/0/type", "Should be equal to one of the allowed values")]),
    "x past the grid": (body(metric() | {"x": 24}), [("/widgets/0/x", "Should be <= 23")]),
    "negative y": (body(metric() | {"y": -1}), [("/widgets/0/y", "Should be >= 0")]),
    "width 0": (body(metric() | {"width": 0}), [("/widgets/0/width", "Should be >= 1")]),
    "width 25": (body(metric() | {"width": 25}), [("/widgets/0/width", "Should be <= 24")]),
    "height 1001": (body(metric() | {"height": 1001}), [("/widgets/0/height", "Should be <= 1000")]),
    "fractional height": (body(metric() | {"height": 2.5}), [("/widgets/0/height", "Should be integer")]),
    "boolean x": (body(metric() | {"x": True}), [("/widgets/0/x", "Should be integer")]),
    "string width": (body(metric() | {"width": "6"}), [("/widgets/0/width", "Should be integer")]),
    "no properties": (body({"type": "metric"}), [("/widgets/0", "Should have required property 'properties'")]),
    "properties not an object": (body({"type": "metric", "properties": []}),
                                 [("/widgets/0/properties", "Should be object")]),
    "neither metrics nor annotations": (body({"type": "metric", "properties": {"view": "bar"}}), [
        ("/widgets/0/properties", "Should have required property 'metrics'"),
        ("/widgets/0/properties", "Should have required property 'annotations'")]),
    "metrics not an array": (body(metric(metrics="CPU")), [("/widgets/0/properties/metrics", "Should be array")]),
    "a row not an array": (body(metric(metrics=["App", "CPU"])), [
        ("/widgets/0/properties/metrics/0", "Should be array"), ("/widgets/0/properties/metrics/0", ROW_SHAPE),
        ("/widgets/0/properties/metrics/1", "Should be array"), ("/widgets/0/properties/metrics/1", ROW_SHAPE)]),
    "a number in a row": (body(metric(metrics=[["App", "CPU", "Port", 80]])),
                          [("/widgets/0/properties/metrics/0", ROW_SHAPE)]),
    "an object mid-row": (body(metric(metrics=[["App", {"stat": "Sum"}, "CPU"]])),
                          [("/widgets/0/properties/metrics/0", ROW_SHAPE)]),
    "a namespace alone": (body(metric(metrics=[["App"]])), [
        ("/widgets/0/properties/metrics/0", "A metric row should name a namespace and a metric name")]),
    "a dimension without value": (body(metric(metrics=[["App", "CPU", "Host"]])), [
        ("/widgets/0/properties/metrics/0", "Dimensions should come in name and value pairs")]),
    "a dot with nothing above": (body(metric(metrics=[[".", "CPU"]])), [
        ("/widgets/0/properties/metrics/0/0", "'.' needs a value at the same place in the previous metric row")]),
    "a dot past the previous row": (body(metric(metrics=[["App", "CPU"], [".", ".", ".", "x"]])), [
        ("/widgets/0/properties/metrics/1/2", "'.' needs a value at the same place in the previous metric row")]),
    "three dots with nothing above": (body(metric(metrics=[["...", "CPU"]])), [
        ("/widgets/0/properties/metrics/0/0", "'...' needs a previous metric row to repeat")]),
    "an options-only row without expression": (body(metric(metrics=[[{"label": "x"}]])), [
        ("/widgets/0/properties/metrics/0", "A row of only a rendering object should have the property 'expression'")]),
    "501 metrics in a widget": (body(metric(metrics=[["App", f"M{i}"] for i in range(501)])), [
        ("/widgets/0/properties/metrics", "Should NOT have more than 500 items")]),
    "2501 metrics in a dashboard": (body(*[metric(metrics=[["App", f"M{i}"] for i in range(500)])] * 5,
                                         metric(metrics=[["App", "one more"]])), [
        ("/widgets", "The dashboard has 2501 metrics; at most 2500 are allowed")]),
    "unknown view": (body(metric(view="radar")), [("/widgets/0/properties/view",
                                                   "Should be equal to one of the allowed values")]),
    "period 0": (body(metric(period=0)), [("/widgets/0/properties/period", "Should be >= 1")]),
    "stacked as text": (body(metric(stacked="yes")), [("/widgets/0/properties/stacked", "Should be boolean")]),
    "a text widget without markdown": (body({"type": "text", "properties": {}}),
                                       [("/widgets/0/properties", "Should have required property 'markdown'")]),
    "an alarm widget without alarms": (body({"type": "alarm", "properties": {}}),
                                       [("/widgets/0/properties", "Should have required property 'alarms'")]),
    "bad periodOverride": (body(periodOverride="never"),
                           [("/periodOverride", "Should be equal to one of the allowed values")]),
    "start not a string": (body(start=-3600), [("/start", "Should be string")]),
    "errors in two widgets": (body(metric() | {"x": 30}, {"type": "text", "properties": {}}), [
        ("/widgets/0/x", "Should be <= 23"), ("/widgets/1/properties", "Should have required property 'markdown'")]),
}


@pytest.mark.parametrize(("text", "expected"), BAD.values(), ids=BAD.keys())
def test_each_broken_rule_is_an_error_at_its_path(text: str, expected: list[tuple[str, str]]) -> None:
    assert errors_of(text) == expected


def test_a_body_over_a_mebibyte_is_refused_before_it_is_parsed() -> None:
    text = body({"type": "text", "properties": {"markdown": "x" * MAX_BODY_BYTES}})
    assert errors_of(text) == [("", f"The dashboard body must be at most {MAX_BODY_BYTES} bytes")]


@pytest.mark.parametrize("kind", ["log", "explorer", "custom"])
def test_widgets_stackwatch_has_no_data_for_are_kept_with_a_warning(kind: str) -> None:
    checked = check_body(body({"type": kind, "properties": {"query": "fields @message"}}))
    assert checked.errors == ()
    assert [m.data_path for m in checked.warnings] == ["/widgets/0/type"]
    assert kind in checked.warnings[0].message


def test_the_error_summary_counts_and_lists_the_messages() -> None:
    checked = BodyCheck((ValidationMessage("/widgets/0", "Should be object"),), ())
    summary = checked.summary()
    head, _, listed = summary.partition("\n")
    assert head == "The dashboard body is invalid, there are 1 validation errors:"
    assert json.loads(listed) == [{"dataPath": "/widgets/0", "message": "Should be object"}]


@pytest.mark.parametrize("name", ["a", "Web-Prod_2", "x" * 255, "0"])
def test_names_of_letters_digits_dash_and_underscore_are_good(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize(("name", "fragment"), [
    ("", "must not be empty"), ("x" * 256, "at most 255"), ("my dashboard", "contains invalid characters"),
    ("a.b", "contains invalid characters"), ("a/b", "contains invalid characters"), ("é", "invalid characters")])
def test_other_names_are_refused_with_the_reason(name: str, fragment: str) -> None:
    problem = name_problem(name)
    assert problem is not None and fragment in problem


def test_prefixes_may_have_periods_and_be_empty_but_not_spaces() -> None:
    assert prefix_problem("") is None and prefix_problem("web.prod-1_") is None
    assert prefix_problem("web prod") is not None and prefix_problem("x" * 256) is not None
