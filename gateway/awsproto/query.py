"""AWS query: form-encoded ``Action=<Op>&Version=...&Name.member.1=...`` in, XML out.

Parsing has two steps. :func:`decode_form` turns the URL query pairs plus a form body into
decoded ``(name, value)`` pairs (``+`` is a space, values are percent-decoded UTF-8; detection
calls it once and passes the pairs on). :func:`build_tree` splits every name on dots into a tree
of dicts with string leaves::

    MetricData.member.2.Dimensions.member.1.Name=Service
      -> {"MetricData": {"member": {"2": {"Dimensions": {"member": {"1": {"Name": "Service"}}}}}}}

The shared walk then reads that tree with :class:`QueryReader`: structure members by their query
name (locationName, flattened lists by item name), list items from ``<name>.member.N`` (or
``<name>.N`` when flattened) sorted numerically, so sparse or unordered indexes work, maps from
``<name>.entry.N.key``/``.value``, ``Name=`` as an empty list, and scalars from text
(``true``/``false``, ISO-8601 or epoch-seconds timestamps, base64 blobs). Parameters the input
shape does not name are ignored, which is how ``Action``, ``Version``, ``AWSAccessKeyId``,
``Signature*``, ``Timestamp``, ``Expires`` and ``X-Amz-*`` are skipped.

Serializing writes ``<OpResponse xmlns=...><OpResult>...</OpResult><ResponseMetadata>`` with
:class:`XmlWriter`: lists as ``<member>``, maps as ``<entry><key/><value/></entry>``, timestamps
ISO-8601 (``.ffffff`` only when non-zero), doubles as Python's float repr (``NaN``/``Infinity``
when not finite), booleans lowercase, blobs base64. Errors are ``<ErrorResponse>`` documents.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from gateway.awsproto import _inbound, _outbound
from gateway.awsproto._outbound import Member, finite_or_name
from gateway.awsproto._reader import Invalid, ListItems, MapItems, Reader, base64_blob, from_text
from gateway.awsproto._shapes import Handler, entry_names, item_name, query_name
from gateway.awsproto.errors import fault, member_values, members_shape
from gateway.awsproto.model import Service
from gateway.awsproto.request import HttpRequest, HttpResponse
from stackwatch.errors import MalformedQueryString, ServiceError

CONTENT_TYPE = "text/xml"
FORM_TYPE = "application/x-www-form-urlencoded"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

Pairs = Sequence[tuple[str, str]]


# -- request decoding ----------------------------------------------------------------------------


def decode_form(req: HttpRequest) -> list[tuple[str, str]]:
    """The URL query pairs followed by the form body's pairs (body read when form-typed or untyped)."""
    pairs = list(req.query)
    content_type = req.headers.get("content-type") or ""
    if req.body and (not content_type or content_type.split(";", 1)[0].strip().lower() == FORM_TYPE):
        try:
            pairs.extend(split_form(req.body.decode("utf-8")))
        except UnicodeDecodeError:
            raise MalformedQueryString("The request body is not valid UTF-8 form data.") from None
    return pairs


def split_form(text: str) -> list[tuple[str, str]]:
    """``a=1&b=x+y`` -> ``[("a", "1"), ("b", "x y")]``; fields without ``=`` have an empty value."""
    pairs = []
    for field in text.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name, errors="strict")
        if "%" in value or "+" in value:
            value = unquote_plus(value, errors="strict")
        pairs.append((name, value))
    return pairs


