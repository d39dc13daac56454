"""CloudWatch's dashboard operations: AWS params -> alarm proto -> AlarmService -> AWS result dict.

The same shape as :mod:`gateway.apis.alarms`: one small entry per operation, no validation or
semantics here (the alarm service checks names and bodies, pages and refuses). Tags of dashboards
need no entry of their own: TagResource, UntagResource and ListTagsForResource already go to the
alarm service, which tells a dashboard ARN from an alarm's. :data:`OPERATIONS` is merged into the
CloudWatch table by ``gateway.app``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from gateway.calls import Call
from stackwatch.proto.alarm.v1 import alarm_pb2

Params = dict[str, Any]
Result = dict[str, Any]
Handler = Callable[[Call, Params], Awaitable[Result]]


async def put_dashboard(call: Call, p: Params) -> Result:
    """PutDashboard; ``DashboardValidationMessages`` holds the warnings of a saved body (empty if none)."""
    request = alarm_pb2.PutDashboardRequest(
        dashboard_name=p["DashboardName"], dashboard_body=p["DashboardBody"],
        tags=[alarm_pb2.Tag(key=t["Key"], value=t.get("Value", "")) for t in p.get("Tags", ())])
    response: alarm_pb2.PutDashboardResponse = await call.alarm("PutDashboard", request, idempotent=False)
    return {"DashboardValidationMessages": [{"DataPath": m.data_path, "Message": m.message}
                                            for m in response.dashboard_validation_messages]}


async def get_dashboard(call: Call, p: Params) -> Result:
    """GetDashboard: the body exactly as it was put."""
    response: alarm_pb2.GetDashboardResponse = await call.alarm(
        "GetDashboard", alarm_pb2.GetDashboardRequest(dashboard_name=p["DashboardName"]))
    return {"DashboardArn": response.dashboard_arn, "DashboardBody": response.dashboard_body,
            "DashboardName": response.dashboard_name}


async def list_dashboards(call: Call, p: Params) -> Result:
    """ListDashboards (up to 1000 a page, NextToken when more follow)."""
    request = alarm_pb2.ListDashboardsRequest(dashboard_name_prefix=p.get("DashboardNamePrefix", ""))
    if "NextToken" in p:
        request.next_token = p["NextToken"]
    response: alarm_pb2.ListDashboardsResponse = await call.alarm("ListDashboards", request)
    result: Result = {"DashboardEntries": [
        {"DashboardName": e.dashboard_name, "DashboardArn": e.dashboard_arn,
         "LastModified": e.last_modified.seconds + e.last_modified.nanos / 1e9, "Size": e.size}
        for e in response.dashboard_entries]}
    if response.HasField("next_token"):
        result["NextToken"] = response.next_token
    return result


async def delete_dashboards(call: Call, p: Params) -> Result:
    """DeleteDashboards (all or none)."""
    await call.alarm("DeleteDashboards", alarm_pb2.DeleteDashboardsRequest(dashboard_names=p["DashboardNames"]),
                     idempotent=False)
    return {}


OPERATIONS: dict[str, Handler] = {
    "PutDashboard": put_dashboard,
    "GetDashboard": get_dashboard,
    "ListDashboards": list_dashboards,
    "DeleteDashboards": delete_dashboards,
}
