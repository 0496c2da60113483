"""SQLAlchemy 2 models. Money is integers of the smallest unit; times are timezone-aware UTC."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stores UTC; always returns aware datetimes (SQLite drops the zone, PostgreSQL keeps it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a real BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UTCDateTime}


class Participant(Base):
    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wallet_raw: Mapped[str] = mapped_column(String(80), unique=True)
    wallet_address: Mapped[str] = mapped_column(String(64))
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger)
    username: Mapped[str] = mapped_column(String(64), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Worker(Base):
    __tablename__ = "workers"
    __table_args__ = (UniqueConstraint("participant_id", "worker_name", "instance_number",
                                       name="uq_workers_participant_name_instance"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    worker_name: Mapped[str] = mapped_column(String(64))
    instance_number: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(String(253))
    stats_port: Mapped[int] = mapped_column(Integer)
    # Exact multiplier in millionths (1.0 -> 1_000_000); it prices jobs, so no floats.
    price_coefficient_micros: Mapped[int] = mapped_column(BigInteger, default=1_000_000)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    latest_status: Mapped[str] = mapped_column(String(16), default="unknown")
    # GPU figures are measurements, not money: floats; NULL when never reported.
    latest_gpu_utilization: Mapped[float | None] = mapped_column(Float)
    latest_gpu_memory_used_gb: Mapped[float | None] = mapped_column(Float)
    latest_gpu_temperature_celsius: Mapped[float | None] = mapped_column(Float)
    latest_revenue_nanoton: Mapped[int] = mapped_column(BigInteger, default=0)
    latest_seen_at: Mapped[dt.datetime | None] = mapped_column()
    # Claimed by the poller replica that polls this worker next (see stats_poller.py).
    stats_polled_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WorkerSample(Base):
    __tablename__ = "worker_samples"
    __table_args__ = (Index("ix_worker_samples_worker_time", "worker_id", "sampled_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id", ondelete="CASCADE"))
    sampled_at: Mapped[dt.datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16))
    gpu_utilization: Mapped[float | None] = mapped_column(Float)
    gpu_memory_used_gb: Mapped[float | None] = mapped_column(Float)
    gpu_temperature_celsius: Mapped[float | None] = mapped_column(Float)
    # Counters as the worker reports them (they reset when the worker restarts).
    requests_total: Mapped[int | None] = mapped_column(BigInteger)
    errors_total: Mapped[int | None] = mapped_column(BigInteger)
    revenue_nanoton: Mapped[int | None] = mapped_column(BigInteger)


class Payout(Base):
    __tablename__ = "payouts"
    __table_args__ = (Index("ix_payouts_participant_time", "participant_id", "transaction_time", "id"),
                      Index("ix_payouts_time", "transaction_time", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    transaction_hash: Mapped[str] = mapped_column(String(64), unique=True)
    amount_nanoton: Mapped[int] = mapped_column(BigInteger)
    amount_usd_micros: Mapped[int] = mapped_column(BigInteger)
    from_address: Mapped[str] = mapped_column(String(64))
    to_address: Mapped[str] = mapped_column(String(64))
    transaction_time: Mapped[dt.datetime] = mapped_column()
    period_start: Mapped[dt.datetime] = mapped_column()
    period_end: Mapped[dt.datetime] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
