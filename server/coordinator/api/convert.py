"""Proto <-> domain conversions shared by the servicers."""

from __future__ import annotations

import datetime as dt

from google.protobuf import struct_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from computepool.v1 import alert_service_pb2 as alert_pb
from computepool.v1 import event_service_pb2 as event_pb
from computepool.v1 import job_pb2 as job_pb
from computepool.v1 import miner_service_pb2 as miner_pb
from computepool.v1 import participant_service_pb2 as participant_pb
from computepool.v1 import payout_service_pb2 as payout_pb
from computepool.v1 import worker_service_pb2 as worker_pb
from coordinator.alerts.preferences import AlertSettingsView
from coordinator.events.bus import Event
from coordinator.identity.callers import Caller
from coordinator.money import USD_MICROS_DECIMALS, nanoton_to_ton, units_to_float
from coordinator.pool import payout_runs
from coordinator.pool.metrics import PoolCollector
from coordinator.pool.participants import BalanceChange, DailyEarning, ParticipantView
from coordinator.pool.workers import COEFFICIENT_DECIMALS, WindowStats, WorkerView
from coordinator.storage import models


def timestamp(value: dt.datetime | None) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value.astimezone(dt.timezone.utc))
    return ts


def datetime_of(message, field: str) -> dt.datetime | None:
    """The field as an aware UTC datetime, or None when the request left it unset."""
    if not message.HasField(field):
        return None
    return getattr(message, field).ToDatetime(tzinfo=dt.timezone.utc)


def optional(message, field: str):
    return getattr(message, field) if message.HasField(field) else None


def worker(view: WorkerView) -> worker_pb.Worker:
    w, revenue_nanoton = view.worker, view.revenue_nanoton
    return worker_pb.Worker(
        id=w.id, participant_id=w.participant_id, worker_name=w.worker_name, instance_number=w.instance_number,
        host=w.host, stats_port=w.stats_port,
        price_coefficient=units_to_float(w.price_coefficient_micros, COEFFICIENT_DECIMALS),
        is_active=w.is_active, latest_status=w.latest_status,
        latest_gpu_utilization=w.latest_gpu_utilization or 0.0,
        latest_gpu_memory_used_gb=w.latest_gpu_memory_used_gb or 0.0,
        latest_gpu_temperature_celsius=w.latest_gpu_temperature_celsius or 0.0,
        latest_gpu_power_watts=w.latest_gpu_power_watts,
        latest_gpu_reported=any(figure is not None for figure in (
            w.latest_gpu_utilization, w.latest_gpu_memory_used_gb, w.latest_gpu_temperature_celsius)),
        latest_revenue_ton=nanoton_to_ton(revenue_nanoton), latest_revenue_nanoton=revenue_nanoton,
        latest_seen_at=timestamp(w.latest_seen_at), created_at=timestamp(w.created_at),
        updated_at=timestamp(w.updated_at))


def sample(s: models.WorkerSample) -> worker_pb.WorkerSample:
    revenue = s.revenue_nanoton or 0
    return worker_pb.WorkerSample(
        sampled_at=timestamp(s.sampled_at), status=s.status, gpu_utilization=s.gpu_utilization,
        gpu_memory_used_gb=s.gpu_memory_used_gb, gpu_temperature_celsius=s.gpu_temperature_celsius,
        gpu_power_watts=s.gpu_power_watts,
        requests_total=s.requests_total or 0, errors_total=s.errors_total or 0,
        revenue_ton=nanoton_to_ton(revenue), revenue_nanoton=revenue)


def window(w: WindowStats) -> worker_pb.WorkerWindowStats:
    return worker_pb.WorkerWindowStats(
        hours=w.hours, samples=w.samples, uptime_ratio=w.uptime_ratio, avg_gpu_utilization=w.avg_gpu_utilization,
        peak_gpu_utilization=w.peak_gpu_utilization, requests=w.requests, errors=w.errors,
        revenue_ton=nanoton_to_ton(w.revenue_nanoton), revenue_nanoton=w.revenue_nanoton)


