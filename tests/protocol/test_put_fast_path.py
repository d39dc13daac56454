# ruff: noqa: D103 - test names say what each test checks
"""PutMetricData's fast path either refuses or gives exactly what the generic walk plus ``_columns`` gives.

The oracle is the generic path: ``awsproto.parse_request`` (the model walk) then
``cloudwatch._columns``. Requests come from botocore's own serializers for each protocol (valid
params, and invalid ones serialized without botocore's validation), and raw decoded trees are
also fed straight to :func:`_put_fast.columns` to reach encodings botocore never writes (wrong
types, json numbers and strings as timestamps, cbor ``undefined``, query text edge cases).
Columns are compared as serialized bytes, so NaN timestamps and left-out columns count.
"""

from __future__ import annotations

import math
import urllib.parse
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import cbor2
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from gateway import awsproto
from gateway.apis import _put_fast, _put_rules, cloudwatch
from gateway.awsproto import CLOUDWATCH, HttpRequest, Protocol, json10, query, rpcv2cbor
from stackwatch.errors import ServiceError

from .oracle import client_request

OPERATION = CLOUDWATCH.operation_model("PutMetricData")
UNITS = OPERATION.input_shape.members["MetricData"].member.members["Unit"].metadata["enum"]  # type: ignore[union-attr]
PROTOCOLS = pytest.mark.parametrize("protocol", list(Protocol), ids=[p.name.lower() for p in Protocol])
SETTINGS = settings(max_examples=150, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def wire(columns: Any) -> bytes:
    return bytes(columns.SerializeToString(deterministic=True))


def generic(protocol: Protocol, req: HttpRequest) -> tuple[str, bytes | None] | ServiceError:
    """What the generic path makes of ``req``: the namespace and columns, or its error."""
    try:
        _, params = awsproto.parse_request(awsproto.detect(req), req)
    except ServiceError as e:
        return e
    data = list(params.get("MetricData", ()))
    for entity in params.get("EntityMetricData", ()):
        data.extend(entity.get("MetricData", ()))
    return params["Namespace"], wire(cloudwatch._columns(data)) if data else None


def fast(req: HttpRequest) -> tuple[str, bytes] | None:
    found = _put_fast.accept(awsproto.detect(req), req)
    return None if found is None else (found[0], wire(found[1]))


def agrees(protocol: Protocol, req: HttpRequest) -> bool:
    """Asserts the fast path refuses or matches the generic path; True when it accepted."""
    want, got = generic(protocol, req), fast(req)
    if got is None:
        return False
    assert not isinstance(want, ServiceError), f"fast path accepted what the walk rejects: {want.message}"
    assert got == want
    return True


def request(protocol: Protocol, params: dict[str, Any], validate: bool = False) -> HttpRequest:
    return client_request(protocol, OPERATION, params, validate=validate)


def serialized(protocol: Protocol, params: dict[str, Any]) -> HttpRequest:
    """The request botocore writes for params that may be invalid (skipped when botocore cannot write them)."""
    try:
        return request(protocol, params)
    except Exception:  # noqa: BLE001 - botocore's serializers choke on some wrong types
        assume(False)
        raise


# -- the botocore-serialized requests ------------------------------------------------------------

any_text = st.characters(exclude_categories=["Cs"])
finite = st.floats(allow_nan=False, allow_infinity=False)
moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


def text(low: int, high: int) -> st.SearchStrategy[str]:
    """Strings around the bounds ``low``..``high`` (one beyond each), any characters."""
    edges = st.sampled_from(sorted({max(low - 1, 0), low, high, high + 1})).map(lambda n: "é" * n)
    return st.one_of(st.text(any_text, min_size=low, max_size=min(high, 40)), edges)


ordinary_dimension = st.fixed_dictionaries({"Name": st.text(any_text, min_size=1, max_size=40),
                                            "Value": st.text(any_text, min_size=1, max_size=60)})
ordinary_datum = st.fixed_dictionaries(
    {"MetricName": st.text(any_text, min_size=1, max_size=60)},
    optional={"Dimensions": st.lists(ordinary_dimension, max_size=30), "Timestamp": moments, "Value": finite,
              "Values": st.lists(finite, max_size=5), "Counts": st.lists(finite, max_size=5),
              "StatisticValues": st.fixed_dictionaries(
                  {"SampleCount": finite, "Sum": finite, "Minimum": finite, "Maximum": finite}),
              "Unit": st.sampled_from(UNITS), "StorageResolution": st.sampled_from([1, 60, 2**31 - 1])})

MEMBERS = ["member", "0", "3", "01", "Namespace", "MetricData", "EntityMetricData", "StrictEntityValidation", "MetricName", "Dimensions",
           "Name", "Value", "Timestamp", "StatisticValues", "SampleCount", "Sum", "Minimum", "Maximum", "Values",
           "Counts", "Unit", "StorageResolution", "Extra"]


def mutated(data: st.DataObject, tree: Any, values: st.SearchStrategy[Any], most: int = 3) -> Any:
    """``tree`` (nested dicts and lists) with one to ``most`` nodes replaced, removed or added."""
    for _ in range(data.draw(st.integers(1, most), label="mutations")):
        node = tree
        while True:
            children = list(node) if isinstance(node, dict) else list(range(len(node)))
            containers = [k for k in children if isinstance(node[k], dict | list)]
            if not containers or data.draw(st.booleans()):
                break
            node = node[data.draw(st.sampled_from(containers))]
        if isinstance(node, dict):
            key = data.draw(st.sampled_from(children + MEMBERS), label="key")
            if key in node and data.draw(st.booleans()):
                del node[key]
            else:
                node[key] = data.draw(values, label="value")
        elif node and data.draw(st.booleans()):
            del node[data.draw(st.sampled_from(children))]
        else:
            node.append(data.draw(values, label="item"))
    return tree


edges = st.sampled_from([0, 1, 29, 30, 31, 255, 256, 1024, 1025]).map(lambda n: "é" * n)
odd_params = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**31) - 1, 2**31), st.sampled_from([10**400, 2**63, 0.5, 60.0]),
    st.floats(), edges, st.sampled_from(UNITS), st.sampled_from(["Parsecs", "none", ""]),
    st.datetimes(timezones=st.just(UTC)), st.lists(ordinary_dimension, min_size=29, max_size=31),
    st.lists(st.floats(), max_size=3), st.fixed_dictionaries({"Name": edges, "Value": edges}),
    st.fixed_dictionaries({"MetricName": st.just("m")}))


