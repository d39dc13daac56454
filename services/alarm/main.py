"""The alarm service process, not implemented yet.

It serves health and reflection, and its RPCs answer UNIMPLEMENTED, so deployments and probes
can be wired before the evaluator lands.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from stackwatch.config import AlarmSettings
from stackwatch.proto.alarm.v1 import alarm_pb2, alarm_pb2_grpc
from stackwatch.rpc import ServerHandle, serve

SERVICE_NAME = alarm_pb2.DESCRIPTOR.services_by_name["AlarmService"].full_name


@contextlib.asynccontextmanager
async def running(settings: AlarmSettings) -> AsyncIterator[ServerHandle]:
    """Serve the (unimplemented) AlarmService."""
    servicer = alarm_pb2_grpc.AlarmServiceServicer()  # generated base: every RPC is UNIMPLEMENTED
    handle = await serve(settings.bind, lambda s: alarm_pb2_grpc.add_AlarmServiceServicer_to_server(servicer, s),
                         [SERVICE_NAME])
    try:
        yield handle
    finally:
        await handle.stop(grace=1.0)
