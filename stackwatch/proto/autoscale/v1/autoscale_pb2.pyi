import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LaunchConfiguration(_message.Message):
    __slots__ = ("name", "image_id", "instance_type", "zone_id", "network_ids", "user_data", "key_name", "security_groups", "created_ms", "arn")
    NAME_FIELD_NUMBER: _ClassVar[int]
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    NETWORK_IDS_FIELD_NUMBER: _ClassVar[int]
    USER_DATA_FIELD_NUMBER: _ClassVar[int]
    KEY_NAME_FIELD_NUMBER: _ClassVar[int]
    SECURITY_GROUPS_FIELD_NUMBER: _ClassVar[int]
    CREATED_MS_FIELD_NUMBER: _ClassVar[int]
    ARN_FIELD_NUMBER: _ClassVar[int]
    name: str
    image_id: str
    instance_type: str
    zone_id: str
    network_ids: _containers.RepeatedScalarFieldContainer[str]
    user_data: str
    key_name: str
    security_groups: _containers.RepeatedScalarFieldContainer[str]
    created_ms: int
    arn: str
    def __init__(self, name: _Optional[str] = ..., image_id: _Optional[str] = ..., instance_type: _Optional[str] = ..., zone_id: _Optional[str] = ..., network_ids: _Optional[_Iterable[str]] = ..., user_data: _Optional[str] = ..., key_name: _Optional[str] = ..., security_groups: _Optional[_Iterable[str]] = ..., created_ms: _Optional[int] = ..., arn: _Optional[str] = ...) -> None: ...

class Tag(_message.Message):
    __slots__ = ("key", "value", "propagate_at_launch")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    PROPAGATE_AT_LAUNCH_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    propagate_at_launch: bool
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ..., propagate_at_launch: _Optional[bool] = ...) -> None: ...

class SuspendedProcess(_message.Message):
    __slots__ = ("process_name", "suspension_reason")
    PROCESS_NAME_FIELD_NUMBER: _ClassVar[int]
    SUSPENSION_REASON_FIELD_NUMBER: _ClassVar[int]
    process_name: str
    suspension_reason: str
    def __init__(self, process_name: _Optional[str] = ..., suspension_reason: _Optional[str] = ...) -> None: ...

class Instance(_message.Message):
    __slots__ = ("instance_id", "auto_scaling_group_name", "lifecycle_state", "health_status", "launch_configuration_name", "zone_id", "protected_from_scale_in")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    AUTO_SCALING_GROUP_NAME_FIELD_NUMBER: _ClassVar[int]
    LIFECYCLE_STATE_FIELD_NUMBER: _ClassVar[int]
    HEALTH_STATUS_FIELD_NUMBER: _ClassVar[int]
    LAUNCH_CONFIGURATION_NAME_FIELD_NUMBER: _ClassVar[int]
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    PROTECTED_FROM_SCALE_IN_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    auto_scaling_group_name: str
    lifecycle_state: str
    health_status: str
    launch_configuration_name: str
    zone_id: str
    protected_from_scale_in: bool
    def __init__(self, instance_id: _Optional[str] = ..., auto_scaling_group_name: _Optional[str] = ..., lifecycle_state: _Optional[str] = ..., health_status: _Optional[str] = ..., launch_configuration_name: _Optional[str] = ..., zone_id: _Optional[str] = ..., protected_from_scale_in: _Optional[bool] = ...) -> None: ...

