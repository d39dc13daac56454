import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AutoScalingGroup(_message.Message):
    __slots__ = ("name", "min_size", "max_size", "desired_capacity", "zone_id", "service_offering_id", "template_id", "default_cooldown", "created_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MIN_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_SIZE_FIELD_NUMBER: _ClassVar[int]
    DESIRED_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    ZONE_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_OFFERING_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_COOLDOWN_FIELD_NUMBER: _ClassVar[int]
    CREATED_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    min_size: int
    max_size: int
    desired_capacity: int
    zone_id: str
    service_offering_id: str
    template_id: str
    default_cooldown: int
    created_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., min_size: _Optional[int] = ..., max_size: _Optional[int] = ..., desired_capacity: _Optional[int] = ..., zone_id: _Optional[str] = ..., service_offering_id: _Optional[str] = ..., template_id: _Optional[str] = ..., default_cooldown: _Optional[int] = ..., created_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateAutoScalingGroupRequest(_message.Message):
    __slots__ = ("group",)
    GROUP_FIELD_NUMBER: _ClassVar[int]
    group: AutoScalingGroup
    def __init__(self, group: _Optional[_Union[AutoScalingGroup, _Mapping]] = ...) -> None: ...

class CreateAutoScalingGroupResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ExecutePolicyRequest(_message.Message):
    __slots__ = ("auto_scaling_group_name", "policy_name", "state_reason_data", "idempotency_key")
    AUTO_SCALING_GROUP_NAME_FIELD_NUMBER: _ClassVar[int]
    POLICY_NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_REASON_DATA_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    auto_scaling_group_name: str
    policy_name: str
    state_reason_data: str
    idempotency_key: str
    def __init__(self, auto_scaling_group_name: _Optional[str] = ..., policy_name: _Optional[str] = ..., state_reason_data: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ExecutePolicyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
