"""The MetricWidget JSON of GetMetricWidgetImage, checked as CloudWatch checks it, as frozen values.

:func:`parse_widget` is pure: the JSON text and ``now`` in, a :class:`Widget` out (relative times
resolved, ``"."``/``"..."`` repeats expanded, defaults filled, the period chosen), or one
``InvalidParameterInput`` listing every problem found, each with a JSON-pointer ``dataPath`` as
CloudWatch's dashboard validator reports them::

    {"metrics": [["NS", "CPU", "Host", "a"], [".", ".", ".", "b", {"color": "#ff7f0e"}],
                 [{"expression": "m1 + m2", "label": "total"}]],
     "start": "-PT3H", "view": "timeSeries", "stacked": false, "period": 300, "stat": "Average",
     "yAxis": {"left": {"min": 0}}, "annotations": {"horizontal": [{"value": 80, "label": "high"}]},
     "legend": {"position": "bottom"}, "width": 600, "height": 400, "timezone": "+0100"}

A metric row is ``[Namespace, MetricName, DimName, DimValue, ..., {options}]``; ``"."`` repeats
the item at the same place in the previous row, and a row that starts with ``"..."`` takes the
previous row's items up to where its own given items begin. An expression row is
``[{"expression": ..., "label": ..., "id": ...}]``. Row options: ``label``, ``color`` (``#rrggbb``),
``stat``, ``period``, ``yAxis`` (``left``/``right``), ``visible``, ``id``; ``region`` and
``accountId`` are accepted and ignored (a tenant only ever sees its own account).

**Period.** A row's ``period``, else the widget's, else CloudWatch's default of 300 s, made coarser
(900 s, 1 h, 6 h, 1 day, ...) while the range would give more than 1,440 points a series, and at
least 1 h when ``start`` is older than 63 days (finer data is no longer kept there, §2.3).
Statistics are checked by the ingest service, which answers ``InvalidParameterValue`` as
GetMetricData does.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from gateway.widgets._values import (
    DEFAULT_HEIGHT,
    DEFAULT_WIDTH,
    Axis,
    HorizontalAnnotation,
    Row,
    VerticalAnnotation,
    Widget,
)
from stackwatch import errors
from stackwatch.domain.metric_rows import RowError, expand_row

VIEWS = ("timeSeries", "singleValue", "bar", "pie")
LEGEND_POSITIONS = ("bottom", "right", "hidden")
MAX_METRICS = 100
MAX_SIZE = 2000
DEFAULT_PERIOD = 300
DEFAULT_STAT = "Average"
#: Periods the automatic choice steps through, coarser each time, and the most points it allows.
AUTO_PERIODS = (300, 900, 3600, 21600, 86400, 7 * 86400)
MAX_AUTO_POINTS = 1440

_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_ID = re.compile(r"[a-z][a-zA-Z0-9_]*")
_TIMEZONE = re.compile(r"([+-])([01][0-9]|2[0-3])([0-5][0-9])")
_DURATION = re.compile(r"(-?)P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")
_DURATION_UNITS = (365 * 86400, 30 * 86400, 7 * 86400, 86400, 3600, 60, 1)


class _Problems:
    """Collects ``(dataPath, message)`` pairs; raises them all at once."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.found.append((path, message))

    def raise_if_any(self) -> None:
        if self.found:
            raise invalid(self.found)


def invalid(found: list[tuple[str, str]]) -> errors.ServiceError:
    """The ``InvalidParameterInput`` error listing ``found`` as CloudWatch's validator words it."""
    listed = json.dumps([{"dataPath": p, "message": m} for p, m in found], indent=2)
    return errors.InvalidParameterInput(
        f"The metric widget is invalid, there are {len(found)} validation errors:\n{listed}")


