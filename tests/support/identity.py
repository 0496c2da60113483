"""Logging in with a real wallet and making API keys, through the real API."""

from __future__ import annotations

from computepool.v1 import api_key_service_pb2 as key_pb
from computepool.v1 import api_key_service_pb2_grpc, user_service_pb2_grpc
from computepool.v1 import user_service_pb2 as user_pb
from scripts.ton_proof import Wallet

from tests.support.server import AUTH


class Identity:
    def __init__(self, channel):
        self.users = user_service_pb2_grpc.UserServiceStub(channel)
        self.keys = api_key_service_pb2_grpc.ApiKeyServiceStub(channel)

    async def challenge(self) -> str:
        return (await self.users.CreateLoginChallenge(user_pb.CreateLoginChallengeRequest())).payload

    async def login(self, wallet: Wallet | None = None) -> tuple[user_pb.LoginResponse, tuple]:
        """(the login answer, metadata carrying its session token)."""
        wallet = wallet or Wallet()
        response = await self.users.Login(wallet.proof(await self.challenge()))
        return response, (("x-session-token", response.session_token),)

    async def api_key(self, role: str, participant_id: int = 0) -> tuple[key_pb.CreateApiKeyResponse, tuple]:
        """A client or miner key acts for a participant: a freshly logged-in one unless named."""
        if role != "admin" and not participant_id:
            participant_id = (await self.login())[0].user.id
        response = await self.keys.CreateApiKey(
            key_pb.CreateApiKeyRequest(role=role, participant_id=participant_id, label=f"{role} key"), metadata=AUTH)
        return response, (("x-api-key", response.key),)
