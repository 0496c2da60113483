"""Polls each active worker's HTTP statistics endpoint and stores samples.

Pool workers run the TON "cocoon" worker, whose HTTP port serves `GET /jsonstats`
(adapters/cocoon_stats.py reads it). It carries no GPU figures: GPU utilisation, memory and
temperature stay unknown here and come from miner heartbeats.

Workers driven by a registered miner report through heartbeats instead and are not polled.
Every replica may run a poller: each worker is claimed for a round with a conditional UPDATE
on `stats_polled_at`, so one replica polls it per interval.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time

import aiohttp
import yarl
from sqlalchemy import delete, or_, select, update

from coordinator.adapters.cocoon_stats import ParsedStats, fetch_cocoon_stats
from coordinator.duties import repeat
from coordinator.settings import Settings
from coordinator.storage.database import Database
from coordinator.storage.models import Miner, Worker, WorkerSample, WorkerStatus, utcnow

log = logging.getLogger(__name__)

RETENTION_EVERY_S = 3600
CLAIM_BATCH = 1000


class StatsPoller:
    def __init__(self, database: Database, settings: Settings):
        self.database = database
        self.interval = dt.timedelta(seconds=settings.stats_poll_interval_s)
        self.timeout = aiohttp.ClientTimeout(total=settings.stats_poll_timeout_s)
        self.concurrency = asyncio.Semaphore(settings.stats_poll_concurrency)
        self.path = settings.stats_path
        self.retention = dt.timedelta(days=settings.sample_retention_days)
        self._last_retention = 0.0

    async def run_forever(self) -> None:
        async with aiohttp.ClientSession(timeout=self.timeout) as http:
            await repeat("stats poll", lambda: self.poll_round(http), min(self.interval.total_seconds(), 5.0))

    async def poll_round(self, http: aiohttp.ClientSession) -> int:
        """Polls every active worker that is due and no other replica claimed; returns how many."""
        workers = await self._claim_due_workers()
        if not workers:
            await self._apply_retention()
            return 0
        results = await asyncio.gather(*(self._poll(http, w) for w in workers))
        now = utcnow()
        async with self.database.transaction() as session:
            for (worker_id, _, _), parsed in zip(workers, results):
                session.add(WorkerSample(worker_id=worker_id, sampled_at=now, **dataclasses.asdict(parsed)))
                changes = {"latest_status": parsed.status}
                if parsed.status != WorkerStatus.OFFLINE:
                    changes["latest_seen_at"] = now
                    if parsed.revenue_nanoton is not None:
                        changes["latest_revenue_nanoton"] = parsed.revenue_nanoton
                await session.execute(update(Worker).where(Worker.id == worker_id).values(**changes))
        await self._apply_retention()
        return len(workers)

    async def _claim_due_workers(self) -> list[tuple[int, str, int]]:
        now = utcnow()
        due = or_(Worker.stats_polled_at.is_(None), Worker.stats_polled_at <= now - self.interval)
        async with self.database.transaction() as session:
            ids = list(await session.scalars(
                select(Worker.id).where(Worker.is_active, due, Worker.id.not_in(select(Miner.worker_id)))
                .order_by(Worker.id).limit(CLAIM_BATCH)))
            if not ids:
                return []
            claimed = await session.execute(
                update(Worker).where(Worker.id.in_(ids), Worker.is_active, due)
                .values(stats_polled_at=now).returning(Worker.id, Worker.host, Worker.stats_port))
            return [tuple(row) for row in claimed]

    async def _poll(self, http: aiohttp.ClientSession, worker: tuple[int, str, int]) -> ParsedStats:
        worker_id, host, port = worker
        url = yarl.URL.build(scheme="http", host=host, port=port, path=self.path)
        async with self.concurrency:
            return await fetch_cocoon_stats(http, url, worker_id)

    async def _apply_retention(self) -> None:
        if time.monotonic() - self._last_retention < RETENTION_EVERY_S:
            return
        self._last_retention = time.monotonic()
        async with self.database.transaction() as session:
            await session.execute(delete(WorkerSample).where(WorkerSample.sampled_at < utcnow() - self.retention))
