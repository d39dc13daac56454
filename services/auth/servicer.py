"""The auth gRPC servicer: is this signature good, and whom does it speak for?

Thin by design: the checks are :mod:`services.auth.domain`'s pure functions, the credential comes
from the (cached) provider. In order, so that cheap refusals cost no lookup:

1. the scope names a service StackWatch serves and the algorithm is AWS4-HMAC-SHA256 (SigV2:
   HmacSHA256 or HmacSHA1), with a string to sign that agrees with the signed date and scope;
2. the request time lies within 15 minutes of our clock (or within a presigned URL's expiry;
   SigV2: Timestamp within 15 minutes, or Expires not passed);
3. the access key is known (``InvalidClientTokenId`` otherwise) and active;
4. the signature matches, compared in constant time (``SignatureDoesNotMatch`` otherwise).

The answer carries a principal token (:class:`~stackwatch.rpc.TokenSigner`) for the caller to
forward to the services. Secrets never leave this process, and neither secrets nor signatures
are logged.
"""

from __future__ import annotations

import logging
from typing import Any

import grpc

from services.auth.cache import CachingProvider
from services.auth.domain import check_request_time, check_sigv2_time, verify_sigv2, verify_sigv4
from stackwatch import errors, logs
from stackwatch.clock import Clock
from stackwatch.proto.auth.v1 import auth_pb2, auth_pb2_grpc
from stackwatch.rpc import TokenSigner, servicer_errors

LOG = logging.getLogger(__name__)

ALGORITHM = "AWS4-HMAC-SHA256"
#: SigV4 service names of the APIs StackWatch serves.
SERVICES = frozenset({"monitoring", "autoscaling", "sns"})
SIGV2_METHODS = frozenset({"HmacSHA256", "HmacSHA1"})
_BAD_SIGNATURE = ("The request signature we calculated does not match the signature you provided. Check "
                  "your AWS Secret Access Key and signing method. Consult the service documentation for details.")
_UNKNOWN_KEY = "The security token included in the request is invalid."


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    """Verifies SigV4 (and SigV2) signatures against the provider's credentials."""

    def __init__(self, provider: CachingProvider, clock: Clock, tokens: TokenSigner) -> None:
        # Anyone can send signed garbage: refusals are logged at most 20 lines per 10 s per kind.
        self._refusals = logs.RateLimitedLog(LOG, limit=20, interval=10.0)
        self._provider = provider
        self._clock = clock
        self._tokens = tokens

    @servicer_errors
    async def Authenticate(self, request: auth_pb2.AuthenticateRequest,
                           context: grpc.aio.ServicerContext[Any, Any]) -> auth_pb2.AuthenticateResponse:
        """Verify one signed request and answer its principal, with a token naming it."""
        if request.service not in SERVICES:
            raise errors.SignatureDoesNotMatch(
                f"Credential should be scoped to a valid service: one of {', '.join(sorted(SERVICES))}.")
        if not request.access_key_id:
            raise errors.IncompleteSignature("The Credential has no access key id.")
        if request.signature_version == 2:
            if request.algorithm not in SIGV2_METHODS:
                raise errors.IncompleteSignature(f"Unsupported SignatureMethod {request.algorithm!r}.")
            check_sigv2_time(request.request_date, request.expires, self._clock.now())
        else:
            self._check_sigv4_shape(request)
            check_request_time(request.request_date, self._clock.now(), expires=request.expires_seconds or None)
        credential = await self._provider.lookup(request.access_key_id)
        if credential is None:
            self._refusals.log(logging.INFO, "unknown", "refused: unknown access key %s", request.access_key_id)
            raise errors.InvalidClientTokenId(_UNKNOWN_KEY)
        if not credential.active:
            self._refusals.log(logging.INFO, "inactive", "refused: inactive access key %s of account %s",
                               request.access_key_id, credential.account_id)
            raise errors.InvalidClientTokenId(credential.reason or _UNKNOWN_KEY)
        if request.signature_version == 2:
            good = verify_sigv2(credential.secret_access_key, request.algorithm, request.string_to_sign,
                                request.signature)
        else:
            good = verify_sigv4(credential.secret_access_key, request.scope_date, request.region, request.service,
                                request.string_to_sign, request.signature)
        if not good:
            self._refusals.log(logging.INFO, "mismatch", "refused: signature mismatch for access key %s",
                               request.access_key_id)
            raise errors.SignatureDoesNotMatch(_BAD_SIGNATURE)
        principal = auth_pb2.Principal(
            account_id=credential.account_id, user=credential.user, access_key_id=credential.access_key_id,
            account_number=credential.account_number)
        return auth_pb2.AuthenticateResponse(principal=principal, principal_token=self._tokens.issue(principal))

    @staticmethod
    def _check_sigv4_shape(request: auth_pb2.AuthenticateRequest) -> None:
        if request.algorithm != ALGORITHM:
            raise errors.IncompleteSignature(f"Unsupported signature algorithm {request.algorithm!r}.")
        lines = request.string_to_sign.split("\n")
        scope = f"{request.scope_date}/{request.region}/{request.service}/aws4_request"
        if len(lines) != 4 or lines[0] != ALGORITHM or lines[1] != request.request_date or lines[2] != scope:
            raise errors.IncompleteSignature("The string to sign does not match the signed date and scope.")
