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
import binascii
from datetime import datetime
from typing import Any

import orjson
from botocore.model import OperationModel

from gateway.awsproto import _inbound, _outbound
from gateway.awsproto._reader import Invalid, Reader, from_epoch, from_text
from gateway.awsproto.errors import QUERY_ERROR_HEADER, error_type, query_error
from gateway.awsproto.model import Service
from gateway.awsproto.request import HttpRequest, HttpResponse
from stackwatch.errors import SerializationException, ServiceError

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

    def blob(self, raw: Any) -> bytes:
        """Base64 text."""
        if raw.__class__ is str:
            try:
                return base64.b64decode(raw, validate=True)
            except (binascii.Error, ValueError):
                pass
        raise Invalid(value=raw)


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


def parse(service: Service, operation_model: OperationModel, req: HttpRequest) -> dict[str, Any]:
    """The operation's params from a json 1.0 request (raises the service's validation errors)."""
    raw = decode(req.body)
    shape = operation_model.input_shape
    if shape is None:
        return {}
    return _inbound.parse_input(service, READER, shape, raw)


def serialize(service: Service, operation_model: OperationModel, result: dict[str, Any],
              request_id: str) -> HttpResponse:
    """A 200 response carrying ``result`` (``{}`` for operations without output)."""
    shape = operation_model.output_shape
    body = {} if shape is None else _outbound.handler(WRITER, service.name, shape)(result)
    return HttpResponse(200, _headers(request_id), orjson.dumps(body))


def serialize_error(service: Service, error: ServiceError, request_id: str,
                    operation_name: str | None) -> HttpResponse:
    """The json error response for ``error``, with ``x-amzn-query-error``."""
    type_name, message_key = error_type(service, error, operation_name)
    headers = _headers(request_id)
    headers[QUERY_ERROR_HEADER] = query_error(error)
    body = orjson.dumps({"__type": type_name, message_key: error.message})
    return HttpResponse(error.status, headers, body)


def _headers(request_id: str) -> dict[str, str]:
    return {"x-amzn-RequestId": request_id, "Content-Type": CONTENT_TYPE}
