# ruff: noqa: D103 - test names say what each test checks
"""Random metric data survives botocore -> our parser, and random datapoints our serializer -> botocore."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway import awsproto
from gateway.awsproto import CLOUDWATCH, Detected, Protocol

from .oracle import client_parse, client_request, differences

UNITS = CLOUDWATCH.model.shape_for("StandardUnit").metadata["enum"]
# Everything but surrogates for requests; XML 1.0 cannot carry most control characters in responses.
any_text = st.characters(exclude_categories=["Cs"])
xml_text = st.characters(exclude_categories=["Cs", "Cc"], include_characters="\t\n\r",
                         exclude_characters="\ufffe\uffff")
finite = st.floats(allow_nan=False, allow_infinity=False)
moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
protocols = st.sampled_from(list(Protocol))
SETTINGS = settings(max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def names(alphabet: st.SearchStrategy[str], max_size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=1, max_size=max_size)


dimension = st.fixed_dictionaries({"Name": names(any_text, 255), "Value": names(any_text, 1024)})
datum = st.fixed_dictionaries(
    {"MetricName": names(any_text, 255)},
    optional={"Dimensions": st.lists(dimension, max_size=30), "Timestamp": moments, "Value": finite,
              "Values": st.lists(finite, max_size=5), "Counts": st.lists(finite, max_size=5),
              "StatisticValues": st.fixed_dictionaries(
                  {"SampleCount": finite, "Sum": finite, "Minimum": finite, "Maximum": finite}),
              "Unit": st.sampled_from(UNITS), "StorageResolution": st.integers(1, 2**31 - 1)})


@SETTINGS
@given(protocol=protocols, namespace=names(any_text, 255), data=st.lists(datum, min_size=1, max_size=20))
def test_random_metric_data_parses_back_in_every_protocol(protocol: Protocol, namespace: str,
                                                          data: list[dict[str, Any]]) -> None:
    params = {"Namespace": namespace, "MetricData": data}
    req = client_request(protocol, CLOUDWATCH.operation_model("PutMetricData"), params)

    _, parsed = awsproto.parse_request(awsproto.detect(req), req)

    assert differences(parsed, params) == []


datapoint = st.fixed_dictionaries(
    {"Timestamp": moments},
    optional={"SampleCount": finite, "Average": finite, "Sum": finite, "Minimum": finite, "Maximum": finite,
              "Unit": st.sampled_from(UNITS),
              "ExtendedStatistics": st.dictionaries(names(xml_text, 20), finite, max_size=3)})


@SETTINGS
@given(protocol=protocols, label=st.text(xml_text, max_size=50), points=st.lists(datapoint, max_size=20))
def test_random_datapoints_reach_botocore_intact(protocol: Protocol, label: str,
                                                 points: list[dict[str, Any]]) -> None:
    result = {"Label": label, "Datapoints": points}
    op_model = CLOUDWATCH.operation_model("GetMetricStatistics")

    detected = Detected(CLOUDWATCH, protocol, op_model.name)
    response = awsproto.serialize_response(detected, op_model, result, "r")
    parsed = client_parse(protocol, op_model, response)
    parsed.pop("ResponseMetadata")

    assert differences(parsed, result) == []
