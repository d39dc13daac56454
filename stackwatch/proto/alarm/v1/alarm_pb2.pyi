import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from stackwatch.proto.metrics.v1 import metrics_pb2 as _metrics_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StateValue(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATE_VALUE_UNSPECIFIED: _ClassVar[StateValue]
    STATE_VALUE_OK: _ClassVar[StateValue]
    STATE_VALUE_ALARM: _ClassVar[StateValue]
    STATE_VALUE_INSUFFICIENT_DATA: _ClassVar[StateValue]
STATE_VALUE_UNSPECIFIED: StateValue
STATE_VALUE_OK: StateValue
STATE_VALUE_ALARM: StateValue
STATE_VALUE_INSUFFICIENT_DATA: StateValue

class MetricAlarm(_message.Message):
    __slots__ = ("alarm_name", "alarm_description", "namespace", "metric_name", "dimensions", "statistic", "extended_statistic", "period", "evaluation_periods", "datapoints_to_alarm", "threshold", "comparison_operator", "treat_missing_data", "alarm_actions", "ok_actions", "insufficient_data_actions", "state_value", "state_updated_timestamp", "unit", "evaluate_low_sample_count_percentile", "actions_enabled", "alarm_arn", "state_reason", "state_reason_data", "state_transitioned_timestamp", "alarm_configuration_updated_timestamp", "metrics", "partial")
    ALARM_NAME_FIELD_NUMBER: _ClassVar[int]
    ALARM_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    METRIC_NAME_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    STATISTIC_FIELD_NUMBER: _ClassVar[int]
    EXTENDED_STATISTIC_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_PERIODS_FIELD_NUMBER: _ClassVar[int]
    DATAPOINTS_TO_ALARM_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    COMPARISON_OPERATOR_FIELD_NUMBER: _ClassVar[int]
    TREAT_MISSING_DATA_FIELD_NUMBER: _ClassVar[int]
    ALARM_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    OK_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    INSUFFICIENT_DATA_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    STATE_VALUE_FIELD_NUMBER: _ClassVar[int]
    STATE_UPDATED_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    EVALUATE_LOW_SAMPLE_COUNT_PERCENTILE_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_ENABLED_FIELD_NUMBER: _ClassVar[int]
    ALARM_ARN_FIELD_NUMBER: _ClassVar[int]
    STATE_REASON_FIELD_NUMBER: _ClassVar[int]
    STATE_REASON_DATA_FIELD_NUMBER: _ClassVar[int]
    STATE_TRANSITIONED_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    ALARM_CONFIGURATION_UPDATED_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    PARTIAL_FIELD_NUMBER: _ClassVar[int]
    alarm_name: str
    alarm_description: str
    namespace: str
    metric_name: str
    dimensions: _containers.RepeatedCompositeFieldContainer[_metrics_pb2.Dimension]
    statistic: str
    extended_statistic: str
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison_operator: str
    treat_missing_data: str
    alarm_actions: _containers.RepeatedScalarFieldContainer[str]
    ok_actions: _containers.RepeatedScalarFieldContainer[str]
    insufficient_data_actions: _containers.RepeatedScalarFieldContainer[str]
    state_value: StateValue
    state_updated_timestamp: _timestamp_pb2.Timestamp
    unit: str
    evaluate_low_sample_count_percentile: str
    actions_enabled: bool
    alarm_arn: str
    state_reason: str
    state_reason_data: str
    state_transitioned_timestamp: _timestamp_pb2.Timestamp
    alarm_configuration_updated_timestamp: _timestamp_pb2.Timestamp
    metrics: _containers.RepeatedCompositeFieldContainer[_metrics_pb2.MetricDataQuery]
    partial: bool
    def __init__(self, alarm_name: _Optional[str] = ..., alarm_description: _Optional[str] = ..., namespace: _Optional[str] = ..., metric_name: _Optional[str] = ..., dimensions: _Optional[_Iterable[_Union[_metrics_pb2.Dimension, _Mapping]]] = ..., statistic: _Optional[str] = ..., extended_statistic: _Optional[str] = ..., period: _Optional[int] = ..., evaluation_periods: _Optional[int] = ..., datapoints_to_alarm: _Optional[int] = ..., threshold: _Optional[float] = ..., comparison_operator: _Optional[str] = ..., treat_missing_data: _Optional[str] = ..., alarm_actions: _Optional[_Iterable[str]] = ..., ok_actions: _Optional[_Iterable[str]] = ..., insufficient_data_actions: _Optional[_Iterable[str]] = ..., state_value: _Optional[_Union[StateValue, str]] = ..., state_updated_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., unit: _Optional[str] = ..., evaluate_low_sample_count_percentile: _Optional[str] = ..., actions_enabled: _Optional[bool] = ..., alarm_arn: _Optional[str] = ..., state_reason: _Optional[str] = ..., state_reason_data: _Optional[str] = ..., state_transitioned_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., alarm_configuration_updated_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., metrics: _Optional[_Iterable[_Union[_metrics_pb2.MetricDataQuery, _Mapping]]] = ..., partial: _Optional[bool] = ...) -> None: ...

class CompositeAlarm(_message.Message):
    __slots__ = ("alarm_name", "alarm_arn", "alarm_description", "alarm_rule", "actions_enabled", "alarm_actions", "ok_actions", "insufficient_data_actions", "state_value", "state_reason", "state_reason_data", "state_updated_timestamp", "state_transitioned_timestamp", "alarm_configuration_updated_timestamp", "actions_suppressor", "actions_suppressor_wait_period", "actions_suppressor_extension_period", "actions_suppressed_by", "actions_suppressed_reason", "partial")
    ALARM_NAME_FIELD_NUMBER: _ClassVar[int]
    ALARM_ARN_FIELD_NUMBER: _ClassVar[int]
    ALARM_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ALARM_RULE_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_ENABLED_FIELD_NUMBER: _ClassVar[int]
    ALARM_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    OK_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    INSUFFICIENT_DATA_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    STATE_VALUE_FIELD_NUMBER: _ClassVar[int]
    STATE_REASON_FIELD_NUMBER: _ClassVar[int]
    STATE_REASON_DATA_FIELD_NUMBER: _ClassVar[int]
    STATE_UPDATED_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    STATE_TRANSITIONED_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    ALARM_CONFIGURATION_UPDATED_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_SUPPRESSOR_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_SUPPRESSOR_WAIT_PERIOD_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_SUPPRESSOR_EXTENSION_PERIOD_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_SUPPRESSED_BY_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_SUPPRESSED_REASON_FIELD_NUMBER: _ClassVar[int]
    PARTIAL_FIELD_NUMBER: _ClassVar[int]
    alarm_name: str
    alarm_arn: str
    alarm_description: str
    alarm_rule: str
    actions_enabled: bool
    alarm_actions: _containers.RepeatedScalarFieldContainer[str]
    ok_actions: _containers.RepeatedScalarFieldContainer[str]
    insufficient_data_actions: _containers.RepeatedScalarFieldContainer[str]
    state_value: StateValue
    state_reason: str
    state_reason_data: str
    state_updated_timestamp: _timestamp_pb2.Timestamp
    state_transitioned_timestamp: _timestamp_pb2.Timestamp
    alarm_configuration_updated_timestamp: _timestamp_pb2.Timestamp
    actions_suppressor: str
    actions_suppressor_wait_period: int
    actions_suppressor_extension_period: int
    actions_suppressed_by: str
    actions_suppressed_reason: str
    partial: bool
    def __init__(self, alarm_name: _Optional[str] = ..., alarm_arn: _Optional[str] = ..., alarm_description: _Optional[str] = ..., alarm_rule: _Optional[str] = ..., actions_enabled: _Optional[bool] = ..., alarm_actions: _Optional[_Iterable[str]] = ..., ok_actions: _Optional[_Iterable[str]] = ..., insufficient_data_actions: _Optional[_Iterable[str]] = ..., state_value: _Optional[_Union[StateValue, str]] = ..., state_reason: _Optional[str] = ..., state_reason_data: _Optional[str] = ..., state_updated_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state_transitioned_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., alarm_configuration_updated_timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actions_suppressor: _Optional[str] = ..., actions_suppressor_wait_period: _Optional[int] = ..., actions_suppressor_extension_period: _Optional[int] = ..., actions_suppressed_by: _Optional[str] = ..., actions_suppressed_reason: _Optional[str] = ..., partial: _Optional[bool] = ...) -> None: ...

class PutCompositeAlarmRequest(_message.Message):
    __slots__ = ("alarm", "tags")
    ALARM_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    alarm: CompositeAlarm
    tags: _containers.RepeatedCompositeFieldContainer[Tag]
    def __init__(self, alarm: _Optional[_Union[CompositeAlarm, _Mapping]] = ..., tags: _Optional[_Iterable[_Union[Tag, _Mapping]]] = ...) -> None: ...

class PutCompositeAlarmResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TagResourceRequest(_message.Message):
    __slots__ = ("resource_arn", "tags")
    RESOURCE_ARN_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    resource_arn: str
    tags: _containers.RepeatedCompositeFieldContainer[Tag]
    def __init__(self, resource_arn: _Optional[str] = ..., tags: _Optional[_Iterable[_Union[Tag, _Mapping]]] = ...) -> None: ...

class TagResourceResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UntagResourceRequest(_message.Message):
    __slots__ = ("resource_arn", "tag_keys")
    RESOURCE_ARN_FIELD_NUMBER: _ClassVar[int]
    TAG_KEYS_FIELD_NUMBER: _ClassVar[int]
    resource_arn: str
    tag_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, resource_arn: _Optional[str] = ..., tag_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class UntagResourceResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListTagsForResourceRequest(_message.Message):
    __slots__ = ("resource_arn",)
    RESOURCE_ARN_FIELD_NUMBER: _ClassVar[int]
    resource_arn: str
    def __init__(self, resource_arn: _Optional[str] = ...) -> None: ...

class ListTagsForResourceResponse(_message.Message):
    __slots__ = ("tags",)
    TAGS_FIELD_NUMBER: _ClassVar[int]
    tags: _containers.RepeatedCompositeFieldContainer[Tag]
    def __init__(self, tags: _Optional[_Iterable[_Union[Tag, _Mapping]]] = ...) -> None: ...

class Tag(_message.Message):
    __slots__ = ("key", "value")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class PutMetricAlarmRequest(_message.Message):
    __slots__ = ("alarm", "tags")
    ALARM_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    alarm: MetricAlarm
    tags: _containers.RepeatedCompositeFieldContainer[Tag]
    def __init__(self, alarm: _Optional[_Union[MetricAlarm, _Mapping]] = ..., tags: _Optional[_Iterable[_Union[Tag, _Mapping]]] = ...) -> None: ...

class PutMetricAlarmResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DescribeAlarmsRequest(_message.Message):
    __slots__ = ("alarm_names", "max_records", "next_token", "alarm_name_prefix", "state_value", "action_prefix", "alarm_types", "children_of_alarm_name", "parents_of_alarm_name")
    ALARM_NAMES_FIELD_NUMBER: _ClassVar[int]
    MAX_RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ALARM_NAME_PREFIX_FIELD_NUMBER: _ClassVar[int]
    STATE_VALUE_FIELD_NUMBER: _ClassVar[int]
    ACTION_PREFIX_FIELD_NUMBER: _ClassVar[int]
    ALARM_TYPES_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_OF_ALARM_NAME_FIELD_NUMBER: _ClassVar[int]
    PARENTS_OF_ALARM_NAME_FIELD_NUMBER: _ClassVar[int]
    alarm_names: _containers.RepeatedScalarFieldContainer[str]
    max_records: int
    next_token: str
    alarm_name_prefix: str
    state_value: StateValue
    action_prefix: str
    alarm_types: _containers.RepeatedScalarFieldContainer[str]
    children_of_alarm_name: str
    parents_of_alarm_name: str
    def __init__(self, alarm_names: _Optional[_Iterable[str]] = ..., max_records: _Optional[int] = ..., next_token: _Optional[str] = ..., alarm_name_prefix: _Optional[str] = ..., state_value: _Optional[_Union[StateValue, str]] = ..., action_prefix: _Optional[str] = ..., alarm_types: _Optional[_Iterable[str]] = ..., children_of_alarm_name: _Optional[str] = ..., parents_of_alarm_name: _Optional[str] = ...) -> None: ...

class DescribeAlarmsResponse(_message.Message):
    __slots__ = ("metric_alarms", "next_token", "composite_alarms")
    METRIC_ALARMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    COMPOSITE_ALARMS_FIELD_NUMBER: _ClassVar[int]
    metric_alarms: _containers.RepeatedCompositeFieldContainer[MetricAlarm]
    next_token: str
    composite_alarms: _containers.RepeatedCompositeFieldContainer[CompositeAlarm]
    def __init__(self, metric_alarms: _Optional[_Iterable[_Union[MetricAlarm, _Mapping]]] = ..., next_token: _Optional[str] = ..., composite_alarms: _Optional[_Iterable[_Union[CompositeAlarm, _Mapping]]] = ...) -> None: ...

class DescribeAlarmsForMetricRequest(_message.Message):
    __slots__ = ("namespace", "metric_name", "dimensions", "statistic", "extended_statistic", "period", "unit")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    METRIC_NAME_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    STATISTIC_FIELD_NUMBER: _ClassVar[int]
    EXTENDED_STATISTIC_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    metric_name: str
    dimensions: _containers.RepeatedCompositeFieldContainer[_metrics_pb2.Dimension]
    statistic: str
    extended_statistic: str
    period: int
    unit: str
    def __init__(self, namespace: _Optional[str] = ..., metric_name: _Optional[str] = ..., dimensions: _Optional[_Iterable[_Union[_metrics_pb2.Dimension, _Mapping]]] = ..., statistic: _Optional[str] = ..., extended_statistic: _Optional[str] = ..., period: _Optional[int] = ..., unit: _Optional[str] = ...) -> None: ...

class DescribeAlarmsForMetricResponse(_message.Message):
    __slots__ = ("metric_alarms",)
    METRIC_ALARMS_FIELD_NUMBER: _ClassVar[int]
    metric_alarms: _containers.RepeatedCompositeFieldContainer[MetricAlarm]
    def __init__(self, metric_alarms: _Optional[_Iterable[_Union[MetricAlarm, _Mapping]]] = ...) -> None: ...

class DeleteAlarmsRequest(_message.Message):
    __slots__ = ("alarm_names",)
    ALARM_NAMES_FIELD_NUMBER: _ClassVar[int]
    alarm_names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, alarm_names: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteAlarmsResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SetAlarmStateRequest(_message.Message):
    __slots__ = ("alarm_name", "state_value", "state_reason", "state_reason_data")
    ALARM_NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_VALUE_FIELD_NUMBER: _ClassVar[int]
    STATE_REASON_FIELD_NUMBER: _ClassVar[int]
    STATE_REASON_DATA_FIELD_NUMBER: _ClassVar[int]
    alarm_name: str
    state_value: str
    state_reason: str
    state_reason_data: str
    def __init__(self, alarm_name: _Optional[str] = ..., state_value: _Optional[str] = ..., state_reason: _Optional[str] = ..., state_reason_data: _Optional[str] = ...) -> None: ...

class SetAlarmStateResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AlarmHistoryItem(_message.Message):
    __slots__ = ("alarm_name", "alarm_type", "timestamp", "history_item_type", "history_summary", "history_data")
    ALARM_NAME_FIELD_NUMBER: _ClassVar[int]
    ALARM_TYPE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    HISTORY_ITEM_TYPE_FIELD_NUMBER: _ClassVar[int]
    HISTORY_SUMMARY_FIELD_NUMBER: _ClassVar[int]
    HISTORY_DATA_FIELD_NUMBER: _ClassVar[int]
    alarm_name: str
    alarm_type: str
    timestamp: _timestamp_pb2.Timestamp
    history_item_type: str
    history_summary: str
    history_data: str
    def __init__(self, alarm_name: _Optional[str] = ..., alarm_type: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., history_item_type: _Optional[str] = ..., history_summary: _Optional[str] = ..., history_data: _Optional[str] = ...) -> None: ...

class DescribeAlarmHistoryRequest(_message.Message):
    __slots__ = ("alarm_name", "history_item_type", "start_date", "end_date", "scan_by", "max_records", "next_token", "alarm_types")
    ALARM_NAME_FIELD_NUMBER: _ClassVar[int]
    HISTORY_ITEM_TYPE_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    SCAN_BY_FIELD_NUMBER: _ClassVar[int]
    MAX_RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ALARM_TYPES_FIELD_NUMBER: _ClassVar[int]
    alarm_name: str
    history_item_type: str
    start_date: _timestamp_pb2.Timestamp
    end_date: _timestamp_pb2.Timestamp
    scan_by: str
    max_records: int
    next_token: str
    alarm_types: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, alarm_name: _Optional[str] = ..., history_item_type: _Optional[str] = ..., start_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., scan_by: _Optional[str] = ..., max_records: _Optional[int] = ..., next_token: _Optional[str] = ..., alarm_types: _Optional[_Iterable[str]] = ...) -> None: ...

