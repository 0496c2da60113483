"""One group commit for the dispatch path: this process's concurrent submissions, results and
claims share one transaction (storage/group_commit.py).

At one job per call a job costs three calls (a submission, a claim, a result), and each call's
transaction costs more than its statements (a pooled connection, BEGIN, COMMIT, the events'
NOTIFY); one group for all three kinds gives every transaction more of them. Jobs (the client
side) and MinerWork (the miner side) call it; each caller is answered once the transaction
holding its work committed.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.errors import DomainError
from coordinator.events.bus import EventBus
from coordinator.market import dispatch, jobs
from coordinator.market.config import Market
from coordinator.market.miners import MinerIdentity
from coordinator.market.receipts import ReceiptSigner
from coordinator.storage.database import Database
from coordinator.storage.group_commit import GroupCommit
from coordinator.storage.models import Job, utcnow

SUBMIT, RESULTS, CLAIM = "submit", "results", "claim"
# A group's weight is the jobs its items submit, judge or may lease. One job per call never
# queues this much, so those calls keep to one transaction at a time and share it; batches do,
# and then up to MAX_WRITERS transactions run at once (one would leave the process idle while
# the database works through each big statement).
MAX_GROUP_JOBS = 256
MAX_WRITERS = 3


class DispatchGroup:
    def __init__(self, database: Database, market: Market, signer: ReceiptSigner, events: EventBus):
        self.market = market
        self.signer = signer
        self.events = events
        self.commit = GroupCommit(database, self._apply, max_group=MAX_GROUP_JOBS, max_writers=MAX_WRITERS,
                                  weight=_jobs_of)

    @property
    def groups(self) -> int:
        """Transactions committed so far."""
        return self.commit.groups

    async def submit(self, client_id: str, specs: list[jobs.JobSpec], batch: bool) -> list[tuple[Job, bool]]:
        """jobs.submit's outcome: each job and whether this call created it."""
        return await self.commit.run((SUBMIT, (client_id, specs, batch)))

    async def results(self, who: MinerIdentity, specs: list[dispatch.ResultSpec]) -> list[dispatch.Outcome]:
        return await self.commit.run((RESULTS, (who, specs)))

    async def claim(self, miner_id: str, max_jobs: int) -> list[Job]:
        return await self.commit.run((CLAIM, (miner_id, max_jobs)))

    async def _apply(self, session: AsyncSession, items: list[tuple[str, tuple]]) -> list:
        """Every submission first (one INSERT for all their new jobs), then every result, judged
        together (one lock statement for all their jobs), then the claims one after another: each
        claim sees the jobs submitted and the room freed before it, and the jobs the claims before
        it leased. One NOTIFY for all the jobs' events. Outcomes in the items' order."""
        now = utcnow()
        outcomes: dict[int, object] = {}
        submitted = []
        for index, (client_id, specs, batch) in _of_kind(items, SUBMIT):
            try:
                stored = await jobs.submit(session, client_id, specs, self.market, batch=batch, insert=False, now=now)
            except DomainError as error:  # refused before it wrote anything
                outcomes[index] = error
                continue
            outcomes[index] = stored
            submitted += [job for job, created in stored if created]
        await jobs.insert_new(session, submitted)

        results = _of_kind(items, RESULTS)
        if results:
            judged = iter(await dispatch.submit_many(session, [(who, spec) for _, (who, specs) in results
                                                               for spec in specs], self.market, self.signer, now))
            for index, (_, specs) in results:
                outcomes[index] = [next(judged) for _ in specs]

        claims = _of_kind(items, CLAIM)
        leased = await dispatch.claim_many(session, [args for _, args in claims], self.market, now) if claims else []
        for (index, _), jobs_leased in zip(claims, leased, strict=True):
            outcomes[index] = jobs_leased

        changed = submitted + [o.job for index, _ in results for o in outcomes[index] if o.job is not None]
        changed += [job for jobs_leased in leased for job in jobs_leased]
        await self.events.emit(session, [jobs.status_event(job) for job in changed])
        return [outcomes[index] for index in range(len(items))]


def _of_kind(items: list[tuple[str, tuple]], kind: str) -> list[tuple[int, tuple]]:
    """(index, arguments) of the items of this kind."""
    return [(index, args) for index, (item_kind, args) in enumerate(items) if item_kind == kind]


def _jobs_of(item: tuple[str, tuple]) -> int:
    """The jobs an item submits, judges or may lease."""
    kind, args = item
    return args[1] if kind == CLAIM else len(args[1])
