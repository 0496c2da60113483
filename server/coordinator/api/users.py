"""UserService: wallet login and the user's own view."""

from __future__ import annotations

import datetime as dt

from computepool.v1 import user_service_pb2 as pb
from computepool.v1 import user_service_pb2_grpc as pb_grpc
from coordinator import ledger
from coordinator.api import convert
from coordinator.api.auth import SESSION_TOKEN, Authenticator
from coordinator.identity import credentials, ton_proof, users
from coordinator.identity.callers import CallerKind, current_caller, owner_scope, require_owner
from coordinator.money import units_to_decimal_str
from coordinator.settings import Settings
from coordinator.storage.database import Database, get_existing
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
    def __init__(self, database: Database, settings: Settings, authenticator: Authenticator):
        self.database = database
        self.authenticator = authenticator
        self.policy = users.LoginPolicy(
            domains=settings.ton_proof_domains, challenge_ttl=dt.timedelta(seconds=settings.login_challenge_ttl_s),
            proof_max_age=dt.timedelta(seconds=settings.ton_proof_max_age_s),
            session_ttl=dt.timedelta(seconds=settings.session_ttl_s))

    async def CreateLoginChallenge(self, request, context):
        async with self.database.transaction() as session:
            challenge = await users.create_challenge(session, self.policy)
        return pb.CreateLoginChallengeResponse(payload=challenge.payload,
                                               expires_at=convert.timestamp(challenge.expires_at))

    async def Login(self, request, context):
        proof = proof_of(request)

        async def login(session):
            participant, record, token = await users.login(session, proof, self.policy)
            return pb.LoginResponse(session_token=token, expires_at=convert.timestamp(record.expires_at),
                                    user=user_message(participant, CallerKind.USER))

        return await self.database.retrying(login)

    async def Logout(self, request, context):
        token = next(value for key, value in context.invocation_metadata() if key == SESSION_TOKEN)
        async with self.database.transaction() as session:
            await credentials.revoke_session(session, token)
        self.authenticator.forget(token)
        return pb.LogoutResponse()

    async def GetMe(self, request, context):
        caller = current_caller.get()
        async with self.database.transaction() as session:
            participant = await get_existing(session, Participant, owner_scope(), "user")
            return user_message(participant, caller.kind)

    async def GetBalance(self, request, context):
        require_owner(request.user_id, "user")
        async with self.database.transaction() as session:
            totals = await users.balances(session, request.user_id)
        return pb.GetBalanceResponse(user_id=request.user_id, balances=[
            pb.AssetBalance(asset=asset, amount=units_to_decimal_str(units, ledger.DECIMALS[asset]), amount_units=units)
            for asset, units in sorted(totals.items())])
