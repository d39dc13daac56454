"""Which service, protocol and operation a request is for, decided as reference §7.0 says.

In order:

1. ``POST /service/<TargetPrefix>/operation/<Op>`` with ``smithy-protocol: rpc-v2-cbor``
   -> rpc-v2-cbor, service by target prefix.
2. ``X-Amz-Target: <TargetPrefix>.<Op>`` -> json 1.0, service by target prefix.
3. ``Action`` in the form body or the URL query -> query. The service is the one whose API
   version the ``Version`` parameter names (``2010-08-01`` CloudWatch, ``2011-01-01`` Auto
   Scaling, ``2010-03-31`` SNS); without one, the service in the SigV4 credential scope (``Authorization:
   ... Credential=AKID/20240501/us-east-1/monitoring/aws4_request`` or ``X-Amz-Credential``);
   else CloudWatch.
4. Otherwise the most likely protocol answers with an error: cbor if there is a
   ``smithy-protocol`` header, a ``/service/`` path or a CBOR content type; json for a
   ``application/x-amz-json`` content type; query (``MissingAction``) for everything else.

**How failures reach the caller.** :func:`detect` raises the protocol-correct
:mod:`stackwatch.errors` error: ``InvalidAction`` / ``MissingAction`` / ``MalformedQueryString``
for query, ``UnknownOperation`` (code ``UnknownOperationException``) for json and cbor. Each such
error carries the service and protocol to answer in; read them with :func:`detected_from`
(``Detected`` with ``operation=None``) and pass them to ``serialize_error``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from gateway.awsproto import model
from gateway.awsproto.model import CLOUDWATCH, Service
from gateway.awsproto.query import decode_form
from gateway.awsproto.request import HttpRequest, Protocol
from stackwatch.errors import InvalidAction, MissingAction, ServiceError, UnknownOperation

_CREDENTIAL = re.compile(r"Credential=([^,\s]+)")
_ATTRIBUTE = "_awsproto_detected"


@dataclass(frozen=True, slots=True)
class Detected:
    """The outcome of detection.

    Attributes:
        service: the service to answer for.
        protocol: the protocol to answer in.
        operation: the model's operation name; None only on the ``Detected`` attached to a
            detection error (see :func:`detected_from`).
        form: for query requests, the decoded ``(name, value)`` pairs, so parsing does not decode
            the body a second time.
    """

    service: Service
    protocol: Protocol
    operation: str | None
    form: Sequence[tuple[str, str]] | None = field(default=None, repr=False, compare=False)


def detect(req: HttpRequest) -> Detected:
    """Detect service, protocol and operation; raises the protocol-correct error if there is none."""
    headers = req.headers
    smithy = (headers.get("smithy-protocol") or "").lower()
    cbor_path = _cbor_path(req.path)
    if cbor_path is not None and smithy == "rpc-v2-cbor":
        return _rpc(Protocol.CBOR, *cbor_path)
    target = headers.get("x-amz-target")
    if target is not None:
        prefix, _, operation = target.rpartition(".")
        return _rpc(Protocol.JSON, prefix, operation)
    try:
        pairs = decode_form(req)
    except ServiceError as e:
        raise _fail(e, CLOUDWATCH, Protocol.QUERY) from None
    if any(name == "Action" for name, _ in pairs):
        return _query(req, pairs)
    content_type = (headers.get("content-type") or "").lower()
    if smithy or cbor_path is not None or content_type.startswith("application/cbor"):
        raise _fail(UnknownOperation("The request names no operation: rpc-v2-cbor requests are POSTed to "
                                     "/service/<service>/operation/<operation> with the header "
                                     "'smithy-protocol: rpc-v2-cbor'."), CLOUDWATCH, Protocol.CBOR)
    if content_type.startswith("application/x-amz-json"):
        raise _fail(UnknownOperation("The request has no X-Amz-Target header naming the operation."),
                    CLOUDWATCH, Protocol.JSON)
    return _query(req, pairs)


def detected_from(error: BaseException) -> Detected | None:
    """The service and protocol a :func:`detect` error must be answered in (None for other errors)."""
    found = getattr(error, _ATTRIBUTE, None)
    return found if isinstance(found, Detected) else None


def _fail(error: ServiceError, service: Service, protocol: Protocol) -> ServiceError:
    setattr(error, _ATTRIBUTE, Detected(service, protocol, None))
    return error


def _cbor_path(path: str) -> tuple[str, str] | None:
    parts = path.rstrip("/").split("/")
    if len(parts) == 5 and parts[0] == "" and parts[1] == "service" and parts[3] == "operation":
        return parts[2], parts[4]
    return None


def _rpc(protocol: Protocol, prefix: str, operation: str) -> Detected:
    service = model.by_target_prefix(prefix)
    if service is not None and protocol in service.protocols and service.has_operation(operation):
        return Detected(service, protocol, operation)
    raise _fail(UnknownOperation(f"The operation {operation or prefix} is not valid for this web service."),
                service or CLOUDWATCH, protocol)


def _query(req: HttpRequest, pairs: Sequence[tuple[str, str]]) -> Detected:
    action = version = None
    for name, value in pairs:
        if name == "Action":
            action = value
        elif name == "Version":
            version = value
    service = model.by_version(version) or model.by_signing_name(_scope_service(req, pairs)) or CLOUDWATCH
    if not action:
        raise _fail(MissingAction("Could not find operation: the request has no Action parameter."),
                    service, Protocol.QUERY)
    if not service.has_operation(action):
        raise _fail(InvalidAction(f"The action {action} is not valid for this web service."),
                    service, Protocol.QUERY)
    return Detected(service, Protocol.QUERY, action, form=pairs)


def _scope_service(req: HttpRequest, pairs: Sequence[tuple[str, str]]) -> str | None:
    """The service of the SigV4 credential scope ``AKID/date/region/service/aws4_request``."""
    credential = None
    match = _CREDENTIAL.search(req.headers.get("authorization") or "")
    if match:
        credential = match.group(1)
    else:
        credential = next((v for k, v in pairs if k == "X-Amz-Credential"), None)
    parts = (credential or "").split("/")
    return parts[3] if len(parts) == 5 else None
