"""Run the auth service: credential provider behind a cache, gRPC Authenticate."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from services.auth.cache import CachingProvider
from services.auth.provider import StaticCredentialProvider
from services.auth.servicer import AuthServicer
from stackwatch import errors
from stackwatch.clock import Clock, SystemClock
from stackwatch.config import AuthSettings
from stackwatch.proto.auth.v1 import auth_pb2, auth_pb2_grpc
from stackwatch.rpc import ServerHandle, serve

SERVICE_NAME = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name


@contextlib.asynccontextmanager
async def running(settings: AuthSettings, clock: Clock | None = None) -> AsyncIterator[ServerHandle]:
    """Run the service for the duration of the context; yields the server handle."""
    clock = clock or SystemClock()
    if not settings.credentials_file:
        raise errors.StackWatchError("STACKWATCH_AUTH_CREDENTIALS_FILE is not set: the auth service "
                                     "needs a credentials file")
    provider = CachingProvider(StaticCredentialProvider.from_file(settings.credentials_file),
                               ttl=settings.cache_ttl, negative_ttl=settings.negative_ttl, clock=clock)
    servicer = AuthServicer(provider, clock)
    handle = await serve(settings.bind, lambda s: auth_pb2_grpc.add_AuthServiceServicer_to_server(servicer, s),
                         [SERVICE_NAME])
    try:
        yield handle
    finally:
        await handle.stop(grace=2.0)
        await provider.close()
