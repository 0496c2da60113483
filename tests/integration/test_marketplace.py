"""The job marketplace over gRPC, on SQLite and PostgreSQL: jobs, miners, leases, receipts, ledger."""

import asyncio
import base64
import hashlib
import json

import grpc
import nacl.signing
import pytest
from computepool.v1 import job_pb2
from computepool.v1 import job_service_pb2 as job_pb
from computepool.v1 import (
    job_service_pb2_grpc,
    participant_service_pb2_grpc,
    receipt_service_pb2_grpc,
    worker_service_pb2_grpc,
)
from computepool.v1 import miner_service_pb2 as miner_pb
from computepool.v1 import participant_service_pb2 as participant_pb
from computepool.v1 import receipt_service_pb2 as receipt_pb
from computepool.v1 import worker_service_pb2 as worker_pb
from coordinator.app import build_server
from coordinator.storage.models import Job, LedgerEntry, Receipt
from google.protobuf import duration_pb2
from sqlalchemy import func, select

from tests.support.miner import Miner, cancel_open_jobs, digest
from tests.support.rpc_errors import error_details, error_metadata
from tests.support.server import AUTH, make_settings

# Short timings so leases, heartbeat timeouts and ttls play out within a test.
FAST = dict(lease_s=0.6, heartbeat_timeout_s=1.5, retry_backoff_s=0.0, reaper_interval_s=0.1, heartbeat_flush_s=0.05,
            secret_key="test-secret", stats_poll_interval_s=3600.0, pool_fee_bps=500)


@pytest.fixture(scope="module")
async def market(database_url):
    server = build_server(make_settings(database_url, **FAST))
    await server.start()
    yield server
    await server.stop(0)


@pytest.fixture(scope="module")
async def channel(market):
    async with grpc.aio.insecure_channel(f"127.0.0.1:{market.grpc_port}") as channel:
        yield channel


@pytest.fixture(scope="module")
def jobs(channel):
    return job_service_pb2_grpc.JobServiceStub(channel)


async def submit(jobs, job_type="llm_inference", **fields) -> "job_pb.Job":
    return await jobs.SubmitJob(job_pb.SubmitJobRequest(job_type=job_type, **fields), metadata=AUTH)


async def status(jobs, job_id) -> "job_pb.Job":
    return await jobs.GetJobStatus(job_pb.GetJobStatusRequest(job_id=job_id), metadata=AUTH)


async def new_miner(channel, **options) -> Miner:
    return await Miner(channel, **options).register()


@pytest.fixture(autouse=True)
async def empty_queue(market):
    """Each test starts with no claimable job left over from another test."""
    await cancel_open_jobs(market.database)


async def test_submit_and_status_with_only_the_documented_fields(jobs):
    job = await submit(jobs, parameters=None)
    assert job.status == "pending" and job.job_type == "llm_inference" and len(job.id) == 36
    assert job.client_id.startswith("key-") and job.unit_price_nanoton == 20
    fetched = await status(jobs, job.id)
    assert fetched.id == job.id and fetched.status == "pending"


async def test_an_unsupported_job_type_is_refused(jobs):
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await submit(jobs, job_type="mine_bitcoin")
    assert error_details(raised.value) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_JOB_TYPE", ["job_type"])


async def test_the_same_idempotency_key_returns_the_same_job(jobs):
    first = await submit(jobs, idempotency_key="order-42-" + str(id(jobs)))
    again = await asyncio.gather(*[submit(jobs, idempotency_key=first.idempotency_key) for _ in range(8)])
    assert {job.id for job in again} == {first.id}


async def test_a_batch_is_validated_as_a_whole(jobs, market):
    async with market.database.transaction() as session:
        before = await session.scalar(select(func.count(Job.id)))
    requests = [job_pb.SubmitJobRequest(job_type="echo") for _ in range(1000)]
    requests[7].job_type = "nope"
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await jobs.BatchSubmitJobs(job_pb.BatchSubmitJobsRequest(jobs=requests), metadata=AUTH)
    assert error_details(raised.value)[1:] == ("INVALID_JOB_TYPE", ["jobs[7].job_type"])
    async with market.database.transaction() as session:
        assert await session.scalar(select(func.count(Job.id))) == before
    requests[7].job_type = "echo"
    accepted = await jobs.BatchSubmitJobs(job_pb.BatchSubmitJobsRequest(jobs=requests), metadata=AUTH)
    assert len(accepted.jobs) == 1000 and len({j.id for j in accepted.jobs}) == 1000
    too_many = job_pb.BatchSubmitJobsRequest(jobs=requests + [job_pb.SubmitJobRequest(job_type="echo")])
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await jobs.BatchSubmitJobs(too_many, metadata=AUTH)
    assert error_details(raised.value)[2] == ["jobs"]