@SETTINGS
@given(protocol=st.sampled_from(list(Protocol)), data=st.lists(ordinary_datum, min_size=1, max_size=4),
       mutations=st.data())
def test_botocore_requests_valid_or_not_agree_with_the_walk(protocol: Protocol, data: list[dict[str, Any]],
                                                             mutations: st.DataObject) -> None:
    params = mutated(mutations, {"Namespace": "N", "MetricData": data}, odd_params)

    agrees(protocol, serialized(protocol, params))


@SETTINGS
@given(protocol=st.sampled_from(list(Protocol)), namespace=st.text(any_text, min_size=1, max_size=255),
       data=st.lists(ordinary_datum, min_size=1, max_size=20), strict=st.sampled_from([None, True, False]))
def test_ordinary_requests_are_accepted_and_agree(protocol: Protocol, namespace: str, data: list[dict[str, Any]],
                                                  strict: bool | None) -> None:
    params: dict[str, Any] = {"Namespace": namespace, "MetricData": data}
    if strict is not None:
        params["StrictEntityValidation"] = strict

    assert agrees(protocol, request(protocol, params, validate=True)), "the fast path refused an ordinary request"


def bench_params(n: int = 1000) -> dict[str, Any]:
    return {"Namespace": "StackWatch/Bench", "MetricData": [
        {"MetricName": f"Latency{i % 10}",
         "Dimensions": [{"Name": "Service", "Value": f"api-{i % 7}"}, {"Name": "Host", "Value": f"h{i}"}],
         "Timestamp": START + timedelta(seconds=i, microseconds=i * 7 % 1000),
         "Value": 42.5 + i, "Unit": "Milliseconds", "StorageResolution": 60} for i in range(n)]}


@PROTOCOLS
def test_a_boto3_sized_request_is_accepted(protocol: Protocol) -> None:
    assert agrees(protocol, request(protocol, bench_params(), validate=True))


