"""Alarm evaluation as timelines: a series in, the state (and CloudWatch's words) at each step out.

A series is written oldest to newest, one character a period: ``0`` a good value, ``X`` a
breaching one, ``-`` no datapoint. The AWS tables are from "Configuring how CloudWatch alarms
treat missing data" (current page and the 2018-2019 revisions of AlarmThatSendsEmail.md in
awsdocs/amazon-cloudwatch-user-guide, whose extra rows still hold under today's rules).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.alarm.domain.evaluate import Evaluation, evaluate, period_starts
from services.alarm.domain.model import (
    AlarmDefinition,
    AlarmState,
    ComparisonOperator,
    Datapoint,
    LowSampleCountPercentile,
    StateRecord,
    TreatMissingData,
)
from stackwatch import errors

OK, ALARM, INSUFFICIENT = AlarmState.OK, AlarmState.ALARM, AlarmState.INSUFFICIENT_DATA
KEEP = "keep"
T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def alarm(n: int = 3, m: int | None = None, *, period: int = 300, threshold: float = 3.0,
          op: ComparisonOperator = ComparisonOperator.GREATER_THAN,
          missing: TreatMissingData = TreatMissingData.MISSING, **kw: object) -> AlarmDefinition:
    kw.setdefault("statistic", "Average")
    return AlarmDefinition(name="cpu", period=period, evaluation_periods=n, datapoints_to_alarm=m,
                           threshold=threshold, comparison_operator=op, treat_missing_data=missing,
                           **kw)  # type: ignore[arg-type]


def state(value: AlarmState, reason: str = "before") -> StateRecord:
    return StateRecord(value, reason, None, T0, T0)


def series(pattern: str, a: AlarmDefinition, now: datetime) -> list[Datapoint]:
    """Datapoints for ``pattern`` (oldest first), ending at the newest closed period at ``now``."""
    starts = period_starts(a, now)[: len(pattern.split())]
    out = []
    for start, c in zip(reversed(starts), pattern.split(), strict=True):
        if c != "-":
            out.append(Datapoint(start, a.threshold + (1.0 if c == "X" else -1.0), 1.0))
    return out


def run(pattern: str, a: AlarmDefinition, previous: AlarmState = OK) -> Evaluation:
    now = T0 + timedelta(hours=1, seconds=10)
    return evaluate(a, series(pattern, a, now), now, state(previous))


# --- AWS's table: how M out of N and TreatMissingData decide the state ---------------------------

AWS_TABLE = [
    # (M, N), data points, to fill, MISSING, IGNORE, BREACHING, NOT BREACHING
    ((3, 3), "0 - X - X", 0, OK, OK, OK, OK),
    ((3, 3), "0 - - - -", 2, OK, OK, OK, OK),
    ((3, 3), "- - - - -", 3, INSUFFICIENT, KEEP, ALARM, OK),
    ((3, 3), "0 X X - X", 0, ALARM, ALARM, ALARM, ALARM),
    ((3, 3), "- - X - -", 2, ALARM, KEEP, ALARM, OK),
    ((3, 3), "- - - - X", 2, INSUFFICIENT, KEEP, ALARM, OK),  # 2018 revision
    ((3, 3), "X - - - -", 2, ALARM, KEEP, ALARM, OK),  # 2019 revision
    ((2, 3), "0 - X - X", 0, ALARM, ALARM, ALARM, ALARM),
    ((2, 3), "0 0 X 0 X", 0, ALARM, ALARM, ALARM, ALARM),
    ((2, 3), "0 - X - -", 1, OK, OK, ALARM, OK),
    ((2, 3), "- - - - 0", 2, OK, OK, ALARM, OK),
    ((2, 3), "- - - X -", 2, ALARM, KEEP, ALARM, OK),
    ((2, 3), "- - - - X", 2, INSUFFICIENT, KEEP, ALARM, OK),  # 2018 revision
]
TREATMENTS = [TreatMissingData.MISSING, TreatMissingData.IGNORE, TreatMissingData.BREACHING,
              TreatMissingData.NOT_BREACHING]


@pytest.mark.parametrize(("mn", "pattern", "fill", "missing", "ignore", "breaching", "not_breaching"),
                         AWS_TABLE, ids=[f"{m}of{n}: {p}" for (m, n), p, *_ in AWS_TABLE])
def test_aws_missing_data_table(mn, pattern, fill, missing, ignore, breaching, not_breaching):
    m, n = mn
    for treatment, expected in zip(TREATMENTS, (missing, ignore, breaching, not_breaching), strict=True):
        for previous in (OK, ALARM, INSUFFICIENT):
            got = run(pattern, alarm(n, m, missing=treatment), previous)
            want = previous if expected == KEEP else expected
            assert (got.state, got.kept) == (want, expected == KEEP), (treatment, previous, got.reason)
    # "to fill": how many missing periods a breaching alarm counts as breaching
    got = run(pattern, alarm(n, m, missing=TreatMissingData.BREACHING))
    entries = json.loads(got.reason_data or "{}")["evaluatedDatapoints"]
    assert sum("value" not in e for e in entries) == fill


# --- timelines --------------------------------------------------------------------------------


def timeline(a: AlarmDefinition, values: list[float | None]) -> list[AlarmState]:
    """Feed one value a period (None: nothing published) and evaluate as each period closes."""
    points: list[Datapoint] = []
    current = state(INSUFFICIENT, "Unchecked: Initial alarm creation")
    states = []
    for i, v in enumerate(values):
        start = T0 + timedelta(seconds=a.period * i)
        if v is not None:
            points.append(Datapoint(start, v, 1.0))
        now = start + timedelta(seconds=a.period, milliseconds=500)
        e = evaluate(a, points, now, current)
        current = StateRecord(e.state, e.reason, e.reason_data, now, now)
        states.append(e.state)
    return states


# Each step publishes one period ("0" good, "X" breaching, "-" nothing) and evaluates when it
# closes; the expected states are O(K), A(LARM), I(NSUFFICIENT_DATA).
TIMELINES = [
    ("3of3 missing: metric stops while breaching, re-evaluated until the points age out",
     3, 3, TreatMissingData.MISSING, "X X X - - - - -", "I I A A A A A I"),
    ("3of3 breaching: silence alarms once the good point leaves the range",
     3, 3, TreatMissingData.BREACHING, "0 - - - - - -", "O O O O O A A"),
    ("3of3 notBreaching: fills only when fewer than N are real, gaps skipped when N are",
     3, 3, TreatMissingData.NOT_BREACHING, "X X - X - - - 0", "O O O A A O O O"),
    ("3of3 ignore: silence keeps whatever state there was",
     3, 3, TreatMissingData.IGNORE, "X X X - - - - - 0", "I I A A A A A A O"),
    ("2of3 missing: two breaches in three, not necessarily consecutive",
     3, 2, TreatMissingData.MISSING, "0 X 0 X 0 0 X", "O O O A O O O"),
    ("1of1 missing: one period is the whole range",
     1, 1, TreatMissingData.MISSING, "X 0 - - - X", "A O O O I A"),
]


@pytest.mark.parametrize(("name", "n", "m", "treatment", "published", "expected"), TIMELINES,
                         ids=[t[0] for t in TIMELINES])
def test_timelines(name, n, m, treatment, published, expected):
    a = alarm(n, m, missing=treatment)
    values = [None if c == "-" else (a.threshold + 1.0 if c == "X" else a.threshold - 1.0) for c in published.split()]
    letters = {OK: "O", ALARM: "A", INSUFFICIENT: "I"}
    assert " ".join(letters[s] for s in timeline(a, values)) == expected


def test_three_of_three_alarms_on_the_third_breach_and_recovers_on_one_good_period():
    # AWS's figure: threshold 3, 3 of 3, periods 3-5 breach: ALARM at 5, OK at 6, a lone breach at 9 stays OK
    values = [1.0, 1.0, 4.0, 4.0, 4.0, 2.0, 1.0, 1.0, 4.0, 1.0]
    # periods 1-2: fewer than 3 real points, some good: OK under ``missing``
    assert timeline(alarm(3, 3), values) == [OK, OK, OK, OK, ALARM, OK, OK, OK, OK, OK]


def test_fresh_alarm_without_data_stays_insufficient():
    assert timeline(alarm(3), [None] * 4) == [INSUFFICIENT] * 4


def test_a_lone_breach_after_silence_waits_until_it_is_m_periods_old():
    # 3 of 3, missing: - - - - X is too early, - - - X - still too early, - - X - - alarms
    assert timeline(alarm(3), [None, None, None, None, 9.0, None, None]) == [
        INSUFFICIENT, INSUFFICIENT, INSUFFICIENT, INSUFFICIENT, INSUFFICIENT, INSUFFICIENT, ALARM]


def test_a_lone_breach_then_silence_goes_back_to_insufficient_when_it_leaves_the_range():
    states = timeline(alarm(1), [9.0, None, None, None, None, None])
    assert states == [ALARM, ALARM, ALARM, INSUFFICIENT, INSUFFICIENT, INSUFFICIENT]


def test_breaching_treatment_needs_the_good_point_to_leave_the_range():
    # AWS: "0 - - - -" stays OK; the next evaluation with data still missing goes to ALARM
    states = timeline(alarm(3, missing=TreatMissingData.BREACHING), [1.0, None, None, None, None, None])
    assert states == [OK, OK, OK, OK, OK, ALARM]


def test_ignore_keeps_alarm_through_silence():
    states = timeline(alarm(2, missing=TreatMissingData.IGNORE), [9.0, 9.0, None, None, None, None, None])
    assert states == [INSUFFICIENT, ALARM, ALARM, ALARM, ALARM, ALARM, ALARM]


def test_high_resolution_alarm_evaluates_ten_second_periods():
    a = alarm(2, period=10)
    assert timeline(a, [1.0, 9.0, 9.0, 1.0]) == [OK, OK, ALARM, OK]


def test_dynamodb_alarms_always_ignore_missing_data():
    a = alarm(1, missing=TreatMissingData.BREACHING, namespace="AWS/DynamoDB")
    got = run("- - -", a, OK)
    assert got.kept and got.state is OK


def test_window_ends_at_the_last_closed_period():
    a = alarm(1, period=60)
    now = datetime(2026, 12, 3, 10, 2, 0, tzinfo=UTC)  # the 10:02 period has just begun
    assert period_starts(a, now)[0] == datetime(2026, 12, 3, 10, 1, tzinfo=UTC)
    now = datetime(2026, 12, 3, 10, 1, 59, 999000, tzinfo=UTC)
    assert period_starts(a, now)[0] == datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    assert len(period_starts(a, now)) == 3


def test_datapoints_outside_the_range_or_off_grid_are_not_read():
    a = alarm(1, period=60, threshold=3.0)
    now = datetime(2026, 12, 3, 10, 2, 5, tzinfo=UTC)
    open_period = Datapoint(datetime(2026, 12, 3, 10, 2, tzinfo=UTC), 9.0)
    off_grid = Datapoint(datetime(2026, 12, 3, 10, 1, 30, tzinfo=UTC), 9.0)
    got = evaluate(a, [open_period, off_grid], now, state(OK))
    assert got.state is INSUFFICIENT


def test_two_datapoints_for_one_period_is_a_caller_bug():
    a = alarm(1, period=60)
    t = datetime(2026, 12, 3, 10, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="two datapoints"):
        evaluate(a, [Datapoint(t, 1.0), Datapoint(t, 2.0)], t + timedelta(minutes=1), state(OK))


# --- the words --------------------------------------------------------------------------------

NOW = datetime(2026, 12, 3, 10, 2, 0, 123456, tzinfo=UTC)
MINUTE = datetime(2026, 12, 3, 10, 1, tzinfo=UTC)


def test_long_form_reason_when_datapoints_to_alarm_is_set():
    a = alarm(1, 1, period=60, threshold=3.0)
    got = evaluate(a, [Datapoint(MINUTE, 5.0, 1.0)], NOW, state(OK))
    assert got.reason == ("Threshold Crossed: 1 out of the last 1 datapoints [5.0 (03/12/26 10:01:00)] was "
                          "greater than the threshold (3.0) (minimum 1 datapoint for OK -> ALARM transition).")
    assert got.reason_data == (
        '{"version":"1.0","queryDate":"2026-12-03T10:02:00.123+0000","startDate":"2026-12-03T10:01:00.000+0000",'
        '"statistic":"Average","period":60,"recentDatapoints":[5.0],"threshold":3.0,"evaluatedDatapoints":'
        '[{"timestamp":"2026-12-03T10:01:00.000+0000","sampleCount":1.0,"value":5.0}]}')


def test_short_form_reason_when_datapoints_to_alarm_is_omitted():
    a = alarm(1, period=60, threshold=1.0, op=ComparisonOperator.GREATER_THAN_OR_EQUAL, unit="Count",
              statistic="Minimum")
    got = evaluate(a, [Datapoint(MINUTE, 0.0, 1.0)], NOW, state(OK))
    assert got.state is OK
    assert got.reason == ("Threshold Crossed: 1 datapoint [0.0 (03/12/26 10:01:00)] was not greater than or "
                          "equal to the threshold (1.0).")
    assert json.loads(got.reason_data or "")["unit"] == "Count"
    assert list(json.loads(got.reason_data or "")) == [
        "version", "queryDate", "startDate", "unit", "statistic", "period", "recentDatapoints", "threshold",
        "evaluatedDatapoints"]


def test_m_of_n_reason_lists_the_side_that_decided_newest_first():
    a = alarm(3, 2, period=60, threshold=80.0, op=ComparisonOperator.GREATER_THAN_OR_EQUAL)
    start = MINUTE - timedelta(minutes=2)
    pts = [Datapoint(start + timedelta(minutes=i), v, 1.0) for i, v in enumerate([90.1, 10.0, 91.2])]
    got = evaluate(a, pts, NOW, state(OK))
    assert got.reason == (
        "Threshold Crossed: 2 out of the last 3 datapoints [91.2 (03/12/26 10:01:00), 90.1 (03/12/26 09:59:00)] "
        "were greater than or equal to the threshold (80.0) (minimum 2 datapoints for OK -> ALARM transition).")
    data = json.loads(got.reason_data or "")
    assert data["recentDatapoints"] == [90.1, 10.0, 91.2]
    assert [e["timestamp"][11:16] for e in data["evaluatedDatapoints"]] == ["10:01", "10:00", "09:59"]
    ok = evaluate(a, [Datapoint(p.timestamp, 1.0, 1.0) for p in pts], NOW, state(ALARM))
    assert ok.reason.endswith("were not greater than or equal to the threshold (80.0) "
                              "(minimum 2 datapoints for ALARM -> OK transition).")
    assert ok.reason.startswith("Threshold Crossed: 3 out of the last 3 datapoints [1.0 (03/12/26 10:01:00), ")


def test_missing_data_treated_as_breaching_says_so():
    a = alarm(1, period=60, missing=TreatMissingData.BREACHING)
    got = evaluate(a, [], NOW, state(OK))
    assert got.reason == ("Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint "
                          "was treated as [Breaching].")
    b = alarm(2, period=60, missing=TreatMissingData.NOT_BREACHING)
    assert evaluate(b, [], NOW, state(ALARM)).reason == (
        "Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated "
        "as [NonBreaching].")


def test_insufficient_data_reason():
    got = evaluate(alarm(1, period=60), [], NOW, state(OK))
    assert got.reason == "Insufficient Data: 1 datapoint was unknown."
    got = evaluate(alarm(5, period=60), [], NOW, state(OK))
    assert got.reason == "Insufficient Data: 5 datapoints were unknown."
    data = json.loads(got.reason_data or "")
    assert data["recentDatapoints"] == [] and "startDate" not in data
    assert [e["timestamp"][11:16] for e in data["evaluatedDatapoints"]] == [
        "10:01", "10:00", "09:59", "09:58", "09:57"]


def test_percentile_alarm_names_its_extended_statistic_and_math_alarm_no_statistic():
    a = alarm(1, period=60, statistic=None, extended_statistic="p99")
    assert json.loads(evaluate(a, [Datapoint(MINUTE, 5.0, 2000.0)], NOW, state(OK)).reason_data or "")[
        "extendedStatistic"] == "p99"
    b = alarm(1, period=60, statistic=None, metric_math=True)
    data = json.loads(evaluate(b, [Datapoint(MINUTE, 5.0)], NOW, state(OK)).reason_data or "")
    assert "statistic" not in data and "extendedStatistic" not in data
    assert "sampleCount" not in data["evaluatedDatapoints"][0]


# --- low sample counts (§2.5) -----------------------------------------------------------------


@pytest.mark.parametrize(("stat", "samples", "kept"), [
    ("p99", 999.0, True), ("p99", 1000.0, False), ("p50", 19.0, True), ("p50", 20.0, False),
    ("p10", 99.0, True), ("p10", 100.0, False), ("p100", 1e9, True), ("p0", 1e9, True),
])
def test_low_sample_count_percentile_ignore_keeps_state(stat, samples, kept):
    a = alarm(1, period=60, statistic=None, extended_statistic=stat,
              evaluate_low_sample_count_percentile=LowSampleCountPercentile.IGNORE)
    got = evaluate(a, [Datapoint(MINUTE, 9.0, samples)], NOW, state(OK))
    assert got.kept is kept
    assert got.state is (OK if kept else ALARM)


def test_low_sample_count_percentile_evaluate_evaluates_anyway():
    a = alarm(1, period=60, statistic=None, extended_statistic="p99")
    assert evaluate(a, [Datapoint(MINUTE, 9.0, 3.0)], NOW, state(OK)).state is ALARM


# --- definitions PutMetricAlarm would refuse ---------------------------------------------------


@pytest.mark.parametrize(("kw", "error"), [
    ({"period": 45}, errors.InvalidParameterValue),
    ({"period": 90}, errors.InvalidParameterValue),
    ({"n": 0}, errors.InvalidParameterValue),
    ({"n": 3, "m": 4}, errors.InvalidParameterValue),
    ({"n": 25, "period": 3540}, errors.InvalidParameterValue),  # over a day
    ({"statistic": "Median"}, errors.InvalidParameterValue),
    ({"statistic": None, "extended_statistic": "tm90"}, errors.InvalidParameterValue),
    ({"statistic": None, "extended_statistic": "p101"}, errors.InvalidParameterValue),
    ({"extended_statistic": "p99"}, errors.InvalidParameterCombination),
    ({"metric_math": True}, errors.InvalidParameterCombination),
    ({"statistic": None}, errors.MissingParameter),
    ({"threshold": float("nan")}, errors.InvalidParameterValue),
], ids=lambda v: str(v))
def test_invalid_definitions(kw, error):
    with pytest.raises(error):
        alarm(**kw)


def test_valid_edges():
    alarm(n=1440, period=60)  # one day of minutes
    alarm(n=168, period=3600)  # a week of hours
    alarm(period=30)


# --- properties -------------------------------------------------------------------------------

cells = st.lists(st.one_of(st.none(), st.floats(-10, 10, allow_nan=False)), min_size=0, max_size=12)
definitions = st.builds(
    lambda n, m_off, missing, given: alarm(n, (n - m_off if given else None) if n - m_off >= 1 else 1,
                                          period=60, missing=missing),
    st.integers(1, 5), st.integers(0, 4), st.sampled_from(TREATMENTS), st.booleans())


def _points(values: list[float | None], now: datetime, a: AlarmDefinition) -> list[Datapoint]:
    """``values`` newest first, from the newest closed period back, beyond the range if long."""
    newest = period_starts(a, now)[0]
    return [Datapoint(newest - timedelta(seconds=a.period * i), v, 1.0)
            for i, v in enumerate(values) if v is not None]


@given(definitions, cells, st.randoms(use_true_random=False))
def test_order_of_datapoints_does_not_matter(a, values, rnd):
    now = T0 + timedelta(seconds=30)
    pts = _points(values, now, a)
    shuffled = list(pts)
    rnd.shuffle(shuffled)
    assert evaluate(a, pts, now, state(OK)) == evaluate(a, shuffled, now, state(OK))


@given(definitions, cells, cells)
def test_only_the_evaluation_range_matters(a, inside, outside):
    now = T0 + timedelta(seconds=30)
    r = a.evaluation_range
    base = _points(inside[:r], now, a)
    extra = _points([None] * r + outside, now, a)  # older than the range
    future = [Datapoint(period_starts(a, now)[0] + timedelta(seconds=a.period * k), 9.0) for k in (1, 2)]
    assert evaluate(a, base, now, state(OK)) == evaluate(a, base + extra + future, now, state(OK))


@given(definitions, cells)
def test_alarm_never_comes_from_good_data_alone(a, values):
    now = T0 + timedelta(seconds=30)
    good = [None if v is None else a.threshold - 1.0 - abs(v) for v in values]
    got = evaluate(a, _points(good, now, a), now, state(OK))
    if a.treat_missing_data is not TreatMissingData.BREACHING:
        assert got.state is not ALARM


@given(definitions, cells)
def test_more_breaching_never_turns_alarm_into_ok(a, values):
    # replacing a good value by a breaching one cannot take an ALARM outcome back to OK
    now = T0 + timedelta(seconds=30)
    before = evaluate(a, _points(values, now, a), now, state(OK))
    worse = [None if v is None else max(v, a.threshold + 1.0) for v in values]
    after = evaluate(a, _points(worse, now, a), now, state(OK))
    if before.state is ALARM:
        assert after.state is ALARM


@given(definitions, cells)
def test_enough_real_datapoints_make_missing_data_treatment_irrelevant(a, values):
    now = T0 + timedelta(seconds=30)
    pts = _points(values[: a.evaluation_range], now, a)
    if len(pts) < a.n:
        return
    results = {evaluate(AlarmDefinition(**{**_fields(a), "treat_missing_data": t}), pts, now, state(OK)).state
               for t in TREATMENTS}
    assert len(results) == 1


def _fields(a: AlarmDefinition) -> dict[str, object]:
    return {f: getattr(a, f) for f in a.__dataclass_fields__}


@given(st.integers(1, 1440), st.sampled_from([ALARM, OK]), st.floats(-1e300, 1e300, allow_nan=False))
def test_reason_and_reason_data_fit_cloudwatch_limits(n, outcome, big):
    a = alarm(n, n, period=60, threshold=0.0)
    now = T0 + timedelta(seconds=30)
    value = abs(big) + 1e-300 if outcome is ALARM else -abs(big) - 1e-300
    pts = _points([value] * n, now, a)
    got = evaluate(a, pts, now, state(INSUFFICIENT))
    assert got.state is outcome
    assert len(got.reason) <= 1023 and len(got.reason_data or "") <= 4000
    data = json.loads(got.reason_data or "")
    assert len(data["recentDatapoints"]) == sum("value" in e for e in data["evaluatedDatapoints"])
    assert got.reason.endswith("transition).")


def test_long_reason_is_cut_with_an_ellipsis():
    a = alarm(100, 100, period=60, threshold=0.0)
    now = T0 + timedelta(seconds=30)
    got = evaluate(a, _points([123456.789] * 100, now, a), now, state(OK))
    assert ", ...] were greater than the threshold (0.0) (minimum 100 datapoints" in got.reason
    assert got.reason.startswith("Threshold Crossed: 100 out of the last 100 datapoints [123456.789 (03/12/26 09:59:00), ")


# --- golden cases: StateReason / StateReasonData as CloudWatch wrote them ------------------------
# Each is a real CloudWatch output quoted in a public alarm event or DescribeAlarms dump; the
# alarm settings are those the same payload shows.


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


GOLDEN = [
    pytest.param(  # EC2 StatusCheckFailed_System, DescribeAlarms, 2023
        dict(n=1, period=60, threshold=1.0, op=ComparisonOperator.GREATER_THAN_OR_EQUAL, statistic="Minimum",
             unit="Count"),
        [("2023-04-07T09:08:00", 0.0, 1.0)], "2023-04-07T09:09:15.917", OK,
        "Threshold Crossed: 1 datapoint [0.0 (07/04/23 09:08:00)] was not greater than or equal to the threshold (1.0).",
        '{"version":"1.0","queryDate":"2023-04-07T09:09:15.917+0000","startDate":"2023-04-07T09:08:00.000+0000",'
        '"unit":"Count","statistic":"Minimum","period":60,"recentDatapoints":[0.0],"threshold":1.0,'
        '"evaluatedDatapoints":[{"timestamp":"2023-04-07T09:08:00.000+0000","sampleCount":1.0,"value":0.0}]}',
        id="short form, OK, unit"),
    pytest.param(  # SQS dead-letter queue, DescribeAlarms, 2025: the 15:30 period was empty, so it reached back
        dict(n=1, period=60, threshold=0.0, statistic="Sum", missing=TreatMissingData.NOT_BREACHING),
        [("2025-05-15T15:29:00", 1.0, 1.0)], "2025-05-15T15:31:44.984", ALARM,
        "Threshold Crossed: 1 datapoint [1.0 (15/05/25 15:29:00)] was greater than the threshold (0.0).",
        '{"version":"1.0","queryDate":"2025-05-15T15:31:44.984+0000","startDate":"2025-05-15T15:29:00.000+0000",'
        '"statistic":"Sum","period":60,"recentDatapoints":[1.0],"threshold":0.0,'
        '"evaluatedDatapoints":[{"timestamp":"2025-05-15T15:29:00.000+0000","sampleCount":1.0,"value":1.0}]}',
        id="short form, ALARM, reaching back over an empty period"),
    pytest.param(  # CloudTrail metric filter alarm, EventBridge event, 2024
        dict(n=1, period=60, threshold=1.0, op=ComparisonOperator.GREATER_THAN_OR_EQUAL, statistic="Sum"),
        [], "2024-10-26T18:38:52.499", INSUFFICIENT,
        "Insufficient Data: 1 datapoint was unknown.",
        '{"version":"1.0","queryDate":"2024-10-26T18:38:52.499+0000","statistic":"Sum","period":60,'
        '"recentDatapoints":[],"threshold":1.0,"evaluatedDatapoints":[{"timestamp":"2024-10-26T18:37:00.000+0000"}]}',
        id="insufficient, one period"),
    pytest.param(  # Lambda alarm action example, AWS documentation, 2023
        dict(n=5, period=60, threshold=5.0, statistic="Average"),
        [], "2023-08-04T12:31:29.591", INSUFFICIENT,
        "Insufficient Data: 5 datapoints were unknown.",
        '{"version":"1.0","queryDate":"2023-08-04T12:31:29.591+0000","statistic":"Average","period":60,'
        '"recentDatapoints":[],"threshold":5.0,"evaluatedDatapoints":[{"timestamp":"2023-08-04T12:30:00.000+0000"},'
        '{"timestamp":"2023-08-04T12:29:00.000+0000"},{"timestamp":"2023-08-04T12:28:00.000+0000"},'
        '{"timestamp":"2023-08-04T12:27:00.000+0000"},{"timestamp":"2023-08-04T12:26:00.000+0000"}]}',
        id="insufficient, five periods"),
    pytest.param(  # EventBridge event, 2021: 2 of 2, the 16:05 period empty; AWS listed only 16:04 as evaluated
        dict(n=2, m=2, period=60, threshold=40.0, statistic="Average"),
        [("2021-04-13T16:03:00", 0.01575357001274824, 1.0), ("2021-04-13T16:04:00", 0.01758096118768056, 1.0)],
        "2021-04-13T16:06:38.066", OK,
        "Threshold Crossed: 2 out of the last 2 datapoints [0.01758096118768056 (13/04/21 16:04:00), "
        "0.01575357001274824 (13/04/21 16:03:00)] were not greater than the threshold (40.0) "
        "(minimum 1 datapoint for ALARM -> OK transition).",
        None, id="long form, OK, M of N"),
]


@pytest.mark.parametrize(("settings", "points", "now", "want", "reason", "data"), GOLDEN)
def test_golden_reasons(settings, points, now, want, reason, data):
    a = alarm(**settings)
    got = evaluate(a, [Datapoint(at(t), v, c) for t, v, c in points], at(now), state(OK))
    assert (got.state, got.reason) == (want, reason)
    if data is not None:
        assert got.reason_data == data
