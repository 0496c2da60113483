"""JobService: the client side."""

from __future__ import annotations

from google.protobuf import json_format

from computepool.v1 import job_service_pb2 as pb
from computepool.v1 import job_service_pb2_grpc as pb_grpc
from coordinator.api import convert, rest
from coordinator.identity.callers import current_caller
from coordinator.market import jobs
from coordinator.market.config import Market
from coordinator.market.dispatch import NewWork
from coordinator.storage.database import Database


def spec_of(request: pb.SubmitJobRequest) -> jobs.JobSpec:
    requirements = request.requirements
    return jobs.JobSpec(
        job_type=request.job_type, parameters=json_format.MessageToDict(request.parameters),
        model=requirements.model, min_vram_gb=requirements.min_vram_gb, gpu_model=requirements.gpu_model,
        max_price_coefficient=convert.optional(requirements, "max_price_coefficient"), priority=request.priority,
        ttl=request.ttl.ToTimedelta() if request.HasField("ttl") else None,
        max_price_nanoton=request.max_price_nanoton, idempotency_key=request.idempotency_key)


def visible_client() -> str | None:
    """Whose jobs the caller sees: an admin every client's, anyone else its own."""
    caller = current_caller.get()
    return None if caller.is_admin else caller.client_id


class JobServicer(pb_grpc.JobServiceServicer):
    def __init__(self, database: Database, market: Market, new_work: NewWork):
        self.database = database
        self.market = market
        self.new_work = new_work

    async def _submit(self, specs: list[jobs.JobSpec], batch: bool):
        client_id = current_caller.get().client_id
        stored = await self.database.retrying(
            lambda session: jobs.submit(session, client_id, specs, self.market, batch=batch))
        return [(convert.job(job), created) for job, created in stored]

    async def SubmitJob(self, request, context):
        ((job, created),) = await self._submit([spec_of(request)], batch=False)
        self.new_work.notify()
        await rest.send_created(context, created)
        return job

    async def BatchSubmitJobs(self, request, context):
        submitted = await self._submit([spec_of(r) for r in request.jobs], batch=True)
        self.new_work.notify()
        return pb.BatchSubmitJobsResponse(jobs=[job for job, _ in submitted])

    async def GetJobStatus(self, request, context):
        async with self.database.transaction() as session:
            return convert.job(await jobs.get_own_job(session, visible_client(), request.job_id))

    async def ListJobReceipts(self, request, context):
        async with self.database.transaction() as session:
            receipts = await jobs.receipts_of(session, visible_client(), request.job_id)
            return pb.ListJobReceiptsResponse(receipts=[convert.receipt(r) for r in receipts])

    async def ListJobs(self, request, context):
        async with self.database.transaction() as session:
            rows, next_token = await jobs.list_jobs(session, visible_client(), request.status,
                                                    convert.optional(request, "limit"), request.page_token)
            return pb.ListJobsResponse(jobs=[convert.job(j) for j in rows], next_page_token=next_token)

    async def CancelJob(self, request, context):
        async with self.database.transaction() as session:
            return convert.job(await jobs.cancel(session, visible_client(), request.job_id))
