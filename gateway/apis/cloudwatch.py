"""CloudWatch operations: AWS params -> proto request -> service call -> AWS result dict.

One small entry per supported operation and nothing else: parsing and serializing are the codecs'
job (``gateway.awsproto``), validation and semantics are the services'. Params arrive as the
codecs produce them (model member names, ``datetime`` timestamps); results are plain dicts the
codecs serialize for the request's protocol. Operations not in :data:`OPERATIONS` answer a
protocol-correct "not supported" error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from google.protobuf import timestamp_pb2

from gateway.calls import Call
from stackwatch.proto.metrics.v1 import metrics_pb2

Params = dict[str, Any]
Result = dict[str, Any]
Handler = Callable[[Call, Params], Awaitable[Result]]


def _ts(value: datetime) -> timestamp_pb2.Timestamp:
    t = value.timestamp()
    seconds = int(t // 1)
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=int(round((t - seconds) * 1e9)) % 1_000_000_000)


def _dims(items: list[dict[str, str]] | None) -> list[metrics_pb2.Dimension]:
    return [metrics_pb2.Dimension(name=d["Name"], value=d["Value"]) for d in items or ()]


def _datum(d: Params) -> metrics_pb2.MetricDatum:
    out = metrics_pb2.MetricDatum(
        metric_name=d["MetricName"],
        dimensions=_dims(d.get("Dimensions")),
        values=d.get("Values", ()),
        counts=d.get("Counts", ()),
    )
    if "Timestamp" in d:
        out.timestamp.CopyFrom(_ts(d["Timestamp"]))
    if "Value" in d:
        out.value = d["Value"]
    if "StatisticValues" in d:
        sv = d["StatisticValues"]
        out.statistic_values.CopyFrom(metrics_pb2.StatisticSet(
            sample_count=sv["SampleCount"], sum=sv["Sum"], minimum=sv["Minimum"], maximum=sv["Maximum"]))
    if "Unit" in d:
        out.unit = d["Unit"]
    if "StorageResolution" in d:
        out.storage_resolution = d["StorageResolution"]
    return out


async def put_metric_data(call: Call, p: Params) -> Result:
    """PutMetricData. Datums of ``EntityMetricData`` are stored like plain ones (entities are not kept)."""
    data = list(p.get("MetricData", ()))
    for entity in p.get("EntityMetricData", ()):
        data.extend(entity.get("MetricData", ()))
    request = metrics_pb2.PutMetricDataRequest(namespace=p["Namespace"], metric_data=[_datum(d) for d in data])
    await call.ingest("PutMetricData", request, idempotent=False)
    return {}


async def get_metric_statistics(call: Call, p: Params) -> Result:
    """GetMetricStatistics."""
    request = metrics_pb2.GetMetricStatisticsRequest(
        namespace=p["Namespace"], metric_name=p["MetricName"], dimensions=_dims(p.get("Dimensions")),
        start_time=_ts(p["StartTime"]), end_time=_ts(p["EndTime"]), period=p["Period"],
        statistics=p.get("Statistics", ()), extended_statistics=p.get("ExtendedStatistics", ()))
    if "Unit" in p:
        request.unit = p["Unit"]
    response: metrics_pb2.GetMetricStatisticsResponse = await call.ingest("GetMetricStatistics", request)
    datapoints = []
    for dp in response.datapoints:
        out: Result = {"Timestamp": dp.timestamp.seconds + dp.timestamp.nanos / 1e9, "Unit": dp.unit}
        for field, key in (("sample_count", "SampleCount"), ("average", "Average"), ("sum", "Sum"),
                           ("minimum", "Minimum"), ("maximum", "Maximum")):
            if dp.HasField(field):
                out[key] = getattr(dp, field)
        if dp.extended_statistics:
            out["ExtendedStatistics"] = dict(dp.extended_statistics)
        datapoints.append(out)
    return {"Label": response.label, "Datapoints": datapoints}


async def list_metrics(call: Call, p: Params) -> Result:
    """ListMetrics (own account only; linked accounts are not a StackWatch concept)."""
    request = metrics_pb2.ListMetricsRequest(
        dimensions=[metrics_pb2.DimensionFilter(name=f["Name"], **({"value": f["Value"]} if "Value" in f else {}))
                    for f in p.get("Dimensions", ())])
    for key, field in (("Namespace", "namespace"), ("MetricName", "metric_name"), ("NextToken", "next_token"),
                       ("RecentlyActive", "recently_active")):
        if key in p:
            setattr(request, field, p[key])
    response: metrics_pb2.ListMetricsResponse = await call.ingest("ListMetrics", request)
    result: Result = {"Metrics": [
        {"Namespace": m.namespace, "MetricName": m.metric_name,
         "Dimensions": [{"Name": d.name, "Value": d.value} for d in m.dimensions]}
        for m in response.metrics]}
    if response.HasField("next_token"):
        result["NextToken"] = response.next_token
    return result


OPERATIONS: dict[str, Handler] = {
    "PutMetricData": put_metric_data,
    "GetMetricStatistics": get_metric_statistics,
    "ListMetrics": list_metrics,
}