async def test_a_completed_job_has_a_verifiable_receipt_and_balanced_ledger(jobs, channel, market):
    miner = await new_miner(channel, price_coefficient=1.5)
    job = await submit(jobs, job_type="llm_inference")
    assignment = await miner.lease(job.id)
    assert assignment.attempt == 1 and assignment.lease_token
    done = await miner.complete(assignment, {"text": "hello"}, units=1000)
    receipt = done.receipt
    assert done.job.status == "completed" and receipt.job_id == job.id and receipt.miner_id == miner.id
    # 1000 units x 20 nanoTON x 1.5, the pool keeping 5 %.
    assert (receipt.charge_nanoton, receipt.earning_nanoton, receipt.fee_nanoton) == (30_000, 28_500, 1_500)
    assert receipt.result["text"] == "hello" and receipt.worker_id == miner.worker_id
    receipts = receipt_service_pb2_grpc.ReceiptServiceStub(channel)
    verdict = await receipts.VerifyReceipt(receipt_pb.VerifyReceiptRequest(receipt=receipt))
    assert verdict.valid, verdict.reason
    listed = await jobs.ListJobReceipts(job_pb.ListJobReceiptsRequest(job_id=job.id), metadata=AUTH)
    assert [r.id for r in listed.receipts] == [receipt.id]
    async with market.database.transaction() as session:
        entries = (await session.execute(select(LedgerEntry.kind, LedgerEntry.amount)
                                         .where(LedgerEntry.job_id == job.id))).all()
    assert sorted(entries) == [("charge", -30_000), ("earning", 28_500), ("fee", 1_500)]


async def test_a_third_party_verifies_a_receipt_with_only_the_public_key(jobs, channel, market):
    miner = await new_miner(channel)
    job = await submit(jobs, job_type="echo")
    receipt = (await miner.complete(await miner.lease(job.id), {"echo": 1}, units=3)).receipt
    async with grpc.aio.insecure_channel(f"127.0.0.1:{market.grpc_port}") as anonymous:  # no API key
        key = await receipt_service_pb2_grpc.ReceiptServiceStub(anonymous).GetCoordinatorKey(
            receipt_pb.GetCoordinatorKeyRequest())
    payload = base64.b64decode(receipt.payload)
    nacl.signing.VerifyKey(base64.b64decode(key.public_key)).verify(payload, base64.b64decode(receipt.proof))
    facts = json.loads(payload)
    assert (facts["job_id"], facts["units"], facts["charge_nanoton"]) == (job.id, 3, 3)
    assert key.key_id == receipt.key_id and key.encoding == facts["v"] == "computepool-receipt-v1"


@pytest.mark.parametrize("tamper", ["units", "charge", "payload", "proof", "miner_signature"])
async def test_a_tampered_receipt_fails_to_verify(jobs, channel, tamper):
    miner = await new_miner(channel)
    job = await submit(jobs, job_type="echo")
    receipt = (await miner.complete(await miner.lease(job.id), units=10)).receipt
    if tamper == "units":
        receipt.units += 1
    elif tamper == "charge":
        receipt.charge_nanoton = 1
    elif tamper == "payload":
        facts = json.loads(base64.b64decode(receipt.payload))
        facts["units"] = 999
        receipt.payload = base64.b64encode(json.dumps(facts, sort_keys=True, separators=(",", ":")).encode()).decode()
        receipt.units = 999
    elif tamper == "proof":
        receipt.proof = base64.b64encode(b"\0" * 64).decode()
    else:
        receipt.miner_signature = base64.b64encode(b"\1" * 64).decode()
    verdict = await receipt_service_pb2_grpc.ReceiptServiceStub(channel).VerifyReceipt(
        receipt_pb.VerifyReceiptRequest(receipt=receipt))
    assert not verdict.valid and verdict.reason


async def completed_receipt(jobs, channel, result: dict | None = None) -> job_pb2.Receipt:
    miner = await new_miner(channel)
    job = await submit(jobs, job_type="echo")
    return (await miner.complete(await miner.lease(job.id), result, units=10)).receipt


async def verify(channel, receipt: job_pb2.Receipt) -> receipt_pb.VerifyReceiptResponse:
    return await receipt_service_pb2_grpc.ReceiptServiceStub(channel).VerifyReceipt(
        receipt_pb.VerifyReceiptRequest(receipt=receipt))


def alter(receipt: job_pb2.Receipt, field: str) -> None:
    """Gives one shown field another plausible value."""
    value = getattr(receipt, field)
    if field == "result":
        receipt.result.update({"text": "forged"})
    elif field == "created_at":
        receipt.created_at.seconds -= 1
    elif isinstance(value, str):
        setattr(receipt, field, value + "0")
    else:
        setattr(receipt, field, value + 1)


@pytest.mark.parametrize("field", [f.name for f in job_pb2.Receipt.DESCRIPTOR.fields
                                   if f.name not in ("payload", "proof")])  # those are the signed part
