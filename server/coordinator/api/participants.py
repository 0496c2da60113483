"""ParticipantService."""

from __future__ import annotations

from computepool.v1 import participant_service_pb2 as pb
from computepool.v1 import participant_service_pb2_grpc as pb_grpc
from coordinator.api import convert, rest
from coordinator.identity.callers import owner_scope, require_owner
from coordinator.pool import participants
from coordinator.storage.database import Database


class ParticipantServicer(pb_grpc.ParticipantServiceServicer):
    def __init__(self, database: Database):
        self.database = database

    async def ListParticipants(self, request, context):
        own = owner_scope()
        async with self.database.transaction() as session:
            if own is not None:  # a participant's credential sees itself only
                views, next_token = [await participants.get_participant(session, own)], ""
            else:
                views, next_token = await participants.list_participants(session, convert.optional(request, "limit"), request.page_token)
        await rest.send_next_page_token(context, next_token)
        return pb.ListParticipantsResponse(participants=[convert.participant(v) for v in views],
                                           next_page_token=next_token)

    async def GetParticipant(self, request, context):
        require_owner(request.participant_id, "participant")
        async with self.database.transaction() as session:
            return convert.participant(await participants.get_participant(session, request.participant_id))

    async def GetParticipantByWallet(self, request, context):
        async with self.database.transaction() as session:
            view = await participants.get_participant_by_wallet(session, request.wallet_address)
        require_owner(view.participant.id, "participant")
        return convert.participant(view)

    async def CreateParticipant(self, request, context):
        new = participants.NewParticipant(
            ton_wallet_address=request.ton_wallet_address, telegram_user_id=request.telegram_user_id,
            username=request.username, email=request.email)
        async with self.database.transaction() as session:
            view = await participants.create_participant(session, new)
        await rest.send_created(context)
        return convert.participant(view)
