# ruff: noqa: D103 - test names say what each test checks
"""Parsing validates against the model and names the parameter query-style in every protocol.

Model-rule messages are the service's wording: CloudWatch's metric API ("The parameter X must be
shorter than 256 characters.", word for word what the ingest domain says for the same rule, so a
client reads the same message whichever layer caught it), Auto Scaling's generic AWS validation
("1 validation error detected: Value 'x' at 'autoScalingGroupName' failed to satisfy constraint:
...").
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from gateway import awsproto
from gateway.awsproto import AUTOSCALING, CLOUDWATCH, HttpRequest, Protocol, Service
from gateway.awsproto._reader import camel_path
from services.ingest.domain import RawDatum, plan_query, validate_metric_identity, validate_put
from services.ingest.domain._identity import validate_list_request
from stackwatch import errors

from .oracle import client_request, differences

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
PROTOCOLS = pytest.mark.parametrize("protocol", list(Protocol), ids=lambda p: p.name.lower())


def parse(protocol: Protocol, operation: str, params: dict[str, Any],
          service: Service = CLOUDWATCH) -> dict[str, Any]:
    """Params sent as botocore would send them, but without botocore's own validation."""
    req = client_request(protocol, service.operation_model(operation), params, validate=False)
    return awsproto.parse_request(awsproto.detect(req), req)[1]


def parse_form(body: str) -> dict[str, Any]:
    req = HttpRequest.build("POST", "/", FORM, body=body.encode())
    return awsproto.parse_request(awsproto.detect(req), req)[1]


def rejected(protocol: Protocol, operation: str, params: dict[str, Any],
             service: Service = CLOUDWATCH) -> errors.ServiceError:
    with pytest.raises(errors.ServiceError) as info:
        parse(protocol, operation, params, service)
    return info.value


def datum(name: str = "Latency", **extra: Any) -> dict[str, Any]:
    return {"MetricName": name, "Value": 1.0, **extra}


@PROTOCOLS
def test_missing_required_member_names_its_path(protocol: Protocol) -> None:
    error = rejected(protocol, "PutMetricData", {"Namespace": "A", "MetricData": [datum(), {"Value": 2.0}]})

    assert isinstance(error, errors.MissingParameter)
    assert error.message == "The parameter MetricData.member.2.MetricName is required."


@PROTOCOLS
def test_missing_nested_member_names_the_full_path(protocol: Protocol) -> None:
    data = [datum(), datum(), datum(Dimensions=[{"Name": "Host"}])]

    error = rejected(protocol, "PutMetricData", {"Namespace": "A", "MetricData": data})

    assert error.message == "The parameter MetricData.member.3.Dimensions.member.1.Value is required."


@PROTOCOLS
def test_missing_top_level_member(protocol: Protocol) -> None:
    error = rejected(protocol, "PutMetricData", {"MetricData": [datum()]})

    assert (error.code, error.message) == ("MissingParameter", "The parameter Namespace is required.")


@PROTOCOLS
def test_more_than_30_dimensions(protocol: Protocol) -> None:
    dims = [{"Name": f"D{i}", "Value": "v"} for i in range(31)]

    error = rejected(protocol, "PutMetricData", {"Namespace": "A", "MetricData": [datum(Dimensions=dims)]})

    assert isinstance(error, errors.InvalidParameterValue)
    assert error.status == 400
    assert error.message == ("The collection MetricData.member.1.Dimensions must not have a size greater "
                             "than 30.")


@PROTOCOLS
def test_enum_violation_names_the_allowed_values(protocol: Protocol) -> None:
    error = rejected(protocol, "PutMetricData", {"Namespace": "A", "MetricData": [datum(Unit="Parsecs")]})

    assert isinstance(error, errors.InvalidParameterValue)
    assert error.message.startswith("The parameter MetricData.member.1.Unit must be a value in the set "
                                    "[ Seconds, Microseconds, Milliseconds,")
    assert error.message.endswith(" Count/Second, None ].")


@PROTOCOLS
def test_string_longer_than_the_model_allows(protocol: Protocol) -> None:
    error = rejected(protocol, "PutMetricData", {"Namespace": "A", "MetricData": [datum("x" * 256)]})

    assert isinstance(error, errors.InvalidParameterValue)
    assert error.message == ("The parameter MetricData.member.1.MetricName must be shorter than 256 "
                             "characters.")


