"""computepool-miner as real processes against a real coordinator process (PostgreSQL): doctor
and registration, three agents draining jobs of two types through the echo and openai
executors, SIGTERM and the drain directive with jobs running, a failing executor."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import sys
import time
import tomllib
from collections import Counter

import grpc
import pytest
from computepool import AsyncClient, verify_receipt
from computepool.v1 import job_service_pb2 as job_pb
from coordinator.storage import migrate
from devtools.launch import server_env, start_server_process

from tests.support.envoy import Envoy
from tests.support.miner_agent import OpenAIStandIn, log_lines, miner_process, run_miner, write_config
from tests.support.postgres import create_database, drop_database
from tests.support.ports import free_port
from tests.support.server import API_KEY

class Coordinator:
    """A coordinator process on a PostgreSQL database of its own, on a fixed port so that it can be
    killed and started again where the agents expect it."""

    def __init__(self, database_url: str, **settings: str):
        self.env = server_env(DATABASE_URL=database_url, API_KEYS=API_KEY, SECRET_KEY="miner-agent-tests",
                              LEASE_SECONDS="5", STATS_POLL_INTERVAL_S="3600", GRPC_PORT=str(free_port()),
                              METRICS_PORT=str(free_port()), **settings)
        self.target = f"127.0.0.1:{self.env['GRPC_PORT']}"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process, _ = await start_server_process(self.env)

    async def kill(self) -> None:
        self.process.kill()
        await self.process.wait()


@pytest.fixture
async def server(request):
    """The coordinator process; a test marked `coordinator_settings(NAME="value")` gets those settings."""
    name, url = create_database()
    migrate.upgrade(url)
    marker = request.node.get_closest_marker("coordinator_settings")
    coordinator = Coordinator(url, **(marker.kwargs if marker else {}))
    await coordinator.start()
    try:
        yield coordinator
    finally:
        if coordinator.process.returncode is None:
            coordinator.process.terminate()
            await coordinator.process.wait()
        drop_database(name)


@pytest.fixture
def coordinator(server) -> str:
    """The gRPC target of the coordinator process."""
    return server.target


@pytest.fixture
async def openai_server():
    server = await OpenAIStandIn().start()
    yield server
    await server.stop()


async def submit(target: str, job_type: str, count: int, parameters=None) -> list[str]:
    async with AsyncClient(target, api_key=API_KEY) as client:
        specs = [job_pb.SubmitJobRequest(job_type=job_type) for _ in range(count)]
        ids = []
        for i, spec in enumerate(specs):
            spec.parameters.update(parameters(i) if parameters else {"n": i})
        for start in range(0, count, 1000):
            response = await client.channel.unary_unary(
                "/computepool.v1.JobService/BatchSubmitJobs",
                request_serializer=job_pb.BatchSubmitJobsRequest.SerializeToString,
                response_deserializer=job_pb.BatchSubmitJobsResponse.FromString)(
                job_pb.BatchSubmitJobsRequest(jobs=specs[start:start + 1000]), metadata=client.metadata)
            ids += [job.id for job in response.jobs]
        return ids


async def until_terminal(target: str, ids: list[str], timeout_s: float) -> dict[str, job_pb.Job]:
    async with AsyncClient(target, api_key=API_KEY) as client:
        deadline = time.monotonic() + timeout_s
        while True:
            jobs = {job_id: await client.jobs.get(job_id) for job_id in ids}
            if all(job.status in ("completed", "failed") for job in jobs.values()) or time.monotonic() > deadline:
                return jobs
            await asyncio.sleep(0.5)


async def test_doctor_registers_once_keeps_its_state_private_and_names_what_is_wrong(coordinator, openai_server,
                                                                                     tmp_path):
    config = write_config(tmp_path / "a", coordinator, jobs={
        "echo": {"executor": "echo"},
        "llm_inference": {"executor": "openai", "base_url": openai_server.url, "model": "stand-in"}})
    code, out, err = await run_miner(config)
    assert code == 0, err
    assert "ok    coordinator" in out and "ok    executor openai for llm_inference" in out
    assert "note  GPU" in out  # no GPU here: said so, not faked
    state = tmp_path / "a/state"
    for file in ("ed25519.key", "identity.json"):
        assert stat.S_IMODE((state / file).stat().st_mode) == 0o600
    first = json.loads((state / "identity.json").read_text())
    key = (state / "ed25519.key").read_bytes()
    assert [line["message"] for line in log_lines(err)] == ["registered"]

    code, _, err = await run_miner(config)  # the second start reuses what the first kept
    assert code == 0 and json.loads((state / "identity.json").read_text()) == first
    assert (state / "ed25519.key").read_bytes() == key and "registered" not in err

    broken = write_config(tmp_path / "b", coordinator, jobs={
        "llm_inference": {"executor": "openai", "base_url": f"http://127.0.0.1:{free_port()}"},
        "embedding": {"executor": "command", "argv": ["/no/such/program"]}})
    code, out, _ = await run_miner(broken)
    assert code == 1
    assert "FAIL  executor openai for llm_inference: http://127.0.0.1:" in out and "unreachable" in out
    assert "FAIL  executor command for embedding: /no/such/program: not found" in out

    code, _, err = await run_miner(write_config(tmp_path / "c", coordinator, api_key="not-a-key"))
    assert code == 1 and "could not register: API_KEY_INVALID" in err
    code, _, err = await run_miner(write_config(tmp_path / "d", coordinator, max_concurrent_jobs=0))
    assert code == 2 and "max_concurrent_jobs: must be at least 1" in err

    # the credential revoked or the server's database reset: doctor says how to register again
    identity = json.loads((state / "identity.json").read_text())
    (state / "identity.json").write_text(json.dumps({**identity, "miner_token": "forged"}))
    code, out, _ = await run_miner(config)
    assert code == 1 and "FAIL  coordinator" in out and "MINER_TOKEN_INVALID" in out and "to register again" in out


async def metrics_of(port: int) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    page = (await reader.read()).decode()
    writer.close()
    return page


async def until_metric(port: int, line: str, timeout_s: float) -> str:
    """The agent's /metrics page once it shows `line` (the agent may not serve it yet at first)."""
    deadline, page = time.monotonic() + timeout_s, ""
    while line not in page:
        assert time.monotonic() < deadline, page
        await asyncio.sleep(0.1)
        try:
            page = await metrics_of(port)
        except ConnectionRefusedError:
            pass
    return page


