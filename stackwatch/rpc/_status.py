"""ServiceError <-> gRPC status, so an AWS error code survives a hop between services.

A servicer raises a :class:`~stackwatch.errors.ServiceError`; :func:`servicer_errors` (a decorator
for servicer methods) turns it into a gRPC status whose details carry a ``google.rpc.ErrorInfo``:
``reason`` is the AWS code, ``domain`` is ``stackwatch``, and ``metadata`` keeps the message (and,
when the error has any, its other members as JSON under ``members``). The
client side calls :func:`error_from_rpc` on an ``AioRpcError`` to get the same ServiceError back;
a status without our detail (a dead peer, a deadline) becomes ``ServiceUnavailable`` or
``InternalFailure`` by its gRPC code. Unexpected exceptions are logged with their traceback and
reported as ``InternalFailure`` (never with internals in the message).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from stackwatch import errors
from stackwatch.store.errors import StoreError

LOG = logging.getLogger(__name__)
DOMAIN = "stackwatch"

# gRPC code per HTTP status class of the AWS error: what a generic gRPC client should see.
_GRPC_CODE = {
    400: code_pb2.INVALID_ARGUMENT,
    403: code_pb2.UNAUTHENTICATED,
    404: code_pb2.NOT_FOUND,
    409: code_pb2.ALREADY_EXISTS,
    413: code_pb2.INVALID_ARGUMENT,
    429: code_pb2.RESOURCE_EXHAUSTED,
    500: code_pb2.INTERNAL,
    503: code_pb2.UNAVAILABLE,
}
_SPECIAL = {"Throttling": code_pb2.RESOURCE_EXHAUSTED, "AccessDenied": code_pb2.PERMISSION_DENIED}


def to_status(error: errors.ServiceError) -> grpc.Status:
    """Encode ``error`` as a rich gRPC status."""
    code = _SPECIAL.get(error.code, _GRPC_CODE.get(error.status, code_pb2.UNKNOWN))
    metadata = {"message": error.message}
    if error.members:
        metadata["members"] = json.dumps(error.members)
    info = error_details_pb2.ErrorInfo(reason=error.code, domain=DOMAIN, metadata=metadata)
    detail = any_pb2.Any()
    detail.Pack(info)
    return rpc_status.to_status(status_pb2.Status(code=code, message=error.message, details=[detail]))


async def abort_with(context: grpc.aio.ServicerContext[Any, Any], error: errors.ServiceError) -> None:
    """Abort the current RPC with ``error`` (never returns)."""
    await context.abort_with_status(to_status(error))


def error_from_rpc(exc: grpc.aio.AioRpcError) -> errors.ServiceError:
    """Rebuild the ServiceError a peer raised, or classify a transport failure."""
    status = rpc_status.from_call(exc)
    if status is not None:
        for detail in status.details:
            info = error_details_pb2.ErrorInfo()
            if detail.Unpack(info) and info.domain == DOMAIN:
                members = json.loads(info.metadata["members"]) if "members" in info.metadata else None
                return errors.error_for(info.reason, info.metadata.get("message", status.message), members)
    code = exc.code()
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED):
        return errors.ServiceUnavailable("The service is unavailable. Please try again shortly.")
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return errors.Throttling("Rate exceeded")
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return errors.AccessDenied(exc.details() or "Unauthenticated")
    return errors.InternalFailure("The request processing has failed because of an unknown error.")


F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
#: What a caller is told when the store is unavailable (the details go to the log).
_STORE_DOWN = "The service is unavailable. Please retry."


def servicer_errors(method: F) -> F:
    """Decorate an async servicer method: ServiceErrors become statuses, bugs become InternalFailure."""

    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            return await method(self, request, context)
        except StoreError as e:  # its message names servers and tables: for our log, not for tenants
            LOG.warning("%s: store error: %s", method.__qualname__, e.message)
            await abort_with(context, errors.ServiceUnavailable(_STORE_DOWN) if e.retryable else errors.InternalFailure(
                "The request processing has failed because of an unknown error."))
        except errors.ServiceError as e:
            await abort_with(context, e)
        except grpc.aio.AbortError:
            raise
        except Exception:
            LOG.exception("unhandled error in %s", method.__qualname__)
            await abort_with(context, errors.InternalFailure(
                "The request processing has failed because of an unknown error."))

    return wrapper  # type: ignore[return-value]
