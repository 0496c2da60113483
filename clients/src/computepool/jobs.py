"""What a job submission says, and what a finished job is: shared by the asyncio and blocking clients."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import struct_pb2

from computepool.v1 import job_pb2
from computepool.v1 import job_service_pb2 as job_pb

TERMINAL = frozenset({"completed", "failed", "cancelled", "expired"})
MAX_BATCH = 1000  # jobs per BatchSubmitJobs call


@dataclass(frozen=True)
class JobSpec:
    """One job to submit. Without an `idempotency_key` the spec makes one (a UUID), so a submission
    retried after a lost reply returns the same job instead of a second one."""

    job_type: str
    parameters: dict[str, Any] = field(default_factory=dict)
    model: str = ""
    min_vram_gb: float = 0.0
    gpu_model: str = ""
    max_price_coefficient: float | None = None
    priority: int = 0
    ttl: dt.timedelta | float | None = None  # seconds when a number
    max_price_nanoton: int = 0
    # Made when the spec is: sending the same spec again (a batch retried after a failure) returns
    # the jobs it stored instead of new ones.
    idempotency_key: str = field(default_factory=lambda: str(uuid.uuid4()))

    def to_request(self) -> job_pb.SubmitJobRequest:
        """The SubmitJobRequest this spec sends."""
        parameters = struct_pb2.Struct()
        parameters.update(self.parameters)
        request = job_pb.SubmitJobRequest(
            job_type=self.job_type, parameters=parameters, priority=self.priority,
            max_price_nanoton=self.max_price_nanoton, idempotency_key=self.idempotency_key,
            requirements=job_pb2.JobRequirements(model=self.model, min_vram_gb=self.min_vram_gb,
                                                 gpu_model=self.gpu_model))
        if self.max_price_coefficient is not None:
            request.requirements.max_price_coefficient = self.max_price_coefficient
        if self.ttl is not None:
            ttl = self.ttl if isinstance(self.ttl, dt.timedelta) else dt.timedelta(seconds=self.ttl)
            request.ttl.FromTimedelta(ttl)
        return request


class JobFailed(Exception):
    """The job ended without a result: failed, cancelled or expired (`job` holds it, with
    `job.error_message` when it failed)."""

    def __init__(self, job: job_pb2.Job):
        detail = f": {job.error_message}" if job.error_message else ""
        super().__init__(f"job {job.id} {job.status}{detail}")
        self.job = job