def completed_count(page: str) -> int:
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in page.splitlines()
               if line.startswith("computepool_miner_jobs_total{") and 'outcome="completed"' in line)


@pytest.mark.envoy
async def test_three_agents_drain_two_job_types_each_job_once_with_a_receipt_that_verifies(server, openai_server,
                                                                                          tmp_path):
    coordinator = server.target
    (tmp_path / "envoy").mkdir()
    envoy = Envoy(tmp_path / "envoy", [int(server.env["GRPC_PORT"])], int(server.env["METRICS_PORT"]))
    echo_ids = await submit(coordinator, "echo", 250)
    llm_ids = await submit(coordinator, "llm_inference", 250,
                           lambda i: {"messages": [{"role": "user", "content": f"question {i}"}]})
    # one agent reaches the coordinator through Envoy (its stream too), the others directly
    targets = [f"127.0.0.1:{envoy.port}", coordinator, coordinator]
    configs = [write_config(tmp_path / f"agent{i}", target, name=f"rig{i}", max_concurrent_jobs=8, jobs={
        "echo": {"executor": "echo"},
        "llm_inference": {"executor": "openai", "base_url": openai_server.url, "model": "stand-in"}})
        for i, target in enumerate(targets)]
    agents = [await miner_process(config) for config in configs]
    try:
        jobs = await until_terminal(coordinator, echo_ids + llm_ids, 120)
        assert Counter(job.status for job in jobs.values()) == {"completed": 500}
        assert all(job.attempts == 1 for job in jobs.values())  # no lease ran out, none was run twice
        pages = [await metrics_of(tomllib.loads(c.read_text())["metrics_port"]) for c in configs]
    finally:
        for agent in agents:
            agent.send_signal(signal.SIGTERM)
        outputs = [await asyncio.wait_for(agent.communicate(), 30) for agent in agents]
        envoy.stop()
    assert [agent.returncode for agent in agents] == [0, 0, 0], [err.decode()[-2000:] for _, err in outputs]
    per_agent = [completed_count(page) for page in pages]
    assert sum(per_agent) == 500 and all(count > 0 for count in per_agent), per_agent
    # the work came and went over the heartbeat stream: none of them lost it and fell back to unary calls
    assert all("computepool_miner_reconnects_total 0" in page for page in pages)
    assert all('computepool_miner_results_returned_total{via="call"} 0' in page for page in pages)

    async with AsyncClient(coordinator, api_key=API_KEY) as client:
        key = (await client.receipts.public_key()).public_key
        by_miner = Counter()
        for job_id in echo_ids + llm_ids:
            receipts = await client.jobs.receipts(job_id)
            assert len(receipts) == 1
            assert verify_receipt(receipts[0], key).valid, job_id
            by_miner[receipts[0].miner_id] += 1
    identities = [json.loads((c.parent / "state/identity.json").read_text())["miner_id"] for c in configs]
    assert sorted(by_miner.values()) == sorted(per_agent) and set(by_miner) == set(identities)
    llm_receipt = receipts[0]  # the last one is an llm_inference job: its units are the stand-in's tokens
    assert llm_receipt.units == llm_receipt.result["usage"]["total_tokens"] > 0
    assert len(openai_server.requests) == 250 and openai_server.requests[0][1]["model"] == "stand-in"


