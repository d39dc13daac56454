"""AsyncEngine: the engines' blocking calls, run on a bounded thread pool for asyncio code.

Every engine call blocks (a socket round trip, or chDB working in this process), so async code
goes through this facade: each call runs in a ``ThreadPoolExecutor`` of ``threads`` workers via
``loop.run_in_executor``, and the event loop never waits on the database. The pool bounds how many
statements run at once; extra calls queue in the executor. Keep ``threads`` at or below the server
engine's ``pool_size`` (both default to 4).

Cancelling an awaiting task does not stop the statement already running in its thread: the
database finishes it and the result is dropped.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from stackwatch.store._dialect import Dialect
from stackwatch.store._engine import Engine, Row

T = TypeVar("T")


class AsyncEngine:
    """Async facade over an :class:`~stackwatch.store.Engine`.

    Args:
        engine: the synchronous engine.
        threads: worker threads, the most statements in flight at once.
        close_engine: whether :meth:`close` also closes ``engine`` (False when the engine is
            shared, as by test fixtures).
    """

    def __init__(self, engine: Engine, *, threads: int = 4, close_engine: bool = True) -> None:
        if threads < 1:
            raise ValueError("threads must be at least 1")
        self.engine = engine
        self._close_engine = close_engine
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="store")

    @property
    def url(self) -> str:
        """The engine's URL (without a password)."""
        return self.engine.url

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Run any blocking ``fn(*args)`` on the store's threads (e.g. build columns, then insert).

        For work that belongs next to the engine calls it feeds, so it neither blocks the event
        loop nor costs a second thread hop; ``fn`` may call :attr:`engine` directly.
        """
        return await self._call(fn, *args)

    async def execute(self, sql: str, params: Mapping[str, Any] | None = None, *,
                      idempotent: bool = True) -> list[Row]:
        """:meth:`Engine.execute <stackwatch.store.Engine.execute>` on a worker thread."""
        return await self._call(self.engine.execute, sql, params, idempotent=idempotent)

    async def insert(self, table: str, columns: Sequence[str],
                     rows_columnar: Mapping[str, Sequence[Any]]) -> None:
        """:meth:`Engine.insert <stackwatch.store.Engine.insert>` on a worker thread."""
        await self._call(self.engine.insert, table, columns, rows_columnar)

    async def version(self) -> tuple[int, ...]:
        """The engine's version (asked once, then cached)."""
        return await self._call(self.engine.version)

    async def dialect(self) -> Dialect:
        """DDL extras for the engine's version."""
        return await self._call(self.engine.dialect)

    def close(self) -> None:
        """Wait for calls in flight, stop the threads, close the engine (if it was given to us)."""
        self._pool.shutdown(wait=True)
        if self._close_engine:
            self.engine.close()