@PROTOCOLS
@pytest.mark.parametrize("datum", [
    {"MetricName": "m", "StatisticValues": {"SampleCount": 2.0, "Sum": 3.0, "Minimum": 1.0, "Maximum": 2.0}},
    {"MetricName": "m", "Values": [1.0, 2.0], "Counts": [3.0, 1.0], "Unit": "None"},
    {"MetricName": "m", "Values": [], "Counts": [], "Dimensions": []},
    {"MetricName": "x" * 255, "Value": -0.0, "Dimensions": [{"Name": "n" * 255, "Value": "v" * 1024}] * 30},
    {"MetricName": "日本語", "Value": 5e-324, "Timestamp": datetime(2255, 1, 1, 0, 0, 0, 500001, tzinfo=UTC)},
    {"MetricName": "m", "Value": 1.7976931348623157e308, "Timestamp": datetime(1970, 1, 1, tzinfo=UTC)},
], ids=["statistic-set", "values-counts", "empty-lists", "at-every-limit", "non-ascii-tiny-far", "huge-epoch"])
def test_hand_picked_valid_datums_are_accepted(protocol: Protocol, datum: dict[str, Any]) -> None:
    assert agrees(protocol, request(protocol, {"Namespace": "N", "MetricData": [datum, {"MetricName": "plain"}]}))


@PROTOCOLS
@pytest.mark.parametrize("params", [
    {"Namespace": "N", "MetricData": [{"MetricName": "m"}], "EntityMetricData": []},
    {"Namespace": "N", "MetricData": []},
    {"Namespace": "N"},
    {"MetricData": [{"MetricName": "m"}]},
    {"Namespace": "", "MetricData": [{"MetricName": "m"}]},
    {"Namespace": "n" * 256, "MetricData": [{"MetricName": "m"}]},
    {"Namespace": "N", "MetricData": [{"MetricName": ""}]},
    {"Namespace": "N", "MetricData": [{"MetricName": "m", "Dimensions": [{"Name": "a", "Value": "b"}] * 31}]},
    {"Namespace": "N", "MetricData": [{"MetricName": "m", "Dimensions": [{"Name": "a"}]}]},
    {"Namespace": "N", "MetricData": [{"MetricName": "m", "Unit": "Parsecs"}]},
    {"Namespace": "N", "MetricData": [{"MetricName": "m", "StorageResolution": 0}]},
    {"Namespace": "N", "MetricData": [{"MetricName": "m", "StorageResolution": 2**31}]},
    {"Namespace": "N", "MetricData": [{"MetricName": "m", "StatisticValues": {"SampleCount": 1.0}}]},
], ids=["entity-data", "no-datums", "no-metric-data", "no-namespace", "empty-namespace", "long-namespace",
        "empty-name", "31-dimensions", "dimension-without-value", "unknown-unit", "resolution-0",
        "resolution-int32-overflow", "partial-statistic-set"])
def test_unusual_requests_are_refused(protocol: Protocol, params: dict[str, Any]) -> None:
    assert not agrees(protocol, request(protocol, params))


@PROTOCOLS
def test_json_epoch_seconds_before_1970_are_refused_cbor_and_query_dates_are_not(protocol: Protocol) -> None:
    datum = {"MetricName": "m", "Timestamp": datetime(1969, 12, 31, 0, 0, 0, 250000, tzinfo=UTC)}

    accepted = agrees(protocol, request(protocol, {"Namespace": "N", "MetricData": [datum]}))

    assert accepted is (protocol is not Protocol.JSON)


@PROTOCOLS
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_doubles_agree(protocol: Protocol, value: float) -> None:
    datum = {"MetricName": "m", "Value": value, "Values": [value], "StatisticValues": dict.fromkeys(
        ("SampleCount", "Sum", "Minimum", "Maximum"), value)}
    agrees(protocol, request(protocol, {"Namespace": "N", "MetricData": [datum]}))


def test_query_with_unusual_indexes_is_refused_but_parsed_by_the_walk() -> None:
    form = ("Action=PutMetricData&Version=2010-08-01&Namespace=N&MetricData.member.2.MetricName=b"
            "&MetricData.member.1.MetricName=a&MetricData.member.1.Values.member.01=1")
    req = HttpRequest.build("POST", "/", {"Content-Type": query.FORM_TYPE}, body=form.encode())

    assert not agrees(Protocol.QUERY, req)
    assert not isinstance(generic(Protocol.QUERY, req), ServiceError)


