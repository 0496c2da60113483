"""20 concurrent miners drain 2,000 jobs through two server processes sharing one PostgreSQL:
every job completed exactly once, never leased twice, and the ledger sums to the receipts."""

import asyncio

import grpc
import pytest
from computepool.v1 import job_service_pb2 as job_pb
from computepool.v1 import job_service_pb2_grpc
from coordinator.storage import migrate
from coordinator.storage.database import sync_url
from devtools.launch import server_env, start_server_process
from coordinator.storage.models import Job, LedgerEntry, Receipt
from sqlalchemy import create_engine, func, select

from tests.support.miner import Miner
from tests.support.postgres import create_database, drop_database
from tests.support.server import API_KEY, AUTH

JOBS, MINERS = 2000, 20


async def start_server(database_url: str) -> tuple[asyncio.subprocess.Process, int]:
    return await start_server_process(server_env(
        DATABASE_URL=database_url, API_KEYS=API_KEY, SECRET_KEY="shared-secret", LEASE_SECONDS="60",
        STATS_POLL_INTERVAL_S="3600"))


@pytest.fixture
def shared_postgres():
    name, url = create_database()
    migrate.upgrade(url)
    yield url
    drop_database(name)


async def test_two_processes_twenty_miners_two_thousand_jobs(shared_postgres):
    servers = [await start_server(shared_postgres) for _ in range(2)]
    channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for _, port in servers]
    refused: list[grpc.aio.AioRpcError] = []
    try:
        jobs = job_service_pb2_grpc.JobServiceStub(channels[0])
        submitted = set()
        for _ in range(JOBS // 1000):
            batch = job_pb.BatchSubmitJobsRequest(jobs=[job_pb.SubmitJobRequest(job_type="echo")] * 1000)
            submitted |= {job.id for job in (await jobs.BatchSubmitJobs(batch, metadata=AUTH)).jobs}
        miners = [await Miner(channels[i % 2], job_types=("echo",), name=f"m{i}").register() for i in range(MINERS)]
        completed: list[str] = []

        async def drain(miner: Miner) -> None:
            idle = 0
            while idle < 3:
                assignments = await miner.fetch(max_jobs=10, wait_s=0.2)
                idle = 0 if assignments else idle + 1
                for assignment in assignments:
                    try:
                        await miner.complete(assignment, {"ok": True}, units=1)
                        completed.append(assignment.job.id)
                    except grpc.aio.AioRpcError as error:
                        refused.append(error)

        await asyncio.wait_for(asyncio.gather(*[drain(m) for m in miners]), 120)
    finally:
        for channel in channels:
            await channel.close()
        for process, _ in servers:
            process.terminate()
            await process.wait()

    assert refused == []
    assert len(completed) == JOBS and set(completed) == submitted  # each completed once, none twice
    engine = create_engine(sync_url(shared_postgres))
    with engine.connect() as db:
        assert db.execute(select(func.count()).where(Job.status == "completed")).scalar_one() == JOBS
        assert db.execute(select(func.max(Job.attempts))).scalar_one() == 1  # never leased a second time
        assert db.execute(select(func.count(func.distinct(Receipt.job_id)))).scalar_one() == JOBS
        assert db.execute(select(func.count(Receipt.id))).scalar_one() == JOBS
        assert db.execute(select(func.sum(LedgerEntry.amount))).scalar_one() == 0
        charges = db.execute(select(func.sum(LedgerEntry.amount)).where(LedgerEntry.kind == "charge")).scalar_one()
        assert -charges == db.execute(select(func.sum(Receipt.charge_nanoton))).scalar_one() == JOBS
    engine.dispose()
