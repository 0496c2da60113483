"""Workers: GPU instances owned by participants, and their statistics."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from dataclasses import dataclass
from typing import AsyncIterator

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator import ledger
from coordinator.errors import AlreadyExists, InvalidArgument, Reason, Validator
from coordinator.events.bus import EventBus, Lost
from coordinator.identity.callers import current_caller, require_owner, scoped_participant_filter
from coordinator.money import decimal_to_units
from coordinator.pool.participants import DailyEarning, daily_earnings, require_participant
from coordinator.storage import paging
from coordinator.storage.database import Database, get_existing, not_found
from coordinator.storage.models import LedgerEntry, Participant, Worker, WorkerSample, WorkerStatus, utcnow

COEFFICIENT_DECIMALS = 6
MAX_COEFFICIENT_MICROS = 1000 * 10**COEFFICIENT_DECIMALS
MAX_INSTANCE_NUMBER = 10_000
MAX_METRICS_HOURS = 720
DEFAULT_METRICS_HOURS = 24
HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


def check_worker_name(value: str, field: str) -> str:
    value = value.strip()
    if not 1 <= len(value) <= 64 or not value.isprintable():
        raise InvalidArgument.field(field, "must be 1-64 printable characters")
    return value


def check_host(value: str, field: str) -> str:
    value = value.strip()
    try:
        ipaddress.ip_address(value)
        return value
    except ValueError:
        pass
    if not HOSTNAME.match(value):
        raise InvalidArgument.field(field, "must be a host name or an IP address")
    return value


def check_port(value: int, field: str) -> int:
    if not 1 <= value <= 65535:
        raise InvalidArgument.field(field, "must be between 1 and 65535")
    return value


def check_instance_number(value: int, field: str) -> int:
    if not 0 <= value <= MAX_INSTANCE_NUMBER:
        raise InvalidArgument.field(field, f"must be between 0 and {MAX_INSTANCE_NUMBER}")
    return value


def coefficient_to_micros(value: float, field: str) -> int:
    micros = decimal_to_units(value, COEFFICIENT_DECIMALS, field, allow_zero=False)
    if micros > MAX_COEFFICIENT_MICROS:
        raise InvalidArgument.field(field, "must be at most 1000")
    return micros


@dataclass(frozen=True)
class NewWorker:
    participant_id: int
    worker_name: str
    instance_number: int
    host: str
    stats_port: int
    price_coefficient: float | None = None
    is_active: bool | None = None


# Field name -> checker for the fields a PATCH may change (the checker returns the stored value).
UPDATABLE = {
    "worker_name": check_worker_name,
    "instance_number": check_instance_number,
    "host": check_host,
    "stats_port": check_port,
    "price_coefficient": coefficient_to_micros,
    "is_active": lambda value, field: bool(value),
}
COLUMN_OF = {"price_coefficient": "price_coefficient_micros"}


async def create_worker(session: AsyncSession, new: NewWorker) -> Worker:
    check = Validator()
    values = {name: check.run(name, UPDATABLE[name], getattr(new, name))
              for name in ("worker_name", "instance_number", "host", "stats_port")}
    coefficient = 1_000_000
    if new.price_coefficient is not None:
        coefficient = check.run("price_coefficient", coefficient_to_micros, new.price_coefficient)
    check.check(new.participant_id > 0, "participant_id", "is required")
    check.raise_if_any()
    await require_participant(session, new.participant_id)
    worker = Worker(participant_id=new.participant_id, price_coefficient_micros=coefficient,
                    is_active=True if new.is_active is None else new.is_active, **values)
    session.add(worker)
    await _flush_or_conflict(session)
    return worker


async def revenue_of(session: AsyncSession, workers: list[Worker]) -> dict[int, int]:
    """Each worker's revenue in nanoTON: what it reports itself (a polled cocoon worker's
    on-chain earnings) plus what it earned in this pool's marketplace (the ledger)."""
    earned = await ledger.earnings_by(session, LedgerEntry.worker_id, [w.id for w in workers])
    return {w.id: w.latest_revenue_nanoton + earned.get(w.id, 0) for w in workers}


async def get_worker(session: AsyncSession, worker_id: int) -> Worker:
    return await get_existing(session, Worker, worker_id, "worker")


async def get_worker_and_revenue(session: AsyncSession, worker_id: int) -> tuple[Worker, int]:
    """The worker and its revenue (as revenue_of) in one statement: GetWorker is the pool's
    most frequent read."""
    earned = ledger.earned(LedgerEntry.worker_id, Worker.id)
    row = (await session.execute(select(Worker, earned).where(Worker.id == worker_id))).first()
    if row is None:
        raise not_found("worker", worker_id)
    worker, marketplace_earnings = row
    return worker, worker.latest_revenue_nanoton + int(marketplace_earnings)