@PROTOCOLS
def test_required_string_given_empty_is_missing(protocol: Protocol) -> None:
    error = rejected(protocol, "PutMetricData", {"Namespace": "", "MetricData": [datum()]})

    assert isinstance(error, errors.MissingParameter)
    assert error.message == "The parameter Namespace is required."


@PROTOCOLS
def test_required_nested_string_given_empty_is_missing(protocol: Protocol) -> None:
    data = [datum(Dimensions=[{"Name": "Host", "Value": ""}])]

    error = rejected(protocol, "PutMetricData", {"Namespace": "A", "MetricData": data})

    assert isinstance(error, errors.MissingParameter)
    assert error.message == "The parameter MetricData.member.1.Dimensions.member.1.Value is required."


@PROTOCOLS
def test_optional_string_given_empty_is_shorter_than_the_model_allows(protocol: Protocol) -> None:
    error = rejected(protocol, "ListMetrics", {"Namespace": ""})

    assert isinstance(error, errors.InvalidParameterValue)
    assert error.message == "The parameter Namespace must be longer than 0 characters."


@PROTOCOLS
def test_number_below_the_model_minimum(protocol: Protocol) -> None:
    params = {"Namespace": "A", "MetricName": "m", "StartTime": datetime(2024, 5, 1, tzinfo=UTC),
              "EndTime": datetime(2024, 5, 2, tzinfo=UTC), "Period": 0, "Statistics": ["Sum"]}

    error = rejected(protocol, "GetMetricStatistics", params)

    assert isinstance(error, errors.InvalidParameterValue)
    assert error.message == "The parameter Period must be greater than or equal to 1."


@PROTOCOLS
def test_number_outside_the_int32_range_is_invalid(protocol: Protocol) -> None:
    params = {"Namespace": "A", "MetricName": "m", "StartTime": datetime(2024, 5, 1, tzinfo=UTC),
              "EndTime": datetime(2024, 5, 2, tzinfo=UTC), "Period": 2**31, "Statistics": ["Sum"]}

    error = rejected(protocol, "GetMetricStatistics", params)

    assert error.message == f"The value {2**31} for parameter Period is invalid."


@PROTOCOLS
def test_empty_list_below_the_model_minimum(protocol: Protocol) -> None:
    params = {"Namespace": "A", "MetricName": "m", "StartTime": datetime(2024, 5, 1, tzinfo=UTC),
              "EndTime": datetime(2024, 5, 2, tzinfo=UTC), "Period": 60, "Statistics": []}

    error = rejected(protocol, "GetMetricStatistics", params)

    assert error.message == "The collection Statistics must not have a size less than 1."


@pytest.mark.parametrize("protocol", [Protocol.JSON, Protocol.CBOR], ids=["json", "cbor"])
def test_union_with_two_members(protocol: Protocol) -> None:
    window = {"SlidingWindow": {}, "WallClockWindow": {"Timezone": "UTC"}}
    params = {"AlarmName": "a", "EvaluationWindow": window}

    error = rejected(protocol, "PutMetricAlarm", params)

    assert error.message == "Exactly one member of EvaluationWindow must be set."


def test_autoscaling_reports_validation_error() -> None:
    error = rejected(Protocol.QUERY, "SetDesiredCapacity", {"DesiredCapacity": 2}, AUTOSCALING)

    assert error.code == "ValidationError"
    assert error.message == "The parameter AutoScalingGroupName is required."


# -- the same rule, worded by each service -----------------------------------------------------------

AS_PREFIX = "1 validation error detected: Value "


