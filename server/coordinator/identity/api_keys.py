"""API key operations for admins, each one unit of work: create (the key is shown once), list,
revoke (and forget every remembered credential, so the key stops working here at once)."""

from __future__ import annotations

from coordinator.identity import credentials
from coordinator.identity.authenticator import Authenticator
from coordinator.storage.database import Database
from coordinator.storage.models import ApiKey


class ApiKeys:
    def __init__(self, database: Database, authenticator: Authenticator):
        self.database = database
        self.authenticator = authenticator

    async def create(self, role: str, participant_id: int, label: str) -> tuple[ApiKey, str]:
        async with self.database.transaction() as session:
            return await credentials.create_api_key(session, role, participant_id, label)

    async def list(self, limit: int | None, page_token: str) -> tuple[list[ApiKey], str]:
        async with self.database.transaction() as session:
            return await credentials.list_api_keys(session, limit, page_token)

    async def revoke(self, key_id: int) -> ApiKey:
        async with self.database.transaction() as session:
            record = await credentials.revoke_api_key(session, key_id)
        self.authenticator.forget_all()  # the key itself is unknown here; drop every remembered one
        return record
