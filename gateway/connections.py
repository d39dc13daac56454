"""Connections: how many may be open, and how long a client may take to send a head or read.

aiohttp bounds what a request head may hold (``max_line_size``, ``max_field_size``,
``max_headers``), how long an idle keep-alive connection lives (``keepalive_timeout``) and how
long it lingers over an unread body (``lingering_time``), but not how many connections are open,
nor how long a client may take to finish a request head, nor a client that stops reading our
response. A few thousand slow clients would hold a few thousand file descriptors for ever. This
module adds those three bounds with a thin :class:`asyncio.Protocol` wrapped around each of
aiohttp's own ``RequestHandler`` protocols; every call is forwarded, nothing is parsed here::

    listening socket --accept--> _Guarded --every callback--> aiohttp RequestHandler
                                   | max_connections open already: aborted before aiohttp sees it
                                   | head not complete within header_timeout: aborted
                                   | writing paused (client reads nothing) for stall_timeout: aborted

One connection's states; the gateway's handler reports when a request starts and ends
(:meth:`ConnectionGuard.request_started` / :meth:`~ConnectionGuard.request_finished`)::

    event / state      HEAD                 BUSY              IDLE
    opened             (initial state, header_timeout timer started)
    bytes arrive       -                    -                 HEAD, timer started
    handler starts     BUSY, timer stopped  -                 BUSY
    handler ends       -                    IDLE              -
    timer fires        aborted              -                 -

In BUSY the handler bounds the body itself (``gateway.body``); in IDLE aiohttp's
``keepalive_timeout`` closes the connection (also when the bytes of a next, pipelined request
arrived while BUSY: they cannot be told from the body's, so they start no head timer). A refused
or timed-out connection is aborted, not answered: before a complete head there is no request
whose protocol an error could be written in. Requests beyond ``max_concurrent_requests`` on
admitted connections get ``ServiceUnavailable`` from the handler instead. Each closure is logged
through a :class:`~stackwatch.logs.RateLimitedLog`.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections.abc import Callable
from enum import Enum
from typing import Any

from aiohttp import web

from stackwatch.logs import RateLimitedLog

LOG = logging.getLogger(__name__)


class _State(Enum):
    HEAD = "head"   #: waiting for a complete request head
    BUSY = "busy"   #: the handler is serving a request
    IDLE = "idle"   #: between requests (aiohttp's keep-alive timer applies)


def fd_bounded(max_connections: int) -> int:
    """``max_connections``, lowered to three quarters of the process's file descriptor limit.

    The remaining quarter (at least 64) is left for everything else the process opens: gRPC
    channels, log files, and in ``stackwatch up`` the embedded store's files.
    """
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return max_connections
    return max(1, min(max_connections, soft - max(64, soft // 4)))


class ConnectionGuard:
    """Counts open connections and enforces the limit and the head and write-stall timeouts.

    Args:
        max_connections: connections beyond this many open ones are aborted on accept.
        header_timeout: seconds a connection has to deliver a complete request head, counted
            from when it opens or when the first byte of a following request arrives.
        stall_timeout: seconds the connection may stay unable to write (the client reads
            nothing) before it is aborted.
        log: where refusals and timeouts are reported (rate-limited).
    """

    def __init__(self, max_connections: int, header_timeout: float, stall_timeout: float,
                 log: RateLimitedLog | None = None) -> None:
        self.max_connections = max_connections
        self.header_timeout = header_timeout
        self.stall_timeout = stall_timeout
        self.log = log or RateLimitedLog(LOG)
        self.refused = 0
        self.timed_out = 0
        self._open: dict[asyncio.BaseTransport, _Guarded] = {}

    @property
    def open(self) -> int:
        """Connections currently open (admitted ones only)."""
        return len(self._open)

    def protocol_factory(self, factory: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """A protocol factory for ``loop.create_server`` that guards what ``factory`` makes."""
        return lambda: _Guarded(self, factory)

    def request_started(self, transport: asyncio.BaseTransport | None) -> None:
        """The handler got a complete request head on ``transport``: stop its head timer."""
        conn = self._open.get(transport) if transport is not None else None
        if conn is not None:
            conn.set_state(_State.BUSY)

    def request_finished(self, transport: asyncio.BaseTransport | None) -> None:
        """The handler is done with its request on ``transport``: the connection is idle."""
        conn = self._open.get(transport) if transport is not None else None
        if conn is not None:
            conn.set_state(_State.IDLE)

    def _admit(self, conn: _Guarded, transport: asyncio.BaseTransport) -> bool:
        if len(self._open) >= self.max_connections:
            self.refused += 1
            self.log.log(logging.WARNING, "connection-limit",
                         "connection limit of %d reached: closed a new connection from %s",
                         self.max_connections, _peer(transport))
            return False
        self._open[transport] = conn
        return True

    def _forget(self, transport: asyncio.BaseTransport) -> None:
        self._open.pop(transport, None)

    def _timed_out(self, transport: asyncio.Transport, head: bool) -> None:
        self.timed_out += 1
        what = "no complete request head" if head else "response not read"
        seconds = self.header_timeout if head else self.stall_timeout
        self.log.log(logging.INFO, "head-timeout" if head else "stall-timeout",
                     "closed the connection from %s: %s within %g s", _peer(transport), what, seconds)
        transport.abort()


def _peer(transport: asyncio.BaseTransport) -> str:
    peer = transport.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)


class _Guarded(asyncio.Protocol):
    """One connection: forwards to aiohttp's protocol and runs the timers of the state table."""

    def __init__(self, guard: ConnectionGuard, factory: Callable[[], asyncio.Protocol]) -> None:
        self._guard = guard
        self._factory = factory
        self._inner: asyncio.Protocol | None = None
        self._transport: asyncio.Transport | None = None
        self._state = _State.HEAD
        self._head_timer: asyncio.TimerHandle | None = None
        self._stall_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Admit the connection (and start its head timer) or abort it."""
        assert isinstance(transport, asyncio.Transport)
        if not self._guard._admit(self, transport):
            transport.abort()
            return
        self._transport = transport
        self._inner = self._factory()
        self._inner.connection_made(transport)
        self.set_state(_State.HEAD)

    def set_state(self, state: _State) -> None:
        """Enter ``state``; HEAD (re)starts the head timer, any other state stops it."""
        self._state = state
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if state is _State.HEAD and self._transport is not None:
            self._head_timer = asyncio.get_running_loop().call_later(
                self._guard.header_timeout, self._expire, True)

    def _expire(self, head: bool) -> None:
        transport = self._transport
        if head:
            self._head_timer = None
        else:
            self._stall_timer = None
        # A closing transport is aborted too: close() waits for the write buffer to drain, which a
        # client that reads nothing never lets happen.
        if transport is not None and (not head or self._state is _State.HEAD):
            self._guard._timed_out(transport, head)

    def data_received(self, data: bytes) -> None:
        """Forward; the first bytes after an idle spell start a new head timer."""
        if self._inner is None:
            return
        if self._state is _State.IDLE:
            self.set_state(_State.HEAD)
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        """Forward."""
        return self._inner.eof_received() if self._inner is not None else None

    def pause_writing(self) -> None:
        """Forward, and start the write-stall timer."""
        if self._inner is None:
            return
        if self._stall_timer is None:
            self._stall_timer = asyncio.get_running_loop().call_later(
                self._guard.stall_timeout, self._expire, False)
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        """Forward, and stop the write-stall timer."""
        if self._stall_timer is not None:
            self._stall_timer.cancel()
            self._stall_timer = None
        if self._inner is not None:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the timers, stop counting the connection, forward."""
        for timer in (self._head_timer, self._stall_timer):
            if timer is not None:
                timer.cancel()
        self._head_timer = self._stall_timer = None
        if self._transport is not None:
            self._guard._forget(self._transport)
            self._transport = None
        if self._inner is not None:
            inner, self._inner = self._inner, None
            inner.connection_lost(exc)


