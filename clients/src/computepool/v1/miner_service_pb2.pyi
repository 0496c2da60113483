import datetime

from computepool.v1 import job_pb2 as _job_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Miner(_message.Message):
    __slots__ = ("id", "address", "endpoint", "capabilities", "status", "last_heartbeat", "worker_id", "hardware", "price_coefficient", "public_key")
    ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    HARDWARE_FIELD_NUMBER: _ClassVar[int]
    PRICE_COEFFICIENT_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    id: str
    address: str
    endpoint: str
    capabilities: _containers.RepeatedCompositeFieldContainer[MinerCapability]
    status: str
    last_heartbeat: _timestamp_pb2.Timestamp
    worker_id: int
    hardware: MinerHardware
    price_coefficient: float
    public_key: str
    def __init__(self, id: _Optional[str] = ..., address: _Optional[str] = ..., endpoint: _Optional[str] = ..., capabilities: _Optional[_Iterable[_Union[MinerCapability, _Mapping]]] = ..., status: _Optional[str] = ..., last_heartbeat: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., worker_id: _Optional[int] = ..., hardware: _Optional[_Union[MinerHardware, _Mapping]] = ..., price_coefficient: _Optional[float] = ..., public_key: _Optional[str] = ...) -> None: ...

class MinerCapability(_message.Message):
    __slots__ = ("job_type", "models")
    JOB_TYPE_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    job_type: str
    models: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, job_type: _Optional[str] = ..., models: _Optional[_Iterable[str]] = ...) -> None: ...

class MinerHardware(_message.Message):
    __slots__ = ("gpu_model", "gpu_count", "vram_gb", "max_concurrent_jobs")
    GPU_MODEL_FIELD_NUMBER: _ClassVar[int]
    GPU_COUNT_FIELD_NUMBER: _ClassVar[int]
    VRAM_GB_FIELD_NUMBER: _ClassVar[int]
    MAX_CONCURRENT_JOBS_FIELD_NUMBER: _ClassVar[int]
    gpu_model: str
    gpu_count: int
    vram_gb: float
    max_concurrent_jobs: int
    def __init__(self, gpu_model: _Optional[str] = ..., gpu_count: _Optional[int] = ..., vram_gb: _Optional[float] = ..., max_concurrent_jobs: _Optional[int] = ...) -> None: ...

class RegisterMinerRequest(_message.Message):
    __slots__ = ("address", "endpoint", "capabilities", "worker_name", "instance_number", "hardware", "price_coefficient", "public_key", "stats_port")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    WORKER_NAME_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    HARDWARE_FIELD_NUMBER: _ClassVar[int]
    PRICE_COEFFICIENT_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    STATS_PORT_FIELD_NUMBER: _ClassVar[int]
    address: str
    endpoint: str
    capabilities: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Value]
    worker_name: str
    instance_number: int
    hardware: MinerHardware
    price_coefficient: float
    public_key: str
    stats_port: int
    def __init__(self, address: _Optional[str] = ..., endpoint: _Optional[str] = ..., capabilities: _Optional[_Iterable[_Union[_struct_pb2.Value, _Mapping]]] = ..., worker_name: _Optional[str] = ..., instance_number: _Optional[int] = ..., hardware: _Optional[_Union[MinerHardware, _Mapping]] = ..., price_coefficient: _Optional[float] = ..., public_key: _Optional[str] = ..., stats_port: _Optional[int] = ...) -> None: ...

class RegisterMinerResponse(_message.Message):
    __slots__ = ("miner", "miner_token")
    MINER_FIELD_NUMBER: _ClassVar[int]
    MINER_TOKEN_FIELD_NUMBER: _ClassVar[int]
    miner: Miner
    miner_token: str
    def __init__(self, miner: _Optional[_Union[Miner, _Mapping]] = ..., miner_token: _Optional[str] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("status", "gpu_utilization", "gpu_memory_used_gb", "gpu_temperature_celsius", "requests_total", "errors_total", "running_job_ids", "gpu_power_watts")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    GPU_UTILIZATION_FIELD_NUMBER: _ClassVar[int]
    GPU_MEMORY_USED_GB_FIELD_NUMBER: _ClassVar[int]
    GPU_TEMPERATURE_CELSIUS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    ERRORS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    RUNNING_JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    GPU_POWER_WATTS_FIELD_NUMBER: _ClassVar[int]
    status: str
    gpu_utilization: float
    gpu_memory_used_gb: float
    gpu_temperature_celsius: float
    requests_total: int
    errors_total: int
    running_job_ids: _containers.RepeatedScalarFieldContainer[str]
    gpu_power_watts: float
    def __init__(self, status: _Optional[str] = ..., gpu_utilization: _Optional[float] = ..., gpu_memory_used_gb: _Optional[float] = ..., gpu_temperature_celsius: _Optional[float] = ..., requests_total: _Optional[int] = ..., errors_total: _Optional[int] = ..., running_job_ids: _Optional[_Iterable[str]] = ..., gpu_power_watts: _Optional[float] = ...) -> None: ...

class SendHeartbeatRequest(_message.Message):
    __slots__ = ("miner_id", "heartbeat")
    MINER_ID_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    miner_id: str
    heartbeat: Heartbeat
    def __init__(self, miner_id: _Optional[str] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ...) -> None: ...

class SendHeartbeatResponse(_message.Message):
    __slots__ = ("received_at", "extended_leases", "directives")
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    EXTENDED_LEASES_FIELD_NUMBER: _ClassVar[int]
    DIRECTIVES_FIELD_NUMBER: _ClassVar[int]
    received_at: _timestamp_pb2.Timestamp
    extended_leases: _containers.RepeatedCompositeFieldContainer[LeaseExtension]
    directives: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., extended_leases: _Optional[_Iterable[_Union[LeaseExtension, _Mapping]]] = ..., directives: _Optional[_Iterable[str]] = ...) -> None: ...

