"""The ledger: append-only integer movements. Balances are sums of entries."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.storage.models import LedgerEntry

TON = "TON"
AITBC = "AITBC"
BTC = "BTC"
EARNING = "earning"  # the ledger kind of what a worker earned for a job
DECIMALS = {TON: 9, AITBC: 9, BTC: 8}  # decimal places of each asset's smallest unit
POOL_FEES = "pool:fees"
AITBC_ISSUED = "pool:aitbc-issued"  # the counterpart of every credit bought: the ledger balances
# Payouts move a participant's earnings out of its account (what the pool owes it) in two steps:
# a run reserves the amount (participant -> reserved), the chain's confirmation pays it
# (reserved -> paid out); a failed payout releases it (reserved -> participant). Every entry
# names the participant and the payout, so owed = earned - reserved - paid for each participant.
PAYOUTS_RESERVED = "pool:payouts-reserved"
PAID_OUT = "pool:paid-out"
RESERVE, RELEASE, PAYOUT = "reserve", "release", "payout"


def client_account(client_id: str) -> str:
    return f"client:{client_id}"


def participant_account(participant_id: int) -> str:
    return f"participant:{participant_id}"


@dataclass(frozen=True)
class Settlement:
    charge: int
    earning: int
    fee: int


def settle(units: int, unit_price: int, coefficient_micros: int, max_price: int, fee_bps: int) -> Settlement:
    """The client's charge (rounded down, capped by max_price when set), split into the
    provider's earning and the pool fee. charge == earning + fee, exactly."""
    charge = units * unit_price * coefficient_micros // 1_000_000
    if max_price:
        charge = min(charge, max_price)
    fee = charge * fee_bps // 10_000
    return Settlement(charge=charge, earning=charge - fee, fee=fee)


def job_settlement_entries(*, job_id: str, receipt_id: str, client_id: str, participant_id: int, worker_id: int,
                           settlement: Settlement) -> list[dict]:
    """The three entries of a completed job, as rows of ledger_entries; they sum to zero. Rows,
    not objects: a batch of results inserts all its entries in one statement."""
    common = dict(asset=TON, job_id=job_id, receipt_id=receipt_id, payment_id=None)
    return [
        dict(account=client_account(client_id), amount=-settlement.charge, kind="charge", participant_id=None,
             worker_id=None, **common),
        dict(account=participant_account(participant_id), amount=settlement.earning, kind=EARNING,
             participant_id=participant_id, worker_id=worker_id, **common),
        dict(account=POOL_FEES, amount=settlement.fee, kind="fee", participant_id=None, worker_id=None, **common),
    ]


async def insert_entries(session: AsyncSession, entries: list[dict]) -> None:
    """One INSERT for all the rows (no RETURNING: nobody needs their ids, and without it the
    driver sends them as one prepared statement, not a statement text per batch)."""
    if entries:
        await session.execute(insert(LedgerEntry.__table__), entries)


async def earnings_by(session: AsyncSession, column, ids: list[int] | Select) -> dict[int, int]:
    """Marketplace earnings per worker (column=LedgerEntry.worker_id) or participant; `ids` a
    list or, for thousands, a SELECT of them (a list that long costs more to send than to sum)."""
    if isinstance(ids, list) and not ids:
        return {}
    rows = await session.execute(select(column, func.sum(LedgerEntry.amount))
                                 .where(LedgerEntry.kind == EARNING, column.in_(ids)).group_by(column))
    return {key: int(total) for key, total in rows}


def earned(column, key):
    """The marketplace earnings of one worker or participant (`column` equal to `key`, which may
    be a column of the enclosing query) as a scalar subquery: 0 when there are none."""
    return (select(func.coalesce(func.sum(LedgerEntry.amount), 0))
            .where(LedgerEntry.kind == EARNING, column == key).scalar_subquery())


