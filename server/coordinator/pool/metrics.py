"""Prometheus metrics of the pool (`cocoon_*`), served on the server's metrics port.

Gauges come from the database, not from process memory, so every replica reports the same
fleet. A background task refreshes a snapshot; the collector only reads it (scrapes run in a
thread, away from the event loop; /ws/metrics sends JSON snapshots of the same figures). Labels are bounded: `worker_id` (active workers)
and `job_type` (configured types); never a wallet, key or job id. Revenue and requests add the
marketplace (ledger earnings, completed jobs) to what polled workers report themselves.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select

from coordinator import ledger
from coordinator.duties import repeat
from coordinator.money import nanoton_to_ton
from coordinator.storage.database import Database
from coordinator.storage.models import (
    Job,
    JobStatus,
    LedgerEntry,
    Miner,
    MinerStatus,
    Payout,
    PayoutStatus,
    Receipt,
    Worker,
    WorkerSample,
    WorkerStatus,
    utcnow,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerFigures:
    worker_id: int
    participant_id: int
    status: str
    gpu_utilization: float | None
    gpu_memory_used_gb: float | None
    gpu_temperature_celsius: float | None
    gpu_power_watts: float | None
    revenue_nanoton: int
    requests_total: int | None
    errors_total: int | None


class PoolCollector:
    def __init__(self, job_types: tuple[str, ...] = ()) -> None:
        self.job_types = job_types  # active_jobs has a series for each, 0 when none runs
        self.workers: list[WorkerFigures] = []
        self.active_jobs: dict[str, int] = {}  # job type -> running jobs
        self.registered_miners = 0
        self.refreshed_at: dt.datetime | None = None  # when the figures were read
        self.owed_nanoton = 0  # what the pool owes all participants
        self.payouts: dict[str, tuple[int, int]] = {}  # payout status -> (count, nanotons)

    async def refresh(self, database: Database) -> None:
        async with database.transaction() as session:
            latest = (select(WorkerSample.worker_id, func.max(WorkerSample.id).label("sample_id"))
                      .where(WorkerSample.requests_total.is_not(None)).group_by(WorkerSample.worker_id).subquery())
            rows = await session.execute(
                select(Worker.id, Worker.participant_id, Worker.latest_status, Worker.latest_gpu_utilization,
                       Worker.latest_gpu_memory_used_gb, Worker.latest_gpu_temperature_celsius,
                       Worker.latest_gpu_power_watts, Worker.latest_revenue_nanoton, WorkerSample.requests_total,
                       WorkerSample.errors_total)
                .outerjoin(latest, latest.c.worker_id == Worker.id)
                .outerjoin(WorkerSample, WorkerSample.id == latest.c.sample_id)
                .where(Worker.is_active).order_by(Worker.id))
            rows = rows.all()
            earned = await ledger.earnings_by(session, LedgerEntry.worker_id, select(Worker.id).where(Worker.is_active))
            completed = dict((await session.execute(
                select(Receipt.worker_id, func.count(Receipt.id)).group_by(Receipt.worker_id))).all())
            self.workers = [
                WorkerFigures(worker_id=row.id, participant_id=row.participant_id, status=row.latest_status,
                              gpu_utilization=row.latest_gpu_utilization,
                              gpu_memory_used_gb=row.latest_gpu_memory_used_gb,
                              gpu_temperature_celsius=row.latest_gpu_temperature_celsius,
                              gpu_power_watts=row.latest_gpu_power_watts,
                              revenue_nanoton=row.latest_revenue_nanoton + earned.get(row.id, 0),
                              requests_total=_plus(row.requests_total, completed.get(row.id)),
                              errors_total=row.errors_total)
                for row in rows]
            self.active_jobs = dict((await session.execute(
                select(Job.job_type, func.count(Job.id)).where(Job.status == JobStatus.RUNNING).group_by(Job.job_type))).all())
            self.registered_miners = await session.scalar(select(func.count(Miner.id)).where(Miner.status == MinerStatus.ACTIVE))
            self.owed_nanoton = sum((await ledger.owed_by_participant(session)).values())
            self.payouts = {status: (int(count), int(total or 0)) for status, count, total in await session.execute(
                select(Payout.status, func.count(Payout.id), func.sum(Payout.amount_nanoton)).group_by(Payout.status))}
        self.refreshed_at = utcnow()

    def collect(self):
        families = {
            "status": GaugeMetricFamily("cocoon_worker_status", "Worker health status (1 healthy, 0 otherwise)",
                                        labels=["worker_id"]),
            "gpu": GaugeMetricFamily("cocoon_gpu_utilization", "GPU utilization percentage", labels=["worker_id"]),
            "memory": GaugeMetricFamily("cocoon_gpu_memory_used_gb", "GPU memory usage in GB", labels=["worker_id"]),
            "temperature": GaugeMetricFamily("cocoon_gpu_temperature_celsius", "GPU temperature in Celsius",
                                             labels=["worker_id"]),
            "power": GaugeMetricFamily("cocoon_gpu_power_watts", "GPU power draw in watts", labels=["worker_id"]),
            "revenue": GaugeMetricFamily("cocoon_revenue_ton", "Revenue in TON", labels=["worker_id"]),
            "requests": CounterMetricFamily("cocoon_inference_requests", "Total inference requests",
                                            labels=["worker_id"]),
            "errors": CounterMetricFamily("cocoon_worker_errors", "Worker errors", labels=["worker_id"]),
        }
        for w in self.workers:
            label = [str(w.worker_id)]
            families["status"].add_metric(label, 1.0 if w.status == WorkerStatus.HEALTHY else 0.0)
            for key, value in (("gpu", w.gpu_utilization), ("memory", w.gpu_memory_used_gb),
                               ("temperature", w.gpu_temperature_celsius), ("power", w.gpu_power_watts)):
                if value is not None:
                    families[key].add_metric(label, value)
            families["revenue"].add_metric(label, nanoton_to_ton(w.revenue_nanoton))
            if w.requests_total is not None:
                families["requests"].add_metric(label, w.requests_total)
            if w.errors_total is not None:
                families["errors"].add_metric(label, w.errors_total)
        yield from families.values()
        active = GaugeMetricFamily("active_jobs", "Jobs leased to a worker right now", labels=["job_type"])
        for job_type in sorted(set(self.job_types) | set(self.active_jobs)):
            active.add_metric([job_type], self.active_jobs.get(job_type, 0))
        yield active
        yield GaugeMetricFamily("registered_miners", "Miners registered and active", value=self.registered_miners)
        yield GaugeMetricFamily("payouts_owed_ton", "What the pool owes participants, not yet in a payout, in TON",
                                value=nanoton_to_ton(self.owed_nanoton))
        count = GaugeMetricFamily("payouts", "Payouts by status", labels=["status"])
        amount = GaugeMetricFamily("payouts_amount_ton", "Payout amounts by status, in TON", labels=["status"])
        for status in PayoutStatus:  # every status has a series, 0 when none is in it
            number, nanotons = self.payouts.get(status, (0, 0))
            count.add_metric([status], number)
            amount.add_metric([status], nanoton_to_ton(nanotons))
        yield count
        yield amount


def _plus(reported: int | None, completed: int | None) -> int | None:
    """Requests a worker reports itself plus the marketplace jobs it completed; None if neither."""
    if reported is None and completed is None:
        return None
    return (reported or 0) + (completed or 0)


def build_registry(collector: PoolCollector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


async def refresh_forever(collector: PoolCollector, database: Database, every_s: float = 5.0) -> None:
    """During a database outage /metrics shows the last figures."""
    await repeat("metrics refresh", lambda: collector.refresh(database), every_s)
