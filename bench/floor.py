"""What this machine can do at best, to judge bench/dispatch.py's figures against.

  python -m bench.floor --scenario transport   # the dispatch flow against servers with no database
  python -m bench.floor --scenario database    # the dispatch SQL alone, raw psycopg, no gRPC
  python -m bench.floor --scenario fanin       # bench/harness.py's heartbeat streams against a bare echo server

transport: bench/dispatch.py's exact client (16 submitters, 20 miners, same calls, same
messages) against 2 server processes that keep jobs in memory but still do the per-job work
no design can skip: check the miner's Ed25519 signature over the result hash, sign a receipt.
database: the lifecycle's statements on the real schema (migrated, all indexes), batched as
the batched scenario batches them (1,000 jobs per insert, 64 per claim and per result
transaction), from 4 async connections, with no gRPC and no ORM.

fanin: the harness's 10,000 heartbeat streams (same client processes, same messages) against
one server process that acks each heartbeat at once: no auth, no database, no flush — what one
grpc.aio process and its clients can do on this machine at all.

Transport and database use the whole machine (2 cores) alone; a system that must do both on the same cores
cannot beat 1 / (1/transport + 1/database) jobs/s.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import json
import secrets
import sys
import time
import uuid

import grpc
import nacl.signing
import psycopg
from computepool.encoding import result_digest
from computepool.v1 import job_service_pb2 as job_pb
from computepool.v1 import job_service_pb2_grpc
from computepool.v1 import miner_service_pb2 as miner_pb
from computepool.v1 import miner_service_pb2_grpc
from computepool.v1.job_pb2 import Job, Receipt
from coordinator.app import SERVER_OPTIONS
from computepool.receipts import verify_miner_signature
from coordinator.market.receipts import ReceiptSigner
from google.protobuf import json_format, timestamp_pb2
from sqlalchemy.engine import make_url

from bench.dispatch import ROOT, Cluster, CpuMeter, run_flow


def now_ts() -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.GetCurrentTime()
    return stamp


class MemoryPool(job_service_pb2_grpc.JobServiceServicer, miner_service_pb2_grpc.MinerServiceServicer):
    """Jobs in a deque, no database, no auth: only the transport and the per-job crypto."""

    def __init__(self) -> None:
        self.queue: collections.deque[Job] = collections.deque()
        self.keys: dict[str, str] = {}
        self.signer = ReceiptSigner(nacl.signing.SigningKey.generate())
        self.arrived = asyncio.Event()

    def _new_job(self, request: job_pb.SubmitJobRequest) -> Job:
        stamp = now_ts()
        job = Job(id=str(uuid.uuid4()), client_id="bench", job_type=request.job_type, status="pending",
                  created_at=stamp, updated_at=stamp, unit_price_nanoton=1, attempts=0)
        self.queue.append(job)
        self.arrived.set()
        return job

    async def SubmitJob(self, request, context):
        return self._new_job(request)

    async def BatchSubmitJobs(self, request, context):
        return job_pb.BatchSubmitJobsResponse(jobs=[self._new_job(r) for r in request.jobs])

    async def RegisterMiner(self, request, context):
        miner_id = str(uuid.uuid4())
        self.keys[miner_id] = request.public_key
        return miner_pb.RegisterMinerResponse(miner=miner_pb.Miner(id=miner_id, worker_id=1),
                                              miner_token=secrets.token_urlsafe(32))

    async def SendHeartbeat(self, request, context):
        return miner_pb.SendHeartbeatResponse(received_at=now_ts())

    async def StreamHeartbeats(self, request_iterator, context):
        async for _ in request_iterator:
            yield miner_pb.StreamHeartbeatsResponse(ack=miner_pb.SendHeartbeatResponse(received_at=now_ts()))

    async def FetchJobs(self, request, context):
        deadline = time.monotonic() + request.wait.ToTimedelta().total_seconds()
        while not self.queue and time.monotonic() < deadline:
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                pass
        assignments = []
        while self.queue and len(assignments) < (request.max_jobs or 1):
            job = self.queue.popleft()
            job.status, job.attempts = "running", 1
            assignments.append(miner_pb.JobAssignment(job=job, lease_token=secrets.token_hex(16),
                                                      lease_expires_at=now_ts(), attempt=1))
        return miner_pb.FetchJobsResponse(assignments=assignments)

    def _complete(self, request) -> miner_pb.SubmitResultResponse:
        result_hash = result_digest(json_format.MessageToDict(request.result))
        if not verify_miner_signature(self.keys[request.miner_id], result_hash, request.miner_signature):
            raise ValueError("bad miner signature")
        payload, signature = self.signer.sign({"job_id": request.job_id, "result_hash": result_hash,
                                               "units": request.units})
        job = Job(id=request.job_id, status="completed", updated_at=now_ts())
        return miner_pb.SubmitResultResponse(job=job, receipt=Receipt(
            id=str(uuid.uuid4()), job_id=request.job_id, miner_id=request.miner_id, result=request.result,
            proof=signature, payload=payload, result_hash=result_hash, units=request.units, created_at=now_ts()))

    async def SubmitResult(self, request, context):
        return self._complete(request)

    async def SubmitResults(self, request, context):
        outcomes = []
        for result in request.results:
            done = self._complete(result)
            outcomes.append(miner_pb.ResultOutcome(job_id=result.job_id, job=done.job, receipt=done.receipt))
        return miner_pb.SubmitResultsResponse(outcomes=outcomes)


async def serve_memory_pool() -> None:
    server = grpc.aio.server(options=SERVER_OPTIONS)  # the pool server's own options
    pool = MemoryPool()
    job_service_pb2_grpc.add_JobServiceServicer_to_server(pool, server)
    miner_service_pb2_grpc.add_MinerServiceServicer_to_server(pool, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(f"gRPC on 127.0.0.1:{port}", flush=True)
    await server.wait_for_termination()


class MemoryCluster:
    """Two MemoryPool processes, shaped like dispatch.Cluster for run_flow."""

    def __init__(self, processes: int):
        self.processes = processes

    async def __aenter__(self) -> MemoryCluster:
        self.servers = []
        for _ in range(self.processes):
            process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.floor", "--serve",
                                                           cwd=ROOT, stdout=asyncio.subprocess.PIPE)
            line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
            self.servers.append((process, int(line.rsplit(":", 1)[1])))
        self.channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for _, port in self.servers]
        return self

    async def __aexit__(self, *_):
        for channel in self.channels:
            await channel.close()
        for process, _ in self.servers:
            process.terminate()
            await process.wait()


async def fan_in(streams: int, seconds: float) -> dict:
    from bench.harness import Profiler, drive_fan_in

    async with MemoryCluster(1) as cluster:
        process, port = cluster.servers[0]
        return await drive_fan_in(process, port, streams, seconds, 2, Profiler(False, "floor-fanin"))


async def transport(jobs: int, processes: int) -> dict:
    results = {}
    async with MemoryCluster(processes) as cluster:
        results["single"] = await run_flow(cluster, jobs, 20, batched=False)
        print("transport floor, one job per call:", results["single"], flush=True)
    async with MemoryCluster(processes) as cluster:
        results["batched"] = await run_flow(cluster, jobs * 3, 20, batched=True)
        print("transport floor, batched:", results["batched"], flush=True)
    return results


INSERT_JOB = """
    INSERT INTO jobs (id, client_id, job_type, parameters, status, priority, required_model, min_vram_gb,
                      required_gpu_model, unit_price_nanoton, max_price_nanoton, attempts, max_attempts,
                      available_at, expires_at, error_message, created_at, updated_at)
    VALUES (%s, 'bench', 'echo', '{}', 'pending', 0, '', 0, '', 1, 0, 0, 3, now(), now() + interval '1 day', '',
            now(), now())"""
CLAIM = """
    UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_token = %s, lease_worker_id = %s,
                    lease_expires_at = now() + interval '2 minutes', lease_price_coefficient_micros = 1000000,
                    updated_at = now()
    WHERE id IN (SELECT id FROM jobs WHERE status = 'pending' AND available_at <= now() AND expires_at > now()
                 AND job_type = 'echo' ORDER BY priority DESC, created_at LIMIT %s FOR UPDATE SKIP LOCKED)
    RETURNING id, client_id, job_type, parameters, attempts, lease_token, created_at"""
LOCK = "SELECT id, status, lease_token, lease_worker_id FROM jobs WHERE id = ANY(%s) ORDER BY id FOR UPDATE"
COMPLETE = """
    UPDATE jobs SET status = 'completed', lease_token = NULL, lease_worker_id = NULL, lease_expires_at = NULL,
                    lease_price_coefficient_micros = NULL, updated_at = now() WHERE id = ANY(%s)"""
INSERT_RECEIPT = """
    INSERT INTO receipts (id, job_id, miner_id, worker_id, participant_id, owner_wallet, attempt, result,
                          result_hash, units, charge_nanoton, earning_nanoton, fee_nanoton, payload, signature,
                          miner_signature, key_id, created_at)
    VALUES (%s, %s, %s, %s, %s, 'UQ-bench', 1, '{"ok": true}', %s, 1, 1, 1, 0, %s, %s, %s, 'bench', now())"""
INSERT_LEDGER = """
    INSERT INTO ledger_entries (account, asset, amount, kind, job_id, receipt_id, participant_id, worker_id,
                                created_at)
    VALUES (%s, 'TON', %s, %s, %s, %s, %s, %s, now())"""


async def database(jobs: int, batched: bool, connections: int = 16) -> dict:
    """Inserts `jobs` jobs while `connections` miners claim and complete them (lock, update, one
    receipt and three ledger rows each): batched, 1,000 per insert and 64 per claim and per
    result transaction; else one job per transaction, from `connections` submitters too."""
    insert_size, claim_size = (1000, 64) if batched else (1, 1)
    async with Cluster(0) as cluster:
        url = make_url(cluster.url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(url, autocommit=True) as conn:
            participant = conn.execute(
                "INSERT INTO participants (wallet_address, wallet_raw, username, email, is_active, created_at, "
                "updated_at) VALUES ('UQ-bench', '0:bench', '', '', true, now(), now()) RETURNING id").fetchone()[0]
            worker = conn.execute(
                "INSERT INTO workers (participant_id, worker_name, instance_number, host, stats_port, "
                "price_coefficient_micros, is_active, latest_status, latest_revenue_nanoton, created_at, updated_at) "
                "VALUES (%s, 'bench', 0, '127.0.0.1', 0, 1000000, true, 'healthy', 0, now(), now()) RETURNING id",
                (participant,)).fetchone()[0]
            miner = str(uuid.uuid4())
            conn.execute("INSERT INTO miners (id, worker_id, public_key, token_hash, endpoint, capabilities, "
                         "gpu_model, gpu_count, vram_gb, max_concurrent_jobs, status, created_at, updated_at) "
                         "VALUES (%s, %s, '', 'x', '', '[]', '', 1, 80, 1024, 'active', now(), now())",
                         (miner, worker))
        signer = ReceiptSigner(nacl.signing.SigningKey.generate())
        miner_key = nacl.signing.SigningKey.generate()
        public_key = base64.b64encode(bytes(miner_key.verify_key)).decode()
        completed = 0
        started = time.perf_counter()
        meter = CpuMeter([], cluster.url)
        meter.start()

        chunks = iter(range(0, jobs, insert_size))

        opened: list[psycopg.AsyncConnection] = []  # closed after the meter reads their backends' CPU

        async def connect() -> psycopg.AsyncConnection:
            opened.append(await psycopg.AsyncConnection.connect(url))
            return opened[-1]

        async def submit() -> None:
            conn = await connect()
            for i in chunks:
                async with conn.transaction(), conn.cursor() as cursor:
                    await cursor.executemany(INSERT_JOB, [(str(uuid.uuid4()),)
                                                          for _ in range(min(insert_size, jobs - i))])

        async def mine() -> None:
            nonlocal completed
            conn = await connect()
            while completed < jobs:
                async with conn.transaction():
                    leased = await (await conn.execute(CLAIM, (secrets.token_hex(16), worker, claim_size))).fetchall()
                if not leased:
                    await asyncio.sleep(0.005)
                    continue
                result_hash = result_digest({"ok": True})
                miner_signature = base64.b64encode(miner_key.sign(bytes.fromhex(result_hash)).signature).decode()
                ids = [row[0] for row in leased]
                async with conn.transaction(), conn.cursor() as cursor:
                    await cursor.execute(LOCK, (ids,))
                    await cursor.fetchall()
                    receipts, entries = [], []
                    for job_id in ids:
                        assert verify_miner_signature(public_key, result_hash, miner_signature)
                        receipt_id = str(uuid.uuid4())
                        payload, signature = signer.sign({"job_id": job_id, "result_hash": result_hash})
                        receipts.append((receipt_id, job_id, miner, worker, participant, result_hash, payload,
                                         signature, miner_signature))
                        entries += [("client:bench", -1, "charge", job_id, receipt_id, None, None),
                                    (f"participant:{participant}", 1, "earning", job_id, receipt_id,
                                     participant, worker),
                                    ("pool:fees", 0, "fee", job_id, receipt_id, None, None)]
                    await cursor.execute(COMPLETE, (ids,))
                    await cursor.executemany(INSERT_RECEIPT, receipts)
                    await cursor.executemany(INSERT_LEDGER, entries)
                completed += len(ids)

        submitters = connections if not batched else 1
        await asyncio.gather(*[submit() for _ in range(submitters)], *[mine() for _ in range(connections)])
        elapsed = time.perf_counter() - started
        cpu = meter.stop(jobs)
        for conn in opened:
            await conn.close()
    return {"jobs": jobs, "seconds": round(elapsed, 2), "jobs_per_s": round(jobs / elapsed), **cpu}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=["transport", "database", "fanin", "all"], default="all")
    parser.add_argument("--jobs", type=int, default=6000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--streams", type=int, default=10_000)
    parser.add_argument("--fanin-seconds", type=float, default=60.0)
    args = parser.parse_args()
    results = {}
    if args.scenario in ("transport", "all"):
        results["transport"] = await transport(args.jobs, args.processes)
    if args.scenario in ("database", "all"):
        results["database_single"] = await database(args.jobs, batched=False)
        print("database floor, one job per transaction:", results["database_single"], flush=True)
        results["database_batched"] = await database(args.jobs * 3, batched=True)
        print("database floor, batched:", results["database_batched"], flush=True)
    if args.scenario in ("fanin", "all"):
        results["fanin"] = await fan_in(args.streams, args.fanin_seconds)
        print("fan-in floor:", json.dumps(results["fanin"]), flush=True)
    out = ROOT / "bench" / "results" / "floor.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        asyncio.run(serve_memory_pool())
    else:
        asyncio.run(main())
