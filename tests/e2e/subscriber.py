"""An HTTP endpoint for alarm notifications, started by e2e tests on 127.0.0.1 in a thread of its own.

It records every POST (path, headers, JSON body) and answers each path as told: 200 by default, 400
under ``/bad``, the statuses queued in :attr:`Subscriber.failures` first, and 503 for the paths in
:attr:`Subscriber.down`.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

from aiohttp import web


class Subscriber:
    """An HTTP endpoint on 127.0.0.1 in a thread of its own (boto3 blocks the test's thread)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], dict[str, Any]]] = []  # (path, headers, body)
        self.failures: dict[str, list[int]] = {}  # path -> statuses to answer next, one per POST
        self.down: set[str] = set()  # paths answering 503 until removed
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def url(self, path: str) -> str:
        """The URL of ``path`` on this endpoint."""
        return f"http://127.0.0.1:{self.port}{path}"

    def of(self, path: str, kind: str) -> list[dict[str, Any]]:
        """The bodies of ``kind`` messages POSTed to ``path``."""
        return [body for p, _, body in list(self.received) if p == path and body["Type"] == kind]

    def wait(self, path: str, kind: str, count: int = 1, timeout: float = 20.0) -> list[dict[str, Any]]:
        """Wait until ``count`` messages of ``kind`` reached ``path``."""
        deadline = time.monotonic() + timeout
        while len(found := self.of(path, kind)) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return found

    async def _handle(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        self.received.append((request.path, dict(request.headers), body))
        if request.path in self.down:
            return web.Response(status=503)
        statuses = self.failures.get(request.path, [])
        return web.Response(status=statuses.pop(0) if statuses else (400 if request.path.startswith("/bad") else 200))

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()

    def start(self) -> Subscriber:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
