"""The values a checked MetricWidget becomes: frozen, defaults applied, times resolved to UTC.

Built only by :func:`gateway.widgets.parse_widget`; read by the renderer and by
:mod:`gateway.apis.widgets`, which turns rows into GetMetricData queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_WIDTH, DEFAULT_HEIGHT = 600, 400


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the graph: a metric (``namespace`` set) or a math ``expression``."""

    id: str
    label: str | None
    color: str | None
    stat: str
    period: int
    y_axis: str
    visible: bool
    namespace: str = ""
    metric_name: str = ""
    dimensions: tuple[tuple[str, str], ...] = ()
    expression: str = ""


@dataclass(frozen=True, slots=True)
class HorizontalAnnotation:
    """A line (or, with ``end``, a band) at ``value`` on the ``y_axis``; ``fill`` shades above/below."""

    value: float
    label: str
    color: str | None
    fill: str | None
    y_axis: str
    end: float | None = None


@dataclass(frozen=True, slots=True)
class VerticalAnnotation:
    """A line (or, with ``end``, a band) at time ``value``; ``fill`` shades before/after."""

    value: datetime
    label: str
    color: str | None
    fill: str | None
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class Axis:
    """One Y axis: fixed ends (None: fit the data) and its label."""

    min: float | None = None
    max: float | None = None
    label: str = ""


@dataclass(frozen=True, slots=True)
class Widget:
    """A checked MetricWidget with every default applied."""

    rows: tuple[Row, ...]
    start: datetime
    end: datetime
    width: int = DEFAULT_WIDTH
    height: int = DEFAULT_HEIGHT
    title: str = ""
    view: str = "timeSeries"
    stacked: bool = False
    left: Axis = Axis()
    right: Axis = Axis()
    horizontal: tuple[HorizontalAnnotation, ...] = ()
    vertical: tuple[VerticalAnnotation, ...] = ()
    legend: str = "bottom"
    utc_offset: timedelta = timedelta(0)
    whole_range: bool = False
    """``setPeriodToTimeRange``: bar, pie and singleValue views aggregate the whole range."""
    range_period: int = 0
    """One period covering the whole range, the start rounded down to the minute (see :func:`range_period`)."""
