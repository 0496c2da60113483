"""Proto <-> domain conversions shared by the servicers."""

from __future__ import annotations

import datetime as dt

from computepool.v1 import participant_service_pb2 as participant_pb
from computepool.v1 import payout_service_pb2 as payout_pb
from computepool.v1 import worker_service_pb2 as worker_pb
from google.protobuf.timestamp_pb2 import Timestamp

from .. import models
from ..money import USD_MICROS_DECIMALS, nanoton_to_ton, units_to_float
from ..participants import ParticipantView
from ..workers import COEFFICIENT_DECIMALS, WindowStats


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


def worker(w: models.Worker) -> worker_pb.Worker:
    return worker_pb.Worker(
        id=w.id, participant_id=w.participant_id, worker_name=w.worker_name, instance_number=w.instance_number,
        host=w.host, stats_port=w.stats_port,
        price_coefficient=units_to_float(w.price_coefficient_micros, COEFFICIENT_DECIMALS),
        is_active=w.is_active, latest_status=w.latest_status,
        latest_gpu_utilization=w.latest_gpu_utilization or 0.0,
        latest_gpu_memory_used_gb=w.latest_gpu_memory_used_gb or 0.0,
        latest_gpu_temperature_celsius=w.latest_gpu_temperature_celsius or 0.0,
        latest_revenue_ton=nanoton_to_ton(w.latest_revenue_nanoton), latest_revenue_nanoton=w.latest_revenue_nanoton,
        latest_seen_at=timestamp(w.latest_seen_at), created_at=timestamp(w.created_at),
        updated_at=timestamp(w.updated_at))


def sample(s: models.WorkerSample) -> worker_pb.WorkerSample:
    revenue = s.revenue_nanoton or 0
    return worker_pb.WorkerSample(
        sampled_at=timestamp(s.sampled_at), status=s.status, gpu_utilization=s.gpu_utilization or 0.0,
        gpu_memory_used_gb=s.gpu_memory_used_gb or 0.0, gpu_temperature_celsius=s.gpu_temperature_celsius or 0.0,
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
        updated_at=timestamp(p.updated_at))


def usd(micros: int) -> float:
    return units_to_float(micros, USD_MICROS_DECIMALS)


def payout(p: models.Payout) -> payout_pb.Payout:
    return payout_pb.Payout(
        id=p.id, participant_id=p.participant_id, transaction_hash=p.transaction_hash,
        amount_ton=nanoton_to_ton(p.amount_nanoton), amount_nanoton=p.amount_nanoton,
        amount_usd=usd(p.amount_usd_micros), from_address=p.from_address, to_address=p.to_address,
        transaction_time=timestamp(p.transaction_time), period_start=timestamp(p.period_start),
        period_end=timestamp(p.period_end), created_at=timestamp(p.created_at))
