"""Payouts: recorded on-chain transfers to participants; summaries and the tax report."""

from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.errors import AlreadyExists, InvalidArgument, Reason, Validator
from coordinator.identity.callers import require_owner, scoped_participant_filter
from coordinator.identity.wallet_address import parse_address
from coordinator.money import (
    NANOTON_DECIMALS,
    USD_MICROS_DECIMALS,
    decimal_to_units,
    ton_to_nanoton,
    units_to_decimal_str,
)
from coordinator.pool.participants import require_participant
from coordinator.storage import paging
from coordinator.storage.database import ConcurrentInsert, Database, get_existing
from coordinator.storage.models import Payout, PayoutStatus

HEX_HASH = re.compile(r"^[0-9a-fA-F]{64}$")
MIN_YEAR, MAX_YEAR = 2000, 2100


@dataclass(frozen=True)
class NewPayout:
    participant_id: int
    transaction_hash: str
    amount_ton: float | None
    amount_nanoton: int | None
    amount_usd: float
    from_address: str
    to_address: str
    transaction_time: dt.datetime | None
    period_start: dt.datetime | None
    period_end: dt.datetime | None


def normalise_transaction_hash(value: str, field: str) -> str:
    """A 32-byte hash as 64 hex digits, or base64 / base64url; stored as lowercase hex."""
    value = value.strip()
    if HEX_HASH.match(value):
        return value.lower()
    try:
        raw = base64.b64decode(value.replace("-", "+").replace("_", "/") + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise InvalidArgument.field(field, "must be a 32-byte hash: 64 hex digits or base64")
    return raw.hex()


def _validate(new: NewPayout) -> dict:
    check = Validator()
    check.check(new.participant_id > 0, "participant_id", "is required")
    values = {
        "participant_id": new.participant_id,
        "transaction_hash": check.run("transaction_hash", normalise_transaction_hash, new.transaction_hash),
        "amount_usd_micros": check.run("amount_usd", decimal_to_units, new.amount_usd, USD_MICROS_DECIMALS),
        "transaction_time": new.transaction_time,
        "period_start": new.period_start,
        "period_end": new.period_end,
    }
    nanoton = None
    if new.amount_nanoton is not None:
        if check.check(new.amount_nanoton > 0, "amount_nanoton", "must be greater than 0"):
            nanoton = new.amount_nanoton
    if new.amount_ton is not None:
        from_ton = check.run("amount_ton", lambda v, f: ton_to_nanoton(v, f, allow_zero=False), new.amount_ton)
        if nanoton is not None and from_ton is not None and from_ton != nanoton:
            check.fail("amount_ton", "does not agree with amount_nanoton")
        nanoton = nanoton if nanoton is not None else from_ton
    elif new.amount_nanoton is None:
        check.fail("amount_ton", "is required")
    values["amount_nanoton"] = nanoton
    for name in ("from_address", "to_address"):
        wallet = check.run(name, parse_address, getattr(new, name))
        values[name] = wallet.friendly if wallet else None
    for name in ("transaction_time", "period_start", "period_end"):
        check.check(values[name] is not None, name, "is required")
    if new.period_start and new.period_end:
        check.check(new.period_start <= new.period_end, "period_end", "must not be before period_start")
    check.raise_if_any()
    return values


async def create_payout(session: AsyncSession, new: NewPayout) -> tuple[Payout, bool]:
    """Returns (payout, created). The same hash with the same content returns the stored payout;
    with different content it is a conflict. Raises ConcurrentInsert if it lost a race."""
    values = _validate(new)
    existing = await session.scalar(select(Payout).where(Payout.transaction_hash == values["transaction_hash"]))
    if existing is not None:
        differing = [name for name, value in values.items() if getattr(existing, name) != value]
        if differing:
            raise AlreadyExists("a payout with this transaction_hash exists with different content",
                                reason=Reason.PAYOUT_CONFLICT,
                                metadata={"payout_id": str(existing.id), "differing_fields": ",".join(differing)})
        return existing, False
    await require_participant(session, new.participant_id)
    payout = Payout(**values)
    session.add(payout)
    try:
        await session.flush()
    except IntegrityError:
        raise ConcurrentInsert() from None
    return payout, True


async def get_payout(session: AsyncSession, payout_id: int) -> Payout:
    return await get_existing(session, Payout, payout_id, "payout")


async def list_payouts(session: AsyncSession, participant_id: int, limit: int | None, page_token: str,
                       status: str = "") -> tuple[list[Payout], str]:
    """Newest transaction first; keyset on (transaction_time, id)."""
    check = Validator()
    check.check(participant_id >= 0, "participant_id", "must not be negative")
    check.check(not status or status in set(PayoutStatus), "status",
                f"must be one of {', '.join(PayoutStatus)} (or empty: all)")
    limit, after = paging.newest_first_request(check, limit, page_token)
    check.raise_if_any()
    query = paging.newest_first(select(Payout), Payout.transaction_time, Payout.id, limit, after)
    if participant_id:
        query = query.where(Payout.participant_id == participant_id)
    if status:
        query = query.where(Payout.status == status)
    return paging.newest_first_page(list(await session.scalars(query)), limit, "transaction_time")


@dataclass(frozen=True)
class MonthTotals:
    month: str
    count: int
    total_nanoton: int
    total_usd_micros: int


@dataclass(frozen=True)
class PayoutSummary:
    participant_id: int
    total_payouts: int
    total_nanoton: int
    total_usd_micros: int
    first_payout_at: dt.datetime | None
    last_payout_at: dt.datetime | None
    by_month: list[MonthTotals]


async def payout_summary(session: AsyncSession, participant_id: int) -> PayoutSummary:
    await require_participant(session, participant_id)
    rows = (await session.execute(
        select(Payout.transaction_time, Payout.amount_nanoton, Payout.amount_usd_micros)
        .where(Payout.participant_id == participant_id, Payout.status == PayoutStatus.CONFIRMED)
        .order_by(Payout.transaction_time))).all()
    months: dict[str, list[int]] = {}
    for time, nanoton, usd in rows:
        totals = months.setdefault(time.strftime("%Y-%m"), [0, 0, 0])
        totals[0] += 1
        totals[1] += nanoton
        totals[2] += usd
    return PayoutSummary(
        participant_id=participant_id,
        total_payouts=len(rows),
        total_nanoton=sum(r.amount_nanoton for r in rows),
        total_usd_micros=sum(r.amount_usd_micros for r in rows),
        first_payout_at=rows[0].transaction_time if rows else None,
        last_payout_at=rows[-1].transaction_time if rows else None,
        by_month=[MonthTotals(month, *totals) for month, totals in months.items()],
    )


TAX_REPORT_COLUMNS = ["payout_id", "transaction_time", "transaction_hash", "amount_ton", "amount_usd",
                      "from_address", "to_address", "period_start", "period_end"]


async def tax_report(session: AsyncSession, participant_id: int, year: int) -> tuple[str, str]:
    """Returns (csv text, file name): one row per confirmed payout of that UTC year (recorded by
    hand, or a run's that the chain confirmed), then a TOTAL row."""
    check = Validator()
    check.check(participant_id > 0, "participant_id", "is required")
    check.check(MIN_YEAR <= year <= MAX_YEAR, "year", f"must be between {MIN_YEAR} and {MAX_YEAR}")
    check.raise_if_any()
    await require_participant(session, participant_id)
    start = dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc)
    end = dt.datetime(year + 1, 1, 1, tzinfo=dt.timezone.utc)
    payouts = list(await session.scalars(
        select(Payout).where(Payout.participant_id == participant_id, Payout.status == PayoutStatus.CONFIRMED,
                             Payout.transaction_time >= start,
                             Payout.transaction_time < end).order_by(Payout.transaction_time, Payout.id)))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(TAX_REPORT_COLUMNS)
    for p in payouts:
        writer.writerow([p.id, rfc3339(p.transaction_time), p.transaction_hash,
                         units_to_decimal_str(p.amount_nanoton, NANOTON_DECIMALS),
                         units_to_decimal_str(p.amount_usd_micros, USD_MICROS_DECIMALS),
                         p.from_address, p.to_address, rfc3339(p.period_start), rfc3339(p.period_end)])
    writer.writerow(["TOTAL", "", f"{len(payouts)} payouts",
                     units_to_decimal_str(sum(p.amount_nanoton for p in payouts), NANOTON_DECIMALS),
                     units_to_decimal_str(sum(p.amount_usd_micros for p in payouts), USD_MICROS_DECIMALS),
                     "", "", "", ""])
    return out.getvalue(), f"tax-report-{participant_id}-{year}.csv"


