# ruff: noqa: D103 - test names say what each test checks
"""Alarm windows as timelines: datums arrive, periods close, the window answers what ingest would.

Each test walks a clock through a few periods and checks the per-period datapoints a window
gives to the domain's ``evaluate``, including late data, units, percentiles and backfills.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from services.alarm.domain import AlarmDefinition, AlarmState, ComparisonOperator, evaluate, initial_state
from services.alarm.domain.model import from_epoch
from services.alarm.windows import AlarmWindow, Backfilled
from services.ingest.domain import percentile
from stackwatch.domain.metrics import StatisticSet

T0 = datetime(2026, 12, 3, 10, 0, 0, tzinfo=UTC).timestamp()  # 10:00:00, a period boundary


def value(window: AlarmWindow, v: float, at: float, now: float, unit: str = "None") -> int | None:
    return window.add(now, at, unit, StatisticSet(1.0, v, v, v), (v,), (1.0,))


def by_start(window: AlarmWindow, now: float) -> dict[float, float]:
    return {dp.timestamp.timestamp() - T0: dp.value for dp in window.datapoints(now)}


def test_ten_second_periods_aggregate_each_statistic_as_the_store_buckets():
    for stat, expected in (("Average", 20.0), ("Sum", 60.0), ("Minimum", 10.0), ("Maximum", 30.0),
                           ("SampleCount", 3.0)):
        w = AlarmWindow(period=10, periods=3, statistic=stat)
        for i, v in enumerate((10.0, 20.0, 30.0)):
            assert value(w, v, T0 + 1 + i * 3, now=T0 + 9) == T0  # 10:00:01, :04, :07 -> period 10:00:00
        value(w, 99.0, T0 + 10.0, now=T0 + 10.5)  # 10:00:10 belongs to the next period
        assert by_start(w, T0 + 10.5)[0] == expected, stat


def test_a_sub_second_timestamp_counts_in_its_whole_second():
    w = AlarmWindow(period=10, periods=3, statistic="Maximum")
    assert value(w, 5.0, T0 + 9.999, now=T0 + 9.999) == T0
    assert value(w, 7.0, T0 + 10.0, now=T0 + 10.0) == T0 + 10


def test_data_older_than_the_evaluation_range_is_refused_newer_is_kept():
    w = AlarmWindow(period=60, periods=3, statistic="Maximum")  # N = 1: the range is 3 minutes
    now = T0 + 5 * 60 + 1  # 10:05:01: closed 10:04, range 10:02..10:04
    assert value(w, 1.0, T0 + 2 * 60, now) == T0 + 120
    assert value(w, 1.0, T0 + 2 * 60 - 1, now) is None  # 10:01:59 is out of the range
    assert value(w, 1.0, T0 + 30 * 60, now) == T0 + 1800  # the future is kept (timestamps up to 2 h ahead)


def test_late_data_changes_a_closed_period_and_the_evaluation_that_follows():
    alarm = AlarmDefinition(name="a", period=10, evaluation_periods=1, threshold=50.0,
                            comparison_operator=ComparisonOperator.GREATER_THAN, statistic="Maximum")
    w = AlarmWindow(period=10, periods=alarm.evaluation_range, statistic="Maximum")
    state = initial_state(from_epoch(T0))
    value(w, 10.0, T0 + 2, now=T0 + 2)
    first = evaluate(alarm, w.datapoints(T0 + 10.5), from_epoch(T0 + 10.5), state)  # 10:00:00 closed at :10
    assert first.state is AlarmState.OK
    assert value(w, 80.0, T0 + 5, now=T0 + 11.2) == T0  # a late datum for the evaluated period
    again = evaluate(alarm, w.datapoints(T0 + 11.3), from_epoch(T0 + 11.3), state)
    assert again.state is AlarmState.ALARM
    assert "80.0" in again.reason


def test_a_unit_alarm_counts_its_unit_only_and_a_unitless_alarm_the_first_unit():
    only = AlarmWindow(period=60, periods=3, statistic="Sum", unit="Seconds")
    any_unit = AlarmWindow(period=60, periods=3, statistic="Sum")
    for w in (only, any_unit):
        value(w, 1.0, T0 + 1, T0 + 2, unit="Seconds")
        value(w, 5.0, T0 + 2, T0 + 2, unit="Milliseconds")
        value(w, 2.0, T0 + 3, T0 + 3, unit="Seconds")
    assert by_start(only, T0 + 61) == {0: 3.0}
    assert by_start(any_unit, T0 + 61) == {0: 5.0}  # "Milliseconds" sorts first, as GetMetricStatistics orders


def test_percentiles_are_exact_from_the_streamed_values():
    w = AlarmWindow(period=60, periods=3, statistic="p90")
    values = [float(v) for v in range(1, 101)]
    w.add(T0 + 1, T0 + 1, "None", StatisticSet(100.0, sum(values), 1.0, 100.0), values, [1.0] * 100)
    assert by_start(w, T0 + 61) == {0: 90.0}
    assert by_start(w, T0 + 61)[0] == percentile([(v, 1.0) for v in values], 0.9)


def test_percentiles_are_withheld_when_part_of_a_period_came_as_a_bare_statistic_set():
    w = AlarmWindow(period=60, periods=3, statistic="p50")
    value(w, 4.0, T0 + 1, T0 + 1)
    w.add(T0 + 2, T0 + 2, "None", StatisticSet(3.0, 9.0, 1.0, 5.0), (), ())  # no raw values
    assert by_start(w, T0 + 61) == {}  # like GetMetricStatistics: no p50 for that period


def test_percentiles_are_withheld_with_a_negative_value():
    w = AlarmWindow(period=60, periods=3, statistic="p50")
    value(w, -1.0, T0 + 1, T0 + 1)
    value(w, 3.0, T0 + 2, T0 + 2)
    assert by_start(w, T0 + 61) == {}


def test_a_backfill_replaces_the_window_and_later_data_merges_into_basic_statistics():
    w = AlarmWindow(period=60, periods=5, statistic="Average")
    value(w, 1000.0, T0 + 1, T0 + 1)  # replaced by the backfill below
    w.backfill([Backfilled(int(T0), "None", StatisticSet(2.0, 10.0, 4.0, 6.0)),
                Backfilled(int(T0 + 60), "None", StatisticSet(1.0, 7.0, 7.0, 7.0))])
    assert by_start(w, T0 + 121) == {0: 5.0, 60: 7.0}
    value(w, 11.0, T0 + 70, T0 + 121)  # late datum for a backfilled period
    assert by_start(w, T0 + 121) == {0: 5.0, 60: 9.0}
    assert not w.stale


def test_a_backfilled_percentile_that_gets_more_values_asks_for_another_backfill():
    w = AlarmWindow(period=60, periods=3, statistic="p99")
    w.backfill([Backfilled(int(T0), "None", StatisticSet(2.0, 3.0, 1.0, 2.0), percentile=2.0)])
    assert by_start(w, T0 + 61) == {0: 2.0}
    assert not w.stale
    value(w, 50.0, T0 + 3, T0 + 61)
    assert w.stale


def test_prune_drops_periods_that_left_the_range():
    w = AlarmWindow(period=10, periods=3, statistic="Maximum")
    for k in range(10):
        value(w, float(k), T0 + 10 * k, T0 + 10 * k)
    w.prune(T0 + 100.5)  # closed 10:01:30; range 10:01:10 .. 10:01:30
    assert sorted(by_start(w, T0 + 100.5)) == [70, 80, 90]


def test_nan_free_values_only_reach_the_domain():
    w = AlarmWindow(period=60, periods=3, statistic="Average")
    w.add(T0 + 1, T0 + 1, "None", StatisticSet(0.0, 0.0, math.inf, -math.inf), (), ())
    assert by_start(w, T0 + 61) == {}  # Average of no samples is no datapoint
