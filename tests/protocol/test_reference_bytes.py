# ruff: noqa: D103 - test names say what each test checks
"""The captured wire examples of reference §7.1-7.3, byte for byte where the reference gives bytes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from gateway import awsproto
from gateway.awsproto import CLOUDWATCH, Detected, HttpRequest, Protocol

from .oracle import client_parse

TS = datetime(2024, 5, 1, 12, tzinfo=UTC)
REQUEST_ID = "11111111-2222-3333-4444-555555555555"
DIMS = [{"Name": "Service", "Value": "api"}]
PUT_PARAMS = {"Namespace": "StackWatch/Demo", "MetricData": [
    {"MetricName": "Latency", "Dimensions": DIMS, "Timestamp": TS, "Value": 42.5, "Unit": "Milliseconds",
     "StorageResolution": 1},
    {"MetricName": "Latency", "Dimensions": DIMS, "Timestamp": TS, "Values": [10.0, 20.0],
     "Counts": [3.0, 1.0], "Unit": "Milliseconds"}]}
STATS_RESULT: dict[str, Any] = {"Label": "Latency", "Datapoints": [
    {"Timestamp": TS, "SampleCount": 4.0, "Average": 12.5, "Unit": "Milliseconds"}]}

QUERY_BODY = (
    "Action=PutMetricData&Version=2010-08-01&Namespace=StackWatch%2FDemo&MetricData.member.1.MetricName=Latency"
    "&MetricData.member.1.Dimensions.member.1.Name=Service&MetricData.member.1.Dimensions.member.1.Value=api"
    "&MetricData.member.1.Timestamp=2024-05-01T12%3A00%3A00Z&MetricData.member.1.Value=42.5"
    "&MetricData.member.1.Unit=Milliseconds&MetricData.member.1.StorageResolution=1"
    "&MetricData.member.2.MetricName=Latency&MetricData.member.2.Dimensions.member.1.Name=Service"
    "&MetricData.member.2.Dimensions.member.1.Value=api&MetricData.member.2.Timestamp=2024-05-01T12%3A00%3A00Z"
    "&MetricData.member.2.Values.member.1=10.0&MetricData.member.2.Values.member.2=20.0"
    "&MetricData.member.2.Counts.member.1=3.0&MetricData.member.2.Counts.member.2=1.0"
    "&MetricData.member.2.Unit=Milliseconds")
JSON_BODY = (
    b'{"Namespace": "StackWatch/Demo", "MetricData": [{"MetricName": "Latency", "Dimensions": '
    b'[{"Name": "Service", "Value": "api"}], "Timestamp": 1714564800, "Value": 42.5, '
    b'"Unit": "Milliseconds", "StorageResolution": 1}, {"MetricName": "Latency", "Dimensions": '
    b'[{"Name": "Service", "Value": "api"}], "Timestamp": 1714564800, "Values": [10.0, 20.0], '
    b'"Counts": [3.0, 1.0], "Unit": "Milliseconds"}]}')
CBOR_BODY = bytes.fromhex(
    "a2694e616d6573706163656f537461636b57617463682f44656d6f6a4d657472"
    "69634461746182a66a4d65747269634e616d65674c6174656e63796a44696d65"
    "6e73696f6e7381a2644e616d6567536572766963656556616c75656361706969"
    "54696d657374616d70c11a66322ec06556616c7565fb40454000000000006455"
    "6e69746c4d696c6c697365636f6e64737153746f726167655265736f6c757469"
    "6f6e01a66a4d65747269634e616d65674c6174656e63796a44696d656e73696f"
    "6e7381a2644e616d6567536572766963656556616c7565636170696954696d65"
    "7374616d70c11a66322ec06656616c75657382fb4024000000000000fb403400"
    "000000000066436f756e747382fb4008000000000000fb3ff000000000000064"
    "556e69746c4d696c6c697365636f6e6473")
CBOR_PATH = "/service/GraniteServiceVersion20100801/operation/PutMetricData"
SIGV4 = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/monitoring/aws4_request, "
         "SignedHeaders=content-type;host;x-amz-date, Signature=f3b5")

REQUESTS = {
    Protocol.QUERY: HttpRequest.build("POST", "/", {
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "Authorization": SIGV4,
        "X-Amz-Date": "20240501T120030Z"}, body=QUERY_BODY.encode()),
    Protocol.JSON: HttpRequest.build("POST", "/", {
        "X-Amz-Target": "GraniteServiceVersion20100801.PutMetricData",
        "Content-Type": "application/x-amz-json-1.0", "x-amzn-query-mode": "true", "Authorization": SIGV4},
        body=JSON_BODY),
    Protocol.CBOR: HttpRequest.build("POST", CBOR_PATH, {
        "smithy-protocol": "rpc-v2-cbor", "x-amzn-query-mode": "true", "Accept": "application/cbor",
        "Content-Type": "application/cbor", "Authorization": SIGV4}, body=CBOR_BODY),
}


@pytest.mark.parametrize("protocol", list(Protocol), ids=lambda p: p.name.lower())
def test_captured_put_metric_data_requests(protocol: Protocol) -> None:
    req = REQUESTS[protocol]

    detected = awsproto.detect(req)
    _, params = awsproto.parse_request(detected, req)

    assert (detected.service, detected.protocol) == (CLOUDWATCH, protocol)
    assert detected.operation == "PutMetricData"
    assert params == PUT_PARAMS


def serialize(protocol: Protocol, result: dict[str, Any]) -> bytes:
    op_model = CLOUDWATCH.operation_model("GetMetricStatistics")
    detected = Detected(CLOUDWATCH, protocol, "GetMetricStatistics")
    return awsproto.serialize_response(detected, op_model, result, REQUEST_ID).body


def test_json_get_metric_statistics_response_bytes() -> None:
    assert serialize(Protocol.JSON, STATS_RESULT) == (
        b'{"Label":"Latency","Datapoints":[{"Timestamp":1714564800,"SampleCount":4.0,"Average":12.5,'
        b'"Unit":"Milliseconds"}]}')


def test_cbor_get_metric_statistics_response_bytes() -> None:
    assert serialize(Protocol.CBOR, STATS_RESULT) == bytes.fromhex(
        "a2654c6162656c674c6174656e63796a44617461706f696e747381a46954696d"
        "657374616d70c11a66322ec06b53616d706c65436f756e74fb40100000000000"
        "006741766572616765fb402900000000000064556e69746c4d696c6c69736563"
        "6f6e6473")


def test_query_get_metric_statistics_response_document() -> None:
    point = {**STATS_RESULT["Datapoints"][0], "ExtendedStatistics": {"p99": 19.9}}
    result = {**STATS_RESULT, "Datapoints": [point]}

    assert serialize(Protocol.QUERY, result).decode() == (
        '<GetMetricStatisticsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">'
        "<GetMetricStatisticsResult><Label>Latency</Label><Datapoints><member>"
        "<Timestamp>2024-05-01T12:00:00Z</Timestamp><SampleCount>4.0</SampleCount><Average>12.5</Average>"
        "<Unit>Milliseconds</Unit><ExtendedStatistics><entry><key>p99</key><value>19.9</value></entry>"
        "</ExtendedStatistics></member></Datapoints></GetMetricStatisticsResult>"
        "<ResponseMetadata><RequestId>11111111-2222-3333-4444-555555555555</RequestId></ResponseMetadata>"
        "</GetMetricStatisticsResponse>")


@pytest.mark.parametrize(("value", "iso", "epoch"), [
    (datetime(2024, 5, 1, 12, tzinfo=UTC), "2024-05-01T12:00:00Z", 1714564800),
    (datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC), "2024-05-01T12:00:00.123456Z", 1714564800.123456),
    (datetime(2024, 5, 1, 12), "2024-05-01T12:00:00Z", 1714564800),
    (1714564800.5, "2024-05-01T12:00:00.500000Z", 1714564800.5),
    (1714564800, "2024-05-01T12:00:00Z", 1714564800),
])
def test_result_timestamps_in_each_protocol(value: Any, iso: str, epoch: float) -> None:
    result = {"Datapoints": [{"Timestamp": value}]}

    assert f"<Timestamp>{iso}</Timestamp>".encode() in serialize(Protocol.QUERY, result)
    assert serialize(Protocol.JSON, result) == b'{"Datapoints":[{"Timestamp":%s}]}' % str(epoch).encode()


def test_result_doubles_are_float_repr_and_non_finite_names() -> None:
    result = {"Datapoints": [{"Sum": 1e16, "Minimum": float("nan"), "Maximum": float("-inf"), "Average": 3}]}

    xml = serialize(Protocol.QUERY, result)
    assert b"<Sum>1e+16</Sum><Minimum>NaN</Minimum><Maximum>-Infinity</Maximum><Average>3.0</Average>" in xml
    assert serialize(Protocol.JSON, result) == (
        b'{"Datapoints":[{"Sum":1e+16,"Minimum":"NaN","Maximum":"-Infinity","Average":3.0}]}')


def test_absent_none_and_unknown_result_members_are_omitted() -> None:
    result = {"Label": None, "Datapoints": [{"Sum": 1.0, "Unit": None, "NotInTheModel": 5}], "Extra": "x"}

    assert serialize(Protocol.JSON, result) == b'{"Datapoints":[{"Sum":1.0}]}'
    assert b"Unit" not in serialize(Protocol.QUERY, result)


def test_characters_xml_cannot_carry_become_replacement_characters() -> None:
    result = {"Label": "a\x01b\rc\ufffe", "Datapoints": []}
    response = awsproto.serialize_response(Detected(CLOUDWATCH, Protocol.QUERY, "GetMetricStatistics"),
                                           CLOUDWATCH.operation_model("GetMetricStatistics"), result, "r")

    parsed = client_parse(Protocol.QUERY, CLOUDWATCH.operation_model("GetMetricStatistics"), response)

    assert parsed["Label"] == "a\ufffdb\rc\ufffd"
