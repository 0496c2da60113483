"""UserService: converts and calls the wallet users' operations (identity/users.Users)."""

from __future__ import annotations

from computepool.v1 import user_service_pb2 as pb
from computepool.v1 import user_service_pb2_grpc as pb_grpc
from coordinator import ledger
from coordinator.api import convert
from coordinator.identity import ton_proof, users
from coordinator.identity.authenticator import SESSION_TOKEN
from coordinator.identity.callers import CallerKind
from coordinator.money import units_to_decimal_str
from coordinator.storage.models import Participant


def user_message(participant: Participant, role: str) -> pb.User:
    return pb.User(id=participant.id, wallet_address=participant.wallet_address, username=participant.username,
                   role=role, created_at=convert.timestamp(participant.created_at))


def proof_of(request: pb.LoginRequest) -> ton_proof.Proof:
    proof = request.proof
    return ton_proof.Proof(address=request.address, network=request.network, public_key=request.public_key,
                          timestamp=proof.timestamp, domain=proof.domain.value, domain_length=proof.domain.length_bytes,
                          payload=proof.payload, signature=proof.signature, state_init=proof.state_init)


class UserServicer(pb_grpc.UserServiceServicer):
    def __init__(self, users_: users.Users):
        self.users = users_

    async def CreateLoginChallenge(self, request, context):
        challenge = await self.users.challenge()
        return pb.CreateLoginChallengeResponse(payload=challenge.payload,
                                               expires_at=convert.timestamp(challenge.expires_at))

    async def Login(self, request, context):
        participant, record, token = await self.users.login(proof_of(request))
        return pb.LoginResponse(session_token=token, expires_at=convert.timestamp(record.expires_at),
                                user=user_message(participant, CallerKind.USER))

    async def Logout(self, request, context):
        await self.users.logout(next(value for key, value in context.invocation_metadata() if key == SESSION_TOKEN))
        return pb.LogoutResponse()

    async def GetMe(self, request, context):
        return user_message(*await self.users.me())

    async def GetBalance(self, request, context):
        totals = await self.users.balances(request.user_id)
        return pb.GetBalanceResponse(user_id=request.user_id, balances=[
            pb.AssetBalance(asset=asset, amount=units_to_decimal_str(units, ledger.DECIMALS[asset]), amount_units=units)
            for asset, units in sorted(totals.items())])
