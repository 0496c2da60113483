"""MinerService: registration, heartbeats (unary and streamed), leased jobs, results."""

from __future__ import annotations

import asyncio
import time

from google.protobuf import json_format
from opentelemetry import trace

from computepool.v1 import miner_service_pb2 as pb
from computepool.v1 import miner_service_pb2_grpc as pb_grpc
from coordinator.api import convert, rest
from coordinator.api.request_text import check_request_text
from coordinator.errors import PermissionDenied, Reason
from coordinator.identity.callers import owner_scope
from coordinator.identity.wallet_address import parse_address
from coordinator.market import dispatch, miners
from coordinator.market.config import Market
from coordinator.market.heartbeats import Beat, HeartbeatBuffer, StreamBudget
from coordinator.market.jobs import NewWork
from coordinator.market.receipts import ReceiptSigner
from coordinator.storage.database import Database
from coordinator.storage.models import JobStatus, Participant, utcnow
from coordinator.telemetry.observability import span

TOKEN_METADATA = "x-miner-token"
FETCH_RECHECK_S = 0.25


def miner_token(context) -> str | None:
    return next((value for key, value in context.invocation_metadata() or () if key == TOKEN_METADATA), None)


def beat_of(message: pb.Heartbeat) -> Beat:
    return Beat(message.status, message.gpu_utilization, message.gpu_memory_used_gb, message.gpu_temperature_celsius,
                message.requests_total, message.errors_total, tuple(message.running_job_ids)).checked()


