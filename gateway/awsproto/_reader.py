"""What a raw request value is to each protocol, and the error that reports a bad one.

Every protocol first decodes a body into raw values: query into a tree of dicts with string
leaves (:func:`gateway.awsproto.query.build_tree`), json into what orjson gives, cbor into what
cbor2 gives. A :class:`Reader` is how the shared walk (:mod:`._inbound`) looks at those values:
how to see a structure, a list or a map in one, and how to turn a raw scalar into a str, int,
float, bool, aware-UTC ``datetime`` or bytes. The base class reads json-like values (dicts,
lists, native numbers); each protocol overrides what differs::

    Reader ──┬── json10.JsonReader      timestamps: epoch numbers or text; blobs: base64
             ├── rpcv2cbor.CborReader   timestamps: tag-1 datetimes or numbers; blobs: bytes
             └── query.QueryReader      everything from text; lists from ``member.N`` subtrees

A value that cannot be read raises :class:`Invalid`; the walk adds the parameter path to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.model import ListShape, MapShape, Shape

from gateway.awsproto._shapes import Handler
from gateway.awsproto.model import Service
from stackwatch.errors import ServiceError

ListItems = Callable[[Any], Iterable[tuple[object, Any]]]
MapItems = Callable[[Any], Iterable[tuple[object, Any, Any]]]

INVALID = "The value {value} for parameter {path} is invalid."
MISSING = "The parameter {path} is required."
_NOTHING = object()


class Invalid(Exception):  # noqa: N818 - internal signal, never leaves this package
    """A raw value failed conversion or validation somewhere below the current handler.

    ``template`` is formatted with ``path`` and ``value`` once the path is complete; each
    enclosing handler appends its own segment to ``segments`` (innermost first) and re-raises.
    """

    def __init__(self, template: str = INVALID, value: object = _NOTHING, missing: bool = False) -> None:
        super().__init__(template)
        self.template = template
        self.value = value
        self.missing = missing
        self.segments: list[str] = []

    @property
    def path(self) -> str:
        """The query-style path of the offending parameter."""
        return ".".join(reversed(self.segments))

    def to_error(self, service: Service) -> ServiceError:
        """The service's error for this failure, message worded with the full path."""
        message = self.template.format(path=self.path, value=show(self.value))
        cls = service.missing_parameter if self.missing else service.invalid_value
        return cls(message)


def show(value: object) -> str:
    """A raw value as it reads in an error message (strings unquoted, long ones cut)."""
    if isinstance(value, str):
        text = value
    elif value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, bytes | bytearray):
        text = f"<{len(value)} bytes>"
    elif isinstance(value, dict):
        text = "{...}"
    elif isinstance(value, list):
        text = "[...]"
    else:
        text = str(value)
    return text if len(text) <= 200 else text[:200] + "..."


def from_epoch(seconds: int | float) -> datetime:
    """Epoch seconds (int or float) as an aware UTC datetime, rounded to the microsecond."""
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):
        raise Invalid(value=seconds) from None


def from_text(text: str) -> datetime:
    """ISO-8601 (``2024-05-01T12:00:00Z``, any offset, no zone = UTC) or epoch seconds text."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        try:
            return from_epoch(float(text))
        except ValueError:
            raise Invalid(value=text) from None
    return as_utc(value)


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC (``datetime.UTC`` as tzinfo); naive datetimes are taken to be UTC."""
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class Reader:
    """How one protocol sees raw decoded values. Subclasses override what differs.

    Scalar methods take a raw value and return the typed one or raise :class:`Invalid` with the
    raw value. ``list_items``/``map_items`` are called once per shape at compile time and return
    the per-value accessor. ``handlers`` is this reader's compiled-handler cache.
    """

    #: A raw value that means "absent" besides None (cbor's ``undefined``).
    undefined: object = _NOTHING

    def __init__(self) -> None:
        self.handlers: dict[tuple[str, str], Handler] = {}

    def wire_name(self, member_name: str, member: Shape) -> str:
        """The key a structure member has in the raw tree."""
        return str(member.serialization.get("name", member_name))

    def structure(self, raw: Any) -> Mapping[str, Any]:
        """The raw members of a structure value."""
        if raw.__class__ is dict:
            return raw
        raise Invalid(value=raw)

    def list_items(self, shape: ListShape) -> ListItems:
        """An accessor giving ``(index label, raw item)`` pairs of a list value, in order."""
        def items(raw: Any) -> Iterable[tuple[object, Any]]:
            if raw.__class__ is list:
                return enumerate(raw, 1)
            raise Invalid(value=raw)
        return items

    def map_items(self, shape: MapShape) -> MapItems:
        """An accessor giving ``(entry label, raw key, raw value)`` triples of a map value."""
        def items(raw: Any) -> Iterable[tuple[object, Any, Any]]:
            if raw.__class__ is dict:
                return ((i, k, v) for i, (k, v) in enumerate(raw.items(), 1))
            raise Invalid(value=raw)
        return items

    def string(self, raw: Any) -> str:
        """A string member."""
        if raw.__class__ is str:
            return raw
        raise Invalid(value=raw)

    def integer(self, raw: Any) -> int:
        """An integer or long member (range checked by the walk); integral floats are accepted."""
        if raw.__class__ is int:
            return raw
        if raw.__class__ is float and raw.is_integer():
            return int(raw)
        raise Invalid(value=raw)

    def double(self, raw: Any) -> float:
        """A double/float member; ints are accepted, as are ``NaN``/``Infinity``/``-Infinity``."""
        cls = raw.__class__
        if cls is float:
            return raw  # type: ignore[no-any-return]
        if cls is int:
            try:
                return float(raw)
            except OverflowError:
                raise Invalid(value=raw) from None
        if cls is str and raw in ("NaN", "Infinity", "-Infinity"):
            return float(raw)
        raise Invalid(value=raw)

    def boolean(self, raw: Any) -> bool:
        """A boolean member."""
        if raw is True or raw is False:
            return raw
        raise Invalid(value=raw)

    def timestamp(self, raw: Any) -> datetime:
        """A timestamp member as an aware UTC datetime."""
        raise NotImplementedError

    def blob(self, raw: Any) -> bytes:
        """A blob member."""
        raise NotImplementedError
