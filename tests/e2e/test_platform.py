"""The platform: health, reflection, settings, migrations, graceful shutdown."""

import asyncio
import contextlib
import signal
import subprocess
import sys

import grpc
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from computepool.v1 import job_service_pb2 as job_pb
from google.protobuf import descriptor_pb2
from computepool.v1 import job_service_pb2_grpc, miner_service_pb2_grpc, receipt_service_pb2_grpc
from computepool.v1 import participant_service_pb2 as participant_pb
from computepool.v1 import participant_service_pb2_grpc
from computepool.v1 import receipt_service_pb2 as receipt_pb
from coordinator.storage.database import sync_url
from devtools.envoy_config import ROOT
from devtools.launch import server_env, start_server_process
from coordinator.storage.models import Base, Participant
from coordinator.settings import Settings
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2
from sqlalchemy import create_engine, func, inspect, select

from tests.support.miner import Miner
from tests.support.server import API_KEY, AUTH


async def test_health_reports_serving_for_the_server_and_each_service(channel, pool):
    stub = health_pb2_grpc.HealthStub(channel)
    for service in ["", *pool.service_names]:
        response = await stub.Check(health_pb2.HealthCheckRequest(service=service))
        assert response.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize("version", ["v1", "v1alpha"])
async def test_reflection_lists_every_service_and_describes_it(channel, version):
    """Both protocol versions answer: v1 is what current clients ask first, v1alpha what older ones ask."""
    call = channel.stream_stream(f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo",
                                 request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                                 response_deserializer=reflection_pb2.ServerReflectionResponse.FromString)
    responses = [response async for response in call(iter([
        reflection_pb2.ServerReflectionRequest(list_services=""),
        reflection_pb2.ServerReflectionRequest(file_containing_symbol="computepool.v1.JobService"),
        reflection_pb2.ServerReflectionRequest(file_containing_symbol=f"grpc.reflection.{version}.ServerReflection"),
    ]))]
    names = {s.name for s in responses[0].list_services_response.service}
    assert {f"computepool.v1.{name}" for name in ("WorkerService", "ParticipantService", "PayoutService",
                                                  "JobService", "MinerService", "ReceiptService", "UserService",
                                                  "ExchangeService")} <= names
    assert {"grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection"} <= names
    for response, package in zip(responses[1:], ["computepool.v1", f"grpc.reflection.{version}"]):
        files = [descriptor_pb2.FileDescriptorProto.FromString(raw)
                 for raw in response.file_descriptor_response.file_descriptor_proto]
        assert package in {file.package for file in files}


def test_migrations_build_exactly_the_models(database_url):
    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        job_indexes = {index["name"] for index in inspect(connection).get_indexes("jobs")}
    engine.dispose()
    # Alembic cannot compare expression indexes: the hand-written queue index is checked by name.
    assert [d for d in differences if not (d[0].endswith("_index") and d[1].name == "ix_jobs_queue")] == []
    assert "ix_jobs_queue" in job_indexes


def test_settings_come_from_the_documented_environment_variables():
    settings = Settings.from_env({"DATABASE_URL": "postgresql://u@h/db", "API_HOST": "0.0.0.0", "API_PORT": "9000",
                                  "GRPC_PORT": "6000", "SECRET_KEY": "s", "API_KEYS": "key1, key2,,key3",
                                  "BITCOIN_ADDRESS": "tb1qxy2", "BTC_TO_AITBC_RATE": "100000"})
    assert (settings.database_url, settings.api_host, settings.api_port, settings.grpc_port) == (
        "postgresql://u@h/db", "0.0.0.0", 9000, 6000)
    assert settings.api_keys == ("key1", "key2", "key3") and settings.btc_to_aitbc_rate == 100000
    defaults = Settings.from_env({})
    assert (defaults.database_url, defaults.api_port, defaults.grpc_port) == ("sqlite:///coordinator.db", 8000, 50051)
    with pytest.raises(ValueError, match="API_PORT"):
        Settings.from_env({"API_PORT": "eighty"})
    assert not defaults.allow_ephemeral_signing_key
    assert Settings.from_env({"ALLOW_EPHEMERAL_SIGNING_KEY": "1"}).allow_ephemeral_signing_key
    with pytest.raises(ValueError, match="ALLOW_EPHEMERAL_SIGNING_KEY"):
        Settings.from_env({"ALLOW_EPHEMERAL_SIGNING_KEY": "maybe"})


@contextlib.asynccontextmanager
async def migrated_server_process(database_url: str, **env: str):
    """A server process (its output not drained: the test reads it) on a freshly migrated
    database; killed on the way out if the test has not ended it."""
    env = server_env(DATABASE_URL=database_url, API_KEYS=API_KEY, **env)
    subprocess.run([sys.executable, "-m", "coordinator.storage.migrate"], env=env, check=True)
    process, port = await start_server_process(env, drain_output=False)
    try:
        yield process, port
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


# A server environment with no receipt signing key configured (whatever the test runner's is).
NO_SIGNING_KEY = {"COORDINATOR_SIGNING_KEY": "", "SECRET_KEY": "", "ALLOW_EPHEMERAL_SIGNING_KEY": ""}


