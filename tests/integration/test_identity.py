"""Credentials on SQLite and PostgreSQL: admin-managed API keys, TON Connect ton_proof login with
real wallets, sessions, balances."""

import asyncio
import base64
import hashlib
import time

import grpc
import nacl.signing
import pytest
from computepool.v1 import api_key_service_pb2 as key_pb
from computepool.v1 import job_service_pb2 as job_pb
from computepool.v1 import job_service_pb2_grpc
from computepool.v1 import user_service_pb2 as user_pb
from devtools.launch import server_env, start_server_process
from coordinator.storage.models import ApiKey, LoginChallenge, Participant, UserSession
from scripts.ton_proof import Wallet
from sqlalchemy import func, select, update

from tests.support.identity import Identity
from tests.support.miner import Miner
from tests.support.rpc_errors import error_details
from tests.support.server import AUTH


@pytest.fixture
def identity(channel) -> Identity:
    return Identity(channel)


async def refused(call, code=grpc.StatusCode.UNAUTHENTICATED) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    got, reason, _ = error_details(raised.value)
    assert got == code, reason
    return reason


async def test_an_api_key_is_shown_once_stored_as_a_hash_and_revocable(identity, channel, pool):
    created, metadata = await identity.api_key("client")
    assert created.key.startswith("cpk_") and created.api_key.role == "client"
    assert created.key.startswith(created.api_key.prefix) and len(created.api_key.prefix) < len(created.key)
    async with pool.database.transaction() as session:
        stored = await session.get(ApiKey, created.api_key.id)
    assert stored.key_hash == hashlib.sha256(created.key.encode()).hexdigest()
    assert created.key not in {stored.key_hash, stored.prefix, stored.label}
    listed = await identity.keys.ListApiKeys(key_pb.ListApiKeysRequest(limit=1000), metadata=AUTH)
    assert created.api_key in listed.api_keys and created.key not in str(listed)

    jobs = job_service_pb2_grpc.JobServiceStub(channel)
    job = await jobs.SubmitJob(job_pb.SubmitJobRequest(job_type="echo"), metadata=metadata)
    assert job.client_id == f"participant-{created.api_key.participant_id}"  # its participant's jobs

    revoked = await identity.keys.RevokeApiKey(key_pb.RevokeApiKeyRequest(api_key_id=created.api_key.id), metadata=AUTH)
    assert revoked.HasField("revoked_at")
    again = await identity.keys.RevokeApiKey(key_pb.RevokeApiKeyRequest(api_key_id=created.api_key.id), metadata=AUTH)
    assert again.revoked_at == revoked.revoked_at  # revoking twice changes nothing
    reason = await refused(jobs.SubmitJob(job_pb.SubmitJobRequest(job_type="echo"), metadata=metadata))
    assert reason == "API_KEY_INVALID"


async def test_only_admins_manage_keys(identity):
    created, client = await identity.api_key("client")
    _, admin = await identity.api_key("admin")
    request = key_pb.CreateApiKeyRequest(role="client", participant_id=created.api_key.participant_id)
    assert await refused(identity.keys.CreateApiKey(request, metadata=client),
                         grpc.StatusCode.PERMISSION_DENIED) == "ROLE_NOT_ALLOWED"
    assert await refused(identity.keys.CreateApiKey(request)) == "CREDENTIALS_MISSING"
    made = await identity.keys.CreateApiKey(request, metadata=admin)  # a created admin key is an admin
    assert made.api_key.role == "client"


@pytest.mark.parametrize("fields, bad_field", [
    (dict(role="root"), "role"),
    (dict(role="admin", participant_id=1), "participant_id"),
    (dict(role="client", participant_id=1, label="x" * 101), "label"),
    (dict(role="client"), "participant_id"),  # a key acting for nobody could submit but read nothing
    (dict(role="miner"), "participant_id"),
])
async def test_bad_key_requests_name_the_field(identity, fields, bad_field):
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await identity.keys.CreateApiKey(key_pb.CreateApiKeyRequest(**fields), metadata=AUTH)
    assert error_details(raised.value)[0] == grpc.StatusCode.INVALID_ARGUMENT
    assert error_details(raised.value)[2] == [bad_field]


async def test_a_key_for_an_unknown_participant_is_not_found(identity):
    reason = await refused(identity.keys.CreateApiKey(key_pb.CreateApiKeyRequest(role="client", participant_id=999999),
                                                      metadata=AUTH), grpc.StatusCode.NOT_FOUND)
    assert reason == "PARTICIPANT_NOT_FOUND"


