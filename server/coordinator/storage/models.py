"""SQLAlchemy 2 models. Money is integers of the smallest unit; times are timezone-aware UTC."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Mapping, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, configure_mappers, mapped_column


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


# The values a status column may hold. StrEnum members are their strings, so rows, JSON and
# proto fields carry the documented spellings ("pending", "healthy") unchanged.
class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


TERMINAL_JOB_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.EXPIRED})


class WorkerStatus(StrEnum):
    """A worker's health as the pool last saw it (a heartbeat, a statistics poll, or silence)."""

    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    OFFLINE = "offline"
    UNKNOWN = "unknown"


class MinerStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class PayoutStatus(StrEnum):
    """A payout's life: a run creates it pending (its amount reserved in the ledger), the wallet
    sends it (sent, with its transaction hash), the chain confirms it (confirmed: paid); a failed
    one returns its amount to what the pool owes. A payout recorded by hand is confirmed."""

    PENDING = "pending"
    SENT = "sent"
    CONFIRMED = "confirmed"
    FAILED = "failed"


OPEN_PAYOUT_STATUSES = frozenset({PayoutStatus.PENDING, PayoutStatus.SENT})


class PaymentStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    EXPIRED = "expired"


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
    # The participant's own payout threshold in nanotons; NULL: the pool's minimum. Never below
    # the pool's minimum (a run pays at the higher of the two).
    payout_threshold_nanoton: Mapped[int | None] = mapped_column(BigInteger)
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
    latest_status: Mapped[str] = mapped_column(String(16), default=WorkerStatus.UNKNOWN)
    # GPU figures are measurements, not money: floats; NULL when never reported.
    latest_gpu_utilization: Mapped[float | None] = mapped_column(Float)
    latest_gpu_memory_used_gb: Mapped[float | None] = mapped_column(Float)
    latest_gpu_temperature_celsius: Mapped[float | None] = mapped_column(Float)
    latest_gpu_power_watts: Mapped[float | None] = mapped_column(Float)
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
    gpu_power_watts: Mapped[float | None] = mapped_column(Float)
    # Counters as the worker reports them (they reset when the worker restarts).
    requests_total: Mapped[int | None] = mapped_column(BigInteger)
    errors_total: Mapped[int | None] = mapped_column(BigInteger)
    revenue_nanoton: Mapped[int | None] = mapped_column(BigInteger)


