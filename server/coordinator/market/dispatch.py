"""Dispatch: leasing jobs to workers, results, retries, expiry.

A claim is a lease with a deadline; heartbeats extend it. On PostgreSQL claims take row locks
with FOR UPDATE SKIP LOCKED, so concurrent claimers (in any number of server processes) never
lease one job twice; SQLite, with one writer, is correct without them. Every check that fences
a late result (lease token, lease holder, deadline) runs on the row locked in the same
transaction that completes the job, writes its receipt and posts its ledger entries.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import re
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from computepool.encoding import RESULT_HASH_RULE, result_digest
from coordinator import ledger
from coordinator.duties import repeat
from coordinator.events.bus import Event, EventBus
from coordinator.errors import (
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Reason,
    Validator,
)
from coordinator.market.config import Market
from coordinator.market.jobs import TERMINAL, release_lease, status_event
from coordinator.market.miners import MinerIdentity
from computepool.receipts import verify_miner_signature
from coordinator.market.receipts import ReceiptSigner, receipt_of, rfc3339
from coordinator.storage.models import (Job, JobStatus, Miner, MinerStatus, Receipt, Worker, WorkerStatus, detached,
                                       utcnow)

log = logging.getLogger(__name__)
HEX64 = re.compile(r"^[0-9a-f]{64}$")
MAX_UNITS = 10**12
REAP_BATCH = 500


_jobs, _miners, _workers = Job.__table__, Miner.__table__, Worker.__table__


def _pick_statement(by_model: bool):
    """The pick of a group's claims that share their filters, built once: the pending jobs their
    worker can run (the miner's job types and, when every capability names its models, those
    models; its VRAM, GPU model and the worker's price), priority first, then oldest, locked
    with SKIP LOCKED (a job another transaction is leasing or finishing is passed over).
    Core columns only: an ORM attribute in a statement sends it through the ORM's machinery,
    which costs more than the statement."""
    jobs, now = _jobs.c, bindparam("now")
    conditions = [jobs.status == JobStatus.PENDING, jobs.available_at <= now, jobs.expires_at > now,
                  jobs.job_type.in_(bindparam("job_types", expanding=True)), jobs.min_vram_gb <= bindparam("vram_gb"),
                  or_(jobs.required_gpu_model == "", jobs.required_gpu_model == bindparam("gpu_model")),
                  or_(jobs.max_price_coefficient_micros.is_(None),
                      jobs.max_price_coefficient_micros >= bindparam("coefficient"))]
    if by_model:
        conditions.append(or_(jobs.required_model == "", jobs.required_model.in_(bindparam("models", expanding=True))))
    return (select(*_jobs.columns).where(*conditions).order_by(jobs.priority.desc(), jobs.created_at, jobs.id)
            .limit(bindparam("room")).with_for_update(skip_locked=True))


_PICK = {False: _pick_statement(False), True: _pick_statement(True)}
# The columns a lease changes on its job, written for every job a group leases in one executemany.
_LEASE_COLUMNS = ("status", "attempts", "lease_token", "lease_worker_id", "lease_expires_at",
                  "lease_price_coefficient_micros", "updated_at")
_WRITE_LEASE = (update(_jobs).where(_jobs.c.id == bindparam("job_id"))
                .values({name: bindparam(name) for name in _LEASE_COLUMNS}))
_RUNNING = (select(func.count(_jobs.c.id))
            .where(_jobs.c.lease_worker_id == _miners.c.worker_id, _jobs.c.status == JobStatus.RUNNING)
            .scalar_subquery())
# What a claim needs to know of each claiming miner and its worker, in one read for a group.
_CLAIMERS = (select(_miners.c.id, _miners.c.status, _miners.c.capabilities, _miners.c.vram_gb, _miners.c.gpu_model,
                    _miners.c.max_concurrent_jobs, _workers.c.id.label("worker_id"), _workers.c.is_active,
                    _workers.c.latest_status, _workers.c.price_coefficient_micros, _RUNNING.label("running"))
             .join(_workers, _workers.c.id == _miners.c.worker_id)
             .where(_miners.c.id.in_(bindparam("miner_ids", expanding=True))))


async def claim(session: AsyncSession, miner_id: str, max_jobs: int, market: Market,
                now: dt.datetime) -> list[Job]:
    """Leases up to max_jobs pending jobs to the miner's worker (see claim_many)."""
    (jobs,) = await claim_many(session, [(miner_id, max_jobs)], market, now)
    return jobs


def _filters(claimer) -> tuple:
    """What decides which jobs a claimer may lease: claims with the same filters share one pick."""
    capabilities = claimer.capabilities
    by_model = all(c["models"] for c in capabilities)  # an empty models list means any model
    models = tuple(sorted({m for c in capabilities for m in c["models"]})) if by_model else None
    return (tuple(c["job_type"] for c in capabilities), claimer.vram_gb, claimer.gpu_model,
            claimer.price_coefficient_micros, models)


async def claim_many(session: AsyncSession, claims: list[tuple[str, int]], market: Market,
                     now: dt.datetime) -> list[list[Job]]:
    """Leases to each (miner, up to max_jobs) in turn: priority first, then oldest, each claim
    after the ones before it. One read for every miner (miner, worker, jobs it runs); then, for
    the claims that share their filters, one locked pick of as many jobs as they have room for,
    handed out in the claims' order (what leasing them one claim after another would give);
    then one UPDATE (executemany) for every job leased. Jobs leased together share a lease
    token: they have the same holder, and any later lease of one of them gets a new token. The
    jobs returned are detached snapshots of the leased rows."""
    rows = await session.execute(_CLAIMERS, {"miner_ids": sorted({miner_id for miner_id, _ in claims})})
    found = {row.id: [row, row.running] for row in rows}
    by_filters: dict[tuple, list[tuple[int, object, int]]] = {}  # filters -> (claim's index, claimer, room)
    for index, (miner_id, max_jobs) in enumerate(claims):
        if miner_id not in found:
            continue
        claimer, running = found[miner_id]
        if (claimer.status != MinerStatus.ACTIVE or not claimer.is_active
                or claimer.latest_status == WorkerStatus.OFFLINE):
            continue
        room = min(max_jobs, claimer.max_concurrent_jobs - running)
        if room <= 0:
            continue
        found[miner_id][1] += room  # the same miner twice in one group: its second claim counts these
        by_filters.setdefault(_filters(claimer), []).append((index, claimer, room))
    leases: list[list[Job]] = [[] for _ in claims]
    written = []
    for (job_types, vram_gb, gpu_model, coefficient, models), members in by_filters.items():
        params = {"now": now, "job_types": list(job_types), "vram_gb": vram_gb, "gpu_model": gpu_model,
                  "coefficient": coefficient, "room": sum(room for _, _, room in members)}
        if models is not None:
            params["models"] = list(models)
        picked = iter((await session.execute(_PICK[models is not None], params)).all())
        for index, claimer, room in members:
            token = secrets.token_hex(16)
            for row in itertools.islice(picked, room):
                job = detached(Job, row._mapping)
                job.status, job.attempts, job.lease_token = JobStatus.RUNNING, job.attempts + 1, token
                job.lease_worker_id, job.lease_expires_at = claimer.worker_id, now + market.lease
                job.lease_price_coefficient_micros, job.updated_at = coefficient, now
                leases[index].append(job)
                written.append({"job_id": job.id, **{name: getattr(job, name) for name in _LEASE_COLUMNS}})
    if written:
        await session.execute(_WRITE_LEASE, written)
    return leases


async def extend_leases(session: AsyncSession, worker_id: int, job_ids: list[str], market: Market,
                        now: dt.datetime) -> list[tuple[str, dt.datetime]]:
    """Extends the live leases this worker holds on these jobs; an expired lease stays expired."""
    if not job_ids:
        return []
    deadline = now + market.lease
    rows = await session.execute(
        update(Job).where(Job.id.in_(job_ids), Job.lease_worker_id == worker_id, Job.status == JobStatus.RUNNING,
                          Job.lease_expires_at > now)
        .values(lease_expires_at=deadline).returning(Job.id))
    return [(job_id, deadline) for (job_id,) in rows]


@dataclass(frozen=True)
class ResultSpec:
    job_id: str
    lease_token: str
    outcome: str
    result: dict | None = None
    result_hash: str = ""
    result_size_bytes: int = 0
    units: int = 0
    miner_signature: str = ""
    error_message: str = ""


def _validate_result(spec: ResultSpec, who: MinerIdentity) -> str:
    check = Validator()
    check.check(spec.outcome in ("completed", "failed"), "outcome", "must be completed or failed")
    check.check(bool(spec.lease_token), "lease_token", "is required")
    result_hash = spec.result_hash.lower()
    if spec.outcome == "completed" and not who.public_key:
        raise FailedPrecondition("this miner registered no public_key, so its results cannot be verified: "
                                 "register again with one", reason=Reason.MINER_KEY_MISSING)
    computed = ""  # the hash the server computed from the result, told to a miner it refuses
    if spec.outcome == "completed":
        if spec.result is not None:
            computed = result_digest(spec.result)
            check.check(not result_hash or result_hash == computed, "result_hash",
                        f"is not {computed}, {RESULT_HASH_RULE}")
            result_hash = computed
        if check.check(bool(HEX64.match(result_hash)), "result_hash", "must be 64 hex digits (SHA-256)"):
            over = f"{computed}, {RESULT_HASH_RULE}" if computed else f"the result hash {result_hash}"
            check.check(verify_miner_signature(who.public_key, result_hash, spec.miner_signature),
                        "miner_signature", f"is not this miner's signature over {over}")
        check.check(0 <= spec.units <= MAX_UNITS, "units", f"must be between 0 and {MAX_UNITS}")
        check.check(spec.result_size_bytes >= 0, "result_size_bytes", "must not be negative")
    check.check(len(spec.error_message) <= 1000, "error_message", "must be at most 1000 characters")
    check.raise_if_any(metadata={"computed_result_hash": computed} if computed else None)
    return result_hash


@dataclass(frozen=True)
class Outcome:
    job_id: str
    job: Job | None = None
    receipt: Receipt | None = None
    error: DomainError | None = None


MAX_RESULTS = 1000


def check_result_count(specs: list[ResultSpec]) -> None:
    if not 1 <= len(specs) <= MAX_RESULTS:
        raise InvalidArgument.field("results", f"must hold 1 to {MAX_RESULTS} results")


async def submit_results(session: AsyncSession, who: MinerIdentity, specs: list[ResultSpec], market: Market,
                         signer: ReceiptSigner, now: dt.datetime) -> list[Outcome]:
    """Many results of one miner in one transaction (see submit_many)."""
    check_result_count(specs)
    return await submit_many(session, [(who, spec) for spec in specs], market, signer, now)


# The columns a result changes on its job (completed, failed, or back in the queue), written for
# every judged job of a group in one executemany.
_RESULT_COLUMNS = ("status", "error_message", "updated_at", "available_at", "lease_token", "lease_worker_id",
                   "lease_expires_at", "lease_price_coefficient_micros")
_LOCK_JOBS = (select(*_jobs.columns).where(_jobs.c.id.in_(bindparam("job_ids", expanding=True)))
              .order_by(_jobs.c.id).with_for_update())
_WRITE_RESULT = (update(_jobs).where(_jobs.c.id == bindparam("job_id"))
                 .values({name: bindparam(name) for name in _RESULT_COLUMNS}))
_RECEIPT_COLUMNS = [column.key for column in Receipt.__table__.columns]


async def submit_many(session: AsyncSession, results: list[tuple[MinerIdentity, ResultSpec]], market: Market,
                      signer: ReceiptSigner, now: dt.datetime) -> list[Outcome]:
    """Results, of one miner or of many, in one transaction: the jobs are locked in one
    statement (in id order, so concurrent transactions cannot deadlock), then each result is
    judged on its own on a snapshot of its locked row; a refused one writes nothing. What the
    accepted ones changed is written after: every job in one UPDATE (executemany), the receipts
    in one INSERT, the ledger entries in one INSERT (Core statements: the ORM's unit of work
    costs more per job than the statements)."""
    locked = {row.id: detached(Job, row._mapping) for row in await session.execute(
        _LOCK_JOBS, {"job_ids": sorted({spec.job_id for _, spec in results})})}
    outcomes, entries, changed, issued = [], [], {}, {}
    for who, spec in results:
        job = locked.get(spec.job_id)
        try:
            before = job.status if job is not None else None
            receipt = await _apply(session, job, who, spec, _validate_result(spec, who), market, signer, now, entries,
                                   issued)
            outcomes.append(Outcome(spec.job_id, job, receipt))
            if before not in TERMINAL:  # not the holder's resend of the result that ended it: nothing to write
                changed[job.id] = job
                if receipt is not None:
                    issued[job.id] = receipt
        except DomainError as error:
            outcomes.append(Outcome(spec.job_id, error=error))
    if changed:
        await session.execute(_WRITE_RESULT, [{"job_id": job.id, **{name: getattr(job, name) for name in _RESULT_COLUMNS}}
                                              for job in changed.values()])
    if issued:
        await session.execute(insert(Receipt.__table__), [{key: getattr(receipt, key) for key in _RECEIPT_COLUMNS}
                                                          for receipt in issued.values()])
    await ledger.insert_entries(session, entries)
    return outcomes


async def _apply(session: AsyncSession, job: Job | None, who: MinerIdentity, spec: ResultSpec, result_hash: str,
                 market: Market, signer: ReceiptSigner, now: dt.datetime, entries: list[dict],
                 issued: dict[str, Receipt]) -> Receipt | None:
    """Checks the lease on the (snapshot of the) locked job, then completes or fails it in the
    snapshot; raises before changing it. The lease holder's retry of the result that ended the
    job gets what the first call got, even in the same group (`issued`: the receipts issued in
    this transaction, not yet written). A completion's ledger entries are added to `entries`;
    the caller writes the job, its receipt and the entries."""
    if job is None:
        raise NotFound(f"job {spec.job_id} not found", reason=Reason.JOB_NOT_FOUND, metadata={"job_id": spec.job_id})
    if job.status in TERMINAL:
        receipt = issued.get(job.id) or await session.scalar(select(Receipt).where(Receipt.job_id == job.id))
        if _resends_ending_result(job, receipt, who, spec, result_hash):
            return receipt
        raise FailedPrecondition(f"job {job.id} is already {job.status}", reason=Reason.JOB_ALREADY_TERMINAL,
                                 metadata={"job_id": job.id, "status": job.status})
    if job.status != JobStatus.RUNNING or job.lease_worker_id != who.worker_id or job.lease_token != spec.lease_token:
        raise FailedPrecondition("the job is not leased to this miner under this lease token: the lease expired "
                                 "and moved on, or was never this miner's", reason=Reason.LEASE_LOST,
                                 metadata={"job_id": job.id})
    if job.lease_expires_at <= now:
        raise FailedPrecondition("the lease expired before the result arrived", reason=Reason.LEASE_EXPIRED,
                                 metadata={"job_id": job.id, "lease_expires_at": rfc3339(job.lease_expires_at)})
    if spec.outcome == "failed":
        requeue_or_fail(job, _failure_message(spec), market, now)
        if job.status == JobStatus.FAILED:
            _remember_ending_lease(job, who, spec)
        return None
    return _complete(job, who, spec, result_hash, market, signer, now, entries)


def _failure_message(spec: ResultSpec) -> str:
    return (spec.error_message or "the miner reported a failure")[:1000]


def _remember_ending_lease(job: Job, who: MinerIdentity, spec: ResultSpec) -> None:
    """The lease is released with the job's end, but its token and worker stay on the row (a
    terminal job is never claimed, extended or reaped, so nothing reads them as a live lease):
    they recognise the holder's retry of the same result (_resends_ending_result)."""
    job.lease_token, job.lease_worker_id = spec.lease_token, who.worker_id


def _resends_ending_result(job: Job, receipt: Receipt | None, who: MinerIdentity, spec: ResultSpec,
                           result_hash: str) -> bool:
    """Whether the lease holder is re-sending the result that ended this terminal job. Its first
    reply can be lost (a server killed after the commit, a cut connection), and the miner must
    learn that its work counted. Another worker, another lease or other content is not a retry."""
    if job.lease_token != spec.lease_token or job.lease_worker_id != who.worker_id:
        return False
    if receipt is None:  # failed for good by this lease's failure report
        return job.status == JobStatus.FAILED and spec.outcome == "failed" and job.error_message == _failure_message(spec)
    return spec.outcome == "completed" and (receipt.result_hash, receipt.units) == (result_hash, spec.units)


def requeue_or_fail(job: Job, reason: str, market: Market, now: dt.datetime) -> None:
    """After a failed or lost attempt: back to the queue after a backoff, or failed for good."""
    release_lease(job)
    job.error_message = reason[:1000]
    job.updated_at = now
    if job.attempts >= job.max_attempts:
        job.status = JobStatus.FAILED
    else:
        job.status = JobStatus.PENDING
        job.available_at = now + market.backoff(job.attempts)


def _complete(job: Job, who: MinerIdentity, spec: ResultSpec, result_hash: str,
              market: Market, signer: ReceiptSigner, now: dt.datetime, entries: list[dict]) -> Receipt:
    settlement = ledger.settle(spec.units, job.unit_price_nanoton, job.lease_price_coefficient_micros,
                               job.max_price_nanoton, market.fee_bps)
    receipt_id = str(uuid.uuid4())
    facts = {
        "receipt_id": receipt_id, "job_id": job.id, "job_type": job.job_type, "client_id": job.client_id,
        "worker_id": who.worker_id, "miner_id": who.miner_id, "miner_public_key": who.public_key,
        "owner_wallet": who.owner_wallet, "result_hash": result_hash, "units": spec.units,
        "unit_price_nanoton": job.unit_price_nanoton, "price_coefficient_micros": job.lease_price_coefficient_micros,
        "charge_nanoton": settlement.charge, "earning_nanoton": settlement.earning, "fee_nanoton": settlement.fee,
        "attempt": job.attempts, "submitted_at": rfc3339(job.created_at), "completed_at": rfc3339(now),
        "miner_signature": spec.miner_signature,
    }
    payload, signature = signer.sign(facts)
    receipt = receipt_of(facts, payload=payload, proof=signature, key_id=signer.key_id, result=spec.result,
                         participant_id=who.participant_id)
    entries += ledger.job_settlement_entries(job_id=job.id, receipt_id=receipt_id, client_id=job.client_id,
                                             participant_id=who.participant_id, worker_id=who.worker_id,
                                             settlement=settlement)
    job.status = JobStatus.COMPLETED
    job.error_message = ""
    job.updated_at = now
    release_lease(job)
    _remember_ending_lease(job, who, spec)
    return receipt


async def reap(session: AsyncSession, market: Market, now: dt.datetime,
               heard_since: dt.datetime | None = None, events: EventBus | None = None) -> dict[str, int]:
    """Expires jobs past their ttl, re-queues jobs whose lease ran out, marks silent workers
    offline and releases their leases. Safe in every replica at once (SKIP LOCKED).

    `heard_since`: heartbeats could be stored only from then on (a database outage ended). No
    miner counts as silent until the heartbeat timeout has passed since: after an outage longer
    than the timeout, the whole fleet would otherwise go offline at once and lose its leases."""
    expired = list(await session.scalars(
        select(Job).where(Job.status.in_((JobStatus.PENDING, JobStatus.RUNNING)), Job.expires_at <= now)
        .limit(REAP_BATCH).with_for_update(skip_locked=True)))
    for job in expired:
        job.status = JobStatus.EXPIRED
        job.updated_at = now
        release_lease(job)

    silent = []
    if heard_since is None or heard_since <= now - market.heartbeat_timeout:
        went_silent = (await session.execute(
            select(Worker.id, Worker.participant_id, Worker.latest_status)
            .where(Worker.latest_status != WorkerStatus.OFFLINE,
                   Worker.id.in_(select(Miner.worker_id).where(Miner.last_heartbeat < now - market.heartbeat_timeout)))
            .with_for_update(skip_locked=True))).all()
        silent = [row.id for row in went_silent]
        if silent:
            await session.execute(update(Worker).where(Worker.id.in_(silent)).values(latest_status=WorkerStatus.OFFLINE))
        if events is not None:
            await events.emit(session, [Event("worker.status_changed", {
                "worker_id": row.id, "old": row.latest_status, "new": WorkerStatus.OFFLINE, "reason": "silent"},
                row.participant_id) for row in went_silent])

    lapsed_lease = Job.lease_expires_at <= now
    if silent:
        lapsed_lease = or_(lapsed_lease, Job.lease_worker_id.in_(silent))
    lapsed = list(await session.scalars(
        select(Job).where(Job.status == JobStatus.RUNNING, lapsed_lease).limit(REAP_BATCH).with_for_update(skip_locked=True)))
    for job in lapsed:
        requeue_or_fail(job, "the lease expired: the worker did not finish or went silent", market, now)
    if events is not None:
        await events.emit(session, [status_event(job) for job in expired + lapsed])
    return {"expired": len(expired), "offline_workers": len(silent), "requeued_or_failed": len(lapsed)}


def validate_fetch(max_jobs: int | None, wait_s: float) -> tuple[int, float]:
    """One job when the miner did not say how many; 0 is refused, never quietly made 1."""
    max_jobs = 1 if max_jobs is None else max_jobs
    check = Validator()
    check.check(1 <= max_jobs <= 100, "max_jobs", "must be between 1 and 100")
    check.check(0 <= wait_s <= 30, "wait", "must be at most 30 s")
    check.raise_if_any()
    return max_jobs, wait_s



async def reap_forever(database, market: Market, every_s: float, events: EventBus) -> None:
    async def reap_round() -> None:
        async with database.transaction() as session:
            await reap(session, market, utcnow(), heard_since=database.writable_since(), events=events)

    await repeat("reaper", reap_round, every_s)
