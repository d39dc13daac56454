"""The one request walk shared by the three parsers: shapes in, typed and validated params out.

Each protocol decodes its body into raw values and supplies a :class:`~._reader.Reader` that
knows how to read them. This module walks the raw tree along the operation's botocore input
shape, converting every value through the reader and checking the model's constraints::

    query.QueryReader ──┐
    json10.JsonReader ──┼─> handler(reader, service, shape) ──> Handler(raw) -> value
    rpcv2cbor.CborReader┘   compiled once per (reader, service, shape name), cached

Handlers are closures built once per shape and cached on the reader, so parsing a request is
plain function calls with no per-node dispatch on shape types. Recursive shapes get a forwarding
placeholder while they compile.

Validation happens during the walk. A failure raises :class:`~._reader.Invalid`, which collects
the query-style path (``MetricData.member.3.Dimensions.member.1.Name``, whatever the protocol,
since CloudWatch is query-compatible) segment by segment as it unwinds, and is finally turned
into the service's error class (:attr:`Service.invalid_value` / :attr:`Service.missing_parameter`)
by :func:`parse_input`. Checked: required members, types, enums, string/blob length, list/map
size, numeric ranges (the model's plus int32/int64), one member per union. Not checked:
``pattern`` (the models' regexes are Java's) and non-finite doubles (the domain decides about
NaN). Structure members the model does not define are ignored.

A broken model rule is raised as a :class:`~._reader.Constraint`, not as text: handlers are
shared by every operation and service that uses a shape, and the words are the service's
(:class:`~.model.Wording`, rendered by :meth:`~._reader.Invalid.to_error`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from gateway.awsproto._reader import MISSING, Constraint, Invalid, Reader, Rule
from gateway.awsproto._shapes import Handler, compiled, entry_names, item_name, query_name
from gateway.awsproto.model import Service

_INT_RANGE = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}


def parse_input(service: Service, reader: Reader, shape: StructureShape, raw: Any) -> dict[str, Any]:
    """Walk ``raw`` along ``shape``; the typed params, or the service's validation error raised."""
    try:
        params: dict[str, Any] = handler(reader, service.name, shape)(raw)
    except Invalid as e:
        raise e.to_error(service) from None
    return params


def handler(reader: Reader, service_name: str, shape: Shape) -> Handler:
    """The cached handler that parses raw values of ``shape``."""
    builder = _BUILDERS.get(shape.type_name)
    if builder is None:
        return compiled(reader.handlers, service_name, shape, lambda: _scalar(reader, shape))
    return compiled(reader.handlers, service_name, shape, lambda: builder(reader, service_name, shape))


# Inline fast paths of a structure member (see _fast_kind): none, a str within length bounds, a float.
_SLOW, _STR, _FLOAT = 0, 1, 2
_INF = float("inf")


def _fast_kind(reader: Reader, shape: Shape) -> tuple[int, float, float]:
    """How a member's value can be accepted without a call: (kind, low, high).

    Only where the raw value is already the final value: a ``str`` for a non-enum string whose
    reader is the plain one (json, cbor and query all read strings as they are), a ``float`` for
    an unbounded double whose reader accepts floats as they are (json, cbor). Anything the inline
    check does not accept goes through the member's full handler, which converts or raises the
    exact error.
    """
    meta = shape.metadata
    if shape.type_name == "string" and not meta.get("enum") and type(reader).string is Reader.string:
        return _STR, meta.get("min", 0), meta.get("max", _INF)
    if (shape.type_name == "double" and "min" not in meta and "max" not in meta
            and type(reader).double is Reader.double):
        return _FLOAT, 0, 0
    return _SLOW, 0, 0


