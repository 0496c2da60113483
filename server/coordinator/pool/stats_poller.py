"""Polls each active worker's HTTP statistics endpoint and stores samples.

Pool workers run the TON "cocoon" worker, whose HTTP port serves `GET /jsonstats` (see
runners/worker/WorkerRunner.cpp in the cocoon source). That document carries request
counters, contract state and per-proxy earnings, but no GPU figures: GPU utilisation, memory
and temperature stay unknown here and come from miner heartbeats. Only /jsonstats is read;
the worker's `/request/*` paths change its state and are never called.

Workers driven by a registered miner report through heartbeats instead and are not polled.
Every replica may run a poller: each worker is claimed for a round with a conditional UPDATE
on `stats_polled_at`, so one replica polls it per interval.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
import time

import aiohttp
import yarl
from sqlalchemy import delete, or_, select, update

from coordinator.duties import repeat
from coordinator.settings import Settings
from coordinator.storage.database import Database
from coordinator.storage.models import Miner, Worker, WorkerSample, WorkerStatus, utcnow

log = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 1 << 20
SYNC_STALE_AFTER_S = 3600
RETENTION_EVERY_S = 3600
CLAIM_BATCH = 1000


@dataclasses.dataclass(frozen=True)
class ParsedStats:
    status: str
    requests_total: int | None = None
    errors_total: int | None = None
    revenue_nanoton: int | None = None
    gpu_utilization: float | None = None
    gpu_memory_used_gb: float | None = None
    gpu_temperature_celsius: float | None = None


def _total(stats: dict, name: str) -> int | None:
    """Cocoon counters are [total since start, then decaying sums over 1s..1d]; take the total."""
    series = stats.get(name)
    if isinstance(series, list) and series and isinstance(series[0], (int, float)):
        return int(series[0])
    return None


def parse_cocoon_stats(document: dict, now: dt.datetime) -> ParsedStats:
    """Reads a cocoon worker's /jsonstats document. Raises ValueError if it is not one."""
    if not isinstance(document, dict) or not isinstance(document.get("stats"), dict):
        raise ValueError("not a cocoon /jsonstats document: no 'stats' object")
    stats = document["stats"]
    status_section = document.get("status") if isinstance(document.get("status"), dict) else {}
    proxies = [p for p in document.get("proxies") or [] if isinstance(p, dict)]
    config = document.get("root_contract_config") if isinstance(document.get("root_contract_config"), dict) else {}

    failed = _total(stats, "failed")
    # WorkerRunner counts each failure twice (once where the request fails, once on cleanup).
    errors_total = failed // 2 if failed is not None else None

    revenue = None
    fee_per_token = config.get("worker_fee_per_token")
    if isinstance(fee_per_token, int):
        # Earned tokens committed on chain x the worker's fee per token (nanoTON): exact integers.
        revenue = sum(int(p.get("earned_tokens_committed_to_blockchain") or 0) for p in proxies) * fee_per_token

    synced_at = status_section.get("ton_last_synced_at")
    unhealthy = (
        status_section.get("actual_image_hash") is False
        or status_section.get("actual_model") is False
        or (isinstance(synced_at, (int, float)) and now.timestamp() - synced_at > SYNC_STALE_AFTER_S)
        or not any(p.get("sc_inited") for p in proxies)
    )
    return ParsedStats(status=WorkerStatus.UNHEALTHY if unhealthy else WorkerStatus.HEALTHY, requests_total=_total(stats, "queries"),
                       errors_total=errors_total, revenue_nanoton=revenue)


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
            try:
                async with http.get(url, allow_redirects=False) as response:
                    if response.status != 200:
                        raise ValueError(f"HTTP {response.status}")
                    body = await response.content.read(MAX_DOCUMENT_BYTES + 1)
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise ValueError("document larger than 1 MiB")
                    return parse_cocoon_stats(json.loads(body), utcnow())
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, UnicodeDecodeError) as error:
                log.info("worker %s unreachable at %s: %s", worker_id, url, error)
                return ParsedStats(status=WorkerStatus.OFFLINE)

    async def _apply_retention(self) -> None:
        if time.monotonic() - self._last_retention < RETENTION_EVERY_S:
            return
        self._last_retention = time.monotonic()
        async with self.database.transaction() as session:
            await session.execute(delete(WorkerSample).where(WorkerSample.sampled_at < utcnow() - self.retention))
