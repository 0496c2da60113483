"""Wallet users: login challenges, ton_proof login, sessions, balances. A user is a participant."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator import ledger
from coordinator.errors import Reason, Unauthenticated
from coordinator.identity import credentials, ton_proof
from coordinator.identity.authenticator import Authenticator
from coordinator.identity.callers import CallerKind, client_id_of, current_caller, owner_scope, require_owner
from coordinator.settings import Settings
from coordinator.storage.database import ConcurrentInsert, Database, get_existing
from coordinator.storage.models import LedgerEntry, LoginChallenge, Participant, UserSession, utcnow


@dataclass(frozen=True)
class LoginPolicy:
    domains: tuple[str, ...]
    challenge_ttl: dt.timedelta
    proof_max_age: dt.timedelta
    session_ttl: dt.timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginPolicy:
        return cls(domains=settings.ton_proof_domains,
                   challenge_ttl=dt.timedelta(seconds=settings.login_challenge_ttl_s),
                   proof_max_age=dt.timedelta(seconds=settings.ton_proof_max_age_s),
                   session_ttl=dt.timedelta(seconds=settings.session_ttl_s))


async def create_challenge(session: AsyncSession, policy: LoginPolicy) -> LoginChallenge:
    now = utcnow()
    challenge = LoginChallenge(payload=secrets.token_hex(32), created_at=now, expires_at=now + policy.challenge_ttl)
    session.add(challenge)
    # Expired challenges are worthless: sweep them on the way so the table stays small.
    await session.execute(delete(LoginChallenge).where(LoginChallenge.expires_at < now))
    return challenge


async def login(session: AsyncSession, proof: ton_proof.Proof, policy: LoginPolicy
                ) -> tuple[Participant, UserSession, str]:
    """Verifies the proof, consumes its payload, finds or creates the participant, opens a
    session. A replayed, unknown or expired payload is refused; nothing is written then."""
    now = utcnow()
    wallet = ton_proof.verify(proof, domains=policy.domains, max_age=policy.proof_max_age, now=now)
    consumed = await session.scalar(
        update(LoginChallenge).where(LoginChallenge.payload == proof.payload, LoginChallenge.used_at.is_(None),
                                     LoginChallenge.expires_at > now)
        .values(used_at=now).returning(LoginChallenge.payload))
    if consumed is None:
        raise Unauthenticated("the ton_proof payload is not one this pool issued, was used already, or expired: "
                              "ask for a new challenge", reason=Reason.TON_PROOF_PAYLOAD_INVALID)
    participant = await session.scalar(select(Participant).where(Participant.wallet_raw == wallet.raw))
    if participant is None:
        participant = Participant(wallet_raw=wallet.raw, wallet_address=wallet.friendly, created_at=now,
                                  updated_at=now)
        session.add(participant)
        try:
            await session.flush()
        except IntegrityError:  # the same wallet logged in twice at once: run again, find it
            raise ConcurrentInsert() from None
    record, token = await credentials.open_session(session, participant.id, policy.session_ttl)
    return participant, record, token


async def balances(session: AsyncSession, participant_id: int) -> dict[str, int]:
    """Per asset, in smallest units: what the participant earned as a provider and holds as a
    client (charges, credits bought), summed from the ledger."""
    await get_existing(session, Participant, participant_id, "user")
    accounts = [ledger.participant_account(participant_id), ledger.client_account(client_id_of(participant_id))]
    rows = await session.execute(select(LedgerEntry.asset, func.sum(LedgerEntry.amount))
                                 .where(LedgerEntry.account.in_(accounts)).group_by(LedgerEntry.asset))
    return {asset: int(total) for asset, total in rows}


class Users:
    """Wallet users' operations, each one unit of work: a login challenge, a login, a logout
    (the session stops working here at once), the caller's own profile, balances."""

    def __init__(self, database: Database, policy: LoginPolicy, authenticator: Authenticator):
        self.database = database
        self.policy = policy
        self.authenticator = authenticator

    async def challenge(self) -> LoginChallenge:
        async with self.database.transaction() as session:
            return await create_challenge(session, self.policy)

    async def login(self, proof: ton_proof.Proof) -> tuple[Participant, UserSession, str]:
        return await self.database.retrying(lambda session: login(session, proof, self.policy))

    async def logout(self, token: str) -> None:
        async with self.database.transaction() as session:
            await credentials.revoke_session(session, token)
        self.authenticator.forget(token)

    async def me(self) -> tuple[Participant, CallerKind]:
        """The participant the caller acts for, and the kind of credential it used."""
        caller = current_caller.get()
        async with self.database.transaction() as session:
            return await get_existing(session, Participant, owner_scope(), "user"), caller.kind

    async def balances(self, participant_id: int) -> dict[str, int]:
        require_owner(participant_id, "user")
        async with self.database.transaction() as session:
            return await balances(session, participant_id)
