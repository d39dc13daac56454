"""Delivering due alarm actions: at least once, retried while it may help, recorded when done.

Shaped as Alertmanager's notify pipeline: a notifier makes one attempt and answers an
:class:`Attempt` (``(recoverable, error)``); :func:`with_retries` repeats only the recoverable
failures, backing off with jitter, until a success, a final failure or the deadline. ::

    outbox (pending rows) ──> Dispatcher ──> ActionRouter ──┬─ SNS topic ARN ──> SnsPublisher ──> POST each
           ^                       │                        │                   confirmed subscription
           │ writer adds rows      │                        └─ Auto Scaling policy ARN ──> ExecutePolicy (gRPC)
           │ and wakes it          └─> Action history item, then the row marked done

What counts as recoverable: a connection that failed or timed out, HTTP 5xx and 429, gRPC
UNAVAILABLE, DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED. Anything else (HTTP 4xx, gRPC
UNIMPLEMENTED, PERMISSION_DENIED, a topic that does not exist) fails at once: repeating it would
get the same answer.

A row is marked done only after its history item is written, so a crash in between delivers and
records it again at the next start (at least once). Every repeat of one action carries the same
MessageId (SNS) or idempotency key (Auto Scaling), so the receiver can tell.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import aiohttp
import grpc
from tenacity import AsyncRetrying, retry_if_result, stop_after_delay, wait_exponential_jitter

from services.alarm import messages
from services.alarm.actions import action_item, subject
from services.alarm.domain.model import from_epoch
from services.alarm.egress import DeniedAddress, Egress, Network
from services.alarm.signing import DEFAULT_SIGNATURE_VERSION, SigningKey, message_id
from services.alarm.store import AlarmStore
from services.alarm.topics import NotificationStore, PendingAction
from stackwatch.clock import Clock
from stackwatch.domain.arn import account_number
from stackwatch.proto.auth.v1 import auth_pb2
from stackwatch.proto.autoscale.v1 import autoscale_pb2, autoscale_pb2_grpc
from stackwatch.rpc import TokenSigner, principal_metadata

LOG = logging.getLogger(__name__)
_RECOVERABLE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                                grpc.StatusCode.RESOURCE_EXHAUSTED})
_POLICY = re.compile(r"^scalingPolicy:[^:]+:autoScalingGroupName/(?P<group>[^:]+):policyName/(?P<policy>.+)$")
#: The user named in the principal tokens sent with ExecutePolicy.
ACTION_USER = "stackwatch-alarm"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One delivery attempt's result.

    Attributes:
        error: None on success, else what went wrong (recorded in the Action history item).
        recoverable: whether another attempt might succeed.
    """

    error: str | None = None
    recoverable: bool = False

    @property
    def ok(self) -> bool:
        """Whether it was delivered."""
        return self.error is None


def http_attempt(status: int) -> Attempt:
    """The :class:`Attempt` an HTTP status means: 2xx delivered; 5xx and 429 worth retrying; else failed."""
    if 200 <= status < 300:
        return Attempt()
    return Attempt(f"The endpoint answered HTTP {status}.", recoverable=status >= 500 or status == 429)


