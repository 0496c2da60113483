"""Participants: wallet owners. Business rules only; no transport here."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator import ledger
from coordinator.errors import AlreadyExists, InvalidArgument, NotFound, Reason, Validator
from coordinator.identity.callers import owner_scope, require_owner
from coordinator.identity.wallet_address import parse_address
from coordinator.storage import paging
from coordinator.storage.database import Database, get_existing
from coordinator.storage.models import LedgerEntry, Participant, Payout, PayoutStatus, Worker, utcnow

MAX_TELEGRAM_ID = 2**53 - 1
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class NewParticipant:
    ton_wallet_address: str
    telegram_user_id: float = 0
    username: str = ""
    email: str = ""


@dataclass(frozen=True)
class ParticipantTotals:
    total_workers: int = 0
    active_workers: int = 0
    total_revenue_nanoton: int = 0
    total_payouts: int = 0  # confirmed ones: recorded by hand, or run payouts the chain confirmed
    balance: ledger.Balance = field(default_factory=ledger.Balance)
    payout_threshold_nanoton: int = 0  # the effective one: its own, or the pool minimum


@dataclass(frozen=True)
class ParticipantView:
    participant: Participant
    totals: ParticipantTotals


def validate_new_participant(new: NewParticipant):
    check = Validator()
    wallet = check.run("ton_wallet_address", parse_address, new.ton_wallet_address)
    telegram_user_id = None
    if new.telegram_user_id:
        value = new.telegram_user_id
        if check.check(value == int(value) and 1 <= value <= MAX_TELEGRAM_ID, "telegram_user_id",
                       f"must be a whole number from 1 to {MAX_TELEGRAM_ID}"):
            telegram_user_id = int(value)
    username = new.username.strip()
    check.check(len(username) <= 64, "username", "must be at most 64 characters")
    email = new.email.strip()
    if email:
        check.check(len(email) <= 254 and EMAIL_PATTERN.match(email) is not None, "email",
                    "must be an email address, local@domain")
    check.raise_if_any()
    return wallet, telegram_user_id, username, email


async def create_participant(session: AsyncSession, new: NewParticipant, pool_minimum: int = 0) -> ParticipantView:
    wallet, telegram_user_id, username, email = validate_new_participant(new)
    existing = await session.scalar(select(Participant.id).where(Participant.wallet_raw == wallet.raw))
    if existing is not None:
        raise _wallet_taken(existing)
    participant = Participant(wallet_raw=wallet.raw, wallet_address=wallet.friendly,
                              telegram_user_id=telegram_user_id, username=username, email=email)
    session.add(participant)
    try:
        await session.flush()
    except IntegrityError:  # a concurrent create of the same wallet won the race
        raise _wallet_taken(None) from None
    return ParticipantView(participant, ParticipantTotals(payout_threshold_nanoton=pool_minimum))


def _wallet_taken(participant_id: int | None) -> AlreadyExists:
    metadata = {"participant_id": str(participant_id)} if participant_id else {}
    return AlreadyExists("a participant with this wallet address already exists",
                         reason=Reason.WALLET_ALREADY_REGISTERED, metadata=metadata)


async def require_participant(session: AsyncSession, participant_id: int) -> Participant:
    return await get_existing(session, Participant, participant_id, "participant")


async def get_participant(session: AsyncSession, participant_id: int, pool_minimum: int = 0) -> ParticipantView:
    participant = await require_participant(session, participant_id)
    return (await _with_totals(session, [participant], pool_minimum))[0]


async def get_participant_by_wallet(session: AsyncSession, wallet_address: str, pool_minimum: int = 0
                                    ) -> ParticipantView:
    wallet = parse_address(wallet_address, "wallet_address")
    participant = await session.scalar(select(Participant).where(Participant.wallet_raw == wallet.raw))
    if participant is None:
        raise NotFound("no participant owns this wallet", reason=Reason.PARTICIPANT_NOT_FOUND)
    return (await _with_totals(session, [participant], pool_minimum))[0]


async def list_participants(session: AsyncSession, limit: int | None, page_token: str, pool_minimum: int = 0
                            ) -> tuple[list[ParticipantView], str]:
    limit = paging.resolve_limit(limit)
    after = paging.decode_token(page_token, ("after_id",))
    query = select(Participant).order_by(Participant.id).limit(limit + 1)
    if after:
        query = query.where(Participant.id > int(after["after_id"]))
    rows = list(await session.scalars(query))
    next_token = paging.encode_token({"after_id": rows[limit - 1].id}) if len(rows) > limit else ""
    return await _with_totals(session, rows[:limit], pool_minimum), next_token


async def _with_totals(session: AsyncSession, participants: list[Participant], pool_minimum: int = 0
                       ) -> list[ParticipantView]:
    """Adds the documented totals with grouped queries for the whole page. Revenue is what the
    participant's workers report themselves plus their marketplace earnings (the ledger); the
    balance (owed, reserved, paid) is the ledger's."""
    ids = [p.id for p in participants]
    if not ids:
        return []
    worker_rows = await session.execute(
        select(Worker.participant_id, func.count(Worker.id),
               func.sum(case((Worker.is_active, 1), else_=0)),
               func.sum(Worker.latest_revenue_nanoton))
        .where(Worker.participant_id.in_(ids)).group_by(Worker.participant_id))
    workers = {pid: (count, active or 0, revenue or 0) for pid, count, active, revenue in worker_rows}
    payout_rows = await session.execute(
        select(Payout.participant_id, func.count(Payout.id))
        .where(Payout.participant_id.in_(ids), Payout.status == PayoutStatus.CONFIRMED).group_by(Payout.participant_id))
    payouts = dict(payout_rows.all())
    balances = await ledger.balances(session, ids)
    views = []
    for participant in participants:
        count, active, revenue = workers.get(participant.id, (0, 0, 0))
        views.append(ParticipantView(participant, ParticipantTotals(
            total_workers=count, active_workers=int(active),
            total_revenue_nanoton=int(revenue) + balances[participant.id].earned,
            total_payouts=payouts.get(participant.id, 0), balance=balances[participant.id],
            payout_threshold_nanoton=max(pool_minimum, participant.payout_threshold_nanoton or 0))))
    return views


