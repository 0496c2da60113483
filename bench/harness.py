"""`make bench`: the performance harness. Real server processes, a real Envoy and PostgreSQL on
this machine; figures go to bench/results/bench.json and a table to bench/results/bench.md.

  python -m bench.harness                      # every scenario (from the repository root)
  python -m bench.harness --scenario reads     # GetWorker: direct gRPC vs REST through Envoy, 50 callers,
                                               # each with tracing off and on (100%, batch exporter)
  python -m bench.harness --scenario fanin     # 10,000 heartbeat streams at 1 Hz for 60 s on one server
  python -m bench.harness --scenario subscribers  # the fan-in without and with 100 live WebSocket subscribers
  python -m bench.harness --scenario dispatch  # bench/dispatch.py's end-to-end flow, one job per call and
                                               # batched, against bench/floor.py's transport and database
                                               # floors measured in the same run; claim latency 1k vs 1M queued
  python -m bench.harness --scenario dispatch --jobs 1000 --queued 100000 --dispatch-rounds 1   # quicker
  python -m bench.harness --profile ...        # also record a py-spy profile of the server per scenario

Client, servers, Envoy and PostgreSQL share the machine's cores: the figures are for the whole
system here, not for the server alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import grpc
import psycopg
from computepool.v1 import participant_service_pb2 as participant_pb
from computepool.v1 import participant_service_pb2_grpc, worker_service_pb2_grpc
from computepool.v1 import worker_service_pb2 as worker_pb
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from sqlalchemy.engine import make_url

from bench import subscribers
from bench.dispatch import ROOT, Cluster, percentile, process_cpu_s, run_flow
from tests.support.envoy import Envoy
from tests.support.ports import free_port
from tests.support.server import API_KEY, AUTH
from tests.support.wallets import forms, new_wallet

RESULTS = ROOT / "bench" / "results"
TARGETS = {
    "rest_vs_grpc": ("REST / direct gRPC requests/s", ">=", 0.9),
    "fanin_heartbeats_per_s": ("heartbeats/s ingested from 10,000 streams", ">=", 9500),
    "fanin_p99_visible_s": ("p99 heartbeat-to-visible, s", "<", 2.0),
    "fanin_peak_rss_mib": ("server peak RSS, MiB", "<", 1024),
    "subscribers_heartbeats_vs_alone": ("fan-in heartbeats/s with live subscribers / without", ">=", 0.95),
    "tracing_on_vs_off_grpc": ("tracing on / off, gRPC reads", ">=", 0.85),
    "tracing_on_vs_off_rest": ("tracing on / off, REST reads", ">=", 0.85),
    "dispatch_single_vs_bound": ("dispatch, one job per call: ours / combined bound", ">=", 0.8),
    "dispatch_batched_vs_bound": ("dispatch, batched: ours / combined bound", ">=", 0.8),
    "dispatch_claim_ratio": ("claim p50, many queued / 1k queued", "<=", 1.5),
    "dispatch_streamed_vs_unary": ("dispatch over the heartbeat stream / unary calls, one job per call", ">", 1.0),
}


async def hammer(call, concurrency: int, seconds: float, warmup_s: float = 2.0) -> dict:
    """`concurrency` callers call flat out; figures over `seconds` after a warm-up."""
    latencies: list[float] = []
    measuring = False
    stop_at = time.perf_counter() + warmup_s + seconds

    async def caller():
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            await call()
            if measuring:
                latencies.append(time.perf_counter() - started)

    tasks = [asyncio.create_task(caller()) for _ in range(concurrency)]
    await asyncio.sleep(warmup_s)
    measuring, began = True, time.perf_counter()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - began
    return {"requests_per_s": round(len(latencies) / elapsed), "p50_ms": round(percentile(latencies, 50) * 1000, 2),
            "p99_ms": round(percentile(latencies, 99) * 1000, 2), "requests": len(latencies)}


class SpanSink(trace_service_pb2_grpc.TraceServiceServicer):
    """An OTLP receiver that drops spans: the tracing backend of the benchmark. It runs in a
    process of its own so the load generator's CPU is not spent on it."""

    def Export(self, request, context):
        return trace_service_pb2.ExportTraceServiceResponse()