class GuardedSite(web.BaseSite):
    """A TCP site whose connections go through a :class:`ConnectionGuard`.

    aiohttp's ``TCPSite`` has no hook for the protocol factory; this is ``TCPSite`` with one.
    """

    def __init__(self, runner: web.BaseRunner, guard: ConnectionGuard, host: str, port: int, *,
                 backlog: int = 1024, reuse_port: bool = False) -> None:
        super().__init__(runner, backlog=backlog)
        self._handler_factory: Any = runner.server
        self._guard = guard
        self._host = host
        self._port = port
        self._reuse_port = reuse_port
        self.listener: asyncio.Server | None = None

    @property
    def name(self) -> str:
        """``http://host:port`` (the bound port once started)."""
        return f"http://{self._host}:{self.port}"

    @property
    def port(self) -> int:
        """The bound port once started, else the one asked for (0: any)."""
        if self.listener is not None and self.listener.sockets:
            port: int = self.listener.sockets[0].getsockname()[1]
            return port
        return self._port

    async def start(self) -> None:
        """Listen."""
        await super().start()
        self.listener = await asyncio.get_running_loop().create_server(
            self._guard.protocol_factory(self._handler_factory), self._host, self._port, backlog=self._backlog,
            reuse_port=self._reuse_port or None)
        self._server = self.listener
