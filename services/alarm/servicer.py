"""The alarm gRPC servicer: protobuf in, domain calls, store I/O, protobuf out.

Thin by design, like ``services.ingest.servicer``. Every RPC first verifies who the call acts for
(:class:`stackwatch.rpc.PrincipalVerifier`) and then works within that tenant: the store is asked
for the tenant's account only, ARNs carry the tenant's account number, page tokens are bound to
the tenant (:class:`stackwatch.tenancy.Tenant`). Validation is :class:`AlarmConfig` (and the
domain's :class:`AlarmDefinition` under it); state changes go through :class:`AlarmWriter`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, TypeAlias

import grpc
from google.protobuf import timestamp_pb2

from services.alarm.domain import (
    AlarmKind,
    AlarmState,
    configuration_item,
    initial_state,
    on_put,
    set_alarm_state,
)
from services.alarm.domain.model import from_epoch
from services.alarm.records import AlarmConfig
from services.alarm.scheduler import Scheduler
from services.alarm.store import StoredAlarm
from services.alarm.writer import AlarmWriter
from stackwatch import errors
from stackwatch.clock import Clock
from stackwatch.proto.alarm.v1 import alarm_pb2, alarm_pb2_grpc
from stackwatch.proto.metrics.v1 import metrics_pb2
from stackwatch.rpc import PrincipalVerifier, servicer_errors
from stackwatch.tenancy import Tenant

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"

_STATE_ENUM = {AlarmState.OK: alarm_pb2.STATE_VALUE_OK, AlarmState.ALARM: alarm_pb2.STATE_VALUE_ALARM,
               AlarmState.INSUFFICIENT_DATA: alarm_pb2.STATE_VALUE_INSUFFICIENT_DATA}
_ENUM_STATE = {v: k for k, v in _STATE_ENUM.items()}
_HISTORY_TYPES = ("ConfigurationUpdate", "StateUpdate", "Action", "AlarmContributorStateUpdate",
                  "AlarmContributorAction")
_ALARM_TYPES = ("CompositeAlarm", "MetricAlarm", "LogAlarm")
MAX_NAMES = 100


def _opt(message: Any, name: str) -> Any:
    return getattr(message, name) if message.HasField(name) else None


def config_from(alarm: alarm_pb2.MetricAlarm, tags: Sequence[alarm_pb2.Tag], now: float) -> AlarmConfig:
    """The configuration a PutMetricAlarm request gives (validated; AWS errors)."""
    return AlarmConfig(
        name=alarm.alarm_name, namespace=alarm.namespace, metric_name=alarm.metric_name,
        dimensions=tuple((d.name, d.value) for d in alarm.dimensions), period=alarm.period,
        evaluation_periods=alarm.evaluation_periods, threshold=alarm.threshold,
        comparison_operator=alarm.comparison_operator, statistic=_opt(alarm, "statistic"),
        extended_statistic=_opt(alarm, "extended_statistic"), datapoints_to_alarm=_opt(alarm, "datapoints_to_alarm"),
        treat_missing_data=_opt(alarm, "treat_missing_data"),
        evaluate_low_sample_count_percentile=_opt(alarm, "evaluate_low_sample_count_percentile"),
        unit=_opt(alarm, "unit"), description=_opt(alarm, "alarm_description"),
        actions_enabled=alarm.actions_enabled if alarm.HasField("actions_enabled") else True,
        ok_actions=tuple(alarm.ok_actions), alarm_actions=tuple(alarm.alarm_actions),
        insufficient_data_actions=tuple(alarm.insufficient_data_actions),
        tags=tuple((t.key, t.value) for t in tags), updated=now)


def _ts(seconds: float) -> timestamp_pb2.Timestamp:
    whole = int(seconds // 1)
    return timestamp_pb2.Timestamp(seconds=whole, nanos=int(round((seconds - whole) * 1e9)) % 1_000_000_000)


def alarm_message(stored: StoredAlarm, config: AlarmConfig) -> alarm_pb2.MetricAlarm:
    """A stored alarm as DescribeAlarms returns it."""
    out = alarm_pb2.MetricAlarm(
        alarm_name=config.name, alarm_arn=stored.arn, namespace=config.namespace, metric_name=config.metric_name,
        dimensions=[metrics_pb2.Dimension(name=n, value=v) for n, v in config.dimensions], period=config.period,
        evaluation_periods=config.evaluation_periods, threshold=config.threshold,
        comparison_operator=config.comparison_operator, actions_enabled=config.actions_enabled,
        ok_actions=config.ok_actions, alarm_actions=config.alarm_actions,
        insufficient_data_actions=config.insufficient_data_actions,
        alarm_configuration_updated_timestamp=_ts(config.updated))
    for field in ("statistic", "extended_statistic", "datapoints_to_alarm", "treat_missing_data",
                  "evaluate_low_sample_count_percentile", "unit"):
        value = getattr(config, field)
        if value is not None:
            setattr(out, field, value)
    if config.description is not None:
        out.alarm_description = config.description
    state = stored.state or initial_state(config.updated_at)
    out.state_value = _STATE_ENUM[state.value]
    out.state_reason = state.reason
    if state.reason_data is not None:
        out.state_reason_data = state.reason_data
    out.state_updated_timestamp.CopyFrom(_ts(state.updated.timestamp()))
    out.state_transitioned_timestamp.CopyFrom(_ts(state.transitioned.timestamp()))
    return out


def _page_size(max_records: int, default: int) -> int:
    if max_records == 0:
        return default
    if not 1 <= max_records <= 100:
        raise errors.InvalidParameterValue("MaxRecords must be between 1 and 100.")
    return max_records


def _types_include_metric(types: Sequence[str]) -> bool:
    for t in types:
        if t not in _ALARM_TYPES:
            raise errors.InvalidParameterValue(f"Invalid value {t!r} for AlarmTypes.")
    return not types or "MetricAlarm" in types


class AlarmServicer(alarm_pb2_grpc.AlarmServiceServicer):
    """CloudWatch's metric alarm API over gRPC."""

    def __init__(self, writer: AlarmWriter, scheduler: Scheduler, clock: Clock, principals: PrincipalVerifier,
                 region: str) -> None:
        self._writer = writer
        self._store = writer.store
        self._scheduler = scheduler
        self._clock = clock
        self._principals = principals
        self._region = region

    async def _tenant(self, context: Context, request: Any, method: str) -> Tenant:
        return Tenant.of(await self._principals.require(context, request, method))

    @servicer_errors
    async def PutMetricAlarm(self, request: alarm_pb2.PutMetricAlarmRequest,
                             context: Context) -> alarm_pb2.PutMetricAlarmResponse:
        """Create or replace the alarm; a replaced one keeps its state and its tags."""
        tenant = await self._tenant(context, request, "PutMetricAlarm")
        now = self._clock.now()
        config = config_from(request.alarm, request.tags, now)
        arn = tenant.arn("cloudwatch", self._region, f"alarm:{config.name}")
        account = tenant.account_id
        async with self._writer.lock:
            existing = await self._store.alarms(account, names=[config.name])
            if existing:
                config = dataclasses.replace(config, tags=AlarmConfig.from_json(existing[0].config).tags)
            await self._store.put_alarm(account, config.name, arn, config.namespace, config.metric_name,
                                        config.to_json(), now)
            moment = from_epoch(now)
            state = on_put(existing[0].state if existing else None, moment)
            if not existing or existing[0].state is None:
                await self._store.write_state(account, config.name, state, now)
            item = configuration_item(config.name, "Update" if existing else "Create",
                                      config.history_json(arn, str(state.value), moment), moment)
            await self._store.add_history(account, [(config.name, item)], now)
        self._scheduler.forget(account, config.name)
        return alarm_pb2.PutMetricAlarmResponse()

    @servicer_errors
    async def DescribeAlarms(self, request: alarm_pb2.DescribeAlarmsRequest,
                             context: Context) -> alarm_pb2.DescribeAlarmsResponse:
        """One page of the tenant's metric alarms matching every filter, by name."""
        tenant = await self._tenant(context, request, "DescribeAlarms")
        prefix = _opt(request, "alarm_name_prefix")
        if request.alarm_names and prefix is not None:
            raise errors.InvalidParameterCombination("AlarmNames and AlarmNamePrefix cannot be used together.")
        if len(request.alarm_names) > MAX_NAMES:
            raise errors.InvalidParameterValue(f"AlarmNames may name at most {MAX_NAMES} alarms.")
        size = _page_size(request.max_records, 50)
        after = None
        if request.HasField("next_token"):
            position = tenant.read_page_token(request.next_token)
            after = str(position[0]) if position else None
        response = alarm_pb2.DescribeAlarmsResponse()
        if not _types_include_metric(request.alarm_types):
            return response
        if request.HasField("children_of_alarm_name") or request.HasField("parents_of_alarm_name"):
            return response  # composite relations; no composite alarm exists yet
        found = await self._store.alarms(tenant.account_id, names=list(request.alarm_names) or None, prefix=prefix)
        wanted = _ENUM_STATE.get(request.state_value)
        action_prefix = _opt(request, "action_prefix")
        page: list[alarm_pb2.MetricAlarm] = []
        for stored in found:
            if after is not None and stored.name <= after:
                continue
            config = AlarmConfig.from_json(stored.config)
            message = alarm_message(stored, config)
            if wanted is not None and message.state_value != _STATE_ENUM[wanted]:
                continue
            if action_prefix is not None and not any(a.startswith(action_prefix) for a in config.all_actions()):
                continue
            if len(page) == size:
                response.next_token = tenant.page_token([page[-1].alarm_name])
                break
            page.append(message)
        response.metric_alarms.extend(page)
        return response

    @servicer_errors
    async def DescribeAlarmsForMetric(self, request: alarm_pb2.DescribeAlarmsForMetricRequest,
                                      context: Context) -> alarm_pb2.DescribeAlarmsForMetricResponse:
        """The tenant's single-metric alarms on exactly this metric (and statistic, period, unit if given)."""
        tenant = await self._tenant(context, request, "DescribeAlarmsForMetric")
        if not request.namespace or not request.metric_name:
            raise errors.MissingParameter("Namespace and MetricName are required.")
        dims = sorted((d.name, d.value) for d in request.dimensions)
        found = await self._store.alarms(tenant.account_id, namespace=request.namespace, metric=request.metric_name)
        response = alarm_pb2.DescribeAlarmsForMetricResponse()
        for stored in found:
            config = AlarmConfig.from_json(stored.config)
            if sorted(config.dimensions) != dims:
                continue
            if any(request.HasField(f) and getattr(request, f) != getattr(config, f)
                   for f in ("statistic", "extended_statistic", "period", "unit")):
                continue
            response.metric_alarms.append(alarm_message(stored, config))
        return response

    @servicer_errors
    async def DeleteAlarms(self, request: alarm_pb2.DeleteAlarmsRequest,
                           context: Context) -> alarm_pb2.DeleteAlarmsResponse:
        """Delete the named alarms the tenant has; other names are skipped."""
        tenant = await self._tenant(context, request, "DeleteAlarms")
        if len(request.alarm_names) > MAX_NAMES:
            raise errors.InvalidParameterValue(f"AlarmNames may name at most {MAX_NAMES} alarms.")
        account = tenant.account_id
        now = self._clock.now()
        moment = from_epoch(now)
        async with self._writer.lock:
            found = await self._store.alarms(account, names=list(set(request.alarm_names)))
            await self._store.delete_alarms(account, [a.name for a in found], now)
            items = []
            for stored in found:
                config = AlarmConfig.from_json(stored.config)
                state = stored.state.value if stored.state else AlarmState.INSUFFICIENT_DATA
                items.append((stored.name, configuration_item(
                    stored.name, "Delete", config.history_json(stored.arn, str(state), config.updated_at), moment)))
            await self._store.add_history(account, items, now)
        return alarm_pb2.DeleteAlarmsResponse()

    @servicer_errors
    async def SetAlarmState(self, request: alarm_pb2.SetAlarmStateRequest,
                            context: Context) -> alarm_pb2.SetAlarmStateResponse:
        """Set the state until the next evaluation; actions run if the value changes."""
        tenant = await self._tenant(context, request, "SetAlarmState")
        account = tenant.account_id
        now = self._clock.now()
        moment = from_epoch(now)
        async with self._writer.lock:
            found = await self._store.alarms(account, names=[request.alarm_name]) if request.alarm_name else []
            if not found:
                raise errors.ResourceNotFound(f"Alarm {request.alarm_name} not found")
            stored = found[0]
            config = AlarmConfig.from_json(stored.config)
            current = stored.state or initial_state(config.updated_at)
            outcome = set_alarm_state(AlarmKind.METRIC, current, request.state_value, request.state_reason,
                                      _opt(request, "state_reason_data"), moment)
            await self._writer.record(account, stored.arn, config, current, outcome, now)
        return alarm_pb2.SetAlarmStateResponse()

    @servicer_errors
    async def DescribeAlarmHistory(self, request: alarm_pb2.DescribeAlarmHistoryRequest,
                                   context: Context) -> alarm_pb2.DescribeAlarmHistoryResponse:
        """One page of the tenant's history items (they outlive the alarms)."""
        tenant = await self._tenant(context, request, "DescribeAlarmHistory")
        item_type = _opt(request, "history_item_type")
        if item_type is not None and item_type not in _HISTORY_TYPES:
            raise errors.InvalidParameterValue(f"Invalid value {item_type!r} for HistoryItemType.")
        scan_by = _opt(request, "scan_by") or "TimestampDescending"
        if scan_by not in ("TimestampDescending", "TimestampAscending"):
            raise errors.InvalidParameterValue(f"Invalid value {scan_by!r} for ScanBy.")
        size = _page_size(request.max_records, 100)
        after = None
        if request.HasField("next_token"):
            try:
                ts, seq = tenant.read_page_token(request.next_token)
                after = (int(ts), int(seq))
            except (ValueError, TypeError):
                raise errors.InvalidNextToken(
                    "The service couldn't process your request because the NextToken is invalid.") from None
        response = alarm_pb2.DescribeAlarmHistoryResponse()
        if not _types_include_metric(request.alarm_types):
            return response
        start = request.start_date.ToMilliseconds() if request.HasField("start_date") else None
        end = request.end_date.ToMilliseconds() if request.HasField("end_date") else None
        rows = await self._store.history(
            tenant.account_id, alarm_name=_opt(request, "alarm_name"), item_type=item_type, start_ms=start,
            end_ms=end, ascending=scan_by == "TimestampAscending", after=after, limit=size + 1)
        for row in rows[:size]:
            response.alarm_history_items.append(alarm_pb2.AlarmHistoryItem(
                alarm_name=row.alarm_name, alarm_type=row.alarm_type, timestamp=_ts(row.item.timestamp.timestamp()),
                history_item_type=row.item.item_type, history_summary=row.item.summary,
                history_data=row.item.data))
        if len(rows) > size:
            response.next_token = tenant.page_token(list(rows[size - 1].position))
        return response

    @servicer_errors
    async def EnableAlarmActions(self, request: alarm_pb2.EnableAlarmActionsRequest,
                                 context: Context) -> alarm_pb2.EnableAlarmActionsResponse:
        """Turn the named alarms' actions on (unknown names are skipped)."""
        tenant = await self._tenant(context, request, "EnableAlarmActions")
        await self._actions_enabled(tenant, request.alarm_names, True)
        return alarm_pb2.EnableAlarmActionsResponse()

    @servicer_errors
    async def DisableAlarmActions(self, request: alarm_pb2.DisableAlarmActionsRequest,
                                  context: Context) -> alarm_pb2.DisableAlarmActionsResponse:
        """Turn the named alarms' actions off (unknown names are skipped)."""
        tenant = await self._tenant(context, request, "DisableAlarmActions")
        await self._actions_enabled(tenant, request.alarm_names, False)
        return alarm_pb2.DisableAlarmActionsResponse()

    async def _actions_enabled(self, tenant: Tenant, names: Sequence[str], enabled: bool) -> None:
        """Only ``ActionsEnabled`` changes: state, tags and the configuration timestamp stay."""
        if len(names) > MAX_NAMES:
            raise errors.InvalidParameterValue(f"AlarmNames may name at most {MAX_NAMES} alarms.")
        now = self._clock.now()
        async with self._writer.lock:
            for stored in await self._store.alarms(tenant.account_id, names=list(set(names))):
                config = AlarmConfig.from_json(stored.config)
                if config.actions_enabled is not enabled:
                    config = dataclasses.replace(config, actions_enabled=enabled)
                    await self._store.put_alarm(tenant.account_id, config.name, stored.arn, config.namespace,
                                                config.metric_name, config.to_json(), now)
