"""Old data through the whole stack: answered from the rollups once raw has expired, as CloudWatch's tiers say.

PutMetricData takes nothing older than two weeks, so the old datums are written straight into the
store (the insert path ingest itself uses); then the raw partitions that held them are dropped, as
the retention job does, and boto3 asks for them in each wire protocol.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta

import pytest

from services.ingest.domain import percentiles
from services.ingest.store import PERCENTILE_ERROR, MetricStore
from stackwatch.store import AsyncEngine, open_engine
from tests.e2e.stack import TENANTS
from tests.integration.datums import value

HOURS = 3
VALUES = [float(1 + (i * 37) % 500) for i in range(60 * HOURS)]  # one a minute


def _load(stack, namespace: str, start: int) -> None:  # type: ignore[no-untyped-def]
    async def go() -> None:
        engine = AsyncEngine(open_engine(stack.store_url), threads=1)
        try:
            store = MetricStore(engine, stack.database)
            account = TENANTS["a"]["account_id"]
            await store.insert([(account, value(start + 60 * i + 7, v, ns=namespace, name="Old", unit="Count"))
                                for i, v in enumerate(VALUES)], now=start)
            day = datetime.fromtimestamp(start, UTC)
            for d in {day.strftime("%Y%m%d"), (day + timedelta(hours=HOURS)).strftime("%Y%m%d")}:
                await engine.execute(f"ALTER TABLE {stack.database}.raw DROP PARTITION {d}")  # raw has expired
            left = await engine.execute(f"SELECT count() FROM {stack.database}.raw WHERE ts >= toDateTime(%(s)s)"
                                        " AND ts < toDateTime(%(e)s)", {"s": start, "e": start + 3600 * HOURS})
            assert left == [(0,)]
        finally:
            engine.close()
    asyncio.run(go())


@pytest.fixture
def old_hour() -> datetime:
    """A whole hour about 100 days ago (the 1-hour tier only), its day no test writes through the API."""
    return (datetime.now(UTC) - timedelta(days=100)).replace(minute=0, second=0, microsecond=0)


def test_an_hourly_query_of_100_day_old_data_is_answered_from_the_rollup(cw, stack, namespace, old_hour):
    _load(stack, namespace, int(old_hour.timestamp()))
    out = cw.get_metric_statistics(
        Namespace=namespace, MetricName="Old", StartTime=old_hour, EndTime=old_hour + timedelta(hours=HOURS),
        Period=3600, Statistics=["SampleCount", "Sum", "Minimum", "Maximum"], ExtendedStatistics=["p50", "p99"])
    points = sorted(out["Datapoints"], key=lambda d: d["Timestamp"])
    assert [d["Timestamp"] for d in points] == [old_hour + timedelta(hours=h) for h in range(HOURS)]
    for h, dp in enumerate(points):
        hour = VALUES[60 * h:60 * (h + 1)]
        assert (dp["SampleCount"], dp["Sum"], dp["Minimum"], dp["Maximum"]) == (60.0, sum(hour), min(hour), max(hour))
        want = percentiles([(v, 1.0) for v in hour], [0.5, 0.99])
        got = [dp["ExtendedStatistics"]["p50"], dp["ExtendedStatistics"]["p99"]]
        assert all(abs(g - w) <= PERCENTILE_ERROR * w for g, w in zip(got, want, strict=True)), (got, want)
        assert dp["Unit"] == "Count"

    data = cw.get_metric_data(StartTime=old_hour, EndTime=old_hour + timedelta(hours=HOURS), MetricDataQueries=[
        {"Id": "s", "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": "Old"},
                                   "Period": 3600, "Stat": "Sum"}},
        {"Id": "d", "MetricStat": {"Metric": {"Namespace": namespace, "MetricName": "Old"},
                                   "Period": 3 * 3600, "Stat": "Average"}}])
    by_id = {r["Id"]: r for r in data["MetricDataResults"]}
    assert sorted(zip(by_id["s"]["Timestamps"], by_id["s"]["Values"], strict=True)) == [
        (old_hour + timedelta(hours=h), sum(VALUES[60 * h:60 * (h + 1)])) for h in range(HOURS)]
    assert by_id["d"]["Values"] == [pytest.approx(sum(VALUES) / len(VALUES), rel=1e-12)]
    assert not math.isnan(by_id["d"]["Values"][0])

    # the 5-minute tier is not kept that long: a finer period is no data, not an error
    fine = cw.get_metric_statistics(Namespace=namespace, MetricName="Old", StartTime=old_hour,
                                    EndTime=old_hour + timedelta(hours=1), Period=300, Statistics=["Sum"])
    assert fine["Datapoints"] == []
