"""A store error leaves a service as an AWS error without the store's internals (servers, tables)."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from stackwatch import errors
from stackwatch.rpc import servicer_errors
from stackwatch.store import StoreQueryError, StoreUnavailable

INTERNALS = "shard 2: no replica took the insert: NetworkError: Code: 210. Connection refused (10.0.3.7:9000)"


class Context:
    """Records the status a servicer aborts with (what grpc.aio's context would send)."""

    status: Any = None

    async def abort_with_status(self, status: Any) -> None:
        self.status = status
        raise grpc.aio.AbortError()


class Servicer:
    def __init__(self, error: Exception) -> None:
        self.error = error

    @servicer_errors
    async def Call(self, request: Any, context: Any) -> None:  # noqa: N802 - a gRPC method name
        raise self.error


@pytest.mark.parametrize(("error", "code"), [(StoreUnavailable(INTERNALS, db_code=210), "ServiceUnavailable"),
                                             (StoreQueryError(INTERNALS, db_code=62), "InternalFailure")])
async def test_a_store_error_reaches_the_caller_without_internals(error, code):
    context = Context()
    with pytest.raises(grpc.aio.AbortError):
        await Servicer(error).Call(None, context)
    assert code in str(context.status.trailing_metadata) and "10.0.3.7" not in str(context.status.trailing_metadata)
    assert context.status.details and "10.0.3.7" not in context.status.details


async def test_other_service_errors_keep_their_message():
    context = Context()
    with pytest.raises(grpc.aio.AbortError):
        await Servicer(errors.InvalidParameterValue("The value 7 is not allowed.")).Call(None, context)
    assert context.status.details == "The value 7 is not allowed."