@pytest.mark.parametrize(("operation", "params", "message"), [
    pytest.param("SetDesiredCapacity", {"AutoScalingGroupName": "g" * 256, "DesiredCapacity": 1},
                 f"'{'g' * 256}' at 'autoScalingGroupName' failed to satisfy constraint: Member must have "
                 "length less than or equal to 255", id="string-too-long"),
    pytest.param("SetDesiredCapacity", {"AutoScalingGroupName": "", "DesiredCapacity": 1},
                 "'' at 'autoScalingGroupName' failed to satisfy constraint: Member must have length greater "
                 "than or equal to 1", id="required-string-empty"),
    pytest.param("PutWarmPool", {"AutoScalingGroupName": "g", "MinSize": -1},
                 "'-1' at 'minSize' failed to satisfy constraint: Member must have value greater than or "
                 "equal to 0", id="number-below-minimum"),
    pytest.param("PutWarmPool", {"AutoScalingGroupName": "g", "PoolState": "Frozen"},
                 "'Frozen' at 'poolState' failed to satisfy constraint: Member must satisfy enum value set: "
                 "[Stopped, Running, Hibernated]", id="enum"),
    pytest.param("DescribeLifecycleHooks", {"AutoScalingGroupName": "g",
                                            "LifecycleHookNames": [f"h{i}" for i in range(51)]},
                 f"'[{', '.join(f'h{i}' for i in range(51))}]' at 'lifecycleHookNames' failed to satisfy "
                 "constraint: Member must have length less than or equal to 50", id="list-too-long"),
    pytest.param("TerminateInstanceInAutoScalingGroup",
                 {"InstanceId": "i-" + "0" * 35, "ShouldDecrementDesiredCapacity": True},
                 f"'i-{'0' * 35}' at 'instanceId' failed to satisfy constraint: Member must have length "
                 "less than or equal to 36", id="another-limit"),  # 19 in AWS's model; CloudStack UUIDs are 36
])
def test_autoscaling_words_model_rules_as_aws_generic_validation(operation: str, params: dict[str, Any],
                                                                 message: str) -> None:
    error = rejected(Protocol.QUERY, operation, params, AUTOSCALING)

    assert isinstance(error, errors.ValidationError)
    assert error.message == AS_PREFIX + message


@pytest.mark.parametrize(("path", "camel"), [
    ("AutoScalingGroupName", "autoScalingGroupName"),
    ("Tags.member.6.Key", "tags.6.member.key"),
    ("LifecycleHookNames.member.2", "lifecycleHookNames.2.member"),
    ("Overrides.member.1.LaunchTemplateSpecification", "overrides.1.member.launchTemplateSpecification"),
    ("Attributes.entry.2.value", "attributes.2.entry.value"),
])
def test_generic_validation_paths_are_camel_case_with_the_index_first(path: str, camel: str) -> None:
    assert camel_path(path) == camel


NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
GET = {"Namespace": "A", "MetricName": "m", "StartTime": NOW.replace(hour=11), "EndTime": NOW, "Period": 60,
       "Statistics": ["Sum"]}


def put_metric_data(p: dict[str, Any]) -> object:
    """The ingest domain's checks of a PutMetricData request (as the servicer gets it over gRPC)."""
    raws = [RawDatum(metric_name=d.get("MetricName", ""), timestamp=None, value=d.get("Value"),
                     dimensions=tuple((x["Name"], x["Value"]) for x in d.get("Dimensions", ())),
                     statistic_values=None, values=(), counts=(), unit=d.get("Unit"), storage_resolution=None)
            for d in p["MetricData"]]
    return validate_put(p["Namespace"], raws, NOW.timestamp())


def get_metric_statistics(p: dict[str, Any]) -> object:
    """The ingest domain's checks of a GetMetricStatistics request."""
    validate_metric_identity(p["Namespace"], p["MetricName"],
                             [(d["Name"], d["Value"]) for d in p.get("Dimensions", ())])
    return plan_query(p["StartTime"].timestamp(), p["EndTime"].timestamp(), p["Period"], NOW.timestamp(),
                      statistics=p.get("Statistics", ()), extended=p.get("ExtendedStatistics", ()),
                      unit=p.get("Unit"))


def list_metrics(p: dict[str, Any]) -> object:
    """The ingest domain's checks of a ListMetrics request."""
    return validate_list_request(p.get("Namespace"), p.get("MetricName"),
                                 [(f["Name"], f.get("Value")) for f in p.get("Dimensions", ())],
                                 p.get("RecentlyActive"))


DOMAIN_CHECKS = {"PutMetricData": put_metric_data, "GetMetricStatistics": get_metric_statistics,
                 "ListMetrics": list_metrics}


def put_request(*data: dict[str, Any], namespace: str = "A") -> tuple[str, dict[str, Any]]:
    return "PutMetricData", {"Namespace": namespace, "MetricData": list(data)}


def dims(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"Name": n, "Value": v} for n, v in pairs]


