"""Proof under faults, on PostgreSQL: a database outage is UNAVAILABLE (retryable), never INTERNAL.

The database is a PostgreSQL cluster of this file's own (initdb into a temporary directory, its
own port), so stopping it touches neither the shared cluster nor other tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pathlib
import shutil
import subprocess
import tempfile

import aiohttp
import grpc
import pytest
from computepool.v1 import job_service_pb2 as job_pb
from computepool.v1 import job_service_pb2_grpc, worker_service_pb2, worker_service_pb2_grpc
from computepool.v1 import miner_service_pb2 as miner_pb
from conftest import API_KEY, AUTH, Envoy, _create_postgres_database, _drop_postgres_database, make_settings
from coordinator import migrate
from coordinator.app import build_server
from helpers import error_details, free_port, retry_delay_s
from market_helpers import Miner

PG_BIN = max(pathlib.Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name),
             default=pathlib.Path("/usr/lib/postgresql/15/bin"))


class PrivatePostgres:
    """A PostgreSQL cluster of this test file's own, on 127.0.0.1:<free port>, trust auth."""

    def __init__(self) -> None:
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="computepool-pg-"))
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        # PostgreSQL refuses to run as root: as root, its files and processes belong to postgres.
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_owner:
            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", "data", "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_owner, str(PG_BIN / tool), *args], cwd=self.dir, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)

    def start(self) -> None:
        self._run("pg_ctl", "-D", "data", "-l", "postgres.log", "-w", "start", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off")

    def stop(self, mode: str = "immediate") -> None:
        """`immediate` is a crash: every connection is cut, in-flight transactions are lost."""
        self._run("pg_ctl", "-D", "data", "-m", mode, "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("fast")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def private_postgres():
    cluster = PrivatePostgres()
    yield cluster
    cluster.remove()


@pytest.fixture
def database(private_postgres):
    name, url = _create_postgres_database(private_postgres.url)
    migrate.upgrade(url)
    yield url
    _drop_postgres_database(name, private_postgres.url)


async def one_heartbeat(miner: Miner):
    yield miner_pb.StreamHeartbeatsRequest(miner_id=miner.id, heartbeat=miner_pb.Heartbeat(status="healthy"))


@pytest.mark.envoy
async def test_a_database_outage_answers_unavailable_and_is_logged_once(private_postgres, database, tmp_path,
                                                                         caplog):
    server = build_server(make_settings(database, reaper_interval_s=0.1, heartbeat_flush_s=0.05,
                                        stats_poll_interval_s=3600.0))
    await server.start()
    envoy = Envoy(tmp_path, [server.grpc_port], server.metrics_port)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}")
    try:
        jobs = job_service_pb2_grpc.JobServiceStub(channel)
        workers = worker_service_pb2_grpc.WorkerServiceStub(channel)
        miner = await Miner(channel, job_types=("echo",)).register()
        await miner.heartbeat()
        caplog.set_level(logging.INFO)
        await asyncio.to_thread(private_postgres.stop)
        try:
            calls = [lambda: jobs.SubmitJob(job_pb.SubmitJobRequest(job_type="echo"), metadata=AUTH),
                     lambda: workers.GetWorker(worker_service_pb2.GetWorkerRequest(worker_id=miner.worker_id),
                                               metadata=AUTH),
                     miner.fetch, miner.heartbeat]
            for call in calls * 5:
                with pytest.raises(grpc.aio.AioRpcError) as raised:
                    await call()
                assert error_details(raised.value)[:2] == (grpc.StatusCode.UNAVAILABLE, "DATABASE_UNAVAILABLE")
                assert retry_delay_s(raised.value) == 1
            # A streamed heartbeat is not acked: its write failed, so the stream ends UNAVAILABLE.
            events = []
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                async for response in miner.stub.StreamHeartbeats(one_heartbeat(miner), metadata=miner.metadata):
                    events.append(response.WhichOneof("event"))
            assert events == [] and raised.value.code() == grpc.StatusCode.UNAVAILABLE
            async with aiohttp.ClientSession(headers={"X-Api-Key": API_KEY}) as http:
                async with http.get(f"{envoy.url}/api/v1/workers/{miner.worker_id}") as response:
                    body = await response.json()
                    assert (response.status, response.headers.get("Retry-After")) == (503, "1")
                async with http.get(f"http://127.0.0.1:{server.metrics_port}/metrics") as response:
                    assert response.status == 200  # the last figures, until the database is back
            assert body["error"]["code"] == "DATABASE_UNAVAILABLE" and body["detail"]
            await asyncio.sleep(0.5)  # reaper rounds and heartbeat flushes fail meanwhile
        finally:
            await asyncio.to_thread(private_postgres.start)
        # Back by itself: dead pooled connections are replaced, nothing was restarted.
        assert (await jobs.SubmitJob(job_pb.SubmitJobRequest(job_type="echo"), metadata=AUTH)).status == "pending"
        assert (await miner.heartbeat()).HasField("received_at")
        assert [task for task in server._tasks if task.done()] == []  # every background duty still runs
    finally:
        await channel.close()
        envoy.stop()
        await server.stop(0)
    ours = [record for record in caplog.records if record.name.startswith("coordinator")]
    messages = [record.getMessage() for record in ours]
    assert sum(m.startswith("database unavailable") for m in messages) == 1, messages
    assert sum(m.startswith("database available again") for m in messages) == 1, messages
    assert [record for record in ours if record.exc_info] == []  # no traceback for an outage
