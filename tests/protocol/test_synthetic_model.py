# ruff: noqa: D103 - test names say what each test checks
"""Model features CloudWatch does not use, on a small synthetic model, botocore still the oracle.

Recursive shapes, blobs, flattened lists and maps, list items and members renamed by
``locationName``: the walks are generic, so they must get these right too (Auto Scaling's
``Reference``/``item`` names are the one real case).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.model import ServiceModel

from gateway.awsproto import HttpRequest, Protocol, Service, json10, query, rpcv2cbor
from gateway.awsproto.model import Wording
from stackwatch import errors

from .oracle import client_parse, client_request, differences

MODEL = {
    "version": "2.0",
    "metadata": {
        "apiVersion": "2020-01-01", "endpointPrefix": "synthetic", "jsonVersion": "1.0", "protocol": "query",
        "protocols": ["query", "json", "smithy-rpc-v2-cbor"], "serviceId": "Synthetic",
        "signatureVersion": "v4", "targetPrefix": "Synthetic_20200101", "uid": "synthetic-2020-01-01",
        "xmlNamespace": "http://synthetic.example/doc/2020-01-01/"},
    "operations": {"Echo": {"name": "Echo", "http": {"method": "POST", "requestUri": "/"},
                            "input": {"shape": "Echo"},
                            "output": {"shape": "Echo", "resultWrapper": "EchoResult"}}},
    "shapes": {
        "Echo": {"type": "structure", "members": {
            "Tree": {"shape": "Tree"}, "Data": {"shape": "Blob"}, "When": {"shape": "Time"},
            "Flat": {"shape": "FlatList"}, "Wrapped": {"shape": "ItemList"},
            "Renamed": {"shape": "String", "locationName": "renamedName"},
            "FlatMap": {"shape": "FlatMap"}, "Size": {"shape": "Size"}, "Mode": {"shape": "Mode"}}},
        "Tree": {"type": "structure", "required": ["Label"], "members": {
            "Label": {"shape": "String"}, "Children": {"shape": "Forest"}}},
        "Forest": {"type": "list", "member": {"shape": "Tree"}, "max": 3},
        "FlatList": {"type": "list", "member": {"shape": "String", "locationName": "Item"},
                     "flattened": True},
        "ItemList": {"type": "list", "member": {"shape": "String", "locationName": "item"}},
        "FlatMap": {"type": "map", "key": {"shape": "String", "locationName": "Name"},
                    "value": {"shape": "String", "locationName": "Val"}, "flattened": True},
        "Blob": {"type": "blob", "max": 8},
        "Size": {"type": "integer", "min": 1, "max": 10},
        "Mode": {"type": "string", "enum": ["fast", "slow"]},
        "Time": {"type": "timestamp"},
        "String": {"type": "string"},
    },
}
SERVICE_MODEL = ServiceModel(MODEL, "synthetic")
SERVICE = Service(
    name="synthetic", signing_name="synthetic", api_version="2020-01-01", target_prefix="Synthetic_20200101",
    xml_namespace="http://synthetic.example/doc/2020-01-01/", smithy_namespace="com.example.synthetic",
    protocols=frozenset(Protocol), invalid_value=errors.InvalidParameterValue,
    missing_parameter=errors.MissingParameter, wording=Wording.PARAMETER, model=SERVICE_MODEL,
    error_shapes={})
ECHO = SERVICE_MODEL.operation_model("Echo")
CODECS: dict[Protocol, Any] = {Protocol.QUERY: query, Protocol.JSON: json10, Protocol.CBOR: rpcv2cbor}

TREE = {"Label": "root", "Children": [
    {"Label": "a", "Children": [{"Label": "a1"}, {"Label": "a2", "Children": [{"Label": "deep"}]}]},
    {"Label": "b"}]}
PARAMS = {"Tree": TREE, "Data": b"\x00\xffbin", "When": datetime(2024, 5, 1, 12, 0, 0, 1, tzinfo=UTC),
          "Flat": ["x", "y z"], "Wrapped": ["p", "q"], "Renamed": "r", "FlatMap": {"k1": "v1", "k2": "v2"}}


def parse(protocol: Protocol, params: dict[str, Any]) -> dict[str, Any]:
    req = client_request(protocol, ECHO, params)
    result: dict[str, Any] = CODECS[protocol].parse(SERVICE, ECHO, req)
    return result


@pytest.mark.parametrize("protocol", list(Protocol), ids=lambda p: p.name.lower())
def test_requests_parse_back(protocol: Protocol) -> None:
    assert differences(parse(protocol, PARAMS), PARAMS) == []


@pytest.mark.parametrize("protocol", list(Protocol), ids=lambda p: p.name.lower())
def test_responses_reach_botocore(protocol: Protocol) -> None:
    # botocore's cbor parser reads members by model name while its serializer writes locationName,
    # so a renamed member cannot round-trip through botocore in cbor; leave it out there.
    result = {k: v for k, v in PARAMS.items() if protocol is not Protocol.CBOR or k != "Renamed"}

    response = CODECS[protocol].serialize(SERVICE, ECHO, result, "r")
    parsed = client_parse(protocol, ECHO, response)
    parsed.pop("ResponseMetadata")

    assert differences(parsed, result) == []


def test_query_names_follow_location_names() -> None:
    body = client_request(Protocol.QUERY, ECHO, PARAMS).body.decode()

    for name in ("Item.1=x", "Wrapped.item.2=q", "renamedName=r", "FlatMap.1.Name=k1", "FlatMap.2.Val=v2"):
        assert name in body

    xml = query.serialize(SERVICE, ECHO, PARAMS, "r").body.decode()
    assert "<Item>x</Item><Item>y z</Item>" in xml
    assert "<Wrapped><item>p</item><item>q</item></Wrapped>" in xml
    assert ("<FlatMap><Name>k1</Name><Val>v1</Val></FlatMap>"
            "<FlatMap><Name>k2</Name><Val>v2</Val></FlatMap>") in xml


def test_errors_inside_recursive_shapes_name_the_full_path() -> None:
    form = ("Action=Echo&Version=2020-01-01&Tree.Label=root&Tree.Children.member.1.Label=a"
            "&Tree.Children.member.1.Children.member.2.Children.member.1.Label=x")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    req = HttpRequest.build("POST", "/", headers, body=form.encode())

    with pytest.raises(errors.MissingParameter) as info:
        query.parse(SERVICE, ECHO, req)

    assert info.value.message == "The parameter Tree.Children.member.1.Children.member.2.Label is required."


def test_blob_limits_and_encoding() -> None:
    too_long = {"Data": b"123456789"}
    with pytest.raises(errors.InvalidParameterValue) as info:
        parse(Protocol.JSON, too_long)
    assert info.value.message == "The parameter Data must be shorter than 9 bytes."

    bad = HttpRequest.build("POST", "/", {"X-Amz-Target": "Synthetic_20200101.Echo"}, body=b'{"Data": "!!"}')
    with pytest.raises(errors.InvalidParameterValue):
        json10.parse(SERVICE, ECHO, bad)


GENERIC = dataclasses.replace(SERVICE, wording=Wording.CONSTRAINT, invalid_value=errors.ValidationError)


@pytest.mark.parametrize(("params", "parameter", "generic"), [
    pytest.param({"Size": 0}, "The parameter Size must be greater than or equal to 1.",
                 "Value '0' at 'size' failed to satisfy constraint: Member must have value greater than or "
                 "equal to 1", id="below-minimum"),
    pytest.param({"Size": 11}, "The parameter Size must be less than or equal to 10.",
                 "Value '11' at 'size' failed to satisfy constraint: Member must have value less than or "
                 "equal to 10", id="above-maximum"),
    pytest.param({"Mode": "warp"}, "The parameter Mode must be a value in the set [ fast, slow ].",
                 "Value 'warp' at 'mode' failed to satisfy constraint: Member must satisfy enum value set: "
                 "[fast, slow]", id="enum"),
    pytest.param({"Tree": {"Label": "r", "Children": [{"Label": str(i)} for i in range(4)]}},
                 "The collection Tree.Children must not have a size greater than 3.",
                 "Value '[{...}, {...}, {...}, {...}]' at 'tree.children' failed to satisfy constraint: "
                 "Member must have length less than or equal to 3", id="list-too-long"),
])
@pytest.mark.parametrize("protocol", list(Protocol), ids=lambda p: p.name.lower())
def test_one_rule_two_wordings(protocol: Protocol, params: dict[str, Any], parameter: str,
                               generic: str) -> None:
    req = client_request(protocol, ECHO, params, validate=False)

    with pytest.raises(errors.InvalidParameterValue) as as_parameter:
        CODECS[protocol].parse(SERVICE, ECHO, req)
    with pytest.raises(errors.ValidationError) as as_generic:
        CODECS[protocol].parse(GENERIC, ECHO, req)

    assert as_parameter.value.message == parameter
    assert as_generic.value.message == "1 validation error detected: " + generic
