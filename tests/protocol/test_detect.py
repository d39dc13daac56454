# ruff: noqa: D103 - test names say what each test checks
"""Detection as reference §7.0 orders it, and protocol-correct errors when there is no operation."""

from __future__ import annotations

import gzip

import orjson
import pytest

from gateway import awsproto
from gateway.awsproto import AUTOSCALING, CLOUDWATCH, HttpRequest, Protocol, Service
from stackwatch import errors

CBOR_PATH = "/service/GraniteServiceVersion20100801/operation/"
SIGV4 = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/{}/aws4_request, SignedHeaders=host, "
         "Signature=ab")
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def post(path: str = "/", body: bytes = b"", **headers: str) -> HttpRequest:
    return HttpRequest.build("POST", path, {k.replace("_", "-"): v for k, v in headers.items()}, body=body)


def form(body: str, **headers: str) -> HttpRequest:
    return HttpRequest.build("POST", "/", {**FORM, **headers}, body=body.encode())


def detection_error(req: HttpRequest) -> tuple[errors.ServiceError, awsproto.Detected]:
    with pytest.raises(errors.ServiceError) as info:
        awsproto.detect(req)
    answer = awsproto.detected_from(info.value)
    assert answer is not None and answer.operation is None
    return info.value, answer


@pytest.mark.parametrize(("req", "service", "protocol", "operation"), [
    pytest.param(post(CBOR_PATH + "PutMetricData", smithy_protocol="rpc-v2-cbor"),
                 CLOUDWATCH, Protocol.CBOR, "PutMetricData", id="cbor-path-and-header"),
    pytest.param(post(CBOR_PATH + "ListMetrics/", smithy_protocol="RPC-V2-CBOR"),
                 CLOUDWATCH, Protocol.CBOR, "ListMetrics", id="cbor-trailing-slash-header-case"),
    pytest.param(post(x_amz_target="GraniteServiceVersion20100801.GetMetricData",
                      content_type="application/x-amz-json-1.0"),
                 CLOUDWATCH, Protocol.JSON, "GetMetricData", id="json-target"),
    pytest.param(form("Action=DescribeAlarms&Version=2010-08-01"),
                 CLOUDWATCH, Protocol.QUERY, "DescribeAlarms", id="query-form"),
    pytest.param(HttpRequest.build("GET", "/", {}, [("Action", "ListMetrics"), ("Version", "2010-08-01")]),
                 CLOUDWATCH, Protocol.QUERY, "ListMetrics", id="query-get"),
    pytest.param(form("Action=DescribeAutoScalingGroups&Version=2011-01-01"),
                 AUTOSCALING, Protocol.QUERY, "DescribeAutoScalingGroups", id="autoscaling-by-version"),
    pytest.param(form("Action=DescribePolicies", Authorization=SIGV4.format("autoscaling")),
                 AUTOSCALING, Protocol.QUERY, "DescribePolicies", id="autoscaling-by-sigv4-scope"),
    pytest.param(HttpRequest.build("GET", "/", {}, [
        ("Action", "DescribePolicies"),
        ("X-Amz-Credential", "AKIDEXAMPLE/20240501/us-east-1/autoscaling/aws4_request")]),
                 AUTOSCALING, Protocol.QUERY, "DescribePolicies", id="autoscaling-by-presigned-scope"),
    pytest.param(form("Action=ListMetrics"), CLOUDWATCH, Protocol.QUERY, "ListMetrics",
                 id="query-default-service"),
    pytest.param(post(body=b"Action=ListMetrics"), CLOUDWATCH, Protocol.QUERY, "ListMetrics",
                 id="query-untyped-body"),
])
def test_detects(req: HttpRequest, service: Service, protocol: Protocol, operation: str) -> None:
    detected = awsproto.detect(req)

    assert (detected.service, detected.protocol, detected.operation) == (service, protocol, operation)


def test_json_target_wins_over_a_form_body() -> None:
    req = post(body=b"Action=ListMetrics", x_amz_target="GraniteServiceVersion20100801.DescribeAlarms")

    assert awsproto.detect(req).protocol is Protocol.JSON


