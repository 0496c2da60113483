"""Payout runs in tests: earnings put in the ledger as a completed job puts them, the ledger's
invariants checked from the raw entries and the payouts table, and a toncenter stand-in."""

from __future__ import annotations

import base64
import uuid

from aiohttp import web
from coordinator import ledger
from coordinator.storage.database import Database
from coordinator.storage.models import LedgerEntry, Payout, PayoutStatus
from sqlalchemy import func, select

TON = 1_000_000_000  # nanotons


async def earn(database: Database, participant_id: int, worker_id: int, earning: int) -> None:
    """A job's earning as the ledger records it (kind "earning" on the participant's account,
    naming the worker and a job), balanced by a test-only funding account instead of a client's
    charge: the marketplace tests hold every charge to a receipt."""
    async with database.transaction() as session:
        common = dict(asset=ledger.TON, job_id=str(uuid.uuid4()), receipt_id=str(uuid.uuid4()))
        session.add_all([
            LedgerEntry(account=ledger.participant_account(participant_id), amount=earning, kind=ledger.EARNING,
                        participant_id=participant_id, worker_id=worker_id, **common),
            LedgerEntry(account="test:funding", amount=-earning, kind="test-funding", **common)])


async def _sum(session, *conditions) -> int:
    return int(await session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(*conditions)))


async def check_ledger(database: Database, participant_ids: list[int]) -> dict[int, dict[str, int]]:
    """Asserts the invariants and returns each participant's figures:
    - every asset's entries sum to zero (the whole ledger, not only these participants);
    - owed (the participant's account) = earned - reserved - paid, each summed on its own;
    - reserved = the amounts of its open run payouts, paid = those of its confirmed run payouts."""
    figures = {}
    async with database.transaction() as session:
        per_asset = (await session.execute(select(LedgerEntry.asset, func.sum(LedgerEntry.amount))
                                           .group_by(LedgerEntry.asset))).all()
        assert all(int(total) == 0 for _, total in per_asset), per_asset
        for pid in participant_ids:
            account = ledger.participant_account(pid)
            owed = await _sum(session, LedgerEntry.account == account)
            earned = await _sum(session, LedgerEntry.account == account, LedgerEntry.kind == ledger.EARNING)
            reserved = await _sum(session, LedgerEntry.account == ledger.PAYOUTS_RESERVED,
                                  LedgerEntry.participant_id == pid)
            paid = await _sum(session, LedgerEntry.account == ledger.PAID_OUT, LedgerEntry.participant_id == pid)
            assert owed == earned - reserved - paid, (pid, owed, earned, reserved, paid)
            open_amounts = await session.scalar(select(func.coalesce(func.sum(Payout.amount_nanoton), 0)).where(
                Payout.participant_id == pid, Payout.run_id.is_not(None),
                Payout.status.in_([PayoutStatus.PENDING, PayoutStatus.SENT])))
            confirmed_amounts = await session.scalar(select(func.coalesce(func.sum(Payout.amount_nanoton), 0)).where(
                Payout.participant_id == pid, Payout.run_id.is_not(None), Payout.status == PayoutStatus.CONFIRMED))
            assert (reserved, paid) == (open_amounts, confirmed_amounts), (pid, reserved, paid)
            assert owed >= 0
            figures[pid] = {"owed": owed, "earned": earned, "reserved": reserved, "paid": paid}
    return figures


class FakeTonCenter:
    """A toncenter v2 stand-in on 127.0.0.1:<free port>: GET /api/v2/getTransactions answers the
    transactions a test put in `transactions` (newest first), and records each request's query
    and API key."""

    def __init__(self) -> None:
        self.transactions: list[dict] = []
        self.requests: list[tuple[dict, str]] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> FakeTonCenter:
        app = web.Application()
        app.router.add_get("/api/v2/getTransactions", self._transactions)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/api/v2"
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _transactions(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.query), request.headers.get("X-API-Key", "")))
        limit = int(request.query.get("limit", "10"))
        return web.json_response({"ok": True, "result": self.transactions[:limit]})

    def add_transfer(self, *, source: str, destination: str, amount: int, comment: str, utime: int,
                     comment_as_data: bool = False) -> str:
        """A transaction of the wallet `source` sending `amount` to `destination` with `comment`
        (decoded in `message`, or only as base64 msg_data); returns its hash in hex."""
        raw_hash = uuid.uuid4().bytes * 2
        message = {"source": source, "destination": destination, "value": str(amount), "fwd_fee": "666672",
                   "ihr_fee": "0", "created_lt": "1", "body_hash": "",
                   "msg_data": {"@type": "msg.dataText", "text": base64.b64encode(comment.encode()).decode()},
                   "message": "" if comment_as_data else comment}
        self.transactions.insert(0, {
            "@type": "raw.transaction", "utime": utime, "data": "", "fee": "1000000", "storage_fee": "0",
            "other_fee": "1000000", "transaction_id": {"@type": "internal.transactionId", "lt": "1",
                                                       "hash": base64.b64encode(raw_hash).decode()},
            "in_msg": {"source": "", "destination": source, "value": "0", "message": ""},
            "out_msgs": [message]})
        return raw_hash.hex()
