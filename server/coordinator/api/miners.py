"""MinerService: converts and calls the miner side's operations (market/work.MinerWork), and
multiplexes the heartbeat stream (acks, assignments and directives on one stream)."""

from __future__ import annotations

import asyncio

from google.protobuf import json_format
from opentelemetry import trace

from computepool.v1 import miner_service_pb2 as pb
from computepool.v1 import miner_service_pb2_grpc as pb_grpc
from coordinator.api import convert, rest
from coordinator.api.request_text import check_request_text
from coordinator.market import dispatch, miners
from coordinator.market.heartbeats import Beat, StreamBudget
from coordinator.market.work import MinerWork
from coordinator.telemetry.observability import span

TOKEN_METADATA = "x-miner-token"


def miner_token(context) -> str | None:
    return next((value for key, value in context.invocation_metadata() or () if key == TOKEN_METADATA), None)


def beat_of(message: pb.Heartbeat) -> Beat:
    gpu = (convert.optional(message, name) for name in Beat.GPU_FIELDS)  # absent stays None: unknown, not 0
    return Beat(message.status, *gpu, message.requests_total, message.errors_total,
                tuple(message.running_job_ids)).checked()


class MinerServicer(pb_grpc.MinerServiceServicer):
    def __init__(self, work: MinerWork, stream_messages_per_minute: int, tracer: trace.Tracer | None = None):
        self.work = work
        self.stream_messages_per_minute = stream_messages_per_minute
        self.tracer = tracer

    async def _identify(self, context, miner_id: str) -> miners.MinerIdentity:
        return await self.work.identify(miner_token(context), miner_id)

    async def RegisterMiner(self, request, context):
        spec = miners.MinerSpec(
            address=request.address, endpoint=request.endpoint,
            capabilities=[json_format.MessageToDict(c) for c in request.capabilities],
            worker_name=convert.optional(request, "worker_name"), instance_number=request.instance_number,
            gpu_model=request.hardware.gpu_model, gpu_count=request.hardware.gpu_count or 1,
            vram_gb=request.hardware.vram_gb, max_concurrent_jobs=request.hardware.max_concurrent_jobs or 1,
            price_coefficient=convert.optional(request, "price_coefficient"), public_key=request.public_key,
            stats_port=request.stats_port)
        miner, worker, token, wallet = await self.work.register(spec)
        await rest.send_created(context)
        return pb.RegisterMinerResponse(miner=convert.miner(miner, worker, wallet), miner_token=token)

    async def SendHeartbeat(self, request, context):
        beat_of(request.heartbeat)  # refuse bad input before the credential lookup
        who = await self._identify(context, request.miner_id)
        return ack_of(await self.work.heartbeat(who, beat_of(request.heartbeat)))

    async def StreamHeartbeats(self, request_iterator, context):
        """Authenticated once, on the first message; each heartbeat is acked, in order, after the
        flush that wrote it; `results` are applied as SubmitResults would and answered by their
        outcomes; `ready_for_jobs` then leases jobs and pushes them down the stream.

        Messages are read while earlier heartbeats still wait for their flush (a miner beating
        faster than the flush interval is not slowed to it; one flush acks all it wrote). Limited
        per stream (not per message as a call): STREAM_MESSAGES_PER_MINUTE, then
        RESOURCE_EXHAUSTED with RetryInfo."""
        answers: asyncio.Queue = asyncio.Queue()  # per message, in order: ("ack"|"results"|"jobs"|"error", value)
        reader = asyncio.create_task(self._read_stream(request_iterator, context, answers))
        try:
            while (answer := await answers.get()) is not None:
                kind, value = answer
                if kind == "error":
                    raise value
                if kind == "jobs":
                    for job in await value:
                        yield pb.StreamHeartbeatsResponse(assignment=convert.assignment(job))
                    continue
                if kind == "results":
                    outcomes = [outcome_message(o) for o in await value]
                    yield pb.StreamHeartbeatsResponse(results=pb.SubmitResultsResponse(outcomes=outcomes))
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
                        identity = await self._identify(context, message.miner_id)
                    if message.HasField("heartbeat"):
                        answers.put_nowait(("ack", self.work.heartbeat(identity, beat_of(message.heartbeat))))
                    returned = None
                    if message.results:
                        returned = asyncio.ensure_future(
                            self.work.submit_results(identity, [result_spec(r) for r in message.results]))
                        answers.put_nowait(("results", returned))
                    if message.ready_for_jobs > 0:
                        answers.put_nowait(("jobs", asyncio.ensure_future(
                            self._claim_after(returned, identity.miner_id, min(message.ready_for_jobs, 100)))))
        except Exception as error:
            answers.put_nowait(("error", error))
        finally:  # however reading ends, the responses loop learns it
            answers.put_nowait(None)

    async def _claim_after(self, returned: asyncio.Future | None, miner_id: str, count: int):
        """Claims once the same message's results are applied, so the slots they free count."""
        if returned is not None:
            await asyncio.wait([returned])  # a failure is answered in its own place in the stream
        return await self.work.claim(miner_id, count)

    async def FetchJobs(self, request, context):
        jobs = await self.work.fetch(miner_token(context), request.miner_id, convert.optional(request, "max_jobs"),
                                     request.wait.ToTimedelta().total_seconds())
        return pb.FetchJobsResponse(assignments=[convert.assignment(job) for job in jobs])

    async def SubmitResult(self, request, context):
        who = await self._identify(context, request.miner_id)
        job, receipt = await self.work.submit_result(who, result_spec(request))
        response = pb.SubmitResultResponse(job=convert.job(job))
        if receipt is not None:
            response.receipt.CopyFrom(convert.receipt(receipt))
        return response

    async def SubmitResults(self, request, context):
        who = await self._identify(context, request.miner_id)
        outcomes = await self.work.submit_results(who, [result_spec(r) for r in request.results])
        return pb.SubmitResultsResponse(outcomes=[outcome_message(o) for o in outcomes])


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