class AutoScalingGroup(_message.Message):
    __slots__ = ("name", "min_size", "max_size", "desired_capacity", "zone_id", "service_offering_id", "template_id", "default_cooldown", "created_time", "arn", "launch_configuration_name", "load_balancer_rule_ids", "tags", "health_check_type", "health_check_grace_period", "suspended_processes", "instances", "has_default_cooldown", "network_ids")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MIN_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_SIZE_FIELD_NUMBER: _ClassVar[int]
    DESIRED_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_OFFERING_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_COOLDOWN_FIELD_NUMBER: _ClassVar[int]
    CREATED_TIME_FIELD_NUMBER: _ClassVar[int]
    ARN_FIELD_NUMBER: _ClassVar[int]
    LAUNCH_CONFIGURATION_NAME_FIELD_NUMBER: _ClassVar[int]
    LOAD_BALANCER_RULE_IDS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    HEALTH_CHECK_TYPE_FIELD_NUMBER: _ClassVar[int]
    HEALTH_CHECK_GRACE_PERIOD_FIELD_NUMBER: _ClassVar[int]
    SUSPENDED_PROCESSES_FIELD_NUMBER: _ClassVar[int]
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    HAS_DEFAULT_COOLDOWN_FIELD_NUMBER: _ClassVar[int]
    NETWORK_IDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    min_size: int
    max_size: int
    desired_capacity: int
    zone_id: str
    service_offering_id: str
    template_id: str
    default_cooldown: int
    created_time: _timestamp_pb2.Timestamp
    arn: str
    launch_configuration_name: str
    load_balancer_rule_ids: _containers.RepeatedScalarFieldContainer[str]
    tags: _containers.RepeatedCompositeFieldContainer[Tag]
    health_check_type: str
    health_check_grace_period: int
    suspended_processes: _containers.RepeatedCompositeFieldContainer[SuspendedProcess]
    instances: _containers.RepeatedCompositeFieldContainer[Instance]
    has_default_cooldown: bool
    network_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., min_size: _Optional[int] = ..., max_size: _Optional[int] = ..., desired_capacity: _Optional[int] = ..., zone_id: _Optional[str] = ..., service_offering_id: _Optional[str] = ..., template_id: _Optional[str] = ..., default_cooldown: _Optional[int] = ..., created_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., arn: _Optional[str] = ..., launch_configuration_name: _Optional[str] = ..., load_balancer_rule_ids: _Optional[_Iterable[str]] = ..., tags: _Optional[_Iterable[_Union[Tag, _Mapping]]] = ..., health_check_type: _Optional[str] = ..., health_check_grace_period: _Optional[int] = ..., suspended_processes: _Optional[_Iterable[_Union[SuspendedProcess, _Mapping]]] = ..., instances: _Optional[_Iterable[_Union[Instance, _Mapping]]] = ..., has_default_cooldown: _Optional[bool] = ..., network_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateLaunchConfigurationRequest(_message.Message):
    __slots__ = ("launch_configuration",)
    LAUNCH_CONFIGURATION_FIELD_NUMBER: _ClassVar[int]
    launch_configuration: LaunchConfiguration
    def __init__(self, launch_configuration: _Optional[_Union[LaunchConfiguration, _Mapping]] = ...) -> None: ...

class CreateLaunchConfigurationResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DescribeLaunchConfigurationsRequest(_message.Message):
    __slots__ = ("names", "max_records", "next_token")
    NAMES_FIELD_NUMBER: _ClassVar[int]
    MAX_RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    names: _containers.RepeatedScalarFieldContainer[str]
    max_records: int
    next_token: str
    def __init__(self, names: _Optional[_Iterable[str]] = ..., max_records: _Optional[int] = ..., next_token: _Optional[str] = ...) -> None: ...

class DescribeLaunchConfigurationsResponse(_message.Message):
    __slots__ = ("launch_configurations", "next_token")
    LAUNCH_CONFIGURATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    launch_configurations: _containers.RepeatedCompositeFieldContainer[LaunchConfiguration]
    next_token: str
    def __init__(self, launch_configurations: _Optional[_Iterable[_Union[LaunchConfiguration, _Mapping]]] = ..., next_token: _Optional[str] = ...) -> None: ...

class DeleteLaunchConfigurationRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteLaunchConfigurationResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateAutoScalingGroupRequest(_message.Message):
    __slots__ = ("group", "has_desired_capacity")
    GROUP_FIELD_NUMBER: _ClassVar[int]
    HAS_DESIRED_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    group: AutoScalingGroup
    has_desired_capacity: bool
    def __init__(self, group: _Optional[_Union[AutoScalingGroup, _Mapping]] = ..., has_desired_capacity: _Optional[bool] = ...) -> None: ...

class CreateAutoScalingGroupResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UpdateAutoScalingGroupRequest(_message.Message):
    __slots__ = ("name", "min_size", "max_size", "desired_capacity", "default_cooldown", "launch_configuration_name", "health_check_grace_period", "health_check_type")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MIN_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_SIZE_FIELD_NUMBER: _ClassVar[int]
    DESIRED_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_COOLDOWN_FIELD_NUMBER: _ClassVar[int]
    LAUNCH_CONFIGURATION_NAME_FIELD_NUMBER: _ClassVar[int]
    HEALTH_CHECK_GRACE_PERIOD_FIELD_NUMBER: _ClassVar[int]
    HEALTH_CHECK_TYPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    min_size: int
    max_size: int
    desired_capacity: int
    default_cooldown: int
    launch_configuration_name: str
    health_check_grace_period: int
    health_check_type: str
    def __init__(self, name: _Optional[str] = ..., min_size: _Optional[int] = ..., max_size: _Optional[int] = ..., desired_capacity: _Optional[int] = ..., default_cooldown: _Optional[int] = ..., launch_configuration_name: _Optional[str] = ..., health_check_grace_period: _Optional[int] = ..., health_check_type: _Optional[str] = ...) -> None: ...

class UpdateAutoScalingGroupResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DeleteAutoScalingGroupRequest(_message.Message):
    __slots__ = ("name", "force_delete")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FORCE_DELETE_FIELD_NUMBER: _ClassVar[int]
    name: str
    force_delete: bool
    def __init__(self, name: _Optional[str] = ..., force_delete: _Optional[bool] = ...) -> None: ...

class DeleteAutoScalingGroupResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DescribeAutoScalingGroupsRequest(_message.Message):
    __slots__ = ("names", "max_records", "next_token")
    NAMES_FIELD_NUMBER: _ClassVar[int]
    MAX_RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    names: _containers.RepeatedScalarFieldContainer[str]
    max_records: int
    next_token: str
    def __init__(self, names: _Optional[_Iterable[str]] = ..., max_records: _Optional[int] = ..., next_token: _Optional[str] = ...) -> None: ...

class DescribeAutoScalingGroupsResponse(_message.Message):
    __slots__ = ("groups", "next_token")
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    groups: _containers.RepeatedCompositeFieldContainer[AutoScalingGroup]
    next_token: str
    def __init__(self, groups: _Optional[_Iterable[_Union[AutoScalingGroup, _Mapping]]] = ..., next_token: _Optional[str] = ...) -> None: ...

class DescribeAutoScalingInstancesRequest(_message.Message):
    __slots__ = ("instance_ids", "max_records", "next_token")
    INSTANCE_IDS_FIELD_NUMBER: _ClassVar[int]
    MAX_RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    instance_ids: _containers.RepeatedScalarFieldContainer[str]
    max_records: int
    next_token: str
    def __init__(self, instance_ids: _Optional[_Iterable[str]] = ..., max_records: _Optional[int] = ..., next_token: _Optional[str] = ...) -> None: ...

class DescribeAutoScalingInstancesResponse(_message.Message):
    __slots__ = ("instances", "next_token")
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    instances: _containers.RepeatedCompositeFieldContainer[Instance]
    next_token: str
    def __init__(self, instances: _Optional[_Iterable[_Union[Instance, _Mapping]]] = ..., next_token: _Optional[str] = ...) -> None: ...

class SetDesiredCapacityRequest(_message.Message):
    __slots__ = ("name", "desired_capacity", "honor_cooldown")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESIRED_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    HONOR_COOLDOWN_FIELD_NUMBER: _ClassVar[int]
    name: str
    desired_capacity: int
    honor_cooldown: bool
    def __init__(self, name: _Optional[str] = ..., desired_capacity: _Optional[int] = ..., honor_cooldown: _Optional[bool] = ...) -> None: ...

class SetDesiredCapacityResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StepAdjustment(_message.Message):
    __slots__ = ("metric_interval_lower_bound", "metric_interval_upper_bound", "scaling_adjustment")
    METRIC_INTERVAL_LOWER_BOUND_FIELD_NUMBER: _ClassVar[int]
    METRIC_INTERVAL_UPPER_BOUND_FIELD_NUMBER: _ClassVar[int]
    SCALING_ADJUSTMENT_FIELD_NUMBER: _ClassVar[int]
    metric_interval_lower_bound: float
    metric_interval_upper_bound: float
    scaling_adjustment: int
    def __init__(self, metric_interval_lower_bound: _Optional[float] = ..., metric_interval_upper_bound: _Optional[float] = ..., scaling_adjustment: _Optional[int] = ...) -> None: ...

class TargetTrackingConfiguration(_message.Message):
    __slots__ = ("target_value", "predefined_metric_type", "resource_label", "customized_metric_json", "disable_scale_in")
    TARGET_VALUE_FIELD_NUMBER: _ClassVar[int]
    PREDEFINED_METRIC_TYPE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_LABEL_FIELD_NUMBER: _ClassVar[int]
    CUSTOMIZED_METRIC_JSON_FIELD_NUMBER: _ClassVar[int]
    DISABLE_SCALE_IN_FIELD_NUMBER: _ClassVar[int]
    target_value: float
    predefined_metric_type: str
    resource_label: str
    customized_metric_json: str
    disable_scale_in: bool
    def __init__(self, target_value: _Optional[float] = ..., predefined_metric_type: _Optional[str] = ..., resource_label: _Optional[str] = ..., customized_metric_json: _Optional[str] = ..., disable_scale_in: _Optional[bool] = ...) -> None: ...

class ScalingPolicy(_message.Message):
    __slots__ = ("auto_scaling_group_name", "policy_name", "policy_arn", "policy_type", "adjustment_type", "scaling_adjustment", "min_adjustment_magnitude", "cooldown", "step_adjustments", "metric_aggregation_type", "estimated_instance_warmup", "target_tracking", "enabled", "alarm_arns")
    AUTO_SCALING_GROUP_NAME_FIELD_NUMBER: _ClassVar[int]
    POLICY_NAME_FIELD_NUMBER: _ClassVar[int]
    POLICY_ARN_FIELD_NUMBER: _ClassVar[int]
    POLICY_TYPE_FIELD_NUMBER: _ClassVar[int]
    ADJUSTMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SCALING_ADJUSTMENT_FIELD_NUMBER: _ClassVar[int]
    MIN_ADJUSTMENT_MAGNITUDE_FIELD_NUMBER: _ClassVar[int]
    COOLDOWN_FIELD_NUMBER: _ClassVar[int]
    STEP_ADJUSTMENTS_FIELD_NUMBER: _ClassVar[int]
    METRIC_AGGREGATION_TYPE_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_INSTANCE_WARMUP_FIELD_NUMBER: _ClassVar[int]
    TARGET_TRACKING_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    ALARM_ARNS_FIELD_NUMBER: _ClassVar[int]
    auto_scaling_group_name: str
    policy_name: str
    policy_arn: str
    policy_type: str
    adjustment_type: str
    scaling_adjustment: int
    min_adjustment_magnitude: int
    cooldown: int
    step_adjustments: _containers.RepeatedCompositeFieldContainer[StepAdjustment]
    metric_aggregation_type: str
    estimated_instance_warmup: int
    target_tracking: TargetTrackingConfiguration
    enabled: bool
    alarm_arns: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, auto_scaling_group_name: _Optional[str] = ..., policy_name: _Optional[str] = ..., policy_arn: _Optional[str] = ..., policy_type: _Optional[str] = ..., adjustment_type: _Optional[str] = ..., scaling_adjustment: _Optional[int] = ..., min_adjustment_magnitude: _Optional[int] = ..., cooldown: _Optional[int] = ..., step_adjustments: _Optional[_Iterable[_Union[StepAdjustment, _Mapping]]] = ..., metric_aggregation_type: _Optional[str] = ..., estimated_instance_warmup: _Optional[int] = ..., target_tracking: _Optional[_Union[TargetTrackingConfiguration, _Mapping]] = ..., enabled: _Optional[bool] = ..., alarm_arns: _Optional[_Iterable[str]] = ...) -> None: ...

