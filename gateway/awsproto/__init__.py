"""Server-side AWS wire codecs for CloudWatch and Auto Scaling, driven by botocore's models.

The gateway's view of a request::

    detected = detect(req)                       # service, protocol, operation (or raises)
    op_model, params = parse_request(detected, req)
    result = ...                                 # the operation table's work
    response = serialize_response(detected, op_model, result, request_id)
    # on a ServiceError e:
    response = serialize_error(service, protocol, e, request_id, operation_name)

``detect`` raises ``InvalidAction``/``MissingAction``/``MalformedQueryString`` (query) or
``UnknownOperation`` (json, cbor) when there is no valid operation; :func:`detected_from` on that
error gives the service and protocol to answer in. ``parse_request`` raises
``SerializationException`` for an undecodable json/cbor body and the service's validation errors
(CloudWatch: ``MissingParameter``/``InvalidParameterValue``; Auto Scaling: ``ValidationError``)
with query-style parameter paths. Any other exception is a bug; answer it with ``InternalFailure``.

Params use model member names, nested dicts and lists, aware-UTC ``datetime`` timestamps, float
doubles, int integers/longs, bytes blobs; absent members are absent. Results use the same form
(timestamps may also be epoch seconds; None members are omitted).

Modules: :mod:`.model` (services), :mod:`.request` (HTTP values), :mod:`.detect`, one codec per
protocol (:mod:`.query`, :mod:`.json10`, :mod:`.rpcv2cbor`), :mod:`.errors` (wire names of
errors); the shared shape walks are the private ``_inbound`` (with ``_reader``) and
``_outbound``, and ``_tree`` is what json and cbor share.
"""

from __future__ import annotations

from typing import Any
from typing import Protocol as TypingProtocol

from botocore.model import OperationModel

from gateway.awsproto import json10, query, rpcv2cbor
from gateway.awsproto.detect import Detected, detect, detected_from
from gateway.awsproto.model import AUTOSCALING, CLOUDWATCH, SERVICES, SNS, Service
from gateway.awsproto.request import HttpRequest, HttpResponse, Protocol
from stackwatch.errors import ServiceError

__all__ = [
    "AUTOSCALING", "CLOUDWATCH", "SERVICES", "SNS", "Detected", "HttpRequest", "HttpResponse", "Protocol",
    "Service", "detect", "detected_from", "parse_request", "serialize_error", "serialize_response",
]


class _Codec(TypingProtocol):
    def serialize(self, service: Service, operation_model: OperationModel, result: dict[str, Any],
                  request_id: str) -> HttpResponse: ...

    def serialize_error(self, service: Service, error: ServiceError, request_id: str,
                        operation_name: str | None) -> HttpResponse: ...


_CODECS: dict[Protocol, _Codec] = {
    Protocol.QUERY: query, Protocol.JSON: json10, Protocol.CBOR: rpcv2cbor}


def parse_request(detected: Detected, req: HttpRequest) -> tuple[OperationModel, dict[str, Any]]:
    """The operation's model and its typed, validated params.

    Raises:
        ServiceError: ``SerializationException`` for an undecodable body; the service's validation
            errors (see the module docstring).
        ValueError: ``detected`` has no operation (a detection error was ignored).
    """
    if detected.operation is None:
        raise ValueError("parse_request needs a Detected with an operation")
    operation_model = detected.service.operation_model(detected.operation)
    if detected.protocol is Protocol.QUERY:
        params = query.parse(detected.service, operation_model, req, pairs=detected.form)
    elif detected.protocol is Protocol.JSON:
        params = json10.parse(detected.service, operation_model, req)
    else:
        params = rpcv2cbor.parse(detected.service, operation_model, req)
    return operation_model, params


def serialize_response(detected: Detected, operation_model: OperationModel, result: dict[str, Any],
                       request_id: str) -> HttpResponse:
    """The 200 response carrying ``result`` in the request's protocol."""
    return _CODECS[detected.protocol].serialize(detected.service, operation_model, result, request_id)


def serialize_error(service: Service, protocol: Protocol, error: ServiceError, request_id: str,
                    operation_name: str | None) -> HttpResponse:
    r"""The error response for ``error`` in ``protocol`` (status from ``error.status``).

    A message may quote the request (an operation name, a header) and so hold lone surrogates,
    which is how aiohttp decodes bytes that are not UTF-8; they are written as ``\udcff``.
    """
    if not _encodable(error.message):
        error.message = error.message.encode("utf-8", "backslashreplace").decode("utf-8")
    if operation_name is not None and not _encodable(operation_name):
        operation_name = None
    return _CODECS[protocol].serialize_error(service, error, request_id, operation_name)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
