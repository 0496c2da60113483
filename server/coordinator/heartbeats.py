"""Heartbeats, coalesced: they wait in memory and one transaction per flush writes them all.

A miner may send many heartbeats between flushes; only its latest is written (the running job
ids of all of them extend leases). A caller awaits the flush that wrote its heartbeat, so the
answer it gets (leases extended) is true, and `GET /workers/{id}` shows the heartbeat as soon as
the call returns — within one flush interval (0.5 s by default) of sending it. At most one
sample per worker is stored per SAMPLE_EVERY_SECONDS (60 s), so /metrics history stays small.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field

from opentelemetry import trace
from sqlalchemy import func, select, update

from . import dispatch
from .db import Database
from .market import Market
from .models import Miner, Worker, WorkerSample, utcnow
from .observability import span

log = logging.getLogger(__name__)

# Miner-reported status -> the worker's latest_status.
WORKER_STATUS = {"healthy": "healthy", "busy": "healthy", "draining": "healthy", "unhealthy": "unhealthy"}
MINER_STATUSES = tuple(WORKER_STATUS)


@dataclass(frozen=True)
class Beat:
    status: str
    gpu_utilization: float
    gpu_memory_used_gb: float
    gpu_temperature_celsius: float
    requests_total: int
    errors_total: int
    running_job_ids: tuple[str, ...]


@dataclass
class _Pending:
    worker_id: int
    beat: Beat
    running: set[str] = field(default_factory=set)
    waiters: list[asyncio.Future] = field(default_factory=list)
    senders: list = field(default_factory=list)  # span contexts of the calls waiting (tracing on)


@dataclass(frozen=True)
class Flushed:
    received_at: dt.datetime
    extended: list[tuple[str, dt.datetime]]
    directives: tuple[str, ...] = ()  # "drain": the operator took the worker out of the pool


class HeartbeatBuffer:
    def __init__(self, database: Database, market: Market, flush_every_s: float, tracer: trace.Tracer | None = None):
        self.database = database
        self.tracer = tracer
        self.market = market
        self.flush_every_s = flush_every_s
        self._pending: dict[str, _Pending] = {}
        self._last_sample: dict[int, dt.datetime] = {}
        self.flushes = 0

    async def record(self, miner_id: str, worker_id: int, beat: Beat) -> Flushed:
        """Queues the heartbeat and waits until a flush has written it."""
        pending = self._pending.get(miner_id)
        if pending is None:
            pending = self._pending[miner_id] = _Pending(worker_id, beat)
        pending.beat = beat
        pending.running.update(beat.running_job_ids)
        waiter = asyncio.get_running_loop().create_future()
        pending.waiters.append(waiter)
        if self.tracer is not None:
            pending.senders.append(trace.get_current_span().get_span_context())
        return await waiter

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self.flush_every_s)
            await self.flush()

    async def flush(self) -> None:
        batch, self._pending = self._pending, {}
        if not batch:
            return
        now = utcnow()
        try:
            # With tracing on: one span for the batch, linked to every heartbeat it writes.
            links = [trace.Link(context) for p in batch.values() for context in p.senders if context.is_valid]
            with span(self.tracer, "heartbeat flush", links=links, attributes={"computepool.heartbeats": len(batch)}):
                extended, inactive = await self._write(batch, now)
        except Exception as error:  # the callers learn it; the next flush goes on
            log.exception("heartbeat flush failed")
            for pending in batch.values():
                for waiter in pending.waiters:
                    if not waiter.done():
                        waiter.set_exception(error)
            return
        self.flushes += 1
        for miner_id, pending in batch.items():
            for waiter in pending.waiters:
                if not waiter.done():
                    waiter.set_result(Flushed(now, extended.get(miner_id, []),
                                              ("drain",) if pending.worker_id in inactive else ()))

    async def _write(self, batch: dict[str, _Pending], now: dt.datetime) -> tuple[dict[str, list], set[int]]:
        """Writes the batch; returns the extended leases per miner and the inactive workers."""
        extended = {}
        async with self.database.transaction() as session:
            await session.execute(update(Miner).where(Miner.id.in_(list(batch))).values(last_heartbeat=now))
            worker_ids = [p.worker_id for p in batch.values()]
            await session.execute(update(Worker), [
                {"id": p.worker_id, "latest_status": WORKER_STATUS[p.beat.status],
                 "latest_gpu_utilization": p.beat.gpu_utilization,
                 "latest_gpu_memory_used_gb": p.beat.gpu_memory_used_gb,
                 "latest_gpu_temperature_celsius": p.beat.gpu_temperature_celsius, "latest_seen_at": now}
                for p in batch.values()])
            for miner_id, pending in batch.items():
                extended[miner_id] = await dispatch.extend_leases(session, pending.worker_id, sorted(pending.running),
                                                                  self.market, now)
            await self._sample(session, batch, worker_ids, now)
            inactive = set(await session.scalars(select(Worker.id).where(Worker.id.in_(worker_ids),
                                                                         Worker.is_active.is_(False))))
        return extended, inactive

    async def _sample(self, session, batch: dict[str, _Pending], worker_ids: list[int], now: dt.datetime) -> None:
        """Stores a sample for each worker whose last one is older than sample_every."""
        unknown = [w for w in worker_ids if w not in self._last_sample]
        if unknown:  # another process, or before a restart, may have sampled these recently
            rows = await session.execute(select(WorkerSample.worker_id, func.max(WorkerSample.sampled_at))
                                         .where(WorkerSample.worker_id.in_(unknown)).group_by(WorkerSample.worker_id))
            self._last_sample.update(dict(rows.all()))
        for pending in batch.values():
            last = self._last_sample.get(pending.worker_id)
            if last is not None and now - last < self.market.sample_every:
                continue
            beat = pending.beat
            session.add(WorkerSample(
                worker_id=pending.worker_id, sampled_at=now, status=WORKER_STATUS[beat.status],
                gpu_utilization=beat.gpu_utilization, gpu_memory_used_gb=beat.gpu_memory_used_gb,
                gpu_temperature_celsius=beat.gpu_temperature_celsius, requests_total=beat.requests_total,
                errors_total=beat.errors_total))
            self._last_sample[pending.worker_id] = now