class PutScalingPolicyRequest(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: ScalingPolicy
    def __init__(self, policy: _Optional[_Union[ScalingPolicy, _Mapping]] = ...) -> None: ...

class PutScalingPolicyResponse(_message.Message):
    __slots__ = ("policy_arn", "alarm_arns")
    POLICY_ARN_FIELD_NUMBER: _ClassVar[int]
    ALARM_ARNS_FIELD_NUMBER: _ClassVar[int]
    policy_arn: str
    alarm_arns: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, policy_arn: _Optional[str] = ..., alarm_arns: _Optional[_Iterable[str]] = ...) -> None: ...

class DescribePoliciesRequest(_message.Message):
    __slots__ = ("auto_scaling_group_name", "policy_names", "policy_types", "max_records", "next_token")
    AUTO_SCALING_GROUP_NAME_FIELD_NUMBER: _ClassVar[int]
    POLICY_NAMES_FIELD_NUMBER: _ClassVar[int]
    POLICY_TYPES_FIELD_NUMBER: _ClassVar[int]
    MAX_RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    auto_scaling_group_name: str
    policy_names: _containers.RepeatedScalarFieldContainer[str]
    policy_types: _containers.RepeatedScalarFieldContainer[str]
    max_records: int
    next_token: str
    def __init__(self, auto_scaling_group_name: _Optional[str] = ..., policy_names: _Optional[_Iterable[str]] = ..., policy_types: _Optional[_Iterable[str]] = ..., max_records: _Optional[int] = ..., next_token: _Optional[str] = ...) -> None: ...

class DescribePoliciesResponse(_message.Message):
    __slots__ = ("policies", "next_token")
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    policies: _containers.RepeatedCompositeFieldContainer[ScalingPolicy]
    next_token: str
    def __init__(self, policies: _Optional[_Iterable[_Union[ScalingPolicy, _Mapping]]] = ..., next_token: _Optional[str] = ...) -> None: ...

class DeletePolicyRequest(_message.Message):
    __slots__ = ("auto_scaling_group_name", "policy_name")
    AUTO_SCALING_GROUP_NAME_FIELD_NUMBER: _ClassVar[int]
    POLICY_NAME_FIELD_NUMBER: _ClassVar[int]
    auto_scaling_group_name: str
    policy_name: str
    def __init__(self, auto_scaling_group_name: _Optional[str] = ..., policy_name: _Optional[str] = ...) -> None: ...

class DeletePolicyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ExecutePolicyRequest(_message.Message):
    __slots__ = ("auto_scaling_group_name", "policy_name", "state_reason_data", "idempotency_key", "honor_cooldown", "breach_threshold", "metric_value")
    AUTO_SCALING_GROUP_NAME_FIELD_NUMBER: _ClassVar[int]
    POLICY_NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_REASON_DATA_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    HONOR_COOLDOWN_FIELD_NUMBER: _ClassVar[int]
    BREACH_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    METRIC_VALUE_FIELD_NUMBER: _ClassVar[int]
    auto_scaling_group_name: str
    policy_name: str
    state_reason_data: str
    idempotency_key: str
    honor_cooldown: bool
    breach_threshold: float
    metric_value: float
    def __init__(self, auto_scaling_group_name: _Optional[str] = ..., policy_name: _Optional[str] = ..., state_reason_data: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., honor_cooldown: _Optional[bool] = ..., breach_threshold: _Optional[float] = ..., metric_value: _Optional[float] = ...) -> None: ...

