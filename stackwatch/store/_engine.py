"""The :class:`Engine` protocol and what both engines share: parameters, error mapping, read retries.

An engine is a synchronous handle on one ClickHouse, over the network (:class:`ServerEngine`) or in
this process (:class:`ChdbEngine`). Both take the same SQL with the same ``%(name)s`` parameters,
rendered client-side by :func:`~stackwatch.store._sql.render`, and return rows as tuples of plain
Python values. :class:`BaseEngine` holds the common half; a subclass supplies ``_query`` (run one
statement, return rows) and ``_insert_columns`` (one INSERT of columns), and translates its
driver's exceptions with :func:`classify`.

Reads retry here, writes do not. ``execute`` is for statements that are safe to repeat (SELECT,
``CREATE ... IF NOT EXISTS``): a :class:`StoreUnavailable` is retried with exponential backoff
within a deadline. ``insert`` makes one attempt and raises a classified error; repeating a write
is the caller's decision (ingest's group commit answers ServiceUnavailable and the client retries).

Portable results: numbers, strings, arrays (lists), tuples and NULL come back identical on both
engines. ``DateTime`` does not (an aware ``datetime`` from the server, epoch seconds from chDB):
select ``toUInt32(ts)``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

from stackwatch.store._dialect import Dialect, parse_version
from stackwatch.store._sql import identifier, render
from stackwatch.store.errors import StoreError, StoreQueryError, StoreUnavailable

Row = tuple[Any, ...]

#: ClickHouse error codes that describe the moment, not the statement: worth another attempt.
RETRYABLE_CODES = frozenset({
    159,  # TIMEOUT_EXCEEDED
    160,  # TOO_SLOW
    202,  # TOO_MANY_SIMULTANEOUS_QUERIES
    209,  # SOCKET_TIMEOUT
    225,  # NO_ZOOKEEPER (a replicated table's keeper session expired)
    210,  # NETWORK_ERROR
    241,  # MEMORY_LIMIT_EXCEEDED
    242,  # TABLE_IS_READ_ONLY (a replica lost its keeper session)
    252,  # TOO_MANY_PARTS
    279,  # ALL_CONNECTION_TRIES_FAILED
    285,  # TOO_FEW_LIVE_REPLICAS (fewer live replicas than insert_quorum)
    286,  # UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE
    319,  # UNKNOWN_STATUS_OF_INSERT
    439,  # CANNOT_SCHEDULE_TASK
    999,  # KEEPER_EXCEPTION
})
_CODE_IN_MESSAGE = re.compile(r"Code:\s*(\d+)")
# INSERT with its data in the text: "... VALUES (" or "... VALUES" at the end, or "... FORMAT Name".
_INLINE_INSERT = re.compile(r"^\s*INSERT\b(?:(?!\bSELECT\b).)*?\b(VALUES\s*(\(|$)|FORMAT\s+[A-Za-z])",
                            re.IGNORECASE | re.DOTALL)


@runtime_checkable
class Engine(Protocol):
    """A synchronous connection to one ClickHouse; safe to call from several threads."""

    @property
    def url(self) -> str:
        """The URL it was opened with (without a password)."""
        ...

    def execute(self, sql: str, params: Mapping[str, Any] | None = None, *,
                idempotent: bool = True) -> list[Row]:
        """Run one statement with ``%(name)s`` parameters; return its rows (empty for DDL)."""
        ...

    def insert(self, table: str, columns: Sequence[str], rows_columnar: Mapping[str, Sequence[Any]]) -> None:
        """Insert rows given column by column, as one INSERT (one part), with one attempt."""
        ...

    def version(self) -> tuple[int, ...]:
        """The engine's version, e.g. ``(18, 16, 1)``."""
        ...

    def dialect(self) -> Dialect:
        """DDL extras for this engine's version."""
        ...

    def close(self) -> None:
        """Release connections; the engine is unusable afterwards."""
        ...


def classify(exc: BaseException, code: int | None = None) -> StoreError:
    """Wrap a driver exception as :class:`StoreUnavailable` or :class:`StoreQueryError`.

    Socket-level failures (``OSError``, ``EOFError``, timeouts) and the codes in
    :data:`RETRYABLE_CODES` are retryable; everything else is the statement's fault. ``code`` may
    be given; otherwise it is read from a ``code`` attribute or a ``Code: NNN`` in the message.
    """
    if isinstance(exc, StoreError):
        return exc
    if code is None:
        code = getattr(exc, "code", None)
        if not isinstance(code, int):
            m = _CODE_IN_MESSAGE.search(str(exc))
            code = int(m.group(1)) if m else None
    text = " ".join(str(exc).split("Stack trace:")[0].split())  # the driver puts the code on line 1
    message = f"{type(exc).__name__}: {text[:500] or '(no message)'}"
    if isinstance(exc, OSError | EOFError | TimeoutError) or code in RETRYABLE_CODES:
        return StoreUnavailable(message, db_code=code)
    return StoreQueryError(message, db_code=code)


