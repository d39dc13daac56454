# ruff: noqa: D103 - test names say what each test checks
"""Our error responses, read by botocore, give back the query code, fault, message and status."""

from __future__ import annotations

from typing import Any

import botocore.parsers
import cbor2
import orjson
import pytest

from gateway import awsproto
from gateway.awsproto import CLOUDWATCH, Protocol
from stackwatch import errors

from .oracle import client_parse

# code -> (HTTP status, Type, the json/cbor __type shape, its message member)
EXPECTED = {
    "InvalidParameterValue": (400, "Sender", "InvalidParameterValueException", "message"),
    "MissingParameter": (400, "Sender", "MissingRequiredParameterException", "message"),
    "InvalidParameterCombination": (400, "Sender", "InvalidParameterCombinationException", "message"),
    "InvalidNextToken": (400, "Sender", "InvalidNextToken", "message"),
    "ResourceNotFound": (404, "Sender", "ResourceNotFound", "message"),
    "LimitExceeded": (400, "Sender", "LimitExceededFault", "message"),
    "InternalServiceError": (500, "Receiver", "InternalServiceFault", "Message"),
    "Throttling": (400, "Sender", "Throttling", "message"),
    "SignatureDoesNotMatch": (403, "Sender", "SignatureDoesNotMatch", "message"),
    "InvalidClientTokenId": (403, "Sender", "InvalidClientTokenId", "message"),
    "UnknownOperationException": (400, "Sender", "UnknownOperationException", "message"),
    "InvalidAction": (400, "Sender", "InvalidAction", "message"),
}
CASES = [(code, protocol) for code in EXPECTED for protocol in Protocol]


def decoded(protocol: Protocol, body: bytes) -> Any:
    return orjson.loads(body) if protocol is Protocol.JSON else cbor2.loads(body)


@pytest.mark.parametrize(("code", "protocol"), CASES, ids=[f"{c}-{p.name.lower()}" for c, p in CASES])
def test_botocore_reads_code_type_message_and_status(code: str, protocol: Protocol) -> None:
    status, fault, _, _ = EXPECTED[code]
    error = errors.error_for(code, f"Something about {code} & <friends>.")
    op_model = CLOUDWATCH.operation_model("PutMetricData")

    response = awsproto.serialize_error(CLOUDWATCH, protocol, error, "req-7", "PutMetricData")
    parsed = client_parse(protocol, op_model, response)

    assert response.status == status
    assert response.headers["x-amzn-RequestId"] == "req-7"
    assert parsed["Error"]["Code"] == code
    assert parsed["Error"]["Type"] == fault
    assert parsed["Error"]["Message"] == f"Something about {code} & <friends>."
    assert parsed["ResponseMetadata"]["HTTPStatusCode"] == status
    assert parsed["ResponseMetadata"]["RequestId"] == "req-7"


@pytest.mark.parametrize("protocol", [Protocol.JSON, Protocol.CBOR], ids=["json", "cbor"])
@pytest.mark.parametrize("code", list(EXPECTED))
def test_json_and_cbor_errors_name_the_model_shape_and_carry_the_query_error(code: str,
                                                                             protocol: Protocol) -> None:
    status, fault, shape, message_key = EXPECTED[code]
    error = errors.error_for(code, "m")
    response = awsproto.serialize_error(CLOUDWATCH, protocol, error, "r", "PutMetricData")

    body = decoded(protocol, response.body)
    assert body == {"__type": f"com.amazonaws.cloudwatch#{shape}", message_key: "m"}
    assert response.headers["x-amzn-query-error"] == f"{code};{fault}"