@pytest.mark.parametrize(("operation", "params"), [
    pytest.param(*put_request(datum(Unit="Parsecs")), id="put-unit"),
    pytest.param(*put_request(datum("m" * 256)), id="put-metric-name-256"),
    pytest.param(*put_request(datum(), namespace="n" * 256), id="put-namespace-256"),
    pytest.param(*put_request(datum(), namespace=""), id="put-namespace-empty"),
    pytest.param(*put_request(datum(Dimensions=dims(*((f"d{i}", "v") for i in range(31))))),
                 id="put-31-dimensions"),
    pytest.param(*put_request(datum(Dimensions=dims(("h", "v" * 1025)))), id="put-dimension-value-1025"),
    pytest.param(*put_request(datum(Dimensions=dims(("", "v")))), id="put-dimension-name-empty"),
    pytest.param("GetMetricStatistics", {**GET, "Period": 0}, id="get-period-0"),
    pytest.param("GetMetricStatistics", {**GET, "Period": -60}, id="get-period-negative"),
    pytest.param("GetMetricStatistics", {**GET, "Statistics": ["Sum", "Avg"]}, id="get-statistic"),
    pytest.param("GetMetricStatistics", {**GET, "Statistics": ["Sum"] * 6}, id="get-6-statistics"),
    pytest.param("GetMetricStatistics", {**GET, "Unit": "Parsecs"}, id="get-unit"),
    pytest.param("GetMetricStatistics", {**GET, "Namespace": ""}, id="get-namespace-empty"),
    pytest.param("GetMetricStatistics", {**GET, "MetricName": "m" * 256}, id="get-metric-name-256"),
    pytest.param("GetMetricStatistics", {**GET, "Dimensions": dims(("h", ""))}, id="get-dimension-empty"),
    pytest.param("ListMetrics", {"Namespace": ""}, id="list-namespace-empty"),
    pytest.param("ListMetrics", {"MetricName": "m" * 256}, id="list-metric-name-256"),
    pytest.param("ListMetrics", {"RecentlyActive": "PT1H"}, id="list-recently-active"),
    pytest.param("ListMetrics", {"RecentlyActive": ""}, id="list-recently-active-empty"),
    pytest.param("ListMetrics", {"Dimensions": dims(("h", ""))}, id="list-filter-value-empty"),
    pytest.param("ListMetrics", {"Dimensions": [{"Name": f"d{i}"} for i in range(11)]}, id="list-11-filters"),
])
@PROTOCOLS
def test_gateway_and_ingest_domain_word_a_broken_rule_alike(protocol: Protocol, operation: str,
                                                             params: dict[str, Any]) -> None:
    with pytest.raises(errors.ServiceError) as info:
        DOMAIN_CHECKS[operation](params)
    domain = info.value

    gateway = rejected(protocol, operation, params)

    assert (type(gateway), gateway.message) == (type(domain), domain.message)


# -- query specifics -----------------------------------------------------------------------------

PUT = "Action=PutMetricData&Version=2010-08-01&Namespace=A&MetricData.member.1.MetricName=m"


@pytest.mark.parametrize(("field", "text"), [
    ("Value", "abc"), ("Value", ""), ("Timestamp", "yesterday"), ("Timestamp", "2024-13-01T00:00:00Z"),
    ("StorageResolution", "1.5"), ("StorageResolution", "99999999999"), ("Dimensions.member.x.Name", "a"),
])
def test_query_unparsable_values(field: str, text: str) -> None:
    with pytest.raises(errors.InvalidParameterValue) as info:
        parse_form(f"{PUT}&MetricData.member.1.{field}={text}")

    path = "MetricData.member.1." + field.split(".member.")[0]
    assert path in info.value.message
    if field != "Dimensions.member.x.Name":
        assert info.value.message == f"The value {text} for parameter {path} is invalid."


@pytest.mark.parametrize("index", ["x", "-1", "1e3", "9" * 5000])
def test_query_member_index_must_be_a_plausible_number(index: str) -> None:
    with pytest.raises(errors.InvalidParameterValue) as info:
        parse_form(f"{PUT}&MetricData.member.1.Dimensions.member.{index}.Name=a")

    message = info.value.message
    assert message.startswith("The parameter MetricData.member.1.Dimensions has an invalid member index")


