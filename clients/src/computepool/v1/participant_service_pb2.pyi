import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Participant(_message.Message):
    __slots__ = ("id", "ton_wallet_address", "ton_wallet_address_raw", "username", "is_active", "total_workers", "active_workers", "total_revenue_ton", "total_revenue_nanoton", "total_payouts", "telegram_user_id", "email", "created_at", "updated_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    TON_WALLET_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    TON_WALLET_ADDRESS_RAW_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    IS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_WORKERS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_WORKERS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_REVENUE_TON_FIELD_NUMBER: _ClassVar[int]
    TOTAL_REVENUE_NANOTON_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PAYOUTS_FIELD_NUMBER: _ClassVar[int]
    TELEGRAM_USER_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: int
    ton_wallet_address: str
    ton_wallet_address_raw: str
    username: str
    is_active: bool
    total_workers: int
    active_workers: int
    total_revenue_ton: float
    total_revenue_nanoton: int
    total_payouts: int
    telegram_user_id: float
    email: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., ton_wallet_address: _Optional[str] = ..., ton_wallet_address_raw: _Optional[str] = ..., username: _Optional[str] = ..., is_active: bool = ..., total_workers: _Optional[int] = ..., active_workers: _Optional[int] = ..., total_revenue_ton: _Optional[float] = ..., total_revenue_nanoton: _Optional[int] = ..., total_payouts: _Optional[int] = ..., telegram_user_id: _Optional[float] = ..., email: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListParticipantsRequest(_message.Message):
    __slots__ = ("limit", "page_token")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    limit: int
    page_token: str
    def __init__(self, limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListParticipantsResponse(_message.Message):
    __slots__ = ("participants", "next_page_token")
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    participants: _containers.RepeatedCompositeFieldContainer[Participant]
    next_page_token: str
    def __init__(self, participants: _Optional[_Iterable[_Union[Participant, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetParticipantRequest(_message.Message):
    __slots__ = ("participant_id",)
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    participant_id: int
    def __init__(self, participant_id: _Optional[int] = ...) -> None: ...

class GetParticipantByWalletRequest(_message.Message):
    __slots__ = ("wallet_address",)
    WALLET_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    wallet_address: str
    def __init__(self, wallet_address: _Optional[str] = ...) -> None: ...

class CreateParticipantRequest(_message.Message):
    __slots__ = ("ton_wallet_address", "telegram_user_id", "username", "email")
    TON_WALLET_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    TELEGRAM_USER_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    ton_wallet_address: str
    telegram_user_id: float
    username: str
    email: str
    def __init__(self, ton_wallet_address: _Optional[str] = ..., telegram_user_id: _Optional[float] = ..., username: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...
