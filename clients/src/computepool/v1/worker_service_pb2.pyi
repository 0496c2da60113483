import datetime

from computepool.v1 import participant_service_pb2 as _participant_service_pb2
from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Worker(_message.Message):
    __slots__ = ("id", "participant_id", "worker_name", "instance_number", "host", "stats_port", "price_coefficient", "is_active", "latest_status", "latest_gpu_utilization", "latest_gpu_memory_used_gb", "latest_gpu_temperature_celsius", "latest_revenue_ton", "latest_revenue_nanoton", "latest_seen_at", "created_at", "updated_at", "latest_gpu_power_watts", "latest_gpu_reported")
    ID_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_NAME_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    STATS_PORT_FIELD_NUMBER: _ClassVar[int]
    PRICE_COEFFICIENT_FIELD_NUMBER: _ClassVar[int]
    IS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    LATEST_STATUS_FIELD_NUMBER: _ClassVar[int]
    LATEST_GPU_UTILIZATION_FIELD_NUMBER: _ClassVar[int]
    LATEST_GPU_MEMORY_USED_GB_FIELD_NUMBER: _ClassVar[int]
    LATEST_GPU_TEMPERATURE_CELSIUS_FIELD_NUMBER: _ClassVar[int]
    LATEST_REVENUE_TON_FIELD_NUMBER: _ClassVar[int]
    LATEST_REVENUE_NANOTON_FIELD_NUMBER: _ClassVar[int]
    LATEST_SEEN_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    LATEST_GPU_POWER_WATTS_FIELD_NUMBER: _ClassVar[int]
    LATEST_GPU_REPORTED_FIELD_NUMBER: _ClassVar[int]
    id: int
    participant_id: int
    worker_name: str
    instance_number: int
    host: str
    stats_port: int
    price_coefficient: float
    is_active: bool
    latest_status: str
    latest_gpu_utilization: float
    latest_gpu_memory_used_gb: float
    latest_gpu_temperature_celsius: float
    latest_revenue_ton: float
    latest_revenue_nanoton: int
    latest_seen_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    latest_gpu_power_watts: float
    latest_gpu_reported: bool
    def __init__(self, id: _Optional[int] = ..., participant_id: _Optional[int] = ..., worker_name: _Optional[str] = ..., instance_number: _Optional[int] = ..., host: _Optional[str] = ..., stats_port: _Optional[int] = ..., price_coefficient: _Optional[float] = ..., is_active: bool = ..., latest_status: _Optional[str] = ..., latest_gpu_utilization: _Optional[float] = ..., latest_gpu_memory_used_gb: _Optional[float] = ..., latest_gpu_temperature_celsius: _Optional[float] = ..., latest_revenue_ton: _Optional[float] = ..., latest_revenue_nanoton: _Optional[int] = ..., latest_seen_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., latest_gpu_power_watts: _Optional[float] = ..., latest_gpu_reported: bool = ...) -> None: ...

