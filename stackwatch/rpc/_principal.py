"""Who a gRPC call acts for, proven on every call: a service never trusts an account id it cannot verify.

The protos are a public internal API, so a call may come from the gateway or from another
program. Either way it must carry proof of its principal, in one of two forms:

1. **A principal token** (metadata ``x-stackwatch-principal``). The auth service issues one with
   every successful ``Authenticate``: the principal and an expiry (a few minutes), serialized and
   HMAC-SHA256-signed with the cluster's internal key. The gateway forwards it, and a service
   that calls another on the tenant's behalf forwards it too. Services verify it locally with the
   same key: no call, constant-time comparison, expiry checked.
2. **A SigV4 signature over the call**, made with the caller's own CloudStack API keys, for
   programs that talk gRPC directly. Metadata ``authorization`` (the usual ``AWS4-HMAC-SHA256
   Credential=..., SignedHeaders=host;x-amz-date, Signature=...``) and ``x-amz-date``; the
   canonical request is::

       POST
       /<package>.<Service>/<Method>                      the gRPC method's full name
                                                          (empty query)
       host:<package>.<Service>                            the gRPC service, not a network name
       x-amz-date:20240501T120030Z

       host;x-amz-date
       <hex SHA-256 of the request message, serialized deterministically>

   The service rebuilds it from the call and asks the auth service, exactly as the gateway asks
   for an HTTP request; keys never leave auth. :class:`SigV4CallSigner` is the client side.

Bare account metadata (``x-stackwatch-account`` and the like) proves nothing and is ignored.
A call with neither proof is refused with ``MissingAuthenticationToken``; a bad token with
``InvalidClientTokenId``. Why this design: it needs no PKI (mTLS would still need a way to say
"acting for account X", which is the token), internal callers use the keys they already have,
and the hot path (gateway to service) costs one HMAC, not a call.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Sequence
from typing import Any

import grpc
from google.protobuf.message import DecodeError, Message

from stackwatch import errors, sigv4
from stackwatch.clock import Clock, SystemClock
from stackwatch.proto.auth.v1 import auth_pb2, auth_pb2_grpc

TOKEN_KEY = "x-stackwatch-principal"
TOKEN_TTL = 300.0
_DATE = "%Y%m%dT%H%M%SZ"


class TokenSigner:
    """Issues and verifies principal tokens with the internal key (see the module docstring).

    Args:
        key: the cluster's internal key (at least 16 bytes).
        clock: time source.
        ttl: seconds a token is good for.
    """

    def __init__(self, key: bytes, clock: Clock | None = None, ttl: float = TOKEN_TTL) -> None:
        if len(key) < 16:
            raise errors.StackWatchError("the internal key must be at least 16 bytes")
        self._key = key
        self._clock = clock or SystemClock()
        self._ttl = ttl

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, b"stackwatch-principal-v1\x00" + body, hashlib.sha256).digest()

    def issue(self, principal: auth_pb2.Principal) -> str:
        """A token naming ``principal``, good for ``ttl`` seconds."""
        body = auth_pb2.PrincipalToken(principal=principal,
                                       expires_at=int(self._clock.now() + self._ttl)).SerializeToString()
        return f"{_b64(body)}.{_b64(self._mac(body))}"

    def verify(self, token: str) -> auth_pb2.Principal:
        """The principal a token names.

        Raises:
            InvalidClientTokenId: forged, tampered with, malformed or expired.
        """
        body_text, _, mac_text = token.partition(".")
        try:
            body, mac = _unb64(body_text), _unb64(mac_text)
        except ValueError:
            raise errors.InvalidClientTokenId("The principal token is malformed.") from None
        if not hmac.compare_digest(mac, self._mac(body)):
            raise errors.InvalidClientTokenId("The principal token is invalid.")
        parsed = auth_pb2.PrincipalToken()
        try:
            parsed.ParseFromString(body)
        except DecodeError:
            raise errors.InvalidClientTokenId("The principal token is malformed.") from None
        if parsed.expires_at < self._clock.now():
            raise errors.InvalidClientTokenId("The principal token has expired.")
        if not parsed.principal.account_id:
            raise errors.InvalidClientTokenId("The principal token names no account.")
        return parsed.principal


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as e:
        raise ValueError(str(e)) from None


def principal_metadata(token: str) -> tuple[tuple[str, str], ...]:
    """Metadata carrying a principal token to the next service."""
    return ((TOKEN_KEY, token),)


def call_canonical_request(method: str, request_date: str, body_hash: str) -> str:
    """The canonical request of a gRPC call (``method`` is ``/package.Service/Method``)."""
    service = method.strip("/").split("/", 1)[0]
    return f"POST\n{method}\n\nhost:{service}\nx-amz-date:{request_date}\n\nhost;x-amz-date\n{body_hash}"


def message_hash(message: Message) -> str:
    """The hex SHA-256 of a request message serialized deterministically."""
    return sigv4.payload_hash(message.SerializeToString(deterministic=True))


class SigV4CallSigner(grpc.aio.UnaryUnaryClientInterceptor):
    """A client interceptor that signs every unary call with the caller's API keys.

    ``grpc.aio.insecure_channel(target, interceptors=[SigV4CallSigner(key, secret)])``. The scope
    service is ``monitoring`` (CloudWatch's) unless given; any region is accepted.
    """

    def __init__(self, access_key_id: str, secret_access_key: str, *, region: str = "us-east-1",
                 service: str = "monitoring", clock: Clock | None = None) -> None:
        self._akid, self._secret = access_key_id, secret_access_key
        self._region, self._service = region, service
        self._clock = clock or SystemClock()

    async def intercept_unary_unary(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        """Add ``authorization`` and ``x-amz-date`` to the call's metadata."""
        method = details.method.decode() if isinstance(details.method, bytes) else details.method
        date = time.strftime(_DATE, time.gmtime(self._clock.now()))
        canonical = call_canonical_request(method, date, message_hash(request))
        sts = sigv4.string_to_sign(date, date[:8], self._region, self._service, canonical)
        sig = sigv4.signature(sigv4.signing_key(self._secret, date[:8], self._region, self._service), sts)
        auth = (f"{sigv4.ALGORITHM} Credential={self._akid}/{sigv4.scope(date[:8], self._region, self._service)}, "
                f"SignedHeaders=host;x-amz-date, Signature={sig}")
        metadata = list(details.metadata or ()) + [("authorization", auth), ("x-amz-date", date)]
        details = grpc.aio.ClientCallDetails(details.method, details.timeout, metadata, details.credentials,
                                             details.wait_for_ready)
        return await continuation(details, request)


def _metadata(md: Sequence[tuple[str, Any]] | None) -> dict[str, str]:
    return {k: v for k, v in (md or ()) if isinstance(v, str)}


class PrincipalVerifier:
    """A service's check of who each call acts for (see the module docstring).

    Args:
        tokens: the signer holding the internal key.
        auth: the auth service's stub, for calls signed with API keys; None refuses those.
        service: the full gRPC service name (``stackwatch.proto.metrics.v1.IngestService``).
        timeout: deadline of the call to the auth service.
    """

    def __init__(self, tokens: TokenSigner, auth: auth_pb2_grpc.AuthServiceStub | None, service: str,
                 timeout: float = 5.0) -> None:
        self._tokens = tokens
        self._auth = auth
        self._service = service
        self._timeout = timeout

    async def require(self, context: grpc.aio.ServicerContext[Any, Any], request: Message,
                      method: str) -> auth_pb2.Principal:
        """The verified principal of the current call (``method`` is the RPC's short name).

        Raises:
            MissingAuthenticationToken: the call carries no proof.
            InvalidClientTokenId, SignatureDoesNotMatch, ...: the proof does not hold.
        """
        md = _metadata(context.invocation_metadata())
        token = md.get(TOKEN_KEY)
        if token:
            return self._tokens.verify(token)
        authorization = md.get("authorization")
        if authorization:
            return await self._signed_call(authorization, md.get("x-amz-date", ""), request,
                                           f"/{self._service}/{method}")
        raise errors.MissingAuthenticationToken(
            "The call carries no principal: send the x-stackwatch-principal token from Authenticate, "
            "or sign the call with your API keys (stackwatch.rpc.SigV4CallSigner).")

    async def _signed_call(self, authorization: str, date: str, request: Message, method: str) -> auth_pb2.Principal:
        if self._auth is None:
            raise errors.AccessDenied("This service accepts principal tokens only.")
        algorithm, _, rest = authorization.partition(" ")
        fields = dict(p.strip().split("=", 1) for p in rest.split(",") if "=" in p)
        parts = fields.get("Credential", "").split("/")
        if algorithm != sigv4.ALGORITHM or len(parts) != 5 or fields.get("SignedHeaders") != "host;x-amz-date":
            raise errors.IncompleteSignature(
                "A signed call needs Credential=<key>/<date>/<region>/<service>/aws4_request, "
                "SignedHeaders=host;x-amz-date and Signature.")
        akid, scope_date, region, service, _ = parts
        canonical = call_canonical_request(method, date, message_hash(request))
        question = auth_pb2.AuthenticateRequest(
            access_key_id=akid, algorithm=algorithm, request_date=date, scope_date=scope_date, region=region,
            service=service, string_to_sign=sigv4.string_to_sign(date, scope_date, region, service, canonical),
            signature=fields.get("Signature", ""))
        try:
            response = await self._auth.Authenticate(question, timeout=self._timeout)
        except grpc.aio.AioRpcError as e:
            from stackwatch.rpc._status import error_from_rpc

            raise error_from_rpc(e) from None
        principal: auth_pb2.Principal = response.principal
        return principal
