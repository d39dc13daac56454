"""The one exception tree of StackWatch, labelled by AWS error code and by whose fault it is.

Every error a client can see is a :class:`ServiceError`: it carries the AWS query error ``code``
(what ``e.response['Error']['Code']`` shows in boto3), the HTTP ``status`` and ``sender_fault``
(``Sender`` for the client's mistakes, ``Receiver`` for ours). The gateway's codecs turn one into
the wire error of whichever protocol the request came in (query XML, json 1.0, rpc-v2-cbor);
``stackwatch.rpc.status`` turns one into a gRPC status with a ``google.rpc.ErrorInfo`` detail and
back, so an error raised deep in a service reaches the client with the exact AWS code.

::

    StackWatchError
    └── ServiceError                   code, status, sender_fault
        ├── InvalidParameterValue      400  (and the other CloudWatch modeled errors)
        ├── ... common AWS errors      Throttling, SignatureDoesNotMatch, ...
        └── InternalFailure            500  our bug, never the client's
"""

from __future__ import annotations

from typing import ClassVar


class StackWatchError(Exception):
    """Root of every exception StackWatch raises on purpose."""


class ServiceError(StackWatchError):
    """An error with an AWS error code, meant to be returned to the client.

    Attributes:
        code: the AWS query error code, e.g. ``InvalidParameterValue``.
        status: the HTTP status the gateway answers with.
        sender_fault: True when the client is to blame (``Sender``), False for ``Receiver``.
        message: human-readable text, worded as AWS words it where we know how.
    """

    code: ClassVar[str] = "InternalFailure"
    status: ClassVar[int] = 500
    sender_fault: ClassVar[bool] = False

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


def _error(name: str, code: str, status: int, sender_fault: bool) -> type[ServiceError]:
    return type(name, (ServiceError,), {"code": code, "status": status, "sender_fault": sender_fault,
                                        "__doc__": f"AWS error ``{code}`` (HTTP {status})."})


# CloudWatch's modeled errors (shape names differ; the codecs look the shape up by code).
InvalidParameterValue = _error("InvalidParameterValue", "InvalidParameterValue", 400, True)
InvalidParameterCombination = _error("InvalidParameterCombination", "InvalidParameterCombination", 400, True)
MissingParameter = _error("MissingParameter", "MissingParameter", 400, True)
InvalidNextToken = _error("InvalidNextToken", "InvalidNextToken", 400, True)
InvalidFormat = _error("InvalidFormat", "InvalidFormat", 400, True)
LimitExceeded = _error("LimitExceeded", "LimitExceeded", 400, True)
ResourceNotFound = _error("ResourceNotFound", "ResourceNotFound", 404, True)
ValidationError = _error("ValidationError", "ValidationError", 400, True)
ResourceNotFoundException = _error("ResourceNotFoundException", "ResourceNotFoundException", 404, True)
ResourceConflict = _error("ResourceConflict", "ResourceConflict", 409, True)
InvalidParameterInput = _error("InvalidParameterInput", "InvalidParameterInput", 400, True)
InternalServiceError = _error("InternalServiceError", "InternalServiceError", 500, False)

# SNS's modeled errors (its shapes are *Exception; the codecs look the shape up by code).
NotFound = _error("NotFound", "NotFound", 404, True)
InvalidParameter = _error("InvalidParameter", "InvalidParameter", 400, True)
AuthorizationError = _error("AuthorizationError", "AuthorizationError", 403, True)

# Errors common to all AWS query-compatible services.
Throttling = _error("Throttling", "Throttling", 400, True)
ServiceUnavailable = _error("ServiceUnavailable", "ServiceUnavailable", 503, False)
InternalFailure = _error("InternalFailure", "InternalFailure", 500, False)
MissingAction = _error("MissingAction", "MissingAction", 400, True)
InvalidAction = _error("InvalidAction", "InvalidAction", 400, True)
UnknownOperation = _error("UnknownOperation", "UnknownOperationException", 400, True)
MissingAuthenticationToken = _error("MissingAuthenticationToken", "MissingAuthenticationToken", 403, True)
IncompleteSignature = _error("IncompleteSignature", "IncompleteSignature", 400, True)
InvalidClientTokenId = _error("InvalidClientTokenId", "InvalidClientTokenId", 403, True)
SignatureDoesNotMatch = _error("SignatureDoesNotMatch", "SignatureDoesNotMatch", 403, True)
RequestExpired = _error("RequestExpired", "RequestExpired", 400, True)
AccessDenied = _error("AccessDenied", "AccessDenied", 403, True)
RequestEntityTooLarge = _error("RequestEntityTooLarge", "RequestEntityTooLarge", 413, True)
MalformedQueryString = _error("MalformedQueryString", "MalformedQueryString", 400, True)
SerializationException = _error("SerializationException", "SerializationException", 400, True)

#: Every concrete error class by AWS code, for rebuilding errors that crossed a gRPC hop.
BY_CODE: dict[str, type[ServiceError]] = {
    cls.code: cls
    for cls in (
        InvalidParameterValue, InvalidParameterCombination, MissingParameter, InvalidNextToken,
        InvalidFormat, LimitExceeded, ResourceNotFound, ValidationError, InternalServiceError,
        ResourceNotFoundException, ResourceConflict, InvalidParameterInput, NotFound, InvalidParameter,
        AuthorizationError,
        Throttling, ServiceUnavailable, InternalFailure, MissingAction, InvalidAction,
        UnknownOperation, MissingAuthenticationToken, IncompleteSignature, InvalidClientTokenId,
        SignatureDoesNotMatch, RequestExpired, AccessDenied, RequestEntityTooLarge,
        MalformedQueryString, SerializationException,
    )
}


def error_for(code: str, message: str) -> ServiceError:
    """Build the error class registered for ``code`` (``InternalFailure`` if unknown)."""
    return BY_CODE.get(code, InternalFailure)(message)


# Auto Scaling's modeled errors (shapes *Fault; the codecs look the shape up by code).
AlreadyExists = _error("AlreadyExists", "AlreadyExists", 400, True)
ResourceInUse = _error("ResourceInUse", "ResourceInUse", 400, True)
ScalingActivityInProgress = _error("ScalingActivityInProgress", "ScalingActivityInProgress", 400, True)
BY_CODE.update({cls.code: cls for cls in (AlreadyExists, ResourceInUse, ScalingActivityInProgress)})
