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
    __slots__ = ("id", "ton_wallet_address", "ton_wallet_address_raw", "username", "is_active", "total_workers", "active_workers", "total_revenue_ton", "total_revenue_nanoton", "total_payouts", "telegram_user_id", "email", "created_at", "updated_at", "owed_nanoton", "owed_ton", "earned_nanoton", "reserved_nanoton", "paid_nanoton", "payout_threshold_nanoton")
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
    OWED_NANOTON_FIELD_NUMBER: _ClassVar[int]
    OWED_TON_FIELD_NUMBER: _ClassVar[int]
    EARNED_NANOTON_FIELD_NUMBER: _ClassVar[int]
    RESERVED_NANOTON_FIELD_NUMBER: _ClassVar[int]
    PAID_NANOTON_FIELD_NUMBER: _ClassVar[int]
    PAYOUT_THRESHOLD_NANOTON_FIELD_NUMBER: _ClassVar[int]
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
    owed_nanoton: int
    owed_ton: float
    earned_nanoton: int
    reserved_nanoton: int
    paid_nanoton: int
    payout_threshold_nanoton: int
    def __init__(self, id: _Optional[int] = ..., ton_wallet_address: _Optional[str] = ..., ton_wallet_address_raw: _Optional[str] = ..., username: _Optional[str] = ..., is_active: bool = ..., total_workers: _Optional[int] = ..., active_workers: _Optional[int] = ..., total_revenue_ton: _Optional[float] = ..., total_revenue_nanoton: _Optional[int] = ..., total_payouts: _Optional[int] = ..., telegram_user_id: _Optional[float] = ..., email: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., owed_nanoton: _Optional[int] = ..., owed_ton: _Optional[float] = ..., earned_nanoton: _Optional[int] = ..., reserved_nanoton: _Optional[int] = ..., paid_nanoton: _Optional[int] = ..., payout_threshold_nanoton: _Optional[int] = ...) -> None: ...

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

class UpdatePayoutThresholdRequest(_message.Message):
    __slots__ = ("participant_id", "payout_threshold_nanoton")
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    PAYOUT_THRESHOLD_NANOTON_FIELD_NUMBER: _ClassVar[int]
    participant_id: int
    payout_threshold_nanoton: int
    def __init__(self, participant_id: _Optional[int] = ..., payout_threshold_nanoton: _Optional[int] = ...) -> None: ...

class ListBalanceChangesRequest(_message.Message):
    __slots__ = ("participant_id", "limit", "page_token")
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    participant_id: int
    limit: int
    page_token: str
    def __init__(self, participant_id: _Optional[int] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class BalanceChange(_message.Message):
    __slots__ = ("id", "reason", "amount_nanoton", "amount_ton", "balance_after_nanoton", "job_id", "worker_id", "payout_id", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_NANOTON_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_TON_FIELD_NUMBER: _ClassVar[int]
    BALANCE_AFTER_NANOTON_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    PAYOUT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: int
    reason: str
    amount_nanoton: int
    amount_ton: float
    balance_after_nanoton: int
    job_id: str
    worker_id: int
    payout_id: int
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., reason: _Optional[str] = ..., amount_nanoton: _Optional[int] = ..., amount_ton: _Optional[float] = ..., balance_after_nanoton: _Optional[int] = ..., job_id: _Optional[str] = ..., worker_id: _Optional[int] = ..., payout_id: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListBalanceChangesResponse(_message.Message):
    __slots__ = ("changes", "next_page_token")
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[BalanceChange]
    next_page_token: str
    def __init__(self, changes: _Optional[_Iterable[_Union[BalanceChange, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetDailyEarningsRequest(_message.Message):
    __slots__ = ("participant_id", "days")
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    participant_id: int
    days: int
    def __init__(self, participant_id: _Optional[int] = ..., days: _Optional[int] = ...) -> None: ...

class WorkerDayEarnings(_message.Message):
    __slots__ = ("worker_id", "earning_nanoton", "earning_ton", "jobs")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    EARNING_NANOTON_FIELD_NUMBER: _ClassVar[int]
    EARNING_TON_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    worker_id: int
    earning_nanoton: int
    earning_ton: float
    jobs: int
    def __init__(self, worker_id: _Optional[int] = ..., earning_nanoton: _Optional[int] = ..., earning_ton: _Optional[float] = ..., jobs: _Optional[int] = ...) -> None: ...

class DayEarnings(_message.Message):
    __slots__ = ("date", "earning_nanoton", "earning_ton", "jobs", "workers")
    DATE_FIELD_NUMBER: _ClassVar[int]
    EARNING_NANOTON_FIELD_NUMBER: _ClassVar[int]
    EARNING_TON_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    date: str
    earning_nanoton: int
    earning_ton: float
    jobs: int
    workers: _containers.RepeatedCompositeFieldContainer[WorkerDayEarnings]
    def __init__(self, date: _Optional[str] = ..., earning_nanoton: _Optional[int] = ..., earning_ton: _Optional[float] = ..., jobs: _Optional[int] = ..., workers: _Optional[_Iterable[_Union[WorkerDayEarnings, _Mapping]]] = ...) -> None: ...

class GetDailyEarningsResponse(_message.Message):
    __slots__ = ("participant_id", "days")
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    participant_id: int
    days: _containers.RepeatedCompositeFieldContainer[DayEarnings]
    def __init__(self, participant_id: _Optional[int] = ..., days: _Optional[_Iterable[_Union[DayEarnings, _Mapping]]] = ...) -> None: ...
