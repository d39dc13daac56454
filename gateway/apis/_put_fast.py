"""PutMetricData's fast path: a decoded body straight to ``MetricDataColumns``, or a refusal.

Why it exists. PutMetricData with 1,000 datums is the gateway's hottest request. Profiled under
load (json 1.0, gzipped 1000-datum bodies as boto3 sends them), the generic model walk
(``gateway.awsproto._inbound``) took ~38% of the process's CPU and :func:`cloudwatch._columns`
another ~24%: each datum was walked twice, once to validate raw values into dicts and once to
turn those dicts into columns, ~70% of ~25 µs of CPU per datum. This module walks each datum
once, checks it against the same model rules, and appends it straight to the columns. Parse +
columns of a 1000-datum request after detection (``bench/codec_bench.py``, best of several runs
on the shared 2-core VM, where single runs vary by 50%): json 9-15 ms -> 3.0-4.3 ms (x2.9-3.7),
rpc-v2-cbor 15-18 ms -> 6.0-8.9 ms (x2.0-2.9, cbor2's decoding is most of what is left),
query 19-27 ms -> 16-20 ms (x1.0-1.6: ``query.build_tree`` is most of it, and reading the pairs
directly was tried and measured no faster)::

    body ─decode─> tree ──> columns(protocol, tree)  ──> (namespace, MetricDataColumns)
                              │ anything unusual: None
                              v
                           awsproto.parse_request ─> cloudwatch._columns   (the generic path)

What it accepts. Only requests it can prove well-formed under the constraints the walk checks,
read from botocore's model at import (:mod:`._put_rules`): a Namespace string and a non-empty
MetricData list, optionally StrictEntityValidation; per datum a MetricName, up to the
model's number of Dimensions (Name and Value strings within the model's lengths), Timestamp,
Value, StatisticValues (all four members), Values, Counts, Unit (one of the model's enum values),
StorageResolution (the model's minimum up to int32). Scalars must arrive in the form the
protocol's SDKs send them: json and cbor doubles as floats or ints (json's ``"NaN"``,
``"Infinity"``, ``"-Infinity"`` too), query doubles and integers as text, integers as ints,
timestamps as epoch seconds from 1970 to 2255 (json, cbor), cbor tag-1 datetimes, or ISO-8601
in UTC (query). Members the model does not define are ignored, as the walk ignores them.

What it refuses (returns None, and the generic path answers, with the exact AWS error if there
is one). Any value of the wrong type or outside a bound, a missing required member, null or
cbor ``undefined`` where a value is required, ``EntityMetricData`` (its datums carry entities
the columns do not), an empty MetricData, query lists whose indexes are not exactly 1..N or
whose nodes hold anything besides ``member`` (``Name=`` is an empty list, as botocore writes
it), timestamps in any other encoding, an undecodable body. A refused request is decoded a
second time by the generic path: refusals are the unusual requests, so that cost is not on the
hot path. If the installed model ever describes PutMetricData differently from what this module
understands (a new datum member, a new required member, a bound on a double, a renamed wire
member), ``RULES`` is None and every request takes the generic path.

How it is proven equivalent. ``tests/protocol/test_put_fast_path.py`` serializes random
PutMetricData params, valid and not, with botocore's own serializer for each protocol, and
checks that :func:`columns` either refuses or returns the namespace and columns that
``parse_request`` followed by ``cloudwatch._columns`` produce (byte for byte), and that it does
not refuse what boto3 ordinarily sends. The json timestamp arithmetic replays
``datetime.fromtimestamp(t, UTC).timestamp()``'s rounding and is tested against it directly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.model import OperationModel

from gateway import awsproto
from gateway.apis._put_rules import RULES, STATISTICS, Rules
from gateway.awsproto import json10, query, rpcv2cbor
from gateway.awsproto.request import HttpRequest, Protocol
from stackwatch.errors import ServiceError
from stackwatch.proto.metrics.v1 import metrics_pb2

Columns = metrics_pb2.MetricDataColumns

_EPOCH_MAX = 2**53 // 10**6  # epoch seconds whose microseconds a double holds exactly (mid-2255)
_NON_FINITE = frozenset(("NaN", "Infinity", "-Infinity"))
_NAN = float("nan")


class _Refuse(Exception):  # noqa: N818 - internal signal: "let the generic path decide"
    """Raised inside the loop when a value is not one the fast path can vouch for."""


def _tree_double(raw: Any) -> float:
    cls = raw.__class__
    if cls is float:
        return raw  # type: ignore[no-any-return]
    if cls is int:
        try:
            return float(raw)
        except OverflowError:
            raise _Refuse from None
    if cls is str and raw in _NON_FINITE:
        return float(raw)
    raise _Refuse


def _tree_integer(raw: Any) -> int:
    if raw.__class__ is int:
        return raw
    raise _Refuse


def _tree_boolean(raw: Any) -> bool:
    if raw is True or raw is False:
        return raw
    raise _Refuse


def _json_timestamp(raw: Any) -> float:
    """Epoch seconds as the walk reads them into a datetime and ``_columns`` reads them back.

    The walk's ``datetime.fromtimestamp(t, UTC)`` splits ``t`` with ``modf`` and rounds the
    fraction's microseconds half-even (CPython's ``_PyTime_DoubleToDenominator``), and
    ``.timestamp()`` divides the whole microseconds by 10**6, correctly rounded. Below
    :data:`_EPOCH_MAX` those microseconds fit a double exactly, so the same arithmetic in floats
    gives the same result without building a datetime, at a third of the cost.
    """
    cls = raw.__class__
    if cls is float and 0.0 <= raw < _EPOCH_MAX:
        fraction, whole = math.modf(raw)
        return (whole * 1e6 + round(fraction * 1e6)) / 1e6
    if cls is int and 0 <= raw < _EPOCH_MAX:
        return float(raw)
    raise _Refuse


def _cbor_timestamp(raw: Any) -> float:
    if raw.__class__ is datetime and raw.tzinfo is UTC:
        return raw.timestamp()
    return _json_timestamp(raw)


def _not_a_list(raw: Any) -> list[Any]:
    raise _Refuse


def _text_double(raw: Any) -> float:
    if raw.__class__ is str:
        try:
            return float(raw)
        except ValueError:
            pass
    raise _Refuse


def _text_integer(raw: Any) -> int:
    if raw.__class__ is str:
        try:
            return int(raw)
        except ValueError:
            pass
    raise _Refuse


def _text_boolean(raw: Any) -> bool:
    if raw.__class__ is str:
        lowered = raw.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
    raise _Refuse


def _text_timestamp(raw: Any) -> float:
    if raw.__class__ is str:
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise _Refuse from None
        if value.tzinfo is UTC:
            return value.timestamp()
    raise _Refuse


def _members(raw: Any) -> list[Any]:
    """A query list node ``{"member": {"1": .., "N": ..}}`` with exactly those indexes, in order.

    ``Name=`` alone is an empty list, as botocore writes one.
    """
    if raw == "":
        return []
    if raw.__class__ is dict and len(raw) == 1:
        node = raw.get("member")
        if node.__class__ is dict:
            items = [node.get(str(i)) for i in range(1, len(node) + 1)]
            if None not in items:
                return items
    raise _Refuse


@dataclass(frozen=True, slots=True)
class _Scalars:
    """How one protocol's raw values become typed ones (each raises _Refuse when unsure)."""

    double: Callable[[Any], float]
    integer: Callable[[Any], int]
    boolean: Callable[[Any], bool]
    timestamp: Callable[[Any], float]  #: epoch seconds as ``datetime.timestamp()`` gives them
    sequence: Callable[[Any], list[Any]]  #: a list given in some form other than a ``list``


