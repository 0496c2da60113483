"""The client side of the marketplace: submit, follow, cancel jobs."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, AsyncIterator, Iterable

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator import duties
from coordinator.errors import FailedPrecondition, InvalidArgument, NotFound, Reason, ResourceExhausted, Validator
from coordinator.events.bus import Event, EventBus
from coordinator.identity.callers import current_caller
from coordinator.market.config import Market
from coordinator.pool.workers import coefficient_to_micros
from coordinator.storage import paging
from coordinator.storage.database import ConcurrentInsert, Database
from coordinator.storage.models import TERMINAL_JOB_STATUSES, Job, JobStatus, Receipt, detached, utcnow

if TYPE_CHECKING:
    from coordinator.market.dispatch_group import DispatchGroup

TERMINAL = TERMINAL_JOB_STATUSES
STATUSES = tuple(JobStatus)
MAX_BATCH = 1000
MAX_PARAMETERS_BYTES = 64 * 1024
MAX_TTL = dt.timedelta(days=7)
MAX_WATCHED_JOBS = 10_000  # jobs one server process follows at once (WatchJob)
WATCH_RECHECK_S = 1.0      # how often the watched jobs are read again, for changes made by other processes


@dataclass(frozen=True)
class JobSpec:
    job_type: str
    parameters: dict
    model: str = ""
    min_vram_gb: float = 0.0
    gpu_model: str = ""
    max_price_coefficient: float | None = None
    priority: int = 0
    ttl: dt.timedelta | None = None
    max_price_nanoton: int = 0
    idempotency_key: str = ""


def validate(spec: JobSpec, market: Market, prefix: str = "") -> dict:
    """Column values for a new job, or InvalidArgument naming `<prefix><field>`."""
    check = Validator()
    if spec.job_type not in market.prices:
        supported = ", ".join(sorted(market.prices))
        raise InvalidArgument.field(f"{prefix}job_type", f"{spec.job_type!r} is not supported (supported: {supported})",
                                    reason=Reason.INVALID_JOB_TYPE)
    check.check(len(json.dumps(spec.parameters)) <= MAX_PARAMETERS_BYTES, f"{prefix}parameters",
                "must be at most 64 KiB of JSON")
    check.check(len(spec.model) <= 128, f"{prefix}requirements.model", "must be at most 128 characters")
    check.check(len(spec.gpu_model) <= 64, f"{prefix}requirements.gpu_model", "must be at most 64 characters")
    check.check(0 <= spec.min_vram_gb <= 4096, f"{prefix}requirements.min_vram_gb", "must be between 0 and 4096")
    coefficient = None
    if spec.max_price_coefficient is not None:
        coefficient = check.run(f"{prefix}requirements.max_price_coefficient", coefficient_to_micros,
                                spec.max_price_coefficient)
    check.check(0 <= spec.priority <= 9, f"{prefix}priority", "must be between 0 and 9")
    ttl = spec.ttl if spec.ttl is not None else market.default_ttl
    check.check(dt.timedelta(seconds=1) <= ttl <= MAX_TTL, f"{prefix}ttl", "must be between 1 s and 7 days")
    check.check(spec.max_price_nanoton >= 0, f"{prefix}max_price_nanoton", "must not be negative")
    check.check(len(spec.idempotency_key) <= 128, f"{prefix}idempotency_key", "must be at most 128 characters")
    check.raise_if_any()
    return dict(job_type=spec.job_type, parameters=spec.parameters, required_model=spec.model,
                min_vram_gb=spec.min_vram_gb, required_gpu_model=spec.gpu_model,
                max_price_coefficient_micros=coefficient, priority=spec.priority,
                max_price_nanoton=spec.max_price_nanoton, unit_price_nanoton=market.prices[spec.job_type],
                idempotency_key=spec.idempotency_key or None, ttl=ttl)


async def submit(session: AsyncSession, client_id: str, specs: list[JobSpec], market: Market,
                 batch: bool = False, insert: bool = True, now: dt.datetime | None = None) -> list[tuple[Job, bool]]:
    """Stores the jobs, or refuses them all; returns (job, created) per spec. A spec whose
    idempotency key this client used before returns that job instead of a new one.
    insert=False: the caller inserts the new jobs (insert_new, once for many submissions).
    now: the time of the caller's transaction (a claim in it may lease the new jobs at once)."""
    if batch and not 1 <= len(specs) <= MAX_BATCH:
        raise InvalidArgument.field("jobs", f"must hold 1 to {MAX_BATCH} jobs")
    values = [validate(spec, market, f"jobs[{i}]." if batch else "") for i, spec in enumerate(specs)]
    keys = [v["idempotency_key"] for v in values if v["idempotency_key"]]
    if len(keys) != len(set(keys)):
        raise InvalidArgument.field("jobs", "the same idempotency_key appears twice in the batch")
    existing = {}
    if keys:
        rows = await session.scalars(select(Job).where(Job.client_id == client_id, Job.idempotency_key.in_(keys)))
        existing = {job.idempotency_key: job for job in rows}
    now = now or utcnow()
    jobs = []
    for value in values:
        if value["idempotency_key"] in existing:
            jobs.append((existing[value["idempotency_key"]], False))
            continue
        ttl = value.pop("ttl")
        # Every column given: the row is inserted as is (insert_new), and this object, never
        # added to the session, is what the caller is shown.
        jobs.append((detached(Job, dict(
            id=str(uuid.uuid4()), client_id=client_id, status=JobStatus.PENDING, attempts=0,
            max_attempts=market.max_attempts, available_at=now, expires_at=now + ttl, created_at=now, updated_at=now,
            error_message="", lease_token=None, lease_worker_id=None, lease_expires_at=None,
            lease_price_coefficient_micros=None, **value)), True))
    if insert:
        await insert_new(session, [job for job, created in jobs if created])
    return jobs


