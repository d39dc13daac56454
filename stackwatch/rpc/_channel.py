"""Client channels: one long-lived ``grpc.aio`` channel per target per process, balanced per call.

A gRPC client keeps its HTTP/2 connections open, so a Kubernetes ClusterIP Service (which
balances *connections*) would send every call of a process to the one pod it first connected to.
Instead the channel resolves the name itself and balances *calls*:

* the target is resolved with gRPC's ``dns`` resolver (``host:port`` becomes ``dns:///host:port``;
  a literal ``127.0.0.1:port`` or ``[::1]:port`` resolves to itself), and behind a **headless**
  Service (``clusterIP: None``) the name resolves to every ready pod's address;
* the ``round_robin`` policy keeps a connection to each address and spreads calls over the ones
  that are up (the default, ``pick_first``, would use one address only);
* new pods are found when the channel re-resolves, which it does whenever a connection closes:
  the servers end every connection after a maximum age (``stackwatch.rpc._server``), so the
  address list is never more than a few minutes old. A removed pod's connection breaks at once.

Targets that already name a resolver (``dns:``, ``ipv4:``, ``ipv6:``, ``unix:``, ...) are used as
given; ``ipv4:10.0.0.1:50051,10.0.0.2:50051`` lists several addresses directly.
"""

from __future__ import annotations

import json
import re

import grpc

MAX_MESSAGE_BYTES = 64 * 1024 * 1024

#: Options every channel and server shares.
CHANNEL_OPTIONS = (
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    # Transparent retries of calls that never left the client (connection not yet up).
    ("grpc.enable_retries", 1),
)

#: The service config every channel uses: calls round-robin over every resolved address.
SERVICE_CONFIG: dict[str, object] = {"loadBalancingConfig": [{"round_robin": {}}]}

#: Client-only options: the balancing policy, and no service config from DNS TXT records, so
#: the policy above is the one in force whatever the cluster's DNS serves.
CLIENT_OPTIONS = (
    *CHANNEL_OPTIONS,
    ("grpc.service_config", json.dumps(SERVICE_CONFIG)),
    ("grpc.service_config_disable_resolution", 1),
)

# A URI scheme gRPC would take as the resolver's name ("dns:", "ipv4:", "unix:", "xds:", ...).
# "localhost:50051" also matches the URI syntax, hence the explicit list.
_RESOLVER_SCHEME = re.compile(r"^(dns|ipv4|ipv6|unix|unix-abstract|vsock|xds|google-c2p):", re.IGNORECASE)


def channel_target(target: str) -> str:
    """The gRPC target for ``target``: ``host:port`` becomes ``dns:///host:port``."""
    if _RESOLVER_SCHEME.match(target):
        return target
    return f"dns:///{target}"


def open_channel(target: str) -> grpc.aio.Channel:
    """Open an insecure channel to ``target`` (``host:port``); TLS is the mesh's job in k8s."""
    return grpc.aio.insecure_channel(channel_target(target), options=CLIENT_OPTIONS)
