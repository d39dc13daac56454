"""RowBatcher: group commit of single-row INSERTs issued by many concurrent tasks.

Each INSERT costs ClickHouse 10–15 ms whatever its size (DESIGN decision 8), and a service whose
tasks each write one row (the autoscale reconcilers: an activity here, an instance there) would
queue them one statement at a time behind the store's few threads. A :class:`RowBatcher` sends
the first row of a table at once and gathers the rows that arrive while that INSERT runs into the
next one, so a burst of N writes costs about two statements, not N, and a lone write waits for
nothing::

    task A: insert_row(t, a) ──► INSERT [a] ─────────┐ A returns
    task B:   insert_row(t, b) ┐                     └► INSERT [b, c] ──► B and C return
    task C:     insert_row(t, c) ┘

Each caller returns once its own row's statement succeeded, or raises that statement's error;
order within a table is the order of the calls. A caller that is cancelled does not withdraw its
row (as a statement already sent would not be).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from stackwatch.store._async import AsyncEngine


class RowBatcher:
    """Group commit of rows per (table, columns) (see the module docstring).

    Args:
        engine: the store.
        max_rows: most rows in one INSERT.
    """

    def __init__(self, engine: AsyncEngine, *, max_rows: int = 10_000) -> None:
        self._engine = engine
        self._max_rows = max_rows
        self._queues: dict[tuple[str, tuple[str, ...]], list[tuple[Mapping[str, Any], asyncio.Future[None]]]] = {}
        self._writers: dict[tuple[str, tuple[str, ...]], asyncio.Task[None]] = {}

    async def insert_row(self, table: str, columns: Sequence[str], row: Mapping[str, Any]) -> None:
        """Insert one row (every column of ``columns``), together with the rows of concurrent callers."""
        key = (table, tuple(columns))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(key, []).append((row, done))
        writer = self._writers.get(key)
        if writer is None or writer.done():
            self._writers[key] = asyncio.create_task(self._drain(key), name=f"insert {table}")
        await asyncio.shield(done)

    async def _drain(self, key: tuple[str, tuple[str, ...]]) -> None:
        table, columns = key
        queue = self._queues[key]
        while queue:
            batch, queue[:] = queue[:self._max_rows], queue[self._max_rows:]
            values = {c: [row[c] for row, _ in batch] for c in columns}
            try:
                await self._engine.insert(table, columns, values)
            except Exception as e:  # each caller gets the statement's error
                for _, done in batch:
                    if not done.done():
                        done.set_exception(e)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def close(self) -> None:
        """Wait for the INSERTs in flight and queued."""
        await asyncio.gather(*self._writers.values(), return_exceptions=True)
