"""Proof under faults, on PostgreSQL, with real server processes: a server killed with SIGKILL
in the middle of load, PostgreSQL restarted in the middle of load, a miner vanishing while it
holds leases. Clients submit jobs with idempotency keys and miners sign their results; both
send a call that answers UNAVAILABLE (a dead server, a database outage) again, unchanged, to
the other server, as a gRPC client with two endpoints would. After each fault: every
acknowledged job exists once and completed once (so none is left running past its lease), each
has one receipt, the ledger sums to zero and its charges equal the receipts. `pytest -s` prints
each run's counts.

The database is a PostgreSQL cluster of this file's own (initdb into a temporary directory, its
own port), so stopping it touches neither the shared cluster nor other tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter, defaultdict

import aiohttp
import grpc
import pytest
from computepool.v1 import job_service_pb2 as job_pb
from computepool.v1 import job_service_pb2_grpc, worker_service_pb2, worker_service_pb2_grpc
from computepool.v1 import miner_service_pb2 as miner_pb
from computepool.v1 import miner_service_pb2_grpc
from coordinator.storage import migrate
from coordinator.app import build_server
from coordinator.storage.database import sync_url
from devtools.launch import server_env, start_server_process
from coordinator.storage.models import Job, LedgerEntry, Receipt
from sqlalchemy import create_engine, func, select

from tests.support.envoy import Envoy
from tests.support.miner import Miner
from tests.support.ports import free_port
from tests.support.postgres import create_database, drop_database
from tests.support.rpc_errors import error_details, retry_delay_s
from tests.support.server import API_KEY, AUTH, make_settings

JOBS, CLIENTS, MINERS = 300, 4, 6
# Leases, heartbeat timeout and reaping in seconds, not the production half-minutes, so a lost
# lease comes back within the run. Many attempts: a job re-run after a fault must not fail.
SERVER_SETTINGS = dict(LEASE_SECONDS="2", HEARTBEAT_TIMEOUT="2", REAPER_INTERVAL_SECONDS="0.2",
                       HEARTBEAT_FLUSH_SECONDS="0.1", JOB_RETRY_BACKOFF_SECONDS="0", JOB_MAX_ATTEMPTS="50",
                       STATS_POLL_INTERVAL_S="3600", SHUTDOWN_GRACE_S="1")
# Reconnect to a restarted server within a fraction of a second (gRPC's default backoff starts at 1 s).
CHANNEL_OPTIONS = (("grpc.initial_reconnect_backoff_ms", 100), ("grpc.min_reconnect_backoff_ms", 100),
                   ("grpc.max_reconnect_backoff_ms", 500))
RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
CALL_TIMEOUT_S, RETRY_PAUSE_S, CLIENT_PAUSE_S, HEARTBEAT_EVERY_S = 10.0, 0.1, 0.02, 0.3
OUTAGE_S = 3.0
RUN_LIMIT_S = 120.0
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
    name, url = create_database(private_postgres.url)
    migrate.upgrade(url)
    yield url
    drop_database(name, private_postgres.url)


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


async def test_an_outage_longer_than_the_heartbeat_timeout_does_not_take_the_fleet_offline(private_postgres,
                                                                                          database):
    """Miners cannot heartbeat while the database is down: silence is counted from the end of the
    outage, not across it, so the first reaper round after it marks nobody offline."""
    server = build_server(make_settings(database, heartbeat_timeout_s=1.0, reaper_interval_s=0.1,
                                        heartbeat_flush_s=0.05, stats_poll_interval_s=3600.0))
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}")
    workers = worker_service_pb2_grpc.WorkerServiceStub(channel)

    async def status_of(miner: Miner) -> str:
        request = worker_service_pb2.GetWorkerRequest(worker_id=miner.worker_id)
        return (await workers.GetWorker(request, metadata=AUTH)).latest_status

    try:
        miner = await Miner(channel, job_types=("echo",)).register()
        await miner.heartbeat()
        await asyncio.to_thread(private_postgres.stop)
        try:
            await asyncio.sleep(1.5)  # longer than the heartbeat timeout
        finally:
            await asyncio.to_thread(private_postgres.start)
        while True:  # the first call that the database answers again
            try:
                assert await status_of(miner) == "healthy"
                break
            except grpc.aio.AioRpcError as error:
                assert error.code() == grpc.StatusCode.UNAVAILABLE
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # reaper rounds after the outage, within the timeout since its end
        assert await status_of(miner) == "healthy"
        await asyncio.sleep(1.0)  # now silent for the timeout since the outage ended
        assert await status_of(miner) == "offline"
    finally:
        await channel.close()
        await server.stop(0)


class Servers:
    """Two server processes on one database, and one channel to each that outlives restarts."""

    def __init__(self, database_url: str):
        self.env = server_env(DATABASE_URL=database_url, API_KEYS=API_KEY, SECRET_KEY="faults", **SERVER_SETTINGS)
        self.processes: list[asyncio.subprocess.Process] = [None, None]
        self.ports = [0, 0]
        self.output = [bytearray(), bytearray()]  # everything each server printed after it started
        self._drains: list[asyncio.Task] = []

    async def start(self) -> Servers:
        for index in range(2):
            await self.restart(index)
        self.channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=CHANNEL_OPTIONS) for port in self.ports]
        return self

    async def restart(self, index: int) -> None:
        """Starts server `index`, on its earlier port if it had one (the clients' address for it)."""
        process, self.ports[index] = await start_server_process(
            {**self.env, "GRPC_PORT": str(self.ports[index])}, drain_output=False)
        self.processes[index] = process
        self._drains.append(asyncio.create_task(self._drain(process, self.output[index])))

    @staticmethod
    async def _drain(process: asyncio.subprocess.Process, sink: bytearray) -> None:
        while chunk := await process.stdout.read(1 << 16):
            sink += chunk

    async def kill(self, index: int) -> None:
        self.processes[index].send_signal(signal.SIGKILL)
        await self.processes[index].wait()

    def logged(self, index: int, text: str) -> int:
        return self.output[index].decode(errors="replace").count(text)

    async def stop(self) -> None:
        for channel in getattr(self, "channels", []):
            await channel.close()
        for process in self.processes:
            if process is not None and process.returncode is None:
                process.terminate()
                await process.wait()


class Load:
    """CLIENTS clients submitting JOBS jobs with idempotency keys and miners completing them,
    through two servers. A call that answers UNAVAILABLE or times out is sent again, unchanged,
    to the other server; any other error ends the run (an INTERNAL would)."""

    def __init__(self, servers: Servers):
        self.servers = servers
        self.job_stubs = [job_service_pb2_grpc.JobServiceStub(c) for c in servers.channels]
        self.miner_stubs = [miner_service_pb2_grpc.MinerServiceStub(c) for c in servers.channels]
        self.acknowledged: dict[str, str] = {}  # idempotency key -> the job id the client was given
        self.receipts: dict[str, set[str]] = defaultdict(set)  # job -> receipt ids miners were answered
        self.refused: set[tuple[str, str, int]] = set()  # (job, miner, attempt) whose result was refused
        self.finished: set[str] = set()  # jobs a miner was answered a receipt for, or told are finished
        self.held: dict[str, set[str]] = defaultdict(set)  # miner -> jobs it works on now
        self.completed_at: dict[str, float] = {}
        self.progress: list[float] = []  # when a job was acknowledged or a result stored
        self.answers = Counter()  # calls answered, by server
        self.counts = Counter()
        self.done = asyncio.Event()

    async def on_any_server(self, call, server: int):
        """call(server), and again on the other server while it answers UNAVAILABLE or times out."""
        while True:
            try:
                answer = await call(server)
                self.answers[server] += 1
                return answer
            except grpc.aio.AioRpcError as error:
                if error.code() not in RETRYABLE:
                    raise
                self.counts["retries"] += 1
                self.counts[f"{error.code().name} {error_details(error)[1] or '(server unreachable)'}"] += 1
                server = 1 - server
                await asyncio.sleep(RETRY_PAUSE_S)

    def progressed(self) -> None:
        self.progress.append(time.monotonic())

    def first_progress_after(self, moment: float) -> float:
        return round(min(t for t in self.progress if t > moment) - moment, 2)

    async def client(self, number: int) -> None:
        for n in range(JOBS // CLIENTS):
            request = job_pb.SubmitJobRequest(job_type="echo", idempotency_key=f"client{number}-job{n}")
            job = await self.on_any_server(
                lambda s: self.job_stubs[s].SubmitJob(request, metadata=AUTH, timeout=CALL_TIMEOUT_S), n % 2)
            self.acknowledged[request.idempotency_key] = job.id
            self.progressed()
            await asyncio.sleep(CLIENT_PAUSE_S)

    async def mine(self, miner: Miner, server: int) -> None:
        while not self.done.is_set():
            assignments = await self.on_any_server(
                lambda s: miner.via(self.miner_stubs[s]).fetch(max_jobs=8, wait_s=0.2), server)
            for assignment in assignments:
                self.held[miner.id].add(assignment.job.id)
                await self.submit(miner, assignment, server)
                self.held[miner.id].discard(assignment.job.id)

    async def submit(self, miner: Miner, assignment: miner_pb.JobAssignment, server: int) -> None:
        request = miner.result(assignment, {"echo": assignment.job.id}, units=1)
        sent_at = []  # wall-clock time of each send, to compare with the receipt's

        async def send(s: int) -> miner_pb.SubmitResultResponse:
            sent_at.append(time.time())
            return await self.miner_stubs[s].SubmitResult(request, metadata=miner.metadata, timeout=CALL_TIMEOUT_S)

        try:
            response = await self.on_any_server(send, server)
        except grpc.aio.AioRpcError as error:
            if error_details(error)[1] not in ("LEASE_LOST", "LEASE_EXPIRED", "JOB_ALREADY_TERMINAL"):
                raise
            self.refused.add((assignment.job.id, miner.id, assignment.attempt))
            self.counts[f"results refused ({error_details(error)[1]})"] += 1
            if error_details(error)[1] == "JOB_ALREADY_TERMINAL":
                self.finished.add(assignment.job.id)
            return
        self.counts["results sent more than once"] += len(sent_at) > 1
        # Stored before the last send: an earlier send was stored and its reply lost, and the
        # retry was answered with the stored receipt.
        stored_at = response.receipt.created_at.ToNanoseconds() / 1e9
        self.counts["results stored whose reply was lost"] += stored_at < sent_at[-1]
        self.receipts[assignment.job.id].add(response.receipt.id)
        self.finished.add(assignment.job.id)
        self.completed_at.setdefault(assignment.job.id, time.monotonic())
        self.progressed()

    async def beat(self, miner: Miner, server: int) -> None:
        """Heartbeats listing the jobs in hand; a refused one is not retried (the next one is)."""
        while not self.done.is_set():
            try:
                await miner.via(self.miner_stubs[server]).heartbeat(running=sorted(self.held[miner.id]))
            except grpc.aio.AioRpcError as error:
                if error.code() not in RETRYABLE:
                    raise
                self.counts["heartbeats not acked"] += 1
                server = 1 - server
            await asyncio.sleep(HEARTBEAT_EVERY_S)

    async def run(self, fault, *, fault_after: int, miners_after_fault: bool = False) -> float:
        """Runs the load, awaits fault() once `fault_after` jobs are acknowledged, and returns
        (the run's seconds) when every acknowledged job is finished as far as miners were told."""
        started = time.monotonic()
        miners = [await Miner(self.servers.channels[i % 2], job_types=("echo",), name=f"miner{i}",
                              max_concurrent_jobs=16).register() for i in range(MINERS)]
        async with asyncio.TaskGroup() as group:  # a task that fails (an unexpected code) ends the run

            def start_miners() -> None:
                for i, miner in enumerate(miners):
                    group.create_task(self.mine(miner, i % 2))
                    group.create_task(self.beat(miner, i % 2))

            clients = [group.create_task(self.client(number)) for number in range(CLIENTS)]
            if not miners_after_fault:
                start_miners()
            await until(lambda: len(self.acknowledged) >= fault_after)
            await fault()
            if miners_after_fault:
                start_miners()
            await asyncio.wait(clients)
            await until(lambda: set(self.acknowledged.values()) <= self.finished)
            self.done.set()
        return round(time.monotonic() - started, 1)


async def until(condition, every_s: float = 0.02) -> None:
    while not condition():
        await asyncio.sleep(every_s)


def check_invariants(database_url: str, load: Load) -> dict:
    """The promises that must survive any fault; returns the run's figures from the database."""
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as db:
            jobs = db.execute(select(Job.idempotency_key, Job.id, Job.status, Job.attempts)).all()
            receipts = db.execute(select(Receipt.job_id, Receipt.id, Receipt.miner_id, Receipt.attempt)).all()
            settled = db.execute(select(LedgerEntry.job_id, func.count()).group_by(LedgerEntry.job_id)).all()
            ledger_sum = db.execute(select(func.sum(LedgerEntry.amount))).scalar_one()
            charges = db.execute(select(func.count(), func.sum(LedgerEntry.amount))
                                 .where(LedgerEntry.kind == "charge")).one()
            receipt_charges = db.execute(select(func.sum(Receipt.charge_nanoton))).scalar_one()
    finally:
        engine.dispose()
    # Every acknowledged job exists exactly once, under the id its client was given, and no other.
    assert sorted(key for key, *_ in jobs) == sorted(load.acknowledged)
    assert {key: job_id for key, job_id, *_ in jobs} == load.acknowledged
    # Each completed (none failed, none left running past its lease) with exactly one receipt,
    # and a miner was only ever answered that receipt.
    assert Counter(status for *_, status, _ in jobs) == {"completed": len(load.acknowledged)}
    assert sorted(job_id for job_id, *_ in receipts) == sorted(load.acknowledged.values())
    assert dict(load.receipts) == {job_id: {receipt_id} for job_id, receipt_id, *_ in receipts}
    # No miner was refused a result that was stored for it (its own lease, its own attempt).
    assert not {(job_id, miner_id, attempt) for job_id, _, miner_id, attempt in receipts} & load.refused
    # Each job settled once (charge, earning, fee); the ledger balances; charges equal receipts.
    assert Counter(count for _, count in settled) == {3: len(receipts)}
    assert ledger_sum == 0 and charges[0] == len(receipts) and -charges[1] == receipt_charges
    return {"jobs acknowledged": len(load.acknowledged), "completed": len(jobs), "receipts": len(receipts),
            "jobs re-run (attempts > 1)": sum(attempts > 1 for *_, attempts in jobs)}


def report(fault: str, figures: dict) -> None:
    print(f"\n{fault}: {json.dumps(figures)}")


async def test_a_server_killed_with_sigkill_mid_load(database):
    servers = await Servers(database).start()
    load = Load(servers)
    facts = {}

    async def kill_and_restart() -> None:
        facts["killed_at"] = time.monotonic()
        await servers.kill(0)
        await asyncio.sleep(1.0)  # down for a second, as under a supervisor that restarts it
        await servers.restart(0)
        facts["restarted_after_s"] = round(time.monotonic() - facts["killed_at"], 2)
        facts["answers_before_restart"] = load.answers[0]

    try:
        seconds = await asyncio.wait_for(load.run(kill_and_restart, fault_after=JOBS // 3), RUN_LIMIT_S)
    finally:
        await servers.stop()
    figures = check_invariants(database, load)
    assert load.counts["UNAVAILABLE (server unreachable)"] > 0  # the kill was felt, and failed over
    assert load.answers[0] > facts["answers_before_restart"]  # the restarted server served again
    report("SIGKILL of a server", {**figures, **load.counts, "run_s": seconds,
                                   "first_progress_after_kill_s": load.first_progress_after(facts["killed_at"]),
                                   "restarted_after_s": facts["restarted_after_s"]})


async def test_postgres_restarted_mid_load(database, private_postgres):
    servers = await Servers(database).start()
    load = Load(servers)
    facts = {}

    async def restart_postgres() -> None:
        facts["stopped_at"] = time.monotonic()
        await asyncio.to_thread(private_postgres.stop)
        await asyncio.sleep(OUTAGE_S)
        await asyncio.to_thread(private_postgres.start)
        facts["back_at"] = time.monotonic()

    try:
        seconds = await asyncio.wait_for(load.run(restart_postgres, fault_after=JOBS // 3), RUN_LIMIT_S)
        assert [process.returncode for process in servers.processes] == [None, None]  # they kept running
    finally:
        if "stopped_at" in facts and "back_at" not in facts:  # the run failed during the outage
            private_postgres.start()
        await servers.stop()
    figures = check_invariants(database, load)
    # Callers saw the retryable UNAVAILABLE (never INTERNAL: it would have ended the run), and
    # each server logged the outage once when it began and once when it ended, with no traceback.
    assert load.counts["UNAVAILABLE DATABASE_UNAVAILABLE"] > 0
    for index in range(2):
        assert servers.logged(index, "database unavailable") == 1
        assert servers.logged(index, "database available again") == 1
        assert servers.logged(index, "Traceback") == 0
    report("PostgreSQL restarted", {**figures, **load.counts, "run_s": seconds,
                                    "outage_s": round(facts["back_at"] - facts["stopped_at"], 2),
                                    "first_progress_after_restart_s": load.first_progress_after(facts["back_at"])})


async def test_a_miner_vanishes_holding_leases(database):
    servers = await Servers(database).start()
    load = Load(servers)
    facts = {}
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{servers.ports[0]}")
    victim = await Miner(channel, job_types=("echo",), name="victim", max_concurrent_jobs=13).register()

    async def vanish() -> None:
        """The victim takes 13 leases over its heartbeat stream, then its process is gone: the
        stream and connection are cut, no result and no heartbeat ever come."""
        async def messages():
            yield miner_pb.StreamHeartbeatsRequest(miner_id=victim.id, heartbeat=miner_pb.Heartbeat(status="healthy"),
                                                   ready_for_jobs=13)
            await asyncio.Event().wait()

        stream = victim.stub.StreamHeartbeats(messages(), metadata=victim.metadata)
        held = set()
        while len(held) < 13:
            response = await stream.read()
            if response.WhichOneof("event") == "assignment":
                held.add(response.assignment.job.id)
        stream.cancel()
        await channel.close()
        facts.update(vanished_at=time.monotonic(), held=held)

    try:
        seconds = await asyncio.wait_for(load.run(vanish, fault_after=40, miners_after_fault=True), RUN_LIMIT_S)
    finally:
        await channel.close()
        await servers.stop()
    figures = check_invariants(database, load)
    engine = create_engine(sync_url(database))
    with engine.connect() as db:
        rerun = db.execute(select(Receipt.miner_id, Receipt.attempt).where(Receipt.job_id.in_(facts["held"]))).all()
    engine.dispose()
    assert len(rerun) == 13 and all(miner_id != victim.id and attempt >= 2 for miner_id, attempt in rerun)
    report("a miner vanished holding 13 leases", {
        **figures, **load.counts, "run_s": seconds,
        "its jobs all completed elsewhere after_s": round(max(load.completed_at[j] for j in facts["held"])
                                                         - facts["vanished_at"], 2)})