class DescribeAlarmHistoryResponse(_message.Message):
    __slots__ = ("alarm_history_items", "next_token")
    ALARM_HISTORY_ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    alarm_history_items: _containers.RepeatedCompositeFieldContainer[AlarmHistoryItem]
    next_token: str
    def __init__(self, alarm_history_items: _Optional[_Iterable[_Union[AlarmHistoryItem, _Mapping]]] = ..., next_token: _Optional[str] = ...) -> None: ...

class EnableAlarmActionsRequest(_message.Message):
    __slots__ = ("alarm_names",)
    ALARM_NAMES_FIELD_NUMBER: _ClassVar[int]
    alarm_names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, alarm_names: _Optional[_Iterable[str]] = ...) -> None: ...

class EnableAlarmActionsResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DisableAlarmActionsRequest(_message.Message):
    __slots__ = ("alarm_names",)
    ALARM_NAMES_FIELD_NUMBER: _ClassVar[int]
    alarm_names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, alarm_names: _Optional[_Iterable[str]] = ...) -> None: ...

class DisableAlarmActionsResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ObserveDatapointsRequest(_message.Message):
    __slots__ = ("account_id", "namespace", "metric_data", "series", "acknowledged_at", "sender", "dropped")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    METRIC_DATA_FIELD_NUMBER: _ClassVar[int]
    SERIES_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_AT_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    namespace: str
    metric_data: _containers.RepeatedCompositeFieldContainer[_metrics_pb2.MetricDatum]
    series: _containers.RepeatedCompositeFieldContainer[ObservedSeries]
    acknowledged_at: _timestamp_pb2.Timestamp
    sender: str
    dropped: int
    def __init__(self, account_id: _Optional[str] = ..., namespace: _Optional[str] = ..., metric_data: _Optional[_Iterable[_Union[_metrics_pb2.MetricDatum, _Mapping]]] = ..., series: _Optional[_Iterable[_Union[ObservedSeries, _Mapping]]] = ..., acknowledged_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sender: _Optional[str] = ..., dropped: _Optional[int] = ...) -> None: ...