@pytest.mark.parametrize(("req", "protocol", "code"), [
    pytest.param(post(CBOR_PATH + "PutMetricDatum", smithy_protocol="rpc-v2-cbor"),
                 Protocol.CBOR, "UnknownOperationException", id="cbor-unknown-operation"),
    pytest.param(post("/service/Nope/operation/PutMetricData", smithy_protocol="rpc-v2-cbor"),
                 Protocol.CBOR, "UnknownOperationException", id="cbor-unknown-service"),
    pytest.param(post(CBOR_PATH + "PutMetricData", content_type="application/cbor"),
                 Protocol.CBOR, "UnknownOperationException", id="cbor-without-smithy-header"),
    pytest.param(post("/", smithy_protocol="rpc-v2-cbor"),
                 Protocol.CBOR, "UnknownOperationException", id="cbor-header-without-path"),
    pytest.param(post(x_amz_target="GraniteServiceVersion20100801.PutMetricDatum"),
                 Protocol.JSON, "UnknownOperationException", id="json-unknown-operation"),
    pytest.param(post(x_amz_target="DynamoDB_20120810.ListTables"),
                 Protocol.JSON, "UnknownOperationException", id="json-unknown-prefix"),
    pytest.param(post(body=b"{}", content_type="application/x-amz-json-1.0"),
                 Protocol.JSON, "UnknownOperationException", id="json-without-target"),
    pytest.param(form("Action=PutMetricDatum&Version=2010-08-01"), Protocol.QUERY, "InvalidAction",
                 id="query-unknown-action"),
    pytest.param(form("Version=2010-08-01&Namespace=x"), Protocol.QUERY, "MissingAction",
                 id="query-no-action"),
    pytest.param(post(), Protocol.QUERY, "MissingAction", id="empty-request"),
    pytest.param(form("Action=%FF%FE"), Protocol.QUERY, "MalformedQueryString", id="query-bad-utf8"),
])
def test_no_operation_raises_the_protocol_correct_error(req: HttpRequest, protocol: Protocol,
                                                        code: str) -> None:
    error, answer = detection_error(req)

    assert error.code == code
    assert answer.protocol is protocol
    assert answer.service is CLOUDWATCH


def test_error_messages_name_the_action() -> None:
    error, _ = detection_error(form("Action=PutMetricDatum&Version=2010-08-01"))
    assert error.message == "The action PutMetricDatum is not valid for this web service."

    error, _ = detection_error(form("Version=2010-08-01"))
    assert error.message.startswith("Could not find operation")


def test_an_action_of_the_other_service_is_invalid_there() -> None:
    error, answer = detection_error(form("Action=PutMetricData&Version=2011-01-01"))

    assert isinstance(error, errors.InvalidAction)
    assert answer.service is AUTOSCALING


def test_detection_errors_serialize_in_the_detected_protocol() -> None:
    error, answer = detection_error(post(x_amz_target="GraniteServiceVersion20100801.Nope"))

    response = awsproto.serialize_error(answer.service, answer.protocol, error, "r", None)

    assert response.headers["x-amzn-query-error"] == "UnknownOperationException;Sender"
    assert orjson.loads(response.body)["__type"] == "com.amazonaws.cloudwatch#UnknownOperationException"


def test_other_errors_have_no_detection_answer() -> None:
    assert awsproto.detected_from(errors.Throttling("x")) is None


def test_gzip_is_the_callers_job() -> None:
    payload = b'{"Namespace": "A"}'
    headers = {"X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics", "Content-Encoding": "gzip"}
    compressed = HttpRequest.build("POST", "/", headers, body=gzip.compress(payload))

    with pytest.raises(errors.SerializationException):
        awsproto.parse_request(awsproto.detect(compressed), compressed)

    gunzipped = HttpRequest.build("POST", "/", headers, body=payload)
    assert awsproto.parse_request(awsproto.detect(gunzipped), gunzipped)[1] == {"Namespace": "A"}


def test_query_params_come_from_url_and_body() -> None:
    req = HttpRequest.build("POST", "/", FORM, [("Action", "ListMetrics"), ("Namespace", "From/Url")],
                            b"MetricName=Latency&Version=2010-08-01")

    _, params = awsproto.parse_request(awsproto.detect(req), req)

    assert params == {"Namespace": "From/Url", "MetricName": "Latency"}


def test_case_insensitive_header_mappings_are_accepted() -> None:
    multidict = pytest.importorskip("multidict")
    headers = multidict.CIMultiDictProxy(multidict.CIMultiDict({
        "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics",
        "Content-Type": "application/x-amz-json-1.0"}))
    req = HttpRequest("POST", "/", headers, [], b"{}")

    assert awsproto.detect(req).operation == "ListMetrics"


def test_an_action_makes_it_query_even_on_an_rpc_looking_request() -> None:
    req = HttpRequest.build("POST", CBOR_PATH + "ListMetrics", {}, [("Action", "ListMetrics")])

    assert awsproto.detect(req).protocol is Protocol.QUERY