@pytest.mark.parametrize("version, as_library", [("v4r2", False), ("v5r1", False), ("v5r1", True)])
async def test_wallet_login_finds_or_creates_the_participant_and_opens_a_session(identity, pool, version, as_library):
    wallet = Wallet(version, as_library=as_library)
    first, session = await identity.login(wallet)
    assert first.user.role == "user" and first.session_token.startswith("cps_")
    assert first.expires_at.ToSeconds() > time.time() + 3600
    me = await identity.users.GetMe(user_pb.GetMeRequest(), metadata=session)
    assert me.id == first.user.id and me.wallet_address == first.user.wallet_address
    second, _ = await identity.login(wallet)
    assert second.user.id == first.user.id and second.session_token != first.session_token
    async with pool.database.transaction() as db:
        assert await db.scalar(select(func.count()).select_from(Participant)
                               .where(Participant.wallet_raw == wallet.address)) == 1
        tokens = set(await db.scalars(select(UserSession.token_hash).where(UserSession.participant_id == me.id)))
    assert hashlib.sha256(first.session_token.encode()).hexdigest() in tokens
    assert first.session_token not in tokens


def _tamper_signature(request):
    signature = bytearray(base64.b64decode(request.proof.signature))
    signature[0] ^= 1
    request.proof.signature = base64.b64encode(bytes(signature)).decode()


REFUSED_PROOFS = {
    # name: (how the proof is made from (wallet, payload), the reason)
    "wrong domain": (lambda w, p: w.proof(p, domain="evil.example"), "TON_PROOF_WRONG_DOMAIN"),
    "too old": (lambda w, p: w.proof(p, timestamp=int(time.time()) - 3600), "TON_PROOF_EXPIRED"),
    "from the future": (lambda w, p: w.proof(p, timestamp=int(time.time()) + 3600), "TON_PROOF_EXPIRED"),
    "signed by another key": (lambda w, p: w.proof(p, key=nacl.signing.SigningKey.generate()),
                              "TON_PROOF_BAD_SIGNATURE"),
    "public key not the wallet's": (lambda w, p: _replace(w.proof(p), public_key=Wallet().public_key),
                                    "TON_PROOF_WRONG_KEY"),
    "another wallet's address": (lambda w, p: _replace(w.proof(p), address=Wallet().address),
                                 "TON_PROOF_ADDRESS_MISMATCH"),
    "tampered signature": (lambda w, p: _mutate(w.proof(p), _tamper_signature), "TON_PROOF_BAD_SIGNATURE"),
    "tampered timestamp": (lambda w, p: _mutate(w.proof(p), lambda r: setattr(r.proof, "timestamp",
                                                                              r.proof.timestamp - 1)),
                           "TON_PROOF_BAD_SIGNATURE"),
    "payload never issued": (lambda w, p: w.proof("f" * 64), "TON_PROOF_PAYLOAD_INVALID"),
}


def _replace(request, **fields):
    for name, value in fields.items():
        setattr(request, name, value)
    return request


def _mutate(request, change):
    change(request)
    return request


@pytest.mark.parametrize("kind", REFUSED_PROOFS)
async def test_a_bad_proof_is_refused_and_writes_nothing(identity, pool, kind):
    make, expected = REFUSED_PROOFS[kind]
    wallet = Wallet()
    payload = await identity.challenge()
    assert await refused(identity.users.Login(make(wallet, payload))) == expected
    async with pool.database.transaction() as db:
        assert await db.scalar(select(Participant.id).where(Participant.wallet_raw == wallet.address)) is None
        if expected != "TON_PROOF_PAYLOAD_INVALID":  # a refused proof does not burn the challenge
            assert (await db.get(LoginChallenge, payload)).used_at is None


async def test_a_payload_is_single_use_even_when_raced(identity):
    wallet = Wallet()
    request = wallet.proof(await identity.challenge())
    results = await asyncio.gather(*[identity.users.Login(request) for _ in range(5)], return_exceptions=True)
    assert sum(isinstance(r, user_pb.LoginResponse) for r in results) == 1
    losers = [error_details(r)[:2] for r in results if not isinstance(r, user_pb.LoginResponse)]
    assert losers == [(grpc.StatusCode.UNAUTHENTICATED, "TON_PROOF_PAYLOAD_INVALID")] * 4
    assert await refused(identity.users.Login(request)) == "TON_PROOF_PAYLOAD_INVALID"  # replayed later


async def test_an_expired_challenge_is_refused(identity, pool):
    wallet = Wallet()
    payload = await identity.challenge()
    async with pool.database.transaction() as db:
        await db.execute(update(LoginChallenge).where(LoginChallenge.payload == payload)
                         .values(expires_at=LoginChallenge.created_at))
    assert await refused(identity.users.Login(wallet.proof(payload))) == "TON_PROOF_PAYLOAD_INVALID"


async def test_a_malformed_proof_names_the_field(identity):
    request = Wallet().proof(await identity.challenge())
    request.proof.state_init = "not base64!"
    request.public_key = "abc"
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await identity.users.Login(request)
    code, _, fields = error_details(raised.value)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and set(fields) == {"public_key", "proof.state_init"}


