"""Metric alarm evaluation: ``evaluate(alarm, datapoints, now, previous) -> Evaluation``.

Pure, like Prometheus' ``AlertingRule.Eval``: the time and the data come in as arguments, the
decision and CloudWatch's own words for it come out. The scheduler calls it when a period closes.

**Windows.** Periods are aligned to multiples of the period since the epoch (the buckets
GetMetricStatistics returns). The newest period evaluated is the last one closed at ``now``; the
*evaluation range* reaches ``alarm.evaluation_range`` periods back (N + 2; AWS documents 5 for
N = 3 and leaves the rest unsaid)::

    now = 10:05:30, period 60, N = 3        range: 10:00 10:01 10:02 10:03 10:04 | 10:05 (open)
                                                   oldest ................ newest

CloudWatch agrees for 60-second periods (its reason data shows the last closed minute). For
longer periods its windows start on a minute but not always on a multiple of the period (a
300-second alarm evaluated at 20:50:27 reported a datapoint at 20:44), so they carry a per-alarm
phase we do not model: ours match GetMetricStatistics' buckets instead.

**Deciding** (AWS, "Configuring how CloudWatch alarms treat missing data"; M = datapoints to
alarm, "real" = a period with a datapoint):

1. At least N real datapoints in the range: the newest N of them are evaluated, gaps or not.
   ALARM if at least M breach, else OK. TreatMissingData plays no part.
2. Fewer than N: ``breaching`` / ``notBreaching`` fill the newest missing periods (as few as make
   N) with bad / good points and count as in 1; with no real point at all the alarm is ALARM / OK.
3. ``missing`` with fewer than N: ALARM if M real points breach; else OK if any real point is
   good; else (only breaching points, fewer than M) ALARM if the oldest of them is at least M
   periods old, the rule AWS gives for ``- - X - -`` ("avoiding premature transitions"), else
   INSUFFICIENT_DATA, as when no point is real.
4. ``ignore`` decides as ``missing`` except that where ``missing`` would rest on missing data
   (INSUFFICIENT_DATA, or the premature-transition ALARM) the state stays as it is.

``AWS/DynamoDB`` alarms always ``ignore``. A percentile alarm with
``EvaluateLowSampleCountPercentile = ignore`` keeps its state while an evaluated period has fewer
samples than the statistic needs (see :meth:`AlarmDefinition.too_few_samples`).

**Words.** The StateReason follows CloudWatch's sentences: the long form ("1 out of the last 1
datapoints [...] was greater than the threshold (3.0) (minimum 1 datapoint for OK -> ALARM
transition).") when DatapointsToAlarm was given, the short form ("1 datapoint [...] was greater
than the threshold (3.0).") when it was not, "no datapoints were received for 1 period and 1
missing datapoint was treated as [Breaching]." and "Insufficient Data: 3 datapoints were
unknown.". The reason data is the JSON document CloudWatch attaches (see :func:`_reason_data`).
Both are cut to the model's limits (1,023 and 4,000 characters) by leaving out the oldest
datapoints; how CloudWatch shortens them is not documented.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from services.alarm.domain._format import JsonValue, java_double, java_json, json_time, reason_time
from services.alarm.domain.model import (
    AlarmDefinition,
    AlarmState,
    Datapoint,
    StateRecord,
    TreatMissingData,
    epoch,
    from_epoch,
)

#: The longest StateReason and StateReasonData CloudWatch stores (the model's limits).
MAX_REASON, MAX_REASON_DATA = 1023, 4000


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The outcome of one evaluation.

    Attributes:
        state: the state the alarm should be in.
        reason: its StateReason.
        reason_data: its StateReasonData (JSON text), or None.
        kept: True when the rules said "keep the current state" (TreatMissingData ``ignore``, low
            sample counts); state, reason and reason data are then the previous ones.
    """

    state: AlarmState
    reason: str
    reason_data: str | None
    kept: bool = False


@dataclass(frozen=True, slots=True)
class _Slot:
    """One period of the evaluation range: its start and its datapoint, if any."""

    start: float
    point: Datapoint | None
    filled: bool = False  # a missing period counted per TreatMissingData