def rpc_attempt(code: grpc.StatusCode, details: str | None) -> Attempt:
    """The :class:`Attempt` a gRPC failure means (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED retry)."""
    return Attempt(f"{code.name}: {details or ''}".rstrip(": "), recoverable=code in _RECOVERABLE_CODES)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long and how often to retry recoverable failures.

    Attributes:
        first_wait: seconds before the first retry (doubling, with jitter).
        max_wait: longest wait between two attempts.
        deadline: give up once this many seconds have passed since the first attempt.
    """

    first_wait: float = 1.0
    max_wait: float = 60.0
    deadline: float = 300.0


async def with_retries(attempt: Callable[[], Awaitable[Attempt]], policy: RetryPolicy) -> tuple[Attempt, int]:
    """Run ``attempt`` until it succeeds, fails for good, or the deadline passes; returns the last and the count."""
    count = 0

    async def once() -> Attempt:
        nonlocal count
        count += 1
        return await attempt()

    retrying = AsyncRetrying(retry=retry_if_result(lambda a: a.recoverable), stop=stop_after_delay(policy.deadline),
                             wait=wait_exponential_jitter(multiplier=policy.first_wait, max=policy.max_wait,
                                                          jitter=policy.first_wait),
                             retry_error_callback=lambda state: state.outcome.result() if state.outcome else Attempt(
                                 "no attempt was made"))
    last: Attempt = await retrying(once)
    return last, count


class HttpPoster:
    """POSTs SNS envelopes, one attempt each (the notifier of http/https subscriptions).

    Args:
        timeout: seconds for one attempt (connect, send, answer).
        denied: networks no delivery may connect to (:mod:`services.alarm.egress`).
    """

    def __init__(self, timeout: float = 15.0, denied: Sequence[Network] = ()) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._egress = Egress(denied)
        self._session: aiohttp.ClientSession | None = None

    async def __call__(self, url: str, envelope: messages.Envelope) -> Attempt:
        """POST ``envelope`` to ``url`` once."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout,
                                                  connector=aiohttp.TCPConnector(resolver=self._egress))
        try:
            self._egress.check_url(url)
            async with self._session.post(url, data=envelope.body, headers=envelope.headers,
                                          allow_redirects=False) as response:
                await response.read()
                return http_attempt(response.status)
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            if _denied(e):
                return Attempt(f"The endpoint is not allowed: {_denied(e)}")
            return Attempt(f"The endpoint could not be reached: {type(e).__name__} {e}".strip(), recoverable=True)

    async def close(self) -> None:
        """Close the connection pool (and its resolver)."""
        if self._session is not None:
            await self._session.close()
        await self._egress.close()


def _denied(error: BaseException) -> str | None:
    """The message of a :class:`DeniedAddress` in ``error``'s chain, if there is one."""
    seen: BaseException | None = error
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, DeniedAddress):
            return str(seen)
        seen = getattr(seen, "os_error", None) or seen.__cause__
    return None


class ActionRouter:
    """Delivers one outbox row to its target; answers None or why it failed (after retries).

    Args:
        topics: topics and subscriptions.
        post: the HTTP notifier.
        autoscale: the autoscale service's stub.
        tokens: signs the principal token ExecutePolicy carries (the alarm's account).
        key: the message signing key.
        links: the URLs messages carry.
        region: the region in notification subjects.
        policy: the retry policy.
        rpc_timeout: deadline of one ExecutePolicy call.
    """

    def __init__(self, topics: NotificationStore, post: HttpPoster, autoscale: autoscale_pb2_grpc.AutoscaleServiceStub,
                 tokens: TokenSigner, key: SigningKey, links: messages.Links, region: str, policy: RetryPolicy,
                 rpc_timeout: float = 10.0) -> None:
        self._topics, self._post, self._autoscale, self._tokens = topics, post, autoscale, tokens
        self._key, self._links, self._region, self._policy = key, links, region, policy
        self._rpc_timeout = rpc_timeout

    async def __call__(self, row: PendingAction) -> str | None:
        """Deliver ``row``: None when delivered, else the error to record."""
        parts = row.target.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn":
            return f"{row.target} is not an action ARN StackWatch can execute."
        if parts[4] != account_number(row.account):
            return f"The alarm's account is not authorized to use {row.target}."
        if parts[2] == "sns":
            return await self._publish(row, parts[5])
        if parts[2] == "autoscaling":
            return await self._execute_policy(row, parts[5])
        return f"StackWatch does not execute actions of service {parts[2]!r}."

    async def _publish(self, row: PendingAction, topic_name: str) -> str | None:
        found = await self._topics.topics(row.account, name=topic_name)
        if not found or found[0].arn != row.target:
            return f"The topic {row.target} does not exist."
        version = found[0].attributes.get("SignatureVersion", DEFAULT_SIGNATURE_VERSION)
        subs = [s for s in await self._topics.subscriptions(row.account, topic=topic_name) if s.confirmed]
        state = _new_state(row.message)
        mid = message_id(row.key, row.target)

        async def one(sub_arn: str, endpoint: str) -> str | None:
            envelope = messages.notification(
                topic_arn=row.target, subscription_arn=sub_arn, message_id=mid,
                subject=subject(row.alarm_name, state, self._region), message=row.message, epoch_ms=row.created_ms,
                key=self._key, version=version, links=self._links)
            result, count = await with_retries(lambda: self._post(endpoint, envelope), self._policy)
            if result.ok:
                return None
            tries = f" (gave up after {count} attempts)" if result.recoverable else ""
            return f"{endpoint}: {result.error}{tries}"

        errors = [e for e in await asyncio.gather(*(one(s.arn, s.endpoint) for s in subs)) if e]
        return "; ".join(errors) or None

    async def _execute_policy(self, row: PendingAction, resource: str) -> str | None:
        match = _POLICY.match(resource)
        if match is None:
            return f"{row.target} is not a scaling policy ARN."
        request = autoscale_pb2.ExecutePolicyRequest(
            auto_scaling_group_name=match["group"], policy_name=row.target, idempotency_key=row.key,
            state_reason_data=row.reason_data)
        token = self._tokens.issue(auth_pb2.Principal(account_id=row.account, user=ACTION_USER))

        async def once() -> Attempt:
            try:
                await self._autoscale.ExecutePolicy(request, timeout=self._rpc_timeout,
                                                    metadata=principal_metadata(token))
            except grpc.aio.AioRpcError as e:
                return rpc_attempt(e.code(), e.details())
            return Attempt()

        result, count = await with_retries(once, self._policy)
        if result.ok:
            return None
        return f"{result.error}{f' (gave up after {count} attempts)' if result.recoverable else ''}"