async def test_every_field_shown_beside_the_payload_must_match_it(jobs, channel, field):
    receipt = await completed_receipt(jobs, channel, {"text": "naïve", "score": 0.5, "tokens": 2})
    assert (await verify(channel, receipt)).valid
    alter(receipt, field)
    verdict = await verify(channel, receipt)
    assert not verdict.valid and verdict.reason.startswith(f"{field} "), verdict.reason


async def test_a_receipt_for_a_result_sent_by_hash_only_verifies(jobs, channel):
    miner = await new_miner(channel)
    job = await submit(jobs, job_type="echo")
    request = miner.result(await miner.lease(job.id), {"text": "kept by the miner"})
    request.ClearField("result")
    request.result_hash = digest({"text": "kept by the miner"})
    receipt = (await miner.stub.SubmitResult(request, metadata=miner.metadata)).receipt
    assert not receipt.result.fields and (await verify(channel, receipt)).valid


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def spaced(receipt: job_pb2.Receipt) -> str:
    """The receipt's facts, re-encoded with whitespace: the same facts, not the signed bytes."""
    return b64(json.dumps(json.loads(base64.b64decode(receipt.payload)), indent=1).encode())


NOT_A_RECEIPT = {  # what replaces the payload or proof -> the field named
    "no payload": (lambda r: {"payload": ""}, "receipt.payload"),
    "payload not base64": (lambda r: {"payload": "não é base64"}, "receipt.payload"),
    "payload not JSON": (lambda r: {"payload": b64(b"hello")}, "receipt.payload"),
    "payload of other keys": (lambda r: {"payload": b64(b'{"v":"computepool-receipt-v1"}')}, "receipt.payload"),
    "payload not canonical": (lambda r: {"payload": spaced(r)}, "receipt.payload"),
    "no proof": (lambda r: {"proof": ""}, "receipt.proof"),
    "proof not a signature": (lambda r: {"proof": b64(b"\0" * 32)}, "receipt.proof"),
}


@pytest.mark.parametrize("case", NOT_A_RECEIPT)
async def test_a_request_that_holds_no_receipt_is_invalid_argument(jobs, channel, case):
    change, field = NOT_A_RECEIPT[case]
    receipt = await completed_receipt(jobs, channel)
    for name, value in change(receipt).items():
        setattr(receipt, name, value)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await verify(channel, receipt)
    assert error_details(raised.value) == (grpc.StatusCode.INVALID_ARGUMENT, "NOT_A_RECEIPT", [field])