def _structure(reader: Reader, service_name: str, shape: StructureShape) -> Handler:
    table: dict[str, tuple[str, str, Handler, int, float, float]] = {}
    for name, member in shape.members.items():
        convert = handler(reader, service_name, member)
        table[reader.wire_name(name, member)] = (
            name, query_name(name, member), convert, *_fast_kind(reader, member))
    required = [(name, query_name(name, shape.members[name])) for name in shape.required_members]
    required_names = frozenset(shape.required_members)
    union = shape.is_tagged_union
    fields_of, undefined = reader.structure, reader.undefined

    def parse(raw: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for wire, value in fields_of(raw).items():
            entry = table.get(wire)
            if entry is None or value is None or value is undefined:
                continue
            name, segment, convert, kind, low, high = entry
            # PutMetricData brings a thousand datums of a few strings and a double each: accepting
            # those inline, without two calls apiece, is a third of the gateway's parsing time.
            if kind == _STR:
                if value.__class__ is str and low <= len(value) <= high:
                    out[name] = value
                    continue
            elif kind == _FLOAT and value.__class__ is float:
                out[name] = value
                continue
            try:
                out[name] = convert(value)
            except Invalid as e:
                if not e.segments and name in required_names:
                    e.required = True  # this member's own value broke a rule, not one inside it
                e.segments.append(segment)
                raise
        for name, segment in required:
            if name not in out:
                raise _at(Invalid(MISSING, missing=True), segment)
        if union and len(out) != 1:
            raise Invalid("Exactly one member of {path} must be set.")
        return out

    return parse


def _list(reader: Reader, service_name: str, shape: ListShape) -> Handler:
    item = handler(reader, service_name, shape.member)
    items_of = reader.list_items(shape)
    name = item_name(shape)
    prefix = "" if name is None else name + "."
    check_size = _size_check(shape)

    def parse(raw: Any) -> list[Any]:
        out: list[Any] = []
        append = out.append
        for label, value in items_of(raw):
            try:
                append(item(value))
            except Invalid as e:
                e.segments.append(f"{prefix}{label}")
                raise
        if check_size is not None:
            check_size(out)
        return out

    return parse


def _map(reader: Reader, service_name: str, shape: MapShape) -> Handler:
    key_of = handler(reader, service_name, shape.key)
    value_of = handler(reader, service_name, shape.value)
    items_of = reader.map_items(shape)
    entry, key_name, value_name = entry_names(shape)
    prefix = "" if entry is None else entry + "."
    check_size = _size_check(shape)

    def parse(raw: Any) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for label, key, value in items_of(raw):
            try:
                typed_key = _required(key_of, key)
            except Invalid as e:
                e.segments.append(f"{prefix}{label}.{key_name}")
                raise
            try:
                out[typed_key] = _required(value_of, value)
            except Invalid as e:
                e.segments.append(f"{prefix}{label}.{value_name}")
                raise
        if check_size is not None:
            check_size(out)
        return out

    return parse


_BUILDERS: dict[str, Callable[[Reader, str, Any], Handler]] = {
    "structure": _structure, "list": _list, "map": _map}


def _required(convert: Handler, raw: Any) -> Any:
    if raw is None:
        raise Invalid(MISSING, missing=True)
    return convert(raw)


def _at(error: Invalid, segment: str) -> Invalid:
    error.segments.append(segment)
    return error


def _size_check(shape: Shape) -> Callable[[Any], None] | None:
    low, high = shape.metadata.get("min", 0), shape.metadata.get("max")
    if low <= 0 and high is None:
        return None
    too_few, too_many = Constraint(Rule.MIN_SIZE, low), Constraint(Rule.MAX_SIZE, high)

    def check(collection: Any) -> None:
        size = len(collection)
        if size < low:
            raise Invalid(value=collection, constraint=too_few)
        if high is not None and size > high:
            raise Invalid(value=collection, constraint=too_many)

    return check


def _scalar(reader: Reader, shape: Shape) -> Handler:
    kind, meta = shape.type_name, shape.metadata
    if kind == "string":
        if meta.get("enum"):
            return _enum(reader.string, meta["enum"])
        return _length(reader.string, meta.get("min", 0), meta.get("max"), "character")
    if kind in _INT_RANGE:
        return _range(reader.integer, meta.get("min"), meta.get("max"), *_INT_RANGE[kind])
    if kind in ("double", "float"):
        return _range(reader.double, meta.get("min"), meta.get("max"), None, None)
    if kind == "boolean":
        return reader.boolean
    if kind == "timestamp":
        return reader.timestamp
    if kind == "blob":
        return _length(reader.blob, meta.get("min", 0), meta.get("max"), "byte")
    raise NotImplementedError(f"shape type {kind} ({shape.name}) is not supported")


def _enum(convert: Handler, values: list[str]) -> Handler:
    allowed = frozenset(values)
    outside = Constraint(Rule.ENUM, tuple(values))

    def parse(raw: Any) -> Any:
        value = convert(raw)
        if value in allowed:
            return value
        raise Invalid(value=value, constraint=outside)

    return parse


def _length(convert: Handler, low: int, high: int | None, unit: str) -> Handler:
    if low <= 0 and high is None:
        return convert

    too_short, too_long = Constraint(Rule.MIN_LENGTH, low, unit), Constraint(Rule.MAX_LENGTH, high or 0, unit)

    def parse(raw: Any) -> Any:
        value = convert(raw)
        size = len(value)
        if size < low:
            raise Invalid(value=value, constraint=too_short)
        if high is not None and size > high:
            raise Invalid(value=value, constraint=too_long)
        return value

    return parse


def _range(convert: Handler, low: float | None, high: float | None,
           type_low: int | None, type_high: int | None) -> Handler:
    lo = max(x for x in (low, type_low, float("-inf")) if x is not None)
    hi = min(x for x in (high, type_high, float("inf")) if x is not None)
    if lo == float("-inf") and hi == float("inf"):
        return convert
    too_small, too_big = Constraint(Rule.MIN_VALUE, low or 0), Constraint(Rule.MAX_VALUE, high or 0)

    def parse(raw: Any) -> Any:
        value = convert(raw)
        if lo <= value <= hi:
            return value
        if low is not None and value < low:
            raise Invalid(value=value, constraint=too_small)
        if high is not None and value > high:
            raise Invalid(value=value, constraint=too_big)
        if value != value:  # NaN compares false with any bound: leave it to the domain
            return value
        raise Invalid(value=raw)

    return parse