def _new_state(message: str) -> str:
    try:
        return str(json.loads(message).get("NewStateValue", "ALARM"))
    except ValueError:
        return "ALARM"


class Dispatcher:
    """Delivers the outbox's pending rows, each once at a time, and records each outcome.

    Args:
        outbox: the outbox (and topics).
        alarms: where Action history items go.
        deliver: delivers one row; None or the error.
        clock: the service clock.
        poll_interval: seconds between looks at the outbox when nobody wakes it.
        owns: whether this replica owns an alarm (account, name): only the owner of an alarm
            delivers its actions, so two replicas never deliver one row side by side (a row whose
            owner died is taken by the new owner).
    """

    def __init__(self, outbox: NotificationStore, alarms: AlarmStore, deliver: Callable[[PendingAction],
                 Awaitable[str | None]], clock: Clock, poll_interval: float = 2.0,
                 owns: Callable[[str, str], bool] = lambda account, name: True) -> None:
        self._outbox, self._alarms, self._deliver, self._clock = outbox, alarms, deliver, clock
        self._poll = poll_interval
        self._owns = owns
        self._event = asyncio.Event()
        self._running: dict[str, asyncio.Task[None]] = {}
        self.delivered = 0
        self.failed = 0

    def wake(self) -> None:
        """New rows are waiting (called by the writer)."""
        self._event.set()

    async def run_once(self) -> int:
        """Start a task for every pending row not already under way; returns how many were started."""
        started = 0
        for row in await self._outbox.pending():
            if row.id in self._running or not self._owns(row.account, row.alarm_name):
                continue
            self._running[row.id] = asyncio.create_task(self._one(row), name=f"action-{row.id[:8]}")
            started += 1
        return started

    async def run(self) -> None:
        """Look at the outbox until cancelled: when woken, else every ``poll_interval`` seconds."""
        try:
            while True:
                self._event.clear()
                try:
                    await self.run_once()
                except Exception:
                    LOG.exception("reading the action outbox failed; trying again")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._event.wait(), self._poll)
        finally:
            for task in list(self._running.values()):
                task.cancel()
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def idle(self) -> None:
        """Wait until no delivery is under way (tests)."""
        while self._running:
            await asyncio.gather(*list(self._running.values()), return_exceptions=True)

    async def _one(self, row: PendingAction) -> None:
        try:
            try:
                error = await self._deliver(row)
            except Exception as e:  # a bug of ours must still end in a recorded failure
                LOG.exception("delivering %s failed", row.target)
                error = f"StackWatch failed to deliver the action: {type(e).__name__}."
            now = self._clock.now()
            item = action_item(row.target, row.message, from_epoch(now), error=error)
            await self._alarms.add_history(row.account, [(row.alarm_name, item)], now, row.alarm_type)
            await self._outbox.finish(row, "Succeeded" if error is None else f"Failed: {error}", now)
            if error is None:
                self.delivered += 1
            else:
                self.failed += 1
                LOG.info("action %s of %s failed: %s", row.target, row.alarm_name, error)
        except Exception:  # the store failed: the row stays pending and is tried again
            LOG.exception("recording the outcome of %s failed; it stays pending", row.target)
        finally:
            self._running.pop(row.id, None)