def parse_widget(text: str, now: datetime) -> Widget:
    """Check the MetricWidget JSON ``text`` and resolve it against ``now`` (aware UTC).

    Raises:
        InvalidParameterInput: the text is not a JSON object, or breaks a rule (all are listed).
    """
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise invalid([("", f"Should be valid JSON: {str(e)[:200]}")]) from None
    if not isinstance(doc, dict):
        raise invalid([("", "Should be object")])
    p = _Problems()
    width = _int(p, doc, "width", DEFAULT_WIDTH, 1, MAX_SIZE)
    height = _int(p, doc, "height", DEFAULT_HEIGHT, 1, MAX_SIZE)
    start = _time(p, doc, "start", "-PT3H", now)
    end = _time(p, doc, "end", "-PT0H", now)
    if start is not None and end is not None and start >= end:
        p.add("/start", "Should be before end")
    title = _str(p, doc, "title", "")
    view = _str(p, doc, "view", "timeSeries")
    if view not in VIEWS:
        p.add("/view", f"Should be equal to one of the allowed values: {', '.join(VIEWS)}")
    stacked = _bool(p, doc, "stacked", False)
    whole_range = _bool(p, doc, "setPeriodToTimeRange", False)
    _bool(p, doc, "liveData", False)
    _str(p, doc, "region", "")
    stat = _str(p, doc, "stat", DEFAULT_STAT)
    period = _period(p, doc.get("period"), "/period") if "period" in doc else None
    left, right = _axes(p, doc.get("yAxis", {}))
    legend = _legend(p, doc.get("legend", {}))
    offset = _timezone(p, doc.get("timezone", "+0000"))
    h, v = _annotations(p, doc.get("annotations", {}), now)
    if period is None and start is not None and end is not None:
        period = auto_period(start, end, now)
    rows = _rows(p, doc, stat, period or DEFAULT_PERIOD)
    p.raise_if_any()
    assert start is not None and end is not None
    return Widget(rows=rows, start=start, end=end, width=width, height=height, title=title, view=view,
                  stacked=stacked, left=left, right=right, horizontal=h, vertical=v, legend=legend,
                  utc_offset=offset, whole_range=whole_range, range_period=range_period(start, end, now))


def range_period(start: datetime, end: datetime, now: datetime) -> int:
    """A period giving one bucket from ``start`` (rounded down to its minute) past ``end``.

    A whole number of minutes, or of hours when ``start`` is older than 15 days (the coarsest
    granularity CloudWatch keeps there is 5 minutes, then 1 hour; an hour multiple suits both).
    """
    unit = 3600 if now - start > timedelta(days=15) else 60
    span = (end - start.replace(second=0, microsecond=0)).total_seconds()
    return int(math.ceil(span / unit) * unit + unit)


def auto_period(start: datetime, end: datetime, now: datetime) -> int:
    """The period used when the widget names none (see the module docstring)."""
    span = (end - start).total_seconds()
    floor = 3600 if (now - start) > timedelta(days=63) else DEFAULT_PERIOD
    for period in AUTO_PERIODS:
        if period >= floor and span / period <= MAX_AUTO_POINTS:
            return period
    return AUTO_PERIODS[-1]


