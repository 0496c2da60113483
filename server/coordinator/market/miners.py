"""Miner agents: registration (binding a worker), credentials."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.errors import InvalidArgument, PermissionDenied, Reason, Unauthenticated, Validator
from coordinator.identity.callers import current_caller
from coordinator.identity.credentials import CheckedCredentials
from coordinator.identity.wallet_address import parse_address
from coordinator.market.config import Market
from coordinator.pool.workers import (
    check_host,
    check_instance_number,
    check_port,
    check_worker_name,
    coefficient_to_micros,
)
from coordinator.storage.database import ConcurrentInsert, Database
from coordinator.storage.models import Miner, MinerStatus, Participant, Worker, utcnow


@dataclass(frozen=True)
class MinerSpec:
    address: str
    endpoint: str
    capabilities: list  # each a job type (str) or {"job_type": str, "models": [str, ...]}
    worker_name: str | None
    instance_number: int
    gpu_model: str = ""
    gpu_count: int = 1
    vram_gb: float = 0.0
    max_concurrent_jobs: int = 1
    price_coefficient: float | None = None
    public_key: str = ""
    stats_port: int = 0


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_public_key(value: str, field: str) -> str:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise InvalidArgument.field(field, "must be a 32-byte Ed25519 public key, base64")
    return base64.b64encode(raw).decode()


def _check_endpoint(value: str, field: str) -> tuple[str, int]:
    host, _, port = value.strip().rpartition(":")
    if not host or not port.isdigit():
        raise InvalidArgument.field(field, "must be host:port")
    return check_host(host.strip("[]"), field), check_port(int(port), field)


def _capability(entry, market: Market, field: str) -> dict:
    """A capability as stored, {"job_type", "models"}, from a plain job-type string (any model)
    or an object with those two keys."""
    if isinstance(entry, str):
        entry = {"job_type": entry}
    if not isinstance(entry, dict) or not set(entry) <= {"job_type", "models"}:
        raise InvalidArgument.field(field, 'must be a job type ("llm_inference") or an object '
                                           '{"job_type": ..., "models": [...]}')
    job_type, models = entry.get("job_type"), entry.get("models", [])
    check = Validator()
    if not isinstance(job_type, str) or job_type not in market.prices:
        check.fail(f"{field}.job_type", f"{job_type!r} is not a supported job type "
                                        f"({', '.join(sorted(market.prices))})")
    if not (isinstance(models, list) and all(isinstance(m, str) and 0 < len(m) <= 128 for m in models)):
        check.fail(f"{field}.models", "must be a list of model names of 1-128 characters")
        models = []
    check.raise_if_any()
    return {"job_type": job_type, "models": sorted(set(models))}


def validate(spec: MinerSpec, market: Market) -> dict:
    check = Validator()
    wallet = check.run("address", parse_address, spec.address)
    endpoint = check.run("endpoint", _check_endpoint, spec.endpoint)
    # The documented request is just address, endpoint and capabilities (possibly []): no
    # capabilities means every configured job type with any model, and the worker is named
    # after its endpoint.
    capabilities = [{"job_type": job_type, "models": []} for job_type in sorted(market.prices)]
    if spec.capabilities:
        capabilities = [check.run(f"capabilities[{i}]", _capability, entry, market)
                        for i, entry in enumerate(spec.capabilities)]
    values = dict(
        wallet=wallet, endpoint=endpoint, capabilities=capabilities,
        worker_name=check.run("worker_name", check_worker_name,
                              spec.endpoint if spec.worker_name is None else spec.worker_name),
        instance_number=check.run("instance_number", check_instance_number, spec.instance_number),
        # Optional here, but a completed result needs it: receipts carry a verified miner signature.
        public_key=check.run("public_key", _check_public_key, spec.public_key) if spec.public_key else "",
        gpu_model=spec.gpu_model.strip(), gpu_count=spec.gpu_count, vram_gb=spec.vram_gb,
        max_concurrent_jobs=spec.max_concurrent_jobs,
        coefficient=(check.run("price_coefficient", coefficient_to_micros, spec.price_coefficient)
                     if spec.price_coefficient is not None else None),
        stats_port=check.run("stats_port", check_port, spec.stats_port) if spec.stats_port else None,
    )
    check.check(len(values["gpu_model"]) <= 64, "hardware.gpu_model", "must be at most 64 characters")
    check.check(1 <= spec.gpu_count <= 64, "hardware.gpu_count", "must be between 1 and 64")
    check.check(0 <= spec.vram_gb <= 4096, "hardware.vram_gb", "must be between 0 and 4096")
    check.check(1 <= spec.max_concurrent_jobs <= 1024, "hardware.max_concurrent_jobs", "must be between 1 and 1024")
    check.raise_if_any()
    return values


async def register(session: AsyncSession, spec: MinerSpec, market: Market) -> tuple[Miner, Worker, str]:
    """Creates the participant, worker and miner as needed, or re-binds the existing worker
    (same owner wallet, name and instance). Issues a fresh credential; the old one stops working."""
    v = validate(spec, market)
    host, endpoint_port = v["endpoint"]
    participant = await session.scalar(select(Participant).where(Participant.wallet_raw == v["wallet"].raw))
    if participant is None:
        participant = Participant(wallet_raw=v["wallet"].raw, wallet_address=v["wallet"].friendly)
        session.add(participant)
        await _flush(session)
    worker = await session.scalar(select(Worker).where(
        Worker.participant_id == participant.id, Worker.worker_name == v["worker_name"],
        Worker.instance_number == v["instance_number"]))
    if worker is None:
        worker = Worker(participant_id=participant.id, worker_name=v["worker_name"],
                        instance_number=v["instance_number"], host=host, stats_port=endpoint_port)
        session.add(worker)
    worker.host = host
    worker.stats_port = v["stats_port"] or worker.stats_port or endpoint_port
    worker.is_active = True
    if v["coefficient"] is not None:
        worker.price_coefficient_micros = v["coefficient"]
    elif worker.price_coefficient_micros is None:
        worker.price_coefficient_micros = 1_000_000
    await _flush(session)
    miner = await session.scalar(select(Miner).where(Miner.worker_id == worker.id))
    token = secrets.token_urlsafe(32)
    fields = dict(public_key=v["public_key"], token_hash=hash_token(token), endpoint=spec.endpoint.strip(),
                  capabilities=v["capabilities"], gpu_model=v["gpu_model"], gpu_count=v["gpu_count"],
                  vram_gb=v["vram_gb"], max_concurrent_jobs=v["max_concurrent_jobs"], status=MinerStatus.ACTIVE,
                  last_heartbeat=utcnow())
    if miner is None:
        miner = Miner(id=str(uuid.uuid4()), worker_id=worker.id, **fields)
        session.add(miner)
    else:
        for name, value in fields.items():
            setattr(miner, name, value)
    await _flush(session)
    return miner, worker, token


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError:
        raise ConcurrentInsert() from None


@dataclass(frozen=True)
class MinerIdentity:
    """Who a miner credential speaks for: what results and receipts need, read in one query."""

    miner_id: str
    worker_id: int
    public_key: str
    participant_id: int
    owner_wallet: str  # raw form


class MinerCredentials:
    """Who a miner token speaks for, from a short-lived cache of checked tokens (so a heartbeat or
    a result costs no credential lookup); a rotated credential stops working within `cache_s`."""

    def __init__(self, database: Database, cache_s: float = 10.0):
        self.database = database
        self._checked = CheckedCredentials(cache_s)  # miner token -> its MinerIdentity

    async def identify(self, token: str | None, miner_id: str) -> MinerIdentity:
        cached = self._checked.get(token) if token else None
        if cached and (not miner_id or miner_id == cached.miner_id):
            return cached
        async with self.database.transaction() as session:
            who = await authenticate(session, token, miner_id)
        self._checked.put(token, who)
        return who

    async def identify_owned(self, token: str | None, miner_id: str) -> MinerIdentity:
        """The miner, which must also belong to the participant the caller acts for."""
        who = await self.identify(token, miner_id)
        caller = current_caller.get()
        if not caller.is_admin and caller.participant_id != who.participant_id:
            raise PermissionDenied("this miner belongs to another participant than your API key",
                                   reason=Reason.NOT_OWNER)
        return who


async def authenticate(session: AsyncSession, token: str | None, miner_id: str) -> MinerIdentity:
    """The miner presenting `token`; it may act only as itself."""
    if not token:
        raise Unauthenticated("missing miner credential: send the X-Miner-Token header (x-miner-token metadata)",
                              reason=Reason.MINER_TOKEN_MISSING)
    row = (await session.execute(
        select(Miner.id, Miner.worker_id, Miner.public_key, Worker.participant_id, Participant.wallet_raw)
        .join(Worker, Worker.id == Miner.worker_id).join(Participant, Participant.id == Worker.participant_id)
        .where(Miner.token_hash == hash_token(token)))).first()
    if row is None:
        raise Unauthenticated("invalid miner credential", reason=Reason.MINER_TOKEN_INVALID)
    # As bytes: compare_digest refuses a str with non-ASCII characters (a TypeError, an INTERNAL
    # answer to a malformed miner_id).
    if miner_id and not hmac.compare_digest(miner_id.encode(), row.id.encode()):
        raise PermissionDenied("a miner may act only as itself", reason=Reason.MINER_MISMATCH,
                               metadata={"miner_id": miner_id})
    return MinerIdentity(*row)
