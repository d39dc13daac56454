"""GetMetricWidgetImage: MetricWidget JSON -> GetMetricData on ingest -> a PNG drawn off the event loop.

The gateway draws the graph itself, so drawing scales out with gateway processes and the services
never see it::

    parse_widget(MetricWidget, now)        gateway.widgets: checked, defaults applied, times resolved
      -> GetMetricDataRequest              one query per row; rows stay queries even when hidden,
                                           since expressions may use them
      -> call.ingest("GetMetricData")      the same retried RPC, principal and tenant as GetMetricData;
                                           NextToken pages followed
      -> render_png in a thread            at most RENDERS at once; matplotlib never runs on the loop
      -> {"MetricWidgetImage": png}        or, for OutputFormat image/png, the PNG as the body

Errors: a MetricWidget that is not JSON or breaks a rule is ``InvalidParameterInput`` (every
problem listed with its dataPath); an ``OutputFormat`` other than ``png`` or ``image/png`` is
``ValidationError``; statistics, expressions and metric names are checked by ingest and come back
as GetMetricData's ``InvalidParameterValue``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from google.protobuf import timestamp_pb2

from gateway.awsproto import HttpResponse
from gateway.calls import Call
from gateway.widgets import Row, Series, Widget, parse_widget, render_png
from stackwatch import errors
from stackwatch.proto.metrics.v1 import metrics_pb2

Params = dict[str, Any]
Result = dict[str, Any]
Handler = Callable[[Call, Params], Awaitable[Result | HttpResponse]]

OUTPUT_FORMATS = ("png", "image/png")
#: Renders at once per gateway process (each is a few tens of ms of CPU under the GIL).
RENDERS = 2
#: GetMetricData pages followed at most (100,800 datapoints each).
MAX_PAGES = 20
_renders = asyncio.Semaphore(RENDERS)


def _ts(value: datetime) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=int(value.timestamp() // 1))


def _query(row: Row, widget: Widget) -> metrics_pb2.MetricDataQuery:
    q = metrics_pb2.MetricDataQuery(id=row.id, return_data=True)
    if row.label is not None:
        q.label = row.label
    if row.expression:
        q.expression = row.expression
        return q
    period = row.period
    if widget.whole_range and widget.view in ("bar", "pie", "singleValue"):
        period = widget.range_period
    q.metric_stat.CopyFrom(metrics_pb2.MetricStat(
        metric=metrics_pb2.Metric(namespace=row.namespace, metric_name=row.metric_name,
                                  dimensions=[metrics_pb2.Dimension(name=n, value=v) for n, v in row.dimensions]),
        period=period, stat=row.stat))
    return q


def data_request(widget: Widget) -> metrics_pb2.GetMetricDataRequest:
    """The GetMetricData request answering ``widget``: every row a query, oldest datapoints first."""
    return metrics_pb2.GetMetricDataRequest(
        metric_data_queries=[_query(r, widget) for r in widget.rows],
        start_time=_ts(widget.start), end_time=_ts(widget.end), scan_by="TimestampAscending")


async def fetch(call: Call, widget: Widget) -> list[Series]:
    """Each row's data through ingest's GetMetricData (the caller's own account only)."""
    request = data_request(widget)
    labels: dict[str, str] = {}
    points: dict[str, tuple[list[float], list[float]]] = {r.id: ([], []) for r in widget.rows}
    for _ in range(MAX_PAGES):
        response: metrics_pb2.GetMetricDataResponse = await call.ingest("GetMetricData", request)
        for r in response.metric_data_results:
            labels.setdefault(r.id, r.label)
            ts, vs = points.setdefault(r.id, ([], []))
            ts.extend(r.timestamps)
            vs.extend(r.values)
        if not response.HasField("next_token"):
            break
        request.next_token = response.next_token
    out = []
    for i, row in enumerate(widget.rows):
        ts, vs = points[row.id]
        ordered = sorted(zip(ts, vs, strict=True))
        out.append(Series(row=row, index=i, label=row.label or labels.get(row.id) or row.metric_name or row.id,
                          timestamps=[t for t, _ in ordered], values=[v for _, v in ordered]))
    return out


async def get_metric_widget_image(call: Call, p: Params) -> Result | HttpResponse:
    """GetMetricWidgetImage (see the module docstring)."""
    output = p.get("OutputFormat", "png")
    if output not in OUTPUT_FORMATS:
        raise errors.ValidationError(
            f"1 validation error detected: Value '{output[:100]}' at 'outputFormat' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(OUTPUT_FORMATS)}]")
    widget = parse_widget(p["MetricWidget"], datetime.now(UTC))
    series = await fetch(call, widget)
    async with _renders:
        png = await asyncio.to_thread(render_png, widget, series)
    if output == "image/png":
        return HttpResponse(status=200, headers={"Content-Type": "image/png"}, body=png)
    return {"MetricWidgetImage": png}


OPERATIONS: dict[str, Handler] = {
    "GetMetricWidgetImage": get_metric_widget_image,
}