class LeaseExtension(_message.Message):
    __slots__ = ("job_id", "lease_expires_at")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    lease_expires_at: _timestamp_pb2.Timestamp
    def __init__(self, job_id: _Optional[str] = ..., lease_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StreamHeartbeatsRequest(_message.Message):
    __slots__ = ("miner_id", "heartbeat", "ready_for_jobs", "results")
    MINER_ID_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    READY_FOR_JOBS_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    miner_id: str
    heartbeat: Heartbeat
    ready_for_jobs: int
    results: _containers.RepeatedCompositeFieldContainer[SubmitResultRequest]
    def __init__(self, miner_id: _Optional[str] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., ready_for_jobs: _Optional[int] = ..., results: _Optional[_Iterable[_Union[SubmitResultRequest, _Mapping]]] = ...) -> None: ...

class StreamHeartbeatsResponse(_message.Message):
    __slots__ = ("ack", "assignment", "directive", "results")
    ACK_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    DIRECTIVE_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    ack: SendHeartbeatResponse
    assignment: JobAssignment
    directive: str
    results: SubmitResultsResponse
    def __init__(self, ack: _Optional[_Union[SendHeartbeatResponse, _Mapping]] = ..., assignment: _Optional[_Union[JobAssignment, _Mapping]] = ..., directive: _Optional[str] = ..., results: _Optional[_Union[SubmitResultsResponse, _Mapping]] = ...) -> None: ...

class JobAssignment(_message.Message):
    __slots__ = ("job", "lease_token", "lease_expires_at", "attempt")
    JOB_FIELD_NUMBER: _ClassVar[int]
    LEASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    LEASE_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    job: _job_pb2.Job
    lease_token: str
    lease_expires_at: _timestamp_pb2.Timestamp
    attempt: int
    def __init__(self, job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ..., lease_token: _Optional[str] = ..., lease_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attempt: _Optional[int] = ...) -> None: ...

class FetchJobsRequest(_message.Message):
    __slots__ = ("miner_id", "max_jobs", "wait")
    MINER_ID_FIELD_NUMBER: _ClassVar[int]
    MAX_JOBS_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    miner_id: str
    max_jobs: int
    wait: _duration_pb2.Duration
    def __init__(self, miner_id: _Optional[str] = ..., max_jobs: _Optional[int] = ..., wait: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class FetchJobsResponse(_message.Message):
    __slots__ = ("assignments",)
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    assignments: _containers.RepeatedCompositeFieldContainer[JobAssignment]
    def __init__(self, assignments: _Optional[_Iterable[_Union[JobAssignment, _Mapping]]] = ...) -> None: ...

class SubmitResultRequest(_message.Message):
    __slots__ = ("miner_id", "job_id", "lease_token", "outcome", "result", "result_hash", "result_size_bytes", "units", "miner_signature", "error_message")
    MINER_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    LEASE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    RESULT_HASH_FIELD_NUMBER: _ClassVar[int]
    RESULT_SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    UNITS_FIELD_NUMBER: _ClassVar[int]
    MINER_SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    miner_id: str
    job_id: str
    lease_token: str
    outcome: str
    result: _struct_pb2.Struct
    result_hash: str
    result_size_bytes: int
    units: int
    miner_signature: str
    error_message: str
    def __init__(self, miner_id: _Optional[str] = ..., job_id: _Optional[str] = ..., lease_token: _Optional[str] = ..., outcome: _Optional[str] = ..., result: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., result_hash: _Optional[str] = ..., result_size_bytes: _Optional[int] = ..., units: _Optional[int] = ..., miner_signature: _Optional[str] = ..., error_message: _Optional[str] = ...) -> None: ...

class SubmitResultResponse(_message.Message):
    __slots__ = ("job", "receipt")
    JOB_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    job: _job_pb2.Job
    receipt: _job_pb2.Receipt
    def __init__(self, job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ..., receipt: _Optional[_Union[_job_pb2.Receipt, _Mapping]] = ...) -> None: ...

class SubmitResultsRequest(_message.Message):
    __slots__ = ("miner_id", "results")
    MINER_ID_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    miner_id: str
    results: _containers.RepeatedCompositeFieldContainer[SubmitResultRequest]
    def __init__(self, miner_id: _Optional[str] = ..., results: _Optional[_Iterable[_Union[SubmitResultRequest, _Mapping]]] = ...) -> None: ...

class ResultOutcome(_message.Message):
    __slots__ = ("job_id", "job", "receipt", "error_reason", "error_message")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    ERROR_REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    job: _job_pb2.Job
    receipt: _job_pb2.Receipt
    error_reason: str
    error_message: str
    def __init__(self, job_id: _Optional[str] = ..., job: _Optional[_Union[_job_pb2.Job, _Mapping]] = ..., receipt: _Optional[_Union[_job_pb2.Receipt, _Mapping]] = ..., error_reason: _Optional[str] = ..., error_message: _Optional[str] = ...) -> None: ...

class SubmitResultsResponse(_message.Message):
    __slots__ = ("outcomes",)
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[ResultOutcome]
    def __init__(self, outcomes: _Optional[_Iterable[_Union[ResultOutcome, _Mapping]]] = ...) -> None: ...
