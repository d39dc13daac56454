"""Smithy RPC v2 CBOR: ``POST /service/<TargetPrefix>/operation/<Op>`` with a CBOR body.

Parsing decodes the body with cbor2 (an empty body is ``{}``). cbor2 accepts definite and
indefinite-length strings, arrays and maps, half/single/double floats, and decodes tag 1 (epoch
seconds, int or float) into an aware UTC ``datetime``. Map keys must be text or byte strings
(``strict_hashable_types``), trailing bytes after the top-level item are rejected, and any decode
failure is a ``SerializationException``. :class:`CborReader` then differs from json only where
the data model does: timestamps may be tag-1 datetimes or plain numbers, blobs are byte strings,
and ``undefined`` counts as absent.

Serializing builds plain values with :class:`CborWriter` (timestamps as ``CBORTag(1, epoch)``,
doubles as float64, blobs as byte strings) and encodes them with cbor2; operations without output
answer an empty map. Every response carries ``smithy-protocol: rpc-v2-cbor``, without which
aws-sdk-go-v2 rejects it. Errors are ``{"__type": "<ns>#<Shape>", "message": ...}`` plus
``x-amzn-query-error``, as in json.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import cbor2

from gateway.awsproto import _outbound
from gateway.awsproto._reader import Invalid, Reader, as_utc, from_epoch
from gateway.awsproto._tree import TreeCodec
from stackwatch.errors import SerializationException

CONTENT_TYPE = "application/cbor"
SMITHY_PROTOCOL = "rpc-v2-cbor"


class CborReader(Reader):
    """Raw values as cbor2 decodes them."""

    undefined = cbor2.undefined

    def timestamp(self, raw: Any) -> datetime:
        """A tag-1 datetime (or cbor2's tag-0 one) or plain epoch seconds."""
        cls = raw.__class__
        if cls is datetime:
            return as_utc(raw)
        if cls is int or cls is float:
            return from_epoch(raw)
        raise Invalid(value=raw)

    def blob(self, raw: Any) -> bytes:
        """A byte string."""
        if raw.__class__ is bytes:
            return raw
        raise Invalid(value=raw)


def _tag_epoch(value: datetime | float) -> cbor2.CBORTag:
    return cbor2.CBORTag(1, _outbound.epoch(value))


class CborWriter(_outbound.TreeWriter):
    """Plain values for cbor2."""

    SCALARS = {**_outbound.SCALAR_BASICS, "timestamp": _tag_epoch, "blob": bytes}


READER = CborReader()
WRITER = CborWriter()


def decode(body: bytes) -> dict[Any, Any]:
    """The body's top-level CBOR map (``{}`` when empty); ``SerializationException`` otherwise."""
    if not body:
        return {}
    stream = io.BytesIO(body)
    try:
        value = cbor2.CBORDecoder(stream, strict_hashable_types=True).decode()
    except (cbor2.CBORDecodeError, ValueError, OverflowError) as e:
        raise SerializationException(f"The request body is not valid CBOR: {e}") from None
    if stream.tell() != len(body):
        raise SerializationException("The request body has bytes after the CBOR data item.")
    if value.__class__ is not dict:
        raise SerializationException("The request body must be a CBOR map.")
    return value


def _headers(request_id: str) -> dict[str, str]:
    return {"x-amzn-RequestId": request_id, "Content-Type": CONTENT_TYPE,
            "smithy-protocol": SMITHY_PROTOCOL}


CODEC = TreeCodec(READER, WRITER, decode, cbor2.dumps, _headers)
parse = CODEC.parse
serialize = CODEC.serialize
serialize_error = CODEC.serialize_error
