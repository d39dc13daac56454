"""What json 1.0 and rpc-v2-cbor share: both decode a body into a tree of plain values.

The two protocols differ only in how bytes become a tree and back (orjson or cbor2), in the
reader/writer that handle their scalar differences (timestamps, blobs), and in their response
headers. Everything else is one code path: walk the input tree along the operation's input
shape, walk the result along its output shape, and write errors as ``{"__type", "message"}`` with
the query-compatible ``x-amzn-query-error`` header.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.model import OperationModel

from gateway.awsproto import _inbound, _outbound
from gateway.awsproto._reader import Reader
from gateway.awsproto.errors import QUERY_ERROR_HEADER, error_type, member_values, members_shape, query_error
from gateway.awsproto.model import Service
from gateway.awsproto.request import HttpRequest, HttpResponse
from stackwatch.errors import ServiceError


@dataclass(frozen=True)
class TreeCodec:
    """One tree protocol: its reader and writer, its byte codec and its response headers."""

    reader: Reader
    writer: _outbound.Writer
    decode: Callable[[bytes], dict[Any, Any]]
    dumps: Callable[[Any], bytes]
    headers: Callable[[str], dict[str, str]]

    def parse(self, service: Service, operation_model: OperationModel, req: HttpRequest) -> dict[str, Any]:
        """The operation's params from the request body (raises the service's validation errors)."""
        raw = self.decode(req.body)
        shape = operation_model.input_shape
        if shape is None:
            return {}
        return _inbound.parse_input(service, self.reader, shape, raw)

    def serialize(self, service: Service, operation_model: OperationModel, result: dict[str, Any],
                  request_id: str) -> HttpResponse:
        """A 200 response carrying ``result`` (an empty object for operations without output)."""
        shape = operation_model.output_shape
        body = {} if shape is None else _outbound.handler(self.writer, service.name, shape)(result)
        return HttpResponse(200, self.headers(request_id), self.dumps(body))

    def serialize_error(self, service: Service, error: ServiceError, request_id: str,
                        operation_name: str | None) -> HttpResponse:
        """The error response for ``error`` (with its other members), with ``x-amzn-query-error``."""
        type_name, message_key = error_type(service, error, operation_name)
        headers = self.headers(request_id)
        headers[QUERY_ERROR_HEADER] = query_error(error)
        body: dict[str, Any] = {"__type": type_name, message_key: error.message}
        shape = members_shape(service, error, operation_name)
        if shape is not None:
            body.update(_outbound.handler(self.writer, service.name, shape)(member_values(error, shape)))
        return HttpResponse(error.status, headers, self.dumps(body))
