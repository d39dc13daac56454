"""plan(): parsing, precedence, and every way a request is refused, with the error and its text."""

from __future__ import annotations

import pytest

from stackwatch import errors
from stackwatch.domain.metricmath import MetricRef, Query, SearchCall, plan
from stackwatch.domain.metricmath._syntax import Binary, Call, Name, Number, SyntaxProblem, Unary, parse


def metric(qid: str, return_data: bool = True) -> Query:
    return Query(qid, None, MetricRef("Test", "M", (("Id", qid),), "Sum", 60), return_data=return_data)


def expr(qid: str, text: str, return_data: bool = True) -> Query:
    return Query(qid, text, None, return_data=return_data)


def shape(node: object) -> object:
    """A parse tree as nested tuples, for readable expectations."""
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Unary):
        return ("neg", shape(node.operand))
    if isinstance(node, Binary):
        return (node.op, shape(node.left), shape(node.right))
    if isinstance(node, Call):
        return (node.name, *[shape(a) for a in node.args])
    raise AssertionError(node)


@pytest.mark.parametrize(("text", "tree"), [
    ("a + b * c", ("+", "a", ("*", "b", "c"))),
    ("(a + b) * c", ("*", ("+", "a", "b"), "c")),
    ("a - b - c", ("-", ("-", "a", "b"), "c")),
    ("a / b / c", ("/", ("/", "a", "b"), "c")),
    ("a ^ b ^ c", ("^", "a", ("^", "b", "c"))),
    ("-a ^ 2", ("neg", ("^", "a", 2.0))),
    ("-a * b", ("*", ("neg", "a"), "b")),
    ("a + b > c * 2", (">", ("+", "a", "b"), ("*", "c", 2.0))),
    ("a > 1 AND b < 2 OR c", ("OR", ("AND", (">", "a", 1.0), ("<", "b", 2.0)), "c")),
    ("a || b && c", ("OR", "a", ("AND", "b", "c"))),
    ("a == b != c", ("!=", ("==", "a", "b"), "c")),
    ("MAX(m1) / m1", ("/", ("MAX", "m1"), "m1")),
    ("1.5e3 + .5", ("+", 1500.0, 0.5)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_precedence(text: str, tree: object) -> None:
    assert shape(parse(text)) == tree


@pytest.mark.parametrize(("text", "message"), [
    ("m1 +", "Unexpected end of expression at position 5"),
    ("m1 + * m2", "Unexpected '*' at position 6"),
    ("(m1 + m2", "Expected ')' but found end of expression at position 9"),
    ("SUM([m1, m2)", "Expected ',' or ']' but found ')' at position 12"),
    ("m1 m2", "Unexpected 'm2' at position 4"),
    ("METRICS('abc)", "Unterminated string at position 9"),
    ("m1 % 2", "Unexpected character '%' at position 4"),
    ("", "Empty expression at position 1"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_syntax_errors_name_the_position(text: str, message: str) -> None:
    with pytest.raises(SyntaxProblem) as caught:
        parse(text)
    assert str(caught.value) == message


def test_a_syntax_error_is_a_validation_error_naming_the_query() -> None:
    with pytest.raises(errors.ValidationError) as caught:
        plan([metric("m1"), expr("e1", "m1 +")])
    assert caught.value.message == "Error in expression e1: Syntax error: Unexpected end of expression at position 5"


@pytest.mark.parametrize(("queries", "error", "message"), [
    ([metric("M1")], errors.ValidationError,
     "The value M1 for parameter MetricDataQueries.member.1.Id is invalid: an Id must start with a lowercase "
     "letter and contain only letters, numbers and underscores (at most 255 characters)."),
    ([metric("m1"), metric("m-2")], errors.ValidationError,
     "The value m-2 for parameter MetricDataQueries.member.2.Id is invalid: an Id must start with a lowercase "
     "letter and contain only letters, numbers and underscores (at most 255 characters)."),
    ([metric("m1"), expr("m1", "m1 * 2")], errors.ValidationError,
     "The value m1 for parameter MetricDataQueries.member.2.Id is a duplicate: each Id must be unique within "
     "the request."),
    ([Query("q", None, None)], errors.MissingParameter,
     "The parameter MetricDataQueries.member.1.Expression or MetricDataQueries.member.1.MetricStat must be "
     "specified."),
    ([Query("q", "1", MetricRef("N", "M", (), "Sum", 60))], errors.InvalidParameterCombination,
     "The parameters MetricDataQueries.member.1.Expression and MetricDataQueries.member.1.MetricStat are "
     "mutually exclusive and you have specified both."),
    ([metric("m1"), expr("e1", "m1 + m2")], errors.ValidationError,
     "Error in expression e1: Unrecognized identifier m2 at position 6"),
    ([expr("e1", "e2 * 2"), expr("e2", "e1 + 1")], errors.ValidationError,
     "Error in expression e1: Circular reference between expressions: e1 -> e2 -> e1"),
    ([expr("e1", "e1 * 2")], errors.ValidationError,
     "Error in expression e1: Circular reference between expressions: e1 -> e1"),
    ([metric("m1"), expr("e1", "AVG(m1)")], errors.ValidationError,
     "Error in expression e1: The expression must return a time series or an array of time series, "
     "but returns a scalar"),
    ([metric("m1"), expr("e1", "PERIOD(m1) / 60")], errors.ValidationError,
     "Error in expression e1: The expression must return a time series or an array of time series, "
     "but returns a scalar"),
    ([metric("m1"), expr("e1", "ABS(m1, 2)")], errors.ValidationError,
     "Error in expression e1: Invalid arguments for ABS at position 1: got (TS, S), expected (S) or (TS) or (TS[])"),
    ([metric("m1"), expr("e1", "FILL(m1, ZERO)")], errors.ValidationError,
     "Error in expression e1: Invalid keyword ZERO for FILL at position 10"),
    ([metric("m1"), expr("e1", "m1 + REPEAT")], errors.ValidationError,
     "Error in expression e1: A keyword REPEAT is not valid at position 6"),
    ([metric("m1"), expr("e1", "m1 + 'x'")], errors.ValidationError,
     "Error in expression e1: A string is not valid at position 6"),
    ([metric("m1"), expr("e1", "METRICS() + METRICS()")], errors.ValidationError,
     "Error in expression e1: The operator + at position 11 cannot combine two arrays of time series"),
    ([metric("m1"), expr("e1", "NOPE(m1)")], errors.ValidationError,
     "Error in expression e1: Unknown function NOPE at position 1"),
    ([metric("m1"), expr("e1", "ANOMALY_DETECTION_BAND(m1)")], errors.ValidationError,
     "Error in expression e1: ANOMALY_DETECTION_BAND at position 1: anomaly detection is not supported by "
     "StackWatch"),
    ([metric("m1"), expr("e1", "m1 * SERVICE_QUOTA(m1)")], errors.ValidationError,
     "Error in expression e1: SERVICE_QUOTA at position 6: service quotas are not supported by StackWatch"),
    ([metric("m1"), expr("e1", "m1 * 2"), expr("e2", "PERIOD(e1) * e1")], errors.ValidationError,
     "Error in expression e2: PERIOD at position 1 accepts only the Id of a metric, not an expression"),
    ([expr("e1", "SEARCH(q, 'Average', 300)")], errors.ValidationError,
     "Error in expression e1: Unrecognized identifier q at position 8"),
    ([expr("e1", "SEARCH('{AWS/EC2} x', 'Average', 2 * 150)")], errors.ValidationError,
     "Error in expression e1: SEARCH at position 1 needs literal arguments: "
     "SEARCH('search expression', 'Statistic', period)"),
    ([expr("e1", "SEARCH('{AWS/EC2} x', 'Average', 0)")], errors.ValidationError,
     "Error in expression e1: The period of SEARCH at position 1 must be a positive integer"),
    ([metric("m1"), expr("e1", "CONCAT(1)")], errors.ValidationError,
     "Error in expression e1: CONCAT at position 1 takes one or more time series or arrays of time series"),
], ids=lambda v: v.__name__ if isinstance(v, type) else "")
def test_refused_requests(queries: list[Query], error: type[errors.ServiceError], message: str) -> None:
    with pytest.raises(error) as caught:
        plan(queries)
    assert caught.value.message == message


def test_order_puts_dependencies_first_and_keeps_request_order_otherwise() -> None:
    queries = [expr("e3", "e2 + e1"), expr("e1", "m1 * 2"), expr("e2", "e1 - m2"), metric("m1"), metric("m2")]
    assert plan(queries).order == ("m1", "e1", "m2", "e2", "e3")


def test_only_needed_metrics_are_fetched() -> None:
    queries = [metric("m1", return_data=False), metric("unused", return_data=False), metric("shown"),
               metric("err_a", return_data=False), expr("e1", "m1 + SUM(METRICS('err'))")]
    assert plan(queries).metric_ids == ("m1", "shown", "err_a")


def test_distinct_searches_are_listed_once_in_order_of_appearance() -> None:
    first = "{AWS/EC2,InstanceId} MetricName=\"CPUUtilization\""
    queries = [expr("e1", f"SEARCH('{first}', 'Average', 300)"),
               expr("e2", f"SUM(SEARCH('{first}', 'Average', 300)) + SUM(SEARCH('{first}', 'Maximum', 60))")]
    assert plan(queries).searches == (SearchCall(first, "Average", 300), SearchCall(first, "Maximum", 60))


def test_array_results_and_single_series_results_are_both_accepted() -> None:
    p = plan([metric("m1"), metric("m2"), expr("e1", "METRICS()"), expr("e2", "SUM(METRICS())"),
              expr("e3", "IF(m1 > 1, 1, 0)")])
    assert (p.kinds["e1"], p.kinds["e2"], p.kinds["e3"]) == ("TS[]", "TS", "TS")


@pytest.mark.parametrize("text", ["(" * 250 + "m1" + ")" * 250, "+".join(["m1"] * 300), "-" * 250 + "m1",
                                  "ABS(" * 201 + "m1" + ")" * 201],
                         ids=["parentheses", "long-chain", "unary-chain", "nested-calls"])
def test_a_tree_too_deep_to_evaluate_is_a_syntax_error_not_a_crash(text: str) -> None:
    with pytest.raises(errors.ValidationError) as caught:
        plan([metric("m1"), expr("e1", text)])
    assert "Expression nested too deeply" in caught.value.message


def test_a_chain_within_the_depth_limit_evaluates() -> None:
    from stackwatch.domain.metricmath import Series, evaluate

    p = plan([metric("m1"), expr("e1", "+".join(["m1"] * 199))])
    results = evaluate(p, {"m1": Series((0.0,), (1.0,), "")}, {}, start=0, end=60, period=60)
    assert results[-1].values == (199.0,)


def test_a_fetched_series_with_two_points_at_one_time_is_an_internal_failure() -> None:
    from stackwatch.domain.metricmath import Series, evaluate

    bad = Series((60.0, 0.0, 60.0), (1.0, 2.0, 3.0), "")
    with pytest.raises(errors.InternalFailure) as caught:
        evaluate(plan([metric("m1")]), {"m1": bad}, {}, start=0, end=180, period=60)
    assert caught.value.message == "metric math: a series has two points at timestamp 60.0"


def test_a_fetched_series_given_newest_first_is_put_in_time_order() -> None:
    from stackwatch.domain.metricmath import Series, evaluate

    newest_first = Series((120.0, 60.0, 0.0), (3.0, 2.0, 1.0), "")
    (result,) = evaluate(plan([metric("m1")]), {"m1": newest_first}, {}, start=0, end=180, period=60)
    assert (result.timestamps, result.values) == ((0.0, 60.0, 120.0), (1.0, 2.0, 3.0))