def participant(view: ParticipantView) -> participant_pb.Participant:
    p, totals = view.participant, view.totals
    return participant_pb.Participant(
        id=p.id, ton_wallet_address=p.wallet_address, ton_wallet_address_raw=p.wallet_raw, username=p.username,
        is_active=p.is_active, total_workers=totals.total_workers, active_workers=totals.active_workers,
        total_revenue_ton=nanoton_to_ton(totals.total_revenue_nanoton),
        total_revenue_nanoton=totals.total_revenue_nanoton, total_payouts=totals.total_payouts,
        telegram_user_id=float(p.telegram_user_id or 0), email=p.email, created_at=timestamp(p.created_at),
        updated_at=timestamp(p.updated_at), owed_nanoton=totals.balance.owed,
        owed_ton=nanoton_to_ton(totals.balance.owed), earned_nanoton=totals.balance.earned,
        reserved_nanoton=totals.balance.reserved, paid_nanoton=totals.balance.paid,
        payout_threshold_nanoton=totals.payout_threshold_nanoton)


def usd(micros: int) -> float:
    return units_to_float(micros, USD_MICROS_DECIMALS)


def payout(p: models.Payout) -> payout_pb.Payout:
    return payout_pb.Payout(
        id=p.id, participant_id=p.participant_id, transaction_hash=p.transaction_hash or "",
        amount_ton=nanoton_to_ton(p.amount_nanoton), amount_nanoton=p.amount_nanoton,
        amount_usd=usd(p.amount_usd_micros), from_address=p.from_address, to_address=p.to_address,
        transaction_time=timestamp(p.transaction_time), period_start=timestamp(p.period_start),
        period_end=timestamp(p.period_end), created_at=timestamp(p.created_at), status=p.status,
        run_id=p.run_id or 0, comment=payout_runs.memo(p.id) if p.run_id else "", failure_reason=p.failure_reason,
        sent_at=timestamp(p.sent_at), confirmed_at=timestamp(p.confirmed_at))


def payout_run(view: payout_runs.RunView) -> payout_pb.PayoutRun:
    total = sum(p.amount_nanoton for p in view.payouts)
    return payout_pb.PayoutRun(
        id=view.run.id, trigger=view.run.trigger, pool_minimum_nanoton=view.run.pool_minimum_nanoton,
        created_at=timestamp(view.run.created_at), payout_count=len(view.payouts), total_ton=nanoton_to_ton(total),
        total_nanoton=total, payouts=[payout(p) for p in view.payouts])


def balance_change(change: BalanceChange) -> participant_pb.BalanceChange:
    e = change.entry
    return participant_pb.BalanceChange(
        id=e.id, reason=e.kind, amount_nanoton=e.amount, amount_ton=nanoton_to_ton(e.amount),
        balance_after_nanoton=change.balance_after, job_id=e.job_id or "", worker_id=e.worker_id or 0,
        payout_id=e.payout_id or 0, created_at=timestamp(e.created_at))


def daily_earnings(participant_id: int, rows: list[DailyEarning]) -> participant_pb.GetDailyEarningsResponse:
    days: dict[str, participant_pb.DayEarnings] = {}
    for row in rows:  # newest day first, workers by id
        day = days.setdefault(row.day, participant_pb.DayEarnings(date=row.day))
        day.earning_nanoton += row.earning_nanoton
        day.jobs += row.jobs
        day.workers.append(participant_pb.WorkerDayEarnings(
            worker_id=row.worker_id, earning_nanoton=row.earning_nanoton,
            earning_ton=nanoton_to_ton(row.earning_nanoton), jobs=row.jobs))
    for day in days.values():
        day.earning_ton = nanoton_to_ton(day.earning_nanoton)
    return participant_pb.GetDailyEarningsResponse(participant_id=participant_id, days=list(days.values()))


def struct(value: dict | None) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    if value:
        message.update(value)
    return message


def job(j: models.Job) -> job_pb.Job:
    requirements = job_pb.JobRequirements(model=j.required_model, min_vram_gb=j.min_vram_gb,
                                          gpu_model=j.required_gpu_model)
    if j.max_price_coefficient_micros is not None:
        requirements.max_price_coefficient = units_to_float(j.max_price_coefficient_micros, COEFFICIENT_DECIMALS)
    return job_pb.Job(
        id=j.id, client_id=j.client_id, job_type=j.job_type, parameters=struct(j.parameters), status=j.status,
        created_at=timestamp(j.created_at), updated_at=timestamp(j.updated_at), requirements=requirements,
        priority=j.priority, expires_at=timestamp(j.expires_at), unit_price_nanoton=j.unit_price_nanoton,
        max_price_nanoton=j.max_price_nanoton, attempts=j.attempts, idempotency_key=j.idempotency_key or "",
        error_message=j.error_message)


