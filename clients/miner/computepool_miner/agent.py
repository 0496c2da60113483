"""The work loop: one heartbeat stream, jobs run up to max_concurrent_jobs at once, signed results.

- Each stream message is a heartbeat (GPU figures, the running job ids whose leases it extends)
  and asks for as many jobs as there are free slots (`ready_for_jobs`): at once when a slot
  frees, else every claim_interval_s while any is free, every heartbeat_interval_s when full.
- The server answers each message with its ack, then the jobs that message leased, so the ack of
  message k closes the claims of messages before k: that is how the agent knows how many slots its
  claims still hold.
- Results go back on the stream once it has answered (the next message carries every finished
  one, and asks for the slots they free), answered by their outcomes. A running job the server
  did not extend is a lost lease: the agent stops it and never submits its result. A result the
  server refuses (LEASE_LOST, LEASE_EXPIRED, ...) is dropped.
- When the stream fails the agent backs off (exponential, with jitter) and meanwhile works
  through the unary calls: SendHeartbeat to keep its leases, FetchJobs (long-poll) for work,
  SubmitResult(s) for results, including those whose outcome the broken stream never brought
  (a repeat of a result is answered as the first was).
- drain (SIGTERM or the `drain`/`stop` directive): no more claims; running jobs get
  drain_grace_s to finish and be returned; then it ends.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import time
from dataclasses import dataclass, field
from typing import AsyncIterator

import nacl.signing
from computepool import AsyncClient
from computepool.encoding import canonical_result, result_digest
from computepool.errors import ComputepoolError, PermissionDenied, Unauthenticated, Unavailable
from computepool.v1 import miner_service_pb2 as pb
from google.protobuf import json_format, struct_pb2

from computepool_miner.config import Config
from computepool_miner.executors import Executor, ExecutorFailed
from computepool_miner.gpu import Gpus
from computepool_miner.telemetry import Metrics

log = logging.getLogger("computepool_miner")
MIN_MESSAGE_GAP_S = 0.2  # keeps a busy agent well under the server's 1,000 stream messages a minute
BACKOFF_FIRST_S, BACKOFF_MAX_S = 0.5, 15.0
MAX_RESULTS_PER_CALL = 1000
# While other jobs still run, a finished result waits this long for them, so that results finishing
# together go back in one SubmitResults call; a job alone returns at once.
RESULT_LINGER_S = 0.05


class Fatal(Exception):
    """The coordinator refuses this miner (credential revoked, not its worker): retrying cannot help."""


@dataclass
class Claim:
    """One stream message: the jobs it asked for and not yet received, the running jobs it listed."""
    remaining: int
    listed: tuple[str, ...]


@dataclass
class Running:
    assignment: pb.JobAssignment
    task: asyncio.Task[None] | None = None
    result: pb.SubmitResultRequest | None = field(default=None)  # set when the executor finished


class Agent:
    def __init__(self, config: Config, client: AsyncClient, miner_id: str, key: nacl.signing.SigningKey,
                 executors: dict[str, Executor], gpus: Gpus, metrics: Metrics):
        self.config, self.client, self.miner_id, self.key = config, client, miner_id, key
        self.executors, self.gpus, self.metrics = executors, gpus, metrics
        self.running: dict[str, Running] = {}
        self.unsent: list[str] = []  # job ids whose result waits to be sent
        self.on_stream: set[str] = set()  # job ids whose result went out on the stream, outcome not yet read
        self.stream_answers = False  # the current stream has answered: results go on it
        self.claims: dict[int, Claim] = {}
        self.sent = self.acked = 0  # stream messages written / acks read, on the current stream
        self.streams = 0  # which stream is current: the messages of an older one stop
        self.requests_total = self.errors_total = 0
        self.draining = asyncio.Event()
        self.wake_sender = asyncio.Event()
        self.wake_submitter = asyncio.Event()
        self.idle = asyncio.Event()  # set whenever nothing runs and no claim may still deliver a job

    # --- the whole run ---

    async def run(self) -> None:
        """Works until drained; returns once running jobs are returned or the grace period passed."""
        workers = [asyncio.create_task(self._stream_forever()), asyncio.create_task(self._submit_forever())]
        drained = asyncio.create_task(self._drained())
        try:
            done, _ = await asyncio.wait([*workers, drained], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # a Fatal from a worker ends the run with it
        finally:
            for task in [*workers, drained, *(r.task for r in self.running.values() if r.task)]:
                task.cancel()
            await asyncio.gather(*workers, drained, return_exceptions=True)

    def drain(self, why: str) -> None:
        if not self.draining.is_set():
            log.info("draining", extra={"fields": {"why": why, "running": len(self.running)}})
            self.draining.set()
            self.wake_sender.set()

    async def _drained(self) -> None:
        await self.draining.wait()
        self._update_idle()
        try:
            await asyncio.wait_for(self.idle.wait(), self.config.drain_grace_s)
            log.info("drained: every running job returned")
        except TimeoutError:
            log.warning("drain grace period over", extra={"fields": {"abandoned": sorted(self.running)}})

    # --- the heartbeat stream ---

    async def _stream_forever(self) -> None:
        attempt = 0
        while not (self.draining.is_set() and self.idle.is_set()):
            started = time.monotonic()
            try:
                await self._stream_once()
            except ComputepoolError as error:
                if isinstance(error, (Unauthenticated, PermissionDenied)):
                    raise Fatal(f"the coordinator refuses this miner: {error}") from None
                log.warning("heartbeat stream ended", extra={"fields": {"error": str(error)}})
            if self.draining.is_set() and self.idle.is_set():
                return  # the agent closed the stream itself, drained
            if time.monotonic() - started > 30:  # the stream worked for a while: start backing off afresh
                attempt = 0
            delay = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** attempt) * random.uniform(0.5, 1.0)
            attempt += 1
            self.metrics.reconnects += 1
            await self._work_without_stream(delay)

    async def _stream_once(self) -> None:
        self.claims, self.sent, self.acked = {}, 0, 0
        self.streams += 1
        try:
            async for message in self.client.miners.stream_heartbeats(self._messages(self.streams)):
                self._received(message)
        finally:
            self.streams += 1  # grpc may still pull on the ended stream's messages: they stop now
            self.claims = {}  # jobs the lost stream had leased but not delivered expire by themselves
            self.stream_answers = False
            self.unsent[:0] = sorted(job_id for job_id in self.on_stream if job_id in self.running)
            self.on_stream.clear()
            self.wake_submitter.set()  # results without an outcome go again, by unary call
            self._update_idle()

    async def _messages(self, stream: int) -> AsyncIterator[pb.StreamHeartbeatsRequest]:
        """What the agent writes on stream number `stream`; it ends (closing the stream) once
        drained, or once that stream is over."""
        while stream == self.streams:
            # draining: acks come sooner, so the claims still open are closed sooner
            quick = self._free() or self.draining.is_set()
            interval = self.config.claim_interval_s if quick else self.config.heartbeat_interval_s
            try:
                await asyncio.wait_for(self.wake_sender.wait(), interval)
            except TimeoutError:
                pass
            self.wake_sender.clear()
            if stream != self.streams or (self.draining.is_set() and self.idle.is_set()):
                return
            results = self._take_results() if self.stream_answers else []
            # the server claims after applying this message's results: their slots count as free
            ready = 0 if self.draining.is_set() else self._free(freed=len(results))
            beat = self._heartbeat()
            self.claims[self.sent] = Claim(ready, tuple(beat.running_job_ids))
            if ready:
                self.idle.clear()
            self.sent += 1
            yield pb.StreamHeartbeatsRequest(miner_id=self.miner_id, heartbeat=beat, ready_for_jobs=ready,
                                             results=results)
            await asyncio.sleep(MIN_MESSAGE_GAP_S)

    def _received(self, message: pb.StreamHeartbeatsResponse) -> None:
        kind = message.WhichOneof("event")
        if kind == "ack":
            index = self.acked
            self.acked += 1
            claim = self.claims.get(index)
            for earlier in [i for i in self.claims if i < index]:
                del self.claims[earlier]
            if claim is not None:
                self._check_leases(claim.listed, message.ack)
            if not self.stream_answers:
                self.stream_answers = True
                if self.unsent:
                    self.wake_sender.set()
            self._update_idle()
        elif kind == "results":
            for outcome in message.results.outcomes:
                self.on_stream.discard(outcome.job_id)
                self._settle(outcome.job_id, f"{outcome.error_reason}: {outcome.error_message}"
                             if outcome.error_reason else None, "stream", len(message.results.outcomes))
        elif kind == "assignment":
            open_claims = [c for _, c in sorted(self.claims.items()) if c.remaining > 0]
            if open_claims:
                open_claims[0].remaining -= 1
            self._start(message.assignment, "stream")
        elif kind == "directive":
            self._directive(message.directive)

    def _check_leases(self, listed: tuple[str, ...], ack: pb.SendHeartbeatResponse) -> None:
        """A job the heartbeat listed that the server did not extend is no longer this miner's."""
        extended = {lease.job_id for lease in ack.extended_leases}
        for job_id in listed:
            entry = self.running.get(job_id)
            # a finished job may have been returned meanwhile; if its lease was lost, the server refuses it
            if job_id not in extended and entry is not None and entry.result is None:
                log.warning("lease lost: dropping the job", extra={"fields": {"job_id": job_id}})
                self._forget(job_id)
                self.metrics.dropped += 1

    def _directive(self, directive: str) -> None:
        if directive in ("drain", "stop"):
            self.drain(f"directive {directive}")

    async def _work_without_stream(self, seconds: float) -> None:
        """While the stream is down: unary heartbeats keep the leases, FetchJobs long-polls for work.
        A coordinator that does not answer either just means waiting out the backoff."""
        deadline = time.monotonic() + seconds
        miners = self.client.miners
        try:
            while (remaining := deadline - time.monotonic()) > 0:
                beat = self._heartbeat()
                ack = await miners.heartbeat(self.miner_id, beat, timeout=5)
                self._check_leases(tuple(beat.running_job_ids), ack)
                for directive in ack.directives:
                    self._directive(directive)
                free = 0 if self.draining.is_set() else self._free()
                if free:
                    for assignment in await miners.fetch(self.miner_id, max_jobs=min(free, 100),
                                                         wait_s=min(remaining, 10.0), timeout=15):
                        self._start(assignment, "fetch")
                else:
                    await asyncio.sleep(min(remaining, self.config.claim_interval_s))
        except (Unauthenticated, PermissionDenied) as error:
            raise Fatal(f"the coordinator refuses this miner: {error}") from None
        except ComputepoolError as error:
            log.warning("coordinator unreachable", extra={"fields": {"error": str(error)}})
            await asyncio.sleep(max(0.0, deadline - time.monotonic()))

    def _heartbeat(self) -> pb.Heartbeat:
        sample = self.metrics.gpus = self.gpus.sample()
        status = "draining" if self.draining.is_set() else "busy" if not self._free() else "healthy"
        beat = pb.Heartbeat(status=status, requests_total=self.requests_total, errors_total=self.errors_total,
                            running_job_ids=sorted(self.running))
        if sample is not None:  # without one the GPU fields stay absent: unknown, not 0
            beat.gpu_utilization = sample.utilization_percent
            beat.gpu_memory_used_gb = sample.memory_used_gb
            beat.gpu_temperature_celsius = sample.temperature_celsius
            if sample.power_watts is not None:
                beat.gpu_power_watts = sample.power_watts
        return beat

    def _free(self, freed: int = 0) -> int:
        return max(0, self.config.max_concurrent_jobs - (len(self.running) - freed) - self._outstanding())

    def _outstanding(self) -> int:
        """Jobs asked for on the stream whose claim is still open (they may yet arrive)."""
        return sum((claim.remaining for claim in self.claims.values()), 0)

    # --- jobs ---

    def _start(self, assignment: pb.JobAssignment, via: str) -> None:
        self.metrics.received[via] += 1
        job_id = assignment.job.id
        if job_id in self.running:  # a lease renewed by a second delivery: the job already runs
            return
        entry = Running(assignment)
        self.running[job_id] = entry
        self.idle.clear()
        entry.task = asyncio.create_task(self._execute(entry))

    async def _execute(self, entry: Running) -> None:
        job = entry.assignment.job
        executor = self.executors.get(job.job_type)
        started = time.monotonic()
        request = pb.SubmitResultRequest(miner_id=self.miner_id, job_id=job.id,
                                         lease_token=entry.assignment.lease_token)
        try:
            if executor is None:
                raise ExecutorFailed(f"job type {job.job_type!r} has no executor in this miner's config")
            output = await executor.run(json_format.MessageToDict(job.parameters))
            result = struct_pb2.Struct()
            result.update(output.result)
            result_hash = result_digest(output.result)
            request.outcome, request.units = "completed", output.units
            request.result.CopyFrom(result)
            request.result_hash = result_hash
            request.result_size_bytes = len(canonical_result(output.result))
            request.miner_signature = base64.b64encode(self.key.sign(bytes.fromhex(result_hash)).signature).decode()
            ok = True
        except ExecutorFailed as error:
            request.outcome, request.error_message, ok = "failed", str(error)[:1000], False
        except Exception as error:  # an executor bug still ends the job, with the reason
            log.exception("executor error", extra={"fields": {"job_id": job.id}})
            request.outcome, request.error_message, ok = "failed", f"executor error: {error!r}"[:1000], False
        self.metrics.observe(job.job_type, time.monotonic() - started, ok)
        self.requests_total += 1
        self.errors_total += 0 if ok else 1
        entry.result = request
        self.unsent.append(job.id)
        self.wake_submitter.set()

    def _take_results(self) -> list[pb.SubmitResultRequest]:
        """The finished results, up to MAX_RESULTS_PER_CALL, taken for the stream."""
        batch, self.unsent = self.unsent[:MAX_RESULTS_PER_CALL], self.unsent[MAX_RESULTS_PER_CALL:]
        requests = [r.result for job_id in batch if (r := self.running.get(job_id)) and r.result]
        self.on_stream.update(request.job_id for request in requests)
        return requests

    async def _submit_forever(self) -> None:
        """Returns finished results while the stream does not: one SubmitResult, or SubmitResults
        when several are ready."""
        while True:
            await self.wake_submitter.wait()
            if len(self.running) > len(self.unsent):
                await asyncio.sleep(RESULT_LINGER_S)
            self.wake_submitter.clear()
            if self.stream_answers:
                self.wake_sender.set()  # the next stream message takes them
                continue
            while self.unsent and not self.stream_answers:
                batch, self.unsent = self.unsent[:MAX_RESULTS_PER_CALL], self.unsent[MAX_RESULTS_PER_CALL:]
                requests = [r.result for job_id in batch if (r := self.running.get(job_id)) and r.result]
                if not requests:
                    continue
                try:
                    await self._submit(requests)
                except (Unauthenticated, PermissionDenied) as error:
                    raise Fatal(f"the coordinator refuses this miner: {error}") from None
                except ComputepoolError as error:  # unavailable after the SDK's retries: try again shortly
                    log.warning("results not returned yet", extra={"fields": {"error": str(error)}})
                    self.unsent[:0] = [r.job_id for r in requests]
                    await asyncio.sleep(random.uniform(1.0, 2.0))

    async def _submit(self, requests: list[pb.SubmitResultRequest]) -> None:
        refused: dict[str, str] = {}
        if len(requests) == 1:
            try:
                await self.client.miners.submit_result(requests[0])
            except Unavailable:
                raise
            except ComputepoolError as error:  # LeaseLost, LeaseExpired, ...: the job is no longer ours
                refused[requests[0].job_id] = f"{error.reason}: {error}"
        else:
            outcomes = await self.client.miners.submit_results(self.miner_id, requests)
            refused = {o.job_id: f"{o.error_reason}: {o.error_message}" for o in outcomes if o.error_reason}
        for request in requests:
            self._settle(request.job_id, refused.get(request.job_id), "call", len(requests))

    def _settle(self, job_id: str, refusal: str | None, via: str, returned_with: int) -> None:
        """A result's answer: applied (the job is done here) or refused (dropped); either way the slot frees."""
        entry = self.running.get(job_id)
        if entry is None or entry.result is None:
            return  # answered twice (a repeat after a broken stream): settled already
        if refusal:
            log.warning("result refused: dropped", extra={"fields": {"job_id": job_id, "why": refusal}})
            self.metrics.dropped += 1
        else:
            log.info("job returned", extra={"fields": {"job_id": job_id, "outcome": entry.result.outcome,
                                                       "via": via, "returned_with": returned_with}})
            self.metrics.returned[via] += 1
        self._forget(job_id)

    def _forget(self, job_id: str) -> None:
        entry = self.running.pop(job_id, None)
        if entry and entry.task and not entry.task.done():
            entry.task.cancel()
        if job_id in self.unsent:
            self.unsent.remove(job_id)
        self.wake_sender.set()  # a slot is free
        self._update_idle()

    def _update_idle(self) -> None:
        if not self.running and not self._outstanding():
            self.idle.set()
