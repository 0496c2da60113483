"""The authorization table: for every rpc, who may call it and how to build a valid request of
it, against a World of one owner's things and a credential of each kind of caller. The
authorization tests call each rpc as each caller; the hostile-input sweeps spoil these valid
requests one field at a time; the rate-limit tests read the services it covers. The REST
request of each rpc is derived from its google.api.http annotation.
"""

from __future__ import annotations

import itertools
import urllib.parse
import uuid
from dataclasses import dataclass

import grpc
from computepool.v1 import alert_service_pb2 as alert_pb
from computepool.v1 import api_key_service_pb2 as key_pb
from computepool.v1 import event_service_pb2 as event_pb
from computepool.v1 import exchange_service_pb2 as exchange_pb
from computepool.v1 import exchange_service_pb2_grpc, job_service_pb2_grpc, payout_service_pb2_grpc
from computepool.v1 import job_service_pb2 as job_pb
from computepool.v1 import miner_service_pb2 as miner_pb
from computepool.v1 import participant_service_pb2 as participant_pb
from computepool.v1 import payout_service_pb2 as payout_pb
from computepool.v1 import receipt_service_pb2 as receipt_pb
from computepool.v1 import user_service_pb2 as user_pb
from computepool.v1 import worker_service_pb2 as worker_pb
from computepool.v1 import worker_service_pb2_grpc
from coordinator.api.services import service, services
from google.api import annotations_pb2
from google.protobuf import json_format
from scripts.ton_proof import Wallet

from tests.support.identity import Identity
from tests.support.miner import Miner
from tests.support.pool_api import payout_request
from tests.support.server import AUTH
from tests.support.wallets import forms, new_wallet

CALLERS = ("anonymous", "admin", "client", "miner", "owner", "other")
EVERYONE = frozenset(CALLERS)
OWNER_SIDE = frozenset({"admin", "client", "miner", "owner"})
JOB_CLIENTS = frozenset({"admin", "client", "owner", "other"})
_names = itertools.count()


@dataclass
class World:
    """The owner's things, and a credential of each kind."""

    channel: grpc.aio.Channel
    identity: Identity
    owner_id: int
    owner_wallet: Wallet
    metadata: dict
    worker_id: int
    payout_id: int
    job_id: str
    miner: Miner

    def stub(self, module, service: str):
        return getattr(module, f"{service}Stub")(self.channel)

    async def owner_job(self) -> str:
        jobs = job_service_pb2_grpc.JobServiceStub(self.channel)
        return (await jobs.SubmitJob(job_pb.SubmitJobRequest(job_type="echo"), metadata=self.metadata["owner"])).id

    async def leased(self) -> miner_pb.JobAssignment:
        """A job leased to the owner's miner (submitted first, so one is there)."""
        jobs = job_service_pb2_grpc.JobServiceStub(self.channel)
        await jobs.SubmitJob(job_pb.SubmitJobRequest(job_type="echo", priority=9), metadata=AUTH)
        while not (assignments := await self.miner.fetch()):
            pass
        return assignments[0]


async def build_world(channel) -> World:
    """The owner (a wallet login) with a worker, a payout, a registered miner and a job; a
    credential of each caller."""
    identity = Identity(channel)
    owner_wallet = Wallet()
    owner, owner_session = await identity.login(owner_wallet)
    _, other_session = await identity.login()
    _, client_key = await identity.api_key("client", owner.user.id)
    _, miner_key = await identity.api_key("miner", owner.user.id)
    workers = worker_service_pb2_grpc.WorkerServiceStub(channel)
    worker = await workers.CreateWorker(worker_pb.CreateWorkerRequest(
        participant_id=owner.user.id, worker_name="authz", instance_number=0, host="10.0.0.7", stats_port=8080),
        metadata=AUTH)
    payouts = payout_service_pb2_grpc.PayoutServiceStub(channel)
    payout = await payouts.CreatePayout(payout_request(owner.user.id, owner.user.wallet_address), metadata=AUTH)
    miner = await Miner(channel, wallet=owner_wallet.address, name="authz-rig", job_types=("echo",),
                        max_concurrent_jobs=1024, auth=miner_key).register()
    metadata = {"anonymous": (), "admin": AUTH, "client": client_key, "miner": miner_key, "owner": owner_session,
                "other": other_session}
    world = World(channel, identity, owner.user.id, owner_wallet, metadata, worker.id, payout.id, "", miner)
    world.job_id = await world.owner_job()
    return world


@dataclass(frozen=True)
class Row:
    allowed: frozenset
    build: object  # async (world, caller) -> request, or (request, metadata to send instead of the caller's)


def miner_token(world: World) -> tuple:
    return (("x-miner-token", world.miner.token),)