async def test_a_miner_hashing_non_ascii_raw_is_told_the_hash_the_server_computed(jobs, channel):
    miner = await new_miner(channel)
    job = await submit(jobs, job_type="echo")
    result = {"text": "naïve café"}
    computed = digest(result)
    # What JavaScript's JSON.stringify hashes: non-ASCII written raw.
    raw = hashlib.sha256(json.dumps(result, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
    request = miner.result(await miner.lease(job.id), result)
    request.result_hash, request.miner_signature = raw, miner.sign(raw)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await miner.stub.SubmitResult(request, metadata=miner.metadata)
    assert error_details(raised.value) == (grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR",
                                           ["result_hash", "miner_signature"])
    assert error_metadata(raised.value)["computed_result_hash"] == computed
    assert computed in raised.value.details() and raised.value.details().endswith("\\uXXXX escapes, 1.0 as 1)")
    request.result_hash = ""  # the hash is optional: the signature alone is refused, and says the same
    (outcome,) = (await miner.stub.SubmitResults(miner_pb.SubmitResultsRequest(miner_id=miner.id, results=[request]),
                                                 metadata=miner.metadata)).outcomes
    assert outcome.error_reason == "VALIDATION_ERROR" and computed in outcome.error_message
    assert outcome.error_message.startswith("miner_signature:") and "\\uXXXX" in outcome.error_message
    assert (await status(jobs, job.id)).status == "running"


async def test_only_jobs_a_worker_can_run_are_offered(jobs, channel):
    small = await new_miner(channel, job_types=("embedding",), models=("bge-small",), vram_gb=16, gpu_model="L4",
                            price_coefficient=2.0)
    other_type = await submit(jobs, job_type="llm_inference")
    other_model = await submit(jobs, job_type="embedding", requirements={"model": "e5-large"})
    too_big = await submit(jobs, job_type="embedding", requirements={"min_vram_gb": 24})
    other_gpu = await submit(jobs, job_type="embedding", requirements={"gpu_model": "H100"})
    too_dear = await submit(jobs, job_type="embedding", requirements={"max_price_coefficient": 1.5})
    fits = await submit(jobs, job_type="embedding", requirements={"model": "bge-small", "min_vram_gb": 16,
                                                                  "gpu_model": "L4", "max_price_coefficient": 2.0})
    offered = {a.job.id for a in await small.fetch(max_jobs=50)}
    assert fits.id in offered
    assert not offered & {other_type.id, other_model.id, too_big.id, other_gpu.id, too_dear.id}


async def test_priority_first_then_oldest(jobs, channel):
    low_old = await submit(jobs, job_type="echo", priority=0)
    high = await submit(jobs, job_type="echo", priority=9)
    low_new = await submit(jobs, job_type="echo", priority=0)
    miner = await new_miner(channel, job_types=("echo",))
    order = [a.job.id for a in await miner.fetch(max_jobs=3)]
    assert order == [high.id, low_old.id, low_new.id]


async def test_a_job_is_leased_once_however_many_miners_ask(jobs, channel):
    miners = [await new_miner(channel, job_types=("echo",)) for _ in range(6)]
    submitted = {(await submit(jobs, job_type="echo")).id for _ in range(20)}
    batches = await asyncio.gather(*[m.fetch(max_jobs=10) for m in miners])
    leased = [a.job.id for batch in batches for a in batch]
    assert len(leased) == len(set(leased)) and set(leased) == submitted


async def test_a_miner_cannot_complete_another_miners_job(jobs, channel):
    owner, intruder = await new_miner(channel), await new_miner(channel)
    job = await submit(jobs, job_type="echo")
    assignment = await owner.lease(job.id)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await intruder.complete(assignment)
    assert error_details(raised.value)[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "LEASE_LOST")
    impostor = intruder.metadata  # the intruder's credential, claiming to be the owner
    intruder.id = owner.id
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await intruder.complete(assignment, metadata=impostor)
    assert error_details(raised.value)[:2] == (grpc.StatusCode.PERMISSION_DENIED, "MINER_MISMATCH")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await owner.complete(assignment, metadata=AUTH)  # no miner credential at all
    assert error_details(raised.value)[:2] == (grpc.StatusCode.UNAUTHENTICATED, "MINER_TOKEN_MISSING")
    assert (await status(jobs, job.id)).status == "running"
    assert (await owner.complete(assignment)).job.status == "completed"


async def test_a_miner_id_with_non_ascii_characters_is_another_miner_not_a_server_error(channel):
    """Found by schemathesis (tests/e2e/test_openapi.py): GET /v1/miner/jobs?miner_id=Ö answered 500."""
    miner = await new_miner(channel)
    miner.id = "Öß-miner"
    for call in (miner.fetch(), miner.heartbeat()):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await call
        assert error_details(raised.value)[:2] == (grpc.StatusCode.PERMISSION_DENIED, "MINER_MISMATCH")


async def test_a_bad_miner_signature_is_refused_and_changes_nothing(jobs, channel):
    miner = await new_miner(channel)
    job = await submit(jobs, job_type="echo")
    assignment = await miner.lease(job.id)
    miner.key = nacl.signing.SigningKey.generate()  # not the registered key
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await miner.complete(assignment)
    assert error_details(raised.value)[2] == ["miner_signature"]
    assert (await status(jobs, job.id)).status == "running"


async def test_lease_expiry_requeues_and_the_stale_result_is_refused(jobs, channel):
    slow, fast = await new_miner(channel), await new_miner(channel)
    job = await submit(jobs, job_type="echo")
    stale = await slow.lease(job.id)
    await asyncio.sleep(1.0)  # past the 0.6 s lease; the reaper re-queues it
    assert (await status(jobs, job.id)).status == "pending"
    fresh = await fast.lease(job.id)
    assert fresh.attempt == 2 and fresh.lease_token != stale.lease_token
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await slow.complete(stale)
    assert error_details(raised.value)[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "LEASE_LOST")
    done = await fast.complete(fresh)
    assert done.receipt.attempt == 2 and done.receipt.miner_id == fast.id


async def test_heartbeats_extend_the_lease(jobs, channel):
    miner = await new_miner(channel)
    job = await submit(jobs, job_type="echo")
    assignment = await miner.lease(job.id)
    for _ in range(6):  # 1.2 s: twice the lease
        beat = await miner.heartbeat(running=[job.id])
        assert [e.job_id for e in beat.extended_leases] == [job.id]
        await asyncio.sleep(0.2)
    assert (await miner.complete(assignment)).job.status == "completed"


async def test_a_miner_that_vanishes_loses_its_lease_and_goes_offline(jobs, channel):
    miner = await new_miner(channel)
    await miner.heartbeat()
    job = await submit(jobs, job_type="echo")
    await miner.lease(job.id)
    await asyncio.sleep(2.0)  # past the 1.5 s heartbeat timeout
    workers = worker_service_pb2_grpc.WorkerServiceStub(channel)
    worker = await workers.GetWorker(worker_pb.GetWorkerRequest(worker_id=miner.worker_id), metadata=AUTH)
    assert worker.latest_status == "offline"
    assert (await status(jobs, job.id)).status == "pending"
    assert await miner.fetch() == []  # an offline worker is offered nothing until it heartbeats again
    await miner.heartbeat()
    assert (await miner.lease(job.id)).attempt == 2


async def test_failures_are_retried_then_the_job_fails(jobs, channel):
    miner = await new_miner(channel)
    job = await submit(jobs, job_type="echo")
    for attempt in (1, 2, 3):
        assignment = await miner.lease(job.id)
        assert assignment.attempt == attempt
        after = (await miner.fail(assignment, why=f"crash {attempt}")).job
    assert after.status == "failed" and after.attempts == 3 and after.error_message == "crash 3"
    assert (await status(jobs, job.id)).status == "failed"


async def test_terminal_states_are_final(jobs, channel):
    miner = await new_miner(channel)
    job = await submit(jobs, job_type="echo")
    assignment = await miner.lease(job.id)
    await miner.complete(assignment)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await miner.complete(assignment, {"text": "a second opinion"})
    assert error_details(raised.value)[1] == "JOB_ALREADY_TERMINAL"
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await jobs.CancelJob(job_pb.CancelJobRequest(job_id=job.id), metadata=AUTH)
    assert error_details(raised.value)[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "JOB_ALREADY_TERMINAL")
    cancelled = await jobs.CancelJob(job_pb.CancelJobRequest(job_id=(await submit(jobs)).id), metadata=AUTH)
    assert cancelled.status == "cancelled"


async def test_the_lease_holder_resending_its_result_gets_the_stored_receipt(jobs, channel, market):
    """The reply to a stored result can be lost (a killed server, a cut connection): the miner
    re-sends it and learns its work counted; nothing is written twice, and nobody else may."""
    miner, other = await new_miner(channel), await new_miner(channel)
    job = await submit(jobs, job_type="echo")
    assignment = await miner.lease(job.id)
    first = await miner.complete(assignment, {"text": "same"}, units=5)
    again = await miner.complete(assignment, {"text": "same"}, units=5)
    assert again.job.status == "completed" and again.receipt == first.receipt
    batch = await miner.stub.SubmitResults(miner_pb.SubmitResultsRequest(
        miner_id=miner.id, results=[miner.result(assignment, {"text": "same"}, units=5)]), metadata=miner.metadata)
    assert batch.outcomes[0].receipt == first.receipt and not batch.outcomes[0].error_reason
    other_lease = miner_pb.JobAssignment()
    other_lease.CopyFrom(assignment)
    other_lease.lease_token = "0" * 32
    for refused in (lambda: miner.complete(assignment, {"text": "different"}, units=5),
                    lambda: miner.complete(assignment, {"text": "same"}, units=6),
                    lambda: miner.complete(other_lease, {"text": "same"}, units=5),
                    lambda: other.complete(assignment, {"text": "same"}, units=5)):  # a copy of the lease
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await refused()
        assert error_details(raised.value)[:2] == (grpc.StatusCode.FAILED_PRECONDITION, "JOB_ALREADY_TERMINAL")
    async with market.database.transaction() as session:
        assert await session.scalar(select(func.count(Receipt.id)).where(Receipt.job_id == job.id)) == 1
        assert await session.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.job_id == job.id)) == 3


