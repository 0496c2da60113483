"""A test miner: a real Ed25519 key pair, registered through the real API."""

from __future__ import annotations

import base64
import copy
import hashlib
import json

import grpc
import nacl.signing
from computepool.v1 import miner_service_pb2 as pb
from computepool.v1 import miner_service_pb2_grpc
from coordinator.storage.models import Job
from google.protobuf import duration_pb2, json_format, struct_pb2

from tests.support.server import AUTH
from tests.support.wallets import forms, new_wallet


def digest(result: dict) -> str:
    """A result's hash as a miner computes it, written out here rather than taken from the server's
    computepool.encoding.result_digest, so that tests compare the two."""
    return hashlib.sha256(json.dumps(result, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class Miner:
    def __init__(self, channel: grpc.aio.Channel, *, job_types=("llm_inference", "embedding", "echo"), models=(),
                 vram_gb=80.0, gpu_model="H100", price_coefficient=1.0, max_concurrent_jobs=64, wallet=None,
                 name="rig", instance=0, auth=AUTH):
        self.stub = miner_service_pb2_grpc.MinerServiceStub(channel)
        self.auth = auth  # the API key metadata the miner calls with
        self.key = nacl.signing.SigningKey.generate()
        self.wallet = wallet or forms(new_wallet())["non_bounceable"]
        self.request = pb.RegisterMinerRequest(
            address=self.wallet, endpoint="127.0.0.1:12000", worker_name=name, instance_number=instance,
            capabilities=[json_format.ParseDict({"job_type": t, "models": list(models)}, struct_pb2.Value())
                          for t in job_types],
            hardware=pb.MinerHardware(gpu_model=gpu_model, gpu_count=1, vram_gb=vram_gb,
                                      max_concurrent_jobs=max_concurrent_jobs),
            price_coefficient=price_coefficient, public_key=base64.b64encode(bytes(self.key.verify_key)).decode())
        self.id = self.token = ""
        self.worker_id = 0

    async def register(self) -> Miner:
        response = await self.stub.RegisterMiner(self.request, metadata=self.auth)
        self.id, self.token, self.worker_id = response.miner.id, response.miner_token, response.miner.worker_id
        return self

    def via(self, stub: miner_service_pb2_grpc.MinerServiceStub) -> Miner:
        """The same miner (key, id, credential) calling through another stub: another server."""
        twin = copy.copy(self)
        twin.stub = stub
        return twin

    @property
    def metadata(self):
        return self.auth + (("x-miner-token", self.token),)

    async def fetch(self, max_jobs=1, wait_s=0.0) -> list[pb.JobAssignment]:
        wait = duration_pb2.Duration()
        wait.FromMilliseconds(int(wait_s * 1000))
        response = await self.stub.FetchJobs(pb.FetchJobsRequest(miner_id=self.id, max_jobs=max_jobs, wait=wait),
                                             metadata=self.metadata)
        return list(response.assignments)

    async def lease(self, job_id: str, attempts: int = 20) -> pb.JobAssignment:
        """Fetches until this job is leased to this miner (another test's job may come first)."""
        for _ in range(attempts):
            for assignment in await self.fetch(max_jobs=50, wait_s=0.2):
                if assignment.job.id == job_id:
                    return assignment
        raise AssertionError(f"job {job_id} was never offered")

    def sign(self, result_hash: str) -> str:
        return base64.b64encode(self.key.sign(bytes.fromhex(result_hash)).signature).decode()

    def result(self, assignment: pb.JobAssignment, result: dict | None = None, units=100) -> pb.SubmitResultRequest:
        result = result if result is not None else {"text": f"done {assignment.job.id}"}
        message = struct_pb2.Struct()
        message.update(result)
        return pb.SubmitResultRequest(miner_id=self.id, job_id=assignment.job.id, lease_token=assignment.lease_token,
                                      outcome="completed", result=message, units=units,
                                      miner_signature=self.sign(digest(result)))

    async def complete(self, assignment: pb.JobAssignment, result: dict | None = None, units=100,
                       metadata=None) -> pb.SubmitResultResponse:
        return await self.stub.SubmitResult(self.result(assignment, result, units), metadata=metadata or self.metadata)

    async def complete_all(self, assignments: list[pb.JobAssignment], units=1) -> pb.SubmitResultsResponse:
        return await self.stub.SubmitResults(pb.SubmitResultsRequest(
            miner_id=self.id, results=[self.result(a, {"ok": True}, units) for a in assignments]),
            metadata=self.metadata)

    async def fail(self, assignment: pb.JobAssignment, why="out of memory") -> pb.SubmitResultResponse:
        return await self.stub.SubmitResult(pb.SubmitResultRequest(
            miner_id=self.id, job_id=assignment.job.id, lease_token=assignment.lease_token, outcome="failed",
            error_message=why), metadata=self.metadata)

    async def heartbeat(self, running=(), status="healthy", gpu: float | None = 87.5) -> pb.SendHeartbeatResponse:
        """A heartbeat; gpu=None sends no GPU figures at all, as a miner without a GPU does."""
        figures = {} if gpu is None else {"gpu_utilization": gpu, "gpu_memory_used_gb": 40.5,
                                          "gpu_temperature_celsius": 64, "gpu_power_watts": 310.5}
        return await self.stub.SendHeartbeat(pb.SendHeartbeatRequest(miner_id=self.id, heartbeat=pb.Heartbeat(
            status=status, requests_total=10, errors_total=1, running_job_ids=list(running), **figures)),
            metadata=self.metadata)


async def cancel_open_jobs(database) -> None:
    """No claimable job left over from another test: a test miner is offered only its test's jobs."""
    async with database.transaction() as session:
        await session.execute(Job.__table__.update().where(Job.status.in_(("pending", "running")))
                              .values(status="cancelled", lease_token=None, lease_worker_id=None))
