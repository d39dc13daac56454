"""Run the autoscale service: open its store, serve AutoscaleService over gRPC.

Callers (the gateway for the Auto Scaling API, the alarm service for alarm actions) send a
principal token signed with the internal key; the service verifies it locally (no auth service
call: it accepts no API-key signatures) and acts for the account it names.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from services.autoscale.servicer import AutoscaleServicer
from services.autoscale.store import AutoscaleStore
from stackwatch.clock import Clock, SystemClock
from stackwatch.config import AutoscaleSettings
from stackwatch.proto.autoscale.v1 import autoscale_pb2, autoscale_pb2_grpc
from stackwatch.rpc import PrincipalVerifier, ServerHandle, TokenSigner, serve
from stackwatch.store import AsyncEngine, open_engine

SERVICE_NAME = autoscale_pb2.DESCRIPTOR.services_by_name["AutoscaleService"].full_name


@contextlib.asynccontextmanager
async def running(settings: AutoscaleSettings, internal_key: bytes,
                  clock: Clock | None = None) -> AsyncIterator[ServerHandle]:
    """Run the service for the duration of the context; yields the server handle (with its port)."""
    clock = clock or SystemClock()
    tokens = TokenSigner(internal_key, clock)  # refuses a bad key before anything touches the store
    engine = AsyncEngine(open_engine(settings.store_url), threads=settings.store_threads)
    store = AutoscaleStore(engine, settings.database)
    try:
        await store.ensure_schema()
        servicer = AutoscaleServicer(store, clock, PrincipalVerifier(tokens, None, SERVICE_NAME), settings.region)
        handle = await serve(
            settings.bind, lambda s: autoscale_pb2_grpc.add_AutoscaleServiceServicer_to_server(servicer, s),
            [SERVICE_NAME])
        try:
            yield handle
        finally:
            await handle.stop(grace=5.0)
    finally:
        engine.close()
