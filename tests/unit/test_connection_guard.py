"""The connection guard's state table and the rate-limited log, with fake transports and clocks.

The end-to-end tests (``tests/e2e/test_hardening.py``) show the guard on real sockets; these walk
what is hard to provoke there: a client that stops reading our response, and the suppressed-count
line of a rate-limited log, which needs a window to pass.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from gateway.connections import ConnectionGuard, fd_bounded
from stackwatch.logs import RateLimitedLog


class FakeTransport(asyncio.Transport):
    """Enough of a transport for the guard: peer name, closing state, abort."""

    def __init__(self) -> None:
        super().__init__()
        self.aborted = False
        self.closing = False

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 40000) if name == "peername" else default

    def is_closing(self) -> bool:
        return self.aborted or self.closing

    def abort(self) -> None:
        self.aborted = True


class Recorder(asyncio.Protocol):
    """The inner (aiohttp) protocol stand-in: records what it was forwarded."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.calls.append("made")

    def data_received(self, data: bytes) -> None:
        self.calls.append(f"data {data!r}")

    def pause_writing(self) -> None:
        self.calls.append("pause")

    def resume_writing(self) -> None:
        self.calls.append("resume")

    def connection_lost(self, exc: Exception | None) -> None:
        self.calls.append("lost")


def _open(guard: ConnectionGuard) -> tuple[asyncio.Protocol, FakeTransport, list[Recorder]]:
    made: list[Recorder] = []

    def factory() -> Recorder:
        made.append(Recorder())
        return made[-1]

    protocol = guard.protocol_factory(factory)()
    transport = FakeTransport()
    protocol.connection_made(transport)
    return protocol, transport, made


def test_connections_past_the_limit_are_aborted_without_reaching_aiohttp():
    async def run():
        guard = ConnectionGuard(2, header_timeout=60, stall_timeout=60)
        opened = [_open(guard) for _ in range(3)]
        assert [t.aborted for _, t, _ in opened] == [False, False, True]
        assert [len(made) for _, _, made in opened] == [1, 1, 0]
        assert guard.open == 2 and guard.refused == 1
        protocol, transport, made = opened[0]
        protocol.connection_lost(None)
        assert made[0].calls[-1] == "lost" and guard.open == 1
        assert not _open(guard)[1].aborted

    asyncio.run(run())


def test_the_head_timer_runs_in_head_state_only():
    async def run():
        guard = ConnectionGuard(10, header_timeout=0.05, stall_timeout=60)
        protocol, transport, made = _open(guard)
        protocol.data_received(b"POST / HTTP/1.1\r\n")
        guard.request_started(transport)  # the handler got the head: BUSY, no timer
        await asyncio.sleep(0.15)
        assert not transport.aborted
        guard.request_finished(transport)  # IDLE: aiohttp's keep-alive timer's business
        await asyncio.sleep(0.15)
        assert not transport.aborted
        protocol.data_received(b"P")  # first byte of the next request: HEAD again
        await asyncio.sleep(0.15)
        assert transport.aborted and guard.timed_out == 1
        assert made[0].calls[:3] == ["made", "data b'POST / HTTP/1.1\\r\\n'", "data b'P'"]

    asyncio.run(run())


def test_a_client_that_stops_reading_is_aborted_after_the_stall_timeout():
    async def run():
        guard = ConnectionGuard(10, header_timeout=60, stall_timeout=0.05)
        protocol, transport, made = _open(guard)
        guard.request_started(transport)
        protocol.pause_writing()
        protocol.resume_writing()  # drained in time
        await asyncio.sleep(0.15)
        assert not transport.aborted
        protocol.pause_writing()  # and now never drained, even once aiohttp closes the transport
        transport.closing = True
        await asyncio.sleep(0.15)
        assert transport.aborted
        assert made[0].calls[1:] == ["pause", "resume", "pause"]

    asyncio.run(run())


def test_the_limit_is_bounded_by_the_file_descriptor_limit():
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert fd_bounded(10) == 10
    if soft != resource.RLIM_INFINITY:
        assert fd_bounded(10**9) == soft - max(64, soft // 4)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("steps, expected", [
    pytest.param([0.0] * 5, ["e0", "e1", "e2"], id="three-per-window"),
    pytest.param([0.0] * 5 + [10.0], ["e0", "e1", "e2", "e5 (suppressed 2 similar lines)"], id="count-on-next-line"),
    pytest.param([0.0, 9.9, 10.0], ["e0", "e1", "e2"], id="window-rolls-at-interval"),
    pytest.param([0.0] * 4 + [25.0, 25.0], ["e0", "e1", "e2", "e4 (suppressed 1 similar lines)", "e5"],
                 id="count-reported-once"),
])
def test_rate_limited_log_allows_limit_lines_per_window_then_counts(caplog, steps, expected):
    clock = Clock()
    limited = RateLimitedLog(logging.getLogger("test.ratelimit"), limit=3, interval=10.0, clock=clock)
    caplog.set_level(logging.INFO, logger="test.ratelimit")
    start = clock.now
    for i, at in enumerate(steps):
        clock.now = start + at
        limited.log(logging.INFO, "kind", "e%d", i)
    assert [r.getMessage() for r in caplog.records] == expected


def test_rate_limited_log_keeps_a_window_per_kind(caplog):
    limited = RateLimitedLog(logging.getLogger("test.ratelimit"), limit=1, interval=10.0, clock=Clock())
    caplog.set_level(logging.INFO, logger="test.ratelimit")
    assert limited.log(logging.INFO, "a", "a1") and limited.log(logging.INFO, "b", "b1")
    assert not limited.log(logging.INFO, "a", "a2")
    assert [r.getMessage() for r in caplog.records] == ["a1", "b1"]
