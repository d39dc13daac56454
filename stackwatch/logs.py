"""Logging, configured once per process: JSON lines with a fixed vocabulary, or plain text.

Every record carries the same keys when known: ``account``, ``request_id``, ``operation``,
``trace_id``, ``span_id``. The first three come from a context variable set by the gateway per
request (:func:`bind`), the trace ids from the active OpenTelemetry span. Never log secrets,
signatures or request bodies.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

# Never mutated in place: bind() sets a new dict, so the shared empty default is safe.
_CONTEXT: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar(
    "stackwatch_log_context", default={})  # noqa: B039
KEYS = ("account", "request_id", "operation")


def bind(**values: str) -> contextvars.Token[dict[str, str]]:
    """Add keys to the log context of the current task; returns a token for :func:`unbind`."""
    return _CONTEXT.set({**_CONTEXT.get(), **values})


def unbind(token: contextvars.Token[dict[str, str]]) -> None:
    """Restore the log context saved by :func:`bind`."""
    _CONTEXT.reset(token)


def _trace_ids() -> dict[str, str]:
    try:
        from opentelemetry import trace
    except ImportError:  # pragma: no cover - opentelemetry is a dependency
        return {}
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return {}
    return {"trace_id": f"{ctx.trace_id:032x}", "span_id": f"{ctx.span_id:016x}"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` with the context keys."""
        doc: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        doc.update(_CONTEXT.get())
        doc.update(_trace_ids())
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


class TextFormatter(logging.Formatter):
    """Human-readable lines with the context keys appended."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """Render ``record`` and append ``key=value`` context."""
        line = super().format(record)
        extra = " ".join(f"{k}={v}" for k, v in _CONTEXT.get().items())
        return f"{line} [{extra}]" if extra else line


def configure(level: str = "INFO", fmt: str = "json") -> None:
    """Install the root handler on stderr (idempotent)."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_stackwatch", False):
            root.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler._stackwatch = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Access logs of every request are noise at INFO; errors still show.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # clickhouse-driver logs a traceback for every refused connection (a replica that is down);
    # the store logs each failure itself, once, classified (stackwatch.store._cluster).
    logging.getLogger("clickhouse_driver.connection").setLevel(logging.ERROR)


class RateLimitedLog:
    """At most ``limit`` lines per ``interval`` seconds for each kind of event; the rest counted.

    For events anyone on the network can cause (malformed HTTP, refused connections), so a flood
    of them cannot flood the logs. Each kind (``key``) has its own window. A line that is allowed
    after some were suppressed says how many: ``... (suppressed 1,234 similar lines)``; like the
    kernel's ``printk_ratelimit``, that count is reported with the next allowed line, so a flood
    that stops for good leaves its last count unreported.

    Args:
        logger: where the allowed lines go.
        limit: lines allowed per window and key.
        interval: the window, in seconds.
        clock: monotonic seconds (tests pass a fake one).
    """

    def __init__(self, logger: logging.Logger, limit: int = 10, interval: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger = logger
        self.limit = limit
        self.interval = interval
        self._clock = clock
        self._windows: dict[str, list[float]] = {}  # key -> [window start, lines, suppressed]

    def log(self, level: int, key: str, msg: str, *args: object, exc_info: Any = None) -> bool:
        """Log ``msg % args`` at ``level`` unless ``key`` used up its window; True when logged."""
        now = self._clock()
        window = self._windows.get(key)
        if window is None or now - window[0] >= self.interval:
            suppressed = int(window[2]) if window is not None else 0
            window = self._windows[key] = [now, 0, suppressed]
        if window[1] >= self.limit:
            window[2] += 1
            return False
        window[1] += 1
        if window[2]:
            msg += f" (suppressed {int(window[2]):,} similar lines)"
            window[2] = 0
        self.logger.log(level, msg, *args, exc_info=exc_info)
        return True