class ObserveDatapointsResponse(_message.Message):
    __slots__ = ("received", "unwatched")
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    UNWATCHED_FIELD_NUMBER: _ClassVar[int]
    received: int
    unwatched: int
    def __init__(self, received: _Optional[int] = ..., unwatched: _Optional[int] = ...) -> None: ...

class WatchedMetric(_message.Message):
    __slots__ = ("account_id", "namespace", "metric_name", "dimensions")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    METRIC_NAME_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    namespace: str
    metric_name: str
    dimensions: _containers.RepeatedCompositeFieldContainer[_metrics_pb2.Dimension]
    def __init__(self, account_id: _Optional[str] = ..., namespace: _Optional[str] = ..., metric_name: _Optional[str] = ..., dimensions: _Optional[_Iterable[_Union[_metrics_pb2.Dimension, _Mapping]]] = ...) -> None: ...

class ObservedSeries(_message.Message):
    __slots__ = ("metric", "datums")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    DATUMS_FIELD_NUMBER: _ClassVar[int]
    metric: WatchedMetric
    datums: _containers.RepeatedCompositeFieldContainer[ObservedDatum]
    def __init__(self, metric: _Optional[_Union[WatchedMetric, _Mapping]] = ..., datums: _Optional[_Iterable[_Union[ObservedDatum, _Mapping]]] = ...) -> None: ...

