"""gRPC plumbing shared by every service: errors as statuses, principals, servers, channels.

Public names:
    abort_with / error_from_rpc / servicer_errors: ServiceError <-> gRPC status carrying
        google.rpc.ErrorInfo.
    TokenSigner / PrincipalVerifier / principal_metadata / SigV4CallSigner: who a call acts for,
        proven by a principal token or a SigV4 signature over the call (see ``_principal``).
    serve / ServerHandle: a grpc.aio server with health, reflection and graceful shutdown.
    open_channel: a long-lived client channel with sane options.
"""

from stackwatch.rpc._channel import open_channel
from stackwatch.rpc._principal import (
    TOKEN_KEY,
    PrincipalVerifier,
    SigV4CallSigner,
    TokenSigner,
    call_canonical_request,
    principal_metadata,
)
from stackwatch.rpc._server import ServerHandle, serve
from stackwatch.rpc._status import abort_with, error_from_rpc, servicer_errors

__all__ = [
    "TOKEN_KEY",
    "PrincipalVerifier",
    "ServerHandle",
    "SigV4CallSigner",
    "TokenSigner",
    "abort_with",
    "call_canonical_request",
    "error_from_rpc",
    "open_channel",
    "principal_metadata",
    "serve",
    "servicer_errors",
]
