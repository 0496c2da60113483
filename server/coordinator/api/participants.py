"""ParticipantService: converts and calls the pool's participant operations (pool/participants.Participants)."""

from __future__ import annotations

from computepool.v1 import participant_service_pb2 as pb
from computepool.v1 import participant_service_pb2_grpc as pb_grpc
from coordinator.api import convert, rest
from coordinator.pool import participants


class ParticipantServicer(pb_grpc.ParticipantServiceServicer):
    def __init__(self, participants_: participants.Participants):
        self.participants = participants_

    async def ListParticipants(self, request, context):
        views, next_token = await self.participants.list(convert.optional(request, "limit"), request.page_token)
        await rest.send_next_page_token(context, next_token)
        return pb.ListParticipantsResponse(participants=[convert.participant(v) for v in views],
                                           next_page_token=next_token)

    async def GetParticipant(self, request, context):
        return convert.participant(await self.participants.get(request.participant_id))

    async def GetParticipantByWallet(self, request, context):
        return convert.participant(await self.participants.get_by_wallet(request.wallet_address))

    async def CreateParticipant(self, request, context):
        new = participants.NewParticipant(
            ton_wallet_address=request.ton_wallet_address, telegram_user_id=request.telegram_user_id,
            username=request.username, email=request.email)
        created = await self.participants.create(new)
        await rest.send_created(context)
        return convert.participant(created)


    async def UpdatePayoutThreshold(self, request, context):
        return convert.participant(await self.participants.update_payout_threshold(
            request.participant_id, request.payout_threshold_nanoton))

    async def ListBalanceChanges(self, request, context):
        changes, next_token = await self.participants.balance_changes(
            request.participant_id, convert.optional(request, "limit"), request.page_token)
        await rest.send_next_page_token(context, next_token)
        return pb.ListBalanceChangesResponse(changes=[convert.balance_change(c) for c in changes],
                                             next_page_token=next_token)

    async def GetDailyEarnings(self, request, context):
        rows = await self.participants.daily_earnings(request.participant_id, convert.optional(request, "days"))
        return convert.daily_earnings(request.participant_id, rows)