def record_deposit(session: AsyncSession, *, payment_id: str, client_id: str, participant_id: int,
                   credit_units: int) -> None:
    """Credits bought with Bitcoin: the client's account gains them, the issuing account owes them."""
    common = dict(asset=AITBC, payment_id=payment_id, kind="deposit")
    session.add_all([
        LedgerEntry(account=client_account(client_id), amount=credit_units, participant_id=participant_id, **common),
        LedgerEntry(account=AITBC_ISSUED, amount=-credit_units, **common),
    ])


def _payout_movement(session: AsyncSession, kind: str, source: str, destination: str, *, participant_id: int,
                     payout_id: int, amount: int) -> None:
    """Two entries that sum to zero: `amount` nanotons from `source` to `destination`."""
    common = dict(asset=TON, kind=kind, participant_id=participant_id, payout_id=payout_id)
    session.add_all([LedgerEntry(account=source, amount=-amount, **common),
                     LedgerEntry(account=destination, amount=amount, **common)])


def record_reservation(session: AsyncSession, *, participant_id: int, payout_id: int, amount: int) -> None:
    """A run's payout holds `amount` of what the pool owes the participant: no run pays it again."""
    _payout_movement(session, RESERVE, participant_account(participant_id), PAYOUTS_RESERVED,
                     participant_id=participant_id, payout_id=payout_id, amount=amount)


def record_release(session: AsyncSession, *, participant_id: int, payout_id: int, amount: int) -> None:
    """A failed payout gives its reservation back to what the pool owes."""
    _payout_movement(session, RELEASE, PAYOUTS_RESERVED, participant_account(participant_id),
                     participant_id=participant_id, payout_id=payout_id, amount=amount)


def record_paid(session: AsyncSession, *, participant_id: int, payout_id: int, amount: int) -> None:
    """A confirmed payout: the reserved amount has left the pool."""
    _payout_movement(session, PAYOUT, PAYOUTS_RESERVED, PAID_OUT,
                     participant_id=participant_id, payout_id=payout_id, amount=amount)


@dataclass(frozen=True)
class Balance:
    """A participant's TON in nanotons: earned (ever), reserved for open payouts, paid, and owed."""

    earned: int = 0
    reserved: int = 0
    paid: int = 0
    owed: int = 0


async def balances(session: AsyncSession, participant_ids: list[int]) -> dict[int, Balance]:
    """Each participant's Balance, in one grouped query. `owed` is the participant account's sum
    (earnings, less reservations, plus releases), read as such rather than derived."""
    if not participant_ids:
        return {}
    accounts = [participant_account(pid) for pid in participant_ids] + [PAYOUTS_RESERVED, PAID_OUT]
    rows = await session.execute(
        select(LedgerEntry.participant_id, LedgerEntry.account, LedgerEntry.kind, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.asset == TON, LedgerEntry.participant_id.in_(participant_ids),
               LedgerEntry.account.in_(accounts))
        .group_by(LedgerEntry.participant_id, LedgerEntry.account, LedgerEntry.kind))
    sums: dict[int, dict[str, int]] = {}
    for participant_id, account, kind, total in rows:
        figures = sums.setdefault(participant_id, {"earned": 0, "reserved": 0, "paid": 0, "owed": 0})
        if account == PAYOUTS_RESERVED:
            figures["reserved"] += int(total)
        elif account == PAID_OUT:
            figures["paid"] += int(total)
        else:
            figures["owed"] += int(total)
            if kind == EARNING:
                figures["earned"] += int(total)
    return {pid: Balance(**sums[pid]) if pid in sums else Balance() for pid in participant_ids}


async def owed_by_participant(session: AsyncSession) -> dict[int, int]:
    """What the pool owes each participant with a positive balance (TON, nanotons)."""
    rows = await session.execute(
        select(LedgerEntry.participant_id, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.asset == TON, LedgerEntry.account.like("participant:%"))
        .group_by(LedgerEntry.participant_id))
    return {pid: int(total) for pid, total in rows if pid is not None and total > 0}
