"""Labels: the default label of a metric, and dynamic labels (``${...}``) expanded for one series.

**Default labels.** A MetricStat query without a Label is labelled with its metric name. When
other metrics of the request share that name, the label adds what tells them apart: the values of
the dimensions whose values differ among them (in dimension-name order), then the statistic if
that differs. So ``CPUUtilization`` alone, but ``CPUUtilization i-1`` / ``CPUUtilization i-2``
side by side. An expression without a Label is labelled with its Id. (Both rules are StackWatch's
reading of CloudWatch's behaviour, which AWS does not document precisely.)

**Dynamic labels.** :func:`render_label` replaces, in a template::

    ${LABEL}                      the series' label before expansion (its default label)
    ${PROP('Dim.<name>')}         that dimension's value ('' when the metric has no such dimension)
    ${PROP('MetricName')} ${PROP('Namespace')} ${PROP('Period')} ${PROP('Stat')}
    ${AVG} ${MIN} ${MAX} ${SUM} ${FIRST} ${LAST} ${DATAPOINT_COUNT}
    ${FIRST_LAST_RANGE} ${MIN_MAX_RANGE}          value differences
    ${FIRST_TIME} ${LAST_TIME} ${MIN_TIME} ${MAX_TIME}     'YYYY-MM-DD HH:MM:SS' in LabelOptions.Timezone
    ${..._TIME_RELATIVE}          how long before ``now`` that was, e.g. '1h 5m'
    ${FIRST_LAST_TIME_RANGE} ${MIN_MAX_TIME_RANGE}         durations, e.g. '2d 3h'

Statistics of an empty series render as ''. Unknown names (``${PROP('AccountId')}``, typos) are
left as written. Numbers print as integers when whole, else with up to 15 significant digits.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone

from stackwatch import errors
from stackwatch.domain.metricmath._model import MetricRef, Query, Series

_TOKEN = re.compile(r"\$\{([^}]*)\}")
_PROP = re.compile(r"""PROP\((?:'([^']*)'|"([^"]*)")\)""")
_TIMEZONE = re.compile(r"([+-])(\d\d)(\d\d)")


def default_label(ref: MetricRef, peers: Sequence[MetricRef]) -> str:
    """The default label of ``ref`` among the metrics ``peers`` (``ref`` itself may be among them)."""
    group = [p for p in peers if p.metric_name == ref.metric_name and p != ref]
    if not group:
        return ref.metric_name
    group.append(ref)
    parts = [ref.metric_name]
    names = sorted({name for p in group for name, _ in p.dimensions})
    dims = [dict(p.dimensions) for p in group]
    mine = dict(ref.dimensions)
    parts += [mine[n] for n in names if n in mine and len({d.get(n) for d in dims}) > 1]
    if len({p.stat for p in group}) > 1:
        parts.append(ref.stat)
    return " ".join(parts)


def default_labels(queries: Sequence[Query]) -> dict[str, str]:
    """The default label of every query: see the module docstring."""
    refs = [q.metric for q in queries if q.metric is not None]
    return {q.id: default_label(q.metric, refs) if q.metric is not None else q.id for q in queries}


def parse_timezone(value: str | None) -> timezone:
    """``LabelOptions.Timezone`` (``+0130`` style; None means UTC) as a fixed offset.

    Raises:
        InvalidParameterValue: not ``+HHMM`` / ``-HHMM`` with minutes below 60.
    """
    if value is None:
        return UTC
    match = _TIMEZONE.fullmatch(value)
    if match is None or int(match.group(3)) >= 60:
        raise errors.InvalidParameterValue(f"The value {value} for parameter LabelOptions.Timezone is invalid.")
    sign = -1 if match.group(1) == "-" else 1
    return timezone(sign * timedelta(hours=int(match.group(2)), minutes=int(match.group(3))))


def has_dynamic_part(template: str) -> bool:
    """True when ``template`` holds at least one ``${...}``."""
    return _TOKEN.search(template) is not None


def render_label(template: str, series: Series, *, timezone: str | None = None, now: float | None = None) -> str:
    """Expand the dynamic parts of ``template`` for ``series`` (see the module docstring).

    Args:
        template: a Label, possibly with ``${...}`` parts.
        series: the series it labels; ``${LABEL}`` is ``series.label``.
        timezone: ``LabelOptions.Timezone``; time values render in it (default UTC).
        now: the reference time of the ``_RELATIVE`` values; without it they stay unexpanded.

    Raises:
        InvalidParameterValue: ``timezone`` is malformed.
    """
    zone = parse_timezone(timezone)

    def replace(match: re.Match[str]) -> str:
        value = _value(match.group(1).strip(), series, zone, now)
        return match.group(0) if value is None else value

    return _TOKEN.sub(replace, template)


def _value(name: str, series: Series, zone: timezone, now: float | None) -> str | None:
    prop = _PROP.fullmatch(name)
    if prop is not None:
        return _property(prop.group(1) if prop.group(1) is not None else prop.group(2), series)
    if name == "LABEL":
        return series.label
    if name.endswith("_RELATIVE"):
        stamp = _STAMPS.get(name.removesuffix("_RELATIVE"))
        if stamp is None or now is None:
            return None
        found = stamp(series)
        return "" if found is None else _duration(abs(now - found))
    if name in _STAMPS:
        found = _STAMPS[name](series)
        return "" if found is None else datetime.fromtimestamp(found, zone).strftime("%Y-%m-%d %H:%M:%S")
    if name in _SPANS:
        start, end = _SPANS[name]
        a, b = _STAMPS[start](series), _STAMPS[end](series)
        return "" if a is None or b is None else _duration(abs(b - a))
    if name in _NUMBERS:
        return "" if not series.values else _number(_NUMBERS[name](series.values))
    return None


def _property(key: str, series: Series) -> str | None:
    ref = series.ref
    if key.startswith("Dim."):
        return "" if ref is None else dict(ref.dimensions).get(key[4:], "")
    getters: dict[str, Callable[[MetricRef], str]] = {
        "MetricName": lambda r: r.metric_name, "Namespace": lambda r: r.namespace,
        "Period": lambda r: str(r.period), "Stat": lambda r: r.stat,
    }
    if key not in getters:
        return None
    return "" if ref is None else getters[key](ref)


def _at_extreme(series: Series, pick: Callable[..., float]) -> float | None:
    if not series.values:
        return None
    target = pick(series.values)
    return series.timestamps[series.values.index(target)]


_STAMPS: dict[str, Callable[[Series], float | None]] = {
    "FIRST_TIME": lambda s: s.timestamps[0] if s.timestamps else None,
    "LAST_TIME": lambda s: s.timestamps[-1] if s.timestamps else None,
    "MIN_TIME": lambda s: _at_extreme(s, min),
    "MAX_TIME": lambda s: _at_extreme(s, max),
}
_SPANS = {"FIRST_LAST_TIME_RANGE": ("FIRST_TIME", "LAST_TIME"), "MIN_MAX_TIME_RANGE": ("MIN_TIME", "MAX_TIME")}
_NUMBERS: dict[str, Callable[[tuple[float, ...]], float]] = {
    "AVG": lambda v: math.fsum(v) / len(v), "MIN": min, "MAX": max, "SUM": math.fsum,
    "FIRST": lambda v: v[0], "LAST": lambda v: v[-1], "DATAPOINT_COUNT": lambda v: float(len(v)),
    "FIRST_LAST_RANGE": lambda v: v[-1] - v[0], "MIN_MAX_RANGE": lambda v: max(v) - min(v),
}


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.15g}"


def _duration(seconds: float) -> str:
    left = int(round(seconds))
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0s"
