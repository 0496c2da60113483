import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WatchEventsRequest(_message.Message):
    __slots__ = ("types",)
    TYPES_FIELD_NUMBER: _ClassVar[int]
    types: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, types: _Optional[_Iterable[str]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("type", "at", "participant_id", "data")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    type: str
    at: _timestamp_pb2.Timestamp
    participant_id: int
    data: _struct_pb2.Struct
    def __init__(self, type: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., participant_id: _Optional[int] = ..., data: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class WatchPoolMetricsRequest(_message.Message):
    __slots__ = ("interval_seconds",)
    INTERVAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    interval_seconds: float
    def __init__(self, interval_seconds: _Optional[float] = ...) -> None: ...

class PoolMetrics(_message.Message):
    __slots__ = ("at", "workers_active", "workers_healthy", "gpu_utilization_mean", "active_jobs", "registered_miners", "workers")
    class ActiveJobsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    AT_FIELD_NUMBER: _ClassVar[int]
    WORKERS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    WORKERS_HEALTHY_FIELD_NUMBER: _ClassVar[int]
    GPU_UTILIZATION_MEAN_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_JOBS_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_MINERS_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    workers_active: int
    workers_healthy: int
    gpu_utilization_mean: float
    active_jobs: _containers.ScalarMap[str, int]
    registered_miners: int
    workers: _containers.RepeatedCompositeFieldContainer[WorkerFigures]
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., workers_active: _Optional[int] = ..., workers_healthy: _Optional[int] = ..., gpu_utilization_mean: _Optional[float] = ..., active_jobs: _Optional[_Mapping[str, int]] = ..., registered_miners: _Optional[int] = ..., workers: _Optional[_Iterable[_Union[WorkerFigures, _Mapping]]] = ...) -> None: ...

class WorkerFigures(_message.Message):
    __slots__ = ("worker_id", "participant_id", "status", "gpu_utilization", "gpu_memory_used_gb", "gpu_temperature_celsius", "gpu_power_watts", "revenue_nanoton")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    GPU_UTILIZATION_FIELD_NUMBER: _ClassVar[int]
    GPU_MEMORY_USED_GB_FIELD_NUMBER: _ClassVar[int]
    GPU_TEMPERATURE_CELSIUS_FIELD_NUMBER: _ClassVar[int]
    GPU_POWER_WATTS_FIELD_NUMBER: _ClassVar[int]
    REVENUE_NANOTON_FIELD_NUMBER: _ClassVar[int]
    worker_id: int
    participant_id: int
    status: str
    gpu_utilization: float
    gpu_memory_used_gb: float
    gpu_temperature_celsius: float
    gpu_power_watts: float
    revenue_nanoton: int
    def __init__(self, worker_id: _Optional[int] = ..., participant_id: _Optional[int] = ..., status: _Optional[str] = ..., gpu_utilization: _Optional[float] = ..., gpu_memory_used_gb: _Optional[float] = ..., gpu_temperature_celsius: _Optional[float] = ..., gpu_power_watts: _Optional[float] = ..., revenue_nanoton: _Optional[int] = ...) -> None: ...
