"""A grpc.aio server with health checking, reflection and a graceful stop.

``serve(bind, register, service_names)`` creates the server inside the running loop, lets
``register(server)`` add the servicers, registers ``grpc.health.v1`` (overall ``""`` and one entry
per service name, SERVING once started) and reflection, and starts listening. ``stop()`` first
reports NOT_SERVING everywhere (so load balancers drain), then stops with a grace period.

Every connection is closed after ``MAX_CONNECTION_AGE_MS`` (gRPC adds +-10 % jitter): the server
sends GOAWAY, calls in flight get ``MAX_CONNECTION_AGE_GRACE_MS`` to finish, and the client
reconnects and re-resolves its target, so round-robin clients (``stackwatch.rpc._channel``) find
pods that started since they last looked. Without it a long-lived client would never learn of
new replicas behind a headless Service.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from stackwatch.rpc._channel import CHANNEL_OPTIONS

LOG = logging.getLogger(__name__)

#: Longest life of a client connection: how stale a client's list of pods can get.
MAX_CONNECTION_AGE_MS = 5 * 60 * 1000
#: Time calls in flight on an aged connection get to finish (above every client deadline: the
#: gateway's defaults are 10 s, and 50 s for PutMetricData).
MAX_CONNECTION_AGE_GRACE_MS = 60 * 1000

SERVER_OPTIONS = (
    *CHANNEL_OPTIONS,
    ("grpc.max_connection_age_ms", MAX_CONNECTION_AGE_MS),
    ("grpc.max_connection_age_grace_ms", MAX_CONNECTION_AGE_GRACE_MS),
    # Clients ping every 30 s (keepalive_time_ms), also on an idle connection. By default gRPC
    # counts pings less than 5 minutes apart with no data in between as abuse, and past two
    # strikes closes the connection with GOAWAY "too_many_pings": allow one every 10 s.
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
)


def server_options(aged_connections: bool = True) -> tuple[tuple[str, int], ...]:
    """The server's channel options, without the connection age limit when ``aged_connections`` is False."""
    if aged_connections:
        return SERVER_OPTIONS
    return tuple(o for o in SERVER_OPTIONS if not o[0].startswith("grpc.max_connection_age"))


@dataclass
class ServerHandle:
    """A running server: its bound port and its health servicer."""

    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    service_names: tuple[str, ...]

    async def set_serving(self, serving: bool) -> None:
        """Report SERVING (or NOT_SERVING) for every registered service."""
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in ("", *self.service_names):
            await self.health.set(name, status)

    async def stop(self, grace: float = 5.0) -> None:
        """Drain: NOT_SERVING first, then stop accepting and wait up to ``grace`` seconds."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)


async def serve(bind: str, register: Callable[[grpc.aio.Server], None], service_names: Sequence[str], *,
                aged_connections: bool = True) -> ServerHandle:
    """Start a server on ``bind`` (``host:port``; port 0 picks a free one).

    ``aged_connections=False`` keeps client connections for as long as they live, for a server
    whose clients hold long-lived streams to it by address rather than through a balanced Service
    (the alarm service: ingest's datapoint stream, whose every reopening refills alarm windows).
    """
    server = grpc.aio.server(options=server_options(aged_connections))
    register(server)
    hs = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(hs, server)
    reflection.enable_server_reflection(
        (*service_names, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    port = server.add_insecure_port(bind)
    if port == 0:
        raise OSError(f"cannot bind gRPC server to {bind}")
    await server.start()
    handle = ServerHandle(server, port, hs, tuple(service_names))
    await handle.set_serving(True)
    LOG.info("gRPC server listening on %s (services: %s)", bind.rsplit(":", 1)[0] + f":{port}",
             ", ".join(service_names))
    return handle
