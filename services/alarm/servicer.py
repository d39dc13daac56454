"""The alarm gRPC servicer: protobuf in, domain calls, store I/O, protobuf out.

Metric alarms (one metric, or metric math) and composite alarms share one name space per account
and one table; DescribeAlarms pages over both by name. Composite evaluation and actions
suppression are :mod:`services.alarm.composites`; tags are part of the stored configuration.
Dashboards are :mod:`services.alarm.dashboards`: their RPCs, and the tag RPCs given a dashboard
ARN, are handed there once the caller is verified.

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

from services.alarm.composites import Composites
from services.alarm.dashboard_store import DashboardStore
from services.alarm.dashboards import Dashboards, is_dashboard_arn
from services.alarm.domain import (
    AlarmKind,
    AlarmState,
    configuration_item,
    initial_state,
    on_put,
    set_alarm_state,
)
from services.alarm.domain.model import from_epoch
from services.alarm.records import AlarmConfig, AnyConfig, CompositeConfig, MathQuery, check_tags, kind_of, load_config
from services.alarm.scheduler import Scheduler
from services.alarm.store import COMPOSITE, METRIC, StoredAlarm
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


#: PutMetricAlarm parameters a metric math alarm must not have, by the MetricAlarm field that holds them.
_SINGLE_METRIC = (("namespace", "Namespace"), ("metric_name", "MetricName"), ("dimensions", "Dimensions"),
                  ("period", "Period"), ("unit", "Unit"), ("statistic", "Statistic"),
                  ("extended_statistic", "ExtendedStatistic"))


def math_query(q: metrics_pb2.MetricDataQuery) -> MathQuery:
    """A MetricDataQuery of ``Metrics`` as the configuration keeps it."""
    stat = q.metric_stat if q.HasField("metric_stat") else None
    if stat is not None and q.HasField("expression"):
        raise errors.ValidationError(f"Metric {q.id} must specify either Expression or MetricStat, not both.")
    if stat is None and not q.HasField("expression"):
        raise errors.ValidationError(f"Metric {q.id} must specify either Expression or MetricStat.")
    return MathQuery(
        id=q.id, expression=_opt(q, "expression"),
        namespace=stat.metric.namespace if stat else "", metric_name=stat.metric.metric_name if stat else None,
        dimensions=tuple((d.name, d.value) for d in stat.metric.dimensions) if stat else (),
        period=(stat.period or None) if stat else _opt(q, "period"), stat=stat.stat if stat else "",
        unit=_opt(stat, "unit") if stat else None, label=_opt(q, "label"), return_data=_opt(q, "return_data"),
        account_id=_opt(q, "account_id"))


def config_from(alarm: alarm_pb2.MetricAlarm, tags: Sequence[alarm_pb2.Tag], now: float) -> AlarmConfig:
    """The configuration a PutMetricAlarm request gives (validated; AWS errors).

    Raises:
        ValidationError: ``Metrics`` with a single-metric parameter, or neither a metric name nor
            ``Metrics`` (CloudWatch's words), or anything :class:`AlarmConfig` refuses.
    """
    if alarm.metrics:
        for field, parameter in _SINGLE_METRIC:
            value = getattr(alarm, field)
            if (alarm.HasField(field) if field in ("statistic", "extended_statistic", "unit") else bool(value)):
                raise errors.ValidationError(f"{parameter} should not be set if list of Metrics is set.")
        metrics = tuple(math_query(q) for q in alarm.metrics)
    elif not alarm.metric_name:
        raise errors.ValidationError("MetricName must not be null")
    else:
        metrics = ()
    return AlarmConfig(metrics=metrics,
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
        alarm_name=config.name, alarm_arn=stored.arn, evaluation_periods=config.evaluation_periods,
        threshold=config.threshold,
        comparison_operator=config.comparison_operator, actions_enabled=config.actions_enabled,
        ok_actions=config.ok_actions, alarm_actions=config.alarm_actions,
        insufficient_data_actions=config.insufficient_data_actions,
        alarm_configuration_updated_timestamp=_ts(config.updated))
    if config.metrics:
        out.metrics.extend(query_message(q) for q in config.metrics)
    else:
        out.namespace, out.metric_name, out.period = config.namespace, config.metric_name, config.period
        out.dimensions.extend(metrics_pb2.Dimension(name=n, value=v) for n, v in config.dimensions)
    for field in ("statistic", "extended_statistic", "datapoints_to_alarm", "treat_missing_data",
                  "evaluate_low_sample_count_percentile", "unit"):
        value = getattr(config, field)
        if value is not None:
            setattr(out, field, value)
    if config.description is not None:
        out.alarm_description = config.description
    _set_state(out, stored, config)
    return out


def query_message(q: MathQuery) -> metrics_pb2.MetricDataQuery:
    """A ``Metrics`` entry as DescribeAlarms returns it (as it was given)."""
    out = metrics_pb2.MetricDataQuery(id=q.id)
    if q.expression is not None:
        out.expression = q.expression
        if q.period is not None:
            out.period = q.period
    else:
        out.metric_stat.CopyFrom(metrics_pb2.MetricStat(
            metric=metrics_pb2.Metric(namespace=q.namespace, metric_name=q.metric_name or "",
                                      dimensions=[metrics_pb2.Dimension(name=n, value=v) for n, v in q.dimensions]),
            period=q.period or 0, stat=q.stat))
        if q.unit is not None:
            out.metric_stat.unit = q.unit
    for field in ("label", "return_data", "account_id"):
        if getattr(q, field) is not None:
            setattr(out, field, getattr(q, field))
    return out


def _set_state(out: Any, stored: StoredAlarm, config: AnyConfig) -> None:
    state = stored.state or initial_state(config.updated_at)
    out.state_value = _STATE_ENUM[state.value]
    out.state_reason = state.reason
    if state.reason_data is not None:
        out.state_reason_data = state.reason_data
    out.state_updated_timestamp.CopyFrom(_ts(state.updated.timestamp()))
    out.state_transitioned_timestamp.CopyFrom(_ts(state.transitioned.timestamp()))


def composite_message(stored: StoredAlarm, config: CompositeConfig,
                      suppressed: tuple[str, str] | None) -> alarm_pb2.CompositeAlarm:
    """A stored composite alarm as DescribeAlarms returns it."""
    out = alarm_pb2.CompositeAlarm(
        alarm_name=config.name, alarm_arn=stored.arn, alarm_rule=config.alarm_rule,
        actions_enabled=config.actions_enabled, ok_actions=config.ok_actions, alarm_actions=config.alarm_actions,
        insufficient_data_actions=config.insufficient_data_actions,
        alarm_configuration_updated_timestamp=_ts(config.updated))
    for field, value in (("alarm_description", config.description), ("actions_suppressor", config.actions_suppressor),
                         ("actions_suppressor_wait_period", config.actions_suppressor_wait_period),
                         ("actions_suppressor_extension_period", config.actions_suppressor_extension_period)):
        if value is not None:
            setattr(out, field, value)
    if suppressed is not None:
        out.actions_suppressed_by, out.actions_suppressed_reason = suppressed
    _set_state(out, stored, config)
    return out


def _partial(stored: StoredAlarm, with_state: bool) -> alarm_pb2.MetricAlarm | alarm_pb2.CompositeAlarm:
    """The few fields ChildrenOfAlarmName (with the state) and ParentsOfAlarmName return."""
    out: alarm_pb2.MetricAlarm | alarm_pb2.CompositeAlarm = (
        alarm_pb2.CompositeAlarm() if stored.kind == COMPOSITE else alarm_pb2.MetricAlarm())
    out.alarm_name, out.alarm_arn, out.partial = stored.name, stored.arn, True
    if with_state and stored.state is not None:
        out.state_value = _STATE_ENUM[stored.state.value]
        out.state_updated_timestamp.CopyFrom(_ts(stored.state.updated.timestamp()))
    return out


def _page_size(max_records: int, default: int) -> int:
    if max_records == 0:
        return default
    if not 1 <= max_records <= 100:
        raise errors.InvalidParameterValue("MaxRecords must be between 1 and 100.")
    return max_records


def _kinds(types: Sequence[str]) -> list[str]:
    """The kinds AlarmTypes asks for: MetricAlarm when omitted (LogAlarm: none exist here)."""
    for t in types:
        if t not in _ALARM_TYPES:
            raise errors.InvalidParameterValue(f"Invalid value {t!r} for AlarmTypes.")
    return [METRIC] if not types else [t for t in (METRIC, COMPOSITE) if t in types]


def _names(count: int) -> None:
    if count > MAX_NAMES:
        raise errors.InvalidParameterValue(f"AlarmNames may name at most {MAX_NAMES} alarms.")


def _rule_refs(rule: Any) -> list[str]:
    """Every alarm reference of a parsed rule, as written (names or ARNs)."""
    if hasattr(rule, "ref"):
        return [rule.ref]
    if hasattr(rule, "operand"):
        return _rule_refs(rule.operand)
    if hasattr(rule, "operands"):
        return [r for op in rule.operands for r in _rule_refs(op)]
    return []


class AlarmServicer(alarm_pb2_grpc.AlarmServiceServicer):
    """CloudWatch's alarm API over gRPC."""

    def __init__(self, writer: AlarmWriter, scheduler: Scheduler, clock: Clock, principals: PrincipalVerifier,
                 region: str, composites: Composites | None = None, dashboards: Dashboards | None = None) -> None:
        self._writer = writer
        self._store = writer.store
        self._scheduler = scheduler
        self._clock = clock
        self._principals = principals
        self._region = region
        self._composites = composites or Composites(writer, clock)
        self._dashboards = dashboards or Dashboards(DashboardStore(writer.store.engine, writer.store.database), clock)

    async def _tenant(self, context: Context, request: Any, method: str) -> Tenant:
        return Tenant.of(await self._principals.require(context, request, method))

    def _arn(self, tenant: Tenant, name: str) -> str:
        return tenant.arn("cloudwatch", self._region, f"alarm:{name}")

    async def _put(self, tenant: Tenant, config: AnyConfig, namespace: str, metric: str, now: float) -> bool:
        """Write a definition (keeping the tags and state of an existing alarm); True if it existed."""
        account, arn = tenant.account_id, self._arn(tenant, config.name)
        kind = kind_of(config)
        existing = await self._store.alarms(account, names=[config.name])
        if existing and existing[0].kind != kind:
            raise errors.InvalidParameterValue(
                f"The alarm {config.name} already exists as a {existing[0].kind}; delete it first.")
        if existing:
            config = dataclasses.replace(config, tags=load_config(existing[0].config).tags)
        await self._store.put_alarm(account, config.name, arn, namespace, metric, config.to_json(), now, kind)
        moment = from_epoch(now)
        state = on_put(existing[0].state if existing else None, moment)
        if not existing or existing[0].state is None:
            await self._store.write_state(account, config.name, state, now)
        item = configuration_item(config.name, "Update" if existing else "Create",
                                  config.history_json(arn, str(state.value), moment), moment)
        await self._store.add_history(account, [(config.name, item)], now, kind)
        return bool(existing)

    @servicer_errors
    async def PutMetricAlarm(self, request: alarm_pb2.PutMetricAlarmRequest,
                             context: Context) -> alarm_pb2.PutMetricAlarmResponse:
        """Create or replace the alarm; a replaced one keeps its state and its tags."""
        tenant = await self._tenant(context, request, "PutMetricAlarm")
        now = self._clock.now()
        config = config_from(request.alarm, request.tags, now)
        async with self._writer.lock:
            await self._put(tenant, config, config.namespace, config.metric_name, now)
        self._scheduler.forget(tenant.account_id, config.name)
        return alarm_pb2.PutMetricAlarmResponse()

    @servicer_errors
    async def PutCompositeAlarm(self, request: alarm_pb2.PutCompositeAlarmRequest,
                                context: Context) -> alarm_pb2.PutCompositeAlarmResponse:
        """Create or replace a composite alarm, then evaluate it (a cycle is accepted, not evaluated)."""
        tenant = await self._tenant(context, request, "PutCompositeAlarm")
        now = self._clock.now()
        a = request.alarm
        config = CompositeConfig(
            name=a.alarm_name, alarm_rule=a.alarm_rule, description=_opt(a, "alarm_description"),
            actions_enabled=a.actions_enabled if a.HasField("actions_enabled") else True,
            ok_actions=tuple(a.ok_actions), alarm_actions=tuple(a.alarm_actions),
            insufficient_data_actions=tuple(a.insufficient_data_actions),
            actions_suppressor=_opt(a, "actions_suppressor"),
            actions_suppressor_wait_period=_opt(a, "actions_suppressor_wait_period"),
            actions_suppressor_extension_period=_opt(a, "actions_suppressor_extension_period"),
            tags=tuple((t.key, t.value) for t in request.tags), updated=now)
        account = tenant.account_id
        async with self._writer.lock:
            await self._check_composite(tenant, config)
            await self._put(tenant, config, "", "", now)
            await self._composites.evaluate(account, config.name, now)
        return alarm_pb2.PutCompositeAlarmResponse()

    async def _check_composite(self, tenant: Tenant, config: CompositeConfig) -> None:
        """Children (and the suppressor) must be the tenant's existing alarms; at most 150 parents each."""
        account = tenant.account_id
        found = {s.name: s for s in await self._store.alarms(account, names=sorted(config.children))}
        missing = []
        for ref in dict.fromkeys(_rule_refs(config.rule)):
            name = ref.split(":alarm:", 1)[-1] if ref.startswith("arn:") else ref
            foreign = ref.startswith("arn:") and ref != self._arn(tenant, name)
            if (name not in found and name != config.name) or foreign:
                missing.append(ref)
        if missing:
            raise errors.ValidationError(
                f"Could not save the composite alarm as alarms [{', '.join(missing)}] in the alarm rule do not exist")
        if config.actions_suppressor is not None:
            ref = config.actions_suppressor
            name = config.suppressor_name or ""
            exists = bool(await self._store.alarms(account, names=[name]))
            if not exists or (ref.startswith("arn:") and ref != self._arn(tenant, name)):
                raise errors.ValidationError(
                    f"Could not save the composite alarm as the actions suppressor {ref} does not exist")
        parents: dict[str, int] = {}
        for stored in await self._store.alarms(account, kinds=[COMPOSITE]):
            other = load_config(stored.config)
            if isinstance(other, CompositeConfig) and stored.name != config.name:
                for child in other.children:
                    parents[child] = parents.get(child, 0) + 1
        for child in config.children:
            if parents.get(child, 0) >= 150:
                raise errors.LimitExceeded(f"The alarm {child} is already a child of 150 composite alarms.")

    @servicer_errors
    async def DescribeAlarms(self, request: alarm_pb2.DescribeAlarmsRequest,
                             context: Context) -> alarm_pb2.DescribeAlarmsResponse:
        """One page of the tenant's alarms matching every filter, by name, metric and composite together."""
        tenant = await self._tenant(context, request, "DescribeAlarms")
        prefix = _opt(request, "alarm_name_prefix")
        if request.alarm_names and prefix is not None:
            raise errors.InvalidParameterCombination("AlarmNames and AlarmNamePrefix cannot be used together.")
        _names(len(request.alarm_names))
        size = _page_size(request.max_records, 50)
        after = None
        if request.HasField("next_token"):
            position = tenant.read_page_token(request.next_token)
            if len(position) != 1 or not isinstance(position[0], str):
                raise errors.InvalidNextToken(
                    "The service couldn't process your request because the NextToken is invalid.")
            after = position[0]
        relation = [f for f in ("children_of_alarm_name", "parents_of_alarm_name") if request.HasField(f)]
        if relation:
            if len(relation) > 1 or request.alarm_names or request.alarm_types or prefix is not None \
                    or request.state_value or request.HasField("action_prefix"):
                raise errors.InvalidParameterCombination(
                    "ChildrenOfAlarmName and ParentsOfAlarmName can only be used with MaxRecords and NextToken.")
            found = await self._related(tenant.account_id, relation[0], getattr(request, relation[0]))
            messages: list[Any] = [_partial(s, relation[0] == "children_of_alarm_name") for s in found]
        else:
            messages = await self._matching(tenant, request, prefix)
        response = alarm_pb2.DescribeAlarmsResponse()
        page = [m for m in messages if after is None or m.alarm_name > after]
        if len(page) > size:
            page = page[:size]
            response.next_token = tenant.page_token([page[-1].alarm_name])
        for m in page:
            (response.composite_alarms if isinstance(m, alarm_pb2.CompositeAlarm) else response.metric_alarms).append(m)
        return response

    async def _matching(self, tenant: Tenant, request: alarm_pb2.DescribeAlarmsRequest,
                        prefix: str | None) -> list[Any]:
        kinds = _kinds(request.alarm_types)
        account = tenant.account_id
        found = await self._store.alarms(account, names=list(request.alarm_names) or None, prefix=prefix, kinds=kinds)
        wanted = _ENUM_STATE.get(request.state_value)
        action_prefix = _opt(request, "action_prefix")
        composites = [s.name for s in found if s.kind == COMPOSITE]
        suppressed = await self._store.suppressions(account, composites) if composites else {}
        out: list[Any] = []
        for stored in found:
            config = load_config(stored.config)
            state = stored.state.value if stored.state else AlarmState.INSUFFICIENT_DATA
            if wanted is not None and state is not wanted:
                continue
            if action_prefix is not None and not any(a.startswith(action_prefix) for a in config.all_actions()):
                continue
            if isinstance(config, CompositeConfig):
                out.append(composite_message(stored, config, suppressed.get(stored.name)))
            else:
                out.append(alarm_message(stored, config))
        return out

    async def _related(self, account: str, relation: str, name: str) -> list[StoredAlarm]:
        """The children of composite ``name``, or the composites whose rules name ``name``, by name."""
        if relation == "children_of_alarm_name":
            found = await self._store.alarms(account, names=[name], kinds=[COMPOSITE])
            config = load_config(found[0].config) if found else None
            if not isinstance(config, CompositeConfig):
                return []
            return [s for s in await self._store.alarms(account, names=sorted(config.children)) if s.name != name]
        parents = []
        for stored in await self._store.alarms(account, kinds=[COMPOSITE]):
            config = load_config(stored.config)
            if isinstance(config, CompositeConfig) and name in config.children and stored.name != name:
                parents.append(stored)
        return parents

    @servicer_errors
    async def DescribeAlarmsForMetric(self, request: alarm_pb2.DescribeAlarmsForMetricRequest,
                                      context: Context) -> alarm_pb2.DescribeAlarmsForMetricResponse:
        """The tenant's single-metric alarms on exactly this metric (and statistic, period, unit if given)."""
        tenant = await self._tenant(context, request, "DescribeAlarmsForMetric")
        if not request.namespace or not request.metric_name:
            raise errors.MissingParameter("Namespace and MetricName are required.")
        dims = sorted((d.name, d.value) for d in request.dimensions)
        found = await self._store.alarms(tenant.account_id, namespace=request.namespace, metric=request.metric_name,
                                         kinds=[METRIC])
        response = alarm_pb2.DescribeAlarmsForMetricResponse()
        for stored in found:
            config = AlarmConfig.from_json(stored.config)
            if config.metrics or sorted(config.dimensions) != dims:
                continue
            if any(request.HasField(f) and getattr(request, f) != getattr(config, f)
                   for f in ("statistic", "extended_statistic", "period", "unit")):
                continue
            response.metric_alarms.append(alarm_message(stored, config))
        return response

    @servicer_errors
    async def DeleteAlarms(self, request: alarm_pb2.DeleteAlarmsRequest,
                           context: Context) -> alarm_pb2.DeleteAlarmsResponse:
        """Delete the named alarms the tenant has; other names are skipped.

        At most one composite alarm per call; an alarm that a remaining composite's rule names is
        not deleted, and then nothing is (CloudWatch's ValidationError).
        """
        tenant = await self._tenant(context, request, "DeleteAlarms")
        _names(len(request.alarm_names))
        account = tenant.account_id
        now = self._clock.now()
        moment = from_epoch(now)
        async with self._writer.lock:
            found = await self._store.alarms(account, names=list(set(request.alarm_names)))
            doomed = {s.name for s in found}
            if sum(s.kind == COMPOSITE for s in found) > 1:
                raise errors.ValidationError("You can delete at most one composite alarm in one DeleteAlarms call.")
            needed: set[str] = set()
            for stored in await self._store.alarms(account, kinds=[COMPOSITE]):
                config = load_config(stored.config)
                if isinstance(config, CompositeConfig) and stored.name not in doomed:
                    needed |= config.children & doomed
            if needed:
                names = ",".join(sorted(needed))
                them = "it" if len(needed) == 1 else "them"
                raise errors.ValidationError(
                    f"Cannot delete {names} as there are composite alarm(s) depending on {them}.")
            await self._store.delete_alarms(account, [a.name for a in found], now)
            for stored in found:
                config = load_config(stored.config)
                state = stored.state.value if stored.state else AlarmState.INSUFFICIENT_DATA
                item = configuration_item(
                    stored.name, "Delete", config.history_json(stored.arn, str(state), config.updated_at), moment)
                await self._store.add_history(account, [(stored.name, item)], now, stored.kind)
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
            config = load_config(stored.config)
            kind = AlarmKind.COMPOSITE if isinstance(config, CompositeConfig) else AlarmKind.METRIC
            current = stored.state or initial_state(config.updated_at)
            outcome = set_alarm_state(kind, current, request.state_value, request.state_reason,
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
        kinds = _kinds(request.alarm_types)
        if not kinds:
            return response
        start = request.start_date.ToMilliseconds() if request.HasField("start_date") else None
        end = request.end_date.ToMilliseconds() if request.HasField("end_date") else None
        rows = await self._store.history(
            tenant.account_id, alarm_name=_opt(request, "alarm_name"), item_type=item_type, start_ms=start,
            end_ms=end, ascending=scan_by == "TimestampAscending", after=after, limit=size + 1, alarm_types=kinds)
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

    async def _rewrite(self, tenant: Tenant, stored: StoredAlarm, config: AnyConfig, now: float) -> None:
        """Store a new version of an alarm's configuration (same kind, ARN and metric columns)."""
        namespace, metric = (config.namespace, config.metric_name) if isinstance(config, AlarmConfig) else ("", "")
        await self._store.put_alarm(tenant.account_id, config.name, stored.arn, namespace, metric, config.to_json(),
                                    now, stored.kind)

    async def _actions_enabled(self, tenant: Tenant, names: Sequence[str], enabled: bool) -> None:
        """Only ``ActionsEnabled`` changes: state, tags and the configuration timestamp stay."""
        _names(len(names))
        now = self._clock.now()
        async with self._writer.lock:
            for stored in await self._store.alarms(tenant.account_id, names=list(set(names))):
                config = load_config(stored.config)
                if config.actions_enabled is not enabled:
                    await self._rewrite(tenant, stored, dataclasses.replace(config, actions_enabled=enabled), now)

    async def _by_arn(self, tenant: Tenant, arn: str) -> tuple[StoredAlarm, AnyConfig]:
        """The tenant's alarm an ARN names (ResourceNotFoundException for any other, the same for all)."""
        def not_found(message: str) -> errors.ServiceError:
            return errors.ResourceNotFoundException(message)

        parsed = tenant.own(arn, service="cloudwatch", not_found=not_found)
        if not parsed.resource.startswith("alarm:"):
            raise errors.ResourceNotFoundException(f"The resource {arn} does not exist.")
        name = parsed.resource[len("alarm:"):]
        found = await self._store.alarms(tenant.account_id, names=[name])
        if not found or found[0].arn != arn:
            raise errors.ResourceNotFoundException(f"The resource {arn} does not exist.")
        return found[0], load_config(found[0].config)

    @servicer_errors
    async def TagResource(self, request: alarm_pb2.TagResourceRequest,
                          context: Context) -> alarm_pb2.TagResourceResponse:
        """Add tags; an existing key gets the new value; at most 50 tags in all."""
        tenant = await self._tenant(context, request, "TagResource")
        given = [(t.key, t.value) for t in request.tags]
        if is_dashboard_arn(request.resource_arn):
            await self._dashboards.tag(tenant, request.resource_arn, given)
            return alarm_pb2.TagResourceResponse()
        check_tags(given)
        async with self._writer.lock:
            stored, config = await self._by_arn(tenant, request.resource_arn)
            tags = dict(config.tags)
            tags.update(given)
            check_tags(list(tags.items()))
            await self._rewrite(tenant, stored, dataclasses.replace(config, tags=tuple(tags.items())),
                                self._clock.now())
        return alarm_pb2.TagResourceResponse()

    @servicer_errors
    async def UntagResource(self, request: alarm_pb2.UntagResourceRequest,
                            context: Context) -> alarm_pb2.UntagResourceResponse:
        """Remove the keys given (absent keys are ignored)."""
        tenant = await self._tenant(context, request, "UntagResource")
        if is_dashboard_arn(request.resource_arn):
            await self._dashboards.untag(tenant, request.resource_arn, request.tag_keys)
            return alarm_pb2.UntagResourceResponse()
        drop = set(request.tag_keys)
        async with self._writer.lock:
            stored, config = await self._by_arn(tenant, request.resource_arn)
            kept = tuple((k, v) for k, v in config.tags if k not in drop)
            if kept != config.tags:
                await self._rewrite(tenant, stored, dataclasses.replace(config, tags=kept), self._clock.now())
        return alarm_pb2.UntagResourceResponse()

    @servicer_errors
    async def ListTagsForResource(self, request: alarm_pb2.ListTagsForResourceRequest,
                                  context: Context) -> alarm_pb2.ListTagsForResourceResponse:
        """The alarm's or dashboard's tags, in the order they were added."""
        tenant = await self._tenant(context, request, "ListTagsForResource")
        if is_dashboard_arn(request.resource_arn):
            tags = await self._dashboards.tags(tenant, request.resource_arn)
            return alarm_pb2.ListTagsForResourceResponse(tags=[alarm_pb2.Tag(key=k, value=v) for k, v in tags])
        _, config = await self._by_arn(tenant, request.resource_arn)
        return alarm_pb2.ListTagsForResourceResponse(tags=[alarm_pb2.Tag(key=k, value=v) for k, v in config.tags])

    @servicer_errors
    async def PutDashboard(self, request: alarm_pb2.PutDashboardRequest,
                           context: Context) -> alarm_pb2.PutDashboardResponse:
        """Create or replace a dashboard (:meth:`Dashboards.put`)."""
        return await self._dashboards.put(await self._tenant(context, request, "PutDashboard"), request)

    @servicer_errors
    async def GetDashboard(self, request: alarm_pb2.GetDashboardRequest,
                           context: Context) -> alarm_pb2.GetDashboardResponse:
        """One dashboard with its body (:meth:`Dashboards.get`)."""
        return await self._dashboards.get(await self._tenant(context, request, "GetDashboard"), request)

    @servicer_errors
    async def ListDashboards(self, request: alarm_pb2.ListDashboardsRequest,
                             context: Context) -> alarm_pb2.ListDashboardsResponse:
        """A page of the caller's dashboards (:meth:`Dashboards.page`)."""
        return await self._dashboards.page(await self._tenant(context, request, "ListDashboards"), request)

    @servicer_errors
    async def DeleteDashboards(self, request: alarm_pb2.DeleteDashboardsRequest,
                               context: Context) -> alarm_pb2.DeleteDashboardsResponse:
        """Delete dashboards, all or none (:meth:`Dashboards.delete`)."""
        return await self._dashboards.delete(await self._tenant(context, request, "DeleteDashboards"), request)