def receipt(r: models.Receipt) -> job_pb.Receipt:
    return job_pb.Receipt(
        id=r.id, job_id=r.job_id, miner_id=r.miner_id, result=struct(r.result), proof=r.signature,
        created_at=timestamp(r.created_at), payload=r.payload, miner_signature=r.miner_signature, key_id=r.key_id,
        result_hash=r.result_hash, units=r.units, charge_nanoton=r.charge_nanoton, earning_nanoton=r.earning_nanoton,
        fee_nanoton=r.fee_nanoton, worker_id=r.worker_id, owner_wallet=r.owner_wallet, attempt=r.attempt)


def miner(m: models.Miner, w: models.Worker, owner_wallet: str) -> miner_pb.Miner:
    return miner_pb.Miner(
        id=m.id, address=owner_wallet, endpoint=m.endpoint,
        capabilities=[miner_pb.MinerCapability(job_type=c["job_type"], models=c["models"]) for c in m.capabilities],
        status=m.status, last_heartbeat=timestamp(m.last_heartbeat), worker_id=w.id,
        hardware=miner_pb.MinerHardware(gpu_model=m.gpu_model, gpu_count=m.gpu_count, vram_gb=m.vram_gb,
                                        max_concurrent_jobs=m.max_concurrent_jobs),
        price_coefficient=units_to_float(w.price_coefficient_micros, COEFFICIENT_DECIMALS), public_key=m.public_key)


def assignment(j: models.Job) -> miner_pb.JobAssignment:
    return miner_pb.JobAssignment(job=job(j), lease_token=j.lease_token, lease_expires_at=timestamp(j.lease_expires_at),
                                  attempt=j.attempts)


def event(item: Event) -> event_pb.Event:
    message = event_pb.Event(type=item.type, participant_id=item.participant_id)
    message.at.FromJsonString(item.at)
    message.data.update(item.data)
    return message


def pool_metrics(collector: PoolCollector, caller: Caller) -> event_pb.PoolMetrics:
    """The collector's figures, with the caller's own workers (an admin: all)."""
    workers = collector.workers
    reporting = [w.gpu_utilization for w in workers if w.gpu_utilization is not None]
    message = event_pb.PoolMetrics(
        workers_active=len(workers), workers_healthy=sum(w.status == models.WorkerStatus.HEALTHY for w in workers),
        gpu_utilization_mean=sum(reporting) / len(reporting) if reporting else None,
        active_jobs=collector.active_jobs, registered_miners=collector.registered_miners,
        workers=[event_pb.WorkerFigures(
            worker_id=w.worker_id, participant_id=w.participant_id, status=w.status,
            gpu_utilization=w.gpu_utilization, gpu_memory_used_gb=w.gpu_memory_used_gb,
            gpu_temperature_celsius=w.gpu_temperature_celsius, gpu_power_watts=w.gpu_power_watts,
            revenue_nanoton=w.revenue_nanoton) for w in workers
            if caller.is_admin or w.participant_id == caller.participant_id])
    if collector.refreshed_at is not None:
        message.at.CopyFrom(timestamp(collector.refreshed_at))
    return message


def alert_settings(view: AlertSettingsView) -> alert_pb.AlertSettings:
    return alert_pb.AlertSettings(
        participant_id=view.participant_id,
        rules=[alert_pb.AlertRule(kind=r.kind, threshold=r.threshold, channels=r.channels.split(","))
               for r in view.rules],
        channels=[alert_pb.NotificationChannel(kind=c.kind, enabled=c.enabled, webhook_url=c.webhook_url,
                                               webhook_secret=c.webhook_secret, disabled_reason=c.disabled_reason,
                                               consecutive_failures=c.consecutive_failures)
                  for c in view.channels])


def incident(i: models.Incident) -> alert_pb.Incident:
    return alert_pb.Incident(incident_id=i.id, rule=i.rule, worker_id=i.worker_id, summary=i.summary,
                             opened_at=timestamp(i.opened_at), resolved_at=timestamp(i.resolved_at))


def notification(n: models.Notification) -> alert_pb.Notification:
    return alert_pb.Notification(
        notification_id=n.id, notice_id=n.notice_id, channel=n.channel, type=n.type, title=n.title, text=n.text,
        incident_id=n.incident_id, status=n.status, attempts=n.attempts, last_error=n.last_error,
        created_at=timestamp(n.created_at), delivered_at=timestamp(n.delivered_at))
