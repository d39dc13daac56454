from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Principal(_message.Message):
    __slots__ = ("account_id", "user", "access_key_id", "account_number")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    ACCESS_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    user: str
    access_key_id: str
    account_number: str
    def __init__(self, account_id: _Optional[str] = ..., user: _Optional[str] = ..., access_key_id: _Optional[str] = ..., account_number: _Optional[str] = ...) -> None: ...

class AuthenticateRequest(_message.Message):
    __slots__ = ("access_key_id", "algorithm", "request_date", "scope_date", "region", "service", "string_to_sign", "signature", "signature_version", "expires_seconds", "expires")
    ACCESS_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    REQUEST_DATE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_DATE_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    STRING_TO_SIGN_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_VERSION_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_SECONDS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_FIELD_NUMBER: _ClassVar[int]
    access_key_id: str
    algorithm: str
    request_date: str
    scope_date: str
    region: str
    service: str
    string_to_sign: str
    signature: str
    signature_version: int
    expires_seconds: int
    expires: str
    def __init__(self, access_key_id: _Optional[str] = ..., algorithm: _Optional[str] = ..., request_date: _Optional[str] = ..., scope_date: _Optional[str] = ..., region: _Optional[str] = ..., service: _Optional[str] = ..., string_to_sign: _Optional[str] = ..., signature: _Optional[str] = ..., signature_version: _Optional[int] = ..., expires_seconds: _Optional[int] = ..., expires: _Optional[str] = ...) -> None: ...

class AuthenticateResponse(_message.Message):
    __slots__ = ("principal", "principal_token")
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    PRINCIPAL_TOKEN_FIELD_NUMBER: _ClassVar[int]
    principal: Principal
    principal_token: str
    def __init__(self, principal: _Optional[_Union[Principal, _Mapping]] = ..., principal_token: _Optional[str] = ...) -> None: ...

class PrincipalToken(_message.Message):
    __slots__ = ("principal", "expires_at")
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    principal: Principal
    expires_at: int
    def __init__(self, principal: _Optional[_Union[Principal, _Mapping]] = ..., expires_at: _Optional[int] = ...) -> None: ...