async def _fresh_session(world: World, caller: str):
    """Logout ends the caller's own session: a fresh one of the same participant stands in."""
    if caller not in ("owner", "other"):
        return user_pb.LogoutRequest(), None
    wallet = world.owner_wallet if caller == "owner" else Wallet()
    _, session = await world.identity.login(wallet)
    return user_pb.LogoutRequest(), session


async def _fresh_key(world: World, caller: str):
    created, _ = await world.identity.api_key("client")
    return key_pb.RevokeApiKeyRequest(api_key_id=created.api_key.id)


async def _result(world: World, caller: str):
    return world.miner.result(await world.leased(), {"ok": True}, units=1)


async def _results(world: World, caller: str):
    return miner_pb.SubmitResultsRequest(miner_id=world.miner.id, results=[await _result(world, caller)])


async def _receipt(world: World, caller: str):
    """A real receipt to verify (a request that holds none is INVALID_ARGUMENT, not a verdict)."""
    done = await world.miner.complete(await world.leased(), {"ok": True}, units=1)
    return receipt_pb.VerifyReceiptRequest(receipt=done.receipt)


def _sync(make):
    async def build(world: World, caller: str):
        return make(world)
    return build


TABLE: dict[str, Row] = {
    "WorkerService/ListWorkers": Row(OWNER_SIDE, _sync(lambda w: worker_pb.ListWorkersRequest(participant_id=w.owner_id))),
    "WorkerService/GetWorker": Row(OWNER_SIDE, _sync(lambda w: worker_pb.GetWorkerRequest(worker_id=w.worker_id))),
    "WorkerService/CreateWorker": Row(OWNER_SIDE, _sync(lambda w: worker_pb.CreateWorkerRequest(
        participant_id=w.owner_id, worker_name=f"rig{next(_names)}", instance_number=0, host="10.0.0.8",
        stats_port=8080))),
    "WorkerService/UpdateWorker": Row(OWNER_SIDE, _sync(lambda w: worker_pb.UpdateWorkerRequest(
        worker_id=w.worker_id, is_active=True))),
    "WorkerService/GetWorkerMetrics": Row(OWNER_SIDE, _sync(lambda w: worker_pb.GetWorkerMetricsRequest(
        worker_id=w.worker_id))),
    "WorkerService/GetWorkerStats": Row(OWNER_SIDE, _sync(lambda w: worker_pb.GetWorkerStatsRequest(
        worker_id=w.worker_id))),
    "WorkerService/WatchWorkers": Row(OWNER_SIDE, _sync(lambda w: worker_pb.WatchWorkersRequest(
        participant_id=w.owner_id))),
    "WorkerService/GetWorkerDailyEarnings": Row(OWNER_SIDE, _sync(lambda w: worker_pb.GetWorkerDailyEarningsRequest(
        worker_id=w.worker_id))),
    "ParticipantService/ListParticipants": Row(EVERYONE - {"anonymous"},
                                               _sync(lambda w: participant_pb.ListParticipantsRequest())),
    "ParticipantService/GetParticipant": Row(OWNER_SIDE, _sync(lambda w: participant_pb.GetParticipantRequest(
        participant_id=w.owner_id))),
    "ParticipantService/GetParticipantByWallet": Row(OWNER_SIDE, _sync(
        lambda w: participant_pb.GetParticipantByWalletRequest(wallet_address=w.owner_wallet.address))),
    "ParticipantService/CreateParticipant": Row({"admin"}, _sync(lambda w: participant_pb.CreateParticipantRequest(
        ton_wallet_address=forms(new_wallet())["non_bounceable"]))),
    "PayoutService/ListPayouts": Row(OWNER_SIDE, _sync(lambda w: payout_pb.ListPayoutsRequest(participant_id=w.owner_id))),
    "PayoutService/GetPayout": Row(OWNER_SIDE, _sync(lambda w: payout_pb.GetPayoutRequest(payout_id=w.payout_id))),
    "PayoutService/CreatePayout": Row({"admin"}, _sync(lambda w: payout_request(w.owner_id, w.owner_wallet.address))),
    "PayoutService/GetPayoutSummary": Row(OWNER_SIDE, _sync(lambda w: payout_pb.GetPayoutSummaryRequest(
        participant_id=w.owner_id))),
    "PayoutService/ExportTaxReport": Row(OWNER_SIDE, _sync(lambda w: payout_pb.ExportTaxReportRequest(
        participant_id=w.owner_id, year=2025))),
    "PayoutService/CreatePayoutRun": Row({"admin"}, _sync(lambda w: payout_pb.CreatePayoutRunRequest())),
    "PayoutService/ListPayoutRuns": Row({"admin"}, _sync(lambda w: payout_pb.ListPayoutRunsRequest(limit=2))),
    "PayoutService/GetPayoutRun": Row({"admin"}, lambda w, c: _payout_run(w, payout_pb.GetPayoutRunRequest)),
    "PayoutService/ExportPayoutRun": Row({"admin"}, lambda w, c: _payout_run(w, payout_pb.ExportPayoutRunRequest)),
    # The world's payout is confirmed (recorded by hand): confirming it again changes nothing.
    "PayoutService/UpdatePayoutStatus": Row({"admin"}, _sync(lambda w: payout_pb.UpdatePayoutStatusRequest(
        payout_id=w.payout_id, status="confirmed"))),
    "ParticipantService/UpdatePayoutThreshold": Row(OWNER_SIDE, _sync(
        lambda w: participant_pb.UpdatePayoutThresholdRequest(participant_id=w.owner_id))),
    "ParticipantService/ListBalanceChanges": Row(OWNER_SIDE, _sync(
        lambda w: participant_pb.ListBalanceChangesRequest(participant_id=w.owner_id))),
    "ParticipantService/GetDailyEarnings": Row(OWNER_SIDE, _sync(
        lambda w: participant_pb.GetDailyEarningsRequest(participant_id=w.owner_id))),
    "JobService/SubmitJob": Row(JOB_CLIENTS, _sync(lambda w: job_pb.SubmitJobRequest(job_type="echo"))),
    "JobService/BatchSubmitJobs": Row(JOB_CLIENTS, _sync(lambda w: job_pb.BatchSubmitJobsRequest(
        jobs=[job_pb.SubmitJobRequest(job_type="echo")]))),
    "JobService/GetJobStatus": Row({"admin", "client", "owner"}, _sync(lambda w: job_pb.GetJobStatusRequest(
        job_id=w.job_id))),
    "JobService/ListJobReceipts": Row({"admin", "client", "owner"}, _sync(lambda w: job_pb.ListJobReceiptsRequest(
        job_id=w.job_id))),
    "JobService/ListJobs": Row(JOB_CLIENTS, _sync(lambda w: job_pb.ListJobsRequest(limit=5))),
    "JobService/CancelJob": Row({"admin", "client", "owner"}, lambda w, c: _cancel(w)),
    "JobService/WatchJob": Row({"admin", "client", "owner"}, _sync(lambda w: job_pb.WatchJobRequest(job_id=w.job_id))),
    "MinerService/RegisterMiner": Row({"admin", "miner"}, _sync(lambda w: Miner(
        w.channel, wallet=w.owner_wallet.address, name=f"rig{next(_names)}").request)),
    "MinerService/SendHeartbeat": Row({"admin", "miner"}, _sync(lambda w: miner_pb.SendHeartbeatRequest(
        miner_id=w.miner.id, heartbeat=miner_pb.Heartbeat(status="healthy")))),
    "MinerService/StreamHeartbeats": Row({"admin", "miner"}, _sync(lambda w: miner_pb.StreamHeartbeatsRequest(
        miner_id=w.miner.id, heartbeat=miner_pb.Heartbeat(status="healthy")))),
    "MinerService/FetchJobs": Row({"admin", "miner"}, _sync(lambda w: miner_pb.FetchJobsRequest(
        miner_id=w.miner.id, max_jobs=1))),
    "MinerService/SubmitResult": Row({"admin", "miner"}, _result),
    "MinerService/SubmitResults": Row({"admin", "miner"}, _results),
    "ReceiptService/GetCoordinatorKey": Row(EVERYONE, _sync(lambda w: receipt_pb.GetCoordinatorKeyRequest())),
    "ReceiptService/VerifyReceipt": Row(EVERYONE, _receipt),
    "UserService/CreateLoginChallenge": Row(EVERYONE, _sync(lambda w: user_pb.CreateLoginChallengeRequest())),
    "UserService/Login": Row(EVERYONE, lambda w, c: _login(w)),
    "UserService/Logout": Row({"owner", "other"}, _fresh_session),
    "UserService/GetMe": Row({"client", "miner", "owner", "other"}, _sync(lambda w: user_pb.GetMeRequest())),
    "UserService/GetBalance": Row(OWNER_SIDE, _sync(lambda w: user_pb.GetBalanceRequest(user_id=w.owner_id))),
    "ExchangeService/CreatePayment": Row({"client", "owner", "other"}, _sync(
        lambda w: exchange_pb.CreatePaymentRequest(amount_sat=10_000))),
    "ExchangeService/GetPaymentStatus": Row({"admin", "client", "owner"}, lambda w, c: _payment_status(w)),
    "ExchangeService/ConfirmPayment": Row({"admin"}, lambda w, c: _confirm(w)),
    "ApiKeyService/CreateApiKey": Row({"admin"}, _sync(
        lambda w: key_pb.CreateApiKeyRequest(role="client", participant_id=w.owner_id))),
    "ApiKeyService/ListApiKeys": Row({"admin"}, _sync(lambda w: key_pb.ListApiKeysRequest())),
    "ApiKeyService/RevokeApiKey": Row({"admin"}, _fresh_key),
    "AlertService/GetAlertSettings": Row(OWNER_SIDE, _sync(lambda w: alert_pb.GetAlertSettingsRequest(
        participant_id=w.owner_id))),
    # Replacing with nothing: the owner's settings stay empty whoever was let in.
    "AlertService/UpdateAlertSettings": Row(OWNER_SIDE, _sync(lambda w: alert_pb.UpdateAlertSettingsRequest(
        participant_id=w.owner_id))),
    "AlertService/ListIncidents": Row(OWNER_SIDE, _sync(lambda w: alert_pb.ListIncidentsRequest(
        participant_id=w.owner_id))),
    "AlertService/ListNotifications": Row(OWNER_SIDE, _sync(lambda w: alert_pb.ListNotificationsRequest(
        participant_id=w.owner_id))),
    # every credential may watch; each sees its own (tests/integration/test_live.py)
    "EventService/WatchEvents": Row(EVERYONE - {"anonymous"}, _sync(lambda w: event_pb.WatchEventsRequest())),
    "EventService/WatchPoolMetrics": Row(EVERYONE - {"anonymous"}, _sync(
        lambda w: event_pb.WatchPoolMetricsRequest(interval_seconds=1))),
}


