"""The miner side's operations, each one unit of work (or, for a long poll, a series of them):
register a worker, record a heartbeat, lease jobs (waiting for new work up to a deadline),
return results. Each acts only for the miner the caller's token names and, for a non-admin
key, only for that key's participant; a result that put a job back in the queue wakes this
process's waiting miners after it commits, and every lease or result wakes the jobs' watchers.

Claims and results of concurrent callers share transactions with each other and with
submissions (market/dispatch_group.py): each caller is answered once the transaction holding
its work committed.
"""

from __future__ import annotations

import asyncio
import time

from coordinator.errors import PermissionDenied, Reason
from coordinator.identity.callers import owner_scope
from coordinator.identity.wallet_address import parse_address
from coordinator.market import dispatch, miners
from coordinator.market.dispatch_group import DispatchGroup
from coordinator.market.config import Market
from coordinator.market.heartbeats import Beat, Flushed, HeartbeatBuffer
from coordinator.events.bus import Event, EventBus
from coordinator.market.jobs import JobChanges, NewWork
from coordinator.storage.database import Database
from coordinator.storage.models import Job, JobStatus, Miner, Participant, Receipt, Worker

FETCH_RECHECK_S = 0.25  # how often a long poll looks for jobs other processes received


class MinerWork:
    def __init__(self, database: Database, market: Market, heartbeats: HeartbeatBuffer,
                 new_work: NewWork, changes: JobChanges, events: EventBus, group: DispatchGroup):
        self.database = database
        self.market = market
        self.heartbeats = heartbeats
        self.new_work = new_work
        self.changes = changes
        self.events = events
        self.credentials = miners.MinerCredentials(database)
        self.group = group

    async def register(self, spec: miners.MinerSpec) -> tuple[Miner, Worker, str, str]:
        """(miner, worker, its new credential, the owner's wallet as shown)."""
        owner = owner_scope()

        async def register(session):
            if owner is not None:  # a participant's miner key registers that participant's miners only
                wallet = (await session.get(Participant, owner)).wallet_raw
                if parse_address(spec.address, "address").raw != wallet:
                    raise PermissionDenied("a miner key registers miners for its own participant's wallet only",
                                           reason=Reason.NOT_OWNER)
            miner, worker, token = await miners.register(session, spec, self.market)
            wallet = (await session.get(Participant, worker.participant_id)).wallet_address
            await self.events.emit(session, [Event("miner.registered", {
                "miner_id": miner.id, "worker_id": worker.id, "worker_name": worker.worker_name,
                "instance_number": worker.instance_number}, worker.participant_id)])
            return miner, worker, token, wallet

        return await self.database.retrying(register)

    async def identify(self, token: str | None, miner_id: str) -> miners.MinerIdentity:
        return await self.credentials.identify_owned(token, miner_id)

    def heartbeat(self, who: miners.MinerIdentity, beat: Beat) -> asyncio.Future[Flushed]:
        """Settles once the flush that wrote it committed (a stream queues it and reads on)."""
        return self.heartbeats.record(who.miner_id, who.worker_id, beat)

    async def claim(self, miner_id: str, max_jobs: int) -> list[Job]:
        jobs = await self.group.claim(miner_id, max_jobs)
        self.changes.notify(job.id for job in jobs)
        return jobs

    async def fetch(self, token: str | None, miner_id: str, max_jobs: int | None, wait_s: float) -> list[Job]:
        """Leases jobs as soon as there are any, or returns none once `wait_s` has passed. Bad
        input is refused before the credential is looked up."""
        max_jobs, wait_s = dispatch.validate_fetch(max_jobs, wait_s)
        who = await self.identify(token, miner_id)
        deadline = time.monotonic() + wait_s
        while True:
            jobs = await self.claim(who.miner_id, max_jobs)
            remaining = deadline - time.monotonic()
            if jobs or remaining <= 0:
                return jobs
            await self.new_work.wait(min(remaining, FETCH_RECHECK_S))

    async def submit_result(self, who: miners.MinerIdentity, spec: dispatch.ResultSpec) -> tuple[Job, Receipt | None]:
        (outcome,) = await self.submit_results(who, [spec])
        if outcome.error is not None:
            raise outcome.error
        return outcome.job, outcome.receipt

    async def submit_results(self, who: miners.MinerIdentity, specs: list[dispatch.ResultSpec]
                             ) -> list[dispatch.Outcome]:
        dispatch.check_result_count(specs)
        outcomes = await self.group.results(who, specs)
        self.changes.notify(o.job.id for o in outcomes if o.job is not None)
        if any(o.job is not None and o.job.status == JobStatus.PENDING for o in outcomes):
            self.new_work.notify()
        return outcomes
