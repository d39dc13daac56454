# ruff: noqa: D103 - test names and ids say what each case checks
"""Metrics Insights grammar: the user guide's queries, quoting, WHERE algebra, limits, errors, labels."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ingest.domain import (
    Comparison,
    Conjunction,
    Disjunction,
    Function,
    InsightsQuery,
    Negation,
    group_of,
    holds,
    insights_window,
    like_matches,
    parse_insights,
    selects,
    series_label,
)
from stackwatch import errors

ALB = 'SELECT SUM(RequestCount) FROM SCHEMA("AWS/ApplicationELB", LoadBalancer, AvailabilityZone)'
ALB_Q = InsightsQuery(Function.SUM, "RequestCount", "AWS/ApplicationELB", ("AvailabilityZone", "LoadBalancer"))
LB1 = Comparison("LoadBalancer", "=", ("app/load-balancer-1",))

PARSED = [
    # the user guide's examples, clause by clause
    ('SELECT AVG(CPUUtilization) FROM "AWS/EC2"', InsightsQuery(Function.AVG, "CPUUtilization", "AWS/EC2")),
    ('SELECT AVG(CPUUtilization) FROM SCHEMA("AWS/EC2")', InsightsQuery(Function.AVG, "CPUUtilization", "AWS/EC2", ())),
    ('SELECT AVG(CPUUtilization) FROM SCHEMA("AWS/EC2", InstanceId)',
     InsightsQuery(Function.AVG, "CPUUtilization", "AWS/EC2", ("InstanceId",))),
    (ALB, ALB_Q),
    (ALB + " WHERE LoadBalancer = 'app/load-balancer-1'",
     InsightsQuery(Function.SUM, "RequestCount", "AWS/ApplicationELB", ALB_Q.schema, LB1)),
    (ALB + " WHERE LoadBalancer = 'app/load-balancer-1' GROUP BY AvailabilityZone ORDER BY MAX() DESC LIMIT 5",
     InsightsQuery(Function.SUM, "RequestCount", "AWS/ApplicationELB", ALB_Q.schema, LB1, ("AvailabilityZone",),
                   Function.MAX, True, 5)),
    ('SELECT MAX("My.Metric") FROM "AWS/EC2" WHERE AutoScalingGroupName = \'my-production-fleet\'',
     InsightsQuery(Function.MAX, "My.Metric", "AWS/EC2", None,
                   Comparison("AutoScalingGroupName", "=", ("my-production-fleet",)))),
    ('SELECT AVG("Bytes\\"Input\\"") FROM ns', InsightsQuery(Function.AVG, 'Bytes"Input"', "ns")),
    ('SELECT AVG("LIMIT") FROM "ORDER"', InsightsQuery(Function.AVG, "LIMIT", "ORDER")),
    ("select count(m) from Ns group by A, B order by sum() asc limit 500",
     InsightsQuery(Function.COUNT, "m", "Ns", None, None, ("A", "B"), Function.SUM, False, 500)),
    ("SELECT MIN(m) FROM ns ORDER BY AVG()", InsightsQuery(Function.MIN, "m", "ns", order_by=Function.AVG)),
    # the WHERE extensions
    ("SELECT SUM(m) FROM ns WHERE a != 'x' AND b LIKE 'p%' OR NOT c IN ('1', '2')",
     InsightsQuery(Function.SUM, "m", "ns", where=Disjunction((
         Conjunction((Comparison("a", "!=", ("x",)), Comparison("b", "LIKE", ("p%",)))),
         Negation(Comparison("c", "IN", ("1", "2"))))))),
    ("SELECT SUM(m) FROM ns WHERE a NOT LIKE '%x' AND (b NOT IN ('y') OR c = 'it\\'s')",
     InsightsQuery(Function.SUM, "m", "ns", where=Conjunction((
         Comparison("a", "NOT LIKE", ("%x",)),
         Disjunction((Comparison("b", "NOT IN", ("y",)), Comparison("c", "=", ("it's",)))))))),
    ('SELECT SUM(m) FROM ns WHERE "a key" = \'\'', InsightsQuery(Function.SUM, "m", "ns",
                                                                  where=Comparison("a key", "=", ("",)))),
    ("SELECT SUM(m) FROM SCHEMA(ns, b, a)", InsightsQuery(Function.SUM, "m", "ns", ("a", "b"))),
    ('SELECT SUM(m) FROM "SCHEMA"', InsightsQuery(Function.SUM, "m", "SCHEMA")),
]


@pytest.mark.parametrize(("text", "parsed"), PARSED, ids=[t for t, _ in PARSED])
def test_parse(text: str, parsed: InsightsQuery) -> None:
    assert parse_insights(text) == parsed


@pytest.mark.parametrize(("text", "message"), [
    ("", "expected SELECT at position 1, found the end of the query"),
    ("SELECT MEDIAN(m) FROM ns", "expected one of AVG, COUNT, MAX, MIN, SUM at position 8"),
    ("SELECT AVG(m) FROM AWS/EC2", "unexpected character '/'"),
    ("SELECT AVG(m) FROM ns WHERE", "expected a label key"),
    ("SELECT AVG(m) FROM ns WHERE a = b", "expected a single-quoted value"),
    ("SELECT AVG(m) FROM ns WHERE a = \"b\"", "expected a single-quoted value"),
    ("SELECT AVG(m) FROM ns WHERE a > 'b'", "unexpected character '>'"),
    ("SELECT AVG(m) FROM ns WHERE a 'b'", "expected =, !=, LIKE, IN, NOT LIKE or NOT IN"),
    ("SELECT AVG(m) FROM ns WHERE a IN ()", "expected a single-quoted value"),
    ("SELECT AVG(m) FROM ns WHERE (a = 'b'", "expected ')'"),
    ("SELECT AVG(m) FROM ns LIMIT 0", "LIMIT must be a number from 1 to 500"),
    ("SELECT AVG(m) FROM ns LIMIT 501", "LIMIT must be a number from 1 to 500"),
    ("SELECT AVG(m) FROM ns ORDER BY MAX", "expected '('"),
    ("SELECT AVG(m) FROM ns GROUP a", "expected BY"),
    ("SELECT AVG(m) FROM ns GROUP BY a, a", "listed twice in GROUP BY"),
    ("SELECT AVG(m) FROM SCHEMA(ns, a, a)", "listed twice in SCHEMA"),
    ("SELECT AVG(m) FROM SCHEMA(ns", "expected ')'"),
    ("SELECT AVG(m) FROM ns extra", "unexpected text after the query"),
    ("SELECT AVG(limit) FROM ns", "expected a metric name (a reserved word or special characters need double quotes)"),
    ('SELECT AVG("") FROM ns', "expected a metric name"),
    ("SELECT AVG(m) FROM 'ns'", "expected a namespace"),
    ("SELECT AVG(m) FROM schema", "expected a namespace"),
    ("SELECT AVG(m) FROM ns WHERE a = 'b", "unterminated quoted text at position 33"),
])
def test_invalid_queries(text: str, message: str) -> None:
    with pytest.raises(errors.InvalidParameterValue) as info:
        parse_insights(text)
    assert info.value.message.startswith("Invalid Metrics Insights query: ")
    assert message in info.value.message


@given(st.text(max_size=60))
def test_parse_fails_only_with_invalid_parameter_value(text: str) -> None:
    try:
        parse_insights(text)
    except errors.InvalidParameterValue:
        pass


@pytest.mark.parametrize(("pattern", "s", "hit"), [
    ("abc", "abc", True), ("abc", "abcd", False), ("a%", "abc", True), ("%c", "abc", True),
    ("%b%", "abc", True), ("a%c", "ac", True), ("a%c", "a", False), ("%", "", True),
    ("a%b%c", "abc", True), ("a%b%c", "acb", False), ("ab%ba", "aba", False), ("a_c", "abc", False),
    ("a_c", "a_c", True), ("%%", "x", True), ("t2.%", "t2.micro", True), ("t2.%", "t2xmicro", False),
])
def test_like_has_percent_as_its_only_wildcard(pattern: str, s: str, hit: bool) -> None:
    assert like_matches(pattern, s) is hit


HOST = {"InstanceId": "i-1", "InstanceType": "t2.micro"}


@pytest.mark.parametrize(("where", "hit"), [
    ("InstanceId = 'i-1'", True), ("InstanceId = 'i-2'", False), ("InstanceId != 'i-2'", True),
    ("Zone = 'a'", False), ("Zone != 'a'", True),             # a missing key: = is false, != is true
    ("Zone LIKE '%'", False), ("Zone NOT LIKE '%'", True), ("Zone IN ('a')", False), ("Zone NOT IN ('a')", True),
    ("InstanceType LIKE 't2%'", True), ("InstanceType NOT LIKE 't2%'", False),
    ("InstanceId IN ('i-0', 'i-1')", True), ("InstanceId NOT IN ('i-0', 'i-1')", False),
    ("InstanceId = 'i-2' OR InstanceType = 't2.micro'", True),
    ("InstanceId = 'i-2' OR InstanceType = 't2.micro' AND Zone = 'a'", False),
    ("(InstanceId = 'i-2' OR InstanceType = 't2.micro') AND NOT Zone = 'a'", True),
    ("NOT NOT InstanceId = 'i-1'", True),
])
def test_where(where: str, hit: bool) -> None:
    q = parse_insights(f"SELECT AVG(m) FROM ns WHERE {where}")
    assert q.where is not None
    assert holds(q.where, HOST) is hit


def test_selects_checks_namespace_metric_schema_and_where() -> None:
    dims = sorted(HOST.items())
    assert selects(parse_insights("SELECT AVG(m) FROM ns"), "ns", "m", dims)
    assert not selects(parse_insights("SELECT AVG(m) FROM ns"), "ns", "M", dims)
    assert not selects(parse_insights("SELECT AVG(m) FROM ns"), "ns2", "m", dims)
    assert selects(parse_insights("SELECT AVG(m) FROM SCHEMA(ns, InstanceType, InstanceId)"), "ns", "m", dims)
    assert not selects(parse_insights("SELECT AVG(m) FROM SCHEMA(ns, InstanceId)"), "ns", "m", dims)
    assert not selects(parse_insights("SELECT AVG(m) FROM SCHEMA(ns)"), "ns", "m", dims)
    assert selects(parse_insights("SELECT AVG(m) FROM SCHEMA(ns)"), "ns", "m", [])
    assert not selects(parse_insights("SELECT AVG(m) FROM ns WHERE InstanceId = 'x'"), "ns", "m", dims)


def test_groups_and_labels() -> None:
    q = parse_insights("SELECT AVG(m) FROM ns GROUP BY InstanceType, Zone")
    group = group_of(q, HOST)
    assert group == {"InstanceType": "t2.micro"}
    assert series_label(q, group, "ignored") == "t2.micro Other"
    assert series_label(q, {"InstanceType": "a", "Zone": "z"}, "") == "a z"
    plain = parse_insights("SELECT AVG(m) FROM ns")
    assert group_of(plain, HOST) == {}
    assert series_label(plain, {}, "my label") == "my label"


def test_the_window_is_the_last_two_weeks() -> None:
    now = 1_800_000_000
    assert insights_window(now - 3600, now, now) == (now - 3600, now)
    assert insights_window(now - 30 * 86400, now - 86400, now) == (now - 14 * 86400, now - 86400)
