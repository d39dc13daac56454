"""The dashboard half of the alarm servicer: PutDashboard, GetDashboard, ListDashboards, DeleteDashboards.

:class:`Dashboards` does the work for a verified :class:`~stackwatch.tenancy.Tenant` and protobuf
in and out; :class:`~services.alarm.servicer.AlarmServicer` verifies the caller and hands each
dashboard RPC here, and hands TagResource, UntagResource and ListTagsForResource here when the ARN
is a dashboard's (:func:`is_dashboard_arn`). The body check is the pure
:func:`~services.alarm.domain.dashboard.check_body`; rows are :class:`DashboardStore`'s.

CloudWatch's rules, as kept here:

* Dashboards are global: the ARN is ``arn:aws:cloudwatch::<account>:dashboard/<name>`` whatever
  the service's region. An ARN with a region names no dashboard.
* PutDashboard replaces the body and keeps an existing dashboard's tags (``Tags`` apply to a new
  one only). A body with errors is not saved: ``InvalidParameterInput`` carries every message.
* DeleteDashboards is all or nothing: if any name is missing, ``ResourceNotFound`` and nothing goes.
* ListDashboards pages by name, :attr:`page_size` (CloudWatch's 1000) at a time, with a token
  bound to the tenant.

Writes of one process are serialised by a lock, so a delete's check and its write see the same
dashboards. Replicas of the alarm service do not share the lock: two racing writes of one name
resolve by version, the later winning, as two PutDashboard calls do on CloudWatch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from google.protobuf import timestamp_pb2

from services.alarm.dashboard_store import DashboardStore, StoredDashboard
from services.alarm.domain.dashboard import check_body, name_problem, prefix_problem
from services.alarm.records import check_tags
from stackwatch import errors
from stackwatch.clock import Clock
from stackwatch.domain.arn import Arn
from stackwatch.proto.alarm.v1 import alarm_pb2
from stackwatch.tenancy import Tenant

#: CloudWatch's ListDashboards page.
PAGE_SIZE = 1000
MAX_DELETE = 100
_RESOURCE = "dashboard/"


def is_dashboard_arn(text: str) -> bool:
    """Whether ``text`` looks like a dashboard ARN (its resource part starts with ``dashboard/``)."""
    parts = text.split(":", 5)
    return len(parts) == 6 and parts[5].startswith(_RESOURCE)


def _check_name(name: str) -> None:
    problem = name_problem(name)
    if problem is not None:
        raise errors.InvalidParameterValue(problem)


def _timestamp(ms: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=ms // 1000, nanos=(ms % 1000) * 1_000_000)


class Dashboards:
    """CloudWatch's dashboard operations for one tenant at a time.

    Args:
        store: the dashboards table.
        clock: the service's clock (LastModified, row versions).
        page_size: ListDashboards' page (CloudWatch's is 1000; tests may make it smaller).
    """

    def __init__(self, store: DashboardStore, clock: Clock, page_size: int = PAGE_SIZE) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.store = store
        self.page_size = page_size
        self._clock = clock
        self._lock = asyncio.Lock()

    @staticmethod
    def arn(tenant: Tenant, name: str) -> str:
        """The dashboard's ARN (no region: dashboards are global)."""
        return str(Arn("aws", "cloudwatch", "", tenant.account_number, _RESOURCE + name))

    async def put(self, tenant: Tenant, request: alarm_pb2.PutDashboardRequest) -> alarm_pb2.PutDashboardResponse:
        """Check and save a dashboard; warnings come back, errors refuse it (see the module docstring)."""
        name = request.dashboard_name
        _check_name(name)
        checked = check_body(request.dashboard_body)
        if checked.errors:
            raise errors.InvalidParameterInput(checked.summary(), {"dashboardValidationMessages": [
                {"DataPath": m.data_path, "Message": m.message} for m in checked.errors]})
        given = [(t.key, t.value) for t in request.tags]
        check_tags(given)
        now = self._clock.now()
        async with self._lock:
            existing = (await self.store.get(tenant.account_id, [name])).get(name)
            tags = existing.tags if existing is not None else tuple(given)
            await self.store.put(tenant.account_id, name, self.arn(tenant, name), request.dashboard_body,
                                 round(now * 1000), tags, now)
        return alarm_pb2.PutDashboardResponse(dashboard_validation_messages=[
            alarm_pb2.DashboardValidationMessage(data_path=m.data_path, message=m.message) for m in checked.warnings])

    async def get(self, tenant: Tenant, request: alarm_pb2.GetDashboardRequest) -> alarm_pb2.GetDashboardResponse:
        """One dashboard, its body verbatim.

        Raises:
            ResourceNotFound: the tenant has no dashboard of that name.
        """
        name = request.dashboard_name
        _check_name(name)
        found = (await self.store.get(tenant.account_id, [name])).get(name)
        if found is None:
            raise errors.ResourceNotFound(f"Dashboard {name} does not exist")
        return alarm_pb2.GetDashboardResponse(dashboard_arn=found.arn, dashboard_body=found.body,
                                              dashboard_name=found.name)

    async def page(self, tenant: Tenant,
                   request: alarm_pb2.ListDashboardsRequest) -> alarm_pb2.ListDashboardsResponse:
        """A page of the tenant's dashboards by name, with a token when more follow."""
        prefix = request.dashboard_name_prefix
        problem = prefix_problem(prefix)
        if problem is not None:
            raise errors.InvalidParameterValue(problem)
        after: str | None = None
        if request.HasField("next_token"):
            position = tenant.read_page_token(request.next_token)
            if len(position) != 1 or not isinstance(position[0], str):
                raise errors.InvalidNextToken("The service couldn't process your request because the NextToken "
                                              "is invalid.")
            after = position[0]
        rows = await self.store.entries(tenant.account_id, prefix=prefix, after=after, limit=self.page_size + 1)
        page = rows[:self.page_size]
        response = alarm_pb2.ListDashboardsResponse(dashboard_entries=[
            alarm_pb2.DashboardEntry(dashboard_name=e.name, dashboard_arn=e.arn,
                                     last_modified=_timestamp(e.modified_ms), size=e.size) for e in page])
        if len(rows) > self.page_size:
            response.next_token = tenant.page_token([page[-1].name])
        return response

    async def delete(self, tenant: Tenant,
                     request: alarm_pb2.DeleteDashboardsRequest) -> alarm_pb2.DeleteDashboardsResponse:
        """Delete every named dashboard, or none.

        Raises:
            InvalidParameterValue: no names, more than 100, or a malformed one.
            ResourceNotFound: a name the tenant has no dashboard of (then nothing is deleted).
        """
        names = list(dict.fromkeys(request.dashboard_names))
        if not names or len(names) > MAX_DELETE:
            raise errors.InvalidParameterValue(f"DashboardNames must name between 1 and {MAX_DELETE} dashboards.")
        for name in names:
            _check_name(name)
        async with self._lock:
            found = await self.store.get(tenant.account_id, names)
            missing = [n for n in names if n not in found]
            if missing:
                raise errors.ResourceNotFound(f"The specified dashboard does not exist. [{', '.join(missing)}]")
            await self.store.delete(tenant.account_id, names, self._clock.now())
        return alarm_pb2.DeleteDashboardsResponse()

    async def _by_arn(self, tenant: Tenant, arn: str) -> StoredDashboard:
        """The tenant's dashboard an ARN names (ResourceNotFoundException for any other, the same for all)."""
        parsed = tenant.own(arn, service="cloudwatch", not_found=errors.ResourceNotFoundException)
        name = parsed.resource[len(_RESOURCE):]
        found = None
        if not parsed.region and parsed.resource.startswith(_RESOURCE) and name_problem(name) is None:
            found = (await self.store.get(tenant.account_id, [name])).get(name)
        if found is None or found.arn != arn:
            raise errors.ResourceNotFoundException(f"The resource {arn} does not exist.")
        return found

    async def tag(self, tenant: Tenant, arn: str, given: Sequence[tuple[str, str]]) -> None:
        """Add tags to a dashboard; an existing key gets the new value; at most 50 in all."""
        check_tags(list(given))
        async with self._lock:
            found = await self._by_arn(tenant, arn)
            tags = dict(found.tags)
            tags.update(given)
            check_tags(list(tags.items()))
            await self._rewrite(tenant, found, tuple(tags.items()))

    async def untag(self, tenant: Tenant, arn: str, keys: Sequence[str]) -> None:
        """Remove the keys given from a dashboard's tags (absent keys are ignored)."""
        drop = set(keys)
        async with self._lock:
            found = await self._by_arn(tenant, arn)
            kept = tuple((k, v) for k, v in found.tags if k not in drop)
            if kept != found.tags:
                await self._rewrite(tenant, found, kept)

    async def tags(self, tenant: Tenant, arn: str) -> list[tuple[str, str]]:
        """A dashboard's tags, in the order they were added."""
        return list((await self._by_arn(tenant, arn)).tags)

    async def _rewrite(self, tenant: Tenant, found: StoredDashboard, tags: tuple[tuple[str, str], ...]) -> None:
        """The same dashboard with other tags (its body and LastModified unchanged)."""
        await self.store.put(tenant.account_id, found.name, found.arn, found.body, found.modified_ms, tags,
                             self._clock.now())
