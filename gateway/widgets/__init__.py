"""GetMetricWidgetImage's pure parts: the MetricWidget JSON checked, and drawn.

:mod:`._spec` checks the JSON into the values of :mod:`._values`; :mod:`._render` draws them.

The operation itself (params -> GetMetricData on ingest -> render in an executor -> PNG) is
:mod:`gateway.apis.widgets`; nothing here does I/O, and matplotlib is only imported when
:func:`render_png` first runs.
"""

from gateway.widgets._render import NO_DATA, PALETTE, Series, compact, draw, render_png, time_ticks
from gateway.widgets._spec import auto_period, parse_time, parse_widget, range_period
from gateway.widgets._values import Axis, HorizontalAnnotation, Row, VerticalAnnotation, Widget

__all__ = [
    "NO_DATA", "PALETTE", "Axis", "HorizontalAnnotation", "Row", "Series", "VerticalAnnotation", "Widget",
    "auto_period", "compact", "draw", "parse_time", "parse_widget", "range_period", "render_png", "time_ticks",
]
