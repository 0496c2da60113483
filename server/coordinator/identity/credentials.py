"""API keys and wallet sessions. Only SHA-256 digests of secrets are stored; a secret is shown
once, when it is made. A presented secret is found by its digest (a unique index), so nothing
secret is ever compared byte by byte; the bootstrap keys of API_KEYS are compared in constant
time by the interceptor."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.errors import InvalidArgument, Validator
from coordinator.identity.callers import API_KEY_ROLES, CallerKind
from coordinator.storage import paging
from coordinator.storage.database import get_existing
from coordinator.storage.models import ApiKey, Participant, UserSession, utcnow

ROLES = API_KEY_ROLES
KEY_PREFIX = "cpk_"
SESSION_PREFIX = "cps_"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_api_key(session: AsyncSession, role: str, participant_id: int, label: str) -> tuple[ApiKey, str]:
    check = Validator()
    check.check(role in ROLES, "role", f"must be one of {', '.join(ROLES)}")
    check.check(not (role == CallerKind.ADMIN and participant_id), "participant_id", "an admin key belongs to no participant")
    # A client or miner key acts for its participant: without one it could submit jobs but read
    # nothing back (every read is scoped to the key's participant).
    check.check(role not in (CallerKind.CLIENT, CallerKind.MINER) or participant_id != 0, "participant_id",
                f"a {role} key acts for a participant: name it")
    check.check(len(label) <= 100, "label", "must be at most 100 characters")
    check.check(participant_id >= 0, "participant_id", "must not be negative")
    check.raise_if_any()
    if participant_id:
        await get_existing(session, Participant, participant_id, "participant")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKey(key_hash=digest(key), prefix=key[:10], role=role, participant_id=participant_id or None,
                    label=label, created_at=utcnow())
    session.add(record)
    await session.flush()
    return record, key


async def list_api_keys(session: AsyncSession, limit: int | None, page_token: str) -> tuple[list[ApiKey], str]:
    check = Validator()
    limit, after = paging.newest_first_request(check, limit, page_token)
    check.raise_if_any()
    query = paging.newest_first(select(ApiKey), ApiKey.created_at, ApiKey.id, limit, after)
    return paging.newest_first_page(list(await session.scalars(query)), limit, "created_at")


async def revoke_api_key(session: AsyncSession, key_id: int) -> ApiKey:
    record = await get_existing(session, ApiKey, key_id, "api_key")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
    return record


async def find_api_key(session: AsyncSession, key: str) -> ApiKey | None:
    return await session.scalar(select(ApiKey).where(ApiKey.key_hash == digest(key), ApiKey.revoked_at.is_(None)))


async def open_session(session: AsyncSession, participant_id: int, ttl: dt.timedelta) -> tuple[UserSession, str]:
    token = SESSION_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    record = UserSession(token_hash=digest(token), participant_id=participant_id, created_at=now,
                         expires_at=now + ttl)
    session.add(record)
    await session.flush()
    return record, token


async def find_session(session: AsyncSession, token: str) -> UserSession | None:
    return await session.scalar(select(UserSession).where(
        UserSession.token_hash == digest(token), UserSession.revoked_at.is_(None), UserSession.expires_at > utcnow()))


async def revoke_session(session: AsyncSession, token: str) -> None:
    record = await session.scalar(select(UserSession).where(UserSession.token_hash == digest(token)))
    if record is None:
        raise InvalidArgument.field("x-session-token", "is not a session token")
    if record.revoked_at is None:
        record.revoked_at = utcnow()


CACHE_ENTRIES = 10_000


class CheckedCredentials:
    """Credentials checked recently, kept by their SHA-256 (never the secret itself) for at most
    `ttl_s`, and at most `max_entries` of them: a busy caller costs no lookup per call."""

    def __init__(self, ttl_s: float, max_entries: int = CACHE_ENTRIES):
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, object]] = {}  # digest -> (valid until, what it proved)

    def get(self, secret: str):
        entry = self._entries.get(digest(secret))
        return entry[1] if entry and time.monotonic() < entry[0] else None

    def put(self, secret: str, value, ttl_s: float | None = None) -> None:
        now = time.monotonic()
        if len(self._entries) >= self.max_entries:  # keep memory bounded: drop what has lapsed
            self._entries = {key: entry for key, entry in self._entries.items() if entry[0] > now}
        keep_s = self.ttl_s if ttl_s is None else min(self.ttl_s, ttl_s)
        self._entries[digest(secret)] = (now + keep_s, value)

    def forget(self, secret: str) -> None:
        self._entries.pop(digest(secret), None)

    def clear(self) -> None:
        self._entries.clear()
