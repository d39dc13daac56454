"""Named retry policies for calls that cross a network, chosen by idempotency.

Every policy has a stop condition (attempts and a deadline) and retries only errors classified as
recoverable: a peer that is unavailable or timed out. Validation errors, auth failures and
throttling are answered, not retried (SDK clients retry throttling themselves, with backoff).

* :func:`idempotent` — reads and anything safe to repeat (Authenticate, GetMetricStatistics, ...).
* Writes are not retried here once sent: PutMetricData relies on gRPC's transparent retry for calls
  that never reached the peer, and on the client's own retry otherwise (CloudWatch semantics: a
  failed PutMetricData may be re-sent by the SDK).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_after_delay, wait_exponential_jitter

from stackwatch import errors

T = TypeVar("T")


def recoverable(exc: BaseException) -> bool:
    """True for errors worth another attempt: the peer was unavailable, not the request wrong."""
    return isinstance(exc, errors.ServiceUnavailable)


async def idempotent(call: Callable[[], Awaitable[T]], *, attempts: int = 3, deadline: float = 10.0) -> T:
    """Run ``call`` with up to ``attempts`` tries within ``deadline`` seconds, backing off with jitter."""
    retrying = AsyncRetrying(
        retry=retry_if_exception(recoverable),
        stop=stop_after_attempt(attempts) | stop_after_delay(deadline),
        wait=wait_exponential_jitter(multiplier=0.05, max=1.0),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await call()
    raise AssertionError("unreachable")  # pragma: no cover
