"""computepool-miner run | doctor [--config PATH]

`doctor` registers the worker if it never did, runs the preflight checks and prints them; `run`
does the same, then works until SIGTERM or a `drain` directive. Exit codes: 0 done (drained),
1 a preflight check failed or the coordinator refuses this miner, 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from typing import AsyncIterator

import nacl.signing

from computepool import AsyncClient
from computepool.errors import ComputepoolError
from computepool.v1 import miner_service_pb2 as pb
from google.protobuf import json_format, struct_pb2

from computepool_miner import executors, state
from computepool_miner.agent import Agent, Fatal
from computepool_miner.config import Config, ConfigError, load
from computepool_miner.gpu import Gpus
from computepool_miner.telemetry import Metrics, configure_logging

log = logging.getLogger("computepool_miner")
DEFAULT_CONFIG = "/etc/computepool-miner/miner.toml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="computepool-miner",
        description="A computepool miner: registers this worker, checks it (doctor), works (run).")
    parser.add_argument("command", choices=("run", "doctor"))
    parser.add_argument("--config", type=Path,
                        default=Path(os.environ.get("COMPUTEPOOL_MINER_CONFIG", DEFAULT_CONFIG)))
    arguments = parser.parse_args(argv)
    try:
        config = load(arguments.config)
    except ConfigError as error:
        print(f"computepool-miner: {error}", file=sys.stderr)
        return 2
    configure_logging()
    return asyncio.run(doctor(config) if arguments.command == "doctor" else run(config))


async def doctor(config: Config) -> int:
    async with registered(config) as (client, identity, _):
        problems = await preflight(config, client, identity.miner_id, Gpus())
    return 1 if problems else 0


async def run(config: Config) -> int:
    async with registered(config) as (client, identity, key):
        gpus = Gpus()
        if await preflight(config, client, identity.miner_id, gpus):
            return 1
        metrics = Metrics()
        server = await metrics.serve(config.metrics_port)
        agent = Agent(config, client, identity.miner_id, key,
                      {job.job_type: executors.build(job) for job in config.jobs}, gpus, metrics)
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, agent.drain, "SIGTERM")
        loop.add_signal_handler(signal.SIGINT, agent.drain, "SIGINT")
        log.info("working", extra={"fields": {"miner_id": identity.miner_id, "worker_id": identity.worker_id,
                                              "max_concurrent_jobs": config.max_concurrent_jobs}})
        try:
            await agent.run()
        except Fatal as error:
            log.error(str(error))
            return 1
        finally:
            server.close()
    return 0


@contextlib.asynccontextmanager
async def registered(config: Config) -> AsyncIterator[tuple[AsyncClient, state.Identity, nacl.signing.SigningKey]]:
    """The miner's client, identity and key: registers on first start (or for another server) and
    keeps the identity in the state directory; later starts reuse it."""
    key = state.signing_key(config.state_dir)
    identity = state.load_identity(config.state_dir)
    if identity is None or identity.server != config.server:
        identity = await register(config, key)
        state.save_identity(config.state_dir, identity)
    async with AsyncClient(config.server, api_key=config.api_key, miner_token=identity.miner_token) as client:
        yield client, identity, key


async def register(config: Config, key: nacl.signing.SigningKey) -> state.Identity:
    capabilities = [json_format.ParseDict({"job_type": job.job_type, "models": list(job.models)}, struct_pb2.Value())
                    for job in config.jobs]
    request = pb.RegisterMinerRequest(
        address=config.owner_wallet, endpoint=config.endpoint or f"{socket.gethostname()}:{config.metrics_port}",
        capabilities=capabilities, worker_name=config.worker_name, instance_number=config.instance,
        hardware=pb.MinerHardware(gpu_model=config.hardware.gpu_model, gpu_count=config.hardware.gpu_count,
                                  vram_gb=config.hardware.vram_gb, max_concurrent_jobs=config.max_concurrent_jobs),
        price_coefficient=config.price_coefficient, public_key=base64.b64encode(bytes(key.verify_key)).decode())
    async with AsyncClient(config.server, api_key=config.api_key) as client:
        try:
            response = await client.miners.register(request, timeout=15)
        except ComputepoolError as error:
            print(f"computepool-miner: could not register: {error}", file=sys.stderr)
            raise SystemExit(1) from None
    log.info("registered", extra={"fields": {"miner_id": response.miner.id, "worker_id": response.miner.worker_id}})
    return state.Identity(response.miner.id, response.miner_token, response.miner.worker_id, config.server)


async def preflight(config: Config, client: AsyncClient, miner_id: str, gpus: Gpus) -> list[str]:
    """Checks, each printed as `ok` or `FAIL`: the coordinator answers and accepts the credential,
    each executor's backend answers, a GPU is visible. Returns the failures."""
    problems: list[str] = []

    def report(what: str, problem: str | None, *, fatal: bool = True) -> None:
        if problem and fatal:
            problems.append(f"{what}: {problem}")
        print(f"{'ok  ' if not problem else 'FAIL' if fatal else 'note'}  {what}"
              + (f": {problem}" if problem else ""), flush=True)

    try:
        await client.miners.heartbeat(miner_id, pb.Heartbeat(status="healthy"), timeout=10)
        report(f"coordinator {config.server} (miner {miner_id})", None)
    except ComputepoolError as error:
        hint = (f" (remove {config.state_dir / state.IDENTITY_FILE} to register again)"
                if error.reason.startswith("MINER_") else "")
        report(f"coordinator {config.server}", f"{error}{hint}")
    for job in config.jobs:
        report(f"executor {job.executor} for {job.job_type}", await executors.build(job).check())
    report(f"GPU {', '.join(gpus.names)}" if gpus.names else "GPU", gpus.problem or None, fatal=config.require_gpu)
    return problems


if __name__ == "__main__":
    sys.exit(main())