# -- raw trees: encodings botocore does not write --------------------------------------------------

def tree_agrees(protocol: Protocol, tree: dict[str, Any]) -> bool:
    """Like :func:`agrees`, on a decoded body: :func:`_put_fast.columns` against the walk."""
    reader = {Protocol.JSON: json10.READER, Protocol.CBOR: rpcv2cbor.READER, Protocol.QUERY: query.READER}[protocol]
    assert OPERATION.input_shape is not None
    try:
        params = awsproto._inbound.parse_input(CLOUDWATCH, reader, OPERATION.input_shape, tree)
        data = params.get("MetricData") or [{}]  # no datums: the fast path must refuse
        want: Any = (params["Namespace"], wire(cloudwatch._columns(data)))
    except ServiceError as e:
        want = e
    except KeyError:
        want = None
    found = _put_fast.columns(protocol, tree)
    if found is None:
        return False
    assert not isinstance(want, ServiceError), f"accepted what the walk rejects: {want.message}"
    assert (found[0], wire(found[1])) == want
    return True


def decoded(protocol: Protocol, params: dict[str, Any]) -> Any:
    """The tree the gateway decodes from botocore's request for ``params``."""
    req = request(protocol, params, validate=True)
    if protocol is Protocol.JSON:
        return json10.decode(req.body)
    if protocol is Protocol.CBOR:
        return rpcv2cbor.decode(req.body)
    return query.build_tree(awsproto.detect(req).form or ())


scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=5),
                    st.sampled_from(["NaN", "Infinity", "-Infinity", "1.5", "60", "Count", "", "true"]))
raw_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                            st.dictionaries(st.text(max_size=3), inner, max_size=3)),
                          max_leaves=6)
epochs = st.one_of(st.integers(-(2**34), 2**38), st.floats(-1e10, 3e11),
                   st.floats(0, 2e9).map(lambda t: math.floor(t) + 0.5e-6), st.sampled_from(
                       [0, 0.0, -0.0, 253402300799, 253402300800, 253370764800, 1714564800.0000005]))
json_doubles = st.one_of(st.floats(), st.integers(-(2**1030), 2**1030), st.sampled_from(["NaN", "Infinity", "x"]))
cbor_moments = st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=2))])) | st.datetimes()
iso = st.one_of(
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))])).map(datetime.isoformat),
    st.datetimes(min_value=datetime(1971, 1, 1)).map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")),
    st.sampled_from(["2024-05-01T12:00:00Z", "2024-05-01", "1714564800", "1714564800.5", "now", ""]))
texts = st.one_of(st.text(max_size=4), st.sampled_from(["1.5", " 2 ", "1_0", "nan", "-inf", "1e999", "60", "0x1"]))
query_nodes = st.recursive(st.one_of(texts, iso, edges, st.sampled_from(UNITS)), lambda inner: st.dictionaries(
    st.sampled_from(["member", "1", "2", "01", "x", "Name", "Value"]), inner, max_size=2), max_leaves=4)
TREE_VALUES = {
    Protocol.JSON: st.one_of(raw_values, epochs, json_doubles, edges, st.sampled_from(UNITS)),
    Protocol.CBOR: st.one_of(raw_values, epochs, json_doubles, edges, st.sampled_from(UNITS), cbor_moments,
                             st.just(cbor2.undefined), st.binary(max_size=2)),
    Protocol.QUERY: query_nodes,
}


@SETTINGS
@given(protocol=st.sampled_from(list(Protocol)), data=st.lists(ordinary_datum, min_size=1, max_size=4),
       mutations=st.data())
def test_decoded_bodies_with_odd_values_anywhere_agree(protocol: Protocol, data: list[dict[str, Any]],
                                                       mutations: st.DataObject) -> None:
    tree = decoded(protocol, {"Namespace": "N", "MetricData": data})

    tree_agrees(protocol, mutated(mutations, tree, TREE_VALUES[protocol]))


