"""Run the auth service: credential providers (static file, CloudStack) behind a cache, gRPC Authenticate."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from services.auth.cache import CachingProvider
from services.auth.cloudstack import CloudStackCredentialProvider
from services.auth.provider import ChainProvider, CredentialProvider, StaticCredentialProvider
from services.auth.servicer import AuthServicer
from stackwatch import errors
from stackwatch.clock import Clock, SystemClock
from stackwatch.cloudstack import CloudStackClient
from stackwatch.config import AuthSettings
from stackwatch.proto.auth.v1 import auth_pb2, auth_pb2_grpc
from stackwatch.rpc import ServerHandle, TokenSigner, serve

LOG = logging.getLogger(__name__)
SERVICE_NAME = auth_pb2.DESCRIPTOR.services_by_name["AuthService"].full_name


def _providers(settings: AuthSettings) -> CredentialProvider:
    """The configured providers: the static file first, then CloudStack."""
    chain: list[CredentialProvider] = []
    if settings.credentials_file:
        chain.append(StaticCredentialProvider.from_file(settings.credentials_file))
    if settings.cloudstack_url:
        if not settings.cloudstack_api_key:
            raise errors.StackWatchError("STACKWATCH_AUTH_CLOUDSTACK_URL is set but STACKWATCH_AUTH_CLOUDSTACK_API_KEY "
                                         "is not")
        client = CloudStackClient(settings.cloudstack_url, settings.cloudstack_api_key, settings.cloudstack_secret(),
                                  timeout=settings.cloudstack_timeout, attempts=3)
        chain.append(CloudStackCredentialProvider(client))
        LOG.info("credentials from CloudStack at %s", settings.cloudstack_url)
    if not chain:
        raise errors.StackWatchError("the auth service has no credentials: set STACKWATCH_AUTH_CLOUDSTACK_URL "
                                     "(with _API_KEY and _SECRET_KEY_FILE) or STACKWATCH_AUTH_CREDENTIALS_FILE")
    return chain[0] if len(chain) == 1 else ChainProvider(chain)


@contextlib.asynccontextmanager
async def running(settings: AuthSettings, internal_key: bytes,
                  clock: Clock | None = None) -> AsyncIterator[ServerHandle]:
    """Run the service for the duration of the context; yields the server handle."""
    clock = clock or SystemClock()
    provider = CachingProvider(_providers(settings), clock, ttl=settings.cache_ttl,
                               negative_ttl=settings.negative_ttl, stale_ttl=settings.stale_ttl,
                               max_entries=settings.cache_entries)
    servicer = AuthServicer(provider, clock, TokenSigner(internal_key, clock))
    handle = await serve(settings.bind, lambda s: auth_pb2_grpc.add_AuthServiceServicer_to_server(servicer, s),
                         [SERVICE_NAME])
    try:
        yield handle
    finally:
        await handle.stop(grace=2.0)
        await provider.close()
