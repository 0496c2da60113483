"""The Python SDK (computepool.Client, AsyncClient) against a real server, on SQLite and PostgreSQL.

The blocking Client runs in a worker thread, so the in-process server keeps serving meanwhile."""

import asyncio
import datetime as dt

import grpc
import pytest
from computepool import AsyncClient, Client, JobFailed, JobSpec, RetryPolicy, verify_receipt
from computepool import errors as sdk_errors
from computepool.v1 import alert_service_pb2 as alert_pb
from computepool.v1 import miner_service_pb2 as miner_pb
from coordinator.api.status import STATUS_OF
from coordinator.app import build_server
from coordinator.errors import Reason
from google.protobuf import json_format
from scripts.ton_proof import Wallet

from tests.support.miner import Miner, cancel_open_jobs
from tests.support.ports import free_port
from tests.support.server import API_KEY, make_settings
from tests.support.wallets import forms, new_wallet, tx_hash

FAST_RETRY = RetryPolicy(attempts=40, initial_backoff_s=0.05, max_backoff_s=0.2)


@pytest.fixture
async def client(pool):
    async with AsyncClient.connect(f"127.0.0.1:{pool.grpc_port}", api_key=API_KEY) as client:
        yield client


@pytest.fixture(autouse=True)
async def empty_queue(pool):
    """Each test starts with no claimable job left over from another test."""
    await cancel_open_jobs(pool.database)


async def run_miner(channel, job_id: str, result: dict) -> None:
    """A miner that leases this job and completes it with `result`."""
    miner = await Miner(channel, job_types=("echo",)).register()
    await miner.complete(await miner.lease(job_id, attempts=50), result)


async def test_submit_wait_result_and_a_receipt_that_verifies_offline(client, channel):
    job = await client.jobs.submit("echo", {"text": "hi"}, priority=3)
    assert job.job.status == "pending" and job.job.idempotency_key  # one was made for the retry-safe submit
    miner = asyncio.create_task(run_miner(channel, job.id, {"text": "hi back", "tokens": 3}))
    finished = await job.wait(timeout=30)
    await miner
    assert finished.status == "completed"
    assert await job.result() == {"text": "hi back", "tokens": 3}
    (receipt,) = await job.receipts()
    key = await client.receipts.public_key()
    assert verify_receipt(receipt, key.public_key) == (True, "")
    assert (await client.receipts.verify(receipt)).valid
    receipt.units += 1
    verdict = verify_receipt(receipt, key.public_key)
    assert verdict == (False, "units differs from the signed payload")
    assert (await client.receipts.verify(receipt)).reason == verdict.reason  # the server decides the same


async def test_a_cancelled_job_has_no_result_and_cannot_be_cancelled_twice(client):
    job = await client.jobs.submit("echo")
    assert (await job.cancel()).status == "cancelled"
    with pytest.raises(JobFailed) as failed:
        await job.result(timeout=10)
    assert failed.value.job.status == "cancelled"
    with pytest.raises(sdk_errors.JobAlreadyTerminal) as refused:
        await job.cancel()
    assert refused.value.reason == Reason.JOB_ALREADY_TERMINAL and refused.value.metadata["job_id"] == job.id


async def test_errors_carry_the_reason_message_and_fields(client, pool):
    with pytest.raises(sdk_errors.JobNotFound) as missing:
        await client.jobs.get("00000000-0000-0000-0000-000000000000")
    assert missing.value.code == grpc.StatusCode.NOT_FOUND and "not found" in missing.value.message
    with pytest.raises(sdk_errors.ValidationError) as invalid:
        await client.jobs.submit("echo", priority=12)
    assert invalid.value.reason == Reason.VALIDATION_ERROR and set(invalid.value.fields) == {"priority"}
    with pytest.raises(sdk_errors.InvalidJobType):
        await client.jobs.submit("mining")
    async with AsyncClient.connect(f"127.0.0.1:{pool.grpc_port}") as anonymous:
        with pytest.raises(sdk_errors.Unauthenticated) as refused:
            await anonymous.jobs.get("x")
    assert refused.value.reason == Reason.CREDENTIALS_MISSING


def test_every_status_the_server_sends_has_an_exception_and_every_named_reason_exists():
    assert {code for code, _ in STATUS_OF.values()} <= set(sdk_errors.BY_CODE)
    assert set(sdk_errors.BY_REASON) <= {reason.value for reason in Reason}
    for reason, cls in sdk_errors.BY_REASON.items():
        assert issubclass(cls, sdk_errors.BY_CODE[cls.code]), reason