def serve_span_sink() -> None:
    from concurrent import futures

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(SpanSink(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    server.wait_for_termination()


class Profiler:
    """py-spy record of a server process while a scenario runs (with --profile)."""

    def __init__(self, enabled: bool, name: str):
        self.enabled, self.name, self.process = enabled and shutil.which("py-spy") is not None, name, None

    def start(self, pid: int, seconds: float) -> None:
        if self.enabled:
            out = RESULTS / f"profile-{self.name}.txt"
            self.process = subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--duration", str(int(seconds)),
                                             "--format", "raw", "--output", str(out), "--nonblocking"],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self, early: bool = False) -> None:
        """Waits for the recording to end; `early`: ends it now (py-spy writes what it has on SIGINT)."""
        if self.process is not None:
            if early:
                self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=120)


class ReadTarget:
    """One server process (traced or not) with its Envoy, a worker to read, and both clients."""

    def __init__(self, tracing: bool):
        self.tracing = tracing
        self.sink, self.env = None, {}

    async def __aenter__(self) -> ReadTarget:
        if self.tracing:
            self.sink = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.harness", "--span-sink",
                                                             cwd=ROOT, stdout=asyncio.subprocess.PIPE)
            port = int(await self.sink.stdout.readline())
            self.env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
                        "OTEL_EXPORTER_OTLP_INSECURE": "true", "OTEL_TRACES_SAMPLER": "always_on"}
        self.cluster = await Cluster(1, **self.env).__aenter__()
        channel = self.cluster.channels[0]
        owner = await participant_service_pb2_grpc.ParticipantServiceStub(channel).CreateParticipant(
            participant_pb.CreateParticipantRequest(ton_wallet_address=forms(new_wallet())["non_bounceable"]),
            metadata=AUTH)
        self.workers = worker_service_pb2_grpc.WorkerServiceStub(channel)
        worker = await self.workers.CreateWorker(worker_pb.CreateWorkerRequest(
            participant_id=owner.id, worker_name="bench", instance_number=0, host="10.0.0.1", stats_port=8080),
            metadata=AUTH)
        self.request = worker_pb.GetWorkerRequest(worker_id=worker.id)
        self.envoy = Envoy(Path(tempfile.mkdtemp(prefix="bench-envoy-")), [self.cluster.servers[0][1]], 9,
                           otlp_endpoint=self.env.get("OTEL_EXPORTER_OTLP_ENDPOINT", ""))
        self.http = aiohttp.ClientSession(base_url=self.envoy.url, headers={"X-Api-Key": API_KEY},
                                          connector=aiohttp.TCPConnector(limit=50))
        return self

    @property
    def server_pid(self) -> int:
        return self.cluster.servers[0][0].pid

    async def measure(self, transport: str, seconds: float) -> dict:
        if transport == "grpc":
            return await hammer(lambda: self.workers.GetWorker(self.request, metadata=AUTH), 50, seconds)

        async def get():
            async with self.http.get(f"/api/v1/workers/{self.request.worker_id}") as response:
                await response.read()
                assert response.status == 200, response.status
        return await hammer(get, 50, seconds)

    async def __aexit__(self, *_):
        await self.http.close()
        self.envoy.stop()
        await self.cluster.__aexit__()
        if self.sink is not None:
            self.sink.terminate()
            await self.sink.wait()


