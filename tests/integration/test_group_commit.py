"""Group commit (storage/group_commit.py) on SQLite and PostgreSQL: concurrent callers share a
transaction, are answered only after it committed, and one caller's error fails only that caller."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import nacl.signing
from computepool.v1 import job_service_pb2 as job_pb
from computepool.v1 import job_service_pb2_grpc
from coordinator.errors import InvalidArgument
from coordinator.market.dispatch import ResultSpec
from coordinator.market.dispatch_group import DispatchGroup
from coordinator.market.jobs import JobSpec
from coordinator.market.miners import authenticate
from coordinator.market.receipts import ReceiptSigner
from coordinator.storage.group_commit import GroupCommit
from coordinator.storage.models import Job, Participant
from sqlalchemy import func, select

from computepool.encoding import result_digest
from tests.support.miner import Miner, cancel_open_jobs
from tests.support.server import AUTH


def participants_group(database, seen_committed: list[bool]):
    """Inserts one participant per item (its wallet); "refuse" is refused before writing. Each
    caller, once answered, reads its row in a transaction of its own (seen_committed)."""

    async def apply(session, wallets):
        outcomes = []
        for wallet in wallets:
            if wallet == "refuse":
                outcomes.append(InvalidArgument.field("wallet", "refused"))
                continue
            session.add(Participant(wallet_raw=wallet, wallet_address=wallet))
            outcomes.append(wallet)
        await session.flush()
        return outcomes

    group = GroupCommit(database, apply)

    async def call(wallet: str) -> str:
        stored = await group.run(wallet)
        async with database.transaction() as session:
            seen_committed.append(await session.scalar(
                select(func.count()).select_from(Participant).where(Participant.wallet_raw == wallet)) == 1)
        return stored

    return group, call


async def test_concurrent_callers_share_one_transaction_and_see_their_work_committed(pool):
    seen: list[bool] = []
    group, call = participants_group(pool.database, seen)
    wallets = [f"0:group-{uuid.uuid4().hex}" for _ in range(8)]
    assert await asyncio.gather(*[call(w) for w in wallets]) == wallets
    assert seen == [True] * 8
    assert group.groups == 1  # all eight were queued before the first transaction began


async def test_a_refused_caller_fails_alone_and_the_others_commit(pool):
    seen: list[bool] = []
    group, call = participants_group(pool.database, seen)
    wallets = [f"0:group-{uuid.uuid4().hex}" for _ in range(3)]
    outcomes = await asyncio.gather(call(wallets[0]), call("refuse"), call(wallets[1]), call(wallets[2]),
                                    return_exceptions=True)
    assert isinstance(outcomes[1], InvalidArgument)
    assert [outcomes[0], outcomes[2], outcomes[3]] == wallets and seen == [True] * 3
    assert group.groups == 1


async def test_a_caller_that_breaks_the_transaction_fails_alone_and_the_others_commit(pool):
    """A unique wallet already stored: the group's INSERT fails and rolls back everything; each
    item then runs alone, so only the duplicate fails and the others are stored."""
    taken = f"0:group-{uuid.uuid4().hex}"
    async with pool.database.transaction() as session:
        session.add(Participant(wallet_raw=taken, wallet_address=taken))
    seen: list[bool] = []
    group, call = participants_group(pool.database, seen)
    wallets = [f"0:group-{uuid.uuid4().hex}" for _ in range(3)]
    outcomes = await asyncio.gather(call(wallets[0]), call(taken), call(wallets[1]), call(wallets[2]),
                                    return_exceptions=True)
    assert isinstance(outcomes[1], Exception) and not isinstance(outcomes[1], InvalidArgument)
    assert [outcomes[0], outcomes[2], outcomes[3]] == wallets and seen == [True] * 3
    assert group.groups == 3  # the failed group committed nothing; each good item alone


async def test_heavy_items_get_transactions_side_by_side_and_light_ones_share_one(pool):
    """Once a full group's weight waits behind the group in flight, another starts beside it (up
    to max_writers); light items never queue that much and share one transaction."""
    active, most = 0, 0

    async def apply(session, items):
        nonlocal active, most
        active += 1
        most = max(most, active)
        await asyncio.sleep(0.05)
        active -= 1
        return items

    heavy = GroupCommit(pool.database, apply, max_group=10, max_writers=2, weight=lambda item: item)
    assert await asyncio.gather(*[heavy.run(10) for _ in range(4)]) == [10] * 4
    assert heavy.groups == 4  # a group takes one item of full weight
    assert most == 2
    most = 0
    light = GroupCommit(pool.database, apply, max_group=10, max_writers=2, weight=lambda item: item)
    assert await asyncio.gather(*[light.run(1) for _ in range(8)]) == [1] * 8
    assert light.groups == 1 and most == 1


async def test_concurrent_results_one_refused_the_others_complete(pool, channel):
    """Through the API: results sent together, one with a wrong lease token (LEASE_LOST); the
    others complete with their receipts, the refused job stays leased."""
    await cancel_open_jobs(pool.database)
    jobs = job_service_pb2_grpc.JobServiceStub(channel)
    submitted = await asyncio.gather(*[jobs.SubmitJob(job_pb.SubmitJobRequest(job_type="echo"), metadata=AUTH)
                                       for _ in range(6)])
    assert len({job.id for job in submitted}) == 6
    miner = await Miner(channel, job_types=("echo",), name=f"group-{uuid.uuid4().hex[:8]}").register()
    assignments = await miner.fetch(max_jobs=6)
    assert sorted(a.job.id for a in assignments) == sorted(job.id for job in submitted)
    bad = miner.result(assignments[2])
    bad.lease_token = "0" * 32
    requests = [miner.result(a) for a in assignments]
    requests[2] = bad
    outcomes = await asyncio.gather(*[miner.stub.SubmitResult(r, metadata=miner.metadata) for r in requests],
                                    return_exceptions=True)
    assert isinstance(outcomes[2], grpc.aio.AioRpcError)
    assert outcomes[2].code() == grpc.StatusCode.FAILED_PRECONDITION
    for i in (0, 1, 3, 4, 5):
        assert outcomes[i].job.status == "completed" and outcomes[i].receipt.job_id == assignments[i].job.id
    refused = await jobs.GetJobStatus(job_pb.GetJobStatusRequest(job_id=assignments[2].job.id), metadata=AUTH)
    assert refused.status == "running"
    assert (await miner.complete(assignments[2])).job.status == "completed"  # its real lease still counts


async def test_concurrent_submissions_each_get_their_own_job(pool, channel):
    calls = 8
    jobs = job_service_pb2_grpc.JobServiceStub(channel)
    keys = [f"group-{uuid.uuid4().hex}" for _ in range(calls)]
    first = await asyncio.gather(*[jobs.SubmitJob(job_pb.SubmitJobRequest(job_type="echo", idempotency_key=k),
                                                  metadata=AUTH) for k in keys])
    assert [job.idempotency_key for job in first] == keys and len({job.id for job in first}) == calls
    again = await asyncio.gather(*[jobs.SubmitJob(job_pb.SubmitJobRequest(job_type="echo", idempotency_key=k),
                                                  metadata=AUTH) for k in keys])
    assert [job.id for job in again] == [job.id for job in first]  # the same keys, the same jobs
    refused = await asyncio.gather(
        jobs.SubmitJob(job_pb.SubmitJobRequest(job_type="no-such-type"), metadata=AUTH),
        jobs.SubmitJob(job_pb.SubmitJobRequest(job_type="echo"), metadata=AUTH), return_exceptions=True)
    assert isinstance(refused[0], grpc.aio.AioRpcError) and refused[0].code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused[1].status == "pending"
    key = f"group-{uuid.uuid4().hex}"  # the same new key twice at once: one job, created once
    twins = await asyncio.gather(*[jobs.SubmitJob(job_pb.SubmitJobRequest(job_type="echo", idempotency_key=key),
                                                  metadata=AUTH) for _ in range(2)])
    assert twins[0].id == twins[1].id


async def test_submissions_results_and_claims_share_one_transaction(pool, channel):
    """The dispatch path's one group (market/dispatch_group.py): a submission, a result and a
    claim at once are one transaction, in which the claim sees the job submitted before it and
    the result's job is completed with its receipt."""
    await cancel_open_jobs(pool.database)
    miner = await Miner(channel, job_types=("echo",), name=f"group-{uuid.uuid4().hex[:8]}").register()
    async with pool.database.transaction() as session:
        who = await authenticate(session, miner.token, miner.id)
    group = DispatchGroup(pool.database, pool.market, ReceiptSigner(nacl.signing.SigningKey.generate()), pool.events)
    ((submitted, _),), leased = await asyncio.gather(group.submit("group-client", [JobSpec("echo", {})], False),
                                                    group.claim(miner.id, 1))
    assert group.groups == 1 and [job.id for job in leased] == [submitted.id]
    job = leased[0]
    result = ResultSpec(job.id, job.lease_token, "completed", {"ok": True}, "", 0, 2,
                        miner.sign(result_digest({"ok": True})))
    ((next_job, _),), (outcome,), leased = await asyncio.gather(
        group.submit("group-client", [JobSpec("echo", {})], False), group.results(who, [result]),
        group.claim(miner.id, 1))
    assert group.groups == 2
    assert outcome.error is None and outcome.job.status == "completed" and outcome.receipt.units == 2
    assert [job.id for job in leased] == [next_job.id]