_SCALARS = {
    Protocol.JSON: _Scalars(_tree_double, _tree_integer, _tree_boolean, _json_timestamp, _not_a_list),
    Protocol.CBOR: _Scalars(_tree_double, _tree_integer, _tree_boolean, _cbor_timestamp, _not_a_list),
    Protocol.QUERY: _Scalars(_text_double, _text_integer, _text_boolean, _text_timestamp, _members),
}


def _datums(data: list[Any], rules: Rules, scalars: _Scalars) -> Columns:
    """Every datum checked and appended to its columns in one pass; raises _Refuse when unsure.

    Gives what ``cloudwatch._columns`` gives, column for column, including which columns are
    left out. A float is accepted inline as a double: every protocol's reader takes one as it is.
    The rarer members (StatisticValues, Values, Counts) are noted by datum index and spread into
    full columns after the loop, so the common datum pays nothing for them.
    """
    double, timestamp, sequence = scalars.double, scalars.timestamp, scalars.sequence
    name_lo, name_hi = rules.metric_name
    dims_lo, dims_hi = rules.dimensions
    key_lo, key_hi = rules.dimension_name
    val_lo, val_hi = rules.dimension_value
    res_lo, res_hi = rules.storage_resolution
    units_allowed = rules.units
    names: list[str] = []
    dim_counts: list[int] = []
    dim_names: list[str] = []
    dim_values: list[str] = []
    stamps: list[float] = []
    forms: list[int] = []
    values: list[float] = []
    units: list[str] = []
    resolutions: list[int] = []
    value_list: list[float] = []
    count_list: list[float] = []
    statistic_sets: list[tuple[int, tuple[float, ...]]] = []
    value_counts: list[tuple[int, int]] = []
    count_counts: list[tuple[int, int]] = []
    add_name, add_dim_count, add_dim_name, add_dim_value = (
        names.append, dim_counts.append, dim_names.append, dim_values.append)
    add_stamp, add_form, add_value, add_unit, add_resolution = (
        stamps.append, forms.append, values.append, units.append, resolutions.append)
    for i, d in enumerate(data):
        if d.__class__ is not dict:
            raise _Refuse
        get = d.get
        name = get("MetricName")
        if name.__class__ is not str or not name_lo <= len(name) <= name_hi:
            raise _Refuse
        add_name(name)
        dims = get("Dimensions")
        if dims is None:
            add_dim_count(0)
        else:
            if dims.__class__ is not list:
                dims = sequence(dims)
            if not dims_lo <= len(dims) <= dims_hi:
                raise _Refuse
            add_dim_count(len(dims))
            for x in dims:
                if x.__class__ is not dict:
                    raise _Refuse
                key, val = x.get("Name"), x.get("Value")
                if (key.__class__ is not str or val.__class__ is not str
                        or not key_lo <= len(key) <= key_hi or not val_lo <= len(val) <= val_hi):
                    raise _Refuse
                add_dim_name(key)
                add_dim_value(val)
        t = get("Timestamp")
        add_stamp(_NAN if t is None else timestamp(t))
        v = get("Value")
        if v is None:
            form = 0
            add_value(0.0)
        else:
            form = 1
            add_value(v if v.__class__ is float else double(v))
        sv = get("StatisticValues")
        if sv is not None:
            form |= 2
            statistic_sets.append((i, _statistic_set(sv, double)))
        vs = get("Values")
        if vs is not None:
            size = _extend(value_list, vs, rules.values, scalars)
            if size:
                form |= 4
                value_counts.append((i, size))
        cs = get("Counts")
        if cs is not None:
            size = _extend(count_list, cs, rules.counts, scalars)
            if size:
                count_counts.append((i, size))
        add_form(form)
        u = get("Unit")
        if u is None:
            add_unit("")
        elif u.__class__ is str and u in units_allowed:
            add_unit(u)
        else:
            raise _Refuse
        r = get("StorageResolution")
        if r is None:
            add_resolution(0)
        else:
            if r.__class__ is not int:
                r = scalars.integer(r)
            if not res_lo <= r <= res_hi:
                raise _Refuse
            add_resolution(r)
    n = len(names)
    columns: dict[str, list[Any]] = {
        "dimension_names": dim_names, "dimension_values": dim_values, "timestamps": stamps, "values": values,
        "value_list": value_list, "count_list": count_list}
    if forms.count(1) != n:
        columns["forms"] = forms
    if statistic_sets:
        stats: list[list[float]] = [[0.0] * n for _ in _STAT_FIELDS]
        for i, four in statistic_sets:
            for column, x in zip(stats, four, strict=True):
                column[i] = x
        columns.update(zip(_STAT_FIELDS, stats, strict=True))
    for field, given in (("value_list_counts", value_counts), ("count_list_counts", count_counts)):
        if given:
            counts = columns[field] = [0] * n
            for i, size in given:
                counts[i] = size
    sparse: tuple[tuple[str, list[Any]], ...] = (
        ("dimension_counts", dim_counts), ("units", units), ("storage_resolutions", resolutions))
    for field, column in sparse:
        if any(column):
            columns[field] = column
    return Columns(metric_names=names, **columns)