async def update_payout_threshold(session: AsyncSession, participant_id: int, threshold_nanoton: int,
                                  pool_minimum: int) -> ParticipantView:
    """The participant's own payout threshold: at least the pool minimum; 0 goes back to it."""
    if threshold_nanoton < 0:
        raise InvalidArgument.field("payout_threshold_nanoton", "must not be negative")
    if 0 < threshold_nanoton < pool_minimum:
        raise InvalidArgument.field("payout_threshold_nanoton",
                                    f"must be at least the pool minimum, {pool_minimum} nanotons (0: the pool minimum)",
                                    reason=Reason.THRESHOLD_BELOW_POOL_MINIMUM)
    participant = await require_participant(session, participant_id)
    participant.payout_threshold_nanoton = threshold_nanoton or None
    await session.flush()
    return (await _with_totals(session, [participant], pool_minimum))[0]


# History -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class BalanceChange:
    """One movement of what the pool owes a participant, with the balance it left."""

    entry: LedgerEntry
    balance_after: int


async def balance_changes(session: AsyncSession, participant_id: int, limit: int | None, page_token: str
                          ) -> tuple[list[BalanceChange], str]:
    """Every ledger movement of the participant's account (earnings, payout reservations and
    releases), newest first, keyset on the entry id."""
    check = Validator()
    limit = check.run("limit", paging.resolve_limit, limit)
    after = check.run("page_token", lambda token, f: paging.decode_token(token, ("before_id",), f), page_token)
    check.raise_if_any()
    await require_participant(session, participant_id)
    account = ledger.participant_account(participant_id)
    query = (select(LedgerEntry).where(LedgerEntry.account == account)
             .order_by(LedgerEntry.id.desc()).limit(limit + 1))
    if after:
        query = query.where(LedgerEntry.id < int(after["before_id"]))
    entries = list(await session.scalars(query))
    next_token = paging.encode_token({"before_id": entries[limit - 1].id}) if len(entries) > limit else ""
    entries = entries[:limit]
    if not entries:
        return [], next_token
    balance = int(await session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                                       .where(LedgerEntry.account == account, LedgerEntry.id <= entries[0].id)))
    changes = []
    for entry in entries:
        changes.append(BalanceChange(entry, balance))
        balance -= entry.amount
    return changes, next_token