class ListWorkersRequest(_message.Message):
    __slots__ = ("participant_id", "is_active", "limit", "page_token")
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    IS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    participant_id: int
    is_active: bool
    limit: int
    page_token: str
    def __init__(self, participant_id: _Optional[int] = ..., is_active: bool = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListWorkersResponse(_message.Message):
    __slots__ = ("workers", "next_page_token")
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    workers: _containers.RepeatedCompositeFieldContainer[Worker]
    next_page_token: str
    def __init__(self, workers: _Optional[_Iterable[_Union[Worker, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetWorkerRequest(_message.Message):
    __slots__ = ("worker_id",)
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    worker_id: int
    def __init__(self, worker_id: _Optional[int] = ...) -> None: ...

class WatchWorkersRequest(_message.Message):
    __slots__ = ("participant_id",)
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    participant_id: int
    def __init__(self, participant_id: _Optional[int] = ...) -> None: ...

class CreateWorkerRequest(_message.Message):
    __slots__ = ("participant_id", "worker_name", "instance_number", "host", "stats_port", "price_coefficient", "is_active")
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_NAME_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    STATS_PORT_FIELD_NUMBER: _ClassVar[int]
    PRICE_COEFFICIENT_FIELD_NUMBER: _ClassVar[int]
    IS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    participant_id: int
    worker_name: str
    instance_number: int
    host: str
    stats_port: int
    price_coefficient: float
    is_active: bool
    def __init__(self, participant_id: _Optional[int] = ..., worker_name: _Optional[str] = ..., instance_number: _Optional[int] = ..., host: _Optional[str] = ..., stats_port: _Optional[int] = ..., price_coefficient: _Optional[float] = ..., is_active: bool = ...) -> None: ...

class UpdateWorkerRequest(_message.Message):
    __slots__ = ("worker_id", "is_active", "price_coefficient", "worker_name", "instance_number", "host", "stats_port")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    IS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    PRICE_COEFFICIENT_FIELD_NUMBER: _ClassVar[int]
    WORKER_NAME_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    STATS_PORT_FIELD_NUMBER: _ClassVar[int]
    worker_id: int
    is_active: bool
    price_coefficient: float
    worker_name: str
    instance_number: int
    host: str
    stats_port: int
    def __init__(self, worker_id: _Optional[int] = ..., is_active: bool = ..., price_coefficient: _Optional[float] = ..., worker_name: _Optional[str] = ..., instance_number: _Optional[int] = ..., host: _Optional[str] = ..., stats_port: _Optional[int] = ...) -> None: ...

class GetWorkerMetricsRequest(_message.Message):
    __slots__ = ("worker_id", "hours")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    worker_id: int
    hours: int
    def __init__(self, worker_id: _Optional[int] = ..., hours: _Optional[int] = ...) -> None: ...

class WorkerSample(_message.Message):
    __slots__ = ("sampled_at", "status", "gpu_utilization", "gpu_memory_used_gb", "gpu_temperature_celsius", "requests_total", "errors_total", "revenue_ton", "revenue_nanoton", "gpu_power_watts")
    SAMPLED_AT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    GPU_UTILIZATION_FIELD_NUMBER: _ClassVar[int]
    GPU_MEMORY_USED_GB_FIELD_NUMBER: _ClassVar[int]
    GPU_TEMPERATURE_CELSIUS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    ERRORS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    REVENUE_TON_FIELD_NUMBER: _ClassVar[int]
    REVENUE_NANOTON_FIELD_NUMBER: _ClassVar[int]
    GPU_POWER_WATTS_FIELD_NUMBER: _ClassVar[int]
    sampled_at: _timestamp_pb2.Timestamp
    status: str
    gpu_utilization: float
    gpu_memory_used_gb: float
    gpu_temperature_celsius: float
    requests_total: int
    errors_total: int
    revenue_ton: float
    revenue_nanoton: int
    gpu_power_watts: float
    def __init__(self, sampled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[str] = ..., gpu_utilization: _Optional[float] = ..., gpu_memory_used_gb: _Optional[float] = ..., gpu_temperature_celsius: _Optional[float] = ..., requests_total: _Optional[int] = ..., errors_total: _Optional[int] = ..., revenue_ton: _Optional[float] = ..., revenue_nanoton: _Optional[int] = ..., gpu_power_watts: _Optional[float] = ...) -> None: ...

class GetWorkerMetricsResponse(_message.Message):
    __slots__ = ("worker_id", "hours", "samples")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    worker_id: int
    hours: int
    samples: _containers.RepeatedCompositeFieldContainer[WorkerSample]
    def __init__(self, worker_id: _Optional[int] = ..., hours: _Optional[int] = ..., samples: _Optional[_Iterable[_Union[WorkerSample, _Mapping]]] = ...) -> None: ...

class GetWorkerStatsRequest(_message.Message):
    __slots__ = ("worker_id",)
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    worker_id: int
    def __init__(self, worker_id: _Optional[int] = ...) -> None: ...

class WorkerWindowStats(_message.Message):
    __slots__ = ("hours", "samples", "uptime_ratio", "avg_gpu_utilization", "peak_gpu_utilization", "requests", "errors", "revenue_ton", "revenue_nanoton", "gpu_power_watts")
    HOURS_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    UPTIME_RATIO_FIELD_NUMBER: _ClassVar[int]
    AVG_GPU_UTILIZATION_FIELD_NUMBER: _ClassVar[int]
    PEAK_GPU_UTILIZATION_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    REVENUE_TON_FIELD_NUMBER: _ClassVar[int]
    REVENUE_NANOTON_FIELD_NUMBER: _ClassVar[int]
    GPU_POWER_WATTS_FIELD_NUMBER: _ClassVar[int]
    hours: int
    samples: int
    uptime_ratio: float
    avg_gpu_utilization: float
    peak_gpu_utilization: float
    requests: int
    errors: int
    revenue_ton: float
    revenue_nanoton: int
    gpu_power_watts: float
    def __init__(self, hours: _Optional[int] = ..., samples: _Optional[int] = ..., uptime_ratio: _Optional[float] = ..., avg_gpu_utilization: _Optional[float] = ..., peak_gpu_utilization: _Optional[float] = ..., requests: _Optional[int] = ..., errors: _Optional[int] = ..., revenue_ton: _Optional[float] = ..., revenue_nanoton: _Optional[int] = ..., gpu_power_watts: _Optional[float] = ...) -> None: ...

class GetWorkerStatsResponse(_message.Message):
    __slots__ = ("worker_id", "latest_status", "latest_seen_at", "last_24h", "last_7d", "last_30d")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    LATEST_STATUS_FIELD_NUMBER: _ClassVar[int]
    LATEST_SEEN_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_24H_FIELD_NUMBER: _ClassVar[int]
    LAST_7D_FIELD_NUMBER: _ClassVar[int]
    LAST_30D_FIELD_NUMBER: _ClassVar[int]
    worker_id: int
    latest_status: str
    latest_seen_at: _timestamp_pb2.Timestamp
    last_24h: WorkerWindowStats
    last_7d: WorkerWindowStats
    last_30d: WorkerWindowStats
    def __init__(self, worker_id: _Optional[int] = ..., latest_status: _Optional[str] = ..., latest_seen_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_24h: _Optional[_Union[WorkerWindowStats, _Mapping]] = ..., last_7d: _Optional[_Union[WorkerWindowStats, _Mapping]] = ..., last_30d: _Optional[_Union[WorkerWindowStats, _Mapping]] = ...) -> None: ...

class GetWorkerDailyEarningsRequest(_message.Message):
    __slots__ = ("worker_id", "days")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    worker_id: int
    days: int
    def __init__(self, worker_id: _Optional[int] = ..., days: _Optional[int] = ...) -> None: ...

class GetWorkerDailyEarningsResponse(_message.Message):
    __slots__ = ("worker_id", "participant_id", "days")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    worker_id: int
    participant_id: int
    days: _containers.RepeatedCompositeFieldContainer[_participant_service_pb2.DayEarnings]
    def __init__(self, worker_id: _Optional[int] = ..., participant_id: _Optional[int] = ..., days: _Optional[_Iterable[_Union[_participant_service_pb2.DayEarnings, _Mapping]]] = ...) -> None: ...