async def _payout_run(world: World, request_type):
    """A request naming a payout run the admin made (possibly without payouts)."""
    payouts = payout_service_pb2_grpc.PayoutServiceStub(world.channel)
    run = await payouts.CreatePayoutRun(payout_pb.CreatePayoutRunRequest(), metadata=AUTH)
    return request_type(run_id=run.id)


async def _cancel(world: World):
    return job_pb.CancelJobRequest(job_id=await world.owner_job())


async def _owner_payment(world: World) -> str:
    exchange = exchange_service_pb2_grpc.ExchangeServiceStub(world.channel)
    return (await exchange.CreatePayment(exchange_pb.CreatePaymentRequest(amount_sat=10_000),
                                         metadata=world.metadata["owner"])).id


async def _payment_status(world: World):
    return exchange_pb.GetPaymentStatusRequest(payment_id=await _owner_payment(world))


async def _confirm(world: World):
    return exchange_pb.ConfirmPaymentRequest(payment_id=await _owner_payment(world), txid=uuid.uuid4().hex * 2)


async def _login(world: World):
    return Wallet().proof(await world.identity.challenge())


MODULES = {service.name: service.grpc_module for service in services()}  # from the descriptors


def service_descriptor(name: str):
    return service(name).descriptor


async def build_request(world: World, rpc: str, caller: str):
    """(request, metadata) of the rpc as `caller` makes it."""
    built = await TABLE[rpc].build(world, caller)
    request, metadata = built if isinstance(built, tuple) else (built, None)
    metadata = world.metadata[caller] if metadata is None else metadata
    if rpc.startswith("MinerService/") and rpc != "MinerService/RegisterMiner":
        metadata = tuple(metadata) + miner_token(world)
    return request, metadata


