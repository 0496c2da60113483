"""Starting a server process and learning its port: for tests, benchmarks and tools."""

from __future__ import annotations

import asyncio
import os
import sys

from devtools.envoy_config import ROOT


def server_env(**overrides: str) -> dict[str, str]:
    """The environment of a test or benchmark server. Its receipts need not outlive it, so it may
    sign with a key of its own; pass SECRET_KEY when several processes must share one."""
    python_path = os.pathsep.join([str(ROOT / "server"), str(ROOT / "clients/gen")])
    return {**os.environ, "GRPC_PORT": "0", "METRICS_PORT": "0", "PYTHONPATH": python_path,
            "ALLOW_EPHEMERAL_SIGNING_KEY": "1", **overrides}


async def start_server_process(env: dict[str, str], *, drain_output: bool = True,
                               command: tuple[str, ...] = (sys.executable, "-m", "coordinator"), cwd: str | None = None
                               ) -> tuple[asyncio.subprocess.Process, int]:
    """Runs `python -m coordinator` (or `command`, such as an installed `computepool-server`) and
    waits for its "gRPC on host:port" line."""
    process = await asyncio.create_subprocess_exec(*command, env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT)
    line = ""
    while "gRPC on " not in line:
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        if not line:
            raise RuntimeError("the server exited before serving")
    if drain_output:  # keep its pipe from filling up
        asyncio.get_running_loop().create_task(process.stdout.read())
    return process, int(line.split("gRPC on ")[1].split(",")[0].rsplit(":", 1)[1])
