"""Fixtures of the store integration layer: a fresh MetricStore per test, on each engine."""

from __future__ import annotations

import pytest

from services.ingest.store import MetricStore
from stackwatch.store import AsyncEngine


@pytest.fixture
async def store(async_engine: AsyncEngine, database: str) -> MetricStore:
    """A :class:`MetricStore` with its schema, in a database of its own, on the test's engine."""
    s = MetricStore(async_engine, database)
    await s.ensure_schema()
    return s