def period_starts(alarm: AlarmDefinition, now: datetime) -> list[datetime]:
    """The starts of the periods in the evaluation range at ``now``, newest first.

    The newest is the last period that has closed: ``[start, start + period)`` with its end at or
    before ``now``.
    """
    p = alarm.period
    newest = math.floor(epoch(now) / p) * p - p
    return [from_epoch(newest - k * p) for k in range(alarm.evaluation_range)]


def _slots(alarm: AlarmDefinition, datapoints: Iterable[Datapoint], now: datetime) -> list[_Slot]:
    starts = [epoch(s) for s in period_starts(alarm, now)]
    by_start: dict[float, Datapoint] = {}
    wanted = set(starts)
    for dp in datapoints:
        t = epoch(dp.timestamp)
        if t not in wanted or not math.isfinite(dp.value):
            continue  # outside the range, off the period grid, or no number
        if t in by_start:
            raise ValueError(f"two datapoints for the period starting {dp.timestamp.isoformat()}")
        by_start[t] = dp
    return [_Slot(t, by_start.get(t)) for t in starts]


def evaluate(alarm: AlarmDefinition, datapoints: Iterable[Datapoint], now: datetime,
             previous: StateRecord) -> Evaluation:
    """Evaluate ``alarm`` at ``now`` over the per-period ``datapoints`` the shell fetched.

    Args:
        alarm: the alarm.
        datapoints: one value per period, in any order; those outside the evaluation range or off
            the period grid are not looked at.
        now: the evaluation time (aware).
        previous: the alarm's current state, kept where the rules say so.

    Returns:
        The new state with its reason and reason data (see the module docstring for the rules).

    Raises:
        ValueError: two datapoints for one period, or a naive datetime.
    """
    slots = _slots(alarm, datapoints, now)
    n, m = alarm.n, alarm.m
    real = [s for s in slots if s.point is not None]
    keep = Evaluation(previous.value, previous.reason, previous.reason_data, kept=True)

    premature = False
    if len(real) >= n:
        evaluated = real[:n]
    elif alarm.missing_data_treatment in (TreatMissingData.BREACHING, TreatMissingData.NOT_BREACHING):
        evaluated = _filled(slots, n - len(real))
    else:
        evaluated = real
        breaching = sum(_breaches(alarm, s) for s in real)
        if breaching < m and breaching == len(real):  # nothing but (too few) breaching points
            if alarm.missing_data_treatment is TreatMissingData.IGNORE:
                return keep
            premature = bool(real) and slots.index(real[-1]) + 1 >= m
            if not premature:
                return _insufficient(alarm, slots, now, n - len(real))
    if any(s.point is not None and alarm.too_few_samples(s.point.sample_count) for s in evaluated):
        return keep
    alarming = premature or sum(_breaches(alarm, s) for s in evaluated) >= m
    state = AlarmState.ALARM if alarming else AlarmState.OK
    return Evaluation(state, _threshold_reason(alarm, evaluated, state), _reason_data(alarm, evaluated, now))


def _breaches(alarm: AlarmDefinition, slot: _Slot) -> bool:
    if slot.point is None:
        return slot.filled and alarm.missing_data_treatment is TreatMissingData.BREACHING
    return alarm.comparison_operator.breaches(slot.point.value, alarm.threshold)


def _filled(slots: list[_Slot], fills: int) -> list[_Slot]:
    """The real slots plus the newest ``fills`` missing ones marked as filled, newest first."""
    out = []
    for s in slots:
        if s.point is not None:
            out.append(s)
        elif fills:
            out.append(_Slot(s.start, None, filled=True))
            fills -= 1
    return out