async def test_the_same_idempotency_key_returns_the_same_job(client):
    first = await client.jobs.submit("echo", idempotency_key="sdk-once")
    again = await client.jobs.submit("echo", idempotency_key="sdk-once")
    assert again.id == first.id


async def test_the_same_specs_sent_again_make_no_new_jobs(client):
    specs = [JobSpec("echo", {"n": n}) for n in range(3)]
    first = [handle.id for handle in await client.jobs.submit_many(specs)]
    assert [handle.id for handle in await client.jobs.submit_many(specs)] == first  # a retried batch


async def test_wait_gives_up_at_its_timeout_as_a_timeout_error(client):
    job = await client.jobs.submit("echo")
    with pytest.raises(TimeoutError) as waited:
        await job.wait(timeout=0.5)
    assert isinstance(waited.value, sdk_errors.DeadlineExceeded) and job.job.status == "pending"


async def test_submit_many_and_list_follow_every_page(client):
    handles = await client.jobs.submit_many([JobSpec("echo", {"n": n}) for n in range(7)])
    submitted = {handle.id for handle in handles}
    assert len(submitted) == 7
    listed = [job.id async for job in client.jobs.list("pending", page_size=2)]
    assert submitted <= set(listed) and len(listed) == len(set(listed))


async def test_a_submission_is_retried_until_the_server_answers(pool, database_url):
    """The client first finds nothing listening (UNAVAILABLE), keeps trying with backoff, and gets
    its job once a server starts on that port; a call that is not safe to repeat is not retried."""
    port = free_port()
    async with AsyncClient.connect(f"127.0.0.1:{port}", api_key=API_KEY, retry=FAST_RETRY, timeout=2) as client:
        with pytest.raises(sdk_errors.Unavailable):
            await client.jobs.cancel("00000000-0000-0000-0000-000000000000")
        submitting = asyncio.create_task(client.jobs.submit("echo", idempotency_key="after-the-outage"))
        await asyncio.sleep(0.3)
        assert not submitting.done()
        late = build_server(make_settings(database_url, secret_key="test-secret", grpc_port=port,
                                          stats_poll_interval_s=3600.0))
        await late.start()
        try:
            job = await asyncio.wait_for(submitting, 30)
            assert (await client.jobs.get(job.id)).idempotency_key == "after-the-outage"
        finally:
            await late.stop(0)


async def test_pool_resources(client):
    wallet = forms(new_wallet())["non_bounceable"]
    participant = await client.participants.create(wallet, username="sdk")
    assert (await client.participants.get(participant.id)).username == "sdk"
    assert (await client.participants.get_by_wallet(wallet)).id == participant.id
    assert participant.id in [p.id async for p in client.participants.list(page_size=1)]
    worker = await client.workers.create(participant.id, "sdk-rig", "localhost", stats_port=12000, price_coefficient=1.5)
    updated = await client.workers.update(worker.id, is_active=False)
    assert (updated.is_active, updated.price_coefficient) == (False, 1.5)
    assert [w.id async for w in client.workers.list(participant.id, is_active=False)] == [worker.id]
    assert (await client.workers.metrics(worker.id, hours=1)).worker_id == worker.id
    assert (await client.workers.stats(worker.id)).worker_id == worker.id
    with pytest.raises(sdk_errors.WorkerNotFound):
        await client.workers.get(10**9)
    moment = dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc)
    payout = await client.payouts.create(participant.id, tx_hash(), from_address=forms(new_wallet())["bounceable"],
                                         to_address=wallet, transaction_time=moment, period_start=moment - dt.timedelta(days=7),
                                         period_end=moment, amount_nanoton=2_500_000_000)
    assert (await client.payouts.get(payout.id)).amount_nanoton == 2_500_000_000
    assert [p.id async for p in client.payouts.list(participant.id)] == [payout.id]
    assert (await client.payouts.summary(participant.id)).total_nanoton == 2_500_000_000
    assert payout.transaction_hash.encode() in await client.payouts.tax_report(participant.id, 2025)


async def test_alert_settings_and_a_workers_watch(client, channel):
    miner = await Miner(channel).register()
    participant_id = (await client.workers.get(miner.worker_id)).participant_id
    saved = await client.alerts.replace(
        participant_id, [alert_pb.AlertRule(kind="worker_temperature", threshold=80, channels=["webhook"])],
        [alert_pb.NotificationChannel(kind="webhook", enabled=True, webhook_url="https://hooks.example.org/a")])
    assert (await client.alerts.get(participant_id)) == saved and len(saved.channels[0].webhook_secret) == 64
    with pytest.raises(sdk_errors.ValidationError):
        await client.alerts.replace(participant_id, [alert_pb.AlertRule(kind="worker_temperature", threshold=900,
                                                                        channels=["webhook"])], saved.channels)
    assert [i async for i in client.alerts.incidents(participant_id, open_only=True)] == []
    assert [n async for n in client.alerts.notifications(participant_id)] == []
    watch = client.workers.watch(participant_id)
    assert (await anext(watch)).id == miner.worker_id
    await miner.heartbeat(gpu=42.0)
    changed = await asyncio.wait_for(anext(watch), 5)
    await watch.aclose()
    assert (changed.id, changed.latest_gpu_utilization) == (miner.worker_id, 42.0)


