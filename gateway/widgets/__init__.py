"""GetMetricWidgetImage's pure parts: the MetricWidget JSON checked (:mod:`._spec`) and drawn (:mod:`._render`).

The operation itself (params -> GetMetricData on ingest -> render in an executor -> PNG) is
:mod:`gateway.apis.widgets`; nothing here does I/O, and matplotlib is only imported when
:func:`render_png` first runs.
"""

from gateway.widgets._render import NO_DATA, PALETTE, Series, compact, draw, render_png, time_ticks
from gateway.widgets._spec import (
    Axis,
    HorizontalAnnotation,
    Row,
    VerticalAnnotation,
    Widget,
    auto_period,
    parse_time,
    parse_widget,
)

__all__ = [
    "NO_DATA", "PALETTE", "Axis", "HorizontalAnnotation", "Row", "Series", "VerticalAnnotation", "Widget",
    "auto_period", "compact", "draw", "parse_time", "parse_widget", "render_png", "time_ticks",
]
