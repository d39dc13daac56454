"""What can go wrong talking to CloudStack, as exceptions that say whether trying again can help.

::

    StackWatchError
    └── CloudStackError            errorcode, cserrorcode, errortext, command, jobid
        ├── CloudStackUnavailable  transient: no answer, a proxy's 5xx, 429, 503, 530, 534
        └── CloudStackJobTimeout   an async job still pending when we stopped waiting

``errorcode`` is CloudStack's ``ApiErrorCode`` when the server answered with an error envelope
(or a failed job's result), the bare HTTP status when something answered without one (a proxy's
502/503/504), and 0 when nothing answered at all (connection refused, timeout).

Which failures are *transient* (:class:`CloudStackUnavailable`), and why:

* no answer, or an HTTP 5xx without an envelope: the management server or the proxy in front of
  it is restarting or overloaded.
* 429 ``API_LIMIT_EXCEED``: the API throttle (``api.throttling.*``) said "not now". It is raised
  while the request is verified, before the command is dispatched.
* 503 ``SERVICE_UNAVAILABLE`` (newer releases): the server is in maintenance or shutting down and
  "can not accept new jobs"; also raised before anything runs.
* 530 ``INTERNAL_ERROR``: CloudStack's catch-all (a database hiccup, a lost agent, or a bug).
  A retry often works for a read; attempts are bounded, so a real bug costs a few calls.
* 534 ``RESOURCE_UNAVAILABLE_ERROR``: a host, storage or network element is unavailable now.

Never transient: 401 (credentials or signature: the same request fails the same way), 411 (2FA),
405, 430/431 (the request is wrong), 432 (command unknown or not allowed for this role), 531
(permission denied), 532 (account limits), 533 (capacity: someone must free or add some; the
autoscaler decides, not a retry loop), 535/536/537 (allocation, in use, rule conflicts).

``may_have_run`` says whether the command could have executed. It is False only when the failure
proves it did not: the connection was refused (nothing was sent), or the server answered 429 or
503 (both are decided before dispatch). The client repeats non-idempotent commands only then.
"""

from __future__ import annotations

from enum import IntEnum

from stackwatch.errors import StackWatchError


class ApiErrorCode(IntEnum):
    """CloudStack's ``ApiErrorCode``: the ``errorcode`` of an error envelope and its HTTP status."""

    UNAUTHORIZED = 401
    UNAUTHORIZED2FA = 411
    METHOD_NOT_ALLOWED = 405
    MALFORMED_PARAMETER_ERROR = 430
    PARAM_ERROR = 431
    UNSUPPORTED_ACTION_ERROR = 432
    API_LIMIT_EXCEED = 429
    SERVICE_UNAVAILABLE = 503
    INTERNAL_ERROR = 530
    ACCOUNT_ERROR = 531
    ACCOUNT_RESOURCE_LIMIT_ERROR = 532
    INSUFFICIENT_CAPACITY_ERROR = 533
    RESOURCE_UNAVAILABLE_ERROR = 534
    RESOURCE_ALLOCATION_ERROR = 535
    RESOURCE_IN_USE_ERROR = 536
    NETWORK_RULE_CONFLICT_ERROR = 537


#: Envelope error codes worth another attempt (see the module docstring).
TRANSIENT_CODES = frozenset({429, 503, 530, 534})
#: Envelope error codes decided before the command is dispatched: it certainly did not run.
NOT_DISPATCHED_CODES = frozenset({429, 503})


class CloudStackError(StackWatchError):
    """CloudStack refused or failed a command.

    Attributes:
        errorcode: ``ApiErrorCode`` value, bare HTTP status (no envelope) or 0 (no answer).
        cserrorcode: CloudStack's internal exception code (e.g. 4350, 9999), informational.
        errortext: the server's text, or ours describing a transport failure.
        command: the API command that failed, e.g. ``deployVirtualMachine``.
        jobid: the async job that failed, when the failure is a job result.
    """

    def __init__(self, errorcode: int, cserrorcode: int | None, errortext: str, command: str,
                 *, jobid: str | None = None) -> None:
        super().__init__(f"{command}: {errorcode} {errortext}")
        self.errorcode = errorcode
        self.cserrorcode = cserrorcode
        self.errortext = errortext
        self.command = command
        self.jobid = jobid

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.errorcode}, {self.cserrorcode}, {self.errortext!r}, "
                f"{self.command!r})")


class CloudStackUnavailable(CloudStackError):
    """A transient failure: CloudStack could not answer now; the same call may succeed later.

    Attributes:
        may_have_run: False when the failure proves the command did not execute.
    """

    def __init__(self, errorcode: int, cserrorcode: int | None, errortext: str, command: str,
                 *, may_have_run: bool = True, jobid: str | None = None) -> None:
        super().__init__(errorcode, cserrorcode, errortext, command, jobid=jobid)
        self.may_have_run = may_have_run


class CloudStackJobTimeout(CloudStackError):
    """An async job was still pending after the time we were willing to wait (errorcode 0).

    The job may still finish on the server; ``jobid`` identifies it for a later look.
    """

    def __init__(self, jobid: str, waited: float, command: str) -> None:
        super().__init__(0, None, f"async job {jobid} still pending after {waited:.1f}s", command,
                         jobid=jobid)
        self.waited = waited


def error_from_envelope(command: str, inner: dict[str, object], *,
                        jobid: str | None = None) -> CloudStackError:
    """The exception for an error envelope's inner object (or a failed job's ``jobresult``)."""
    raw_code = inner.get("errorcode")
    raw_cs = inner.get("cserrorcode")
    code = int(raw_code) if isinstance(raw_code, int | str) and str(raw_code).isdigit() else 0
    cs_code = int(raw_cs) if isinstance(raw_cs, int) else None
    text = str(inner.get("errortext", ""))
    if code in TRANSIENT_CODES:
        return CloudStackUnavailable(code, cs_code, text, command,
                                     may_have_run=code not in NOT_DISPATCHED_CODES, jobid=jobid)
    return CloudStackError(code, cs_code, text, command, jobid=jobid)