class ObservedDatum(_message.Message):
    __slots__ = ("timestamp", "sample_count", "sum", "minimum", "maximum", "values", "counts", "unit", "acknowledged_at")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    SUM_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_FIELD_NUMBER: _ClassVar[int]
    MAXIMUM_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_AT_FIELD_NUMBER: _ClassVar[int]
    timestamp: float
    sample_count: float
    sum: float
    minimum: float
    maximum: float
    values: _containers.RepeatedScalarFieldContainer[float]
    counts: _containers.RepeatedScalarFieldContainer[float]
    unit: str
    acknowledged_at: float
    def __init__(self, timestamp: _Optional[float] = ..., sample_count: _Optional[float] = ..., sum: _Optional[float] = ..., minimum: _Optional[float] = ..., maximum: _Optional[float] = ..., values: _Optional[_Iterable[float]] = ..., counts: _Optional[_Iterable[float]] = ..., unit: _Optional[str] = ..., acknowledged_at: _Optional[float] = ...) -> None: ...

class WatchedMetricsRequest(_message.Message):
    __slots__ = ("known_version", "instance", "wait_seconds")
    KNOWN_VERSION_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    WAIT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    known_version: int
    instance: str
    wait_seconds: float
    def __init__(self, known_version: _Optional[int] = ..., instance: _Optional[str] = ..., wait_seconds: _Optional[float] = ...) -> None: ...

