# ruff: noqa: D103 - test names say what each test checks
"""Every operation x protocol, with botocore as the oracle.

botocore's requests parse back to their input; our responses parse in botocore to what we put in.
"""

from __future__ import annotations

import zlib
from typing import Any

import pytest

from gateway import awsproto
from gateway.awsproto import AUTOSCALING, CLOUDWATCH, Detected, Protocol, Service

from .oracle import client_parse, client_request, differences
from .shapegen import ShapeValues

CASES = [(CLOUDWATCH, op, protocol) for op in CLOUDWATCH.model.operation_names for protocol in Protocol]
CASES += [(AUTOSCALING, op, Protocol.QUERY) for op in AUTOSCALING.model.operation_names]
IDS = [f"{service.name}-{op}-{protocol.name.lower()}" for service, op, protocol in CASES]
OUTPUT_CASES = [case for case in CASES if case[0].operation_model(case[1]).output_shape is not None]
OUTPUT_IDS = [f"{s.name}-{op}-{p.name.lower()}" for s, op, p in OUTPUT_CASES]


def generated(service: Service, operation: str, which: str) -> dict[str, Any]:
    op = service.operation_model(operation)
    shape = op.input_shape if which == "input" else op.output_shape
    if shape is None:
        return {}
    seed = zlib.crc32(f"{service.name}.{operation}.{which}".encode())
    value: dict[str, Any] = ShapeValues(seed).value(shape)
    return value


def test_every_cloudwatch_operation_is_covered() -> None:
    assert len(CLOUDWATCH.model.operation_names) == 59
    assert sum(1 for s, _, _ in CASES if s is CLOUDWATCH) == 59 * 3


@pytest.mark.parametrize(("service", "operation", "protocol"), CASES, ids=IDS)
def test_botocore_request_parses_to_its_input(service: Service, operation: str, protocol: Protocol) -> None:
    params = generated(service, operation, "input")
    req = client_request(protocol, service.operation_model(operation), params)

    detected = awsproto.detect(req)
    op_model, parsed = awsproto.parse_request(detected, req)

    assert (detected.service, detected.protocol, detected.operation) == (service, protocol, operation)
    assert op_model.name == operation
    assert differences(parsed, params) == []


@pytest.mark.parametrize(("service", "operation", "protocol"), OUTPUT_CASES, ids=OUTPUT_IDS)
def test_our_response_parses_in_botocore_to_the_result(service: Service, operation: str,
                                                       protocol: Protocol) -> None:
    result = generated(service, operation, "output")
    op_model = service.operation_model(operation)

    response = awsproto.serialize_response(Detected(service, protocol, operation), op_model, result, "req-1")
    parsed = client_parse(protocol, op_model, response)

    assert response.status == 200
    assert parsed.pop("ResponseMetadata")["RequestId"] == "req-1"
    assert differences(parsed, result) == []


@pytest.mark.parametrize("protocol", list(Protocol), ids=lambda p: p.name.lower())
def test_operation_without_output_answers_metadata_only(protocol: Protocol) -> None:
    op_model = CLOUDWATCH.operation_model("PutMetricData")
    detected = Detected(CLOUDWATCH, protocol, "PutMetricData")
    response = awsproto.serialize_response(detected, op_model, {}, "r-9")

    assert response.status == 200
    assert response.headers["x-amzn-RequestId"] == "r-9"
    metadata = client_parse(protocol, op_model, response)["ResponseMetadata"]
    if protocol is not Protocol.CBOR:  # botocore's rpc-v2 parser reads metadata only for ops with output
        assert metadata["RequestId"] == "r-9"
    expected = {Protocol.QUERY: b'<PutMetricDataResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">'
                                b"<ResponseMetadata><RequestId>r-9</RequestId></ResponseMetadata>"
                                b"</PutMetricDataResponse>",
                Protocol.JSON: b"{}", Protocol.CBOR: b"\xa0"}
    assert response.body == expected[protocol]
