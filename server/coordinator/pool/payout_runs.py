"""Payout runs: the pool settles what it owes each participant, once.

What the pool owes a participant is its ledger account (earnings, less what open payouts
reserve, plus what failed ones released): owed = earned - reserved - paid, exact nanotons. A
run gives every participant owed at least its threshold (the pool minimum, or its own higher
one) one pending payout of the whole owed amount, and in the same transaction moves that amount
into the reserved account, so no later run can pay it again.

Runs are serialised by one row lock (an UPDATE of the `payout_runs` counter, the first write of
the run's transaction: PostgreSQL holds the row, SQLite the database, until commit), so a run
reads what the previous one reserved. A scheduled run names its interval's slot, unique: the
replicas that all run the duty in the same interval make one run.

A payout then moves pending -> sent (the wallet sent it; its transaction hash recorded, unique
among all payouts, so CreatePayout with that hash finds it) -> confirmed (the reservation is
paid out); pending or sent -> failed releases the reservation back to what is owed. The wallet
gets the run as CSV or JSON: the destination in the non-bounceable user-friendly form wallets
send to, the amount in nanotons, and a comment carrying the payout id, by which the TON watcher
recognises the transfer on chain.
"""

from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import io
import json
import logging
import re
from dataclasses import dataclass

import aiohttp
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator import ledger
from coordinator.alerts import outbox
from coordinator.duties import repeat
from coordinator.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Reason,
    Validator,
)
from coordinator.events.bus import Event, EventBus
from coordinator.identity.wallet_address import parse_address
from coordinator.money import NANOTON_DECIMALS, units_to_decimal_str
from coordinator.pool.payouts import normalise_transaction_hash, rfc3339
from coordinator.storage import paging
from coordinator.storage.database import ConcurrentInsert, Database, get_existing
from coordinator.storage.models import (
    OPEN_PAYOUT_STATUSES,
    Counter,
    Participant,
    Payout,
    PayoutRun,
    PayoutStatus,
    utcnow,
)

log = logging.getLogger(__name__)
RUN_COUNTER = "payout_runs"  # the row whose lock serialises runs (migration 0007)
SCHEDULED, MANUAL = "scheduled", "manual"
MEMO_PREFIX = "computepool payout "
MEMO = re.compile(r"^computepool payout (\d{1,10})$")
EXPORT_COLUMNS = ["payout_id", "destination", "amount_nanoton", "amount_ton", "comment"]
EXPORT_FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
MAX_FAILURE_REASON = 200


@dataclass(frozen=True)
class PayoutPolicy:
    """The pool's payout settings (from Settings)."""

    minimum_nanoton: int
    from_address: str = ""   # the pool's wallet, user-friendly; "" when not configured
    interval_s: float = 0.0  # 0: runs only on demand

    @classmethod
    def from_settings(cls, settings) -> PayoutPolicy:
        """Refuses to start with a minimum below one nanoton or a malformed pool wallet."""
        if settings.payout_minimum_nanoton < 1:
            raise ValueError("PAYOUT_MINIMUM_NANOTON must be at least 1")
        if settings.payout_interval_s < 0:
            raise ValueError("PAYOUT_INTERVAL_SECONDS must not be negative")
        wallet = ""
        if settings.pool_wallet_address:
            try:
                wallet = parse_address(settings.pool_wallet_address, "POOL_WALLET_ADDRESS").friendly
            except InvalidArgument as error:
                raise ValueError(f"POOL_WALLET_ADDRESS is not a TON address: {error.message}") from None
        return cls(settings.payout_minimum_nanoton, wallet, settings.payout_interval_s)

    def threshold(self, own: int | None) -> int:
        """A participant's effective threshold: its own, never below the pool minimum."""
        return max(self.minimum_nanoton, own or 0)


def memo(payout_id: int) -> str:
    """The transfer comment that carries the payout id to the chain and back."""
    return f"{MEMO_PREFIX}{payout_id}"


def payout_id_of_memo(comment: str) -> int | None:
    match = MEMO.match((comment or "").strip())
    return int(match.group(1)) if match else None