@SETTINGS
@given(protocol=st.sampled_from(list(Protocol)), data=st.lists(
    st.fixed_dictionaries({"MetricName": st.text(min_size=1, max_size=3)}, optional={
        "Timestamp": iso, "Value": texts, "StorageResolution": texts, "Values": st.lists(texts, max_size=2)}),
    min_size=1, max_size=3))
@example(protocol=Protocol.QUERY, data=[{"MetricName": "m", "Timestamp": "2024-05-01T12:00:00.000007+00:00"}])
def test_text_scalars_agree(protocol: Protocol, data: list[dict[str, Any]]) -> None:
    if protocol is not Protocol.QUERY:
        agrees(protocol, serialized(protocol, {"Namespace": "N", "MetricData": data}))
        return
    pairs = [("Action", "PutMetricData"), ("Version", "2010-08-01"), ("Namespace", "N")]
    for i, d in enumerate(data, 1):
        for key, value in d.items():
            if isinstance(value, list):
                pairs += [(f"MetricData.member.{i}.{key}.member.{j}", v) for j, v in enumerate(value, 1)]
            else:
                pairs.append((f"MetricData.member.{i}.{key}", value))
    body = urllib.parse.urlencode(pairs).encode()
    agrees(protocol, HttpRequest.build("POST", "/", {"Content-Type": query.FORM_TYPE}, body=body))


# -- the epoch arithmetic --------------------------------------------------------------------------

@settings(max_examples=3000, deadline=None, database=None)
@given(seconds=st.one_of(st.floats(0, _put_fast._EPOCH_MAX, exclude_max=True),
                         st.integers(0, 2**31).map(lambda s: s + 0.5e-6), st.integers(0, 10**6).map(lambda k: k / 2e6),
                         st.integers(0, 2**40).map(lambda us: us / 1e6 + 5e-7), st.integers(0, _put_fast._EPOCH_MAX - 1)))
@example(seconds=1714564800.0000005)
@example(seconds=0.9999995)
@example(seconds=-0.0)
@example(seconds=float(_put_fast._EPOCH_MAX) - 1e-6)
@example(seconds=math.nextafter(float(_put_fast._EPOCH_MAX), 0))
def test_json_epoch_seconds_round_as_datetime_does(seconds: float) -> None:
    assume(seconds < _put_fast._EPOCH_MAX)

    assert _put_fast._json_timestamp(seconds) == datetime.fromtimestamp(seconds, UTC).timestamp()


@pytest.mark.parametrize("seconds", [-1, -1e-6, _put_fast._EPOCH_MAX, float(_put_fast._EPOCH_MAX), math.nan, True])
def test_json_epoch_seconds_outside_the_exact_range_are_refused(seconds: float) -> None:
    with pytest.raises(_put_fast._Refuse):
        _put_fast._json_timestamp(seconds)


def test_the_installed_model_is_understood() -> None:
    assert _put_rules.RULES is not None
    assert _put_rules.RULES.dimensions == (0, 30)
    assert "Count/Second" in _put_rules.RULES.units


def test_a_model_with_an_unknown_datum_member_turns_the_fast_path_off() -> None:
    import copy

    import botocore.model
    import botocore.session

    loader = botocore.session.get_session().get_component("data_loader")
    model = copy.deepcopy(loader.load_service_model("cloudwatch", "service-2"))
    model["shapes"]["MetricDatum"]["members"]["Entity"] = {"shape": "Namespace"}
    changed = botocore.model.ServiceModel(model, "cloudwatch").operation_model("PutMetricData")

    assert _put_rules.read_rules(changed) is None


@PROTOCOLS
def test_parse_request_gives_columns_or_the_walks_params_and_errors(protocol: Protocol) -> None:
    req = request(protocol, bench_params(3))
    _, params = _put_fast.parse_request(awsproto.detect(req), req)
    assert isinstance(params["MetricData"], cloudwatch.metrics_pb2.MetricDataColumns)

    bad = request(protocol, {"Namespace": "N", "MetricData": [{"MetricName": "m", "Unit": "Parsecs"}]})
    with pytest.raises(ServiceError) as fast_error:
        _put_fast.parse_request(awsproto.detect(bad), bad)
    with pytest.raises(ServiceError) as walk_error:
        awsproto.parse_request(awsproto.detect(bad), bad)
    assert (fast_error.value.code, fast_error.value.message) == (walk_error.value.code, walk_error.value.message)
