"""Starting a server process and learning its port: for tests, benchmarks and tools."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import sys
import tempfile

from devtools.envoy_config import ROOT


def server_env(**overrides: str) -> dict[str, str]:
    """The environment of a test or benchmark server. Its receipts need not outlive it, so it may
    sign with a key of its own; pass SECRET_KEY when several processes must share one."""
    python_path = os.pathsep.join([str(ROOT / "server"), str(ROOT / "clients/src")])
    return {**os.environ, "GRPC_PORT": "0", "METRICS_PORT": "0", "PYTHONPATH": python_path,
            "ALLOW_EPHEMERAL_SIGNING_KEY": "1", **overrides}


async def start_server_process(env: dict[str, str], *, drain_output: bool = True, timeout_s: float = 30.0,
                               command: tuple[str, ...] = (sys.executable, "-m", "coordinator"), cwd: str | None = None
                               ) -> tuple[asyncio.subprocess.Process, int]:
    """Runs `python -m coordinator` (or `command`, such as an installed `computepool-server`) and
    waits for the port file it writes once it serves (PORT_FILE); returns the process and its
    gRPC port. Its output is piped: drained here, or left for the caller to read."""
    port_file = pathlib.Path(tempfile.mkdtemp(prefix="computepool-")) / "ports.json"
    process = await asyncio.create_subprocess_exec(*command, env={**env, "PORT_FILE": str(port_file)}, cwd=cwd,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    if drain_output:  # keep its pipe from filling up
        asyncio.get_running_loop().create_task(process.stdout.read())
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not port_file.exists():
        if process.returncode is not None:
            raise RuntimeError(f"the server exited ({process.returncode}) before serving")
        if asyncio.get_running_loop().time() > deadline:
            process.kill()
            raise RuntimeError(f"the server did not serve within {timeout_s:.0f} s")
        await asyncio.sleep(0.05)
    ports = json.loads(port_file.read_text())
    port_file.unlink()
    port_file.parent.rmdir()
    return process, ports["grpc_port"]