async def test_claims_in_one_group_are_leased_as_one_claim_after_another(pool, channel):
    """Claims that share their filters share one pick (market/dispatch.py claim_many): each
    still gets what leasing them one after another gives (the first claim the first jobs in
    offer order), its own lease token, no job twice; a claim with other filters gets its own."""
    await cancel_open_jobs(pool.database)
    first, second = [await Miner(channel, job_types=("echo",), name=f"group-{uuid.uuid4().hex[:8]}").register()
                     for _ in range(2)]
    embedder = await Miner(channel, job_types=("embedding",), name=f"group-{uuid.uuid4().hex[:8]}").register()
    group = DispatchGroup(pool.database, pool.market, ReceiptSigner(nacl.signing.SigningKey.generate()), pool.events)
    submitted = [job for job, _ in await group.submit("group-client", [
        JobSpec("echo", {}, priority=p) for p in (1, 9, 5, 3, 7)] + [JobSpec("embedding", {})], True)]
    leases = await asyncio.gather(group.claim(first.id, 2), group.claim(second.id, 1), group.claim(embedder.id, 3),
                                  group.claim(first.id, 1))
    assert group.groups == 2
    by_priority = {job.priority: job.id for job in submitted if job.job_type == "echo"}
    assert [[job.id for job in jobs] for jobs in leases] == [
        [by_priority[9], by_priority[7]], [by_priority[5]], [submitted[5].id], [by_priority[3]]]
    tokens = [{job.lease_token for job in jobs} for jobs in leases]
    assert all(len(t) == 1 for t in tokens) and len(set.union(*tokens)) == 4
    async with pool.database.transaction() as session:
        stored = {job.id: job for job in await session.scalars(select(Job).where(Job.id.in_([j.id for j in submitted])))}
    for jobs, miner in zip(leases, (first, second, embedder, first)):
        for job in jobs:
            row = stored[job.id]
            assert (row.status, row.attempts, row.lease_worker_id, row.lease_token) == (
                "running", 1, miner.worker_id, job.lease_token)
    assert stored[by_priority[1]].status == "pending"