SLOW_JOB = ("import json, sys, time; p = json.load(sys.stdin); time.sleep(p['sleep']); "
            "print(json.dumps({'slept': p['sleep']}))")


async def until_running(target: str, ids: list[str]) -> None:
    async with AsyncClient(target, api_key=API_KEY) as client:
        while [(await client.jobs.get(job_id)).status for job_id in ids] != ["running"] * len(ids):
            await asyncio.sleep(0.1)


@pytest.mark.parametrize("stop", ["SIGTERM", "drain directive"])
async def test_a_stopped_agent_claims_nothing_more_finishes_its_running_jobs_and_exits_0(coordinator, tmp_path, stop):
    config = write_config(tmp_path, coordinator, max_concurrent_jobs=2, jobs={
        "embedding": {"executor": "command", "argv": [sys.executable, "-c", SLOW_JOB]}})
    running = await submit(coordinator, "embedding", 2, lambda i: {"sleep": 3})
    agent = await miner_process(config)
    await asyncio.wait_for(until_running(coordinator, running), 30)
    waiting = await submit(coordinator, "embedding", 2, lambda i: {"sleep": 0})
    started = time.monotonic()
    if stop == "SIGTERM":
        agent.send_signal(signal.SIGTERM)
    else:  # the operator takes the worker out of the pool: its heartbeat acks say "drain"
        worker_id = json.loads((tmp_path / "state/identity.json").read_text())["worker_id"]
        async with AsyncClient(coordinator, api_key=API_KEY) as client:
            await client.workers.update(worker_id, is_active=False)
    _, err = await asyncio.wait_for(agent.communicate(), 30)
    assert agent.returncode == 0, err.decode()[-2000:]
    assert time.monotonic() - started < 10  # it did not wait out drain_grace_s
    jobs = await until_terminal(coordinator, running + waiting, 0)
    assert [jobs[job_id].status for job_id in running] == ["completed", "completed"], err.decode()[-3000:]
    assert [jobs[job_id].status for job_id in waiting] == ["pending", "pending"]  # never claimed
    messages = [line["message"] for line in log_lines(err.decode())]
    assert "draining" in messages and "drained: every running job returned" in messages


async def test_a_failing_executor_fails_the_job_with_its_message(coordinator, openai_server, tmp_path):
    config = write_config(tmp_path, coordinator, jobs={
        "llm_inference": {"executor": "openai", "base_url": openai_server.url, "model": "stand-in"}})
    [job_id] = await submit(coordinator, "llm_inference", 1, lambda i: {"prompt": "explode"})
    agent = await miner_process(config)
    try:
        job = (await until_terminal(coordinator, [job_id], 60))[job_id]
    finally:
        agent.send_signal(signal.SIGTERM)
        await agent.communicate()
    assert job.status == "failed" and "HTTP 500" in job.error_message and "the model exploded" in job.error_message


async def receipts_of(target: str, ids: list[str]) -> dict[str, list]:
    """Each job's receipts, after checking that every one verifies with the coordinator's key."""
    async with AsyncClient(target, api_key=API_KEY) as client:
        key = (await client.receipts.public_key()).public_key
        receipts = {job_id: await client.jobs.receipts(job_id) for job_id in ids}
    assert all(verify_receipt(r, key).valid for found in receipts.values() for r in found)
    return receipts


