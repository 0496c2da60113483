"""ApiKeyService: converts and calls the admin's API key operations (identity/api_keys.ApiKeys)."""

from __future__ import annotations

from computepool.v1 import api_key_service_pb2 as pb
from computepool.v1 import api_key_service_pb2_grpc as pb_grpc
from coordinator.api import convert, rest
from coordinator.identity.api_keys import ApiKeys
from coordinator.storage.models import ApiKey


def api_key_message(record: ApiKey) -> pb.ApiKey:
    return pb.ApiKey(id=record.id, prefix=record.prefix, role=record.role, participant_id=record.participant_id or 0,
                     label=record.label, created_at=convert.timestamp(record.created_at),
                     revoked_at=convert.timestamp(record.revoked_at))


class ApiKeyServicer(pb_grpc.ApiKeyServiceServicer):
    def __init__(self, api_keys: ApiKeys):
        self.api_keys = api_keys

    async def CreateApiKey(self, request, context):
        record, key = await self.api_keys.create(request.role, request.participant_id, request.label)
        await rest.send_created(context)
        return pb.CreateApiKeyResponse(api_key=api_key_message(record), key=key)

    async def ListApiKeys(self, request, context):
        rows, next_token = await self.api_keys.list(convert.optional(request, "limit"), request.page_token)
        return pb.ListApiKeysResponse(api_keys=[api_key_message(r) for r in rows], next_page_token=next_token)

    async def RevokeApiKey(self, request, context):
        return api_key_message(await self.api_keys.revoke(request.api_key_id))