def slot_of(now: dt.datetime, interval_s: float) -> str:
    """The scheduled slot `now` falls in: the start of its interval, counted from the epoch, so
    every replica names the same slot whenever within the interval it runs."""
    start = int(now.timestamp() // interval_s * interval_s)
    return "scheduled:" + rfc3339(dt.datetime.fromtimestamp(start, dt.timezone.utc))


@dataclass(frozen=True)
class RunView:
    run: PayoutRun
    payouts: list[Payout]


async def create_run(session: AsyncSession, events: EventBus, policy: PayoutPolicy, trigger: str,
                     slot: str | None = None) -> PayoutRun | None:
    """A run of the payouts owed now; None when `slot` already has its run."""
    # The lock first: the run's first write, so on SQLite its transaction starts here too.
    await session.execute(update(Counter).where(Counter.name == RUN_COUNTER).values(value=Counter.value + 1))
    if slot is not None and await session.scalar(select(PayoutRun.id).where(PayoutRun.slot == slot)) is not None:
        return None
    now = utcnow()
    run = PayoutRun(trigger=trigger, slot=slot, pool_minimum_nanoton=policy.minimum_nanoton, created_at=now)
    session.add(run)
    try:
        await session.flush()
    except IntegrityError:  # cannot happen behind the lock; the unique slot is the backstop
        raise ConcurrentInsert() from None
    owed = await ledger.owed_by_participant(session)
    if not owed:
        return run
    participants = list(await session.scalars(
        select(Participant).where(Participant.id.in_(list(owed))).order_by(Participant.id)))
    due = [p for p in participants if owed[p.id] >= policy.threshold(p.payout_threshold_nanoton)]
    if not due:
        return run
    settled_until = dict((await session.execute(
        select(Payout.participant_id, func.max(Payout.period_end))
        .where(Payout.run_id.is_not(None), Payout.participant_id.in_([p.id for p in due]))
        .group_by(Payout.participant_id))).all())
    payouts = [Payout(participant_id=p.id, run_id=run.id, status=PayoutStatus.PENDING, transaction_hash=None,
                      amount_nanoton=owed[p.id], amount_usd_micros=0, from_address=policy.from_address,
                      to_address=p.wallet_address, transaction_time=now,
                      period_start=settled_until.get(p.id) or p.created_at, period_end=now, created_at=now)
               for p in due]
    session.add_all(payouts)
    await session.flush()
    for payout in payouts:
        ledger.record_reservation(session, participant_id=payout.participant_id, payout_id=payout.id,
                                  amount=payout.amount_nanoton)
    await events.emit(session, [state_event(payout, None) for payout in payouts])
    return run


async def run_payouts(session: AsyncSession, run_id: int) -> list[Payout]:
    return list(await session.scalars(select(Payout).where(Payout.run_id == run_id).order_by(Payout.id)))


async def get_run(session: AsyncSession, run_id: int) -> RunView:
    run = await get_existing(session, PayoutRun, run_id, "payout_run")
    return RunView(run, await run_payouts(session, run.id))


async def list_runs(session: AsyncSession, limit: int | None, page_token: str) -> tuple[list[RunView], str]:
    """Newest first, keyset on id."""
    check = Validator()
    limit = check.run("limit", paging.resolve_limit, limit)
    after = check.run("page_token", lambda token, field: paging.decode_token(token, ("before_id",), field), page_token)
    check.raise_if_any()
    query = select(PayoutRun).order_by(PayoutRun.id.desc()).limit(limit + 1)
    if after:
        query = query.where(PayoutRun.id < int(after["before_id"]))
    runs = list(await session.scalars(query))
    next_token = paging.encode_token({"before_id": runs[limit - 1].id}) if len(runs) > limit else ""
    runs = runs[:limit]
    payouts: dict[int, list[Payout]] = {run.id: [] for run in runs}
    if runs:
        for payout in await session.scalars(select(Payout).where(Payout.run_id.in_(list(payouts))).order_by(Payout.id)):
            payouts[payout.run_id].append(payout)
    return [RunView(run, payouts[run.id]) for run in runs], next_token


def export_rows(payouts: list[Payout]) -> list[dict]:
    """What the wallet sends: only payouts still pending (a sent one is never offered twice)."""
    return [{"payout_id": p.id, "destination": p.to_address, "amount_nanoton": str(p.amount_nanoton),
             "amount_ton": units_to_decimal_str(p.amount_nanoton, NANOTON_DECIMALS), "comment": memo(p.id)}
            for p in payouts if p.status == PayoutStatus.PENDING]


async def export_run(session: AsyncSession, run_id: int, export_format: str) -> tuple[bytes, str, str]:
    """(body, content type, file name) of the run's pending payouts as CSV or JSON. The same
    run exports the same payouts however often it is asked, until they are sent."""
    export_format = (export_format or "csv").lower()
    if export_format not in EXPORT_FORMATS:
        raise InvalidArgument.field("format", f"must be one of {', '.join(EXPORT_FORMATS)}")
    view = await get_run(session, run_id)
    rows = export_rows(view.payouts)
    if export_format == "json":
        document = {"run_id": view.run.id, "created_at": rfc3339(view.run.created_at),
                    "total_nanoton": str(sum(int(row["amount_nanoton"]) for row in rows)), "payouts": rows}
        body = json.dumps(document, indent=2).encode() + b"\n"
    else:
        out = io.StringIO()
        writer = csv.DictWriter(out, EXPORT_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
        body = out.getvalue().encode()
    return body, EXPORT_FORMATS[export_format], f"payout-run-{view.run.id}.{export_format}"


async def _locked_payout(session: AsyncSession, payout_id: int) -> Payout:
    payout = await session.scalar(select(Payout).where(Payout.id == payout_id).with_for_update()) \
        if payout_id > 0 else None
    if payout is None:
        raise NotFound(f"payout {payout_id} not found", reason=Reason.PAYOUT_NOT_FOUND,
                       metadata={"payout_id": str(payout_id)})
    return payout


def _status_conflict(payout: Payout, wanted: str) -> FailedPrecondition:
    return FailedPrecondition(f"payout {payout.id} is {payout.status}: it cannot become {wanted}",
                              reason=Reason.PAYOUT_STATUS_CONFLICT,
                              metadata={"payout_id": str(payout.id), "status": payout.status})


async def _record_hash(session: AsyncSession, payout: Payout, transaction_hash: str) -> None:
    """Gives the payout its transaction hash, unless another payout (one recorded by hand
    with CreatePayout, or another run's) already has it."""
    if payout.transaction_hash == transaction_hash:
        return
    if payout.transaction_hash is not None:
        raise AlreadyExists(f"payout {payout.id} was sent in another transaction", reason=Reason.PAYOUT_CONFLICT,
                            metadata={"payout_id": str(payout.id), "transaction_hash": payout.transaction_hash})
    other = await session.scalar(select(Payout.id).where(Payout.transaction_hash == transaction_hash))
    if other is not None:
        raise AlreadyExists("another payout has this transaction_hash", reason=Reason.PAYOUT_CONFLICT,
                            metadata={"payout_id": str(other)})
    payout.transaction_hash = transaction_hash


async def update_status(session: AsyncSession, events: EventBus, payout_id: int, status: str,
                        transaction_hash: str = "", failure_reason: str = "", at: dt.datetime | None = None
                        ) -> Payout:
    """Moves a run's payout on: `sent` (needs the hash), `confirmed` (the hash, unless sent
    with it), `failed` (releases the reservation). Asking for the state it is in, with the
    same hash, changes nothing."""
    check = Validator()
    allowed = (PayoutStatus.SENT, PayoutStatus.CONFIRMED, PayoutStatus.FAILED)
    check.check(status in allowed, "status", f"must be one of {', '.join(allowed)}")
    tx_hash = check.run("transaction_hash", normalise_transaction_hash, transaction_hash) if transaction_hash else None
    check.check(len(failure_reason) <= MAX_FAILURE_REASON, "failure_reason",
                f"must be at most {MAX_FAILURE_REASON} characters")
    if status == PayoutStatus.SENT:
        check.check(bool(transaction_hash), "transaction_hash", "is required to mark a payout sent")
    check.raise_if_any()
    payout = await _locked_payout(session, payout_id)
    old = payout.status
    await _move(session, payout, status, tx_hash, failure_reason, at or utcnow())
    if payout.status != old:
        await events.emit(session, [state_event(payout, old)])
        if payout.status in (PayoutStatus.SENT, PayoutStatus.FAILED):
            await outbox.tell_payout(session, payout)
    return payout


def state_event(payout: Payout, old: str | None) -> Event:
    return Event("payout.state_changed", {
        "payout_id": payout.id, "old": old, "new": payout.status, "amount_nanoton": payout.amount_nanoton,
        "transaction_hash": payout.transaction_hash, "failure_reason": payout.failure_reason},
        participant_id=payout.participant_id)


async def _move(session: AsyncSession, payout: Payout, status: str, tx_hash: str | None, failure_reason: str,
                at: dt.datetime) -> Payout:
    if status == PayoutStatus.FAILED:
        if payout.status == PayoutStatus.FAILED:
            return payout
        if payout.status not in OPEN_PAYOUT_STATUSES:
            raise _status_conflict(payout, status)
        payout.status, payout.failure_reason = PayoutStatus.FAILED, failure_reason
        ledger.record_release(session, participant_id=payout.participant_id, payout_id=payout.id,
                              amount=payout.amount_nanoton)
        return payout
    if payout.status == PayoutStatus.FAILED or (payout.status == PayoutStatus.CONFIRMED and tx_hash is None
                                                 and status == PayoutStatus.SENT):
        raise _status_conflict(payout, status)
    if tx_hash is not None:
        await _record_hash(session, payout, tx_hash)
    if status == PayoutStatus.SENT:
        if payout.status == PayoutStatus.PENDING:
            payout.status, payout.sent_at, payout.transaction_time = PayoutStatus.SENT, at, at
        return payout
    # confirmed
    if payout.status == PayoutStatus.CONFIRMED:
        return payout
    if payout.transaction_hash is None:
        raise InvalidArgument.field("transaction_hash", "is required to confirm a payout that was not marked sent")
    if payout.status == PayoutStatus.PENDING:
        payout.sent_at, payout.transaction_time = at, at
    payout.status, payout.confirmed_at = PayoutStatus.CONFIRMED, at
    ledger.record_paid(session, participant_id=payout.participant_id, payout_id=payout.id,
                       amount=payout.amount_nanoton)
    return payout


# The TON confirmation watcher --------------------------------------------------------------

@dataclass(frozen=True)
class Transfer:
    """One outgoing message of the pool wallet's transaction, as toncenter reports it."""

    transaction_hash: str  # 64 hex digits
    time: dt.datetime
    destination_raw: str
    amount_nanoton: int
    comment: str


class TonCenter:
    """A toncenter-style HTTP API (v2): GET <base>/getTransactions?address=…&limit=…, answering
    {"ok": true, "result": [transaction, …]} newest first."""

    def __init__(self, base_url: str, api_key: str, http: aiohttp.ClientSession):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.http = http

    async def transfers(self, address: str, limit: int) -> list[Transfer]:
        headers = {"X-API-Key": self.api_key} if self.api_key else {}
        async with self.http.get(f"{self.base_url}/getTransactions", params={"address": address, "limit": str(limit)},
                                 headers=headers) as response:
            document = await response.json(content_type=None)
        if response.status != 200 or not isinstance(document, dict) or not document.get("ok"):
            raise RuntimeError(f"getTransactions answered {response.status}: {str(document)[:200]}")
        return [transfer for tx in document.get("result", []) for transfer in _transfers_of(tx)]


def _transfers_of(tx: dict) -> list[Transfer]:
    """The transaction's outgoing transfers; anything it cannot read is skipped, not guessed."""
    try:
        tx_hash = normalise_transaction_hash(tx["transaction_id"]["hash"], "hash")
        time = dt.datetime.fromtimestamp(int(tx["utime"]), dt.timezone.utc)
    except (KeyError, TypeError, ValueError, InvalidArgument):
        return []
    found = []
    for message in tx.get("out_msgs") or []:
        try:
            destination = parse_address(message["destination"], "destination").raw
            amount = int(message["value"])
        except (KeyError, TypeError, ValueError, InvalidArgument):
            continue
        found.append(Transfer(tx_hash, time, destination, amount, _comment_of(message)))
    return found


def _comment_of(message: dict) -> str:
    """The text comment: toncenter gives it decoded in `message`, and base64 in msg_data.text."""
    if isinstance(message.get("message"), str) and message["message"]:
        return message["message"]
    data = message.get("msg_data") or {}
    if data.get("@type") == "msg.dataText" and isinstance(data.get("text"), str):
        try:
            return base64.b64decode(data["text"]).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return ""
    return ""


async def watch_once(database: Database, events: EventBus, ton: TonCenter, wallet: str, limit: int) -> int:
    """Confirms each open run payout whose transfer the wallet made (comment, amount and
    destination all match); returns how many it confirmed."""
    async with database.transaction() as session:
        open_payouts = {p.id: p for p in await session.scalars(
            select(Payout).where(Payout.status.in_(list(OPEN_PAYOUT_STATUSES)), Payout.run_id.is_not(None)))}
    if not open_payouts:
        return 0
    confirmed = 0
    for transfer in await ton.transfers(wallet, limit):
        payout = open_payouts.get(payout_id_of_memo(transfer.comment))
        if payout is None or transfer.amount_nanoton != payout.amount_nanoton:
            continue
        if parse_address(payout.to_address, "to_address").raw != transfer.destination_raw:
            continue
        # A payout marked sent keeps the hash recorded then (a wallet may show the message's
        # hash rather than the transaction's); one never marked sent takes the chain's.
        recorded = payout.transaction_hash
        if recorded is not None and recorded != transfer.transaction_hash:
            log.info("payout %s confirmed by transaction %s; it was recorded as sent in %s", payout.id,
                     transfer.transaction_hash, recorded)
        try:
            async with database.transaction() as session:
                await update_status(session, events, payout.id, PayoutStatus.CONFIRMED,
                                    transfer.transaction_hash if recorded is None else "", at=transfer.time)
            confirmed += 1
            del open_payouts[payout.id]
        except (AlreadyExists, FailedPrecondition) as refused:  # another hash recorded, or failed meanwhile
            log.warning("payout %s seen on chain in %s but not confirmed: %s", payout.id,
                        transfer.transaction_hash, refused.message)
    return confirmed


async def watch_forever(database: Database, events: EventBus, base_url: str, api_key: str, wallet: str,
                        limit: int, every_s: float) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        ton = TonCenter(base_url, api_key, http)
        # Only the kind of error is logged: the URL may carry an API key.
        await repeat("TON payout watcher", lambda: watch_once(database, events, ton, wallet, limit), every_s, traceback=False)


async def run_scheduled(database: Database, events: EventBus, policy: PayoutPolicy) -> PayoutRun | None:
    """The duty's round: this interval's run, unless a replica made it already."""
    slot = slot_of(utcnow(), policy.interval_s)
    async with database.transaction() as session:  # a cheap look first: most rounds find it made
        if await session.scalar(select(PayoutRun.id).where(PayoutRun.slot == slot)) is not None:
            return None
    return await database.retrying(lambda session: create_run(session, events, policy, SCHEDULED, slot))


async def schedule_forever(database: Database, events: EventBus, policy: PayoutPolicy) -> None:
    # Rounds several times an interval (at most a minute apart) so a run starts soon after its
    # slot opens in whichever replica gets there first.
    await repeat("payout run", lambda: run_scheduled(database, events, policy), min(policy.interval_s / 4, 60.0))


class PayoutRuns:
    """The admin's payout-run operations, each one unit of work."""

    def __init__(self, database: Database, policy: PayoutPolicy, events: EventBus):
        self.database = database
        self.policy = policy
        self.events = events

    async def create(self) -> RunView:
        async def work(session):
            run = await create_run(session, self.events, self.policy, MANUAL)
            return RunView(run, await run_payouts(session, run.id))
        return await self.database.retrying(work)

    async def get(self, run_id: int) -> RunView:
        async with self.database.transaction() as session:
            return await get_run(session, run_id)

    async def list(self, limit: int | None, page_token: str) -> tuple[list[RunView], str]:
        async with self.database.transaction() as session:
            return await list_runs(session, limit, page_token)

    async def export(self, run_id: int, export_format: str) -> tuple[bytes, str, str]:
        async with self.database.transaction() as session:
            return await export_run(session, run_id, export_format)

    async def update_status(self, payout_id: int, status: str, transaction_hash: str, failure_reason: str) -> Payout:
        async with self.database.transaction() as session:
            return await update_status(session, self.events, payout_id, status, transaction_hash, failure_reason)