_STAT_FIELDS = ("sample_counts", "sums", "minimums", "maximums")


def _statistic_set(raw: Any, double: Callable[[Any], float]) -> tuple[float, ...]:
    """A StatisticValues structure's four doubles, in ``STATISTICS`` order (all required)."""
    if raw.__class__ is not dict:
        raise _Refuse
    return tuple(x if x.__class__ is float else double(x) for x in map(raw.get, STATISTICS))


def _extend(out: list[float], raw: Any, bounds: tuple[int, float], scalars: _Scalars) -> int:
    """Append a Values or Counts list's doubles to ``out``; how many there were."""
    items = raw if raw.__class__ is list else scalars.sequence(raw)
    if not bounds[0] <= len(items) <= bounds[1]:
        raise _Refuse
    double = scalars.double
    out.extend([x if x.__class__ is float else double(x) for x in items])
    return len(items)


def columns(protocol: Protocol, tree: Any) -> tuple[str, Columns] | None:
    """The namespace and datums of a decoded PutMetricData body, or None to let the walk decide.

    Args:
        protocol: the protocol ``tree`` was decoded from.
        tree: the decoded body: ``json10.decode``'s or ``rpcv2cbor.decode``'s value, or
            ``query.build_tree`` of the request's pairs.
    """
    rules = RULES
    if rules is None or tree.__class__ is not dict:
        return None
    scalars = _SCALARS[protocol]
    get = tree.get
    namespace = get("Namespace")
    ns_lo, ns_hi = rules.namespace
    if (namespace.__class__ is not str or not ns_lo <= len(namespace) <= ns_hi
            or get("EntityMetricData") is not None):
        return None
    try:
        strict = get("StrictEntityValidation")
        if strict is not None:
            scalars.boolean(strict)
        data = get("MetricData")
        if data.__class__ is not list:
            data = scalars.sequence(data)
        if not data or not rules.data[0] <= len(data) <= rules.data[1]:
            return None
        return namespace, _datums(data, rules, scalars)
    except _Refuse:
        return None


