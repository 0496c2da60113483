"""End-to-end dispatch benchmark on PostgreSQL: submit -> claim -> result -> receipt.

Starts its own server processes (default 2) on a fresh PostgreSQL database, drives them with
simulated clients and miners over gRPC, prints figures and writes bench/results/dispatch.json.

  python -m bench.dispatch                       # all scenarios (from the repository root)
  python -m bench.dispatch --scenario single     # one job per call
  python -m bench.dispatch --scenario batched    # batched submit (1,000), claim and results (up to 64)
  python -m bench.dispatch --scenario claim      # claim latency with 1k vs 1M queued jobs

Client and servers share this machine's cores, so figures are for the whole system here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from pathlib import Path

import grpc
import psycopg
from computepool.v1 import job_service_pb2 as job_pb
from computepool.v1 import job_service_pb2_grpc
from computepool.v1 import miner_service_pb2 as miner_pb
from coordinator.storage import migrate
from devtools.envoy_config import ROOT
from devtools.launch import server_env, start_server_process
from sqlalchemy.engine import make_url

from tests.support.miner import Miner
from tests.support.postgres import create_database, drop_database
from tests.support.server import API_KEY, AUTH  # the simulated miners present the test key


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a live process so far (0 for one that is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_backends(database_url: str) -> list[int]:
    """The PostgreSQL backend processes connected to this database now (not others' databases:
    the server is shared with other work)."""
    url = make_url(database_url)
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        return [pid for (pid,) in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (url.database,))]


class CpuMeter:
    """CPU seconds spent by server processes and by the database's backends between start() and
    stop(): steadier than jobs/s on a shared machine, where other work slows every process alike.
    A backend that connects during the run counts from 0; one that leaves before stop() is lost
    (the servers' pools keep theirs)."""

    def __init__(self, server_pids: list[int], database_url: str | None):
        self.server_pids, self.database_url = server_pids, database_url

    def _read(self) -> tuple[dict[int, float], dict[int, float], float]:
        backends = database_backends(self.database_url) if self.database_url else []
        return ({pid: process_cpu_s(pid) for pid in self.server_pids},
                {pid: process_cpu_s(pid) for pid in backends}, time.process_time())

    def start(self) -> None:
        self.before = self._read()

    def stop(self, jobs: int) -> dict:
        """CPU milliseconds per job: of the server processes, of the database backends, and of
        this process (the client, or the database floor's driver)."""
        after = self._read()
        spent = [sum(cpu - before.get(pid, 0.0) for pid, cpu in now.items()) for before, now in zip(self.before, after[:2])]
        figures = {"client_cpu_ms_per_job": round((after[2] - self.before[2]) * 1000 / jobs, 3)}
        if self.server_pids:
            figures["server_cpu_ms_per_job"] = round(spent[0] * 1000 / jobs, 3)
        if self.database_url:
            figures["database_cpu_ms_per_job"] = round(spent[1] * 1000 / jobs, 3)
        return figures


class Cluster:
    """A fresh PostgreSQL database and N server processes on it (`env` adds to their environment)."""

    def __init__(self, processes: int, **env: str):
        self.processes = processes
        self.extra_env = env

    async def __aenter__(self) -> Cluster:
        self.name, self.url = create_database(prefix="computepool_bench")
        migrate.upgrade(self.url)
        env = server_env(DATABASE_URL=self.url, API_KEYS=API_KEY, SECRET_KEY="bench", LEASE_SECONDS="120",
                         STATS_POLL_INTERVAL_S="3600", **self.extra_env)
        self.servers = [await start_server_process(env) for _ in range(self.processes)]
        self.channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for _, port in self.servers]
        return self

    async def __aexit__(self, *_):
        for channel in self.channels:
            await channel.close()
        for process, _ in self.servers:
            process.terminate()
            await process.wait()
        drop_database(self.name)


