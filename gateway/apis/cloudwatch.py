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

from botocore.model import OperationModel
from google.protobuf import timestamp_pb2

from gateway.apis import _put_fast
from gateway.awsproto import Detected, HttpRequest
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


_NAN = float("nan")
_STATISTIC_KEYS = ("SampleCount", "Sum", "Minimum", "Maximum")


def _columns(data: list[Params]) -> metrics_pb2.MetricDataColumns:
    """The datums as ``MetricDataColumns``: one pass, no message per datum (see the proto).

    Columns every datum leaves at its default (no StatisticValues anywhere, say) are not sent.
    """
    names: list[str] = []
    dim_counts: list[int] = []
    dim_names: list[str] = []
    dim_values: list[str] = []
    stamps: list[float] = []
    forms: list[int] = []
    values: list[float] = []
    stats: tuple[list[float], ...] = ([], [], [], [])
    list_counts: list[int] = []
    value_list: list[float] = []
    count_counts: list[int] = []
    count_list: list[float] = []
    units: list[str] = []
    resolutions: list[int] = []
    for d in data:
        names.append(d["MetricName"])
        dims = d.get("Dimensions") or ()
        dim_counts.append(len(dims))
        for x in dims:
            dim_names.append(x["Name"])
            dim_values.append(x["Value"])
        t = d.get("Timestamp")
        stamps.append(_NAN if t is None else t.timestamp())
        v = d.get("Value")
        form = 0 if v is None else 1
        values.append(0.0 if v is None else v)
        sv = d.get("StatisticValues")
        if sv is not None:
            form |= 2
        for column, key in zip(stats, _STATISTIC_KEYS, strict=True):
            column.append(0.0 if sv is None else sv[key])
        vs, cs = d.get("Values") or (), d.get("Counts") or ()
        if vs:
            form |= 4
        list_counts.append(len(vs))
        value_list.extend(vs)
        count_counts.append(len(cs))
        count_list.extend(cs)
        forms.append(form)
        units.append(d.get("Unit", ""))
        resolutions.append(d.get("StorageResolution", 0))
    columns: dict[str, list[Any]] = {
        "dimension_counts": dim_counts, "dimension_names": dim_names, "dimension_values": dim_values,
        "timestamps": stamps, "forms": forms, "values": values, "sample_counts": stats[0], "sums": stats[1],
        "minimums": stats[2], "maximums": stats[3], "value_list_counts": list_counts, "value_list": value_list,
        "count_list_counts": count_counts, "count_list": count_list, "units": units,
        "storage_resolutions": resolutions}
    if all(f == 1 for f in forms):
        del columns["forms"]
    if not any(f & 2 for f in forms):
        for key in ("sample_counts", "sums", "minimums", "maximums"):
            del columns[key]
    for sparse in ("dimension_counts", "value_list_counts", "count_list_counts", "storage_resolutions", "units"):
        if not any(columns[sparse]):
            del columns[sparse]
    return metrics_pb2.MetricDataColumns(metric_names=names, **columns)


async def put_metric_data(call: Call, p: Params) -> Result:
    """PutMetricData. Datums of ``EntityMetricData`` are stored like plain ones (entities are not kept).

    ``MetricData`` is already ``MetricDataColumns`` when the fast path (:mod:`._put_fast`, see
    :data:`PARSERS`) parsed the request.
    """
    request = metrics_pb2.PutMetricDataRequest(namespace=p["Namespace"])
    given = p.get("MetricData", ())
    if isinstance(given, metrics_pb2.MetricDataColumns):
        request.metric_columns.CopyFrom(given)
    else:
        data = list(given)
        for entity in p.get("EntityMetricData", ()):
            data.extend(entity.get("MetricData", ()))
        if data:
            request.metric_columns.CopyFrom(_columns(data))
    # not retried, and given time to finish: an error while the rows may still be written would
    # have the client's retry store them twice (see GatewaySettings.put_timeout)
    await call.ingest("PutMetricData", request, idempotent=False, timeout=call.backends.put_timeout)
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


def _data_query(q: Params) -> metrics_pb2.MetricDataQuery:
    out = metrics_pb2.MetricDataQuery(id=q["Id"])
    if "MetricStat" in q:
        ms, m = q["MetricStat"], q["MetricStat"].get("Metric", {})
        out.metric_stat.CopyFrom(metrics_pb2.MetricStat(
            metric=metrics_pb2.Metric(namespace=m.get("Namespace", ""), metric_name=m.get("MetricName", ""),
                                      dimensions=_dims(m.get("Dimensions"))),
            period=ms.get("Period", 0), stat=ms.get("Stat", ""), **({"unit": ms["Unit"]} if "Unit" in ms else {})))
    for key, field in (("Expression", "expression"), ("Label", "label"), ("ReturnData", "return_data"),
                       ("Period", "period"), ("AccountId", "account_id")):
        if key in q:
            setattr(out, field, q[key])
    return out


async def get_metric_data(call: Call, p: Params) -> Result:
    """GetMetricData. ``Messages`` are always present (empty lists), as CloudWatch returns them."""
    request = metrics_pb2.GetMetricDataRequest(
        metric_data_queries=[_data_query(q) for q in p.get("MetricDataQueries", ())],
        start_time=_ts(p["StartTime"]), end_time=_ts(p["EndTime"]))
    for key, field in (("NextToken", "next_token"), ("ScanBy", "scan_by"), ("MaxDatapoints", "max_datapoints")):
        if key in p:
            setattr(request, field, p[key])
    if "Timezone" in p.get("LabelOptions", {}):
        request.label_options.timezone = p["LabelOptions"]["Timezone"]
    response: metrics_pb2.GetMetricDataResponse = await call.ingest("GetMetricData", request)
    result: Result = {
        "MetricDataResults": [
            {"Id": r.id, "Label": r.label, "Timestamps": list(r.timestamps), "Values": list(r.values),
             "StatusCode": r.status_code, "Messages": [{"Code": m.code, "Value": m.value} for m in r.messages]}
            for r in response.metric_data_results],
        "Messages": [{"Code": m.code, "Value": m.value} for m in response.messages]}
    if response.HasField("next_token"):
        result["NextToken"] = response.next_token
    return result



#: Operations parsed by something faster than ``awsproto.parse_request`` (same signature, same
#: errors): PutMetricData's datums go straight from the decoded body to columns.
PARSERS: dict[str, Callable[[Detected, HttpRequest], tuple[OperationModel, Params]]] = {
    "PutMetricData": _put_fast.parse_request,
}

OPERATIONS: dict[str, Handler] = {
    "PutMetricData": put_metric_data,
    "GetMetricStatistics": get_metric_statistics,
    "ListMetrics": list_metrics,
    "GetMetricData": get_metric_data,
}