def accept(detected: awsproto.Detected, req: HttpRequest) -> tuple[str, Columns] | None:
    """:func:`columns` of a detected CloudWatch PutMetricData request (None for anything else)."""
    if detected.service is not awsproto.CLOUDWATCH or detected.operation != "PutMetricData":
        return None
    try:
        if detected.protocol is Protocol.JSON:
            tree: Any = json10.decode(req.body)
        elif detected.protocol is Protocol.CBOR:
            tree = rpcv2cbor.decode(req.body)
        else:
            tree = query.build_tree(query.decode_form(req) if detected.form is None else detected.form)
    except ServiceError:
        return None
    return columns(detected.protocol, tree)


def parse_request(detected: awsproto.Detected, req: HttpRequest) -> tuple[OperationModel, dict[str, Any]]:
    """``awsproto.parse_request`` for PutMetricData, with ``MetricData`` as columns when accepted.

    When the fast path accepts the request, the params are ``{"Namespace": str, "MetricData":
    MetricDataColumns}``; otherwise they are the generic walk's (which raises the AWS error for
    a bad request).
    """
    found = accept(detected, req)
    if found is None:
        return awsproto.parse_request(detected, req)
    namespace, data = found
    return detected.service.operation_model("PutMetricData"), {"Namespace": namespace, "MetricData": data}
