"""ServerEngine: a ClickHouse server over the native TCP protocol, with clickhouse-driver.

``clickhouse://[user[:password]@]host[:port][/database][?option=value&...]``

Options: ``pool_size`` (connections, default 4), ``connect_timeout`` (s, default 5),
``send_receive_timeout`` (s, default 60), ``sync_request_timeout`` (s, default 5), and the read
retry policy: ``read_attempts`` (default 4) and ``read_deadline`` (s, default 10).

Threads: a clickhouse-driver ``Client`` holds one socket and is not thread-safe, so the engine
keeps a pool of clients and lends each call one for its duration. At most ``pool_size`` calls
run at once, the others wait; give :class:`~stackwatch.store.AsyncEngine` no more threads than
that. A client whose call failed is disconnected before it goes back, so no call inherits half a
conversation (it reconnects on its next use).

Inserts use the driver's parameter form ``INSERT INTO t (cols) VALUES`` with the data sent as
columns in native blocks (``columnar=True``): never SQL text with inline values, which hangs 18.16.
"""

from __future__ import annotations

import contextlib
import struct
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from clickhouse_driver import Client  # type: ignore[import-untyped]
from clickhouse_driver import errors as driver_errors

from stackwatch.store._engine import BaseEngine, Row, classify
from stackwatch.store.errors import StoreConfigError, StoreUnavailable

_DRIVER_OPTIONS = {"connect_timeout": 5.0, "send_receive_timeout": 60.0, "sync_request_timeout": 5.0}
_ENGINE_OPTIONS: dict[str, type[int] | type[float]] = {"pool_size": int, "read_attempts": int,
                                                       "read_deadline": float}


def _parse(url: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """URL -> (clickhouse-driver Client kwargs, engine options, URL to show without password)."""
    parts = urlsplit(url)
    try:
        port = parts.port or 9000
    except ValueError as e:
        raise StoreConfigError(f"bad port in store URL: {e}") from None
    if parts.scheme != "clickhouse" or not parts.hostname:
        raise StoreConfigError(f"not a clickhouse://host[:port][/database] URL: {url!r}")
    driver: dict[str, Any] = dict(_DRIVER_OPTIONS)
    engine: dict[str, Any] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        kind = float if key in _DRIVER_OPTIONS else _ENGINE_OPTIONS.get(key)
        if kind is None:
            raise StoreConfigError(f"unknown option {key!r} in store URL")
        try:
            parsed = kind(value)
        except ValueError:
            raise StoreConfigError(f"bad value for {key!r} in store URL: {value!r}") from None
        if parsed <= 0:
            raise StoreConfigError(f"{key} must be positive")
        (driver if key in _DRIVER_OPTIONS else engine)[key] = parsed
    database = parts.path.strip("/") or "default"
    driver.update(host=parts.hostname, port=port, database=database,
                  user=unquote(parts.username or "default"), password=unquote(parts.password or ""))
    return driver, engine, f"clickhouse://{parts.hostname}:{port}/{database}"


class _ClientPool:
    """Up to ``size`` clients, each lent to one thread at a time."""

    def __init__(self, kwargs: dict[str, Any], size: int) -> None:
        self._kwargs = kwargs
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[Client] = []
        self._lock = threading.Lock()
        self._closed = False

    @contextlib.contextmanager
    def client(self) -> Iterator[Client]:
        with self._slots:
            with self._lock:
                if self._closed:
                    raise StoreUnavailable("the store engine is closed")
                client = self._idle.pop() if self._idle else Client(**self._kwargs)
            healthy = False
            try:
                yield client
                healthy = True
            finally:
                if not healthy:
                    client.disconnect()
                with self._lock:
                    if self._closed:
                        client.disconnect()
                    else:
                        self._idle.append(client)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for c in idle:
            c.disconnect()


class ServerEngine(BaseEngine):
    """A ClickHouse server reached with clickhouse-driver (see the module docstring).

    Opening does no I/O: an unreachable server shows up as :class:`StoreUnavailable` on the first
    call (after the read retries, for :meth:`execute`).
    """

    def __init__(self, url: str, *, read_attempts: int = 4, read_deadline: float = 10.0,
                 settings: Mapping[str, Any] | None = None) -> None:
        driver, options, shown = _parse(url)
        super().__init__(shown, read_attempts=options.get("read_attempts", read_attempts),
                         read_deadline=options.get("read_deadline", read_deadline))
        if settings:
            driver["settings"] = dict(settings)
        self._pool = _ClientPool(driver, options.get("pool_size", 4))

    def session(self, statements: Sequence[str]) -> list[Row]:
        """Run ``statements`` in order on one connection (``SET`` lasts for the rest); the last one's rows.

        One attempt, no retries. For what 18.16 honours only as a session setting, such as
        ``distributed_ddl_task_timeout`` before an ``ON CLUSTER`` statement.
        """
        try:
            with self._pool.client() as client:
                rows: list[Row] = []
                for sql in statements:
                    rows = client.execute(sql)
                return rows
        except (driver_errors.Error, OSError, EOFError) as e:
            raise classify(e) from e

    def _query(self, sql: str) -> list[Row]:
        try:
            with self._pool.client() as client:
                rows: list[Row] = client.execute(sql)
                return rows
        except (driver_errors.Error, OSError, EOFError) as e:
            raise classify(e) from e

    def _insert_columns(self, table: str, columns: list[str], rows: Mapping[str, Sequence[Any]],
                        n: int) -> None:
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES"
        try:
            with self._pool.client() as client:
                client.execute(sql, [rows[c] for c in columns], columnar=True)
        except (driver_errors.Error, OSError, EOFError) as e:
            raise classify(e) from e
        except (TypeError, ValueError, OverflowError, AttributeError, struct.error) as e:
            # the driver serializes in Python: a value of the wrong type surfaces here
            raise classify(driver_errors.TypeMismatchError(f"insert into {table}: {e}")) from e

    def close(self) -> None:
        """Disconnect every pooled client; calls in flight finish first."""
        self._pool.close()
