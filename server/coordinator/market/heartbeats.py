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
import time
from dataclasses import dataclass, field
from typing import ClassVar

from opentelemetry import trace
from sqlalchemy import bindparam, func, select, text, update

from coordinator.duties import repeat
from coordinator.errors import ResourceExhausted, Unavailable, Validator
from coordinator.events.bus import Event, EventBus
from coordinator.market import dispatch
from coordinator.market.config import Market
from coordinator.storage.database import Database
from coordinator.storage.models import Miner, Worker, WorkerSample, WorkerStatus, utcnow
from coordinator.telemetry.observability import span

log = logging.getLogger(__name__)

# Miner-reported status -> the worker's latest_status.
WORKER_STATUS = {"healthy": WorkerStatus.HEALTHY, "busy": WorkerStatus.HEALTHY, "draining": WorkerStatus.HEALTHY,
                 "unhealthy": WorkerStatus.UNHEALTHY}  # what a miner reports -> the worker's health
MINER_STATUSES = tuple(WORKER_STATUS)


@dataclass(frozen=True)
class Beat:
    """One heartbeat. A GPU figure is None when the miner did not send it (it cannot read its GPUs)."""
    GPU_FIELDS: ClassVar = ("gpu_utilization", "gpu_memory_used_gb", "gpu_temperature_celsius", "gpu_power_watts")
    # The range each GPU figure must lie in when present.
    GPU_RANGES: ClassVar = {"gpu_utilization": (0, 100), "gpu_memory_used_gb": (0, 4096),
                            "gpu_temperature_celsius": (-50, 150), "gpu_power_watts": (0, 100_000)}

    status: str
    gpu_utilization: float | None
    gpu_memory_used_gb: float | None
    gpu_temperature_celsius: float | None
    gpu_power_watts: float | None
    requests_total: int
    errors_total: int
    running_job_ids: tuple[str, ...]

    def checked(self) -> Beat:
        """This beat, or InvalidArgument naming every value out of range."""
        check = Validator()
        check.check(self.status in MINER_STATUSES, "heartbeat.status", f"must be one of {', '.join(MINER_STATUSES)}")
        for name, (low, high) in self.GPU_RANGES.items():
            value = getattr(self, name)
            check.check(value is None or low <= value <= high, f"heartbeat.{name}", f"must be between {low} and {high}")
        check.check(self.requests_total >= 0, "heartbeat.requests_total", "must not be negative")
        check.check(self.errors_total >= 0, "heartbeat.errors_total", "must not be negative")
        check.check(len(self.running_job_ids) <= 1024, "heartbeat.running_job_ids", "must list at most 1024 jobs")
        check.raise_if_any()
        return self