async def run_flow(cluster: Cluster, jobs_total: int, miners_count: int, batched: bool, streamed: bool = False
                   ) -> dict:
    """Submits jobs_total jobs while miners drain them; returns throughput and latencies.
    `streamed`: the miners take jobs over their heartbeat stream and return each result on it
    (asking for the next job in the same message), as computepool-miner does, instead of
    FetchJobs and SubmitResult calls."""
    submitted_at: dict[str, float] = {}
    latencies: list[float] = []
    miners = [await Miner(cluster.channels[i % len(cluster.channels)], job_types=("echo",), name=f"bench{i}",
                          max_concurrent_jobs=1024).register() for i in range(miners_count)]
    submit_done = asyncio.Event()
    started = time.perf_counter()

    async def submit_all() -> None:
        stubs = [job_service_pb2_grpc.JobServiceStub(c) for c in cluster.channels]
        if batched:
            for i in range(0, jobs_total, 1000):
                request = job_pb.BatchSubmitJobsRequest(
                    jobs=[job_pb.SubmitJobRequest(job_type="echo")] * min(1000, jobs_total - i))
                now = time.perf_counter()
                for job in (await stubs[i // 1000 % len(stubs)].BatchSubmitJobs(request, metadata=AUTH)).jobs:
                    submitted_at[job.id] = now
        else:
            queue = iter(range(jobs_total))

            async def submitter(stub) -> None:
                for _ in queue:
                    now = time.perf_counter()
                    job = await stub.SubmitJob(job_pb.SubmitJobRequest(job_type="echo"), metadata=AUTH)
                    submitted_at[job.id] = now

            await asyncio.gather(*[submitter(stubs[i % len(stubs)]) for i in range(16)])
        submit_done.set()

    async def keep_alive(miner: Miner) -> None:  # a silent miner is offline after HEARTBEAT_TIMEOUT
        while True:
            await miner.heartbeat()
            await asyncio.sleep(5)

    async def mine(miner: Miner) -> None:
        while not (submit_done.is_set() and len(latencies) >= jobs_total):
            assignments = await miner.fetch(max_jobs=64 if batched else 1, wait_s=0.5)
            if batched and assignments:
                await miner.complete_all(assignments)
            else:
                for assignment in assignments:
                    await miner.complete(assignment, {"ok": True}, units=1)
            latencies.extend(time.perf_counter() - submitted_at.get(a.job.id, started) for a in assignments)
            if not assignments and submit_done.is_set() and len(latencies) >= jobs_total:
                return

    async def mine_streamed(miner: Miner) -> None:
        outgoing: asyncio.Queue = asyncio.Queue()
        last_assignment = time.perf_counter()

        def ask(results=()) -> None:
            outgoing.put_nowait(miner_pb.StreamHeartbeatsRequest(
                miner_id=miner.id, heartbeat=miner_pb.Heartbeat(status="healthy"), results=list(results),
                ready_for_jobs=1))

        async def messages():
            while (message := await outgoing.get()) is not None:
                yield message

        async def ask_while_idle() -> None:  # a claim that found nothing is asked again, as the agent does
            while True:
                await asyncio.sleep(0.05)
                if time.perf_counter() - last_assignment > 0.05:
                    ask()

        ask()
        idle = asyncio.create_task(ask_while_idle())
        stream = miner.stub.StreamHeartbeats(messages(), metadata=miner.metadata)
        try:
            async for message in stream:
                kind = message.WhichOneof("event")
                if kind == "assignment":
                    last_assignment = time.perf_counter()
                    ask([miner.result(message.assignment, {"ok": True}, units=1)])
                elif kind == "results":
                    latencies.extend(time.perf_counter() - submitted_at.get(o.job_id, started)
                                     for o in message.results.outcomes if not o.error_reason)
                if submit_done.is_set() and len(latencies) >= jobs_total:  # an idle miner learns it from its acks
                    return
        finally:
            idle.cancel()
            outgoing.put_nowait(None)
            stream.cancel()

    heartbeats = [] if streamed else [asyncio.create_task(keep_alive(m)) for m in miners]
    meter = CpuMeter([process.pid for process, _ in cluster.servers], getattr(cluster, "url", None))
    meter.start()
    await asyncio.gather(submit_all(), *[(mine_streamed if streamed else mine)(m) for m in miners])
    elapsed = time.perf_counter() - started
    cpu = meter.stop(jobs_total)
    for task in heartbeats:
        task.cancel()
    return {"jobs": jobs_total, "seconds": round(elapsed, 2), "jobs_per_s": round(jobs_total / elapsed),
            "p50_submit_to_completed_ms": round(percentile(latencies, 50) * 1000, 1),
            "p99_submit_to_completed_ms": round(percentile(latencies, 99) * 1000, 1), **cpu}


def fill_queue(database_url: str, count: int) -> None:
    """Queues `count` echo jobs straight in the database (a benchmark fixture, not the API)."""
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("""
            INSERT INTO jobs (id, client_id, job_type, parameters, status, priority, required_model, min_vram_gb,
                              required_gpu_model, unit_price_nanoton, max_price_nanoton, attempts, max_attempts,
                              available_at, expires_at, error_message, created_at, updated_at)
            SELECT gen_random_uuid()::text, 'bench', 'echo', '{}', 'pending', 0, '', 0, '', 1, 0, 0, 3,
                   now(), now() + interval '1 day', '', now() - (n || ' microseconds')::interval, now()
            FROM generate_series(1, %s) AS n""", (count,))
        conn.execute("ANALYZE jobs")


async def claim_latency(cluster: Cluster, queued: int, claims: int = 300) -> dict:
    fill_queue(cluster.url, queued)
    miner = await Miner(cluster.channels[0], job_types=("echo",), name=f"claimer{queued}",
                        max_concurrent_jobs=1024).register()
    await miner.fetch()  # warm up
    timings = []
    for _ in range(claims):
        start = time.perf_counter()
        assert await miner.fetch()
        timings.append(time.perf_counter() - start)
    return {"queued": queued, "claims": claims, "p50_ms": round(statistics.median(timings) * 1000, 2),
            "p99_ms": round(percentile(timings, 99) * 1000, 2)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=["single", "batched", "claim", "all"], default="all")
    parser.add_argument("--jobs", type=int, default=6000)
    parser.add_argument("--miners", type=int, default=20)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    results: dict = {"machine": f"{os.cpu_count()} cores", "server_processes": args.processes}
    if args.scenario in ("single", "all"):
        async with Cluster(args.processes) as cluster:
            results["single"] = await run_flow(cluster, args.jobs, args.miners, batched=False)
            print("one job per call:", results["single"], flush=True)
    if args.scenario in ("batched", "all"):
        async with Cluster(args.processes) as cluster:
            results["batched"] = await run_flow(cluster, args.jobs * 3, args.miners, batched=True)
            print("batched submit and claim:", results["batched"], flush=True)
    if args.scenario in ("claim", "all"):
        for queued in (1_000, 1_000_000):
            async with Cluster(1) as cluster:
                results[f"claim_{queued}"] = await claim_latency(cluster, queued)
                print(f"claim latency, {queued:,} queued:", results[f"claim_{queued}"], flush=True)
        results["claim_p50_ratio_1m_vs_1k"] = round(results["claim_1000000"]["p50_ms"] / results["claim_1000"]["p50_ms"], 2)
        print("claim p50 ratio 1M/1k:", results["claim_p50_ratio_1m_vs_1k"])
    out = ROOT / "bench" / "results" / "dispatch.json"
    out.parent.mkdir(exist_ok=True)
    earlier = json.loads(out.read_text()) if out.exists() else {}
    out.write_text(json.dumps({**earlier, **results}, indent=2) + "\n")
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    asyncio.run(main())