_JOB_COLUMNS = [column.key for column in Job.__table__.columns]


async def insert_new(session: AsyncSession, jobs: list[Job]) -> None:
    """One INSERT for all the jobs (a Core statement: the ORM's unit of work costs more per job
    than the insert itself)."""
    if not jobs:
        return
    try:
        await session.execute(insert(Job.__table__), [{key: getattr(job, key) for key in _JOB_COLUMNS}
                                                      for job in jobs])
    except IntegrityError:  # another call inserted the same idempotency key first
        raise ConcurrentInsert() from None


def _of_client(query, client_id: str | None):
    return query if client_id is None else query.where(Job.client_id == client_id)


async def get_own_job(session: AsyncSession, client_id: str | None, job_id: str, *, for_update: bool = False) -> Job:
    """A job of this client (None: of any client, for admins); another client's job is
    NOT_FOUND, as if it did not exist."""
    query = _of_client(select(Job).where(Job.id == job_id), client_id)
    job = await session.scalar(query.with_for_update() if for_update else query)
    if job is None:
        raise NotFound(f"job {job_id} not found", reason=Reason.JOB_NOT_FOUND, metadata={"job_id": job_id})
    return job


async def list_jobs(session: AsyncSession, client_id: str | None, status: str, limit: int | None, page_token: str
                    ) -> tuple[list[Job], str]:
    """The client's jobs, newest first; keyset on (created_at, id)."""
    check = Validator()
    check.check(not status or status in STATUSES, "status", f"must be one of {', '.join(STATUSES)}")
    limit, after = paging.newest_first_request(check, limit, page_token)
    check.raise_if_any()
    query = paging.newest_first(_of_client(select(Job), client_id), Job.created_at, Job.id, limit, after)
    if status:
        query = query.where(Job.status == status)
    return paging.newest_first_page(list(await session.scalars(query)), limit, "created_at")


async def cancel(session: AsyncSession, client_id: str | None, job_id: str) -> Job:
    job = await get_own_job(session, client_id, job_id, for_update=True)
    if job.status in TERMINAL:
        raise FailedPrecondition(f"job {job_id} is already {job.status}", reason=Reason.JOB_ALREADY_TERMINAL,
                                 metadata={"job_id": job_id, "status": job.status})
    job.status = JobStatus.CANCELLED
    release_lease(job)
    return job


def status_event(job: Job) -> Event:
    """job.status_changed, for the job's client (and admins)."""
    return Event("job.status_changed", {"job_id": job.id, "job_type": job.job_type, "status": job.status,
                                        "attempts": job.attempts}, client_id=job.client_id)


def release_lease(job: Job) -> None:
    job.lease_token = None
    job.lease_worker_id = None
    job.lease_expires_at = None
    job.lease_price_coefficient_micros = None


async def receipts_of(session: AsyncSession, client_id: str | None, job_id: str) -> list[Receipt]:
    await get_own_job(session, client_id, job_id)
    return list(await session.scalars(select(Receipt).where(Receipt.job_id == job_id)))


