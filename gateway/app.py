"""The aiohttp gateway: AWS wire protocols in, gRPC to the services, AWS wire protocols out.

One handler serves every request on ``/`` (json, query) and ``/service/...`` (rpc-v2-cbor)::

    read body (size-limited) ─> gunzip if Content-Encoding: gzip (size-limited)
      ─> detect service, protocol, operation        (gateway.awsproto.detect)
      ─> SigV4 fields from the *raw* request        (gateway.sigv4)  ─> auth.Authenticate
      ─> parse params from the model                (gateway.awsproto)
      ─> operation table                            (gateway.apis.cloudwatch) ─> ingest ...
      ─> serialize result or error in the request's protocol

No domain logic lives here. Every response carries ``x-amzn-RequestId``; every failure is an AWS
error in the request's protocol, never a bare 500: unexpected exceptions are logged and answered
``InternalFailure``. Past ``max_concurrent_requests`` in flight, requests get ``ServiceUnavailable``.
"""

from __future__ import annotations

import logging
import uuid
import zlib
from collections.abc import AsyncIterator

from aiohttp import web

from gateway import awsproto, sigv4
from gateway.apis import cloudwatch
from gateway.calls import Backends, Call
from stackwatch import errors, logs, tracing
from stackwatch.config import GatewaySettings

LOG = logging.getLogger(__name__)

BACKENDS = web.AppKey("backends", Backends)
SETTINGS = web.AppKey("settings", GatewaySettings)
OPERATIONS = {awsproto.CLOUDWATCH.signing_name: cloudwatch.OPERATIONS}
PARSERS = {awsproto.CLOUDWATCH.signing_name: cloudwatch.PARSERS}  # else awsproto.parse_request


def _gunzip(body: bytes, limit: int) -> bytes:
    d = zlib.decompressobj(wbits=31)
    try:
        out = d.decompress(body, limit + 1)
    except zlib.error as e:
        raise errors.SerializationException(f"The request body could not be decompressed: {e}") from None
    if len(out) > limit or d.unconsumed_tail:
        raise errors.RequestEntityTooLarge(f"Request size exceeds {limit} bytes after decompression.")
    return out


def _guess(request: web.Request) -> tuple[awsproto.Service, awsproto.Protocol]:
    """Protocol to answer in when detection itself failed (mirrors detect's precedence)."""
    if request.headers.get("smithy-protocol", "").lower() == "rpc-v2-cbor":
        return awsproto.CLOUDWATCH, awsproto.Protocol.CBOR
    if "x-amz-target" in request.headers:
        return awsproto.CLOUDWATCH, awsproto.Protocol.JSON
    return awsproto.CLOUDWATCH, awsproto.Protocol.QUERY


class Gateway:
    """The request handler and its concurrency guard."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.in_flight = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one AWS API request."""
        request_id = str(uuid.uuid4())
        token = logs.bind(request_id=request_id)
        service, protocol = _guess(request)
        operation: str | None = None
        self.in_flight += 1
        try:
            if self.in_flight > self.settings.max_concurrent_requests:
                raise errors.ServiceUnavailable("The service is busy. Please retry.")
            try:
                raw = await request.read()
            except web.HTTPRequestEntityTooLarge:
                raise errors.RequestEntityTooLarge(
                    f"Request size exceeds {self.settings.max_body_bytes} bytes.") from None
            body = raw
            if request.headers.get("Content-Encoding", "").lower() == "gzip":
                body = _gunzip(raw, self.settings.max_decoded_bytes)
            elif len(raw) > self.settings.max_decoded_bytes:
                raise errors.RequestEntityTooLarge(
                    f"Request size exceeds {self.settings.max_decoded_bytes} bytes.")
            http = awsproto.HttpRequest(
                method=request.method, path=request.path, headers=request.headers,
                query=list(request.query.items()), body=body)
            detected = awsproto.detect(http)
            service, protocol, operation = detected.service, detected.protocol, detected.operation
            logs.bind(operation=operation or "")
            tracing.name_current_span(f"{service.signing_name}.{operation}", **{"rpc.method": operation or ""})
            question = sigv4.authenticate_request(
                request.method, request.raw_path.split("?", 1)[0], request.rel_url.raw_query_string, request.headers,
                raw, service=service.signing_name, form=detected.form)
            if question.service != service.signing_name:
                raise errors.SignatureDoesNotMatch(
                    f"Credential should be scoped to correct service: '{service.signing_name}'. ")
            answer = await request.app[BACKENDS].authenticate(question)
            principal = answer.principal
            logs.bind(account=principal.account_id)
            handler = OPERATIONS.get(service.signing_name, {}).get(operation or "")
            if handler is None:
                raise errors.InvalidAction(
                    f"The action {operation} is not supported by this StackWatch endpoint yet.")
            parse = PARSERS.get(service.signing_name, {}).get(operation or "", awsproto.parse_request)
            op_model, params = parse(detected, http)
            result = await handler(Call(request.app[BACKENDS], principal, answer.principal_token), params)
            out = awsproto.serialize_response(detected, op_model, result, request_id)
        except errors.ServiceError as e:
            found = awsproto.detected_from(e)
            if found is not None:
                service, protocol = found.service, found.protocol
            if e.status >= 500:
                LOG.warning("%s failed: %s %s", operation, e.code, e.message)
            out = awsproto.serialize_error(service, protocol, e, request_id, operation)
        except Exception:
            LOG.exception("unhandled error serving %s", operation)
            out = awsproto.serialize_error(service, protocol, errors.InternalFailure(
                "The request processing has failed because of an unknown error."), request_id, operation)
        finally:
            self.in_flight -= 1
            logs.unbind(token)
        return web.Response(status=out.status, headers=out.headers, body=out.body)


async def _backends_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    backends = Backends(settings.auth_address, settings.ingest_address, settings.rpc_timeout)
    app[BACKENDS] = backends
    yield
    await backends.close()


def create_app(settings: GatewaySettings) -> web.Application:
    """Build the aiohttp application (tracing, if wanted, must be configured before this)."""
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    gateway = Gateway(settings)
    app.cleanup_ctx.append(_backends_ctx)
    app.router.add_route("*", "/{tail:.*}", gateway.handle)
    return app


async def start(settings: GatewaySettings) -> tuple[web.AppRunner, int]:
    """Start serving; returns the runner (for cleanup) and the bound port."""
    # auto_decompress=False: the signature covers the body as sent (gzipped), and our own gunzip
    # enforces the decoded-size limit.
    runner = web.AppRunner(create_app(settings), access_log=None, handle_signals=False, auto_decompress=False)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port, backlog=1024, reuse_port=settings.reuse_port or None)
    await site.start()
    port: int = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    LOG.info("gateway listening on http://%s:%d", settings.host, port)
    return runner, port


