import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Job(_message.Message):
    __slots__ = ("id", "client_id", "job_type", "parameters", "status", "created_at", "updated_at", "requirements", "priority", "expires_at", "unit_price_nanoton", "max_price_nanoton", "attempts", "idempotency_key", "error_message")
    ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_TYPE_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    REQUIREMENTS_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_NANOTON_FIELD_NUMBER: _ClassVar[int]
    MAX_PRICE_NANOTON_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    id: str
    client_id: str
    job_type: str
    parameters: _struct_pb2.Struct
    status: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    requirements: JobRequirements
    priority: int
    expires_at: _timestamp_pb2.Timestamp
    unit_price_nanoton: int
    max_price_nanoton: int
    attempts: int
    idempotency_key: str
    error_message: str
    def __init__(self, id: _Optional[str] = ..., client_id: _Optional[str] = ..., job_type: _Optional[str] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., status: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., requirements: _Optional[_Union[JobRequirements, _Mapping]] = ..., priority: _Optional[int] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., unit_price_nanoton: _Optional[int] = ..., max_price_nanoton: _Optional[int] = ..., attempts: _Optional[int] = ..., idempotency_key: _Optional[str] = ..., error_message: _Optional[str] = ...) -> None: ...

class JobRequirements(_message.Message):
    __slots__ = ("model", "min_vram_gb", "gpu_model", "max_price_coefficient")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MIN_VRAM_GB_FIELD_NUMBER: _ClassVar[int]
    GPU_MODEL_FIELD_NUMBER: _ClassVar[int]
    MAX_PRICE_COEFFICIENT_FIELD_NUMBER: _ClassVar[int]
    model: str
    min_vram_gb: float
    gpu_model: str
    max_price_coefficient: float
    def __init__(self, model: _Optional[str] = ..., min_vram_gb: _Optional[float] = ..., gpu_model: _Optional[str] = ..., max_price_coefficient: _Optional[float] = ...) -> None: ...

class Receipt(_message.Message):
    __slots__ = ("id", "job_id", "miner_id", "result", "proof", "created_at", "payload", "miner_signature", "key_id", "result_hash", "units", "charge_nanoton", "earning_nanoton", "fee_nanoton", "worker_id", "owner_wallet", "attempt")
    ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    MINER_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    PROOF_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    MINER_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    RESULT_HASH_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    CHARGE_NANOTON_FIELD_NUMBER: _ClassVar[int]
    EARNING_NANOTON_FIELD_NUMBER: _ClassVar[int]
    FEE_NANOTON_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_WALLET_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    id: str
    job_id: str
    miner_id: str
    result: _struct_pb2.Struct
    proof: str
    created_at: _timestamp_pb2.Timestamp
    payload: str
    miner_signature: str
    key_id: str
    result_hash: str
    units: int
    charge_nanoton: int
    earning_nanoton: int
    fee_nanoton: int
    worker_id: int
    owner_wallet: str
    attempt: int
    def __init__(self, id: _Optional[str] = ..., job_id: _Optional[str] = ..., miner_id: _Optional[str] = ..., result: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., proof: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., payload: _Optional[str] = ..., miner_signature: _Optional[str] = ..., key_id: _Optional[str] = ..., result_hash: _Optional[str] = ..., units: _Optional[int] = ..., charge_nanoton: _Optional[int] = ..., earning_nanoton: _Optional[int] = ..., fee_nanoton: _Optional[int] = ..., worker_id: _Optional[int] = ..., owner_wallet: _Optional[str] = ..., attempt: _Optional[int] = ...) -> None: ...
