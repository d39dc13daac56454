"""An asyncio client for the CloudStack API: signed calls, bounded retries, paging and async jobs.

One :class:`CloudStackClient` holds one aiohttp session (opened on first use, closed by
:meth:`~CloudStackClient.close` or ``async with``). A call goes::

    call(command, **params)
      encode_params -> per attempt: signed_params (fresh expires) -> GET query | POST form
      -> response: 200 + envelope          -> the envelope's inner object
                   error envelope          -> CloudStackError / CloudStackUnavailable
                   5xx without envelope    -> CloudStackUnavailable (errorcode = HTTP status)
                   refused / timeout / I/O -> CloudStackUnavailable (errorcode 0)
      retried (tenacity: exponential backoff with jitter, ``attempts`` AND ``deadline``) only if
      the failure is CloudStackUnavailable and either the command is idempotent (list*/get*/
      query*) or the failure proves it did not run (``may_have_run`` False: connection refused,
      429, 503). A deploy that timed out may have deployed, so it is never sent twice.

Each attempt's timeout is ``min(timeout, time left before the deadline)``, so a call never
outlives its deadline by more than the connect/close overhead. :meth:`~CloudStackClient.list_all`
pages with ``page``/``pagesize``; :meth:`~CloudStackClient.wait_for_job` polls
``queryAsyncJobResult``; :meth:`~CloudStackClient.call_async` is the two together.

Logging: command names, durations, error codes and attempt numbers; never parameters, responses,
keys or signatures (responses of ``getUserKeys`` carry secrets).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote, urlencode

import aiohttp
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)
from yarl import URL

from stackwatch.clock import Clock, SystemClock
from stackwatch.cloudstack._errors import (
    CloudStackError,
    CloudStackJobTimeout,
    CloudStackUnavailable,
    error_from_envelope,
)
from stackwatch.cloudstack._params import ParamValue, encode_params, is_idempotent
from stackwatch.cloudstack._signing import signed_params

LOG = logging.getLogger(__name__)

JOB_SUCCEEDED, JOB_FAILED = 1, 2  # jobstatus; 0 is pending
_JSON_TYPES = ("application/json", "text/javascript")


def _should_retry(exc: BaseException, idempotent: bool) -> bool:
    return isinstance(exc, CloudStackUnavailable) and (idempotent or not exc.may_have_run)


def _unwrap(command: str, status: int, content_type: str, body: bytes) -> dict[str, Any]:
    """The inner object of a ``{"<command>response": {...}}`` answer, or the matching exception."""
    doc: object = None
    if content_type.split(";")[0].strip().lower() in _JSON_TYPES:
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
    inner = next(iter(doc.values())) if isinstance(doc, dict) and len(doc) == 1 else None
    if isinstance(inner, dict):
        if status == 200:
            return inner
        if "errorcode" in inner:
            raise error_from_envelope(command, inner)
    if status >= 500:
        raise CloudStackUnavailable(status, None, f"HTTP {status} without a CloudStack envelope", command)
    what = content_type or "no content type"
    raise CloudStackError(status, None, f"HTTP {status}: not a CloudStack answer ({what})", command)


class CloudStackClient:
    """Signed, retried calls to one CloudStack endpoint with one key pair.

    Args:
        endpoint: the API URL, e.g. ``http://mgmt:8080/client/api``.
        api_key: the caller's API key.
        secret_key: the caller's secret key (used for signing only; never logged).
        timeout: seconds one HTTP attempt may take.
        attempts: most attempts per call, first one included.
        deadline: seconds a call may take over all its attempts (default ``timeout * attempts``).
        method: ``GET`` (query string) or ``POST`` (form body; no URL length limit for userdata) for
            reads; commands that change something (not ``list*``/``get*``/``query*``) always POST.
        expires_in: lifetime of each signed request (``signatureVersion=3``).
        backoff: first retry delay in seconds; doubles per retry, plus up to as much jitter.
        job_timeout: default seconds :meth:`wait_for_job` waits.
        job_poll: default seconds between ``queryAsyncJobResult`` polls.
        clock: wall clock for ``expires`` (tests pass a :class:`~stackwatch.clock.FakeClock`).
    """

    def __init__(self, endpoint: str, api_key: str, secret_key: str, *, timeout: float = 10.0,
                 attempts: int = 3, deadline: float | None = None, method: Literal["GET", "POST"] = "GET",
                 expires_in: float = 600.0, backoff: float = 0.2, job_timeout: float = 600.0,
                 job_poll: float = 2.0, clock: Clock | None = None) -> None:
        if method not in ("GET", "POST"):
            raise ValueError(f"method must be GET or POST, not {method!r}")
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.endpoint = endpoint
        self._api_key = api_key
        self._secret = secret_key
        self._timeout = timeout
        self._attempts = attempts
        self._deadline = deadline if deadline is not None else timeout * attempts
        self._method = method
        self._expires_in = expires_in
        self._backoff = backoff
        self._job_timeout = job_timeout
        self._job_poll = job_poll
        self._clock: Clock = clock or SystemClock()
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"CloudStackClient({self.endpoint!r}, api_key={self._api_key[:6]}...)"

    async def __aenter__(self) -> CloudStackClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session (a later call opens a new one)."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def call(self, command: str, /, **params: ParamValue) -> dict[str, Any]:
        """Run ``command`` and return the inner object of its response envelope.

        A list with no results comes back as ``{}`` (CloudStack sends no ``count`` and no array).

        Raises:
            CloudStackError: an error envelope (``errorcode`` 4xx/5xx) or an unexpected answer.
            CloudStackUnavailable: a transient failure left after the retries this call allows.
            ValueError, TypeError: a parameter cannot be sent (see ``encode_params``).
        """
        wire = encode_params(params)
        idempotent = is_idempotent(command)
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self._deadline
        retrying = AsyncRetrying(
            retry=retry_if_exception(lambda e: _should_retry(e, idempotent)),
            stop=stop_after_attempt(self._attempts) | stop_before_delay(self._deadline),
            wait=wait_exponential_jitter(multiplier=self._backoff, max=max(self._backoff, 2.0),
                                         jitter=self._backoff),
            before_sleep=self._log_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                remaining = give_up_at - loop.time()
                if remaining <= 0:
                    raise CloudStackUnavailable(0, None, f"deadline of {self._deadline:.1f}s exceeded",
                                                command, may_have_run=False)
                return await self._attempt(command, wire, min(self._timeout, remaining), idempotent)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _log_retry(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        command = exc.command if isinstance(exc, CloudStackError) else "?"
        code = exc.errorcode if isinstance(exc, CloudStackError) else "?"
        sleep = state.next_action.sleep if state.next_action else 0.0
        LOG.info("cloudstack %s failed (errorcode %s), attempt %d, retrying in %.2fs",
                 command, code, state.attempt_number, sleep)

    async def _attempt(self, command: str, wire: Mapping[str, str], timeout: float,
                       idempotent: bool = True) -> dict[str, Any]:
        signed = signed_params(command, wire, self._api_key, self._secret, self._expires_in,
                               self._clock.now())
        encoded = urlencode(signed, quote_via=quote)
        started = time.monotonic()
        try:
            status, content_type, body = await self._send(encoded, timeout, "GET" if idempotent else "POST")
        except aiohttp.ClientConnectorError as e:
            LOG.info("cloudstack %s: cannot connect (%s)", command, type(e).__name__)
            raise CloudStackUnavailable(0, None, f"cannot connect to {self.endpoint}: {e.os_error}", command,
                                        may_have_run=False) from None
        except TimeoutError:
            LOG.info("cloudstack %s: no answer within %.2fs", command, timeout)
            raise CloudStackUnavailable(0, None, f"no answer within {timeout:.2f}s", command) from None
        except aiohttp.ClientError as e:
            LOG.info("cloudstack %s: connection failed (%s)", command, type(e).__name__)
            raise CloudStackUnavailable(0, None, f"connection failed: {type(e).__name__}", command) from None
        elapsed = time.monotonic() - started
        try:
            inner = _unwrap(command, status, content_type, body)
        except CloudStackError as e:
            LOG.info("cloudstack %s: errorcode %d (cserrorcode %s) in %.3fs",
                     command, e.errorcode, e.cserrorcode, elapsed)
            raise
        LOG.debug("cloudstack %s: ok in %.3fs", command, elapsed)
        return inner

    async def _send(self, encoded: str, timeout: float, method: str = "GET") -> tuple[int, str, bytes]:
        # A command that changes something always goes as POST: aiohttp silently sends a GET again
        # when a reused keep-alive connection drops before the answer (RFC 9112 §9.3.1.1 allows it
        # for idempotent methods), which would deploy a VM twice behind our back.
        session = self._http()
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        if self._method == "GET" and method == "GET":
            url = URL(f"{self.endpoint}?{encoded}", encoded=True)
            request = session.get(url, timeout=client_timeout)
        else:
            request = session.post(self.endpoint, data=encoded.encode("ascii"), timeout=client_timeout,
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        async with request as resp:
            return resp.status, resp.headers.get("Content-Type", ""), await resp.read()

    async def list_all(self, command: str, key: str, /, **params: ParamValue) -> list[dict[str, Any]]:
        """Every item of a list command, page by page, until a page holds fewer than ``pagesize``.

        Args:
            command: a list command, e.g. ``listVirtualMachines``.
            key: the array's name in the response, e.g. ``virtualmachine``.
            **params: the command's filters; ``pagesize`` (default 500, CloudStack's usual
                maximum) sets the items per page.
        """
        pagesize = params.pop("pagesize", 500)
        if not isinstance(pagesize, int) or isinstance(pagesize, bool) or pagesize < 1:
            raise ValueError(f"pagesize must be a positive int, not {pagesize!r}")
        params.pop("page", None)
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            inner = await self.call(command, page=page, pagesize=pagesize, **params)
            batch = inner.get(key) or []
            items.extend(batch)
            if len(batch) < pagesize:
                return items
            page += 1

    async def wait_for_job(self, jobid: str, *, timeout: float | None = None, poll: float | None = None,
                           command: str = "queryAsyncJobResult") -> dict[str, Any]:
        """Poll ``queryAsyncJobResult`` until the job ends; return its ``jobresult``.

        Args:
            jobid: the ``jobid`` an async command returned.
            timeout: seconds to wait (default: the client's ``job_timeout``).
            poll: seconds between polls (default: the client's ``job_poll``).
            command: the command that started the job, to name it in errors.

        Raises:
            CloudStackError: the job failed (jobstatus 2): its ``errorcode``/``errortext``, ``jobid`` set.
            CloudStackJobTimeout: still pending after ``timeout`` seconds.
        """
        timeout = self._job_timeout if timeout is None else timeout
        poll = self._job_poll if poll is None else poll
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            job = await self.call("queryAsyncJobResult", jobid=jobid)
            status = job.get("jobstatus")
            result = job.get("jobresult")
            if status == JOB_SUCCEEDED:
                LOG.debug("cloudstack %s: job done in %.2fs", command, loop.time() - started)
                return result if isinstance(result, dict) else {}
            if status == JOB_FAILED:
                failure = result if isinstance(result, dict) else {}
                if "errorcode" not in failure:
                    failure = {**failure, "errorcode": job.get("jobresultcode", 530)}
                raise error_from_envelope(command, failure, jobid=jobid)
            remaining = started + timeout - loop.time()
            if remaining <= 0:
                raise CloudStackJobTimeout(jobid, timeout, command)
            await asyncio.sleep(min(poll, remaining))

    async def call_async(self, command: str, /, **params: ParamValue) -> dict[str, Any]:
        """Start an async command and wait for its job: the job's ``jobresult``.

        For ``deployVirtualMachine`` that is ``{"virtualmachine": {...}}``; for tag and load
        balancer commands ``{"success": true}``.
        """
        started = await self.call(command, **params)
        jobid = started.get("jobid")
        if not isinstance(jobid, str):
            raise CloudStackError(0, None, "the response carries no jobid (not an async command?)", command)
        return await self.wait_for_job(jobid, command=command)
