"""WatchJob over gRPC, on SQLite and PostgreSQL: a client follows its job without polling."""

import asyncio

import grpc
import pytest
from computepool.v1 import job_service_pb2 as job_pb
from computepool.v1 import job_service_pb2_grpc
from coordinator.errors import Reason, ResourceExhausted
from coordinator.market.jobs import JobChanges
from coordinator.storage.models import Job, JobStatus
from sqlalchemy import update

from tests.support.miner import Miner, cancel_open_jobs
from tests.support.rpc_errors import error_details
from tests.support.server import AUTH


@pytest.fixture(autouse=True)
async def empty_queue(pool):
    """Each test starts with no claimable job left over from another test."""
    await cancel_open_jobs(pool.database)


@pytest.fixture(scope="module")
def jobs(channel):
    return job_service_pb2_grpc.JobServiceStub(channel)


def watch(jobs, job_id: str):
    return jobs.WatchJob(job_pb.WatchJobRequest(job_id=job_id), metadata=AUTH)


async def test_a_watch_sends_each_change_in_order_and_ends_when_the_job_is_terminal(jobs, channel, pool):
    job = await jobs.SubmitJob(job_pb.SubmitJobRequest(job_type="echo"), metadata=AUTH)
    stream = watch(jobs, job.id)
    first = await stream.read()
    assert (first.id, first.status, first.attempts) == (job.id, "pending", 0)
    miner = await Miner(channel, job_types=("echo",)).register()
    assignment = await miner.lease(job.id)
    second = await stream.read()
    assert (second.status, second.attempts) == ("running", 1)
    await miner.heartbeat(running=[job.id])  # extends the lease: no message for that
    await miner.complete(assignment)
    third = await stream.read()
    assert (third.status, third.attempts) == ("completed", 1)
    assert await stream.read() is grpc.aio.EOF and await stream.code() == grpc.StatusCode.OK
    assert pool.job_changes.watched == 0


async def test_a_change_committed_by_another_process_reaches_the_watch(jobs, pool):
    job = await jobs.SubmitJob(job_pb.SubmitJobRequest(job_type="echo"), metadata=AUTH)
    stream = watch(jobs, job.id)
    assert (await stream.read()).status == "pending"
    # Written straight to the database, as another replica would: this process is not told.
    async with pool.database.transaction() as session:
        await session.execute(update(Job).where(Job.id == job.id).values(status=JobStatus.CANCELLED))
    assert (await asyncio.wait_for(stream.read(), 10)).status == "cancelled"
    assert await stream.read() is grpc.aio.EOF


async def test_a_cancelled_job_ends_its_watchers_and_a_terminal_job_is_sent_once(jobs):
    job = await jobs.SubmitJob(job_pb.SubmitJobRequest(job_type="echo"), metadata=AUTH)
    streams = [watch(jobs, job.id) for _ in range(3)]
    for stream in streams:
        assert (await stream.read()).status == "pending"
    await jobs.CancelJob(job_pb.CancelJobRequest(job_id=job.id), metadata=AUTH)
    for stream in streams:
        assert (await stream.read()).status == "cancelled" and await stream.read() is grpc.aio.EOF
    assert [message.status async for message in watch(jobs, job.id)] == ["cancelled"]


async def test_a_job_that_does_not_exist_is_not_found(jobs):
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await watch(jobs, "00000000-0000-0000-0000-000000000000").read()
    assert error_details(refused.value)[:2] == (grpc.StatusCode.NOT_FOUND, Reason.JOB_NOT_FOUND)


async def test_a_watcher_that_hangs_up_gives_its_place_back(jobs, pool):
    job = await jobs.SubmitJob(job_pb.SubmitJobRequest(job_type="echo"), metadata=AUTH)
    stream = watch(jobs, job.id)
    await stream.read()
    assert pool.job_changes.watched == 1
    stream.cancel()
    for _ in range(100):
        if pool.job_changes.watched == 0:
            break
        await asyncio.sleep(0.02)
    assert pool.job_changes.watched == 0


async def test_the_jobs_followed_at_once_are_bounded(pool):
    changes = JobChanges(pool.database, limit=1)
    async with changes.watching("a"), changes.watching("a"):  # watchers of one job share its place
        with pytest.raises(ResourceExhausted) as refused:
            async with changes.watching("b"):
                pass
        assert refused.value.reason == Reason.TOO_MANY_WATCHES and refused.value.retry_after_s >= 1
    async with changes.watching("b"):
        assert changes.watched == 1
    assert changes.watched == 0