def rfc3339(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Payouts:
    """The pool's payout operations, each one unit of work with its ownership check."""

    def __init__(self, database: Database):
        self.database = database

    async def list(self, participant_id: int, limit: int | None, page_token: str, status: str = ""
                   ) -> tuple[list[Payout], str]:
        participant_id = scoped_participant_filter(participant_id)
        async with self.database.transaction() as session:
            return await list_payouts(session, participant_id, limit, page_token, status)

    async def get(self, payout_id: int) -> Payout:
        async with self.database.transaction() as session:
            payout = await get_payout(session, payout_id)
        require_owner(payout.participant_id, "payout")
        return payout

    async def create(self, new: NewPayout) -> tuple[Payout, bool]:
        """(the payout, whether this call created it): the same transaction hash with the same
        content is the stored payout; a lost insert race re-runs the unit of work."""
        return await self.database.retrying(lambda session: create_payout(session, new))

    async def summary(self, participant_id: int) -> PayoutSummary:
        require_owner(participant_id, "participant")
        async with self.database.transaction() as session:
            return await payout_summary(session, participant_id)

    async def tax_report(self, participant_id: int, year: int) -> tuple[str, str]:
        require_owner(participant_id, "participant")
        async with self.database.transaction() as session:
            return await tax_report(session, participant_id, year)