def test_query_sparse_and_unordered_member_indexes_sort_numerically() -> None:
    params = parse_form("Action=PutMetricData&Version=2010-08-01&Namespace=A"
                        "&MetricData.member.10.MetricName=ten&MetricData.member.2.MetricName=two"
                        "&MetricData.member.9.MetricName=nine&MetricData.member.9.Values.member.3=3"
                        "&MetricData.member.9.Values.member.1=1")

    assert [d["MetricName"] for d in params["MetricData"]] == ["two", "nine", "ten"]
    assert params["MetricData"][1]["Values"] == [1.0, 3.0]


def test_query_decoding_and_scalar_forms() -> None:
    params = parse_form(
        "Action=PutMetricData&Version=2010-08-01&Namespace=My+App%2FProd"
        "&MetricData.member.1.MetricName=p%C3%A9+99&MetricData.member.1.Value=1e3"
        "&MetricData.member.1.Timestamp=2024-05-01T14%3A00%3A00.5%2B02%3A00"
        "&MetricData.member.2.MetricName=b&MetricData.member.2.Timestamp=2024-05-01T12%3A00%3A00"
        "&MetricData.member.3.MetricName=c&MetricData.member.3.Timestamp=1714564800"
        "&StrictEntityValidation=TRUE")

    assert params["Namespace"] == "My App/Prod"
    first, second, third = params["MetricData"]
    assert first == {"MetricName": "pé 99", "Value": 1000.0,
                     "Timestamp": datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)}
    assert second["Timestamp"] == third["Timestamp"] == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert first["Timestamp"].tzinfo is UTC
    assert params["StrictEntityValidation"] is True


def test_query_maps_and_their_missing_parts() -> None:
    base = ("Action=PutMetricData&Version=2010-08-01&Namespace=A"
            "&EntityMetricData.member.1.MetricData.member.1.MetricName=m")
    params = parse_form(base + "&EntityMetricData.member.1.Entity.KeyAttributes.entry.2.key=Name"
                               "&EntityMetricData.member.1.Entity.KeyAttributes.entry.2.value=api"
                               "&EntityMetricData.member.1.Entity.KeyAttributes.entry.1.key=Type"
                               "&EntityMetricData.member.1.Entity.KeyAttributes.entry.1.value=Service")
    assert params["EntityMetricData"][0]["Entity"] == {"KeyAttributes": {"Type": "Service", "Name": "api"}}

    with pytest.raises(errors.MissingParameter) as info:
        parse_form(base + "&EntityMetricData.member.1.Entity.KeyAttributes.entry.1.key=Type")
    path = "EntityMetricData.member.1.Entity.KeyAttributes.entry.1.value"
    assert info.value.message == f"The parameter {path} is required."


def test_query_ignores_auth_transport_and_unknown_params() -> None:
    params = parse_form("Action=ListMetrics&Version=2010-08-01&AWSAccessKeyId=AKID&Signature=abc"
                        "&SignatureMethod=HmacSHA256&SignatureVersion=2&Timestamp=2024-05-01T12%3A00%3A00Z"
                        "&Expires=2024-05-02&X-Amz-Date=20240501T120000Z&X-Amz-Signature=ff"
                        "&Namespace=A&Bogus.member.1=x&Dimensions.member.1.Name=Host&Dimensions.member.1.Colour=red")

    assert params == {"Namespace": "A", "Dimensions": [{"Name": "Host"}]}


def test_query_empty_list_marker() -> None:
    params = parse_form("Action=ListMetrics&Version=2010-08-01&Dimensions=")

    assert params == {"Dimensions": []}


# -- json and cbor specifics ------------------------------------------------------------------------


def json_request(body: bytes, operation: str = "PutMetricData") -> HttpRequest:
    return HttpRequest.build("POST", "/", {"X-Amz-Target": f"GraniteServiceVersion20100801.{operation}",
                                           "Content-Type": "application/x-amz-json-1.0"}, body=body)


def parse_json(body: bytes, operation: str = "PutMetricData") -> dict[str, Any]:
    req = json_request(body, operation)
    return awsproto.parse_request(awsproto.detect(req), req)[1]


@pytest.mark.parametrize("body", [b'{"Namespace": "A",', b"[1, 2]", b'"text"', b"\xff\xfe", b"{} {}"])
def test_malformed_json_is_a_serialization_exception(body: bytes) -> None:
    with pytest.raises(errors.SerializationException) as info:
        parse_json(body)

    assert info.value.status == 400


