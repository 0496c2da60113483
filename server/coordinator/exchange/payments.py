"""The exchange: AITBC credits bought with Bitcoin.

A payment asks for an exact number of satoshis at an address: with an extended public key
configured (BITCOIN_XPUB), each payment gets its own BIP84 receive address and the watcher
confirms it from the chain; with only BITCOIN_ADDRESS, payments share that address and an admin
confirms them. A payment credits the ledger exactly once: the pending -> confirmed transition is
one conditional write on the locked row, in the transaction that posts the credit.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from dataclasses import dataclass

import aiohttp
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator import ledger
from coordinator.adapters.bitcoin_core import BitcoinCore
from coordinator.duties import repeat
from coordinator.errors import FailedPrecondition, InvalidArgument, NotFound, Reason, Validator
from coordinator.exchange import bitcoin
from coordinator.identity.callers import client_id_of, owner_scope, require_owner
from coordinator.money import decimal_to_units
from coordinator.storage.database import Database
from coordinator.storage.models import Counter, Payment, PaymentStatus, utcnow

log = logging.getLogger(__name__)
MIN_SAT = 1_000
MAX_SAT = 10**10  # 100 BTC
TXID = re.compile(r"^[0-9a-f]{64}$")
CREDIT_UNITS_PER_AITBC = 10**ledger.DECIMALS[ledger.AITBC]
RECEIVE_INDEX = "bip84_receive_index"


@dataclass(frozen=True)
class ExchangeConfig:
    rate: int                                  # AITBC per BTC
    payment_ttl: dt.timedelta
    xpub: bitcoin.ExtendedPublicKey | None = None
    address: str = ""                          # the shared address when there is no xpub

    @classmethod
    def from_settings(cls, settings) -> ExchangeConfig:
        """Refuses to start on a malformed key or address rather than take payments to it."""
        ttl = dt.timedelta(seconds=settings.payment_ttl_s)
        if settings.bitcoin_xpub:
            try:
                return cls(settings.btc_to_aitbc_rate, ttl, xpub=bitcoin.ExtendedPublicKey.parse(settings.bitcoin_xpub))
            except ValueError as error:
                raise ValueError(f"BITCOIN_XPUB is not a usable extended public key: {error}") from None
        if settings.bitcoin_address:
            for network in bitcoin.NETWORKS.values():
                try:
                    return cls(settings.btc_to_aitbc_rate, ttl,
                               address=bitcoin.validate_address(settings.bitcoin_address, network, "BITCOIN_ADDRESS"))
                except InvalidArgument:
                    continue
            raise ValueError("BITCOIN_ADDRESS is not a valid mainnet or testnet Bitcoin address")
        return cls(settings.btc_to_aitbc_rate, ttl)

    @property
    def enabled(self) -> bool:
        return self.xpub is not None or bool(self.address)

    def credits_for(self, amount_sat: int) -> int:
        """AITBC units that amount_sat buys: sat x rate / 10^8 BTC, in 10^-9 AITBC: exact."""
        return amount_sat * self.rate * CREDIT_UNITS_PER_AITBC // 10**8


def _amount_sat(config: ExchangeConfig, amount_aitbc: float, amount_sat: int) -> int:
    check = Validator()
    check.check(amount_sat >= 0, "amount_sat", "must not be negative")
    check.check(amount_aitbc >= 0, "amount_aitbc", "must not be negative")
    if check.check(not (amount_sat and amount_aitbc), "amount_sat", "give amount_sat or amount_aitbc, not both"):
        check.check(bool(amount_sat or amount_aitbc), "amount_sat", "give amount_sat or amount_aitbc")
    check.raise_if_any()
    if amount_aitbc:
        units = decimal_to_units(amount_aitbc, ledger.DECIMALS[ledger.AITBC], "amount_aitbc", allow_zero=False)
        per_sat_numerator = config.rate * CREDIT_UNITS_PER_AITBC
        amount_sat = -(-units * 10**8 // per_sat_numerator)  # rounded up: never fewer credits than asked
    if not MIN_SAT <= amount_sat <= MAX_SAT:
        raise InvalidArgument.field("amount_sat" if not amount_aitbc else "amount_aitbc",
                                    f"must come to {MIN_SAT:,} to {MAX_SAT:,} satoshis")
    return amount_sat


async def create_payment(session: AsyncSession, config: ExchangeConfig, participant_id: int, amount_aitbc: float,
                         amount_sat: int) -> Payment:
    if not config.enabled:
        raise FailedPrecondition("this pool sells no credits: neither BITCOIN_XPUB nor BITCOIN_ADDRESS is configured",
                                 reason=Reason.EXCHANGE_DISABLED)
    amount_sat = _amount_sat(config, amount_aitbc, amount_sat)
    now = utcnow()
    index, address = None, config.address
    if config.xpub is not None:
        # Index 0 stays unused: it is the address wallet apps show first and people reuse by hand.
        index = await session.scalar(update(Counter).where(Counter.name == RECEIVE_INDEX)
                                     .values(value=Counter.value + 1).returning(Counter.value))
        address = config.xpub.receive_address(index)
    payment = Payment(id=str(uuid.uuid4()), participant_id=participant_id, status=PaymentStatus.PENDING, amount_sat=amount_sat,
                      credit_units=config.credits_for(amount_sat), rate=config.rate, address=address,
                      derivation_index=index, needs_admin=config.xpub is None, confirmations=0, received_sat=0,
                      created_at=now, expires_at=now + config.payment_ttl)
    session.add(payment)
    return payment


async def get_payment(session: AsyncSession, payment_id: str, *, for_update: bool = False) -> Payment:
    query = select(Payment).where(Payment.id == payment_id)
    payment = await session.scalar(query.with_for_update() if for_update else query)
    if payment is None:
        raise NotFound(f"payment {payment_id} not found", reason=Reason.PAYMENT_NOT_FOUND,
                       metadata={"payment_id": payment_id})
    if payment.status == PaymentStatus.PENDING and payment.expires_at <= utcnow():
        payment.status = PaymentStatus.EXPIRED
    return payment


async def confirm(session: AsyncSession, payment_id: str, txid: str, confirmations: int, received_sat: int) -> Payment:
    """Confirms and credits the payment once. received_sat 0 means "the full amount"."""
    txid = txid.lower()
    check = Validator()
    check.check(bool(TXID.match(txid)), "txid", "must be 64 hex digits")
    check.check(received_sat >= 0, "received_sat", "must not be negative")
    check.check(confirmations >= 0, "confirmations", "must not be negative")
    check.raise_if_any()
    payment = await get_payment(session, payment_id, for_update=True)
    if payment.status == PaymentStatus.CONFIRMED:
        if payment.txid == txid:
            return payment  # the same confirmation again changes nothing
        raise FailedPrecondition(f"payment {payment_id} is already confirmed by another transaction",
                                 reason=Reason.ALREADY_CONFIRMED, metadata={"payment_id": payment_id, "txid": payment.txid})
    if payment.status == PaymentStatus.EXPIRED:
        raise FailedPrecondition(f"payment {payment_id} expired at {payment.expires_at.isoformat()}: it cannot be "
                                 "confirmed", reason=Reason.PAYMENT_EXPIRED, metadata={"payment_id": payment_id})
    received_sat = received_sat or payment.amount_sat
    if received_sat < payment.amount_sat:
        raise FailedPrecondition(f"the transaction paid {received_sat} of {payment.amount_sat} satoshis: not credited",
                                 reason=Reason.UNDERPAID, metadata={"payment_id": payment_id})
    payment.status, payment.txid, payment.confirmations = "confirmed", txid, max(confirmations, 1)
    payment.received_sat, payment.confirmed_at = received_sat, utcnow()
    ledger.record_deposit(session, payment_id=payment.id, client_id=client_id_of(payment.participant_id),
                          participant_id=payment.participant_id, credit_units=payment.credit_units)
    return payment


async def expire_overdue(session: AsyncSession) -> int:
    rows = await session.execute(update(Payment).where(Payment.status == PaymentStatus.PENDING, Payment.expires_at <= utcnow())
                                 .values(status=PaymentStatus.EXPIRED).returning(Payment.id))
    return len(rows.all())


async def watch_once(database, chain: BitcoinCore, min_confirmations: int) -> int:
    """Confirms every pending payment whose own address received its amount; returns how many."""
    async with database.transaction() as session:
        await expire_overdue(session)
        pending = list(await session.scalars(select(Payment).where(
            Payment.status == PaymentStatus.PENDING, Payment.needs_admin.is_(False), Payment.expires_at > utcnow())))
    confirmed = 0
    for payment in pending:
        seen = await chain.received(payment.address, min_confirmations)
        if seen.sat < payment.amount_sat or not seen.txids:
            continue  # nothing yet, or underpaid: not credited
        try:
            async with database.transaction() as session:
                await confirm(session, payment.id, seen.txids[-1], seen.confirmations, seen.sat)
            confirmed += 1
        except FailedPrecondition as refused:  # expired meanwhile, or confirmed by an admin
            log.info("payment %s not confirmed by the watcher: %s", payment.id, refused.reason)
    return confirmed


async def watch_forever(database, rpc_url: str, min_confirmations: int, every_s: float) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        chain = BitcoinCore(rpc_url, http)
        # Only the kind of error is logged: the node's URL carries its RPC password.
        await repeat("payment watcher", lambda: watch_once(database, chain, min_confirmations), every_s,
                     traceback=False)


class Exchange:
    """The exchange's operations, each one unit of work: a client asks for a payment request for
    its own participant, follows its own payments; an admin confirms one (credited once)."""

    def __init__(self, database: Database, config: ExchangeConfig):
        self.database = database
        self.config = config

    async def create(self, amount_aitbc: float, amount_sat: int) -> Payment:
        buyer = owner_scope()
        async with self.database.transaction() as session:
            return await create_payment(session, self.config, buyer, amount_aitbc, amount_sat)

    async def status(self, payment_id: str) -> Payment:
        async with self.database.transaction() as session:
            payment = await get_payment(session, payment_id)
        require_owner(payment.participant_id, "payment")
        return payment

    async def confirm(self, payment_id: str, txid: str, confirmations: int, received_sat: int) -> Payment:
        async with self.database.transaction() as session:
            return await confirm(session, payment_id, txid, confirmations, received_sat)
