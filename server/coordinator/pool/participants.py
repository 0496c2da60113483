"""Participants: wallet owners. Business rules only; no transport here."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator import ledger
from coordinator.errors import AlreadyExists, NotFound, Reason, Validator
from coordinator.identity.callers import owner_scope, require_owner
from coordinator.identity.wallet_address import parse_address
from coordinator.storage import paging
from coordinator.storage.database import Database, get_existing
from coordinator.storage.models import LedgerEntry, Participant, Payout, Worker

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
    total_payouts: int = 0


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


async def create_participant(session: AsyncSession, new: NewParticipant) -> ParticipantView:
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
    return ParticipantView(participant, ParticipantTotals())


def _wallet_taken(participant_id: int | None) -> AlreadyExists:
    metadata = {"participant_id": str(participant_id)} if participant_id else {}
    return AlreadyExists("a participant with this wallet address already exists",
                         reason=Reason.WALLET_ALREADY_REGISTERED, metadata=metadata)


async def require_participant(session: AsyncSession, participant_id: int) -> Participant:
    return await get_existing(session, Participant, participant_id, "participant")


async def get_participant(session: AsyncSession, participant_id: int) -> ParticipantView:
    participant = await require_participant(session, participant_id)
    return (await _with_totals(session, [participant]))[0]


async def get_participant_by_wallet(session: AsyncSession, wallet_address: str) -> ParticipantView:
    wallet = parse_address(wallet_address, "wallet_address")
    participant = await session.scalar(select(Participant).where(Participant.wallet_raw == wallet.raw))
    if participant is None:
        raise NotFound("no participant owns this wallet", reason=Reason.PARTICIPANT_NOT_FOUND)
    return (await _with_totals(session, [participant]))[0]


async def list_participants(session: AsyncSession, limit: int | None, page_token: str
                            ) -> tuple[list[ParticipantView], str]:
    limit = paging.resolve_limit(limit)
    after = paging.decode_token(page_token, ("after_id",))
    query = select(Participant).order_by(Participant.id).limit(limit + 1)
    if after:
        query = query.where(Participant.id > int(after["after_id"]))
    rows = list(await session.scalars(query))
    next_token = paging.encode_token({"after_id": rows[limit - 1].id}) if len(rows) > limit else ""
    return await _with_totals(session, rows[:limit]), next_token


async def _with_totals(session: AsyncSession, participants: list[Participant]) -> list[ParticipantView]:
    """Adds the documented totals with grouped queries for the whole page. Revenue is what the
    participant's workers report themselves plus their marketplace earnings (the ledger)."""
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
        .where(Payout.participant_id.in_(ids)).group_by(Payout.participant_id))
    payouts = dict(payout_rows.all())
    earned = await ledger.earnings_by(session, LedgerEntry.participant_id, ids)
    views = []
    for participant in participants:
        count, active, revenue = workers.get(participant.id, (0, 0, 0))
        views.append(ParticipantView(participant, ParticipantTotals(
            total_workers=count, active_workers=int(active),
            total_revenue_nanoton=int(revenue) + earned.get(participant.id, 0),
            total_payouts=payouts.get(participant.id, 0))))
    return views



class Participants:
    """The pool's participant operations, each one unit of work with its ownership check."""

    def __init__(self, database: Database):
        self.database = database

    async def list(self, limit: int | None, page_token: str) -> tuple[list[ParticipantView], str]:
        """Everyone for an admin; a participant's credential sees itself only."""
        own = owner_scope()
        async with self.database.transaction() as session:
            if own is not None:
                return [await get_participant(session, own)], ""
            return await list_participants(session, limit, page_token)

    async def get(self, participant_id: int) -> ParticipantView:
        require_owner(participant_id, "participant")
        async with self.database.transaction() as session:
            return await get_participant(session, participant_id)

    async def get_by_wallet(self, wallet_address: str) -> ParticipantView:
        async with self.database.transaction() as session:
            view = await get_participant_by_wallet(session, wallet_address)
        require_owner(view.participant.id, "participant")
        return view

    async def create(self, new: NewParticipant) -> ParticipantView:
        async with self.database.transaction() as session:
            return await create_participant(session, new)