class StreamBudget:
    """At most `per_minute` messages on one heartbeat stream in any fixed minute counted from the
    first: a stream is one request to Envoy, so its messages are limited where they arrive."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self.window_start = time.monotonic()
        self.used = 0

    def spend(self) -> None:
        now = time.monotonic()
        if now - self.window_start >= 60:
            self.window_start, self.used = now, 0
        self.used += 1
        if self.used > self.per_minute:
            raise ResourceExhausted(f"more than {self.per_minute} messages in a minute on this heartbeat stream",
                                    retry_after_s=int(self.window_start + 60 - now) + 1)


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
    def __init__(self, database: Database, market: Market, flush_every_s: float, events: EventBus,
                 tracer: trace.Tracer | None = None):
        self.database = database
        self.events = events
        self.tracer = tracer
        self.market = market
        self.flush_every_s = flush_every_s
        self._pending: dict[str, _Pending] = {}
        self._last_sample: dict[int, dt.datetime] = {}
        self.flushes = 0

    def record(self, miner_id: str, worker_id: int, beat: Beat) -> asyncio.Future:
        """Queues the heartbeat; the future resolves (a Flushed) once a flush has written it."""
        pending = self._pending.get(miner_id)
        if pending is None:
            pending = self._pending[miner_id] = _Pending(worker_id, beat)
        pending.beat = beat
        pending.running.update(beat.running_job_ids)
        waiter = asyncio.get_running_loop().create_future()
        pending.waiters.append(waiter)
        if self.tracer is not None:
            pending.senders.append(trace.get_current_span().get_span_context())
        return waiter

    async def run_forever(self) -> None:
        """A flush every flush_every_s, counted from the start of the previous one (a flush that
        takes longer is followed by the next at once), so a heartbeat waits one interval at most
        before its flush begins."""
        await repeat("heartbeat flush", self.flush, self.flush_every_s)

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
        except Exception as error:  # the callers learn it (no ack claims a heartbeat stored); the next flush goes on
            if not isinstance(error, Unavailable):  # an outage is logged once, by Database
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
            if self.database.dialect == "postgresql":
                seen = await _write_latest_postgres(session, batch, now)
            else:
                seen = await _write_latest(session, batch, now)
            for miner_id, pending in batch.items():
                extended[miner_id] = await dispatch.extend_leases(session, pending.worker_id, sorted(pending.running),
                                                                  self.market, now)
            await self._sample(session, batch, now)
            await self.events.emit(session, _events(batch, seen))
        return extended, {worker_id for worker_id, (_, _, is_active) in seen.items() if not is_active}

    async def _sample(self, session, batch: dict[str, _Pending], now: dt.datetime) -> None:
        """Stores a sample for each worker whose last one is older than sample_every."""
        unknown = [p.worker_id for p in batch.values() if p.worker_id not in self._last_sample]
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
                gpu_temperature_celsius=beat.gpu_temperature_celsius, gpu_power_watts=beat.gpu_power_watts,
                requests_total=beat.requests_total,
                errors_total=beat.errors_total))
            self._last_sample[pending.worker_id] = now


# Each flush writes thousands of rows at 10,000 miners: on PostgreSQL one statement per table,
# the batch passed as arrays (an ORM bulk UPDATE or an IN list of thousands of parameters cost
# the server more than the heartbeats themselves).
_WORKERS_SEEN_POSTGRES = text("""
    UPDATE workers SET latest_status = beat.status, latest_gpu_utilization = beat.utilization,
                       latest_gpu_memory_used_gb = beat.memory, latest_gpu_temperature_celsius = beat.temperature,
                       latest_gpu_power_watts = beat.power, latest_seen_at = :now
    FROM unnest(CAST(:worker_ids AS integer[]), CAST(:statuses AS varchar[]), CAST(:utilizations AS float8[]),
                CAST(:memories AS float8[]), CAST(:temperatures AS float8[]), CAST(:powers AS float8[]))
         AS beat(worker_id, status, utilization, memory, temperature, power),
         workers AS before
    WHERE workers.id = beat.worker_id AND before.id = workers.id
    RETURNING workers.id, workers.participant_id, before.latest_status, workers.is_active""")
_MINERS_SEEN_POSTGRES = text("UPDATE miners SET last_heartbeat = :now WHERE id = ANY(CAST(:miner_ids AS varchar[]))")


async def _write_latest_postgres(session, batch: dict[str, _Pending], now: dt.datetime) -> dict[int, tuple]:
    """Each worker's latest heartbeat and each miner's last_heartbeat; returns each worker's
    (participant, status before, active flag)."""
    beats = list(batch.values())
    await session.execute(_MINERS_SEEN_POSTGRES, {"now": now, "miner_ids": list(batch)})
    rows = await session.execute(_WORKERS_SEEN_POSTGRES, {
        "now": now, "worker_ids": [p.worker_id for p in beats],
        "statuses": [WORKER_STATUS[p.beat.status] for p in beats],
        "utilizations": [p.beat.gpu_utilization for p in beats],
        "memories": [p.beat.gpu_memory_used_gb for p in beats],
        "temperatures": [p.beat.gpu_temperature_celsius for p in beats],
        "powers": [p.beat.gpu_power_watts for p in beats]})
    return {worker_id: (participant_id, before, is_active) for worker_id, participant_id, before, is_active in rows}


_workers = Worker.__table__
_WORKER_SEEN = update(_workers).where(_workers.c.id == bindparam("worker_id")).values(
    latest_status=bindparam("status"), latest_gpu_utilization=bindparam("utilization"),
    latest_gpu_memory_used_gb=bindparam("memory"), latest_gpu_temperature_celsius=bindparam("temperature"),
    latest_gpu_power_watts=bindparam("power"), latest_seen_at=bindparam("now"))


async def _write_latest(session, batch: dict[str, _Pending], now: dt.datetime) -> dict[int, tuple]:
    """The same on any other database (SQLite: one process, a few miners)."""
    worker_ids = [p.worker_id for p in batch.values()]
    seen = {row.id: (row.participant_id, row.latest_status, row.is_active) for row in await session.execute(
        select(Worker.id, Worker.participant_id, Worker.latest_status, Worker.is_active)
        .where(Worker.id.in_(worker_ids)))}
    await session.execute(update(Miner).where(Miner.id.in_(list(batch))).values(last_heartbeat=now))
    await session.execute(_WORKER_SEEN, [
        {"worker_id": p.worker_id, "status": WORKER_STATUS[p.beat.status], "utilization": p.beat.gpu_utilization,
         "memory": p.beat.gpu_memory_used_gb, "temperature": p.beat.gpu_temperature_celsius,
         "power": p.beat.gpu_power_watts, "now": now}
        for p in batch.values()])
    return seen


def _events(batch: dict[str, _Pending], seen: dict[int, tuple]) -> list[Event]:
    """worker.metrics for each heartbeat written, worker.status_changed where its status changed."""
    events = []
    for pending in batch.values():
        if pending.worker_id not in seen:
            continue
        participant_id, before, _ = seen[pending.worker_id]
        beat, status = pending.beat, WORKER_STATUS[pending.beat.status]
        if before != status:
            events.append(Event("worker.status_changed", {"worker_id": pending.worker_id, "old": before, "new": status,
                                                          "reason": "heartbeat"}, participant_id))
        figures = {name: getattr(beat, name) for name in Beat.GPU_FIELDS}
        events.append(Event("worker.metrics", {"worker_id": pending.worker_id, "status": beat.status, **figures,
                                               "running_jobs": len(beat.running_job_ids)}, participant_id))
    return events
