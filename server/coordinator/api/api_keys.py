"""ApiKeyService: admin-managed API keys."""

from __future__ import annotations

from computepool.v1 import api_key_service_pb2 as pb
from computepool.v1 import api_key_service_pb2_grpc as pb_grpc
from coordinator.api import convert, rest
from coordinator.api.auth import Authenticator
from coordinator.identity import credentials
from coordinator.storage.database import Database
from coordinator.storage.models import ApiKey


def api_key_message(record: ApiKey) -> pb.ApiKey:
    return pb.ApiKey(id=record.id, prefix=record.prefix, role=record.role, participant_id=record.participant_id or 0,
                     label=record.label, created_at=convert.timestamp(record.created_at),
                     revoked_at=convert.timestamp(record.revoked_at))


class ApiKeyServicer(pb_grpc.ApiKeyServiceServicer):
    def __init__(self, database: Database, authenticator: Authenticator):
        self.database = database
        self.authenticator = authenticator

    async def CreateApiKey(self, request, context):
        async with self.database.transaction() as session:
            record, key = await credentials.create_api_key(session, request.role, request.participant_id,
                                                           request.label)
            response = pb.CreateApiKeyResponse(api_key=api_key_message(record), key=key)
        await rest.send_created(context)
        return response

    async def ListApiKeys(self, request, context):
        async with self.database.transaction() as session:
            rows, next_token = await credentials.list_api_keys(session, convert.optional(request, "limit"), request.page_token)
            return pb.ListApiKeysResponse(api_keys=[api_key_message(r) for r in rows], next_page_token=next_token)

    async def RevokeApiKey(self, request, context):
        async with self.database.transaction() as session:
            shown = api_key_message(await credentials.revoke_api_key(session, request.api_key_id))
        self.authenticator.forget_all()  # the key itself is unknown here; drop every remembered one
        return shown