class PayoutRun(Base):
    """One settlement of what the pool owes: a payout per participant over their threshold.
    A scheduled run names its interval's slot, unique: replicas that run at once make one."""

    __tablename__ = "payout_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trigger: Mapped[str] = mapped_column(String(16))  # scheduled | manual
    slot: Mapped[str | None] = mapped_column(String(40), unique=True)
    pool_minimum_nanoton: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Payout(Base):
    __tablename__ = "payouts"
    __table_args__ = (Index("ix_payouts_participant_time", "participant_id", "transaction_time", "id"),
                      Index("ix_payouts_time", "transaction_time", "id"),
                      UniqueConstraint("run_id", "participant_id", name="uq_payouts_run_participant"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    # NULL until a run's payout is sent; unique (NULLs are distinct on SQLite and PostgreSQL).
    transaction_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=PayoutStatus.CONFIRMED, server_default="confirmed",
                                        index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("payout_runs.id"))
    failure_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    sent_at: Mapped[dt.datetime | None] = mapped_column()
    confirmed_at: Mapped[dt.datetime | None] = mapped_column()
    amount_nanoton: Mapped[int] = mapped_column(BigInteger)
    amount_usd_micros: Mapped[int] = mapped_column(BigInteger)
    from_address: Mapped[str] = mapped_column(String(64))
    to_address: Mapped[str] = mapped_column(String(64))
    transaction_time: Mapped[dt.datetime] = mapped_column()
    period_start: Mapped[dt.datetime] = mapped_column()
    period_end: Mapped[dt.datetime] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Miner(Base):
    """A registered miner agent; it drives exactly one worker."""

    __tablename__ = "miners"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUID
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), unique=True)
    # The miner's Ed25519 public key (base64): it signs result hashes.
    public_key: Mapped[str] = mapped_column(String(64))
    # SHA-256 (hex) of the miner's credential; the credential itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    endpoint: Mapped[str] = mapped_column(String(300), default="")
    # [{"job_type": "...", "models": [...]}]; an empty models list means any model.
    capabilities: Mapped[list] = mapped_column(JSON, default=list)
    gpu_model: Mapped[str] = mapped_column(String(64), default="")
    gpu_count: Mapped[int] = mapped_column(Integer, default=1)
    vram_gb: Mapped[float] = mapped_column(Float, default=0.0)
    max_concurrent_jobs: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default=MinerStatus.ACTIVE)
    last_heartbeat: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Job(Base):
    """A client's unit of work; while leased, the lease_* columns name the worker holding it."""

    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("client_id", "idempotency_key", name="uq_jobs_client_idempotency_key"),
        # The dispatch queue: pending jobs in offer order (priority first, then oldest), so a
        # claim reads the head of an index however many jobs wait.
        Index("ix_jobs_queue", text("priority DESC"), "created_at", postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
        Index("ix_jobs_client", "client_id", "created_at"),
        Index("ix_jobs_lease_expiry", "status", "lease_expires_at"),
        # The reaper's ttl sweep looks at live jobs only; finished ones pile up and are never read.
        Index("ix_jobs_live_expiry", "expires_at", postgresql_where=text("status IN ('pending', 'running')"),
              sqlite_where=text("status IN ('pending', 'running')")),
        # A claim counts the jobs its worker runs; the reaper releases a silent worker's jobs.
        Index("ix_jobs_running_by_worker", "lease_worker_id", postgresql_where=text("status = 'running'"),
              sqlite_where=text("status = 'running'")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUID
    client_id: Mapped[str] = mapped_column(String(80))
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    job_type: Mapped[str] = mapped_column(String(64))
    parameters: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.PENDING)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    required_model: Mapped[str] = mapped_column(String(128), default="")
    min_vram_gb: Mapped[float] = mapped_column(Float, default=0.0)
    required_gpu_model: Mapped[str] = mapped_column(String(64), default="")
    # Fixed at submission from the price table, never taken from the miner.
    unit_price_nanoton: Mapped[int] = mapped_column(BigInteger)
    max_price_nanoton: Mapped[int] = mapped_column(BigInteger, default=0)  # 0: no cap
    max_price_coefficient_micros: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    available_at: Mapped[dt.datetime] = mapped_column(default=utcnow)  # retry backoff
    expires_at: Mapped[dt.datetime] = mapped_column()
    lease_token: Mapped[str | None] = mapped_column(String(64))
    lease_worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column()
    # The leasing worker's coefficient, captured at claim time.
    lease_price_coefficient_micros: Mapped[int | None] = mapped_column(BigInteger)
    error_message: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Receipt(Base):
    """Signed proof of one completed job; at most one per job."""

    __tablename__ = "receipts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUID
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), unique=True)
    miner_id: Mapped[str] = mapped_column(ForeignKey("miners.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    owner_wallet: Mapped[str] = mapped_column(String(80))
    attempt: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict | None] = mapped_column(JSON)
    result_hash: Mapped[str] = mapped_column(String(64))
    units: Mapped[int] = mapped_column(BigInteger)
    charge_nanoton: Mapped[int] = mapped_column(BigInteger)
    earning_nanoton: Mapped[int] = mapped_column(BigInteger)
    fee_nanoton: Mapped[int] = mapped_column(BigInteger)
    # The canonical signed bytes (base64), the coordinator's and the miner's signatures (base64).
    payload: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(100))
    miner_signature: Mapped[str] = mapped_column(String(100))
    key_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LedgerEntry(Base):
    """An append-only movement of value in the asset's smallest unit. Every job's entries sum to
    zero (the client's charge = the provider's earning + the pool fee), so the ledger balances."""

    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_account", "account", "asset"),
                      Index("ix_ledger_account_id", "account", "id"))  # an account's history, newest first

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account: Mapped[str] = mapped_column(String(96))  # client:<id> | participant:<id> | pool:fees | …
    asset: Mapped[str] = mapped_column(String(8))     # TON (nanoton) | AITBC | BTC (satoshi)
    amount: Mapped[int] = mapped_column(BigInteger)   # signed
    kind: Mapped[str] = mapped_column(String(16))     # charge | earning | fee | deposit | reserve | release | payout
    job_id: Mapped[str | None] = mapped_column(String(36), index=True)
    receipt_id: Mapped[str | None] = mapped_column(String(36))
    payment_id: Mapped[str | None] = mapped_column(String(36), index=True)
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"), index=True)
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"), index=True)
    payout_id: Mapped[int | None] = mapped_column(ForeignKey("payouts.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """A programmatic credential with a role. Only the SHA-256 of the key is stored; the key is
    shown once, when it is created."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the key's first characters, to recognise it in lists
    role: Mapped[str] = mapped_column(String(16))    # admin | client | miner
    participant_id: Mapped[int | None] = mapped_column(ForeignKey("participants.id"), index=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column()


class UserSession(Base):
    """A wallet login. Only the SHA-256 of the session token is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()


class LoginChallenge(Base):
    """A ton_proof payload the pool issued: usable once, before it expires."""

    __tablename__ = "login_challenges"

    payload: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column()


class Payment(Base):
    """A request to buy AITBC credits with Bitcoin; credits the ledger once, when confirmed."""

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_status_expiry", "status", "expires_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUID
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=PaymentStatus.PENDING)
    amount_sat: Mapped[int] = mapped_column(BigInteger)
    credit_units: Mapped[int] = mapped_column(BigInteger)  # AITBC in 10^-9 units
    rate: Mapped[int] = mapped_column(BigInteger)          # BTC_TO_AITBC_RATE when it was created
    address: Mapped[str] = mapped_column(String(100))
    # BIP84 receive index when the address was derived from the pool's extended public key.
    derivation_index: Mapped[int | None] = mapped_column(Integer, unique=True)
    needs_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    txid: Mapped[str | None] = mapped_column(String(64))
    confirmations: Mapped[int] = mapped_column(Integer, default=0)
    received_sat: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    confirmed_at: Mapped[dt.datetime | None] = mapped_column()


class Counter(Base):
    """A named counter advanced by one conditional UPDATE … RETURNING: the row lock hands out
    each value once, across processes (the BIP84 receive index of the exchange)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class AlertRule(Base):
    """One of a participant's alert rules (alerts/rules.py says what each kind watches)."""

    __tablename__ = "alert_rules"
    __table_args__ = (UniqueConstraint("participant_id", "kind", name="uq_alert_rules_participant_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    kind: Mapped[str] = mapped_column(String(32))
    threshold: Mapped[float] = mapped_column(Float, default=0.0)
    channels: Mapped[str] = mapped_column(String(64))  # channel kinds, comma-separated
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class NotificationChannel(Base):
    """Where a participant's notifications go: its webhook, Telegram or e-mail (one each)."""

    __tablename__ = "notification_channels"
    __table_args__ = (UniqueConstraint("participant_id", "kind", name="uq_notification_channels_participant_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    kind: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    webhook_url: Mapped[str] = mapped_column(String(500), default="")
    webhook_secret: Mapped[str] = mapped_column(String(64), default="")
    disabled_reason: Mapped[str] = mapped_column(String(300), default="")
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Incident(Base):
    """A rule that fired for one subject. At most one open per rule and subject: replicas that
    see the same condition at once insert one row (the partial unique index), so one notifies."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index("uq_incidents_open", "participant_id", "rule", "subject", unique=True,
              postgresql_where=text("resolved_at IS NULL"), sqlite_where=text("resolved_at IS NULL")),
        Index("ix_incidents_participant_time", "participant_id", "opened_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    rule: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(32))  # "worker:<id>" or "participant"
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))
    summary: Mapped[str] = mapped_column(String(300))
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[dt.datetime | None] = mapped_column()


class Notification(Base):
    """One notice to one channel: the outbox the senders work from, and the delivery log."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_due", "next_attempt_at", postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
        Index("ix_notifications_participant_time", "participant_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[str] = mapped_column(String(36), unique=True)  # the same on every attempt
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    channel: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(48))
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column()


ModelT = TypeVar("ModelT", bound=Base)


def detached(model: type[ModelT], values: Mapping[str, Any]) -> ModelT:
    """An instance of `model` holding these column values, for a snapshot of a row that is never
    added to a session (the dispatch path writes with Core statements). Built as the ORM's own
    loader builds one, its state first and then the values straight into its dict, instead of
    through __init__, whose instrumentation costs ten times as much per attribute. Setting an
    attribute afterwards works as on any transient instance."""
    mapper = model.__mapper__
    if not mapper.configured:  # __init__ would configure it first; new_instance does not
        configure_mappers()
    instance = mapper.class_manager.new_instance()
    instance.__dict__.update(values)
    return instance