async def reads(seconds: float, rounds: int, profile: bool) -> tuple[dict, dict]:
    """GetWorker through direct gRPC and through REST on Envoy, 50 concurrent callers, on a server
    without tracing and one with tracing on (100% sampling, batch exporter to an OTLP receiver).
    The four series alternate for `rounds` rounds (the machine drifts by ±15% from minute to
    minute); each figure is the median round."""
    series: dict[tuple[bool, str], list[dict]] = {}
    async with ReadTarget(False) as plain, ReadTarget(True) as traced:
        for round_number in range(rounds):
            for target in (plain, traced):
                for transport in ("grpc", "rest"):
                    profiler = Profiler(profile and round_number == 0, f"reads-{transport}"
                                        + ("-tracing" if target.tracing else ""))
                    profiler.start(target.server_pid, seconds + 2)
                    series.setdefault((target.tracing, transport), []).append(
                        await target.measure(transport, seconds))
                    profiler.stop()

    def median(tracing: bool, transport: str) -> dict:
        runs = sorted(series[(tracing, transport)], key=lambda r: r["requests_per_s"])
        return {**runs[len(runs) // 2], "rounds_requests_per_s": [r["requests_per_s"] for r in
                                                                  series[(tracing, transport)]]}

    off = {transport: median(False, transport) for transport in ("grpc", "rest")}
    on = {transport: median(True, transport) for transport in ("grpc", "rest")}
    off["rest_vs_grpc"] = round(off["rest"]["requests_per_s"] / off["grpc"]["requests_per_s"], 2)
    on["rest_vs_grpc"] = round(on["rest"]["requests_per_s"] / on["grpc"]["requests_per_s"], 2)
    return off, on


def add_fan_in_miners(database_url: str, count: int, owners: int = 1) -> list[int]:
    """Registers `count` miners straight in the database, their workers spread over `owners`
    participants (a benchmark fixture: registering 10,000 through the API would take longer than
    the scenario); returns the participants' ids."""
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as conn:
        owner_ids = [row[0] for row in conn.execute(
            "INSERT INTO participants (wallet_address, wallet_raw, username, email, is_active, created_at, updated_at)"
            " SELECT 'UQ-fan-' || n, '0:fan-' || n, '', '', true, now(), now() FROM generate_series(1, %s) AS n"
            " RETURNING id", (owners,)).fetchall()]
        conn.execute("""
            INSERT INTO workers (participant_id, worker_name, instance_number, host, stats_port,
                                 price_coefficient_micros, is_active, latest_status, latest_revenue_nanoton,
                                 created_at, updated_at)
            SELECT (%s::int[])[1 + n %% %s], 'fan-' || n, 0, '10.0.0.1', 0, 1000000, true, 'unknown', 0, now(), now()
            FROM generate_series(1, %s) AS n""", (owner_ids, owners, count))
        conn.execute("""
            INSERT INTO miners (id, worker_id, public_key, token_hash, endpoint, capabilities, gpu_model, gpu_count,
                                vram_gb, max_concurrent_jobs, status, created_at, updated_at)
            SELECT md5('fan' || n)::uuid::text, w.id, '', encode(sha256(('fan-token-' || n)::bytea), 'hex'), '',
                   '[]', 'H100', 1, 80, 1, 'active', now(), now()
            FROM generate_series(1, %s) AS n JOIN workers w ON w.worker_name = 'fan-' || n""", (count,))
    return owner_ids


FANIN_OPEN_TIMEOUT_S = 600  # every stream opened, authenticated and acked once


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


async def fan_in(streams: int, seconds: float, clients: int, profile: bool) -> dict:
    async with Cluster(1, HEARTBEAT_TIMEOUT="120") as cluster:
        add_fan_in_miners(cluster.url, streams)
        process, port = cluster.servers[0]
        return await drive_fan_in(process, port, streams, seconds, clients, Profiler(profile, "fanin"))