def check_columns(table: str, columns: Sequence[str], rows: Mapping[str, Sequence[Any]]) -> int:
    """Validate an insert's names and lengths; return the row count.

    Raises:
        ValueError: a bad identifier, a missing column, or columns of different lengths.
    """
    identifier(table)
    for c in columns:
        identifier(c)
    try:
        lengths = {len(rows[c]) for c in columns}
    except KeyError as e:
        raise ValueError(f"column {e.args[0]!r} missing from the insert into {table}") from None
    if len(lengths) > 1:
        raise ValueError(f"columns of an insert into {table} differ in length: {sorted(lengths)}")
    return lengths.pop() if lengths else 0


class BaseEngine:
    """Parameters, inline-insert guard, classified errors and read retries, for both engines.

    Args:
        url: what :attr:`url` reports.
        read_attempts: tries of an idempotent statement before giving up.
        read_deadline: seconds after which no further try starts.
    """

    def __init__(self, url: str, *, read_attempts: int = 4, read_deadline: float = 10.0) -> None:
        self._url = url
        self._read_attempts = read_attempts
        self._read_deadline = read_deadline
        self._version: tuple[int, ...] | None = None
        self._version_lock = threading.Lock()

    @property
    def url(self) -> str:
        """The URL it was opened with (without a password)."""
        return self._url

    def execute(self, sql: str, params: Mapping[str, Any] | None = None, *,
                idempotent: bool = True) -> list[Row]:
        """Run one statement and return its rows.

        Args:
            sql: ClickHouse SQL in the 18.16-compatible subset, with ``%(name)s`` placeholders.
            params: values for the placeholders, quoted by :func:`~stackwatch.store._sql.quote`.
                With params, a literal ``%`` is written ``%%``.
            idempotent: True (the default) retries :class:`StoreUnavailable` within the read
                deadline; pass False for a statement that must not run twice (``INSERT ... SELECT``).

        Raises:
            StoreUnavailable: the engine stayed unreachable or overloaded.
            StoreQueryError: the statement is wrong.
            ValueError: an ``INSERT ... VALUES``/``FORMAT`` with inline data (use :meth:`insert`;
                through clickhouse-driver it hangs 18.16 forever).
        """
        text = render(sql, params)
        if _INLINE_INSERT.match(text):
            raise ValueError("inline INSERT ... VALUES/FORMAT is not supported: use Engine.insert()")
        if not idempotent:
            return self._query(text)
        retrying = Retrying(
            retry=retry_if_exception(lambda e: isinstance(e, StoreUnavailable)),
            stop=stop_after_attempt(self._read_attempts) | stop_after_delay(self._read_deadline),
            wait=wait_exponential_jitter(multiplier=0.05, max=1.0, jitter=0.05),
            reraise=True,
        )
        return retrying(self._query, text)

    def insert(self, table: str, columns: Sequence[str], rows_columnar: Mapping[str, Sequence[Any]]) -> None:
        """Insert columns as one INSERT, with one attempt.

        Args:
            table: ``database.table``.
            columns: the column names, in the order of the values.
            rows_columnar: one sequence of Python values per column, all of one length. Arrays are
                lists or tuples; ``DateTime`` takes epoch seconds (int).

        Raises:
            StoreUnavailable: retryable; nothing or everything was written only if the error says so
                (``UNKNOWN_STATUS_OF_INSERT``), so a retry needs an idempotency key upstream.
            StoreQueryError: the insert can never succeed (unknown column, wrong type).
            ValueError: bad identifiers or ragged columns.
        """
        n = check_columns(table, columns, rows_columnar)
        if n:
            self._insert_columns(table, list(columns), rows_columnar, n)

    def version(self) -> tuple[int, ...]:
        """The engine's version, e.g. ``(18, 16, 1)``; the engine is asked once."""
        with self._version_lock:
            if self._version is None:
                self._version = parse_version(str(self.execute("SELECT version()")[0][0]))
            return self._version

    def dialect(self) -> Dialect:
        """DDL extras for this engine's version."""
        return Dialect.for_version(self.version())

    def close(self) -> None:  # pragma: no cover - overridden
        """Release connections."""

    # --- for subclasses -------------------------------------------------------------------------
    def _query(self, sql: str) -> list[Row]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _insert_columns(self, table: str, columns: list[str], rows: Mapping[str, Sequence[Any]],
                        n: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError
