"""The autoscale service process, not implemented yet.

It serves health and reflection, and its RPCs answer UNIMPLEMENTED, so deployments and probes
can be wired before scaling lands.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from stackwatch.config import AutoscaleSettings
from stackwatch.proto.autoscale.v1 import autoscale_pb2, autoscale_pb2_grpc
from stackwatch.rpc import ServerHandle, serve

SERVICE_NAME = autoscale_pb2.DESCRIPTOR.services_by_name["AutoscaleService"].full_name


@contextlib.asynccontextmanager
async def running(settings: AutoscaleSettings) -> AsyncIterator[ServerHandle]:
    """Serve the (unimplemented) AutoscaleService."""
    servicer = autoscale_pb2_grpc.AutoscaleServiceServicer()  # generated base: every RPC is UNIMPLEMENTED
    handle = await serve(
        settings.bind, lambda s: autoscale_pb2_grpc.add_AutoscaleServiceServicer_to_server(servicer, s), [SERVICE_NAME])
    try:
        yield handle
    finally:
        await handle.stop(grace=1.0)