async def drive_fan_in(server, port: int, streams: int, seconds: float, clients: int, profiler: Profiler) -> dict:
    """`clients` load processes (bench/fanin_client.js) hold `streams` heartbeat streams to the
    server process at `port`, each at 1 Hz. The measured window starts once every stream has
    had its first ack (the open-and-authenticate storm is reported apart, as open_all_s)."""
    per_client = streams // clients
    workers = [await asyncio.create_subprocess_exec(
        "node", str(ROOT / "bench" / "fanin_client.js"), str(port), str(1 + i * per_client), str(per_client),
        str(seconds), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "BENCH_API_KEY": API_KEY}, limit=1 << 26) for i in range(clients)]
    ready = [json.loads(await asyncio.wait_for(worker.stdout.readline(), FANIN_OPEN_TIMEOUT_S)) for worker in workers]
    cpu_before, began = process_cpu_s(server.pid), time.perf_counter()
    for worker in workers:
        worker.stdin.write(b"go\n")
        await worker.stdin.drain()
    profiler.start(server.pid, seconds)
    await asyncio.sleep(seconds)
    elapsed = time.perf_counter() - began
    cpu = process_cpu_s(server.pid) - cpu_before
    outputs = [json.loads((await worker.communicate())[0]) for worker in workers]
    profiler.stop()
    rss = peak_rss_mib(server.pid)
    latencies = [latency for output in outputs for latency in output["latencies"]]
    acks = sum(output["acks"] for output in outputs)
    return {"streams": streams, "seconds": seconds, "open_all_s": round(max(r["ready"] for r in ready), 1),
            "heartbeats_acked": acks, "heartbeats_per_s": round(acks / seconds),
            "unacked": sum(o["unacked"] for o in outputs), "p50_visible_s": round(percentile(latencies, 50), 3),
            "p99_visible_s": round(percentile(latencies, 99), 3), "server_cpu_cores": round(cpu / elapsed, 2),
            "server_peak_rss_mib": rss, "failed_streams": sum(o["failed_streams"] for o in outputs),
            "first_failure": next((o["first_failure"] for o in outputs if o["first_failure"]), "")}