async def test_the_jobs_of_an_agent_killed_holding_leases_are_completed_by_another(coordinator, tmp_path):
    ids = await submit(coordinator, "embedding", 3, lambda i: {"sleep": 0})
    stuck = write_config(tmp_path / "stuck", coordinator, max_concurrent_jobs=3, jobs={
        "embedding": {"executor": "command", "argv": [sys.executable, "-c", "import time; time.sleep(60)"]}})
    healthy = write_config(tmp_path / "healthy", coordinator, jobs={
        "embedding": {"executor": "command", "argv": [sys.executable, "-c", SLOW_JOB]}})
    killed = await miner_process(stuck)
    await asyncio.wait_for(until_running(coordinator, ids), 30)
    os.killpg(killed.pid, signal.SIGKILL)  # the agent and the executors it started
    await killed.wait()
    agent = await miner_process(healthy)
    try:
        jobs = await until_terminal(coordinator, ids, 60)  # after the 5 s leases ran out
    finally:
        agent.send_signal(signal.SIGTERM)
        await agent.communicate()
    assert [(job.status, job.attempts) for job in jobs.values()] == [("completed", 2)] * 3
    survivor = json.loads((tmp_path / "healthy/state/identity.json").read_text())["miner_id"]
    assert [[r.miner_id for r in found] for found in (await receipts_of(coordinator, ids)).values()] == [[survivor]] * 3


async def test_agents_reconnect_when_the_coordinator_restarts_and_finish_the_work(server, tmp_path):
    ids = await submit(server.target, "embedding", 60, lambda i: {"sleep": 0.2})
    configs = [write_config(tmp_path / f"agent{i}", server.target, name=f"rig{i}", jobs={
        "embedding": {"executor": "command", "argv": [sys.executable, "-c", SLOW_JOB]}}) for i in range(2)]
    agents = [await miner_process(config) for config in configs]
    try:
        async with AsyncClient(server.target, api_key=API_KEY) as client:
            while sum([(await client.jobs.get(job_id)).status == "completed" for job_id in ids]) < 10:
                await asyncio.sleep(0.2)
        await server.kill()
        await asyncio.sleep(2)
        await server.start()
        jobs = await until_terminal(server.target, ids, 90)
        assert Counter(job.status for job in jobs.values()) == {"completed": 60}
        assert all(agent.returncode is None for agent in agents)  # they lived through it
        pages = [await metrics_of(tomllib.loads(c.read_text())["metrics_port"]) for c in configs]
    finally:
        for agent in agents:
            agent.send_signal(signal.SIGTERM)
        outputs = [await asyncio.wait_for(agent.communicate(), 30) for agent in agents]
    assert [agent.returncode for agent in agents] == [0, 0], [err.decode()[-2000:] for _, err in outputs]
    assert all("computepool_miner_reconnects_total 0" not in page for page in pages)
    assert all(len(found) == 1 for found in (await receipts_of(server.target, ids)).values())


async def test_a_job_running_while_the_coordinator_restarts_is_kept_and_returned_once(server, tmp_path):
    """The stream breaks under a running job: the agent keeps the job (its unary heartbeats, then the
    new stream, extend the lease), returns it once, and the pool never hands it to anyone again."""
    config = write_config(tmp_path, server.target, jobs={
        "embedding": {"executor": "command", "argv": [sys.executable, "-c", SLOW_JOB]}})
    [job_id] = await submit(server.target, "embedding", 1, lambda i: {"sleep": 6})
    agent = await miner_process(config, env={"CUDA_VISIBLE_DEVICES": ""})  # no GPU, whatever the host has
    port = tomllib.loads(config.read_text())["metrics_port"]
    try:
        # the agent holds the job (leased is not enough: a restart may lose an assignment on its way)
        await until_metric(port, 'computepool_miner_jobs_received_total{via="stream"} 1', 30)
        await server.kill()
        await server.start()
        jobs = await until_terminal(server.target, [job_id], 60)
        page = await metrics_of(port)
        async with AsyncClient(server.target, api_key=API_KEY) as client:
            worker_id = json.loads((tmp_path / "state/identity.json").read_text())["worker_id"]
            worker = await client.workers.get(worker_id)
    finally:
        agent.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(agent.communicate(), 30)
    assert agent.returncode == 0, err.decode()[-2000:]
    assert (jobs[job_id].status, jobs[job_id].attempts) == ("completed", 1)  # the first lease, never re-leased
    assert "computepool_miner_reconnects_total 0" not in page
    lines = log_lines(err.decode())
    assert [line["job_id"] for line in lines if line["message"] == "job returned"] == [job_id]
    assert not [line for line in lines if line["message"] == "lease lost: dropping the job"]
    assert len((await receipts_of(server.target, [job_id]))[job_id]) == 1
    # an agent that cannot read a GPU sends no GPU figures: the worker's are unknown, not 0
    assert worker.latest_status == "healthy" and not worker.latest_gpu_reported
    assert not worker.HasField("latest_gpu_power_watts") and "computepool_miner_gpu_" not in page


