from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateTopicRequest(_message.Message):
    __slots__ = ("name", "attributes")
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    name: str
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateTopicResponse(_message.Message):
    __slots__ = ("topic_arn",)
    TOPIC_ARN_FIELD_NUMBER: _ClassVar[int]
    topic_arn: str
    def __init__(self, topic_arn: _Optional[str] = ...) -> None: ...

class DeleteTopicRequest(_message.Message):
    __slots__ = ("topic_arn",)
    TOPIC_ARN_FIELD_NUMBER: _ClassVar[int]
    topic_arn: str
    def __init__(self, topic_arn: _Optional[str] = ...) -> None: ...

class DeleteTopicResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListTopicsRequest(_message.Message):
    __slots__ = ("next_token",)
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    next_token: str
    def __init__(self, next_token: _Optional[str] = ...) -> None: ...

class ListTopicsResponse(_message.Message):
    __slots__ = ("topic_arns", "next_token")
    TOPIC_ARNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    topic_arns: _containers.RepeatedScalarFieldContainer[str]
    next_token: str
    def __init__(self, topic_arns: _Optional[_Iterable[str]] = ..., next_token: _Optional[str] = ...) -> None: ...

class GetTopicAttributesRequest(_message.Message):
    __slots__ = ("topic_arn",)
    TOPIC_ARN_FIELD_NUMBER: _ClassVar[int]
    topic_arn: str
    def __init__(self, topic_arn: _Optional[str] = ...) -> None: ...

class GetTopicAttributesResponse(_message.Message):
    __slots__ = ("attributes",)
    class AttributesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ("topic_arn", "protocol", "endpoint", "return_subscription_arn")
    TOPIC_ARN_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    RETURN_SUBSCRIPTION_ARN_FIELD_NUMBER: _ClassVar[int]
    topic_arn: str
    protocol: str
    endpoint: str
    return_subscription_arn: bool
    def __init__(self, topic_arn: _Optional[str] = ..., protocol: _Optional[str] = ..., endpoint: _Optional[str] = ..., return_subscription_arn: _Optional[bool] = ...) -> None: ...

class SubscribeResponse(_message.Message):
    __slots__ = ("subscription_arn",)
    SUBSCRIPTION_ARN_FIELD_NUMBER: _ClassVar[int]
    subscription_arn: str
    def __init__(self, subscription_arn: _Optional[str] = ...) -> None: ...

class ConfirmSubscriptionRequest(_message.Message):
    __slots__ = ("topic_arn", "token")
    TOPIC_ARN_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    topic_arn: str
    token: str
    def __init__(self, topic_arn: _Optional[str] = ..., token: _Optional[str] = ...) -> None: ...

class ConfirmSubscriptionResponse(_message.Message):
    __slots__ = ("subscription_arn",)
    SUBSCRIPTION_ARN_FIELD_NUMBER: _ClassVar[int]
    subscription_arn: str
    def __init__(self, subscription_arn: _Optional[str] = ...) -> None: ...

class UnsubscribeRequest(_message.Message):
    __slots__ = ("subscription_arn",)
    SUBSCRIPTION_ARN_FIELD_NUMBER: _ClassVar[int]
    subscription_arn: str
    def __init__(self, subscription_arn: _Optional[str] = ...) -> None: ...

class UnsubscribeResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ConfirmByLinkRequest(_message.Message):
    __slots__ = ("topic_arn", "token")
    TOPIC_ARN_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    topic_arn: str
    token: str
    def __init__(self, topic_arn: _Optional[str] = ..., token: _Optional[str] = ...) -> None: ...

class ConfirmByLinkResponse(_message.Message):
    __slots__ = ("subscription_arn",)
    SUBSCRIPTION_ARN_FIELD_NUMBER: _ClassVar[int]
    subscription_arn: str
    def __init__(self, subscription_arn: _Optional[str] = ...) -> None: ...

class UnsubscribeByLinkRequest(_message.Message):
    __slots__ = ("subscription_arn",)
    SUBSCRIPTION_ARN_FIELD_NUMBER: _ClassVar[int]
    subscription_arn: str
    def __init__(self, subscription_arn: _Optional[str] = ...) -> None: ...

class UnsubscribeByLinkResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSubscriptionsRequest(_message.Message):
    __slots__ = ("topic_arn", "next_token")
    TOPIC_ARN_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    topic_arn: str
    next_token: str
    def __init__(self, topic_arn: _Optional[str] = ..., next_token: _Optional[str] = ...) -> None: ...

class Subscription(_message.Message):
    __slots__ = ("subscription_arn", "owner", "protocol", "endpoint", "topic_arn")
    SUBSCRIPTION_ARN_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    TOPIC_ARN_FIELD_NUMBER: _ClassVar[int]
    subscription_arn: str
    owner: str
    protocol: str
    endpoint: str
    topic_arn: str
    def __init__(self, subscription_arn: _Optional[str] = ..., owner: _Optional[str] = ..., protocol: _Optional[str] = ..., endpoint: _Optional[str] = ..., topic_arn: _Optional[str] = ...) -> None: ...

class ListSubscriptionsResponse(_message.Message):
    __slots__ = ("subscriptions", "next_token")
    SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    subscriptions: _containers.RepeatedCompositeFieldContainer[Subscription]
    next_token: str
    def __init__(self, subscriptions: _Optional[_Iterable[_Union[Subscription, _Mapping]]] = ..., next_token: _Optional[str] = ...) -> None: ...

class GetSigningCertificateRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSigningCertificateResponse(_message.Message):
    __slots__ = ("pem",)
    PEM_FIELD_NUMBER: _ClassVar[int]
    pem: bytes
    def __init__(self, pem: _Optional[bytes] = ...) -> None: ...
