"""The store layer: one ClickHouse SQL dialect over two transports.

::

    open_engine(url) ──> Engine (sync, thread-safe)          AsyncEngine(engine, threads=4)
                          ├── ServerEngine   clickhouse://     runs each call on its thread pool,
                          │   clickhouse-driver, native TCP    so asyncio code never blocks
                          └── ChdbEngine     chdb:///dir
                              embedded, one path per process

Services own their SQL (``services/<svc>/store.py``); this package owns getting it to a database
and back: client-side ``%(name)s`` parameters quoted by :func:`quote` for both engines, columnar
inserts, a :class:`Dialect` for DDL extras chosen from the engine's version, read retries, and
errors classified as retryable (:class:`StoreUnavailable`) or not (:class:`StoreQueryError`).
chDB is imported only when a ``chdb://`` engine is opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from stackwatch.store._async import AsyncEngine
from stackwatch.store._batch import RowBatcher
from stackwatch.store._cluster import ClusterEngine, ShardsUnavailable, shard_of
from stackwatch.store._dialect import Dialect
from stackwatch.store._engine import Engine, Row
from stackwatch.store._schema import Schema, Step
from stackwatch.store._server import ServerEngine
from stackwatch.store._sql import identifier, quote, render
from stackwatch.store._versions import RowVersions
from stackwatch.store.errors import StoreConfigError, StoreError, StoreQueryError, StoreUnavailable

if TYPE_CHECKING:
    from stackwatch.store._chdb import ChdbEngine

__all__ = [
    "AsyncEngine", "ChdbEngine", "ClusterEngine", "Dialect", "Engine", "Row", "RowBatcher", "RowVersions", "Schema",
    "ServerEngine", "ShardsUnavailable", "Step", "StoreConfigError", "StoreError", "StoreQueryError",
    "StoreUnavailable", "identifier", "open_engine", "quote", "render", "shard_of",
]


def open_engine(url: str) -> Engine:
    """Open the engine a URL names.

    * ``clickhouse://[user[:password]@]host[:port][/database][?pool_size=4&connect_timeout=5...]``
      -> :class:`ServerEngine` (no I/O until the first call).
    * the same with ``cluster=NAME`` (and any number of comma-separated hosts) -> :class:`ClusterEngine`.
    * ``chdb:///absolute/data/dir`` -> :class:`ChdbEngine` (claims the directory now).

    Raises:
        StoreConfigError: an unknown scheme or a bad URL; for chDB, a second data path in this
            process or a directory another process holds.
    """
    if url.startswith("clickhouse://"):
        if "cluster=" in urlsplit(url).query:
            return ClusterEngine(url)
        return ServerEngine(url)
    if url.startswith("chdb://"):
        from stackwatch.store._chdb import ChdbEngine

        return ChdbEngine(url)
    raise StoreConfigError(f"unknown store URL scheme (want clickhouse:// or chdb://): {url.split(':')[0]!r}")


def __getattr__(name: str) -> Any:
    # chDB (with pyarrow and pandas) costs ~0.5 s and ~250 MB to import: only processes that embed
    # the store pay for it.
    if name == "ChdbEngine":
        from stackwatch.store._chdb import ChdbEngine

        return ChdbEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
