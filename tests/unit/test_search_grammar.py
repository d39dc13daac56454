# ruff: noqa: D103 - test names and ids say what each case checks
"""SEARCH query grammar: tokens, partial and exact matches, schema, booleans, errors (the user guide's cases)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ingest.domain import SearchFilter, matches, parse_search, word_matches
from services.ingest.domain._search import And, Not, Or, Term, full_token, tokens
from stackwatch import errors

# --- tokenization (search-expression-syntax: "Tokenization") ---------------------------------------


@pytest.mark.parametrize(("text", "full", "parts"), [
    ("CustomCount1", "customcount1", ["Custom", "Count", "1"]),
    ("SDBFailure", "sdbfailure", ["SDB", "Failure"]),
    ("Project2-trial333", "project2trial333", ["Project", "2", "trial", "333"]),
    ("Network-Errors_2", "networkerrors2", ["Network", "Errors", "2"]),
    ("CPUUtilization", "cpuutilization", ["CPU", "Utilization"]),
    ("i-1234567890123456", "i1234567890123456", ["i", "1234567890123456"]),
    ("t2.micro", "t2micro", ["t", "2", "micro"]),
    ("--", "", []),
], ids=lambda x: x if isinstance(x, str) else None)
def test_tokens_follow_the_guide(text: str, full: str, parts: list[str]) -> None:
    assert full_token(text) == full
    assert [t for t, _ in tokens(text)] == parts


@pytest.mark.parametrize(("word", "found"), [
    ("count", True), ("Count", True), ("COUNT", True),     # one token: case-insensitive
    ("couNT", False),                                       # tokenized as cou + NT
    ("CustomCount", True), ("Count1", True),                # composite tokens: case-sensitive
    ("customcount", False), ("count1", False),
    ("customcount1", True),                                 # the whole-string token
    ("Custom", True), ("1", True), ("ustom", False), ("Count2", False), ("CountCustom", False),
])
def test_partial_matches_of_custom_count_1(word: str, found: bool) -> None:
    assert word_matches(word, "CustomCount1") is found


@pytest.mark.parametrize("word", ["network/errors", "network+errors", "network-errors", "Network_Errors"])
@pytest.mark.parametrize("name", ["Network-Errors-2", "NetworkErrors2"])
def test_delimiters_in_a_word_join_tokens(word: str, name: str) -> None:
    assert word_matches(word, name)


def test_a_word_without_alphanumerics_matches_nothing() -> None:
    assert not word_matches("--", "--")
    assert not matches(parse_search("--"), "--", "--", [("--", "--")])


# --- parsing ---------------------------------------------------------------------------------------------

W, Q = (lambda t, p=None: Term(t, False, p)), (lambda t, p=None: Term(t, True, p))

PARSED = [
    ('{AWS/EC2,InstanceId} MetricName="CPUUtilization"',
     SearchFilter("AWS/EC2", ("InstanceId",), Q("CPUUtilization", "MetricName"))),
    (" {AWS/EC2, InstanceType} \"CPUUtilization\" ", SearchFilter("AWS/EC2", ("InstanceType",), Q("CPUUtilization"))),
    ("{AWS/EC2}", SearchFilter("AWS/EC2", (), None)),
    ("{AWS/ApplicationELB, LoadBalancer, AvailabilityZone}",
     SearchFilter("AWS/ApplicationELB", ("AvailabilityZone", "LoadBalancer"), None)),
    ('{AWS/ECS, ClusterName}, MetricName="CPUUtilization"',
     SearchFilter("AWS/ECS", ("ClusterName",), Q("CPUUtilization", "MetricName"))),
    (' {"My Namespace", "Dimension@Name"}, "Custom:Name[Special_Characters" ',
     SearchFilter("My Namespace", ("Dimension@Name",), Q("Custom:Name[Special_Characters"))),
    ('"Europe\\\\France Traffic\\(Network\\)"', SearchFilter(None, None, Q("Europe\\France Traffic(Network)"))),
    ("InstanceType=micro", SearchFilter(None, None, W("micro", "InstanceType"))),
    ('InstanceType="t2.micro" Namespace="AWS/EC2"',
     SearchFilter(None, None, And((Q("t2.micro", "InstanceType"), Q("AWS/EC2", "Namespace"))))),
    ('"Dim Name"=x', SearchFilter(None, None, W("x", "Dim Name"))),
    ("network AND packets", SearchFilter(None, None, And((W("network"), W("packets"))))),
    ("network packets", SearchFilter(None, None, And((W("network"), W("packets"))))),
    ("network and packets", SearchFilter(None, None, And((W("network"), W("and"), W("packets"))))),
    ("NOT Namespace=AWS", SearchFilter(None, None, Not(W("AWS", "Namespace")))),
    ('MetricName="C" NOT "ProjectA" NOT "ProjectB"',
     SearchFilter(None, None, And((Q("C", "MetricName"), Not(Q("ProjectA")), Not(Q("ProjectB")))))),
    ("(EC2 OR EBS) AND MetricName=ReadOps",
     SearchFilter(None, None, And((Or((W("EC2"), W("EBS"))), W("ReadOps", "MetricName"))))),
    ("a OR b c", SearchFilter(None, None, Or((W("a"), And((W("b"), W("c"))))))),
    ("NOT a OR b", SearchFilter(None, None, Or((Not(W("a")), W("b"))))),
    ("NOT(a OR b)", SearchFilter(None, None, Not(Or((W("a"), W("b")))))),
    ("ANDROID ORACLE NOTE", SearchFilter(None, None, And((W("ANDROID"), W("ORACLE"), W("NOTE"))))),
    ('{AWS/Lambda,FunctionName} MetricName="Errors" OR (MetricName="Invocations" AND (ProjectA OR ProjectB))',
     SearchFilter("AWS/Lambda", ("FunctionName",),
                  Or((Q("Errors", "MetricName"),
                      And((Q("Invocations", "MetricName"), Or((W("ProjectA"), W("ProjectB"))))))))),
]


@pytest.mark.parametrize(("text", "parsed"), PARSED, ids=[t for t, _ in PARSED])
def test_parse(text: str, parsed: SearchFilter) -> None:
    assert parse_search(text) == parsed


@pytest.mark.parametrize(("text", "message"), [
    ("", "it must contain a metric schema, a search term, or both"),
    ("   ", "it must contain a metric schema, a search term, or both"),
    ("{AWS/EC2", "unterminated metric schema"),
    ("{AWS/EC2,}", "empty name in the metric schema"),
    ("{AWS/EC2, A, A}", "a dimension name appears twice"),
    ('"abc', "unterminated quoted string at position 1"),
    ("(a OR b", "unbalanced parentheses"),
    ("a OR b)", "unexpected ')'"),
    ("a AND", "a search term is missing"),
    ("OR a", "a search term is missing at position 1"),
    ("NOT", "a search term is missing"),
    ("MetricName=", "a value is missing after MetricName="),
    (":aws.AccountId = 'LOCAL'", "cross-account search (:aws.AccountId) is not supported"),
    ("x" * 1025, "at most 1024 characters"),
])
def test_invalid_queries_are_invalid_parameter_values(text: str, message: str) -> None:
    with pytest.raises(errors.InvalidParameterValue) as info:
        parse_search(text)
    assert info.value.message.startswith("Invalid SEARCH expression: ")
    assert message in info.value.message


# --- selection ------------------------------------------------------------------------------------------

EC2 = ("AWS/EC2", "CPUUtilization", [("InstanceId", "i-1234567890123456")])


@pytest.mark.parametrize(("query", "metric", "selected"), [
    ("{AWS/EC2,InstanceId}", EC2, True),
    ("{AWS/EC2}", EC2, False),                                  # the schema is the exact key set
    ("{AWS/EC2,InstanceId,InstanceType}", EC2, False),
    ("{AWS/EC}", EC2, False),                                   # the schema's namespace is exact
    ('"CPUUtilization"', EC2, True),
    ('"cpuutilization"', EC2, False),                           # exact is case-sensitive
    ('"CPU"', EC2, False),
    ('"InstanceId"', EC2, True),                                # dimension names count
    ('"AWS/EC2"', EC2, True),                                   # and namespaces
    ("cpu", EC2, True),
    ("utilization", EC2, True),
    ("EC2", EC2, True),
    ("i-1234567890123456", EC2, True),
    ("NOT i-1234567890123456", EC2, False),
    ("MetricName=cpu", EC2, True),
    ("Namespace=cpu", EC2, False),
    ("InstanceId=cpu", EC2, False),                             # a dimension designator tests its value
    ('InstanceId="i-1234567890123456"', EC2, True),
    ("InstanceType=i", EC2, False),
    ('MetricName="CPUUtilization" AND ("AWS/ECS" OR "AWS/ES")', EC2, False),
    ('"Errors"', ("App", "ConnectionErrors", []), False),
    ("Errors", ("App", "ConnectionErrors", []), True),
    ('"Errors"', ("App", "errors", []), False),
], ids=lambda x: x if isinstance(x, str) else None)
def test_matches(query: str, metric: tuple[str, str, list[tuple[str, str]]], selected: bool) -> None:
    assert matches(parse_search(query), *metric) is selected


@given(st.text(max_size=40))
def test_parse_never_fails_with_anything_but_invalid_parameter_value(text: str) -> None:
    try:
        f = parse_search(text)
    except errors.InvalidParameterValue:
        return
    matches(f, "AWS/EC2", "CPUUtilization", [("InstanceId", "i-1")])


@given(st.text(alphabet="abAB12-_ ", min_size=1, max_size=12), st.text(alphabet="abAB12-_", max_size=12))
def test_a_string_always_finds_itself_and_its_tokens(name: str, noise: str) -> None:
    if full_token(name):
        assert word_matches(name, name)
        for t, _ in tokens(name):
            assert word_matches(t.lower(), name)
        assert word_matches(name, noise + "-" + name + "-" + noise)