class ExecutePolicyResponse(_message.Message):
    __slots__ = ("desired_capacity", "activity_id", "skipped", "duplicate")
    DESIRED_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    desired_capacity: int
    activity_id: str
    skipped: str
    duplicate: bool
    def __init__(self, desired_capacity: _Optional[int] = ..., activity_id: _Optional[str] = ..., skipped: _Optional[str] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class Activity(_message.Message):
    __slots__ = ("activity_id", "auto_scaling_group_name", "cause", "description", "status_code", "start_ms", "end_ms", "progress", "status_message", "details", "auto_scaling_group_arn")
    ACTIVITY_ID_FIELD_NUMBER: _ClassVar[int]
    AUTO_SCALING_GROUP_NAME_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    START_MS_FIELD_NUMBER: _ClassVar[int]
    END_MS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    STATUS_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    AUTO_SCALING_GROUP_ARN_FIELD_NUMBER: _ClassVar[int]
    activity_id: str
    auto_scaling_group_name: str
    cause: str
    description: str
    status_code: str
    start_ms: int
    end_ms: int
    progress: int
    status_message: str
    details: str
    auto_scaling_group_arn: str
    def __init__(self, activity_id: _Optional[str] = ..., auto_scaling_group_name: _Optional[str] = ..., cause: _Optional[str] = ..., description: _Optional[str] = ..., status_code: _Optional[str] = ..., start_ms: _Optional[int] = ..., end_ms: _Optional[int] = ..., progress: _Optional[int] = ..., status_message: _Optional[str] = ..., details: _Optional[str] = ..., auto_scaling_group_arn: _Optional[str] = ...) -> None: ...

class DescribeScalingActivitiesRequest(_message.Message):
    __slots__ = ("activity_ids", "auto_scaling_group_name", "max_records", "next_token")
    ACTIVITY_IDS_FIELD_NUMBER: _ClassVar[int]
    AUTO_SCALING_GROUP_NAME_FIELD_NUMBER: _ClassVar[int]
    MAX_RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    activity_ids: _containers.RepeatedScalarFieldContainer[str]
    auto_scaling_group_name: str
    max_records: int
    next_token: str
    def __init__(self, activity_ids: _Optional[_Iterable[str]] = ..., auto_scaling_group_name: _Optional[str] = ..., max_records: _Optional[int] = ..., next_token: _Optional[str] = ...) -> None: ...

class DescribeScalingActivitiesResponse(_message.Message):
    __slots__ = ("activities", "next_token")
    ACTIVITIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    activities: _containers.RepeatedCompositeFieldContainer[Activity]
    next_token: str
    def __init__(self, activities: _Optional[_Iterable[_Union[Activity, _Mapping]]] = ..., next_token: _Optional[str] = ...) -> None: ...

class SetProcessesRequest(_message.Message):
    __slots__ = ("name", "scaling_processes", "suspend")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCALING_PROCESSES_FIELD_NUMBER: _ClassVar[int]
    SUSPEND_FIELD_NUMBER: _ClassVar[int]
    name: str
    scaling_processes: _containers.RepeatedScalarFieldContainer[str]
    suspend: bool
    def __init__(self, name: _Optional[str] = ..., scaling_processes: _Optional[_Iterable[str]] = ..., suspend: _Optional[bool] = ...) -> None: ...

class SetProcessesResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TerminateInstanceRequest(_message.Message):
    __slots__ = ("instance_id", "should_decrement_desired_capacity")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    SHOULD_DECREMENT_DESIRED_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    should_decrement_desired_capacity: bool
    def __init__(self, instance_id: _Optional[str] = ..., should_decrement_desired_capacity: _Optional[bool] = ...) -> None: ...

class TerminateInstanceResponse(_message.Message):
    __slots__ = ("activity",)
    ACTIVITY_FIELD_NUMBER: _ClassVar[int]
    activity: Activity
    def __init__(self, activity: _Optional[_Union[Activity, _Mapping]] = ...) -> None: ...
