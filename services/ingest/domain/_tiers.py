"""Retention tiers: the schedule, which tier answers a query, and which partitions have expired.

CloudWatch keeps a metric in four tiers, each available for a time after the data's timestamp::

    tier     stored as                                  kept (default)   STACKWATCH_INGEST_RETENTION
    -------  -----------------------------------------  ---------------  ---------------------------
    1 s      raw rows (high-resolution datums)          3 hours          1s=3h
    1 min    raw rows                                   15 days          1m=15d
    5 min    rollup rows (``roll_5m``)                  63 days          5m=63d
    1 hour   rollup rows (``roll_1h``)                  455 days         1h=455d

The two finest tiers share the raw table, so raw rows are kept for the longer of the two (the
1-s tier's 3 hours is what the read rules enforce: a sub-minute period on data over 3 hours old
returns nothing). Every datum is rolled up into both rollup tables as it is written, so each
tier holds everything from its retention's start up to now.

**Reads** (:func:`read_tier`): a query is answered from the coarsest tier whose buckets tile its
own: the period, the (rounded) start and the end are multiples of the tier. Such a query gets
from the rollup exactly what raw would give for count, sum, minimum and maximum, and
percentiles within :data:`~services.ingest.store.PERCENTILE_ERROR`. A query whose end is not on
the tier's boundary is answered from raw while raw still holds its start; once raw has expired
it, the rollup answers, each tier bucket counting whole if it starts before the end (the data
exists at no finer grain any more, as in CloudWatch).

**Expiry** (:func:`expired`): each table is partitioned by time (raw and ``roll_5m`` by day,
``roll_1h`` by month), and a partition is dropped once its *newest* possible timestamp is older
than the tier's retention, so a datum is kept at least its retention and at most retention plus
one partition (a day, or a month for the hourly tier).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass

HOUR = 3600
DAY = 86400

#: The rollup tiers, coarsest first: period length in seconds.
ROLLUP_TIERS = (3600, 300)

_UNITS = {"s": 1, "m": 60, "h": HOUR, "d": DAY}
_TIER_NAMES = {"1s": "high_resolution", "1m": "minute", "5m": "five_minute", "1h": "hour"}
_DURATION = re.compile(r"([0-9]{1,7})([smhd])")


@dataclass(frozen=True, slots=True)
class RetentionSchedule:
    """How long each tier is kept, in seconds.

    Attributes:
        high_resolution: the 1-s tier (raw rows of high-resolution datums).
        minute: the 1-min tier (raw rows).
        five_minute: the 5-min rollup.
        hour: the 1-h rollup.
    """

    high_resolution: int = 3 * HOUR
    minute: int = 15 * DAY
    five_minute: int = 63 * DAY
    hour: int = 455 * DAY

    @property
    def raw(self) -> int:
        """How long raw rows are kept: the longer of the two raw tiers."""
        return max(self.high_resolution, self.minute)

    def rollup(self, tier: int) -> int:
        """How long the rollup of ``tier`` seconds (300 or 3600) is kept."""
        return {300: self.five_minute, 3600: self.hour}[tier]

    @classmethod
    def parse(cls, text: str) -> RetentionSchedule:
        """A schedule from ``"1s=3h,1m=15d,5m=63d,1h=455d"``; tiers left out keep CloudWatch's value.

        Durations are a whole number with ``s``, ``m``, ``h`` or ``d``. Each tier must be kept at
        least as long as the finer one before it (a coarser tier replaces it as it ages).

        Raises:
            ValueError: an unknown tier, a malformed or zero duration, a tier named twice, or a
                coarser tier kept shorter than a finer one.

        Examples:
            >>> RetentionSchedule.parse("1m=30d").minute // DAY
            30
            >>> RetentionSchedule.parse("")
            RetentionSchedule(high_resolution=10800, minute=1296000, five_minute=5443200, hour=39312000)
        """
        values: dict[str, int] = {}
        for item in filter(None, (p.strip() for p in text.split(","))):
            name, sep, duration = (s.strip() for s in item.partition("="))
            match = _DURATION.fullmatch(duration)
            if not sep or name not in _TIER_NAMES:
                raise ValueError(f"retention: {item!r} is not TIER=DURATION with TIER one of 1s, 1m, 5m, 1h")
            if match is None or int(match.group(1)) == 0:
                raise ValueError(f"retention: {duration!r} is not a positive duration like 90m, 36h or 15d")
            if _TIER_NAMES[name] in values:
                raise ValueError(f"retention: tier {name} is named twice")
            values[_TIER_NAMES[name]] = int(match.group(1)) * _UNITS[match.group(2)]
        schedule = cls(**values)
        order = (schedule.minute, schedule.five_minute, schedule.hour)
        if any(a > b for a, b in zip(order, order[1:], strict=False)):
            raise ValueError("retention: each of 1m, 5m, 1h must be kept at least as long as the tier before it")
        return schedule


#: CloudWatch's schedule (the default).
CLOUDWATCH = RetentionSchedule()


def read_tier(start: int, end: int, period: int, now: float, schedule: RetentionSchedule = CLOUDWATCH) -> int:
    """The tier a query of buckets ``[start + k*period, ...)`` up to ``end`` reads: 0 (raw), 300 or 3600.

    Args:
        start: first bucket start (already rounded), epoch seconds.
        end: exclusive end, epoch seconds.
        period: bucket length, seconds.
        now: the current time; raw's retention is measured from it.
        schedule: the retention schedule.

    Examples:
        >>> read_tier(7200, 7200 + 86400, 3600, 10**6)
        3600
        >>> read_tier(7200, 7200 + 86400, 60, 10**6)
        0
        >>> read_tier(600, 600 + 3000, 3600, 10**6)   # start on 5 minutes only
        300
    """
    for tier in ROLLUP_TIERS:
        if period % tier == 0 and start % tier == 0 and end % tier == 0:
            return tier
    if now - start <= schedule.raw:
        return 0
    for tier in ROLLUP_TIERS:
        if period % tier == 0 and start % tier == 0:
            return tier
    return 0


def partition_end(partition: str) -> int:
    """The exclusive end (epoch seconds, UTC) of a ``toYYYYMMDD`` or ``toYYYYMM`` partition.

    Examples:
        >>> partition_end("19700101"), partition_end("197001")
        (86400, 2678400)
    """
    year, month = int(partition[:4]), int(partition[4:6])
    if len(partition) == 8:
        return calendar.timegm((year, month, int(partition[6:8]), 0, 0, 0)) + DAY
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return calendar.timegm((year, month, 1, 0, 0, 0))


def expired(partitions: Iterable[str], now: float, retention: int) -> list[str]:
    """The partitions whose every timestamp is older than ``retention`` seconds at ``now``, sorted.

    Examples:
        >>> expired(["19700101", "19700102"], 2 * 86400 + 10, 86400)
        ['19700101']
    """
    return sorted(p for p in set(partitions) if partition_end(p) <= now - retention)
