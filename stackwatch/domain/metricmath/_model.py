"""The values that cross the engine's boundary: queries in, fetched series in, results out.

All are frozen dataclasses built by the caller (the GetMetricData servicer, later the alarm
service). The engine never mutates them and keeps no state between calls.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MetricRef:
    """Identity of a fetched series: a MetricStat query, or one metric a SEARCH matched."""

    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    """(name, value) pairs sorted by name."""
    stat: str
    period: int


@dataclass(frozen=True, slots=True)
class Series:
    """One time series: parallel timestamps and values, plus the label it carries so far."""

    timestamps: tuple[float, ...]
    """Epoch seconds, ascending, unique (the engine re-sorts what it is given, to be safe)."""
    values: tuple[float, ...]
    label: str
    """The label before dynamic-label expansion."""
    ref: MetricRef | None = None
    """The metric this series comes from; kept through functions that map one series to one."""


@dataclass(frozen=True, slots=True)
class Query:
    """One MetricDataQuery as the engine sees it: exactly one of ``expression`` and ``metric``."""

    id: str
    expression: str | None
    """None for a MetricStat query."""
    metric: MetricRef | None
    """Set for a MetricStat query."""
    label: str | None = None
    return_data: bool = True
    period: int | None = None
    """The query's Period (expressions); a MetricStat query uses ``metric.period``."""


@dataclass(frozen=True, slots=True)
class SearchCall:
    """One distinct ``SEARCH(query, stat, period)`` the shell must resolve and fetch."""

    query: str
    """The search expression string, e.g. ``{AWS/EC2,InstanceId} MetricName="CPUUtilization"``."""
    stat: str
    period: int


@dataclass(frozen=True, slots=True)
class Result:
    """One MetricDataResult-to-be."""

    id: str
    label: str
    """Final label, dynamic labels expanded."""
    timestamps: tuple[float, ...]
    """Ascending; the shell orders (ScanBy) and pages them."""
    values: tuple[float, ...]
    status: str = "Complete"
    """Complete | PartialData | InternalError."""
    messages: tuple[tuple[str, str], ...] = ()
    """(Code, Value) pairs."""