async def test_the_lease_holder_resending_its_final_failure_gets_the_failed_job(jobs, channel):
    miner = await new_miner(channel)
    job = await submit(jobs, job_type="echo")
    for _ in range(3):
        assignment = await miner.lease(job.id)
        await miner.fail(assignment, why="out of memory")
    again = await miner.fail(assignment, why="out of memory")
    assert again.job.status == "failed" and not again.HasField("receipt")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await miner.fail(assignment, why="another story")
    assert error_details(raised.value)[1] == "JOB_ALREADY_TERMINAL"


async def test_a_job_past_its_ttl_expires(jobs, channel):
    ttl = duration_pb2.Duration(seconds=1)
    job = await submit(jobs, job_type="echo", ttl=ttl)
    await asyncio.sleep(1.4)
    assert (await status(jobs, job.id)).status == "expired"
    assert job.id not in {a.job.id for a in await (await new_miner(channel)).fetch(max_jobs=50)}


async def test_a_heartbeat_is_visible_on_the_worker_at_once(channel):
    miner = await new_miner(channel)
    await miner.heartbeat(gpu=42.5)
    workers = worker_service_pb2_grpc.WorkerServiceStub(channel)
    worker = await workers.GetWorker(worker_pb.GetWorkerRequest(worker_id=miner.worker_id), metadata=AUTH)
    assert worker.latest_status == "healthy" and worker.latest_gpu_utilization == 42.5
    assert worker.latest_gpu_memory_used_gb == 40.5 and worker.HasField("latest_seen_at")
    assert worker.latest_gpu_power_watts == 310.5 and worker.latest_gpu_reported


