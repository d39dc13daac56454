"""The auth gRPC servicer: is this signature good, and whom does it speak for?

Thin by design: the checks are :mod:`services.auth.domain`'s pure functions, the credential comes
from the (cached) provider. In order, so that cheap refusals cost no lookup:

1. the algorithm is AWS4-HMAC-SHA256 and the scope names a service StackWatch serves;
2. the request time lies within 15 minutes of our clock (or within a presigned URL's expiry);
3. the access key is known (``InvalidClientTokenId`` otherwise) and active;
4. the signature matches, compared in constant time (``SignatureDoesNotMatch`` otherwise).

Secrets never leave this process, and neither secrets nor signatures are logged.
"""

from __future__ import annotations

import logging
from typing import Any

import grpc

from services.auth.cache import CachingProvider
from services.auth.domain import check_request_time, verify_sigv4
from stackwatch import errors
from stackwatch.clock import Clock
from stackwatch.proto.auth.v1 import auth_pb2, auth_pb2_grpc
from stackwatch.rpc import servicer_errors

LOG = logging.getLogger(__name__)

ALGORITHM = "AWS4-HMAC-SHA256"
#: SigV4 service names of the APIs StackWatch serves.
SERVICES = frozenset({"monitoring", "autoscaling"})
_BAD_SIGNATURE = ("The request signature we calculated does not match the signature you provided. Check "
                  "your AWS Secret Access Key and signing method. Consult the service documentation for details.")
_UNKNOWN_KEY = "The security token included in the request is invalid."


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    """Verifies SigV4 signatures against the provider's credentials."""

    def __init__(self, provider: CachingProvider, clock: Clock) -> None:
        self._provider = provider
        self._clock = clock

    @servicer_errors
    async def Authenticate(self, request: auth_pb2.AuthenticateRequest,
                           context: grpc.aio.ServicerContext[Any, Any]) -> auth_pb2.AuthenticateResponse:
        """Verify one signed request and answer its principal."""
        if request.algorithm != ALGORITHM:
            raise errors.IncompleteSignature(f"Unsupported signature algorithm {request.algorithm!r}.")
        if request.service not in SERVICES:
            raise errors.SignatureDoesNotMatch(
                f"Credential should be scoped to a valid service: one of {', '.join(sorted(SERVICES))}.")
        if not request.access_key_id:
            raise errors.IncompleteSignature("The Credential has no access key id.")
        lines = request.string_to_sign.split("\n")
        scope = f"{request.scope_date}/{request.region}/{request.service}/aws4_request"
        if len(lines) != 4 or lines[0] != ALGORITHM or lines[1] != request.request_date or lines[2] != scope:
            raise errors.IncompleteSignature("The string to sign does not match the signed date and scope.")
        check_request_time(request.request_date, self._clock.now())
        credential = await self._provider.lookup(request.access_key_id)
        if credential is None:
            LOG.info("refused: unknown access key %s", request.access_key_id)
            raise errors.InvalidClientTokenId(_UNKNOWN_KEY)
        if not credential.active:
            LOG.info("refused: inactive access key %s of account %s", request.access_key_id, credential.account_id)
            raise errors.InvalidClientTokenId(credential.reason or _UNKNOWN_KEY)
        if not verify_sigv4(credential.secret_access_key, request.scope_date, request.region, request.service,
                            request.string_to_sign, request.signature):
            LOG.info("refused: signature mismatch for access key %s", request.access_key_id)
            raise errors.SignatureDoesNotMatch(_BAD_SIGNATURE)
        return auth_pb2.AuthenticateResponse(principal=auth_pb2.Principal(
            account_id=credential.account_id, user=credential.user, access_key_id=credential.access_key_id,
            account_number=credential.account_number))
