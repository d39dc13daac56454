# ruff: noqa: D103 - test names say what each test checks
"""A real botocore CloudWatch client, per protocol, whose HTTP layer is our codecs.

A ``before-send`` hook takes the signed request the client is about to send, runs it through what
the gateway does (gunzip, detect, parse, an operation, serialize) and hands the response back to
the client, so the client's own parser, error factory and retry logic read our bytes. The client
is forced onto one protocol by a copy of botocore's model that offers only that protocol.
"""

from __future__ import annotations

import copy
import gzip
import json
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import botocore.session
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError

from gateway import awsproto
from gateway.awsproto import HttpRequest, HttpResponse, Protocol
from stackwatch import errors

Operation = Callable[[dict[str, Any]], dict[str, Any]]
NAN_MESSAGE = "The value NaN for parameter MetricData.member.1.Value is invalid."


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def gateway(request: AWSPreparedRequest, operations: dict[str, Operation], seen: list[Any]) -> HttpResponse:
    """What gateway/app.py does around the codecs, minus auth and gRPC."""
    url = urllib.parse.urlsplit(request.url)
    body: Any = request.body or b""
    body = body.encode() if isinstance(body, str) else bytes(body)
    headers = {k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
    if headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    http = HttpRequest("POST", url.path, headers, urllib.parse.parse_qsl(url.query), body)
    service, protocol, operation = awsproto.CLOUDWATCH, Protocol.QUERY, None
    try:
        detected = awsproto.detect(http)
        service, protocol, operation = detected.service, detected.protocol, detected.operation
        op_model, params = awsproto.parse_request(detected, http)
        seen.append(params)
        return awsproto.serialize_response(detected, op_model, operations[op_model.name](params), "loop-1")
    except errors.ServiceError as e:
        answer = awsproto.detected_from(e)
        if answer is not None:
            service, protocol = answer.service, answer.protocol
        return awsproto.serialize_error(service, protocol, e, "loop-1", operation)


@pytest.fixture(scope="module")
def model_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    loader = botocore.session.get_session().get_component("data_loader")
    original = loader.load_service_model("cloudwatch", "service-2")
    root = tmp_path_factory.mktemp("models")
    for protocol in Protocol:
        model = copy.deepcopy(original)
        model["metadata"]["protocol"] = protocol.value
        model["metadata"]["protocols"] = [protocol.value]
        target = root / protocol.name / "cloudwatch" / model["metadata"]["apiVersion"]
        target.mkdir(parents=True)
        (target / "service-2.json").write_text(json.dumps(model))
    return root


class Loop:
    """A client for one protocol plus the operations our fake backend runs."""

    def __init__(self, protocol: Protocol, root: Path) -> None:
        session = botocore.session.get_session()
        session.get_component("data_loader").search_paths.insert(0, str(root / protocol.name))
        self.client: Any = cast(Any, session.create_client(
            "cloudwatch", region_name="us-east-1", endpoint_url="http://stackwatch.invalid",
            aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
            config=Config(retries={"total_max_attempts": 1})))
        assert self.client.meta.service_model.resolved_protocol == protocol.value
        self.operations: dict[str, Operation] = {}
        self.seen: list[dict[str, Any]] = []
        self.gzipped: list[bool] = []
        self.client.meta.events.register("before-send", self._send)

    def _send(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        self.gzipped.append(request.headers.get("Content-Encoding") in ("gzip", b"gzip"))
        out = gateway(request, self.operations, self.seen)
        headers: Any = out.headers  # AWSResponse wraps any mapping in its HeadersDict
        return AWSResponse(request.url, out.status, headers, _Raw(out.body))


@pytest.fixture(params=list(Protocol), ids=lambda p: p.name.lower())
def loop(request: pytest.FixtureRequest, model_root: Path) -> Loop:
    return Loop(request.param, model_root)


def test_put_metric_data_large_enough_to_be_gzipped(loop: Loop) -> None:
    start = datetime(2024, 5, 1, 12, tzinfo=UTC)
    data = [{"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": f"h{i}"}],
             "Timestamp": start + timedelta(seconds=i, microseconds=i), "Value": i / 3,
             "Unit": "Milliseconds"}
            for i in range(400)]
    loop.operations["PutMetricData"] = lambda params: {}

    loop.client.put_metric_data(Namespace="StackWatch/Loop", MetricData=data)

    assert loop.gzipped == [True]
    assert loop.seen == [{"Namespace": "StackWatch/Loop", "MetricData": data}]


def test_get_metric_statistics_result_reaches_the_client(loop: Loop) -> None:
    start = datetime(2024, 5, 1, 12, tzinfo=UTC)
    points = [{"Timestamp": start + timedelta(minutes=i), "SampleCount": 4.0, "Average": 12.5 + i,
               "Unit": "Milliseconds", "ExtendedStatistics": {"p99": 19.9}} for i in range(3)]
    loop.operations["GetMetricStatistics"] = lambda p: {"Label": p["MetricName"], "Datapoints": points}

    out = loop.client.get_metric_statistics(
        Namespace="A", MetricName="Latency", StartTime=start, EndTime=start + timedelta(hours=1), Period=60,
        Statistics=["Average", "SampleCount"], ExtendedStatistics=["p99"])

    assert out["Label"] == "Latency"
    assert out["Datapoints"] == points
    assert out["ResponseMetadata"]["RequestId"] == "loop-1"


def test_modeled_error_raises_the_modeled_exception_with_the_query_code(loop: Loop) -> None:
    def reject(params: dict[str, Any]) -> dict[str, Any]:
        raise errors.InvalidParameterValue(NAN_MESSAGE)

    loop.operations["PutMetricData"] = reject

    with pytest.raises(loop.client.exceptions.InvalidParameterValueException) as info:
        loop.client.put_metric_data(Namespace="A", MetricData=[{"MetricName": "m", "Value": 1.0}])

    error = info.value.response["Error"]
    assert (error["Code"], error["Type"]) == ("InvalidParameterValue", "Sender")
    assert error["Message"] == NAN_MESSAGE
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize(("error", "status"), [
    (errors.Throttling("Rate exceeded"), 400),
    (errors.SignatureDoesNotMatch("Signature expired"), 403),
    (errors.InternalServiceError("Boom"), 500),
], ids=lambda v: getattr(v, "code", v))
def test_other_errors_keep_their_code(loop: Loop, error: errors.ServiceError, status: int) -> None:
    def fail(params: dict[str, Any]) -> dict[str, Any]:
        raise error

    loop.operations["ListMetrics"] = fail

    with pytest.raises(ClientError) as info:
        loop.client.list_metrics(Namespace="A")

    assert info.value.response["Error"]["Code"] == error.code
    assert info.value.response["Error"]["Message"] == error.message
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_client_side_validation_error_from_our_parser(loop: Loop) -> None:
    loop.operations["PutMetricData"] = lambda params: {}
    dims = [{"Name": f"D{i}", "Value": "v"} for i in range(31)]

    with pytest.raises(loop.client.exceptions.InvalidParameterValueException) as info:
        loop.client.put_metric_data(Namespace="A", MetricData=[{"MetricName": "m", "Dimensions": dims}])

    assert info.value.response["Error"]["Message"] == (
        "The collection MetricData.member.1.Dimensions must not have a size greater than 30.")