def _insufficient(alarm: AlarmDefinition, slots: list[_Slot], now: datetime, unknown: int) -> Evaluation:
    noun = "datapoint was" if unknown == 1 else "datapoints were"
    return Evaluation(AlarmState.INSUFFICIENT_DATA, f"Insufficient Data: {unknown} {noun} unknown.",
                      _reason_data(alarm, slots[:alarm.n], now))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _threshold_reason(alarm: AlarmDefinition, evaluated: list[_Slot], state: AlarmState) -> str:
    """The "Threshold Crossed: ..." StateReason for an OK or ALARM outcome.

    Lists the evaluated datapoints on the side of the outcome (breaching ones for ALARM, the others
    for OK), newest first, as ``value (dd/MM/yy HH:mm:ss)``.
    """
    alarming = state is AlarmState.ALARM
    treatment = "Breaching" if alarm.missing_data_treatment is TreatMissingData.BREACHING else "NonBreaching"
    if evaluated and all(s.point is None for s in evaluated):
        k = len(evaluated)
        verb = "was" if k == 1 else "were"
        return (f"Threshold Crossed: no datapoints were received for {_plural(k, 'period')} and "
                f"{_plural(k, 'missing datapoint')} {verb} treated as [{treatment}].")
    side = [s for s in evaluated if _breaches(alarm, s) == alarming]
    verb = "was" if len(side) == 1 else "were"
    words = alarm.comparison_operator.words if alarming else "not " + alarm.comparison_operator.words
    threshold = java_double(alarm.threshold)
    if alarm.datapoints_to_alarm is None:
        head = f"Threshold Crossed: {_plural(len(side), 'datapoint')} ["
        tail = f"] {verb} {words} the threshold ({threshold})."
    else:
        n, m = alarm.n, alarm.m
        needed, direction = (m, "OK -> ALARM") if alarming else (n - m + 1, "ALARM -> OK")
        head = f"Threshold Crossed: {len(side)} out of the last {n} datapoints ["
        tail = (f"] {verb} {words} the threshold ({threshold}) "
                f"(minimum {_plural(needed, 'datapoint')} for {direction} transition).")
    budget = MAX_REASON - len(head) - len(tail)
    items: list[str] = []
    shown = [(slot.start, slot.point.value) for slot in side if slot.point is not None]
    for i, (start, value) in enumerate(shown):  # newest first; what does not fit is left out, marked "..."
        item = f"{java_double(value)} ({reason_time(from_epoch(start))})"
        budget -= len(item) + 2
        if budget < (len(", ...") if i + 1 < len(shown) else 0):
            items.append("...")
            break
        items.append(item)
    return head + ", ".join(items) + tail


def _reason_data(alarm: AlarmDefinition, evaluated: list[_Slot], now: datetime) -> str:
    """The StateReasonData document for an evaluation (compact JSON, CloudWatch's key order).

    ``{"version":"1.0","queryDate":...,"startDate":<oldest evaluated datapoint>,"unit":...,
    "statistic":...|"extendedStatistic":...,"period":60,"recentDatapoints":[<oldest..newest>],
    "threshold":3.0,"evaluatedDatapoints":[{"timestamp":...,"sampleCount":...,"value":...}, ...]}``,
    evaluated datapoints newest first, missing ones with their timestamp only; no ``startDate`` when
    no datapoint was there (as in AWS's "Insufficient Data" documents). ``unit`` only when
    the alarm has one; no statistic for a metric math alarm.
    """
    doc: dict[str, JsonValue] = {"version": "1.0", "queryDate": json_time(now)}
    starts = [s.start for s in evaluated if s.point is not None]
    if starts:
        doc["startDate"] = json_time(from_epoch(min(starts)))
    if alarm.unit is not None:
        doc["unit"] = alarm.unit
    if alarm.statistic is not None:
        doc["statistic"] = alarm.statistic
    elif alarm.extended_statistic is not None:
        doc["extendedStatistic"] = alarm.extended_statistic
    doc["period"] = alarm.period
    head = java_json(doc)[:-1] + ',"recentDatapoints":['
    middle = '],"threshold":' + java_double(alarm.threshold) + ',"evaluatedDatapoints":['
    budget = MAX_REASON_DATA - len(head) - len(middle) - len("]}")
    recent: list[str] = []
    entries: list[str] = []
    for slot in evaluated:  # newest first: when the document is too long the oldest are left out
        entry = java_json(_evaluated_entry(slot))
        value = java_double(slot.point.value) if slot.point is not None else None
        budget -= len(entry) + 1 + (len(value) + 1 if value is not None else 0)
        if budget < 0:
            break
        entries.append(entry)
        if value is not None:
            recent.append(value)
    return head + ",".join(reversed(recent)) + middle + ",".join(entries) + "]}"


def _evaluated_entry(slot: _Slot) -> dict[str, JsonValue]:
    entry: dict[str, JsonValue] = {"timestamp": json_time(from_epoch(slot.start))}
    if slot.point is not None:
        if slot.point.sample_count is not None:
            entry["sampleCount"] = float(slot.point.sample_count)
        entry["value"] = float(slot.point.value)
    return entry
