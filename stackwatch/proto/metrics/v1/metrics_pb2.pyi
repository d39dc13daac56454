import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Dimension(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class StatisticSet(_message.Message):
    __slots__ = ("sample_count", "sum", "minimum", "maximum")
    SAMPLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    SUM_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_FIELD_NUMBER: _ClassVar[int]
    MAXIMUM_FIELD_NUMBER: _ClassVar[int]
    sample_count: float
    sum: float
    minimum: float
    maximum: float
    def __init__(self, sample_count: _Optional[float] = ..., sum: _Optional[float] = ..., minimum: _Optional[float] = ..., maximum: _Optional[float] = ...) -> None: ...

class MetricDatum(_message.Message):
    __slots__ = ("metric_name", "dimensions", "timestamp", "value", "statistic_values", "values", "counts", "unit", "storage_resolution")
    METRIC_NAME_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    STATISTIC_VALUES_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    STORAGE_RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    metric_name: str
    dimensions: _containers.RepeatedCompositeFieldContainer[Dimension]
    timestamp: _timestamp_pb2.Timestamp
    value: float
    statistic_values: StatisticSet
    values: _containers.RepeatedScalarFieldContainer[float]
    counts: _containers.RepeatedScalarFieldContainer[float]
    unit: str
    storage_resolution: int
    def __init__(self, metric_name: _Optional[str] = ..., dimensions: _Optional[_Iterable[_Union[Dimension, _Mapping]]] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., value: _Optional[float] = ..., statistic_values: _Optional[_Union[StatisticSet, _Mapping]] = ..., values: _Optional[_Iterable[float]] = ..., counts: _Optional[_Iterable[float]] = ..., unit: _Optional[str] = ..., storage_resolution: _Optional[int] = ...) -> None: ...

class MetricDataColumns(_message.Message):
    __slots__ = ("metric_names", "dimension_counts", "dimension_names", "dimension_values", "timestamps", "forms", "values", "sample_counts", "sums", "minimums", "maximums", "value_list_counts", "value_list", "count_list_counts", "count_list", "units", "storage_resolutions")
    METRIC_NAMES_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_COUNTS_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_NAMES_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_VALUES_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    FORMS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_COUNTS_FIELD_NUMBER: _ClassVar[int]
    SUMS_FIELD_NUMBER: _ClassVar[int]
    MINIMUMS_FIELD_NUMBER: _ClassVar[int]
    MAXIMUMS_FIELD_NUMBER: _ClassVar[int]
    VALUE_LIST_COUNTS_FIELD_NUMBER: _ClassVar[int]
    VALUE_LIST_FIELD_NUMBER: _ClassVar[int]
    COUNT_LIST_COUNTS_FIELD_NUMBER: _ClassVar[int]
    COUNT_LIST_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    STORAGE_RESOLUTIONS_FIELD_NUMBER: _ClassVar[int]
    metric_names: _containers.RepeatedScalarFieldContainer[str]
    dimension_counts: _containers.RepeatedScalarFieldContainer[int]
    dimension_names: _containers.RepeatedScalarFieldContainer[str]
    dimension_values: _containers.RepeatedScalarFieldContainer[str]
    timestamps: _containers.RepeatedScalarFieldContainer[float]
    forms: _containers.RepeatedScalarFieldContainer[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    sample_counts: _containers.RepeatedScalarFieldContainer[float]
    sums: _containers.RepeatedScalarFieldContainer[float]
    minimums: _containers.RepeatedScalarFieldContainer[float]
    maximums: _containers.RepeatedScalarFieldContainer[float]
    value_list_counts: _containers.RepeatedScalarFieldContainer[int]
    value_list: _containers.RepeatedScalarFieldContainer[float]
    count_list_counts: _containers.RepeatedScalarFieldContainer[int]
    count_list: _containers.RepeatedScalarFieldContainer[float]
    units: _containers.RepeatedScalarFieldContainer[str]
    storage_resolutions: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, metric_names: _Optional[_Iterable[str]] = ..., dimension_counts: _Optional[_Iterable[int]] = ..., dimension_names: _Optional[_Iterable[str]] = ..., dimension_values: _Optional[_Iterable[str]] = ..., timestamps: _Optional[_Iterable[float]] = ..., forms: _Optional[_Iterable[int]] = ..., values: _Optional[_Iterable[float]] = ..., sample_counts: _Optional[_Iterable[float]] = ..., sums: _Optional[_Iterable[float]] = ..., minimums: _Optional[_Iterable[float]] = ..., maximums: _Optional[_Iterable[float]] = ..., value_list_counts: _Optional[_Iterable[int]] = ..., value_list: _Optional[_Iterable[float]] = ..., count_list_counts: _Optional[_Iterable[int]] = ..., count_list: _Optional[_Iterable[float]] = ..., units: _Optional[_Iterable[str]] = ..., storage_resolutions: _Optional[_Iterable[int]] = ...) -> None: ...

class PutMetricDataRequest(_message.Message):
    __slots__ = ("namespace", "metric_data", "metric_columns")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    METRIC_DATA_FIELD_NUMBER: _ClassVar[int]
    METRIC_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    metric_data: _containers.RepeatedCompositeFieldContainer[MetricDatum]
    metric_columns: MetricDataColumns
    def __init__(self, namespace: _Optional[str] = ..., metric_data: _Optional[_Iterable[_Union[MetricDatum, _Mapping]]] = ..., metric_columns: _Optional[_Union[MetricDataColumns, _Mapping]] = ...) -> None: ...

class PutMetricDataResponse(_message.Message):
    __slots__ = ("accepted",)
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    def __init__(self, accepted: _Optional[int] = ...) -> None: ...

class GetMetricStatisticsRequest(_message.Message):
    __slots__ = ("namespace", "metric_name", "dimensions", "start_time", "end_time", "period", "statistics", "extended_statistics", "unit")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    METRIC_NAME_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    STATISTICS_FIELD_NUMBER: _ClassVar[int]
    EXTENDED_STATISTICS_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    metric_name: str
    dimensions: _containers.RepeatedCompositeFieldContainer[Dimension]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    period: int
    statistics: _containers.RepeatedScalarFieldContainer[str]
    extended_statistics: _containers.RepeatedScalarFieldContainer[str]
    unit: str
    def __init__(self, namespace: _Optional[str] = ..., metric_name: _Optional[str] = ..., dimensions: _Optional[_Iterable[_Union[Dimension, _Mapping]]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period: _Optional[int] = ..., statistics: _Optional[_Iterable[str]] = ..., extended_statistics: _Optional[_Iterable[str]] = ..., unit: _Optional[str] = ...) -> None: ...

class Datapoint(_message.Message):
    __slots__ = ("timestamp", "sample_count", "average", "sum", "minimum", "maximum", "unit", "extended_statistics")
    class ExtendedStatisticsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_FIELD_NUMBER: _ClassVar[int]
    SUM_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_FIELD_NUMBER: _ClassVar[int]
    MAXIMUM_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    EXTENDED_STATISTICS_FIELD_NUMBER: _ClassVar[int]
    timestamp: _timestamp_pb2.Timestamp
    sample_count: float
    average: float
    sum: float
    minimum: float
    maximum: float
    unit: str
    extended_statistics: _containers.ScalarMap[str, float]
    def __init__(self, timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sample_count: _Optional[float] = ..., average: _Optional[float] = ..., sum: _Optional[float] = ..., minimum: _Optional[float] = ..., maximum: _Optional[float] = ..., unit: _Optional[str] = ..., extended_statistics: _Optional[_Mapping[str, float]] = ...) -> None: ...

class GetMetricStatisticsResponse(_message.Message):
    __slots__ = ("label", "datapoints")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    DATAPOINTS_FIELD_NUMBER: _ClassVar[int]
    label: str
    datapoints: _containers.RepeatedCompositeFieldContainer[Datapoint]
    def __init__(self, label: _Optional[str] = ..., datapoints: _Optional[_Iterable[_Union[Datapoint, _Mapping]]] = ...) -> None: ...

class DimensionFilter(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class ListMetricsRequest(_message.Message):
    __slots__ = ("namespace", "metric_name", "dimensions", "next_token", "recently_active")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    METRIC_NAME_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    RECENTLY_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    metric_name: str
    dimensions: _containers.RepeatedCompositeFieldContainer[DimensionFilter]
    next_token: str
    recently_active: str
    def __init__(self, namespace: _Optional[str] = ..., metric_name: _Optional[str] = ..., dimensions: _Optional[_Iterable[_Union[DimensionFilter, _Mapping]]] = ..., next_token: _Optional[str] = ..., recently_active: _Optional[str] = ...) -> None: ...

class Metric(_message.Message):
    __slots__ = ("namespace", "metric_name", "dimensions")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    METRIC_NAME_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    metric_name: str
    dimensions: _containers.RepeatedCompositeFieldContainer[Dimension]
    def __init__(self, namespace: _Optional[str] = ..., metric_name: _Optional[str] = ..., dimensions: _Optional[_Iterable[_Union[Dimension, _Mapping]]] = ...) -> None: ...

class ListMetricsResponse(_message.Message):
    __slots__ = ("metrics", "next_token")
    METRICS_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    metrics: _containers.RepeatedCompositeFieldContainer[Metric]
    next_token: str
    def __init__(self, metrics: _Optional[_Iterable[_Union[Metric, _Mapping]]] = ..., next_token: _Optional[str] = ...) -> None: ...

class MetricStat(_message.Message):
    __slots__ = ("metric", "period", "stat", "unit")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    STAT_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    metric: Metric
    period: int
    stat: str
    unit: str
    def __init__(self, metric: _Optional[_Union[Metric, _Mapping]] = ..., period: _Optional[int] = ..., stat: _Optional[str] = ..., unit: _Optional[str] = ...) -> None: ...

class MetricDataQuery(_message.Message):
    __slots__ = ("id", "metric_stat", "expression", "label", "return_data", "period", "account_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    METRIC_STAT_FIELD_NUMBER: _ClassVar[int]
    EXPRESSION_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    RETURN_DATA_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    metric_stat: MetricStat
    expression: str
    label: str
    return_data: bool
    period: int
    account_id: str
    def __init__(self, id: _Optional[str] = ..., metric_stat: _Optional[_Union[MetricStat, _Mapping]] = ..., expression: _Optional[str] = ..., label: _Optional[str] = ..., return_data: _Optional[bool] = ..., period: _Optional[int] = ..., account_id: _Optional[str] = ...) -> None: ...

class MessageData(_message.Message):
    __slots__ = ("code", "value")
    CODE_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    code: str
    value: str
    def __init__(self, code: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class LabelOptions(_message.Message):
    __slots__ = ("timezone",)
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    timezone: str
    def __init__(self, timezone: _Optional[str] = ...) -> None: ...

class GetMetricDataRequest(_message.Message):
    __slots__ = ("metric_data_queries", "start_time", "end_time", "next_token", "scan_by", "max_datapoints", "label_options")
    METRIC_DATA_QUERIES_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SCAN_BY_FIELD_NUMBER: _ClassVar[int]
    MAX_DATAPOINTS_FIELD_NUMBER: _ClassVar[int]
    LABEL_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    metric_data_queries: _containers.RepeatedCompositeFieldContainer[MetricDataQuery]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    next_token: str
    scan_by: str
    max_datapoints: int
    label_options: LabelOptions
    def __init__(self, metric_data_queries: _Optional[_Iterable[_Union[MetricDataQuery, _Mapping]]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_token: _Optional[str] = ..., scan_by: _Optional[str] = ..., max_datapoints: _Optional[int] = ..., label_options: _Optional[_Union[LabelOptions, _Mapping]] = ...) -> None: ...

class MetricDataResult(_message.Message):
    __slots__ = ("id", "label", "timestamps", "values", "status_code", "messages")
    ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    id: str
    label: str
    timestamps: _containers.RepeatedScalarFieldContainer[float]
    values: _containers.RepeatedScalarFieldContainer[float]
    status_code: str
    messages: _containers.RepeatedCompositeFieldContainer[MessageData]
    def __init__(self, id: _Optional[str] = ..., label: _Optional[str] = ..., timestamps: _Optional[_Iterable[float]] = ..., values: _Optional[_Iterable[float]] = ..., status_code: _Optional[str] = ..., messages: _Optional[_Iterable[_Union[MessageData, _Mapping]]] = ...) -> None: ...

class GetMetricDataResponse(_message.Message):
    __slots__ = ("metric_data_results", "next_token", "messages")
    METRIC_DATA_RESULTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    metric_data_results: _containers.RepeatedCompositeFieldContainer[MetricDataResult]
    next_token: str
    messages: _containers.RepeatedCompositeFieldContainer[MessageData]
    def __init__(self, metric_data_results: _Optional[_Iterable[_Union[MetricDataResult, _Mapping]]] = ..., next_token: _Optional[str] = ..., messages: _Optional[_Iterable[_Union[MessageData, _Mapping]]] = ...) -> None: ...
