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
from botocore.model import OperationModel

from gateway.awsproto import _inbound, _outbound
from gateway.awsproto._reader import Invalid, Reader, as_utc, from_epoch
from gateway.awsproto.errors import QUERY_ERROR_HEADER, error_type, query_error
from gateway.awsproto.model import Service
from gateway.awsproto.request import HttpRequest, HttpResponse
from stackwatch.errors import SerializationException, ServiceError

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


def parse(service: Service, operation_model: OperationModel, req: HttpRequest) -> dict[str, Any]:
    """The operation's params from an rpc-v2-cbor request (raises the service's validation errors)."""
    raw = decode(req.body)
    shape = operation_model.input_shape
    if shape is None:
        return {}
    return _inbound.parse_input(service, READER, shape, raw)


def serialize(service: Service, operation_model: OperationModel, result: dict[str, Any],
              request_id: str) -> HttpResponse:
    """A 200 response carrying ``result`` (an empty map for operations without output)."""
    shape = operation_model.output_shape
    body = {} if shape is None else _outbound.handler(WRITER, service.name, shape)(result)
    return HttpResponse(200, _headers(request_id), cbor2.dumps(body))


def serialize_error(service: Service, error: ServiceError, request_id: str,
                    operation_name: str | None) -> HttpResponse:
    """The cbor error response for ``error``, with ``x-amzn-query-error``."""
    type_name, message_key = error_type(service, error, operation_name)
    headers = _headers(request_id)
    headers[QUERY_ERROR_HEADER] = query_error(error)
    body = cbor2.dumps({"__type": type_name, message_key: error.message})
    return HttpResponse(error.status, headers, body)


def _headers(request_id: str) -> dict[str, str]:
    return {"x-amzn-RequestId": request_id, "Content-Type": CONTENT_TYPE,
            "smithy-protocol": SMITHY_PROTOCOL}