async def fan_in_with_subscribers(streams: int, seconds: float, clients: int, count: int, rounds: int) -> dict:
    """The fan-in without subscribers and with `count` of them (bench/subscribers.py), on one
    server, in turn over `rounds` rounds: what subscribers cost heartbeat ingestion, measured in
    the same run. Each round's ratio is with / without; the median round counts."""
    metrics_port = free_port()
    async with Cluster(1, HEARTBEAT_TIMEOUT="120", METRICS_PORT=str(metrics_port),
                       LIVE_MAX_SUBSCRIBERS=str(count + 10)) as cluster:
        owners = add_fan_in_miners(cluster.url, streams, owners=count)
        keys = await subscribers.keys_for(cluster.channels[0], owners)
        process, port = cluster.servers[0]
        measured = []
        for _ in range(rounds):
            alone = await drive_fan_in(process, port, streams, seconds, clients, Profiler(False, "fanin"))
            async with subscribers.Subscribers(metrics_port, keys) as attached:
                watched = await drive_fan_in(process, port, streams, seconds, clients, Profiler(False, "fanin"))
                received = await attached.stop()
            measured.append({"alone": alone, "watched": watched, "received": received,
                             "ratio": round(watched["heartbeats_per_s"] / max(alone["heartbeats_per_s"], 1), 3)})
    middle = sorted(measured, key=lambda r: r["ratio"])[(len(measured) - 1) // 2]
    return {"subscribers": count, "rounds": measured, **middle, "heartbeats_vs_alone": middle["ratio"],
            "round_ratios": [r["ratio"] for r in measured]}


def verdicts(results: dict) -> dict:
    figures = {
        "rest_vs_grpc": results.get("reads", {}).get("rest_vs_grpc"),
        "fanin_heartbeats_per_s": results.get("fanin", {}).get("heartbeats_per_s"),
        "fanin_p99_visible_s": results.get("fanin", {}).get("p99_visible_s"),
        "fanin_peak_rss_mib": results.get("fanin", {}).get("server_peak_rss_mib"),
        "subscribers_heartbeats_vs_alone": results.get("subscribers", {}).get("heartbeats_vs_alone"),
        "dispatch_single_vs_bound": results.get("dispatch", {}).get("single", {}).get("vs_bound"),
        "dispatch_batched_vs_bound": results.get("dispatch", {}).get("batched", {}).get("vs_bound"),
        "dispatch_claim_ratio": results.get("dispatch", {}).get("claim", {}).get("p50_ratio"),
        "dispatch_streamed_vs_unary": results.get("dispatch", {}).get("streamed", {}).get("vs_unary"),
    }
    if "tracing" in results and "reads" in results:
        for transport in ("grpc", "rest"):
            figures[f"tracing_on_vs_off_{transport}"] = round(
                results["tracing"][transport]["requests_per_s"] / results["reads"][transport]["requests_per_s"], 2)
    table = {}
    for key, value in figures.items():
        if value is None:
            continue
        what, sense, target = TARGETS[key]
        met = {">=": value >= target, ">": value > target, "<=": value <= target, "<": value < target}[sense]
        table[key] = {"what": what, "value": value, "target": f"{sense} {target}", "met": met}
    return table


def markdown(results: dict, table: dict) -> str:
    lines = [f"# computepool benchmark ({results['when']}, {results['machine']})", "",
             "| figure | measured | target | |", "|---|---|---|---|"]
    lines += [f"| {row['what']} | {row['value']} | {row['target']} | {'met' if row['met'] else 'MISSED'} |"
              for row in table.values()]
    if "reads" in results:
        for name in ("reads", "tracing"):
            if name in results:
                for transport in ("grpc", "rest"):
                    r = results[name][transport]
                    lines.append(f"| {name} {transport}: req/s, p50/p99 ms | {r['requests_per_s']}, "
                                 f"{r['p50_ms']}/{r['p99_ms']} | | |")
    if "fanin" in results:
        f = results["fanin"]
        lines.append(f"| fan-in: server CPU cores, p50 visible s, unacked, failed streams, all open after s | "
                     f"{f['server_cpu_cores']}, {f['p50_visible_s']}, {f.get('unacked', '')}, {f['failed_streams']}, "
                     f"{f.get('open_all_s', '')} | | |")
    if "subscribers" in results:
        s = results["subscribers"]
        lines.append(f"| fan-in with {s['subscribers']} subscribers, median of rounds {s['round_ratios']}: heartbeats/s, "
                     f"p99 visible s, server CPU cores (without: …) | {s['watched']['heartbeats_per_s']}, {s['watched']['p99_visible_s']}, "
                     f"{s['watched']['server_cpu_cores']} (without: {s['alone']['heartbeats_per_s']}, "
                     f"{s['alone']['p99_visible_s']}, {s['alone']['server_cpu_cores']}) | | |")
        fast, slow = s["received"]["fast"], s["received"]["slow"]
        lines.append(f"| subscribers: events the fast ones read; the slow ones (reading only at the end): events, "
                     f"gaps told, events lost | {fast['events']}; {slow['events']}, {slow['lost_notices']}, "
                     f"{slow['lost_events']} | | |")
    if "dispatch" in results:
        lines += ["", *dispatch_table(results["dispatch"])]
    return "\n".join(lines) + "\n"


async def dispatch(jobs: int, queued: int, rounds: int, profile: bool) -> dict:
    """Ours and both floors (bench/floor.py) in one run, on the same jobs and the same client:
    the floors are this machine's ceilings now, not figures from another day. Each is judged by
    the bound 1/(1/transport + 1/database) of its own round; the rounds alternate their order
    (the machine drifts from minute to minute), and the round with the median ratio counts (the
    lower middle one of an even number). Then claim latency with 1k and `queued` jobs waiting."""
    from bench.dispatch import claim_latency
    from bench.floor import MemoryCluster, database

    async def measure(what: str, name: str, batched: bool, count: int, round_number: int) -> dict:
        if what == "transport":
            async with MemoryCluster(2) as cluster:
                return await run_flow(cluster, count, 20, batched=batched)
        if what == "database":
            return await database(count, batched=batched)
        async with Cluster(2) as cluster:
            profiler = Profiler(profile and round_number == 0, f"dispatch-{name}")
            profiler.start(cluster.servers[0][0].pid, 600)  # one of the two server processes
            try:
                return await run_flow(cluster, count, 20, batched=batched)
            finally:
                profiler.stop(early=True)

    results = {}
    # Batched moves five times the jobs: at the same count it would last a few seconds, too
    # short to measure steadily on a shared machine.
    for name, batched, count in (("single", False, jobs), ("batched", True, jobs * 5)):
        runs = []
        for round_number in range(rounds):
            order = ["transport", "database", "ours"]
            figures = {}
            for what in order if round_number % 2 == 0 else order[::-1]:
                figures[what] = await measure(what, name, batched, count, round_number)
                print(f"dispatch {name}, round {round_number + 1}, {what}:", json.dumps(figures[what]), flush=True)
            bound = round(1 / (1 / figures["transport"]["jobs_per_s"] + 1 / figures["database"]["jobs_per_s"]))
            runs.append({**figures["ours"], "transport_floor": figures["transport"],
                         "database_floor": figures["database"], "bound_jobs_per_s": bound,
                         "vs_bound": round(figures["ours"]["jobs_per_s"] / bound, 2)})
        runs.sort(key=lambda run: run["vs_bound"])
        results[name] = {**runs[(len(runs) - 1) // 2], "rounds_vs_bound": [run["vs_bound"] for run in runs]}
    # Streamed dispatch: the miners take jobs over their heartbeat stream and return results on
    # it; judged against the unary path (FetchJobs, SubmitResult) in the same round, order alternating.
    pairs = []
    for round_number in range(rounds):
        figures = {}
        for mode in ("unary", "streamed")[::1 if round_number % 2 == 0 else -1]:
            async with Cluster(2, STREAM_MESSAGES_PER_MINUTE="1000000") as cluster:
                figures[mode] = await run_flow(cluster, jobs, 20, batched=False, streamed=mode == "streamed")
            print(f"dispatch one job per call, round {round_number + 1}, {mode}:", json.dumps(figures[mode]), flush=True)
        pairs.append({**figures["streamed"], "unary": figures["unary"],
                      "vs_unary": round(figures["streamed"]["jobs_per_s"] / figures["unary"]["jobs_per_s"], 2)})
    pairs.sort(key=lambda pair: pair["vs_unary"])
    results["streamed"] = {**pairs[(len(pairs) - 1) // 2], "rounds_vs_unary": [pair["vs_unary"] for pair in pairs]}
    claims = {}
    for count in (1_000, queued):
        async with Cluster(1) as cluster:
            claims[count] = await claim_latency(cluster, count)
        print(f"claim latency, {count:,} queued:", json.dumps(claims[count]), flush=True)
    results["claim"] = {"queued": queued, "p50_ms_1k": claims[1_000]["p50_ms"], "p50_ms_many": claims[queued]["p50_ms"],
                        "p99_ms_1k": claims[1_000]["p99_ms"], "p99_ms_many": claims[queued]["p99_ms"],
                        "p50_ratio": round(claims[queued]["p50_ms"] / claims[1_000]["p50_ms"], 2)}
    return results


def _cpu(figures: dict, whose: str) -> str:
    """CPU milliseconds per job of the servers or of the database backends ("?" from an older run)."""
    value = figures.get(f"{whose}_cpu_ms_per_job")
    return "?" if value is None else f"{value:.2f}"


def dispatch_table(d: dict) -> list[str]:
    lines = ["| dispatch, jobs/s | ours | transport floor (no DB) | database floor (raw psycopg) | "
             "combined bound 1/(1/T+1/D) | ours / bound | every round | p99 submit→completed, ms (ours, transport floor) | "
             "server CPU ms/job (ours, transport floor) | database CPU ms/job (ours, database floor) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, what in (("single", "one job per call"), ("batched", "batched")):
        if name in d:
            r = d[name]
            lines.append(f"| {what} ({r['jobs']:,} jobs) | {r['jobs_per_s']:,} | {r['transport_floor']['jobs_per_s']:,} | "
                         f"{r['database_floor']['jobs_per_s']:,} | {r['bound_jobs_per_s']:,} | {r['vs_bound']} | "
                         f"{', '.join(str(v) for v in r.get('rounds_vs_bound', []))} | "
                         f"{r['p99_submit_to_completed_ms']:,}, {r['transport_floor']['p99_submit_to_completed_ms']:,} | "
                         f"{_cpu(r, 'server')}, {_cpu(r['transport_floor'], 'server')} | "
                         f"{_cpu(r, 'database')}, {_cpu(r['database_floor'], 'database')} |")
    if "streamed" in d:
        s = d["streamed"]
        lines += ["", f"Streamed dispatch (jobs and results over the heartbeat stream), one job per call: "
                      f"{s['jobs_per_s']:,} jobs/s against {s['unary']['jobs_per_s']:,} by unary calls in the same "
                      f"round: {s['vs_unary']} (every round: {', '.join(str(v) for v in s['rounds_vs_unary'])}); "
                      f"p99 submit→completed {s['p99_submit_to_completed_ms']:,} ms "
                      f"({s['unary']['p99_submit_to_completed_ms']:,} unary); server CPU {_cpu(s, 'server')} ms/job "
                      f"({_cpu(s['unary'], 'server')} unary)."]
    if "claim" in d:
        c = d["claim"]
        lines += ["", f"Claim latency p50 (p99): {c['p50_ms_1k']} ms ({c['p99_ms_1k']}) with 1,000 queued, "
                      f"{c['p50_ms_many']} ms ({c['p99_ms_many']}) with {c['queued']:,} queued: ratio {c['p50_ratio']}."]
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=["reads", "fanin", "subscribers", "dispatch", "all"], default="all")
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time of each reads run")
    parser.add_argument("--rounds", type=int, default=3, help="reads: alternating rounds of the four series")
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--fanin-seconds", type=float, default=60.0)
    parser.add_argument("--fanin-clients", type=int, default=2, help="client processes holding the streams")
    parser.add_argument("--subscribers", type=int, default=100, help="subscribers: live WebSocket subscribers")
    parser.add_argument("--subscriber-rounds", type=int, default=2, help="subscribers: rounds without and with them")
    parser.add_argument("--jobs", type=int, default=3000, help="dispatch: jobs one per call (x5 batched)")
    parser.add_argument("--dispatch-rounds", type=int, default=2, help="dispatch: rounds of ours and the floors")
    parser.add_argument("--queued", type=int, default=1_000_000, help="dispatch: claim latency with this many queued"
                                                                      " (against 1,000)")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "bench.json"
    results = json.loads(out.read_text()) if out.exists() else {}
    results.update(when=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), machine=f"{os.cpu_count()} cores")
    run = {args.scenario} if args.scenario != "all" else {"reads", "fanin", "subscribers", "dispatch"}
    if "reads" in run:
        results["reads"], results["tracing"] = await reads(args.seconds, args.rounds, args.profile)
        print("reads:", json.dumps(results["reads"]), flush=True)
        print("reads with tracing on:", json.dumps(results["tracing"]), flush=True)
    if "fanin" in run:
        results["fanin"] = await fan_in(args.streams, args.fanin_seconds, args.fanin_clients, args.profile)
        print("heartbeat fan-in:", json.dumps(results["fanin"]), flush=True)
    if "subscribers" in run:
        results["subscribers"] = await fan_in_with_subscribers(args.streams, args.fanin_seconds, args.fanin_clients,
                                                               args.subscribers, args.subscriber_rounds)
        print("fan-in with subscribers:", json.dumps(results["subscribers"]), flush=True)
    if "dispatch" in run:
        results["dispatch"] = await dispatch(args.jobs, args.queued, args.dispatch_rounds, args.profile)
    table = verdicts(results)
    results["verdicts"] = table
    out.write_text(json.dumps(results, indent=2) + "\n")
    (RESULTS / "bench.md").write_text(markdown(results, table))
    print(markdown(results, table))
    print(f"written {out.relative_to(ROOT)} and bench/results/bench.md")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--span-sink"]:
        serve_span_sink()
    else:
        asyncio.run(main())