async def call_rpc(world: World, rpc: str, request, metadata) -> grpc.aio.AioRpcError | None:
    """Calls the rpc once (a stream: one message and its answer); the error, None if it succeeded."""
    service, method = rpc.split("/")
    call = getattr(world.stub(MODULES[service], service), method)
    try:
        if method == "StreamHeartbeats":
            stream = call(metadata=metadata)
            await stream.write(request)
            await stream.read()
            await stream.done_writing()
        elif method in ("WatchJob", "WatchEvents", "WatchPoolMetrics", "WatchWorkers"):
            stream = call(request, metadata=metadata)
            await stream.read()
            stream.cancel()
        else:
            await call(request, metadata=metadata)
    except grpc.aio.AioRpcError as error:
        return error
    return None


def rest_request(rpc: str, request) -> tuple[str, str, dict | None]:
    """(method, path with query, JSON body) from the rpc's google.api.http annotation."""
    service, method = rpc.split("/")
    rule = service_descriptor(service).methods_by_name[method].GetOptions().Extensions[annotations_pb2.http]
    verb = rule.WhichOneof("pattern")
    template = getattr(rule, verb)
    fields = json_format.MessageToDict(request, preserving_proto_field_name=True)
    path = template
    for name in [part.split("}")[0] for part in template.split("{")[1:]]:
        path = path.replace("{" + name + "}", urllib.parse.quote(str(fields.pop(name, "")), safe=""))
    if rule.body == "*":
        return verb.upper(), path, fields
    query = urllib.parse.urlencode(fields)
    return verb.upper(), path + ("?" + query if query else ""), None
