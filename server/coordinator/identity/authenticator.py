"""Finding the caller of an rpc from its credentials: `x-api-key` (a bootstrap key from
API_KEYS, or a key an admin created) or `x-session-token` (a wallet login).

A checked credential is remembered for CREDENTIAL_CACHE_S so a busy caller costs no lookup per
call; revoking a key or logging out takes effect at once in the process that did it and within
CREDENTIAL_CACHE_S in the others. Credentials never reach a log line.
"""

from __future__ import annotations

import hmac

from coordinator.errors import Reason, Unauthenticated
from coordinator.identity import credentials
from coordinator.identity.callers import ANONYMOUS, Caller
from coordinator.identity.credentials import CheckedCredentials
from coordinator.storage.database import Database
from coordinator.storage.models import utcnow

CREDENTIAL_CACHE_S = 5.0
API_KEY = "x-api-key"
SESSION_TOKEN = "x-session-token"


class Authenticator:
    def __init__(self, database: Database, bootstrap_keys: tuple[str, ...]):
        self.database = database
        self._bootstrap = [key.encode() for key in bootstrap_keys]
        self._checked = CheckedCredentials(CREDENTIAL_CACHE_S)

    async def caller(self, metadata) -> Caller:
        """The caller, ANONYMOUS without credentials; a credential that does not check out is
        refused (never silently treated as anonymous)."""
        # An empty header is no credential (a client template sending `X-Api-Key:` beside a
        # session token must not turn the session into a refused key).
        presented = {key: _text(value).strip() for key, value in metadata or () if key in (API_KEY, SESSION_TOKEN)}
        if presented.get(API_KEY):
            return await self._api_key_caller(presented[API_KEY])
        if presented.get(SESSION_TOKEN):
            return await self._session_caller(presented[SESSION_TOKEN])
        return ANONYMOUS

    async def _api_key_caller(self, key: str) -> Caller:
        key_bytes = key.encode()
        # Compare against every bootstrap key, in constant time, without stopping at a match.
        if any([hmac.compare_digest(key_bytes, bootstrap) for bootstrap in self._bootstrap]):
            return Caller.bootstrap_admin(key_bytes)

        async def lookup():
            async with self.database.transaction() as session:
                record = await credentials.find_api_key(session, key)
            if record is None:
                raise Unauthenticated("invalid or revoked API key", reason=Reason.API_KEY_INVALID)
            return Caller.for_api_key(record.id, record.role, record.participant_id), None

        return await self._remembered(key, lookup)

    async def _session_caller(self, token: str) -> Caller:
        async def lookup():
            async with self.database.transaction() as session:
                record = await credentials.find_session(session, token)
            if record is None:
                raise Unauthenticated("invalid, expired or revoked session token: log in again",
                                      reason=Reason.SESSION_INVALID)
            remaining = (record.expires_at - utcnow()).total_seconds()
            return Caller.for_session(record.participant_id), remaining

        return await self._remembered(token, lookup)

    async def _remembered(self, secret: str, lookup) -> Caller:
        """The remembered caller of `secret`, else `lookup()`'s (caller, seconds it may be
        remembered at most, None for the usual), remembered."""
        caller = self._checked.get(secret)
        if caller is None:
            caller, valid_for = await lookup()
            self._checked.put(secret, caller, valid_for)
        return caller

    def forget(self, secret: str) -> None:
        """Called on revocation and logout, so this process stops accepting it at once."""
        self._checked.forget(secret)

    def forget_all(self) -> None:
        self._checked.clear()


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value