async def test_a_heartbeat_without_gpu_figures_leaves_them_absent_not_zero(channel):
    miner = await new_miner(channel)
    await miner.heartbeat(gpu=None)
    workers = worker_service_pb2_grpc.WorkerServiceStub(channel)
    worker = await workers.GetWorker(worker_pb.GetWorkerRequest(worker_id=miner.worker_id), metadata=AUTH)
    assert worker.latest_status == "healthy" and worker.HasField("latest_seen_at")
    assert not worker.latest_gpu_reported and not worker.HasField("latest_gpu_power_watts")
    assert worker.latest_gpu_utilization == worker.latest_gpu_temperature_celsius == 0  # the seed's shape
    metrics = await workers.GetWorkerMetrics(worker_pb.GetWorkerMetricsRequest(worker_id=miner.worker_id),
                                             metadata=AUTH)
    assert not metrics.samples[0].HasField("gpu_utilization") and not metrics.samples[0].HasField("gpu_power_watts")
    await miner.heartbeat(gpu=0.0)  # a GPU at rest reports 0, and 0 is kept as a figure
    worker = await workers.GetWorker(worker_pb.GetWorkerRequest(worker_id=miner.worker_id), metadata=AUTH)
    assert worker.latest_gpu_reported and worker.latest_gpu_utilization == 0.0


async def test_a_gpu_figure_out_of_range_is_refused_by_name(channel):
    miner = await new_miner(channel)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await miner.stub.SendHeartbeat(miner_pb.SendHeartbeatRequest(miner_id=miner.id, heartbeat=miner_pb.Heartbeat(
            status="healthy", gpu_power_watts=-1)), metadata=miner.metadata)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "heartbeat.gpu_power_watts" in refused.value.details()


async def test_concurrent_heartbeats_are_written_in_few_batches(channel, market):
    miners = [await new_miner(channel) for _ in range(40)]
    before = market.heartbeats.flushes
    await asyncio.gather(*[m.heartbeat() for m in miners for _ in range(3)])
    assert market.heartbeats.flushes - before < 12  # 120 heartbeats in a handful of transactions, not 120


async def test_samples_are_kept_at_most_once_a_minute(channel):
    miner = await new_miner(channel)
    for _ in range(5):
        await miner.heartbeat()
    workers = worker_service_pb2_grpc.WorkerServiceStub(channel)
    metrics = await workers.GetWorkerMetrics(worker_pb.GetWorkerMetricsRequest(worker_id=miner.worker_id),
                                             metadata=AUTH)
    assert len(metrics.samples) == 1 and metrics.samples[0].gpu_utilization == 87.5


async def test_the_heartbeat_stream_acks_and_pushes_work(jobs, channel):
    miner = await new_miner(channel, job_types=("echo",))
    job = await submit(jobs, job_type="echo")
    beat = miner_pb.Heartbeat(status="healthy", gpu_utilization=10)
    requests = asyncio.Queue()
    await requests.put(miner_pb.StreamHeartbeatsRequest(miner_id=miner.id, heartbeat=beat, ready_for_jobs=5))

    async def outgoing():
        while (message := await requests.get()) is not None:
            yield message

    stream = miner.stub.StreamHeartbeats(outgoing(), metadata=miner.metadata)
    first = await stream.read()
    assert first.WhichOneof("event") == "ack"
    assigned = [await stream.read()]
    assert assigned[0].WhichOneof("event") == "assignment" and assigned[0].assignment.job.id == job.id
    await requests.put(miner_pb.StreamHeartbeatsRequest(heartbeat=miner_pb.Heartbeat(
        status="busy", running_job_ids=[job.id])))
    ack = await stream.read()
    assert [e.job_id for e in ack.ack.extended_leases] == [job.id]
    await requests.put(None)
    assert (await miner.complete(assigned[0].assignment)).job.status == "completed"