async def test_logout_revokes_the_session_and_expired_sessions_are_refused(identity, pool):
    _, session = await identity.login()
    await identity.users.GetMe(user_pb.GetMeRequest(), metadata=session)
    await identity.users.Logout(user_pb.LogoutRequest(), metadata=session)
    assert await refused(identity.users.GetMe(user_pb.GetMeRequest(), metadata=session)) == "SESSION_INVALID"

    login, expiring = await identity.login()
    async with pool.database.transaction() as db:
        await db.execute(update(UserSession).where(UserSession.participant_id == login.user.id)
                         .values(expires_at=UserSession.created_at))
    assert await refused(identity.users.GetMe(user_pb.GetMeRequest(), metadata=expiring)) == "SESSION_INVALID"


async def test_balances_come_from_the_ledger_and_are_private(identity, channel):
    buyer, session = await identity.login()
    jobs = job_service_pb2_grpc.JobServiceStub(channel)
    job = await jobs.SubmitJob(job_pb.SubmitJobRequest(job_type="llm_inference", priority=9), metadata=session)
    assert job.client_id == f"participant-{buyer.user.id}"
    seller_login, seller_session = await identity.login(seller := Wallet())
    _, miner_key = await identity.api_key("miner", seller_login.user.id)
    miner = await Miner(channel, wallet=seller.address, name="balance-rig", auth=miner_key).register()
    for _ in range(50):
        assignments = [a for a in await miner.fetch(max_jobs=100) if a.job.id == job.id]
        if assignments:
            break
    done = await miner.complete(assignments[0], units=10)
    charge = done.receipt.charge_nanoton
    assert charge == 10 * 20 * 1  # units x llm_inference price x coefficient 1

    mine = await identity.users.GetBalance(user_pb.GetBalanceRequest(user_id=buyer.user.id), metadata=session)
    assert [(b.asset, b.amount_units, b.amount) for b in mine.balances] == [("TON", -charge, "-0.000000200")]
    earned = await identity.users.GetBalance(user_pb.GetBalanceRequest(user_id=seller_login.user.id),
                                             metadata=seller_session)
    assert [(b.asset, b.amount_units) for b in earned.balances] == [("TON", done.receipt.earning_nanoton)]
    assert await refused(identity.users.GetBalance(user_pb.GetBalanceRequest(user_id=seller_login.user.id),
                                                   metadata=session), grpc.StatusCode.PERMISSION_DENIED) == "NOT_OWNER"
    admin_view = await identity.users.GetBalance(user_pb.GetBalanceRequest(user_id=buyer.user.id), metadata=AUTH)
    assert admin_view == mine


async def test_secrets_and_tokens_never_reach_the_logs(database_url):
    """A server process is driven with every kind of credential, good and bad, including ones
    that make it fail; nothing it prints contains any of them."""
    bootstrap = "bootstrap-" + "s3cret" * 4
    env = server_env(DATABASE_URL=database_url, API_KEYS=bootstrap, TON_PROOF_DOMAINS="pool.example.com,localhost",
                     SECRET_KEY="log-test-secret-key")
    process, port = await start_server_process(env, drain_output=False)
    secrets_seen = {bootstrap, "log-test-secret-key"}
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            identity = Identity(channel)
            admin = (("x-api-key", bootstrap),)
            login, session = await identity.login()
            made = await identity.keys.CreateApiKey(key_pb.CreateApiKeyRequest(
                role="client", participant_id=login.user.id), metadata=admin)
            secrets_seen |= {made.key, login.session_token}
            jobs = job_service_pb2_grpc.JobServiceStub(channel)
            await jobs.SubmitJob(job_pb.SubmitJobRequest(job_type="echo"), metadata=(("x-api-key", made.key),))
            await identity.users.GetMe(user_pb.GetMeRequest(), metadata=session)
            await identity.users.Logout(user_pb.LogoutRequest(), metadata=session)
            for metadata in (session, (("x-api-key", made.key[:-1] + "x"),), (("x-session-token", "cps_" + "z" * 43),)):
                with pytest.raises(grpc.aio.AioRpcError):
                    await identity.users.GetMe(user_pb.GetMeRequest(), metadata=metadata)
            secrets_seen |= {made.key[:-1] + "x", "cps_" + "z" * 43}
    finally:
        process.terminate()
        output = (await process.communicate())[0].decode()
    assert "shutting down" in output  # the log was captured
    assert not [secret for secret in secrets_seen if secret in output]


async def test_a_miner_key_acts_only_for_its_participants_miners(identity, channel):
    owner_login, _ = await identity.login(owner_wallet := Wallet())
    other_login, _ = await identity.login()
    _, owner_key = await identity.api_key("miner", owner_login.user.id)
    _, other_key = await identity.api_key("miner", other_login.user.id)
    miner = await Miner(channel, wallet=owner_wallet.address, name="owned-rig", auth=owner_key).register()
    await miner.heartbeat()
    miner.auth = other_key  # the right miner token, presented with another participant's key
    assert await refused(miner.heartbeat(), grpc.StatusCode.PERMISSION_DENIED) == "NOT_OWNER"
    stranger = Miner(channel, wallet=owner_wallet.address, name="not-yours", auth=other_key)
    assert await refused(stranger.register(), grpc.StatusCode.PERMISSION_DENIED) == "NOT_OWNER"