async def test_api_keys_users_and_the_exchange(client, pool):
    wallet = Wallet()
    login = await client.users.login(**_login_fields(wallet.proof((await client.users.login_challenge()).payload)))
    async with AsyncClient.connect(f"127.0.0.1:{pool.grpc_port}", session_token=login.session_token) as user:
        assert (await user.users.me()).id == login.user.id
        assert (await user.users.balance(login.user.id)).user_id == login.user.id
        payment = await user.exchange.create_payment(amount_sat=1000)
        assert (await user.exchange.get_payment(payment.id)).status == "pending"
        await user.users.logout()
        with pytest.raises(sdk_errors.Unauthenticated):
            await user.users.me()
    created = await client.api_keys.create("client", participant_id=login.user.id, label="sdk")
    assert created.api_key.id in [key.id async for key in client.api_keys.list()]
    assert (await client.api_keys.revoke(created.api_key.id)).revoked_at.seconds > 0


async def test_the_miner_layer(client, pool):
    async with AsyncClient.connect(f"127.0.0.1:{pool.grpc_port}", api_key=API_KEY) as admin:
        job = await admin.jobs.submit("echo", {"text": "raw"})
    helper = Miner(client.channel, job_types=("echo",))
    registered = await client.miners.register(helper.request)
    async with AsyncClient.connect(f"127.0.0.1:{pool.grpc_port}", api_key=API_KEY,
                                   miner_token=registered.miner_token) as miner:
        helper.id = registered.miner.id
        assignments = []
        for _ in range(50):
            assignments = [a for a in await miner.miners.fetch(registered.miner.id, max_jobs=50, wait_s=0.2)
                           if a.job.id == job.id]
            if assignments:
                break
        beat = await miner.miners.heartbeat(registered.miner.id, miner_pb.Heartbeat(
            status="healthy", running_job_ids=[job.id]))
        assert job.id in [lease.job_id for lease in beat.extended_leases]
        (outcome,) = await miner.miners.submit_results(registered.miner.id, [helper.result(assignments[0])])
        assert outcome.job.status == "completed"


async def test_the_heartbeat_stream_acks_and_hands_out_work(client, pool):
    registered = await client.miners.register(Miner(client.channel, job_types=("echo",)).request)
    job = await client.jobs.submit("echo", {"over": "the stream"})
    took_work = asyncio.Event()

    async def heartbeats():
        yield miner_pb.StreamHeartbeatsRequest(miner_id=registered.miner.id, ready_for_jobs=1000,
                                               heartbeat=miner_pb.Heartbeat(status="healthy"))
        await took_work.wait()  # the stream stays open until the job arrived

    events, assigned = [], set()
    async with AsyncClient.connect(f"127.0.0.1:{pool.grpc_port}", api_key=API_KEY,
                                   miner_token=registered.miner_token) as miner:
        async for response in miner.miners.stream_heartbeats(heartbeats()):
            events.append(response.WhichOneof("event"))
            if response.HasField("assignment"):
                assigned.add(response.assignment.job.id)
            if job.id in assigned and "ack" in events:
                took_work.set()
                break
    assert {"ack", "assignment"} <= set(events)


@pytest.fixture
def blocking_target(pool):
    return f"127.0.0.1:{pool.grpc_port}"


async def test_the_blocking_client(blocking_target):
    await asyncio.to_thread(blocking_round_trip, blocking_target)


def blocking_round_trip(target: str) -> None:
    with Client.connect(target, api_key=API_KEY) as client:
        job = client.jobs.submit("echo", {"n": 1})
        assert client.jobs.get(job.id).status == "pending"
        assert job.id in {j.id for j in client.jobs.list(page_size=1)}
        assert job.cancel().status == "cancelled"
        assert job.wait(timeout=10).status == "cancelled"
        with pytest.raises(sdk_errors.JobAlreadyTerminal):
            job.cancel()
        assert [j.status for j in client.jobs.watch(job.id)] == ["cancelled"]


def _login_fields(request) -> dict:
    return dict(address=request.address, network=request.network, public_key=request.public_key,
                proof=json_format.MessageToDict(request.proof))