async def update_worker(session: AsyncSession, worker_id: int, changes: dict) -> Worker:
    """Applies only the fields in `changes` (the fields present in the request)."""
    check = Validator()
    stored = {name: check.run(name, UPDATABLE[name], value) for name, value in changes.items()}
    check.raise_if_any()
    worker = await get_worker(session, worker_id)
    for name, value in stored.items():
        setattr(worker, COLUMN_OF.get(name, name), value)
    await _flush_or_conflict(session)
    return worker


async def _flush_or_conflict(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError:  # the unique (participant, name, instance); the request's transaction rolls back
        raise AlreadyExists("the participant already has a worker with this name and instance number",
                            reason=Reason.WORKER_ALREADY_EXISTS) from None


async def list_workers(session: AsyncSession, participant_id: int, is_active: bool | None, limit: int | None,
                       page_token: str) -> tuple[list[Worker], str]:
    check = Validator()
    check.check(participant_id >= 0, "participant_id", "must not be negative")
    limit = check.run("limit", lambda value, field: paging.resolve_limit(value, field), limit)
    after = check.run("page_token", lambda token, field: paging.decode_token(token, ("after_id",), field),
                      page_token)
    check.raise_if_any()
    query = select(Worker).order_by(Worker.id).limit(limit + 1)
    if participant_id:
        query = query.where(Worker.participant_id == participant_id)
    if is_active is not None:
        query = query.where(Worker.is_active == is_active)
    if after:
        query = query.where(Worker.id > int(after["after_id"]))
    rows = list(await session.scalars(query))
    next_token = paging.encode_token({"after_id": rows[limit - 1].id}) if len(rows) > limit else ""
    return rows[:limit], next_token


async def worker_metrics(session: AsyncSession, worker_id: int, hours: int | None,
                         now: dt.datetime | None = None) -> tuple[int, list[WorkerSample]]:
    hours = DEFAULT_METRICS_HOURS if hours is None else hours
    if not 1 <= hours <= MAX_METRICS_HOURS:
        raise InvalidArgument.field("hours", f"must be between 1 and {MAX_METRICS_HOURS}")
    await get_worker(session, worker_id)
    since = (now or utcnow()) - dt.timedelta(hours=hours)
    samples = await session.scalars(
        select(WorkerSample).where(WorkerSample.worker_id == worker_id, WorkerSample.sampled_at >= since)
        .order_by(WorkerSample.sampled_at, WorkerSample.id))
    return hours, list(samples)


@dataclass(frozen=True)
class WindowStats:
    hours: int
    samples: int = 0
    uptime_ratio: float = 0.0
    avg_gpu_utilization: float = 0.0
    peak_gpu_utilization: float = 0.0
    requests: int = 0
    errors: int = 0
    revenue_nanoton: int = 0


STATS_WINDOWS_HOURS = (24, 24 * 7, 24 * 30)


async def worker_stats(session: AsyncSession, worker_id: int, now: dt.datetime | None = None
                       ) -> tuple[Worker, list[WindowStats]]:
    worker = await get_worker(session, worker_id)
    now = now or utcnow()
    since = now - dt.timedelta(hours=max(STATS_WINDOWS_HOURS))
    rows = (await session.execute(
        select(WorkerSample.sampled_at, WorkerSample.status, WorkerSample.gpu_utilization,
               WorkerSample.requests_total, WorkerSample.errors_total, WorkerSample.revenue_nanoton)
        .where(WorkerSample.worker_id == worker_id, WorkerSample.sampled_at >= since)
        .order_by(WorkerSample.sampled_at, WorkerSample.id))).all()
    windows = [summarise([r for r in rows if r.sampled_at >= now - dt.timedelta(hours=h)], h)
               for h in STATS_WINDOWS_HOURS]
    return worker, windows


def summarise(rows, hours: int) -> WindowStats:
    """Aggregates samples (oldest first). Request and error counters reset when a worker
    restarts, so a drop counts as a restart from zero; reported revenue only grows, so a drop
    (a closed proxy leaving the worker's list) counts as no revenue, never as negative."""
    if not rows:
        return WindowStats(hours=hours)
    utilizations = [r.gpu_utilization for r in rows if r.gpu_utilization is not None]
    return WindowStats(
        hours=hours,
        samples=len(rows),
        uptime_ratio=sum(r.status == WorkerStatus.HEALTHY for r in rows) / len(rows),
        avg_gpu_utilization=sum(utilizations) / len(utilizations) if utilizations else 0.0,
        peak_gpu_utilization=max(utilizations, default=0.0),
        requests=counter_increase([r.requests_total for r in rows], resets=True),
        errors=counter_increase([r.errors_total for r in rows], resets=True),
        revenue_nanoton=counter_increase([r.revenue_nanoton for r in rows], resets=False),
    )


def counter_increase(values: list[int | None], *, resets: bool) -> int:
    known = [v for v in values if v is not None]
    total = 0
    for previous, current in zip(known, known[1:]):
        if current >= previous:
            total += current - previous
        elif resets:
            total += current
    return total


@dataclass(frozen=True)
class WorkerView:
    worker: Worker
    revenue_nanoton: int  # as revenue_of


WORKER_EVENTS = frozenset({"worker.status_changed", "worker.metrics", "miner.registered"})


class Workers:
    """The pool's worker operations, each one unit of work with its ownership check: what
    WorkerService calls, and what a command line or a background duty would call."""

    def __init__(self, database: Database, events: EventBus):
        self.database = database
        self.events = events

    async def list(self, participant_id: int, is_active: bool | None, limit: int | None, page_token: str
                   ) -> tuple[list[WorkerView], str]:
        participant_id = scoped_participant_filter(participant_id)
        async with self.database.transaction() as session:
            rows, next_token = await list_workers(session, participant_id, is_active, limit, page_token)
            revenue = await revenue_of(session, rows)
        return [WorkerView(w, revenue[w.id]) for w in rows], next_token

    async def get(self, worker_id: int) -> WorkerView:
        async with self.database.transaction() as session:
            worker, revenue = await get_worker_and_revenue(session, worker_id)
        require_owner(worker.participant_id, "worker")
        return WorkerView(worker, revenue)

    async def create(self, new: NewWorker) -> WorkerView:
        require_owner(new.participant_id, "participant")
        async with self.database.transaction() as session:
            return await _view(session, await create_worker(session, new))

    async def update(self, worker_id: int, changes: dict) -> WorkerView:
        async with self.database.transaction() as session:
            await _owned(session, worker_id)
            return await _view(session, await update_worker(session, worker_id, changes))

    async def metrics(self, worker_id: int, hours: int | None) -> tuple[int, list[WorkerSample]]:
        async with self.database.transaction() as session:
            await _owned(session, worker_id)
            return await worker_metrics(session, worker_id, hours)

    async def stats(self, worker_id: int) -> tuple[Worker, list[WindowStats]]:
        async with self.database.transaction() as session:
            await _owned(session, worker_id)
            return await worker_stats(session, worker_id)

    async def daily_earnings(self, worker_id: int, days: int | None) -> tuple[Worker, list[DailyEarning]]:
        async with self.database.transaction() as session:
            worker = await _owned(session, worker_id)
            return worker, await daily_earnings(session, worker.participant_id, days, worker_id=worker.id)


    async def watch(self, participant_id: int) -> AsyncIterator[WorkerView]:
        """The participant's workers now, then each again when an event says it changed (those
        that came together read once, together; all of them after a gap)."""
        require_owner(participant_id, "participant")
        async with self.database.transaction() as session:
            await get_existing(session, Participant, participant_id, "participant")
        concerned = lambda event: event.type in WORKER_EVENTS and event.participant_id == participant_id  # noqa: E731
        with self.events.subscribe(concerned, current_caller.get()) as subscription:  # before the first read
            changed: set[int] | None = None
            while True:
                async with self.database.transaction() as session:
                    query = select(Worker).where(Worker.participant_id == participant_id).order_by(Worker.id)
                    if changed is not None:
                        query = query.where(Worker.id.in_(changed))
                    rows = list(await session.scalars(query))
                    revenue = await revenue_of(session, rows)
                for worker in rows:
                    yield WorkerView(worker, revenue[worker.id])
                item, changed = await subscription.next(), set()
                while item is not None:
                    if isinstance(item, Lost):
                        changed = None
                    elif changed is not None:
                        changed.add(item.data["worker_id"])
                    item = subscription.take_nowait()


async def _owned(session: AsyncSession, worker_id: int) -> Worker:
    worker = await get_worker(session, worker_id)
    require_owner(worker.participant_id, "worker")
    return worker


async def _view(session: AsyncSession, worker: Worker) -> WorkerView:
    return WorkerView(worker, (await revenue_of(session, [worker]))[worker.id])
