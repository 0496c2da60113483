"""JobService: converts and calls the client side's operations (market/jobs.Jobs)."""

from __future__ import annotations

from google.protobuf import json_format

from computepool.v1 import job_service_pb2 as pb
from computepool.v1 import job_service_pb2_grpc as pb_grpc
from coordinator.api import convert, rest
from coordinator.market import jobs


def spec_of(request: pb.SubmitJobRequest) -> jobs.JobSpec:
    requirements = request.requirements
    return jobs.JobSpec(
        job_type=request.job_type, parameters=json_format.MessageToDict(request.parameters),
        model=requirements.model, min_vram_gb=requirements.min_vram_gb, gpu_model=requirements.gpu_model,
        max_price_coefficient=convert.optional(requirements, "max_price_coefficient"), priority=request.priority,
        ttl=request.ttl.ToTimedelta() if request.HasField("ttl") else None,
        max_price_nanoton=request.max_price_nanoton, idempotency_key=request.idempotency_key)


class JobServicer(pb_grpc.JobServiceServicer):
    def __init__(self, jobs_: jobs.Jobs):
        self.jobs = jobs_

    async def SubmitJob(self, request, context):
        ((job, created),) = await self.jobs.submit([spec_of(request)], batch=False)
        await rest.send_created(context, created)
        return convert.job(job)

    async def BatchSubmitJobs(self, request, context):
        submitted = await self.jobs.submit([spec_of(r) for r in request.jobs], batch=True)
        return pb.BatchSubmitJobsResponse(jobs=[convert.job(job) for job, _ in submitted])

    async def GetJobStatus(self, request, context):
        return convert.job(await self.jobs.get(request.job_id))

    async def ListJobReceipts(self, request, context):
        receipts = await self.jobs.receipts(request.job_id)
        return pb.ListJobReceiptsResponse(receipts=[convert.receipt(r) for r in receipts])

    async def ListJobs(self, request, context):
        rows, next_token = await self.jobs.list(request.status, convert.optional(request, "limit"), request.page_token)
        return pb.ListJobsResponse(jobs=[convert.job(j) for j in rows], next_page_token=next_token)

    async def CancelJob(self, request, context):
        return convert.job(await self.jobs.cancel(request.job_id))

    async def WatchJob(self, request, context):
        async for job in self.jobs.watch(request.job_id):
            yield convert.job(job)