class MinerServicer(pb_grpc.MinerServiceServicer):
    def __init__(self, database: Database, market: Market, signer: ReceiptSigner, heartbeats: HeartbeatBuffer,
                 new_work: NewWork, stream_messages_per_minute: int, tracer: trace.Tracer | None = None):
        self.database = database
        self.market = market
        self.signer = signer
        self.heartbeats = heartbeats
        self.new_work = new_work
        self.stream_messages_per_minute = stream_messages_per_minute
        self.tracer = tracer
        self.credentials = miners.MinerCredentials(database)

    async def _identify(self, context, miner_id: str) -> miners.MinerIdentity:
        return await self.credentials.identify(miner_token(context), miner_id)

    async def _identify_owned(self, context, miner_id: str) -> miners.MinerIdentity:
        return await self.credentials.identify_owned(miner_token(context), miner_id)

    async def RegisterMiner(self, request, context):
        spec = miners.MinerSpec(
            address=request.address, endpoint=request.endpoint,
            capabilities=[json_format.MessageToDict(c) for c in request.capabilities],
            worker_name=convert.optional(request, "worker_name"), instance_number=request.instance_number,
            gpu_model=request.hardware.gpu_model, gpu_count=request.hardware.gpu_count or 1,
            vram_gb=request.hardware.vram_gb, max_concurrent_jobs=request.hardware.max_concurrent_jobs or 1,
            price_coefficient=convert.optional(request, "price_coefficient"), public_key=request.public_key,
            stats_port=request.stats_port)
        owner = owner_scope()

        async def register(session):
            if owner is not None:  # a participant's miner key registers that participant's miners only
                wallet = (await session.get(Participant, owner)).wallet_raw
                if parse_address(spec.address, "address").raw != wallet:
                    raise PermissionDenied("a miner key registers miners for its own participant's wallet only",
                                           reason=Reason.NOT_OWNER)
            miner, worker, token = await miners.register(session, spec, self.market)
            wallet = (await session.get(Participant, worker.participant_id)).wallet_address
            return pb.RegisterMinerResponse(miner=convert.miner(miner, worker, wallet), miner_token=token)

        response = await self.database.retrying(register)
        await rest.send_created(context)
        return response

    async def _beat(self, miner_id: str, worker_id: int, message: pb.Heartbeat) -> pb.SendHeartbeatResponse:
        return ack_of(await self.heartbeats.record(miner_id, worker_id, beat_of(message)))

    async def SendHeartbeat(self, request, context):
        beat_of(request.heartbeat)  # refuse bad input before the credential lookup
        who = await self._identify_owned(context, request.miner_id)
        return await self._beat(who.miner_id, who.worker_id, request.heartbeat)

    async def StreamHeartbeats(self, request_iterator, context):
        """Authenticated once, on the first message; each heartbeat is acked, in order, after the
        flush that wrote it; `ready_for_jobs` leases jobs and pushes them down the stream.

        Messages are read while earlier heartbeats still wait for their flush (a miner beating
        faster than the flush interval is not slowed to it; one flush acks all it wrote). Limited
        per stream (not per message as a call): STREAM_MESSAGES_PER_MINUTE, then
        RESOURCE_EXHAUSTED with RetryInfo."""
        answers: asyncio.Queue = asyncio.Queue()  # per message, in order: ("ack"|"jobs"|"error", value)
        reader = asyncio.create_task(self._read_stream(request_iterator, context, answers))
        try:
            while (answer := await answers.get()) is not None:
                kind, value = answer
                if kind == "error":
                    raise value
                if kind == "jobs":
                    for job in await value:
                        yield pb.StreamHeartbeatsResponse(assignment=job)
                    continue
                ack = ack_of(await value)
                yield pb.StreamHeartbeatsResponse(ack=ack)
                for directive in ack.directives:
                    yield pb.StreamHeartbeatsResponse(directive=directive)
        finally:
            reader.cancel()
            while not answers.empty():  # the stream ended before these were answered
                answer = answers.get_nowait()
                if answer is not None and answer[0] != "error":
                    answer[1].cancel()

    async def _read_stream(self, request_iterator, context, answers: asyncio.Queue) -> None:
        """Queues, per message, what will answer it; a failure is queued too, to end the stream
        after the answers before it."""
        identity = None
        budget = StreamBudget(self.stream_messages_per_minute)
        try:
            async for message in request_iterator:
                budget.spend()
                # With tracing on, each message is a span under the stream's: the work it triggers
                # (the lease claim, the heartbeat flush through a span link) traces back to it.
                with span(self.tracer, "StreamHeartbeats message"):
                    check_request_text(message)
                    if identity is None:
                        identity = await self._identify_owned(context, message.miner_id)
                    if message.HasField("heartbeat"):
                        answers.put_nowait(("ack", self.heartbeats.record(
                            identity.miner_id, identity.worker_id, beat_of(message.heartbeat))))
                    if message.ready_for_jobs > 0:
                        answers.put_nowait(("jobs", asyncio.ensure_future(
                            self._claim(identity.miner_id, min(message.ready_for_jobs, 100)))))
        except Exception as error:
            answers.put_nowait(("error", error))
        finally:  # however reading ends, the responses loop learns it
            answers.put_nowait(None)

    async def _claim(self, miner_id: str, max_jobs: int) -> list[pb.JobAssignment]:
        async with self.database.transaction() as session:
            jobs = await dispatch.claim(session, miner_id, max_jobs, self.market, utcnow())
            return [convert.assignment(job) for job in jobs]

    async def FetchJobs(self, request, context):
        max_jobs, wait_s = dispatch.validate_fetch(convert.optional(request, "max_jobs"), request.wait.ToTimedelta().total_seconds())
        miner_id = (await self._identify_owned(context, request.miner_id)).miner_id
        deadline = time.monotonic() + wait_s
        while True:
            assignments = await self._claim(miner_id, max_jobs)
            remaining = deadline - time.monotonic()
            if assignments or remaining <= 0:
                return pb.FetchJobsResponse(assignments=assignments)
            await self.new_work.wait(min(remaining, FETCH_RECHECK_S))

    async def SubmitResult(self, request, context):
        who = await self._identify_owned(context, request.miner_id)
        async with self.database.transaction() as session:
            job, receipt = await dispatch.submit_result(session, who, result_spec(request), self.market, self.signer,
                                                        utcnow())
            response = pb.SubmitResultResponse(job=convert.job(job))
            if receipt is not None:
                response.receipt.CopyFrom(convert.receipt(receipt))
        if job.status == JobStatus.PENDING:
            self.new_work.notify()
        return response

    async def SubmitResults(self, request, context):
        who = await self._identify_owned(context, request.miner_id)
        specs = [result_spec(r) for r in request.results]
        async with self.database.transaction() as session:
            outcomes = await dispatch.submit_results(session, who, specs, self.market, self.signer, utcnow())
            response = pb.SubmitResultsResponse(outcomes=[outcome_message(o) for o in outcomes])
        if any(o.job is not None and o.job.status == JobStatus.PENDING for o in outcomes):
            self.new_work.notify()
        return response


def ack_of(flushed) -> pb.SendHeartbeatResponse:
    return pb.SendHeartbeatResponse(
        received_at=convert.timestamp(flushed.received_at),
        extended_leases=[pb.LeaseExtension(job_id=job_id, lease_expires_at=convert.timestamp(deadline))
                         for job_id, deadline in flushed.extended],
        directives=flushed.directives)


def result_spec(request: pb.SubmitResultRequest) -> dispatch.ResultSpec:
    return dispatch.ResultSpec(
        job_id=request.job_id, lease_token=request.lease_token, outcome=request.outcome,
        result=json_format.MessageToDict(request.result) if request.HasField("result") else None,
        result_hash=request.result_hash, result_size_bytes=request.result_size_bytes, units=request.units,
        miner_signature=request.miner_signature, error_message=request.error_message)


def outcome_message(outcome: dispatch.Outcome) -> pb.ResultOutcome:
    message = pb.ResultOutcome(job_id=outcome.job_id)
    if outcome.error is not None:
        message.error_reason, message.error_message = outcome.error.reason, outcome.error.message
        return message
    message.job.CopyFrom(convert.job(outcome.job))
    if outcome.receipt is not None:
        message.receipt.CopyFrom(convert.receipt(outcome.receipt))
    return message