class WatchedMetricsResponse(_message.Message):
    __slots__ = ("version", "changed", "metrics")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    version: int
    changed: bool
    metrics: _containers.RepeatedCompositeFieldContainer[WatchedMetric]
    def __init__(self, version: _Optional[int] = ..., changed: _Optional[bool] = ..., metrics: _Optional[_Iterable[_Union[WatchedMetric, _Mapping]]] = ...) -> None: ...

class PutDashboardRequest(_message.Message):
    __slots__ = ("dashboard_name", "dashboard_body", "tags")
    DASHBOARD_NAME_FIELD_NUMBER: _ClassVar[int]
    DASHBOARD_BODY_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    dashboard_name: str
    dashboard_body: str
    tags: _containers.RepeatedCompositeFieldContainer[Tag]
    def __init__(self, dashboard_name: _Optional[str] = ..., dashboard_body: _Optional[str] = ..., tags: _Optional[_Iterable[_Union[Tag, _Mapping]]] = ...) -> None: ...

class DashboardValidationMessage(_message.Message):
    __slots__ = ("data_path", "message")
    DATA_PATH_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    data_path: str
    message: str
    def __init__(self, data_path: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class PutDashboardResponse(_message.Message):
    __slots__ = ("dashboard_validation_messages",)
    DASHBOARD_VALIDATION_MESSAGES_FIELD_NUMBER: _ClassVar[int]
    dashboard_validation_messages: _containers.RepeatedCompositeFieldContainer[DashboardValidationMessage]
    def __init__(self, dashboard_validation_messages: _Optional[_Iterable[_Union[DashboardValidationMessage, _Mapping]]] = ...) -> None: ...

class GetDashboardRequest(_message.Message):
    __slots__ = ("dashboard_name",)
    DASHBOARD_NAME_FIELD_NUMBER: _ClassVar[int]
    dashboard_name: str
    def __init__(self, dashboard_name: _Optional[str] = ...) -> None: ...

class GetDashboardResponse(_message.Message):
    __slots__ = ("dashboard_arn", "dashboard_body", "dashboard_name")
    DASHBOARD_ARN_FIELD_NUMBER: _ClassVar[int]
    DASHBOARD_BODY_FIELD_NUMBER: _ClassVar[int]
    DASHBOARD_NAME_FIELD_NUMBER: _ClassVar[int]
    dashboard_arn: str
    dashboard_body: str
    dashboard_name: str
    def __init__(self, dashboard_arn: _Optional[str] = ..., dashboard_body: _Optional[str] = ..., dashboard_name: _Optional[str] = ...) -> None: ...

class ListDashboardsRequest(_message.Message):
    __slots__ = ("dashboard_name_prefix", "next_token")
    DASHBOARD_NAME_PREFIX_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    dashboard_name_prefix: str
    next_token: str
    def __init__(self, dashboard_name_prefix: _Optional[str] = ..., next_token: _Optional[str] = ...) -> None: ...

class DashboardEntry(_message.Message):
    __slots__ = ("dashboard_name", "dashboard_arn", "last_modified", "size")
    DASHBOARD_NAME_FIELD_NUMBER: _ClassVar[int]
    DASHBOARD_ARN_FIELD_NUMBER: _ClassVar[int]
    LAST_MODIFIED_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    dashboard_name: str
    dashboard_arn: str
    last_modified: _timestamp_pb2.Timestamp
    size: int
    def __init__(self, dashboard_name: _Optional[str] = ..., dashboard_arn: _Optional[str] = ..., last_modified: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., size: _Optional[int] = ...) -> None: ...

class ListDashboardsResponse(_message.Message):
    __slots__ = ("dashboard_entries", "next_token")
    DASHBOARD_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    dashboard_entries: _containers.RepeatedCompositeFieldContainer[DashboardEntry]
    next_token: str
    def __init__(self, dashboard_entries: _Optional[_Iterable[_Union[DashboardEntry, _Mapping]]] = ..., next_token: _Optional[str] = ...) -> None: ...

class DeleteDashboardsRequest(_message.Message):
    __slots__ = ("dashboard_names",)
    DASHBOARD_NAMES_FIELD_NUMBER: _ClassVar[int]
    dashboard_names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, dashboard_names: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteDashboardsResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
