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
A value that breaks a model constraint raises it with a :class:`Constraint`, and the message is
worded only at the end, by :meth:`Invalid.to_error`, in the service's :class:`~.model.Wording`:
one request walk, compiled once per shape, serves services that word the same rule differently::

    Constraint(MAX_LENGTH, 255) at MetricData.member.1.MetricName
      PARAMETER   The parameter MetricData.member.1.MetricName must be shorter than 256 characters.
    Constraint(MAX_LENGTH, 255) at AutoScalingGroupName, value 'xx...'
      CONSTRAINT  1 validation error detected: Value 'xx...' at 'autoScalingGroupName' failed to
                  satisfy constraint: Member must have length less than or equal to 255

In the PARAMETER wording an empty value of a *required* member is reported as missing ("The
parameter Namespace is required."), as CloudWatch's metric API does for an empty string, so that
the gateway and the ingest domain (which cannot tell empty from absent in a protobuf) agree.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from botocore.model import ListShape, MapShape, Shape

from gateway.awsproto._shapes import Handler
from gateway.awsproto.model import Service, Wording
from stackwatch.errors import ServiceError

ListItems = Callable[[Any], Iterable[tuple[object, Any]]]
MapItems = Callable[[Any], Iterable[tuple[object, Any, Any]]]

INVALID = "The value {value} for parameter {path} is invalid."
MISSING = "The parameter {path} is required."
_NOTHING = object()


class Rule(Enum):
    """The kind of model constraint a value broke."""

    MIN_LENGTH = "min_length"  #: a string (characters) or blob (bytes) shorter than ``min``
    MAX_LENGTH = "max_length"  #: ... longer than ``max``
    MIN_SIZE = "min_size"      #: a list or map with fewer than ``min`` members
    MAX_SIZE = "max_size"      #: ... more than ``max``
    MIN_VALUE = "min_value"    #: a number below ``min``
    MAX_VALUE = "max_value"    #: ... above ``max``
    ENUM = "enum"              #: a string outside the shape's ``enum``


@dataclass(frozen=True, slots=True)
class Constraint:
    """A model constraint a value broke: the rule, its bound (or the allowed values), the unit."""

    rule: Rule
    bound: int | float | tuple[str, ...]
    unit: str = "character"


class Invalid(Exception):  # noqa: N818 - internal signal, never leaves this package
    """A raw value failed conversion or validation somewhere below the current handler.

    ``template`` (formatted with ``path`` and ``value`` once the path is complete) words a value
    that cannot be read; ``constraint`` instead names the model rule a readable value broke, and
    the service's wording decides the message. Each enclosing handler appends its own segment to
    ``segments`` (innermost first) and re-raises; the structure whose member failed sets
    ``required`` when that member is a required one.
    """

    def __init__(self, template: str = INVALID, value: object = _NOTHING, missing: bool = False,
                 constraint: Constraint | None = None) -> None:
        super().__init__(template)
        self.template = template
        self.value = value
        self.missing = missing
        self.constraint = constraint
        self.required = False
        self.segments: list[str] = []

    @property
    def path(self) -> str:
        """The query-style path of the offending parameter."""
        return ".".join(reversed(self.segments))

    def to_error(self, service: Service) -> ServiceError:
        """The service's error for this failure, message worded with the full path."""
        c = self.constraint
        missing = self.missing
        if service.wording is Wording.SNS:
            message = f"Invalid parameter: {self.path}"
        elif c is None:
            message = self.template.format(path=self.path, value=show(self.value))
        elif service.wording is Wording.CONSTRAINT:
            message = constraint_message(c, self.path, self.value)
        elif self.required and c.rule in (Rule.MIN_LENGTH, Rule.MIN_SIZE) and not self.value:
            message, missing = MISSING.format(path=self.path), True
        else:
            message = parameter_message(c, self.path)
        cls = service.missing_parameter if missing else service.invalid_value
        return cls(message)


def parameter_message(c: Constraint, path: str) -> str:
    """A broken constraint in the PARAMETER wording (CloudWatch's metric API).

    Lengths are stated exclusively, as CloudWatch states them: a maximum of 255 reads "shorter
    than 256 characters", a minimum of 1 "longer than 0 characters".
    """
    rule, bound = c.rule, c.bound
    if rule is Rule.ENUM:
        assert isinstance(bound, tuple)
        return f"The parameter {path} must be a value in the set [ {', '.join(bound)} ]."
    assert not isinstance(bound, tuple)
    if rule is Rule.MIN_LENGTH:
        return f"The parameter {path} must be longer than {_count(int(bound) - 1, c.unit)}."
    if rule is Rule.MAX_LENGTH:
        return f"The parameter {path} must be shorter than {_count(int(bound) + 1, c.unit)}."
    if rule is Rule.MIN_SIZE:
        return f"The collection {path} must not have a size less than {_number(bound)}."
    if rule is Rule.MAX_SIZE:
        return f"The collection {path} must not have a size greater than {_number(bound)}."
    if rule is Rule.MIN_VALUE:
        return f"The parameter {path} must be greater than or equal to {_number(bound)}."
    return f"The parameter {path} must be less than or equal to {_number(bound)}."


_CONSTRAINT_RULES = {
    Rule.MIN_LENGTH: "Member must have length greater than or equal to {}",
    Rule.MIN_SIZE: "Member must have length greater than or equal to {}",
    Rule.MAX_LENGTH: "Member must have length less than or equal to {}",
    Rule.MAX_SIZE: "Member must have length less than or equal to {}",
    Rule.MIN_VALUE: "Member must have value greater than or equal to {}",
    Rule.MAX_VALUE: "Member must have value less than or equal to {}",
}


def constraint_message(c: Constraint, path: str, value: object) -> str:
    """A broken constraint in the CONSTRAINT wording (Auto Scaling; AWS's generic validation).

    ``1 validation error detected: Value '<value>' at '<path>' failed to satisfy constraint:
    <rule>``, where the path is camelCase with each list index before its ``member``
    (``Tags.member.6.Key`` -> ``tags.6.member.key``) and the value is shown as given (lists as
    ``[a, b]``). The walk stops at the first violation, so it is always "1 validation error".
    """
    if c.rule is Rule.ENUM:
        assert isinstance(c.bound, tuple)
        rule = f"Member must satisfy enum value set: [{', '.join(c.bound)}]"
    else:
        assert not isinstance(c.bound, tuple)
        rule = _CONSTRAINT_RULES[c.rule].format(_number(c.bound))
    shown = "null" if value is None or value is _NOTHING else f"'{_java_text(value)}'"
    return (f"1 validation error detected: Value {shown} at '{camel_path(path)}' failed to satisfy "
            f"constraint: {rule}")


def camel_path(path: str) -> str:
    """The camelCase path of AWS's generic validation: ``Tags.member.6.Key`` -> ``tags.6.member.key``."""
    parts = path.split(".")
    out: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        if part in ("member", "entry") and i + 1 < len(parts) and parts[i + 1].isdigit():
            out += [parts[i + 1], part]
            i += 2
            continue
        out.append(part[:1].lower() + part[1:])
        i += 1
    return ".".join(out)


def _java_text(value: object) -> str:
    if isinstance(value, list | tuple):
        return show("[" + ", ".join(_java_text(v) for v in value) + "]", 1024)
    return show(value, 1024)


def _count(number: int, unit: str) -> str:
    return f"{number} {unit}" if number == 1 else f"{number} {unit}s"


def _number(bound: int | float) -> str:
    """A model bound as the message shows it: integral bounds without a decimal point."""
    if isinstance(bound, float) and bound.is_integer():
        return str(int(bound))
    return str(bound)


def show(value: object, limit: int = 200) -> str:
    """A raw value as it reads in an error message (strings unquoted, cut after ``limit`` characters)."""
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
    return text if len(text) <= limit else text[:limit] + "..."


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


def base64_blob(raw: Any) -> bytes:
    """A blob sent as base64 text (json and query)."""
    if raw.__class__ is str:
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            pass
    raise Invalid(value=raw)


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
