"""The aiohttp gateway: AWS wire protocols in, gRPC to the services, AWS wire protocols out.

One handler serves every request on ``/`` (json, query) and ``/service/...`` (rpc-v2-cbor)::

    read body (size-limited, timed: gateway.body) ─> gunzip if Content-Encoding: gzip (size-limited)
      ─> detect service, protocol, operation        (gateway.awsproto.detect)
      ─> SigV4 fields from the *raw* request        (gateway.sigv4)  ─> auth.Authenticate
      ─> parse params from the model                (gateway.awsproto)
      ─> operation table  (gateway.apis.cloudwatch, .alarms, .dashboards, .widgets, .sns, .autoscaling)
                          ─> ingest, alarm (AlarmService, NotificationService)
      ─> serialize result or error in the request's protocol

Beside it, three unauthenticated GETs serve the links SNS messages carry (:mod:`gateway.links`):
the SubscribeURL, the UnsubscribeURL and the signing certificate.

No domain logic lives here. Every response carries ``x-amzn-RequestId``; every failure is an AWS
error in the request's protocol, never a bare 500: unexpected exceptions are logged and answered
``InternalFailure``. Past ``max_concurrent_requests`` in flight, requests get ``ServiceUnavailable``.

Overload is refused, not queued without end. Once its body is in, a request waits for one of
``max_active_requests`` turns; one that waited ``queue_timeout`` is answered ``Throttling`` (which
SDKs retry with backoff), and so is, at once and before its body is read, one that arrives while
as many wait as are served. At twice the rate the machine can take, the excess gets a quick
refusal while the rest keep their latency, and memory stays flat.

Bad clients cannot wedge it. Around the handler, aiohttp's own knobs bound the head's size and
idle keep-alive time, :mod:`gateway.connections` bounds the number of connections and the time
to send a head, and :mod:`gateway.body` the time to send a body; a body that cannot be read is
answered and its connection closed. Malformed requests are logged as one rate-limited line each
(:mod:`gateway.serverlog`), never as tracebacks.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import NoReturn

from aiohttp import HttpVersion11, web

from gateway import awsproto, body, links, sigv4
from gateway.apis import alarms, autoscaling, cloudwatch, dashboards, sns, widgets
from gateway.calls import Backends, Call
from gateway.connections import ConnectionGuard, GuardedSite, fd_bounded
from gateway.serverlog import ServerLog
from stackwatch import errors, logs, tracing
from stackwatch.config import GatewaySettings

LOG = logging.getLogger(__name__)

BACKENDS = web.AppKey("backends", Backends)
SETTINGS = web.AppKey("settings", GatewaySettings)
GUARD = web.AppKey("connection_guard", ConnectionGuard)
LIMITED_LOG = web.AppKey("limited_log", logs.RateLimitedLog)
OPERATIONS: dict[str, Mapping[str, widgets.Handler]] = {
    awsproto.CLOUDWATCH.signing_name: {**cloudwatch.OPERATIONS, **alarms.OPERATIONS, **dashboards.OPERATIONS,
                                       **widgets.OPERATIONS},
    awsproto.AUTOSCALING.signing_name: autoscaling.OPERATIONS,
    awsproto.SNS.signing_name: sns.OPERATIONS}
PARSERS = {awsproto.CLOUDWATCH.signing_name: cloudwatch.PARSERS}  # else awsproto.parse_request


def _guess(request: web.Request) -> tuple[awsproto.Service, awsproto.Protocol]:
    """Protocol to answer in when detection itself failed (mirrors detect's precedence)."""
    if request.headers.get("smithy-protocol", "").lower() == "rpc-v2-cbor":
        return awsproto.CLOUDWATCH, awsproto.Protocol.CBOR
    if "x-amz-target" in request.headers:
        return awsproto.CLOUDWATCH, awsproto.Protocol.JSON
    return awsproto.CLOUDWATCH, awsproto.Protocol.QUERY


class Gateway:
    """The request handler and its concurrency guard."""

    def __init__(self, settings: GatewaySettings, guard: ConnectionGuard, limited: logs.RateLimitedLog) -> None:
        self.settings = settings
        self.guard = guard
        self.limited = limited
        self.in_flight = 0
        self.turns = asyncio.Semaphore(settings.max_active_requests)
        self.queued = 0
        self.throttled = 0

    def _throttle(self) -> NoReturn:
        self.throttled += 1
        self.limited.log(logging.WARNING, "overload", "overloaded: requests are being throttled (%d so far)",
                         self.throttled)
        raise errors.Throttling("Rate exceeded")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one AWS API request."""
        transport = request.transport
        self.guard.request_started(transport)
        request_id = str(uuid.uuid4())
        token = logs.bind(request_id=request_id)
        close = False
        self.in_flight += 1
        try:
            if self.in_flight > self.settings.max_concurrent_requests:
                raise errors.ServiceUnavailable("The service is busy. Please retry.")
            if self.queued >= self.settings.max_active_requests:
                # As many wait as are served: this one would wait out queue_timeout anyway. Refused
                # before its body is read (most of what a refusal would cost), so the connection
                # cannot be kept: the unread body is still on it.
                close = True
                self._throttle()
            close = True  # until the body is read: on failure the rest of it is not worth waiting for
            raw = await body.read_body(request, max_bytes=self.settings.max_body_bytes,
                                       stall_timeout=self.settings.stall_timeout,
                                       body_timeout=self.settings.body_timeout)
            close = False
            self.queued += 1
            try:
                await asyncio.wait_for(self.turns.acquire(), self.settings.queue_timeout)
            except TimeoutError:
                self._throttle()
            finally:
                self.queued -= 1
            try:
                out = await self._serve(request, raw, request_id)
            finally:
                self.turns.release()
        except body.ClientGone:
            return web.Response(status=400)  # nobody left to read it
        except errors.ServiceError as e:  # before the body was read: busy, or the body was bad
            if close and not isinstance(e, errors.Throttling):
                self.limited.log(logging.INFO, "bad-body", "unreadable request body from %s: %s %s",
                                 request.remote, e.code, e.message)
            service, protocol = _guess(request)
            out = awsproto.serialize_error(service, protocol, e, request_id, None)
        except Exception:
            # Failing to answer an error (a bug of ours) must not leave aiohttp to answer a bare 500.
            self.limited.log(logging.ERROR, "unhandled", "unhandled error answering a request", exc_info=True)
            out = awsproto.serialize_error(*_guess(request), errors.InternalFailure(
                "The request processing has failed because of an unknown error."), request_id, None)
        finally:
            self.in_flight -= 1
            logs.unbind(token)
            self.guard.request_finished(transport)
        response = web.Response(status=out.status, headers=out.headers, body=out.body)
        if close:
            response.force_close()
        return response

    async def _serve(self, request: web.Request, raw: bytes, request_id: str) -> awsproto.HttpResponse:
        """Everything after the body is read; answers every failure in the request's protocol."""
        service, protocol = _guess(request)
        operation: str | None = None
        try:
            payload = raw
            if request.headers.get("Content-Encoding", "").lower() == "gzip":
                payload = body.gunzip(raw, self.settings.max_decoded_bytes)
            elif len(raw) > self.settings.max_decoded_bytes:
                raise errors.RequestEntityTooLarge(
                    f"Request size exceeds {self.settings.max_decoded_bytes} bytes.")
            http = awsproto.HttpRequest(
                method=request.method, path=request.path, headers=request.headers,
                query=list(request.query.items()), body=payload)
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
            if isinstance(result, awsproto.HttpResponse):  # a body of its own: GetMetricWidgetImage's image/png
                return awsproto.HttpResponse(result.status, {**result.headers, "x-amzn-RequestId": request_id},
                                             result.body)
            return awsproto.serialize_response(detected, op_model, result, request_id)
        except errors.ServiceError as e:
            found = awsproto.detected_from(e)
            if found is not None:
                service, protocol = found.service, found.protocol
            if e.status >= 500:
                self.limited.log(logging.WARNING, "failed", "%s failed: %s %s", operation, e.code, e.message)
            return awsproto.serialize_error(service, protocol, e, request_id, operation)
        except Exception:
            # A bug of ours; rate-limited all the same, in case a client found a way to trigger it.
            self.limited.log(logging.ERROR, "unhandled", "unhandled error serving %s", operation, exc_info=True)
            return awsproto.serialize_error(service, protocol, errors.InternalFailure(
                "The request processing has failed because of an unknown error."), request_id, operation)


async def _backends_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    backends = Backends(settings.auth_address, settings.ingest_address, settings.rpc_timeout,
                        settings.alarm_address, settings.autoscale_address, settings.put_timeout)
    app[BACKENDS] = backends
    yield
    await backends.close()


def create_app(settings: GatewaySettings) -> web.Application:
    """Build the aiohttp application (tracing, if wanted, must be configured before this)."""
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    limited = logs.RateLimitedLog(LOG, limit=settings.bad_request_log_limit, interval=10.0)
    guard = ConnectionGuard(fd_bounded(settings.max_connections), settings.header_timeout,
                            settings.stall_timeout, limited)
    app[LIMITED_LOG] = limited
    app[GUARD] = guard
    gateway = Gateway(settings, guard, limited)
    app.cleanup_ctx.append(_backends_ctx)
    links.add_routes(app, lambda: app[BACKENDS], guard)
    app.router.add_route("*", "/{tail:.*}", gateway.handle, expect_handler=_expect)
    return app


async def _expect(request: web.Request) -> None:
    """``Expect: 100-continue`` gets its interim response; any other expectation is ignored.

    aiohttp's default handler answers other values with a 417 whose text quotes the header, and
    fails (a bare 500) when that holds bytes that are not UTF-8. RFC 9110 lets a server ignore an
    expectation it does not know.
    """
    if request.version == HttpVersion11 and request.headers.get("Expect", "").lower() == "100-continue":
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0  # the interim response is not the response


async def start(settings: GatewaySettings) -> tuple[web.AppRunner, int]:
    """Start serving; returns the runner (for cleanup) and the bound port."""
    app = create_app(settings)
    guard = app[GUARD]
    if guard.max_connections < settings.max_connections:
        LOG.warning("max_connections lowered from %d to %d by the file descriptor limit (ulimit -n)",
                    settings.max_connections, guard.max_connections)
    runner = web.AppRunner(
        app, access_log=None, handle_signals=False,
        # the signature covers the body as sent (gzipped), and our own gunzip limits its size
        auto_decompress=False,
        # an hour by default: idle clients would hold descriptors for that long
        keepalive_timeout=settings.keepalive_timeout,
        # after an early answer (413, 408), read and drop the rest of a body for so long at most
        lingering_time=settings.stall_timeout,
        # malformed HTTP: one rate-limited line each, not a traceback each
        logger=ServerLog(logs.RateLimitedLog(logging.getLogger("aiohttp.server"),
                                             limit=settings.bad_request_log_limit, interval=10.0)))
    await runner.setup()
    site = GuardedSite(runner, guard, settings.host, settings.port, backlog=1024, reuse_port=settings.reuse_port)
    await site.start()
    LOG.info("gateway listening on http://%s:%d (at most %d connections)", settings.host, site.port,
             guard.max_connections)
    return runner, site.port
