"""The one response walk shared by the three serializers: a result dict along its output shape.

The walk (:func:`handler`) compiles, once per shape and cached, a closure that turns a result
value into what the protocol's encoder wants; a :class:`Writer` says how: how a structure, list
or map is assembled from its converted parts and how each scalar type is written. json and cbor
share :class:`TreeWriter` (build plain Python values, then orjson/cbor2 encode them) and differ
only in timestamps, blobs and non-finite doubles; query's writer assembles XML text.

::

    Writer ── TreeWriter ──┬── json10.JsonWriter   -> dict/list/str/int/float, orjson.dumps
                           └── rpcv2cbor.CborWriter -> ... + CBORTag(1, epoch) + bytes, cbor2.dumps
           └── query.XmlWriter                      -> XML fragments (str)

Results are trusted (they come from our own services) and are not validated: keys the shape
does not define and members whose value is None are skipped, ints are accepted for doubles, and
timestamps may be ``datetime`` (naive = UTC) or epoch seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from botocore.model import ListShape, MapShape, Shape, StructureShape

from gateway.awsproto._shapes import Handler, compiled


class Member(NamedTuple):
    """One structure member as the writer needs it."""

    name: str
    wire: str
    shape: Shape
    write: Handler


class Writer:
    """How one protocol writes values; see the module docstring for the two families."""

    def __init__(self) -> None:
        self.handlers: dict[tuple[str, str], Handler] = {}

    def wire_name(self, member_name: str, member: Shape) -> str:
        """The name a structure member has on the wire."""
        return str(member.serialization.get("name", member_name))

    def structure(self, shape: StructureShape, members: list[Member]) -> Handler:
        """A handler for structure values, given the compiled members."""
        raise NotImplementedError

    def list(self, shape: ListShape, item: Handler) -> Handler:
        """A handler for list values, given the compiled item handler."""
        raise NotImplementedError

    def map(self, shape: MapShape, key: Handler, value: Handler) -> Handler:
        """A handler for map values, given the compiled key and value handlers."""
        raise NotImplementedError

    def scalar(self, shape: Shape) -> Handler:
        """A handler for a scalar shape (string, integer, long, double, boolean, timestamp, blob)."""
        raise NotImplementedError


def handler(writer: Writer, service_name: str, shape: Shape) -> Handler:
    """The cached handler that writes values of ``shape``."""
    return compiled(writer.handlers, service_name, shape, lambda: _build(writer, service_name, shape))


def _build(writer: Writer, service_name: str, shape: Shape) -> Handler:
    if isinstance(shape, StructureShape):
        members = [Member(name, writer.wire_name(name, member), member,
                          handler(writer, service_name, member))
                   for name, member in shape.members.items()]
        return writer.structure(shape, members)
    if isinstance(shape, ListShape):
        return writer.list(shape, handler(writer, service_name, shape.member))
    if isinstance(shape, MapShape):
        return writer.map(shape, handler(writer, service_name, shape.key),
                          handler(writer, service_name, shape.value))
    return writer.scalar(shape)


def identity(value: Any) -> Any:
    """Write a value as it is."""
    return value


class TreeWriter(Writer):
    """Writes plain Python values for a generic encoder; subclasses supply the scalar table."""

    #: type name -> scalar handler; filled by subclasses.
    SCALARS: Mapping[str, Handler] = {}

    def structure(self, shape: StructureShape, members: list[Member]) -> Handler:
        """Structures become dicts keyed by wire name."""
        table = {m.name: (m.wire, None if m.write is identity else m.write) for m in members}

        def write(value: Mapping[str, Any]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for name, item in value.items():
                entry = table.get(name)
                if entry is None or item is None:
                    continue
                convert = entry[1]
                out[entry[0]] = item if convert is None else convert(item)
            return out

        return write

    def list(self, shape: ListShape, item: Handler) -> Handler:
        """Lists become lists (None items dropped)."""
        if item is identity:
            return lambda value: [x for x in value if x is not None]
        return lambda value: [item(x) for x in value if x is not None]

    def map(self, shape: MapShape, key: Handler, value: Handler) -> Handler:
        """Maps become dicts (None values dropped)."""
        return lambda items: {key(k): value(v) for k, v in items.items() if v is not None}

    def scalar(self, shape: Shape) -> Handler:
        """Look the type up in :attr:`SCALARS`."""
        return self.SCALARS[shape.type_name]


# -- scalar conversions shared by the writers ------------------------------------------------------


def to_datetime(value: datetime | float) -> datetime:
    """A result timestamp (aware or naive-UTC datetime, or epoch seconds) as an aware UTC datetime."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value if value.tzinfo is UTC else value.astimezone(UTC)
    return datetime.fromtimestamp(value, UTC)


def iso8601(value: datetime | float) -> str:
    """``2024-05-01T12:00:00Z``, with ``.ffffff`` only when there are microseconds."""
    return to_datetime(value).isoformat()[:-6] + "Z"


def epoch(value: datetime | float) -> int | float:
    """Epoch seconds: an int when whole, else a float."""
    if isinstance(value, datetime):
        seconds = to_datetime(value).timestamp()
    elif isinstance(value, int):
        return value
    else:
        seconds = float(value)
    return int(seconds) if seconds.is_integer() else seconds


def finite_or_name(value: float) -> float | str:
    """A double for json: the float, or ``NaN``/``Infinity``/``-Infinity`` as strings."""
    value = float(value)
    if math.isfinite(value):
        return value
    if value != value:
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


SCALAR_BASICS: dict[str, Callable[[Any], Any]] = {
    "string": identity, "integer": int, "long": int, "boolean": bool, "double": float, "float": float,
}
