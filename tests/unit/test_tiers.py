"""Retention tiers as pure functions: the schedule setting, the tier a query reads, expired partitions."""

from __future__ import annotations

import calendar
import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ingest.domain import CLOUDWATCH, RetentionSchedule, _tiers, expired, partition_end, read_tier
from services.ingest.domain._query import rounded_range
from stackwatch.config import IngestSettings

DAY = 86400
NOW = 1_800_000_000


def test_doctests() -> None:
    assert doctest.testmod(_tiers).failed == 0


def test_the_default_setting_is_cloudwatchs_schedule() -> None:
    assert RetentionSchedule.parse(IngestSettings().retention) == CLOUDWATCH == RetentionSchedule(
        high_resolution=3 * 3600, minute=15 * DAY, five_minute=63 * DAY, hour=455 * DAY)
    assert CLOUDWATCH.raw == 15 * DAY
    assert RetentionSchedule.parse(" 1m = 30d , 1h=2000d").raw == 30 * DAY


@pytest.mark.parametrize("text", ["1m", "2m=3d", "1m=3", "1m=0d", "1m=3w", "1m=1d,1m=2d", "5m=1d",
                                  "1h=10d", "1m=-1d"])
def test_a_bad_schedule_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="retention"):
        RetentionSchedule.parse(text)


def test_partition_ends_are_utc_day_and_month_ends() -> None:
    assert partition_end("20240229") == calendar.timegm((2024, 3, 1, 0, 0, 0))
    assert partition_end("202412") == calendar.timegm((2025, 1, 1, 0, 0, 0))
    assert partition_end("202402") == calendar.timegm((2024, 3, 1, 0, 0, 0))


def test_expired_is_exactly_the_partitions_ending_at_or_before_now_minus_retention() -> None:
    now = calendar.timegm((2024, 3, 20, 12, 0, 0))
    days = [f"202403{d:02d}" for d in range(1, 21)]
    assert expired(days, now, 15 * DAY) == [f"202403{d:02d}" for d in range(1, 5)]  # 03-05 ends 03-06 > 03-05 12:00
    assert expired(["202401", "202402", "202403"], now, 40 * DAY) == ["202401"]
    assert expired(days, now, 100 * DAY) == []


@given(start=st.integers(0, 10**6).map(lambda k: NOW - k * 60), hours=st.integers(1, 48),
       period=st.sampled_from([60, 120, 300, 600, 900, 3600, 7200, 86400]))
def test_the_tier_read_always_tiles_the_querys_buckets_or_is_raw(start: int, hours: int, period: int) -> None:
    first, last, empty = rounded_range(start, start + hours * 3600, period, NOW)
    tier = read_tier(first, last, period, NOW)
    if tier:
        assert period % tier == 0 and first % tier == 0
        assert last % tier == 0 or NOW - first > CLOUDWATCH.raw  # unaligned ends only where raw is gone
    else:
        assert NOW - first <= CLOUDWATCH.raw or not (period % 300 == 0 and first % 300 == 0)
    if not empty and NOW - first > 15 * DAY:  # CloudWatch's rounding makes old queries readable from a rollup
        assert tier > 0


def test_coarsest_tier_first() -> None:
    h = NOW - NOW % 3600
    assert read_tier(h, h + 7200, 3600, NOW) == 3600
    assert read_tier(h, h + 7200, 300, NOW) == 300
    assert read_tier(h, h + 7200, 60, NOW) == 0
    assert read_tier(h + 300, h + 7500, 3600, NOW) == 300
    assert read_tier(h, h + 7200 + 60, 3600, NOW) == 0  # end mid-hour, raw still holds it: raw is exact
    old = h - 100 * DAY
    assert read_tier(old, old + 7200 + 60, 3600, NOW) == 3600  # raw is gone: the hourly rows it is
