"""Client channels: one long-lived ``grpc.aio`` channel per target per process."""

from __future__ import annotations

import grpc

MAX_MESSAGE_BYTES = 64 * 1024 * 1024

CHANNEL_OPTIONS = (
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    # Transparent retries of calls that never left the client (connection not yet up).
    ("grpc.enable_retries", 1),
)


def open_channel(target: str) -> grpc.aio.Channel:
    """Open an insecure channel to ``target`` (``host:port``); TLS is the mesh's job in k8s."""
    return grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS)