def test_the_production_entry_refuses_to_start_without_a_signing_key(tmp_path):
    env = server_env(DATABASE_URL=f"sqlite:///{tmp_path}/unused.db", API_KEYS=API_KEY, **NO_SIGNING_KEY)
    try:
        done = subprocess.run([sys.executable, "-m", "coordinator"], env=env, capture_output=True, text=True,
                              timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("the server started without a receipt signing key")
    assert done.returncode == 1
    assert "no receipt signing key" in done.stderr and "ALLOW_EPHEMERAL_SIGNING_KEY=1" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    for bad in ("c2hvcnQ=", "clé"):  # too short; not base64
        env["COORDINATOR_SIGNING_KEY"] = bad
        done = subprocess.run([sys.executable, "-m", "coordinator"], env=env, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 1 and "COORDINATOR_SIGNING_KEY must be the base64 of 32 bytes" in done.stderr


async def test_a_receipt_from_before_a_make_run_restart_still_verifies(database_url, tmp_path, capsys):
    """`make run` (run_all) without a configured key signs with the development key it keeps in
    var/: a receipt issued before a restart verifies after it."""
    from devtools.supervisor import DEVELOPMENT_KEY_FILE, development_signing_key

    key_file = tmp_path / DEVELOPMENT_KEY_FILE

    def make_run_env() -> dict[str, str]:
        return {**NO_SIGNING_KEY, "COORDINATOR_SIGNING_KEY": development_signing_key(key_file)}

    async with migrated_server_process(database_url, **make_run_env()) as (process, port):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            miner = await Miner(channel, job_types=("echo",)).register()
            job = await job_service_pb2_grpc.JobServiceStub(channel).SubmitJob(
                job_pb.SubmitJobRequest(job_type="echo", priority=9), metadata=AUTH)  # first in the queue
            assignments = []
            for _ in range(20):
                assignments += [a for a in await miner.fetch(wait_s=1) if a.job.id == job.id]
                if assignments:
                    break
            receipt = (await miner.complete(assignments[0])).receipt
        process.terminate()
        await process.wait()
    async with migrated_server_process(database_url, **make_run_env()) as (process, port):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            verdict = await receipt_service_pb2_grpc.ReceiptServiceStub(channel).VerifyReceipt(
                receipt_pb.VerifyReceiptRequest(receipt=receipt))
    assert verdict.valid, verdict.reason
    made, kept = capsys.readouterr().out.splitlines()  # one line per start
    assert f"made a development receipt signing key in {key_file}" in made
    assert f"signed with the development key in {key_file}" in kept and "in production" in kept
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only


async def test_sigterm_drains_in_flight_calls_and_exits_cleanly(tmp_path):
    """A server process under load gets SIGTERM. Calls it had started finish (some complete
    after the signal); calls it had not started are refused (gRPC core cancels them) and write
    nothing; the process exits 0."""
    database_url = f"sqlite:///{tmp_path}/drain.db"
    outcomes = []
    async with migrated_server_process(database_url, SHUTDOWN_GRACE_S="5") as (process, port):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = participant_service_pb2_grpc.ParticipantServiceStub(channel)
            await stub.ListParticipants(participant_pb.ListParticipantsRequest(), metadata=AUTH)  # connected
            signalled = asyncio.Event()

            async def create(i: int) -> None:
                try:
                    await stub.CreateParticipant(participant_pb.CreateParticipantRequest(
                        ton_wallet_address=f"0:{i:064x}"), metadata=AUTH)
                    outcomes.append(("ok", signalled.is_set()))
                except grpc.aio.AioRpcError as error:
                    outcomes.append((error.code(), signalled.is_set()))

            calls = [asyncio.ensure_future(create(i)) for i in range(1, 201)]
            await asyncio.sleep(0.05)
            process.send_signal(signal.SIGTERM)
            signalled.set()
            await asyncio.gather(*calls)
        assert await asyncio.wait_for(process.wait(), 20) == 0
    finished = [after for code, after in outcomes if code == "ok"]
    refused = {code for code, _ in outcomes if code != "ok"}
    assert any(finished), "no call finished after SIGTERM: nothing was drained"
    assert refused <= {grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE}
    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        stored = connection.execute(select(func.count(Participant.id))).scalar_one()
    engine.dispose()
    assert stored == len(finished)


async def test_sigterm_with_hundreds_of_open_heartbeat_streams_exits(tmp_path):
    """Miners hold their heartbeat streams open for as long as the server runs: SIGTERM must end
    them after the grace period and the process must exit 0 (it once hung for ever closing its
    event loop, with grpc.aio's call tasks still pending)."""
    async with migrated_server_process(f"sqlite:///{tmp_path}/streams.db", SHUTDOWN_GRACE_S="1") as (process, port):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = miner_service_pb2_grpc.MinerServiceStub(channel)
            streams = [stub.StreamHeartbeats(metadata=AUTH) for _ in range(500)]
            for call in streams:  # open, but no heartbeat yet: each server handler awaits its first message
                await call.wait_for_connection()
            await asyncio.sleep(1)
            process.send_signal(signal.SIGTERM)
            ended = [await call.code() for call in streams]
            assert await asyncio.wait_for(process.wait(), 20) == 0
        output = (await process.stdout.read()).decode()
    assert set(ended) <= {grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE}
    assert "Exception not handled" not in output and "after SIGTERM" not in output  # a clean exit


async def test_a_reflection_client_lists_and_calls_every_service(pool):
    """`buf curl` is a real reflection client (as grpcurl is): it learns the schema from the server."""
    async def buf_curl(*args: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            str(ROOT / "node_modules/.bin/buf"), "curl", "--protocol", "grpc", "--http2-prior-knowledge", *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        output, _ = await process.communicate()
        return process.returncode, output.decode()

    url = f"http://127.0.0.1:{pool.grpc_port}"
    code, listing = await buf_curl("--reflect-protocol", "grpc-v1", "--list-services", url)
    assert code == 0 and set(pool.service_names) <= set(listing.split())
    code, answer = await buf_curl("-H", f"x-api-key: {API_KEY}", "-d", '{"limit": 1}',
                                  f"{url}/computepool.v1.WorkerService/ListWorkers")
    assert code == 0 and answer.lstrip().startswith("{")