GATED_JOB = ("import json, os, sys, time; p = json.load(sys.stdin)\n"
             "while not os.path.exists(p['gate']): time.sleep(0.01)\n"
             "print(json.dumps({'n': p['n']}))")


async def test_results_finishing_together_go_back_together(coordinator, tmp_path):
    gate = tmp_path / "gate"
    ids = await submit(coordinator, "embedding", 6, lambda i: {"gate": str(gate), "n": i})
    config = write_config(tmp_path, coordinator, max_concurrent_jobs=6, jobs={
        "embedding": {"executor": "command", "argv": [sys.executable, "-c", GATED_JOB]}})
    agent = await miner_process(config)
    try:
        await asyncio.wait_for(until_running(coordinator, ids), 30)
        gate.touch()  # all six finish within a few milliseconds
        jobs = await until_terminal(coordinator, ids, 30)
    finally:
        agent.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(agent.communicate(), 30)
    assert [job.status for job in jobs.values()] == ["completed"] * 6
    returned = [line for line in log_lines(err.decode()) if line["message"] == "job returned"]
    assert sorted(line["job_id"] for line in returned) == sorted(ids)
    assert max(line["returned_with"] for line in returned) > 1, returned  # one stream message carried several
    receipts = await receipts_of(coordinator, ids)
    assert sorted(found[0].result["n"] for found in receipts.values()) == list(range(6))


@pytest.mark.coordinator_settings(STREAM_MESSAGES_PER_MINUTE="4")
async def test_when_the_stream_is_refused_the_agent_takes_work_through_fetch_jobs(coordinator, tmp_path):
    """A stream past its message budget ends (RESOURCE_EXHAUSTED): between streams the agent
    heartbeats and long-polls FetchJobs, so the work still gets done."""
    ids = await submit(coordinator, "echo", 40)
    config = write_config(tmp_path, coordinator, max_concurrent_jobs=2)
    agent = await miner_process(config)
    try:
        jobs = await until_terminal(coordinator, ids, 90)
        page = await metrics_of(tomllib.loads(config.read_text())["metrics_port"])
    finally:
        agent.send_signal(signal.SIGTERM)
        _, err = await agent.communicate()
    assert Counter(job.status for job in jobs.values()) == {"completed": 40}
    assert agent.returncode == 0, err.decode()[-2000:]
    received = {via: int(page.split(f'computepool_miner_jobs_received_total{{via="{via}"}} ')[1].split()[0])
                for via in ("stream", "fetch")}
    assert received["fetch"] > 0 and sum(received.values()) == 40, received
    assert "RATE_LIMITED" in err.decode()


async def test_a_job_whose_lease_is_lost_is_stopped_and_never_submitted(coordinator, tmp_path):
    config = write_config(tmp_path, coordinator, jobs={
        "embedding": {"executor": "command", "argv": [sys.executable, "-c", SLOW_JOB]}})
    [job_id] = await submit(coordinator, "embedding", 1, lambda i: {"sleep": 30})
    agent = await miner_process(config)
    try:
        await asyncio.wait_for(until_running(coordinator, [job_id]), 30)
        async with AsyncClient(coordinator, api_key=API_KEY) as client:
            await client.jobs.cancel(job_id)  # the lease ends with the job: the next heartbeat does not extend it
        page = await until_metric(tomllib.loads(config.read_text())["metrics_port"],
                                  "computepool_miner_results_dropped_total 1", 10)
    finally:
        agent.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(agent.communicate(), 30)
    assert agent.returncode == 0
    lines = log_lines(err.decode())
    assert [line["job_id"] for line in lines if line["message"] == "lease lost: dropping the job"] == [job_id]
    assert not [line for line in lines if line["message"] in ("job returned", "result refused: dropped")]
    assert "computepool_miner_jobs_total{" not in page  # the executor was stopped before it finished
