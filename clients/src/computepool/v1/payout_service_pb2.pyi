import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Payout(_message.Message):
    __slots__ = ("id", "participant_id", "transaction_hash", "amount_ton", "amount_nanoton", "amount_usd", "from_address", "to_address", "transaction_time", "period_start", "period_end", "created_at", "status", "run_id", "comment", "failure_reason", "sent_at", "confirmed_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_HASH_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_TON_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_NANOTON_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_USD_FIELD_NUMBER: _ClassVar[int]
    FROM_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    TO_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_TIME_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    CONFIRMED_AT_FIELD_NUMBER: _ClassVar[int]
    id: int
    participant_id: int
    transaction_hash: str
    amount_ton: float
    amount_nanoton: int
    amount_usd: float
    from_address: str
    to_address: str
    transaction_time: _timestamp_pb2.Timestamp
    period_start: _timestamp_pb2.Timestamp
    period_end: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    status: str
    run_id: int
    comment: str
    failure_reason: str
    sent_at: _timestamp_pb2.Timestamp
    confirmed_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., participant_id: _Optional[int] = ..., transaction_hash: _Optional[str] = ..., amount_ton: _Optional[float] = ..., amount_nanoton: _Optional[int] = ..., amount_usd: _Optional[float] = ..., from_address: _Optional[str] = ..., to_address: _Optional[str] = ..., transaction_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[str] = ..., run_id: _Optional[int] = ..., comment: _Optional[str] = ..., failure_reason: _Optional[str] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., confirmed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListPayoutsRequest(_message.Message):
    __slots__ = ("participant_id", "limit", "page_token", "status")
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    participant_id: int
    limit: int
    page_token: str
    status: str
    def __init__(self, participant_id: _Optional[int] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ..., status: _Optional[str] = ...) -> None: ...

class ListPayoutsResponse(_message.Message):
    __slots__ = ("payouts", "next_page_token")
    PAYOUTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    payouts: _containers.RepeatedCompositeFieldContainer[Payout]
    next_page_token: str
    def __init__(self, payouts: _Optional[_Iterable[_Union[Payout, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetPayoutRequest(_message.Message):
    __slots__ = ("payout_id",)
    PAYOUT_ID_FIELD_NUMBER: _ClassVar[int]
    payout_id: int
    def __init__(self, payout_id: _Optional[int] = ...) -> None: ...

class CreatePayoutRequest(_message.Message):
    __slots__ = ("participant_id", "transaction_hash", "amount_ton", "amount_nanoton", "amount_usd", "from_address", "to_address", "transaction_time", "period_start", "period_end")
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_HASH_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_TON_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_NANOTON_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_USD_FIELD_NUMBER: _ClassVar[int]
    FROM_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    TO_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_TIME_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    participant_id: int
    transaction_hash: str
    amount_ton: float
    amount_nanoton: int
    amount_usd: float
    from_address: str
    to_address: str
    transaction_time: _timestamp_pb2.Timestamp
    period_start: _timestamp_pb2.Timestamp
    period_end: _timestamp_pb2.Timestamp
    def __init__(self, participant_id: _Optional[int] = ..., transaction_hash: _Optional[str] = ..., amount_ton: _Optional[float] = ..., amount_nanoton: _Optional[int] = ..., amount_usd: _Optional[float] = ..., from_address: _Optional[str] = ..., to_address: _Optional[str] = ..., transaction_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetPayoutSummaryRequest(_message.Message):
    __slots__ = ("participant_id",)
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    participant_id: int
    def __init__(self, participant_id: _Optional[int] = ...) -> None: ...

class MonthlyPayouts(_message.Message):
    __slots__ = ("month", "count", "total_ton", "total_nanoton", "total_usd")
    MONTH_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TON_FIELD_NUMBER: _ClassVar[int]
    TOTAL_NANOTON_FIELD_NUMBER: _ClassVar[int]
    TOTAL_USD_FIELD_NUMBER: _ClassVar[int]
    month: str
    count: int
    total_ton: float
    total_nanoton: int
    total_usd: float
    def __init__(self, month: _Optional[str] = ..., count: _Optional[int] = ..., total_ton: _Optional[float] = ..., total_nanoton: _Optional[int] = ..., total_usd: _Optional[float] = ...) -> None: ...

class GetPayoutSummaryResponse(_message.Message):
    __slots__ = ("participant_id", "total_payouts", "total_ton", "total_nanoton", "total_usd", "first_payout_at", "last_payout_at", "by_month")
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PAYOUTS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TON_FIELD_NUMBER: _ClassVar[int]
    TOTAL_NANOTON_FIELD_NUMBER: _ClassVar[int]
    TOTAL_USD_FIELD_NUMBER: _ClassVar[int]
    FIRST_PAYOUT_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_PAYOUT_AT_FIELD_NUMBER: _ClassVar[int]
    BY_MONTH_FIELD_NUMBER: _ClassVar[int]
    participant_id: int
    total_payouts: int
    total_ton: float
    total_nanoton: int
    total_usd: float
    first_payout_at: _timestamp_pb2.Timestamp
    last_payout_at: _timestamp_pb2.Timestamp
    by_month: _containers.RepeatedCompositeFieldContainer[MonthlyPayouts]
    def __init__(self, participant_id: _Optional[int] = ..., total_payouts: _Optional[int] = ..., total_ton: _Optional[float] = ..., total_nanoton: _Optional[int] = ..., total_usd: _Optional[float] = ..., first_payout_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_payout_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., by_month: _Optional[_Iterable[_Union[MonthlyPayouts, _Mapping]]] = ...) -> None: ...

class ExportTaxReportRequest(_message.Message):
    __slots__ = ("participant_id", "year")
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    YEAR_FIELD_NUMBER: _ClassVar[int]
    participant_id: int
    year: int
    def __init__(self, participant_id: _Optional[int] = ..., year: _Optional[int] = ...) -> None: ...

class PayoutRun(_message.Message):
    __slots__ = ("id", "trigger", "pool_minimum_nanoton", "created_at", "payout_count", "total_ton", "total_nanoton", "payouts")
    ID_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    POOL_MINIMUM_NANOTON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    PAYOUT_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TON_FIELD_NUMBER: _ClassVar[int]
    TOTAL_NANOTON_FIELD_NUMBER: _ClassVar[int]
    PAYOUTS_FIELD_NUMBER: _ClassVar[int]
    id: int
    trigger: str
    pool_minimum_nanoton: int
    created_at: _timestamp_pb2.Timestamp
    payout_count: int
    total_ton: float
    total_nanoton: int
    payouts: _containers.RepeatedCompositeFieldContainer[Payout]
    def __init__(self, id: _Optional[int] = ..., trigger: _Optional[str] = ..., pool_minimum_nanoton: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., payout_count: _Optional[int] = ..., total_ton: _Optional[float] = ..., total_nanoton: _Optional[int] = ..., payouts: _Optional[_Iterable[_Union[Payout, _Mapping]]] = ...) -> None: ...

class CreatePayoutRunRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPayoutRunsRequest(_message.Message):
    __slots__ = ("limit", "page_token")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    limit: int
    page_token: str
    def __init__(self, limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPayoutRunsResponse(_message.Message):
    __slots__ = ("runs", "next_page_token")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[PayoutRun]
    next_page_token: str
    def __init__(self, runs: _Optional[_Iterable[_Union[PayoutRun, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetPayoutRunRequest(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: int
    def __init__(self, run_id: _Optional[int] = ...) -> None: ...

class ExportPayoutRunRequest(_message.Message):
    __slots__ = ("run_id", "format")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    run_id: int
    format: str
    def __init__(self, run_id: _Optional[int] = ..., format: _Optional[str] = ...) -> None: ...

class UpdatePayoutStatusRequest(_message.Message):
    __slots__ = ("payout_id", "status", "transaction_hash", "failure_reason")
    PAYOUT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_HASH_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    payout_id: int
    status: str
    transaction_hash: str
    failure_reason: str
    def __init__(self, payout_id: _Optional[int] = ..., status: _Optional[str] = ..., transaction_hash: _Optional[str] = ..., failure_reason: _Optional[str] = ...) -> None: ...
