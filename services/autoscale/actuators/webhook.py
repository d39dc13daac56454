"""The webhook actuator: a group whose capacity is a number handed to the user's HTTP endpoint.

For capacity that is not VMs (a JVM heap, a worker pool, a deploy hook), the group's desired
capacity is POSTed as JSON::

    POST <url>
    Content-Type: application/json
    Idempotency-Key: <key>
    X-StackWatch-Timestamp: 1767225600
    X-StackWatch-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>

    {"group": "heap", "desired": 3, "previous": 2, "cause": "...", "idempotency_key": "<key>"}

The signature covers the timestamp so a captured request cannot be replayed later; the receiver
recomputes it with the group's secret (compare in constant time) and should refuse timestamps
more than a few minutes old. The idempotency key is the same on every retry of one change, so a
receiver that saw it already answers 2xx without acting twice.

Any 2xx is success. Retried (tenacity, backoff with jitter, bounded attempts and deadline) on
what may pass: no connection, a timeout, 408, 429 and 5xx. Another 4xx is the receiver's "no"
and is not retried: :class:`ActuatorError` with ``recoverable=False``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass

import aiohttp
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, stop_after_delay, wait_exponential_jitter

from services.autoscale.actuators.base import ActuatorError

LOG = logging.getLogger(__name__)
_RETRY_STATUS = frozenset({408, 429})


@dataclass(frozen=True, slots=True)
class CapacityChange:
    """One change of a webhook group's capacity.

    Attributes:
        group: the group's name.
        desired: the capacity the endpoint should now run.
        previous: the capacity it was last told.
        cause: why (the activity's cause, e.g. the alarm and policy).
        idempotency_key: the same on every retry of this change.
    """

    group: str
    desired: int
    previous: int
    cause: str
    idempotency_key: str

    def body(self) -> bytes:
        """The JSON payload, keys in a fixed order."""
        return json.dumps({"group": self.group, "desired": self.desired, "previous": self.previous,
                           "cause": self.cause, "idempotency_key": self.idempotency_key},
                          separators=(",", ":")).encode()


def sign_payload(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-StackWatch-Signature`` value: ``v1=`` and hex HMAC-SHA256 over ``"<ts>." + body``."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


class _Retryable(Exception):
    pass


class WebhookActuator:
    """Hands capacity changes to one group's endpoint.

    Args:
        url: the endpoint.
        secret: the group's signing secret.
        timeout: seconds per attempt.
        attempts: most attempts.
        deadline: seconds over all attempts.
        backoff: first retry delay in seconds.
    """

    def __init__(self, url: str, secret: str, *, timeout: float = 10.0, attempts: int = 5, deadline: float = 60.0,
                 backoff: float = 0.5) -> None:
        self.url = url
        self._secret = secret
        self._timeout = timeout
        self._attempts = attempts
        self._deadline = deadline
        self._backoff = backoff

    async def set_capacity(self, change: CapacityChange, session: aiohttp.ClientSession | None = None) -> None:
        """POST ``change`` until the endpoint answers 2xx, or fail.

        Raises:
            ActuatorError: refused (4xx, ``recoverable=False``) or still failing after the retries.
        """
        body = change.body()
        own = session is None
        http = session or aiohttp.ClientSession()
        retrying = AsyncRetrying(
            retry=retry_if_exception(lambda e: isinstance(e, _Retryable)),
            stop=stop_after_attempt(self._attempts) | stop_after_delay(self._deadline),
            wait=wait_exponential_jitter(multiplier=self._backoff, max=max(self._backoff * 8, 1.0),
                                         jitter=self._backoff),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    await self._post(http, change, body)
        except _Retryable as e:
            raise ActuatorError(f"webhook for {change.group}: {e}", recoverable=True) from None
        finally:
            if own:
                await http.close()

    async def _post(self, http: aiohttp.ClientSession, change: CapacityChange, body: bytes) -> None:
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json", "Idempotency-Key": change.idempotency_key,
                   "X-StackWatch-Timestamp": str(timestamp),
                   "X-StackWatch-Signature": sign_payload(self._secret, timestamp, body)}
        try:
            async with http.post(self.url, data=body, headers=headers,
                                 timeout=aiohttp.ClientTimeout(total=self._timeout)) as resp:
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as e:
            LOG.info("webhook %s: %s", change.group, type(e).__name__)
            raise _Retryable(f"no answer ({type(e).__name__})") from None
        if 200 <= status < 300:
            return
        if status >= 500 or status in _RETRY_STATUS:
            LOG.info("webhook %s: HTTP %d, will retry", change.group, status)
            raise _Retryable(f"HTTP {status}")
        raise ActuatorError(f"webhook for {change.group}: refused with HTTP {status}", recoverable=False)