def build_tree(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Dotted names -> nested dicts. A later pair wins; a subtree wins over a leaf at its name."""
    root: dict[str, Any] = {}
    for name, value in pairs:
        head, _, last = name.rpartition(".")
        node = root
        if head:
            for part in head.split("."):
                child = node.get(part)
                if child.__class__ is not dict:
                    child = node[part] = {}
                node = child
        if node.get(last).__class__ is not dict:
            node[last] = value
    return root


def _by_index(item: tuple[str, Any]) -> int:
    """A child's index (``member.N``), or -1 when it is not a plausible one (digits, at most 9)."""
    index = item[0]
    return int(index) if len(index) <= 9 and index.isdecimal() else -1


def _indexed(node: Any) -> list[tuple[str, Any]]:
    """The ``N -> value`` children of a list/map node, sorted numerically."""
    if node.__class__ is not dict:
        raise Invalid(value=node)
    items = sorted(node.items(), key=_by_index)
    if items and _by_index(items[0]) < 0:
        raise Invalid("The parameter {path} has an invalid member index {value}.", items[0][0])
    return items


class QueryReader(Reader):
    """Raw values from :func:`build_tree`: dicts and strings."""

    def wire_name(self, member_name: str, member: Shape) -> str:
        """Members are looked up by their query names."""
        return query_name(member_name, member)

    def structure(self, raw: Any) -> dict[str, Any]:
        """A subtree (``Name=`` alone is an empty structure)."""
        if raw.__class__ is dict:
            return raw
        if raw == "":
            return {}
        raise Invalid(value=raw)

    def list_items(self, shape: ListShape) -> ListItems:
        """``member.N`` children (``N`` children when flattened); ``Name=`` is an empty list."""
        name = item_name(shape)

        def items(raw: Any) -> Iterable[tuple[object, Any]]:
            if raw.__class__ is dict:
                node = raw if name is None else raw.get(name)
                return () if node is None else _indexed(node)
            if raw == "":
                return ()
            raise Invalid(value=raw)

        return items

    def map_items(self, shape: MapShape) -> MapItems:
        """``entry.N.key``/``entry.N.value`` children; ``Name=`` is an empty map."""
        entry, key_name, value_name = entry_names(shape)

        def items(raw: Any) -> Iterable[tuple[object, Any, Any]]:
            if raw.__class__ is dict:
                node = raw if entry is None else raw.get(entry)
                pairs = () if node is None else _indexed(node)
                return [(label, *_key_value(e, key_name, value_name)) for label, e in pairs]
            if raw == "":
                return ()
            raise Invalid(value=raw)

        return items

    def integer(self, raw: Any) -> int:
        """Decimal text."""
        if raw.__class__ is str:
            try:
                return int(raw)
            except ValueError:
                pass
        raise Invalid(value=raw)

    def double(self, raw: Any) -> float:
        """Decimal or exponent text, ``NaN``, ``Infinity``."""
        if raw.__class__ is str:
            try:
                return float(raw)
            except ValueError:
                pass
        raise Invalid(value=raw)

    def boolean(self, raw: Any) -> bool:
        """``true`` or ``false`` (any case)."""
        if raw.__class__ is str:
            lowered = raw.lower()
            if lowered == "true":
                return True
            if lowered == "false":
                return False
        raise Invalid(value=raw)

    def timestamp(self, raw: Any) -> datetime:
        """ISO-8601 text (or epoch seconds)."""
        if raw.__class__ is str:
            return from_text(raw)
        raise Invalid(value=raw)

    blob = staticmethod(base64_blob)


def _key_value(entry: Any, key_name: str, value_name: str) -> tuple[Any, Any]:
    if entry.__class__ is not dict:
        raise Invalid(value=entry)
    return entry.get(key_name), entry.get(value_name)


# -- response writing ----------------------------------------------------------------------------


def escape(text: str) -> str:
    """XML text content.

    Carriage returns become ``&#13;`` so XML parsers keep them; characters XML 1.0 cannot carry
    at all (most C0 controls, lone surrogates, U+FFFE/U+FFFF) become U+FFFD, so one odd metric
    name cannot make a whole response unparseable.
    """
    if text.__class__ is not str:
        text = str(text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return _NOT_XML.sub("\ufffd", text)


def _double(value: float) -> str:
    number = finite_or_name(value)
    return repr(number) if number.__class__ is float else str(number)


def _flat(shape: Shape) -> bool:
    return shape.type_name in ("list", "map") and bool(shape.serialization.get("flattened"))


class XmlWriter(_outbound.Writer):
    """XML fragments. A flattened list/map yields a list of fragments its parent wraps one by one."""

    SCALARS: dict[str, Handler] = {
        "string": escape,
        "integer": lambda value: str(int(value)),
        "long": lambda value: str(int(value)),
        "double": _double,
        "float": _double,
        "boolean": lambda value: "true" if value else "false",
        "timestamp": _outbound.iso8601,
        "blob": lambda value: base64.b64encode(value).decode("ascii"),
    }

    def wire_name(self, member_name: str, member: Shape) -> str:
        """Elements are named as query names them."""
        return query_name(member_name, member)

    def structure(self, shape: StructureShape, members: list[Member]) -> Handler:
        """``<Member>value</Member>`` for each present member, in the result's order."""
        table = {m.name: (f"<{m.wire}>", f"</{m.wire}>", m.write, _flat(m.shape)) for m in members}

        def write(value: dict[str, Any]) -> str:
            parts: list[str] = []
            for name, item in value.items():
                entry = table.get(name)
                if entry is None or item is None:
                    continue
                open_tag, close_tag, convert, flat = entry
                if flat:
                    parts.extend(open_tag + fragment + close_tag for fragment in convert(item))
                else:
                    parts.append(open_tag + convert(item) + close_tag)
            return "".join(parts)

        return write

    def list(self, shape: ListShape, item: Handler) -> Handler:
        """``<member>item</member>`` each (item fragments only, when flattened)."""
        name = item_name(shape)
        if name is None:
            return lambda value: [item(x) for x in value if x is not None]
        open_tag, close_tag = f"<{name}>", f"</{name}>"
        return lambda value: "".join([open_tag + item(x) + close_tag for x in value if x is not None])

    def map(self, shape: MapShape, key: Handler, value: Handler) -> Handler:
        """``<entry><key>k</key><value>v</value></entry>`` each (pairs only, when flattened)."""
        entry, key_name, value_name = entry_names(shape)
        k_open, k_close = f"<{key_name}>", f"</{key_name}>"
        v_open, v_close = f"<{value_name}>", f"</{value_name}>"

        def pairs(items: dict[Any, Any]) -> list[str]:
            return [k_open + key(k) + k_close + v_open + value(v) + v_close
                    for k, v in items.items() if v is not None]

        if entry is None:
            return pairs
        e_open, e_close = f"<{entry}>", f"</{entry}>"
        return lambda items: "".join([e_open + pair + e_close for pair in pairs(items)])

    def scalar(self, shape: Shape) -> Handler:
        """Text of the scalar."""
        return self.SCALARS[shape.type_name]


READER = QueryReader()
WRITER = XmlWriter()


# -- the codec -----------------------------------------------------------------------------------


def parse(service: Service, operation_model: OperationModel, req: HttpRequest, *,
          pairs: Pairs | None = None) -> dict[str, Any]:
    """The operation's params from a query request (raises the service's validation errors).

    Args:
        service: the service the request is for.
        operation_model: the operation ``Action`` names.
        req: the request.
        pairs: the request's already decoded pairs (:func:`decode_form`), to skip decoding again.
    """
    if pairs is None:
        pairs = decode_form(req)
    shape = operation_model.input_shape
    if shape is None:
        return {}
    return _inbound.parse_input(service, READER, shape, build_tree(pairs))


def serialize(service: Service, operation_model: OperationModel, result: dict[str, Any],
              request_id: str) -> HttpResponse:
    """``<OpResponse>`` with the result wrapped in ``<OpResult>`` (when the operation has output)."""
    name = operation_model.name
    parts = [f'<{name}Response xmlns="{service.xml_namespace}">']
    shape = operation_model.output_shape
    if shape is not None:
        inner = _outbound.handler(WRITER, service.name, shape)(result)
        wrapper = shape.serialization.get("resultWrapper")
        parts.append(f"<{wrapper}>{inner}</{wrapper}>" if wrapper else inner)
    parts.append(f"<ResponseMetadata><RequestId>{escape(request_id)}</RequestId></ResponseMetadata>"
                 f"</{name}Response>")
    return HttpResponse(200, _headers(request_id), "".join(parts).encode("utf-8"))


def serialize_error(service: Service, error: ServiceError, request_id: str,
                    operation_name: str | None) -> HttpResponse:
    """``<ErrorResponse>`` with Type (Sender/Receiver), Code, Message, the error's other members and RequestId."""
    shape = members_shape(service, error, operation_name)
    extra = "" if shape is None else _outbound.handler(WRITER, service.name, shape)(member_values(error, shape))
    body = (f'<ErrorResponse xmlns="{service.xml_namespace}"><Error><Type>{fault(error)}</Type>'
            f"<Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>{extra}</Error>"
            f"<RequestId>{escape(request_id)}</RequestId></ErrorResponse>")
    return HttpResponse(error.status, _headers(request_id), body.encode("utf-8"))


def _headers(request_id: str) -> dict[str, str]:
    return {"x-amzn-RequestId": request_id, "Content-Type": CONTENT_TYPE}
