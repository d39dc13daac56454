"""gRPC plumbing shared by every service: errors as statuses, the principal, servers, channels.

Public names:
    abort_with / error_from_rpc: ServiceError <-> gRPC status carrying google.rpc.ErrorInfo.
    principal_metadata / require_principal: the caller's principal in call metadata.
    serve / ServerHandle: a grpc.aio server with health, reflection and graceful shutdown.
    open_channel: a long-lived client channel with sane options.
"""

from stackwatch.rpc._channel import open_channel
from stackwatch.rpc._principal import PRINCIPAL_KEYS, principal_metadata, require_principal
from stackwatch.rpc._server import ServerHandle, serve
from stackwatch.rpc._status import abort_with, error_from_rpc, servicer_errors

__all__ = [
    "PRINCIPAL_KEYS",
    "ServerHandle",
    "abort_with",
    "error_from_rpc",
    "open_channel",
    "principal_metadata",
    "require_principal",
    "serve",
    "servicer_errors",
]
