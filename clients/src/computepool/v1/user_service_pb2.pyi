import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class User(_message.Message):
    __slots__ = ("id", "wallet_address", "username", "role", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    WALLET_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: int
    wallet_address: str
    username: str
    role: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., wallet_address: _Optional[str] = ..., username: _Optional[str] = ..., role: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateLoginChallengeRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateLoginChallengeResponse(_message.Message):
    __slots__ = ("payload", "expires_at")
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    payload: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, payload: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TonProof(_message.Message):
    __slots__ = ("timestamp", "domain", "payload", "signature", "state_init")
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    STATE_INIT_FIELD_NUMBER: _ClassVar[int]
    timestamp: int
    domain: TonProofDomain
    payload: str
    signature: str
    state_init: str
    def __init__(self, timestamp: _Optional[int] = ..., domain: _Optional[_Union[TonProofDomain, _Mapping]] = ..., payload: _Optional[str] = ..., signature: _Optional[str] = ..., state_init: _Optional[str] = ...) -> None: ...

class TonProofDomain(_message.Message):
    __slots__ = ("length_bytes", "value")
    LENGTH_BYTES_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    length_bytes: int
    value: str
    def __init__(self, length_bytes: _Optional[int] = ..., value: _Optional[str] = ...) -> None: ...

class LoginRequest(_message.Message):
    __slots__ = ("address", "network", "public_key", "proof")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    PROOF_FIELD_NUMBER: _ClassVar[int]
    address: str
    network: str
    public_key: str
    proof: TonProof
    def __init__(self, address: _Optional[str] = ..., network: _Optional[str] = ..., public_key: _Optional[str] = ..., proof: _Optional[_Union[TonProof, _Mapping]] = ...) -> None: ...

class LoginResponse(_message.Message):
    __slots__ = ("session_token", "expires_at", "user")
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    session_token: str
    expires_at: _timestamp_pb2.Timestamp
    user: User
    def __init__(self, session_token: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., user: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class LogoutRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LogoutResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetMeRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetBalanceRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    def __init__(self, user_id: _Optional[int] = ...) -> None: ...

class AssetBalance(_message.Message):
    __slots__ = ("asset", "amount", "amount_units")
    ASSET_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_UNITS_FIELD_NUMBER: _ClassVar[int]
    asset: str
    amount: str
    amount_units: int
    def __init__(self, asset: _Optional[str] = ..., amount: _Optional[str] = ..., amount_units: _Optional[int] = ...) -> None: ...

class GetBalanceResponse(_message.Message):
    __slots__ = ("user_id", "balances")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    BALANCES_FIELD_NUMBER: _ClassVar[int]
    user_id: int
    balances: _containers.RepeatedCompositeFieldContainer[AssetBalance]
    def __init__(self, user_id: _Optional[int] = ..., balances: _Optional[_Iterable[_Union[AssetBalance, _Mapping]]] = ...) -> None: ...
