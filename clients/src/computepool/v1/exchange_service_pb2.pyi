import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Payment(_message.Message):
    __slots__ = ("id", "user_id", "status", "amount_btc", "amount_sat", "address", "payment_uri", "amount_aitbc", "expires_at", "txid", "confirmations", "created_at", "confirmed_at", "received_sat", "needs_admin_confirmation", "amount_aitbc_units")
    ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_BTC_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_SAT_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_URI_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_AITBC_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    TXID_FIELD_NUMBER: _ClassVar[int]
    CONFIRMATIONS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    CONFIRMED_AT_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_SAT_FIELD_NUMBER: _ClassVar[int]
    NEEDS_ADMIN_CONFIRMATION_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_AITBC_UNITS_FIELD_NUMBER: _ClassVar[int]
    id: str
    user_id: int
    status: str
    amount_btc: float
    amount_sat: int
    address: str
    payment_uri: str
    amount_aitbc: float
    expires_at: _timestamp_pb2.Timestamp
    txid: str
    confirmations: int
    created_at: _timestamp_pb2.Timestamp
    confirmed_at: _timestamp_pb2.Timestamp
    received_sat: int
    needs_admin_confirmation: bool
    amount_aitbc_units: int
    def __init__(self, id: _Optional[str] = ..., user_id: _Optional[int] = ..., status: _Optional[str] = ..., amount_btc: _Optional[float] = ..., amount_sat: _Optional[int] = ..., address: _Optional[str] = ..., payment_uri: _Optional[str] = ..., amount_aitbc: _Optional[float] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., txid: _Optional[str] = ..., confirmations: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., confirmed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., received_sat: _Optional[int] = ..., needs_admin_confirmation: bool = ..., amount_aitbc_units: _Optional[int] = ...) -> None: ...

class CreatePaymentRequest(_message.Message):
    __slots__ = ("amount_aitbc", "amount_sat")
    AMOUNT_AITBC_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_SAT_FIELD_NUMBER: _ClassVar[int]
    amount_aitbc: float
    amount_sat: int
    def __init__(self, amount_aitbc: _Optional[float] = ..., amount_sat: _Optional[int] = ...) -> None: ...

class GetPaymentStatusRequest(_message.Message):
    __slots__ = ("payment_id",)
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    payment_id: str
    def __init__(self, payment_id: _Optional[str] = ...) -> None: ...

class ConfirmPaymentRequest(_message.Message):
    __slots__ = ("payment_id", "txid", "received_sat", "confirmations")
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TXID_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_SAT_FIELD_NUMBER: _ClassVar[int]
    CONFIRMATIONS_FIELD_NUMBER: _ClassVar[int]
    payment_id: str
    txid: str
    received_sat: int
    confirmations: int
    def __init__(self, payment_id: _Optional[str] = ..., txid: _Optional[str] = ..., received_sat: _Optional[int] = ..., confirmations: _Optional[int] = ...) -> None: ...
