"""Store errors, classified by whether another attempt may succeed.

The engines translate every driver or chDB exception into one of these, so callers never import
``clickhouse_driver`` or ``chdb`` to decide what to do::

    StackWatchError
    └── StoreError                       retryable: bool
        ├── StoreUnavailable             (also errors.ServiceUnavailable, 503) network, timeout,
        │                                too many parts, memory pressure: try again later
        ├── StoreQueryError              (also errors.InternalFailure, 500) the statement was wrong:
        │                                syntax, unknown table, type mismatch; retrying cannot help
        └── StoreConfigError             (also ValueError) a bad store URL, or a second chDB path

:class:`StoreUnavailable` is a :class:`~stackwatch.errors.ServiceUnavailable`, so
``stackwatch.retry.recoverable`` retries it and the group committer hands it to PutMetricData
callers as is (HTTP 503, which AWS SDKs retry).
"""

from __future__ import annotations

from stackwatch import errors


class StoreError(errors.StackWatchError):
    """Root of the store's errors.

    Attributes:
        retryable: True when the same statement may succeed later (the database was unreachable
            or overloaded), False when it never will.
        db_code: the ClickHouse error code when the database reported one, else None. (``code``
            stays the AWS error code of :class:`~stackwatch.errors.ServiceError`.)
    """

    retryable: bool = False

    def __init__(self, message: str = "", *, db_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.db_code = db_code


class StoreUnavailable(StoreError, errors.ServiceUnavailable):  # type: ignore[valid-type,misc]
    """The database could not be reached or is overloaded; the statement may succeed later."""

    retryable = True


class StoreQueryError(StoreError, errors.InternalFailure):  # type: ignore[valid-type,misc]
    """The database rejected the statement itself (a bug on our side); never retried."""

    retryable = False


class StoreConfigError(StoreError, ValueError):
    """The store cannot be opened as configured (bad URL, a second chDB data path)."""

    retryable = False