def parse_time(text: str, now: datetime) -> datetime | None:
    """``-PT3H``-style durations relative to ``now``, or ISO 8601 instants (UTC when naive); None if neither."""
    m = _DURATION.fullmatch(text)
    if m and any(m.groups()[1:]):
        seconds = sum(int(g or 0) * u for g, u in zip(m.groups()[1:], _DURATION_UNITS, strict=True))
        return now - timedelta(seconds=seconds) if m.group(1) else now + timedelta(seconds=seconds)
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        return None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _int(p: _Problems, doc: dict[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        p.add(f"/{key}", "Should be integer")
        return default
    if not lo <= value <= hi:
        p.add(f"/{key}", f"Should be >= {lo} and <= {hi}")
        return default
    return int(value)


def _str(p: _Problems, doc: dict[str, Any], key: str, default: str, path: str = "") -> str:
    value = doc.get(key, default)
    if not isinstance(value, str):
        p.add(f"{path}/{key}", "Should be string")
        return default
    return value


def _bool(p: _Problems, doc: dict[str, Any], key: str, default: bool, path: str = "") -> bool:
    value = doc.get(key, default)
    if not isinstance(value, bool):
        p.add(f"{path}/{key}", "Should be boolean")
        return default
    return value


def _number(p: _Problems, value: Any, path: str) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        p.add(path, "Should be number")
        return None
    return float(value)


def _time(p: _Problems, doc: dict[str, Any], key: str, default: str, now: datetime, path: str = ""
          ) -> datetime | None:
    text = doc.get(key, default)
    t = parse_time(text, now) if isinstance(text, str) else None
    if t is None:
        p.add(f"{path}/{key}", "Should be an ISO 8601 date-time or a relative duration such as -PT3H")
    return t


def _period(p: _Problems, value: Any, path: str) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        p.add(path, "Should be integer >= 1")
        return None
    if value not in (1, 5, 10, 20, 30) and value % 60:
        p.add(path, "Should be 1, 5, 10, 20, 30 or a multiple of 60")
        return None
    return value


def _timezone(p: _Problems, value: Any) -> timedelta:
    m = _TIMEZONE.fullmatch(value) if isinstance(value, str) else None
    if m is None:
        p.add("/timezone", "Should match pattern \"^[+-][0-9]{4}$\" (for example +0130)")
        return timedelta(0)
    offset = timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
    return -offset if m.group(1) == "-" else offset


def _legend(p: _Problems, value: Any) -> str:
    if not isinstance(value, dict):
        p.add("/legend", "Should be object")
        return "bottom"
    position = _str(p, value, "position", "bottom", "/legend")
    if position not in LEGEND_POSITIONS:
        p.add("/legend/position", f"Should be equal to one of the allowed values: {', '.join(LEGEND_POSITIONS)}")
        return "bottom"
    return position


def _axes(p: _Problems, value: Any) -> tuple[Axis, Axis]:
    if not isinstance(value, dict):
        p.add("/yAxis", "Should be object")
        return Axis(), Axis()
    out = []
    for side in ("left", "right"):
        spec = value.get(side, {})
        path = f"/yAxis/{side}"
        if not isinstance(spec, dict):
            p.add(path, "Should be object")
            out.append(Axis())
            continue
        lo = _number(p, spec["min"], f"{path}/min") if "min" in spec else None
        hi = _number(p, spec["max"], f"{path}/max") if "max" in spec else None
        if lo is not None and hi is not None and lo >= hi:
            p.add(f"{path}/min", "Should be less than max")
        _bool(p, spec, "showUnits", True, path)
        out.append(Axis(min=lo, max=hi, label=_str(p, spec, "label", "", path)))
    return out[0], out[1]


def _annotations(p: _Problems, value: Any, now: datetime
                 ) -> tuple[tuple[HorizontalAnnotation, ...], tuple[VerticalAnnotation, ...]]:
    if not isinstance(value, dict):
        p.add("/annotations", "Should be object")
        return (), ()
    horizontal: list[HorizontalAnnotation] = []
    vertical: list[VerticalAnnotation] = []
    for kind in ("horizontal", "vertical"):
        items = value.get(kind, [])
        if not isinstance(items, list):
            p.add(f"/annotations/{kind}", "Should be array")
            continue
        for i, item in enumerate(items):
            path = f"/annotations/{kind}/{i}"
            band = item if isinstance(item, list) else [item]
            if not 1 <= len(band) <= 2 or not all(isinstance(b, dict) for b in band):
                p.add(path, "Should be object or an array of two objects (a band)")
                continue
            if kind == "horizontal":
                h = _horizontal(p, band, path)
                if h is not None:
                    horizontal.append(h)
            else:
                v = _vertical(p, band, path, now)
                if v is not None:
                    vertical.append(v)
    return tuple(horizontal), tuple(vertical)


def _annotation_common(p: _Problems, first: dict[str, Any], path: str, fills: tuple[str, ...]
                       ) -> tuple[str, str | None, str | None, bool]:
    label = _str(p, first, "label", "", path)
    color = _color(p, first.get("color"), f"{path}/color")
    fill = first.get("fill")
    if fill is not None and fill not in fills:
        p.add(f"{path}/fill", f"Should be equal to one of the allowed values: {', '.join(fills)}")
        fill = None
    return label, color, fill, _bool(p, first, "visible", True, path)


def _horizontal(p: _Problems, band: list[dict[str, Any]], path: str) -> HorizontalAnnotation | None:
    first = band[0]
    label, color, fill, visible = _annotation_common(p, first, path, ("above", "below"))
    if "value" not in first:
        p.add(path, "Should have required property 'value'")
        return None
    value = _number(p, first["value"], f"{path}/value")
    end = _number(p, band[1].get("value"), f"{path}/1/value") if len(band) == 2 else None
    y_axis = _str(p, first, "yAxis", "left", path)
    if y_axis not in ("left", "right"):
        p.add(f"{path}/yAxis", "Should be equal to one of the allowed values: left, right")
    if value is None or not visible:
        return None
    return HorizontalAnnotation(value=value, label=label, color=color, fill=fill, y_axis=y_axis, end=end)


def _vertical(p: _Problems, band: list[dict[str, Any]], path: str, now: datetime) -> VerticalAnnotation | None:
    first = band[0]
    label, color, fill, visible = _annotation_common(p, first, path, ("before", "after"))
    if "value" not in first:
        p.add(path, "Should have required property 'value'")
        return None
    value = _time(p, first, "value", "", now, path)
    end = _time(p, band[1], "value", "", now, f"{path}/1") if len(band) == 2 else None
    if value is None or not visible:
        return None
    return VerticalAnnotation(value=value, label=label, color=color, fill=fill, end=end)


def _color(p: _Problems, value: Any, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _COLOR.fullmatch(value):
        p.add(path, "Should match pattern \"^#([0-9a-fA-F]{6})$\"")
        return None
    return value.lower()


def _rows(p: _Problems, doc: dict[str, Any], stat: str, period: int) -> tuple[Row, ...]:
    if "metrics" not in doc:
        p.add("", "Should have required property 'metrics'")
        return ()
    metrics = doc["metrics"]
    if not isinstance(metrics, list):
        p.add("/metrics", "Should be array")
        return ()
    if not 1 <= len(metrics) <= MAX_METRICS:
        p.add("/metrics", f"Should NOT have {'fewer than 1' if not metrics else f'more than {MAX_METRICS}'} items")
        return ()
    rows: list[Row] = []
    previous: list[Any] = []
    given_ids = {r[-1]["id"] for r in metrics
                 if isinstance(r, list) and r and isinstance(r[-1], dict) and isinstance(r[-1].get("id"), str)}
    for i, raw in enumerate(metrics):
        path = f"/metrics/{i}"
        if not isinstance(raw, list) or not raw:
            p.add(path, "Should be a non-empty array")
            continue
        options = raw[-1] if isinstance(raw[-1], dict) else {}
        items = raw[:-1] if isinstance(raw[-1], dict) else list(raw)
        auto_id = _free_id("e" if "expression" in options and not items else "m", i, given_ids)
        row_id = _row_id(p, options.get("id", auto_id), f"{path}/{len(raw) - 1}/id")
        common = _options(p, options, f"{path}/{len(raw) - 1}", stat, period)
        if not items:
            expression = options.get("expression")
            if not isinstance(expression, str) or not expression.strip():
                p.add(path, "Should have a namespace and metric name, or an object with 'expression'")
                continue
            rows.append(Row(id=row_id, expression=expression, **common))
            continue
        try:
            expanded = expand_row(items, previous)
        except RowError as e:
            p.add(path if e.index is None else f"{path}/{e.index}", e.message)
            continue
        previous = expanded
        rows.append(Row(id=row_id, namespace=expanded[0], metric_name=expanded[1],
                        dimensions=tuple(zip(expanded[2::2], expanded[3::2], strict=True)), **common))
    return tuple(rows)


def _free_id(prefix: str, index: int, taken: set[str]) -> str:
    n = index + 1
    while f"{prefix}{n}" in taken:
        n += 1000
    return f"{prefix}{n}"


def _row_id(p: _Problems, value: Any, path: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        p.add(path, "Should start with a lowercase letter and hold only letters, digits and _")
        return "invalid"
    return value


def _options(p: _Problems, options: dict[str, Any], opath: str, stat: str, period: int) -> dict[str, Any]:
    label = options.get("label")
    if label is not None and not isinstance(label, str):
        p.add(f"{opath}/label", "Should be string")
        label = None
    y_axis = _str(p, options, "yAxis", "left", opath)
    if y_axis not in ("left", "right"):
        p.add(f"{opath}/yAxis", "Should be equal to one of the allowed values: left, right")
    row_period = _period(p, options["period"], f"{opath}/period") if "period" in options else None
    return {"label": label, "color": _color(p, options.get("color"), f"{opath}/color"),
            "stat": _str(p, options, "stat", stat, opath), "period": row_period or period,
            "y_axis": y_axis, "visible": _bool(p, options, "visible", True, opath)}


def to_zone(t: datetime, offset: timedelta) -> datetime:
    """``t`` in the widget's time zone (for axis labels)."""
    return t.astimezone(timezone(offset))