async def test_results_go_back_on_the_stream_and_free_their_slots_for_the_same_message_s_claim(jobs, channel):
    miner = await new_miner(channel, job_types=("echo",), max_concurrent_jobs=1)
    first, second = await submit(jobs, job_type="echo"), await submit(jobs, job_type="echo")
    requests = asyncio.Queue()

    async def outgoing():
        while (message := await requests.get()) is not None:
            yield message

    def message(**fields):
        return miner_pb.StreamHeartbeatsRequest(miner_id=miner.id, heartbeat=miner_pb.Heartbeat(status="healthy"),
                                                **fields)

    stream = miner.stub.StreamHeartbeats(outgoing(), metadata=miner.metadata)
    await requests.put(message(ready_for_jobs=1))
    assert (await stream.read()).WhichOneof("event") == "ack"
    held = (await stream.read()).assignment
    assert held.job.id in (first.id, second.id)
    forged = miner.result(held)
    forged.job_id, forged.miner_id = (second.id if held.job.id == first.id else first.id), ""
    # one message: the result, a result for a job this miner does not hold, and a claim for the freed slot
    await requests.put(message(results=[miner.result(held), forged], ready_for_jobs=1))
    assert (await stream.read()).WhichOneof("event") == "ack"
    answered = (await stream.read()).results.outcomes
    assert [(o.job_id, o.job.status, o.error_reason) for o in answered] == [
        (held.job.id, "completed", ""), (forged.job_id, "", "LEASE_LOST")]
    receipt = answered[0].receipt
    assert receipt.job_id == held.job.id and receipt.miner_id == miner.id
    nxt = (await stream.read()).assignment  # the claim ran after the result: max_concurrent_jobs 1 had room
    assert nxt.job.id == forged.job_id
    # the stream broke before the outcome arrived, say: sending the same result again is safe
    await requests.put(message(results=[miner.result(held)]))
    assert (await stream.read()).WhichOneof("event") == "ack"
    again = (await stream.read()).results.outcomes
    assert again[0].job.status == "completed" and again[0].receipt == receipt
    await requests.put(message(results=[miner.result(nxt)]))
    assert (await stream.read()).WhichOneof("event") == "ack"
    assert (await stream.read()).results.outcomes[0].job.status == "completed"
    await requests.put(None)
    assert await stream.read() == grpc.aio.EOF


async def test_a_stream_with_a_bad_credential_is_refused(channel):
    miner = await new_miner(channel)
    miner.token = "not-a-token"

    async def one():
        yield miner_pb.StreamHeartbeatsRequest(miner_id=miner.id, heartbeat=miner_pb.Heartbeat(status="healthy"))

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        async for _ in miner.stub.StreamHeartbeats(one(), metadata=miner.metadata):
            pass
    assert error_details(raised.value)[:2] == (grpc.StatusCode.UNAUTHENTICATED, "MINER_TOKEN_INVALID")


async def test_re_registering_rebinds_the_same_worker_with_a_new_credential(channel):
    miner = await new_miner(channel, name="rebind")
    again = Miner(channel, wallet=miner.wallet, name="rebind")
    again.key = miner.key
    await again.register()
    assert (again.id, again.worker_id) == (miner.id, miner.worker_id) and again.token != miner.token
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await miner.stub.FetchJobs(miner_pb.FetchJobsRequest(miner_id=miner.id),
                                   metadata=AUTH + (("x-miner-token", "stale" + miner.token),))
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_the_ledger_sums_to_the_receipts(market):
    async with market.database.transaction() as session:
        total = await session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0)))
        charges = await session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                                       .where(LedgerEntry.kind == "charge"))
        receipt_charges = await session.scalar(select(func.coalesce(func.sum(Receipt.charge_nanoton), 0)))
        completed = await session.scalar(select(func.count(Job.id)).where(Job.status == "completed"))
        receipts = await session.scalar(select(func.count(Receipt.id)))
    assert total == 0 and -charges == receipt_charges and completed == receipts


async def test_revenue_and_metrics_come_from_the_ledger(jobs, channel, market):
    miner = await new_miner(channel)
    job = await submit(jobs, job_type="llm_inference")
    assignment = await miner.lease(job.id)
    await market.refresh_metrics()
    assert market.collector.active_jobs.get("llm_inference", 0) >= 1
    await miner.complete(assignment, units=500_000_000)  # 500M units x 20 nanoTON = 10 TON, 5 % fee
    workers = worker_service_pb2_grpc.WorkerServiceStub(channel)
    worker = await workers.GetWorker(worker_pb.GetWorkerRequest(worker_id=miner.worker_id), metadata=AUTH)
    assert worker.latest_revenue_nanoton == 9_500_000_000 and worker.latest_revenue_ton == 9.5
    participants = participant_service_pb2_grpc.ParticipantServiceStub(channel)
    owner = await participants.GetParticipantByWallet(
        participant_pb.GetParticipantByWalletRequest(wallet_address=miner.wallet), metadata=AUTH)
    assert owner.total_revenue_ton == 9.5 and owner.total_workers == 1
    await market.refresh_metrics()
    figures = next(w for w in market.collector.workers if w.worker_id == miner.worker_id)
    assert figures.revenue_nanoton == 9_500_000_000 and figures.requests_total == 1
    assert market.collector.registered_miners >= 1


async def test_list_jobs_is_newest_first_and_pages(jobs):
    mine = [(await submit(jobs, job_type="echo")).id for _ in range(3)]
    first = await jobs.ListJobs(job_pb.ListJobsRequest(limit=2), metadata=AUTH)
    second = await jobs.ListJobs(job_pb.ListJobsRequest(limit=2, page_token=first.next_page_token), metadata=AUTH)
    assert [j.id for j in first.jobs] + [second.jobs[0].id] == mine[::-1]
    pending = await jobs.ListJobs(job_pb.ListJobsRequest(status="pending", limit=1000), metadata=AUTH)
    assert set(mine) <= {j.id for j in pending.jobs} and {j.status for j in pending.jobs} == {"pending"}
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await jobs.ListJobs(job_pb.ListJobsRequest(status="lost"), metadata=AUTH)
    assert error_details(raised.value)[2] == ["status"]


