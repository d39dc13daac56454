"""RowBatcher against both engines: concurrent single-row writes share INSERTs, and none is lost."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from stackwatch.store import AsyncEngine, RowBatcher, StoreError


class CountingEngine(AsyncEngine):
    """The real engine; counts the INSERT statements sent."""

    def __init__(self, inner: AsyncEngine) -> None:
        super().__init__(inner.engine, threads=4, close_engine=False)
        self.inserts: list[int] = []

    async def insert(self, table: str, columns: Sequence[str], rows_columnar: Mapping[str, Sequence[Any]]) -> None:
        self.inserts.append(len(next(iter(rows_columnar.values()))))
        await super().insert(table, columns, rows_columnar)


async def test_concurrent_rows_share_statements_and_all_land_in_order(async_engine: AsyncEngine,
                                                                      database: str) -> None:
    await async_engine.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
    await async_engine.execute(f"CREATE TABLE {database}.t (k UInt32, v String) ENGINE = MergeTree ORDER BY tuple()")
    engine = CountingEngine(async_engine)
    try:
        batcher = RowBatcher(engine)
        await batcher.insert_row(f"{database}.t", ("k", "v"), {"k": 0, "v": "alone"})
        assert engine.inserts == [1]  # a lone write goes at once, by itself
        await asyncio.gather(*(batcher.insert_row(f"{database}.t", ("k", "v"), {"k": i, "v": str(i)})
                               for i in range(1, 301)))
        assert sum(engine.inserts) == 301 and len(engine.inserts) <= 3, engine.inserts
        rows = await async_engine.execute(f"SELECT k, v FROM {database}.t")
        assert sorted(rows) == [(0, "alone")] + [(i, str(i)) for i in range(1, 301)]
        await batcher.close()
    finally:
        engine.close()


async def test_a_failed_statement_fails_each_of_its_callers(async_engine: AsyncEngine, database: str) -> None:
    batcher = RowBatcher(async_engine)
    results = await asyncio.gather(*(batcher.insert_row(f"{database}.missing", ("k",), {"k": i}) for i in range(5)),
                                   return_exceptions=True)
    assert len(results) == 5 and all(isinstance(r, StoreError) for r in results), results
    with pytest.raises(StoreError):  # and the next write is tried again, not stuck behind the failure
        await batcher.insert_row(f"{database}.missing", ("k",), {"k": 9})