def test_query_error_document() -> None:
    error = errors.InvalidParameterValue("The value NaN for parameter MetricData.member.1.Value is invalid.")
    response = awsproto.serialize_error(CLOUDWATCH, Protocol.QUERY, error, "11111111-2222", None)

    assert response.headers == {"x-amzn-RequestId": "11111111-2222", "Content-Type": "text/xml"}
    assert response.body == (
        b'<ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><Error><Type>Sender</Type>'
        b"<Code>InvalidParameterValue</Code>"
        b"<Message>The value NaN for parameter MetricData.member.1.Value is invalid.</Message></Error>"
        b"<RequestId>11111111-2222</RequestId></ErrorResponse>")


def test_rpc_errors_say_which_protocol() -> None:
    error = errors.Throttling("Rate exceeded")
    response = awsproto.serialize_error(CLOUDWATCH, Protocol.CBOR, error, "r", None)

    assert response.headers["smithy-protocol"] == "rpc-v2-cbor"
    assert response.headers["Content-Type"] == "application/cbor"
    json_response = awsproto.serialize_error(CLOUDWATCH, Protocol.JSON, errors.Throttling("x"), "r", None)
    assert json_response.headers["Content-Type"] == "application/x-amz-json-1.0"


def test_a_code_with_several_shapes_prefers_the_one_the_operation_declares() -> None:
    error = errors.ResourceNotFound("Dashboard x does not exist")

    for_dashboard = awsproto.serialize_error(CLOUDWATCH, Protocol.JSON, error, "r", "GetDashboard")
    elsewhere = awsproto.serialize_error(CLOUDWATCH, Protocol.JSON, error, "r", "DescribeAlarmHistory")

    assert orjson.loads(for_dashboard.body)["__type"] == "com.amazonaws.cloudwatch#DashboardNotFoundError"
    assert orjson.loads(elsewhere.body)["__type"] == "com.amazonaws.cloudwatch#ResourceNotFound"
    assert for_dashboard.headers["x-amzn-query-error"] == "ResourceNotFound;Sender"


def test_autoscaling_query_errors_use_its_namespace() -> None:
    error = errors.ValidationError("Group x not found")
    operation = "DescribeAutoScalingGroups"
    response = awsproto.serialize_error(awsproto.AUTOSCALING, Protocol.QUERY, error, "r", operation)
    parsed = client_parse(Protocol.QUERY, awsproto.AUTOSCALING.operation_model(operation), response)

    assert response.body.startswith(b'<ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/">')
    assert parsed["Error"] == {"Type": "Sender", "Code": "ValidationError", "Message": "Group x not found"}


@pytest.mark.parametrize("protocol", list(Protocol), ids=lambda p: p.name.lower())
def test_an_errors_other_members_reach_botocore_along_its_shape(protocol: Protocol) -> None:
    messages = [{"DataPath": "/widgets/0", "Message": "Should be object"},
                {"DataPath": "", "Message": "Should have <required> & 'quoted' property"}]
    error = errors.InvalidParameterInput("The dashboard body is invalid", {"dashboardValidationMessages": messages})
    response = awsproto.serialize_error(CLOUDWATCH, protocol, error, "r", "PutDashboard")
    parsed = client_parse(protocol, CLOUDWATCH.operation_model("PutDashboard"), response)
    # what botocore's endpoint adds to the error response from the code's modeled shape
    shape = CLOUDWATCH.model.shape_for("DashboardInvalidInputError")
    raw = {"status_code": response.status, "headers": {k.lower(): v for k, v in response.headers.items()},
           "body": response.body}
    modeled = botocore.parsers.create_parser(protocol.value).parse(raw, shape)  # type: ignore[arg-type]

    assert (response.status, parsed["Error"]["Code"]) == (400, "InvalidParameterInput")
    assert modeled["dashboardValidationMessages"] == messages


def test_members_the_error_shape_does_not_define_are_not_written() -> None:
    error = errors.InvalidParameterValue("bad", {"dashboardValidationMessages": [{"DataPath": "", "Message": "m"}]})
    response = awsproto.serialize_error(CLOUDWATCH, Protocol.JSON, error, "r", "PutMetricAlarm")
    assert set(orjson.loads(response.body)) == {"__type", "message"}
