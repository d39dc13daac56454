"""AWS JSON 1.0: ``X-Amz-Target: GraniteServiceVersion20100801.<Op>`` requests, JSON bodies.

Parsing decodes the body with orjson (an empty body is ``{}``; anything that is not a JSON object
is a ``SerializationException``) and hands the result to the shared walk with :class:`JsonReader`,
which reads timestamps as epoch seconds (numbers, or numeric/ISO-8601 strings) and blobs as
base64. Serializing builds plain values with :class:`JsonWriter` (timestamps as epoch seconds,
int when whole; blobs base64; non-finite doubles as ``"NaN"``/``"Infinity"``) and encodes them
with orjson. Errors are ``{"__type": "<ns>#<Shape>", "message": ...}`` plus the query-compatible
``x-amzn-query-error`` header (see :mod:`.errors`).
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import orjson

from gateway.awsproto import _outbound
from gateway.awsproto._reader import Invalid, Reader, base64_blob, from_epoch, from_text
from gateway.awsproto._tree import TreeCodec
from stackwatch.errors import SerializationException

CONTENT_TYPE = "application/x-amz-json-1.0"


class JsonReader(Reader):
    """Raw values as orjson decodes them."""

    def timestamp(self, raw: Any) -> datetime:
        """Epoch seconds (int/float), or a string holding epoch seconds or ISO-8601."""
        cls = raw.__class__
        if cls is int or cls is float:
            return from_epoch(raw)
        if cls is str:
            return from_text(raw)
        raise Invalid(value=raw)

    blob = staticmethod(base64_blob)


class JsonWriter(_outbound.TreeWriter):
    """Plain values for orjson."""

    SCALARS = {
        **_outbound.SCALAR_BASICS,
        "double": _outbound.finite_or_name,
        "float": _outbound.finite_or_name,
        "timestamp": _outbound.epoch,
        "blob": lambda value: base64.b64encode(value).decode("ascii"),
    }


READER = JsonReader()
WRITER = JsonWriter()


def decode(body: bytes) -> dict[str, Any]:
    """The body's JSON object (``{}`` when empty); ``SerializationException`` otherwise."""
    if not body.strip():
        return {}
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise SerializationException(f"The request body is not valid JSON: {e}") from None
    if value.__class__ is not dict:
        raise SerializationException("The request body must be a JSON object.")
    return value


def _headers(request_id: str) -> dict[str, str]:
    return {"x-amzn-RequestId": request_id, "Content-Type": CONTENT_TYPE}


CODEC = TreeCodec(READER, WRITER, decode, orjson.dumps, _headers)
parse = CODEC.parse
serialize = CODEC.serialize
serialize_error = CODEC.serialize_error