@pytest.mark.parametrize(("member", "value"), [
    ("Value", "abc"), ("Value", True), ("MetricName", 5), ("Dimensions", {}), ("StorageResolution", 1.5),
    ("StorageResolution", 2**40), ("StorageResolution", "1"), ("Timestamp", "soon"), ("Timestamp", [1]),
    ("Timestamp", 1e20),
])
def test_json_wrong_types(member: str, value: Any) -> None:
    body = orjson.dumps({"Namespace": "A", "MetricData": [{"MetricName": "m", member: value}]})

    with pytest.raises(errors.InvalidParameterValue) as info:
        parse_json(body)

    assert f"parameter MetricData.member.1.{member} " in info.value.message


def test_json_nulls_are_absent_and_special_doubles_parse() -> None:
    params = parse_json(b'{"Namespace": "A", "Unit": null, "MetricData": [{"MetricName": "m", "Unit": null, '
                        b'"Value": "NaN", "Values": ["Infinity", "-Infinity", 3], '
                        b'"Timestamp": "2024-05-01T12:00:00Z"}, '
                        b'{"MetricName": "n", "Timestamp": 1714564800.25}]}')

    first, second = params["MetricData"]
    assert set(first) == {"MetricName", "Value", "Values", "Timestamp"}
    assert first["Value"] != first["Value"]
    assert first["Values"] == [float("inf"), float("-inf"), 3.0]
    assert type(first["Values"][2]) is float
    assert second["Timestamp"] == datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=UTC)

    with pytest.raises(errors.MissingParameter):
        parse_json(b'{"Namespace": null, "MetricData": []}')


def cbor_request(body: bytes, operation: str = "PutMetricData") -> HttpRequest:
    headers = {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"}
    return HttpRequest.build("POST", f"/service/GraniteServiceVersion20100801/operation/{operation}", headers,
                             body=body)


def parse_cbor(body: bytes, operation: str = "PutMetricData") -> dict[str, Any]:
    req = cbor_request(body, operation)
    return awsproto.parse_request(awsproto.detect(req), req)[1]


def text(value: str) -> bytes:
    return bytes([0x60 + len(value)]) + value.encode()


def test_cbor_indefinite_lengths_small_floats_ints_and_timestamp_forms() -> None:
    body = b"".join([
        b"\xbf", text("Namespace"), b"\x7f", text("St"), text("ack"), b"\xff",  # indefinite map and text
        text("MetricData"), b"\x9f",                                            # indefinite array
        b"\xbf", text("MetricName"), text("Lat"),
        text("Value"), b"\xf9\x3c\x00",                                         # half float 1.0
        text("Values"), b"\x9f", b"\xfa\x3f\xc0\x00\x00", b"\x02", b"\xff",     # single 1.5, int 2
        text("Timestamp"), b"\xc1\xfb" + struct.pack(">d", 1714564800.25),      # tag 1 + float64
        text("Unit"), b"\xf7",                                                  # undefined = absent
        b"\xff",
        b"\xa2", text("MetricName"), text("m2"), text("Timestamp"), b"\x1a\x66\x32\x2e\xc0",  # plain int
        b"\xff", b"\xff"])

    params = parse_cbor(body)

    want = {"Namespace": "Stack", "MetricData": [
        {"MetricName": "Lat", "Value": 1.0, "Values": [1.5, 2.0],
         "Timestamp": datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=UTC)},
        {"MetricName": "m2", "Timestamp": datetime(2024, 5, 1, 12, tzinfo=UTC)}]}
    assert differences(params, want) == []


@pytest.mark.parametrize("body", [b"\xa1", b"\xa0\x00", b"\x82\x01\x02", b"\x1f", b"\xa1\x81\x01\x01",
                                  b"\xa1" + text("Namespace") + b"\xc1" + text("x")])
def test_malformed_cbor_is_a_serialization_exception(body: bytes) -> None:
    with pytest.raises(errors.SerializationException):
        parse_cbor(body)


def test_cbor_empty_body_is_an_empty_input() -> None:
    assert parse_cbor(b"", "ListMetrics") == {}


def test_cbor_wrong_types() -> None:
    body = b"\xa2" + text("Namespace") + text("A") + text("MetricData") + b"\x81\xa2" + text("MetricName") + \
        text("m") + text("Value") + text("x")

    with pytest.raises(errors.InvalidParameterValue) as info:
        parse_cbor(body)

    assert info.value.message == "The value x for parameter MetricData.member.1.Value is invalid."