MAX_DAYS = 366


@dataclass(frozen=True)
class DailyEarning:
    day: str  # YYYY-MM-DD, UTC
    worker_id: int
    earning_nanoton: int
    jobs: int


def _utc_day(session: AsyncSession, column):
    """The UTC calendar day of a timestamp column as text, on either database (SQLite stores
    UTC text; PostgreSQL's date() would use the session's time zone)."""
    if session.bind.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column)


async def daily_earnings(session: AsyncSession, participant_id: int, days: int | None, worker_id: int = 0
                         ) -> list[DailyEarning]:
    """Marketplace earnings per UTC day and worker over the last `days` days (today included),
    newest day first; only a participant's own worker may be asked for."""
    days = 30 if days is None else days
    if not 1 <= days <= MAX_DAYS:
        raise InvalidArgument.field("days", f"must be between 1 and {MAX_DAYS}")
    await require_participant(session, participant_id)
    since = dt.datetime.combine(utcnow().date() - dt.timedelta(days=days - 1), dt.time(), dt.timezone.utc)
    day = _utc_day(session, LedgerEntry.created_at).label("day")
    query = (select(day, LedgerEntry.worker_id, func.sum(LedgerEntry.amount), func.count(LedgerEntry.id))
             .where(LedgerEntry.participant_id == participant_id, LedgerEntry.kind == ledger.EARNING,
                    LedgerEntry.account == ledger.participant_account(participant_id), LedgerEntry.created_at >= since)
             .group_by(day, LedgerEntry.worker_id).order_by(day.desc(), LedgerEntry.worker_id))
    if worker_id:
        query = query.where(LedgerEntry.worker_id == worker_id)
    return [DailyEarning(str(d), w or 0, int(total), int(count)) for d, w, total, count in await session.execute(query)]



class Participants:
    """The pool's participant operations, each one unit of work with its ownership check."""

    def __init__(self, database: Database, pool_minimum_nanoton: int = 0):
        self.database = database
        self.pool_minimum = pool_minimum_nanoton  # the pool's payout minimum (Settings)

    async def list(self, limit: int | None, page_token: str) -> tuple[list[ParticipantView], str]:
        """Everyone for an admin; a participant's credential sees itself only."""
        own = owner_scope()
        async with self.database.transaction() as session:
            if own is not None:
                return [await get_participant(session, own, self.pool_minimum)], ""
            return await list_participants(session, limit, page_token, self.pool_minimum)

    async def get(self, participant_id: int) -> ParticipantView:
        require_owner(participant_id, "participant")
        async with self.database.transaction() as session:
            return await get_participant(session, participant_id, self.pool_minimum)

    async def get_by_wallet(self, wallet_address: str) -> ParticipantView:
        async with self.database.transaction() as session:
            view = await get_participant_by_wallet(session, wallet_address, self.pool_minimum)
        require_owner(view.participant.id, "participant")
        return view

    async def create(self, new: NewParticipant) -> ParticipantView:
        async with self.database.transaction() as session:
            return await create_participant(session, new, self.pool_minimum)

    async def update_payout_threshold(self, participant_id: int, threshold_nanoton: int) -> ParticipantView:
        require_owner(participant_id, "participant")
        async with self.database.transaction() as session:
            return await update_payout_threshold(session, participant_id, threshold_nanoton, self.pool_minimum)

    async def balance_changes(self, participant_id: int, limit: int | None, page_token: str
                              ) -> tuple[list[BalanceChange], str]:
        require_owner(participant_id, "participant")
        async with self.database.transaction() as session:
            return await balance_changes(session, participant_id, limit, page_token)

    async def daily_earnings(self, participant_id: int, days: int | None) -> list[DailyEarning]:
        require_owner(participant_id, "participant")
        async with self.database.transaction() as session:
            return await daily_earnings(session, participant_id, days)
