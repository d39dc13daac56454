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