async def test_a_batch_of_results_is_judged_result_by_result(jobs, channel, market):
    miner, other = await new_miner(channel, job_types=("echo",)), await new_miner(channel, job_types=("echo",))
    submitted = [(await submit(jobs, job_type="echo")).id for _ in range(4)]
    assignments = [a for a in await miner.fetch(max_jobs=10) if a.job.id in submitted]
    assert len(assignments) == 4
    stale = miner_pb.JobAssignment()
    stale.CopyFrom(assignments[3])
    stale.lease_token = "0" * 32
    foreign_job = await submit(jobs, job_type="echo")
    (foreign,) = [a for a in await other.fetch(max_jobs=10) if a.job.id == foreign_job.id]
    response = await miner.complete_all(assignments[:3] + [stale, foreign], units=7)
    outcomes = response.outcomes
    assert [o.job_id for o in outcomes] == submitted[:4] + [foreign_job.id]
    assert [o.job.status for o in outcomes[:3]] == ["completed"] * 3
    assert all(o.receipt.units == 7 and not o.error_reason for o in outcomes[:3])
    assert [o.error_reason for o in outcomes[3:]] == ["LEASE_LOST", "LEASE_LOST"]
    assert (await status(jobs, submitted[3])).status == "running"
    assert (await status(jobs, foreign_job.id)).status == "running"
    async with market.database.transaction() as session:
        receipts = await session.scalar(select(func.count(Receipt.id)).where(Receipt.job_id.in_(submitted)))
    assert receipts == 3
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await miner.complete_all([])
    assert error_details(raised.value)[2] == ["results"]


async def test_one_job_twice_in_a_batch_is_completed_once(jobs, channel, market):
    """The jobs' changes and receipts are written after the whole batch is judged: a second
    result for a job the batch has just completed is judged against that completion (a resend
    gets its receipt, other content is refused), and only one receipt is written."""
    miner = await new_miner(channel, job_types=("echo",))
    resent, changed = (await submit(jobs, job_type="echo")).id, (await submit(jobs, job_type="echo")).id
    leases = {a.job.id: a for a in await miner.fetch(max_jobs=10) if a.job.id in (resent, changed)}
    response = await miner.stub.SubmitResults(miner_pb.SubmitResultsRequest(miner_id=miner.id, results=[
        miner.result(leases[resent], {"text": "same"}, units=3), miner.result(leases[resent], {"text": "same"}, units=3),
        miner.result(leases[changed], {"text": "first"}, units=3),
        miner.result(leases[changed], {"text": "second"}, units=3)]), metadata=miner.metadata)
    first, again, kept, refused = response.outcomes
    assert first.job.status == again.job.status == kept.job.status == "completed"
    assert again.receipt == first.receipt and not again.error_reason
    assert refused.error_reason == "JOB_ALREADY_TERMINAL"
    async with market.database.transaction() as session:
        for job_id in (resent, changed):
            assert await session.scalar(select(func.count(Receipt.id)).where(Receipt.job_id == job_id)) == 1
            assert await session.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.job_id == job_id)) == 3


async def test_a_worker_taken_out_of_the_pool_is_told_to_drain(channel):
    miner = await new_miner(channel)
    assert list((await miner.heartbeat()).directives) == []
    workers = worker_service_pb2_grpc.WorkerServiceStub(channel)
    await workers.UpdateWorker(worker_pb.UpdateWorkerRequest(worker_id=miner.worker_id, is_active=False),
                               metadata=AUTH)
    assert list((await miner.heartbeat()).directives) == ["drain"]

    async def one():
        yield miner_pb.StreamHeartbeatsRequest(miner_id=miner.id, heartbeat=miner_pb.Heartbeat(status="draining"))

    events = [response.WhichOneof("event") async for response in miner.stub.StreamHeartbeats(
        one(), metadata=miner.metadata)]
    assert events == ["ack", "directive"]
    assert await miner.fetch() == []  # an inactive worker is offered nothing


async def test_a_silent_worker_going_offline_is_an_event(channel, market):
    miner = await new_miner(channel)
    with market.events.subscribe(lambda e: e.type == "worker.status_changed"
                                 and e.data["worker_id"] == miner.worker_id) as changes:
        await miner.heartbeat()
        online = await asyncio.wait_for(changes.next(), 5)
        offline = await asyncio.wait_for(changes.next(), 10)  # silent past the 1.5 s heartbeat timeout
    assert (online.data["old"], online.data["new"]) == ("unknown", "healthy")
    assert (offline.data["old"], offline.data["new"], offline.data["reason"]) == ("healthy", "offline", "silent")
    assert offline.participant_id == online.participant_id is not None