class NewWork:
    """Wakes this process's long-polling fetchers when jobs are submitted here; fetchers also
    re-check on a short interval, for jobs submitted through other processes."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout_s: float) -> None:
        try:
            await asyncio.wait_for(self._event.wait(), timeout_s)
        except asyncio.TimeoutError:
            pass


class JobChanges:
    """Wakes this process's job watchers. A change committed here wakes the jobs' watchers at
    once (notify); for changes committed by other processes one query every WATCH_RECHECK_S reads
    the versions of every watched job together, however many watchers there are."""

    def __init__(self, database: Database, *, limit: int = MAX_WATCHED_JOBS, recheck_s: float = WATCH_RECHECK_S):
        self.database = database
        self.limit = limit
        self.recheck_s = recheck_s
        self._events: dict[str, asyncio.Event] = {}   # one per watched job, shared by its watchers
        self._watchers: dict[str, int] = {}
        self._versions: dict[str, tuple] = {}         # what the last recheck read
        self._rechecks: asyncio.Task | None = None

    @property
    def watched(self) -> int:
        """How many jobs have watchers in this process."""
        return len(self._events)

    def notify(self, job_ids: Iterable[str]) -> None:
        for job_id in job_ids:
            event = self._events.get(job_id)
            if event is not None:
                event.set()

    @contextlib.asynccontextmanager
    async def watching(self, job_id: str) -> AsyncIterator[asyncio.Event]:
        """An event set whenever the job may have changed; the caller clears it before reading."""
        if job_id not in self._events and len(self._events) >= self.limit:
            raise ResourceExhausted(f"this server already follows {self.limit} jobs; watch again later",
                                    retry_after_s=int(self.recheck_s) + 1, reason=Reason.TOO_MANY_WATCHES)
        event = self._events.setdefault(job_id, asyncio.Event())
        self._watchers[job_id] = self._watchers.get(job_id, 0) + 1
        if self._rechecks is None:
            self._rechecks = asyncio.create_task(duties.repeat("job watch recheck", self._recheck, self.recheck_s))
        try:
            yield event
        finally:
            self._watchers[job_id] -= 1
            if not self._watchers[job_id]:
                del self._watchers[job_id], self._events[job_id]
                self._versions.pop(job_id, None)
            if not self._events and self._rechecks is not None:
                self._rechecks.cancel()
                self._rechecks = None

    async def _recheck(self) -> None:
        job_ids = list(self._events)
        for start in range(0, len(job_ids), 1000):
            async with self.database.transaction() as session:
                rows = await session.execute(select(Job.id, Job.status, Job.attempts)
                                             .where(Job.id.in_(job_ids[start:start + 1000])))
            for job_id, *version in rows:
                if job_id in self._events and self._versions.get(job_id) != tuple(version):
                    self._versions[job_id] = tuple(version)
                    self._events[job_id].set()


def visible_client() -> str | None:
    """Whose jobs the caller sees: an admin every client's, anyone else its own."""
    caller = current_caller.get()
    return None if caller.is_admin else caller.client_id


class Jobs:
    """The client side's operations, each one unit of work for the calling client (another
    client's job is NOT_FOUND); a submission wakes this process's waiting miners after it commits,
    a cancellation the job's watchers. Submissions share transactions with the miners' claims and
    results (market/dispatch_group.py)."""

    def __init__(self, database: Database, market: Market, new_work: NewWork, changes: JobChanges, events: EventBus,
                 group: DispatchGroup):
        self.database = database
        self.market = market
        self.new_work = new_work
        self.changes = changes
        self.events = events
        self.group = group

    async def submit(self, specs: list[JobSpec], *, batch: bool) -> list[tuple[Job, bool]]:
        """Each job and whether this call created it (an idempotency key already used returns the
        stored job). Concurrent calls share a transaction (storage/group_commit.py)."""
        stored = await self.group.submit(current_caller.get().client_id, specs, batch)
        self.new_work.notify()
        return stored

    async def get(self, job_id: str) -> Job:
        async with self.database.transaction() as session:
            return await get_own_job(session, visible_client(), job_id)

    async def receipts(self, job_id: str) -> list[Receipt]:
        async with self.database.transaction() as session:
            return await receipts_of(session, visible_client(), job_id)

    async def list(self, status: str, limit: int | None, page_token: str) -> tuple[list[Job], str]:
        async with self.database.transaction() as session:
            return await list_jobs(session, visible_client(), status, limit, page_token)

    async def cancel(self, job_id: str) -> Job:
        async with self.database.transaction() as session:
            job = await cancel(session, visible_client(), job_id)
            await self.events.emit(session, [status_event(job)])
        self.changes.notify([job.id])
        return job

    async def watch(self, job_id: str) -> AsyncIterator[Job]:
        """The job now, then each time its status or attempt changes, ending with it terminal."""
        client_id = visible_client()
        await self.get(job_id)  # NOT_FOUND before taking a place among the watched jobs
        async with self.changes.watching(job_id) as changed:
            sent = None
            while True:
                changed.clear()
                async with self.database.transaction() as session:
                    job = await get_own_job(session, client_id, job_id)
                if (job.status, job.attempts) != sent:  # not lease extensions: they change neither
                    sent = (job.status, job.attempts)
                    yield job
                if job.status in TERMINAL:
                    return
                await changed.wait()
