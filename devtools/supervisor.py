"""`make run`: migrate, then run the server and Envoy together until Ctrl-C / SIGTERM.

gRPC on GRPC_PORT (50051), REST and gRPC through Envoy on API_PORT (8000), /metrics through
Envoy too, and the dashboard (web/dist, which the Makefile builds) on API_PORT under /app/.
Either process exiting stops the other. Without COORDINATOR_SIGNING_KEY or
SECRET_KEY, receipts are signed with a development key kept in var/, so they still verify after
a restart.
"""

from __future__ import annotations

import base64
import os
import pathlib
import signal
import subprocess
import sys
import time

from coordinator.settings import Settings
from coordinator.storage import migrate
from devtools.envoy_config import ROOT, render_from_env, start_envoy


def main() -> int:
    settings = Settings.from_env()
    migrate.upgrade(settings.database_url)
    state = ROOT / "var"
    state.mkdir(exist_ok=True)
    config = state / "envoy.yaml"
    config.write_text(render_from_env(os.environ))
    env = os.environ.copy()
    env.setdefault("DASHBOARD_DIR", str(ROOT / "web" / "dist"))  # the Makefile builds it before
    if not settings.coordinator_signing_key and not settings.secret_key:
        env["COORDINATOR_SIGNING_KEY"] = development_signing_key(state / DEVELOPMENT_KEY_FILE)
    server = subprocess.Popen([sys.executable, "-m", "coordinator"], env=env)
    envoy = start_envoy(config, state / "envoy.log")
    scheme = "https" if settings.tls_cert_file else "http"
    print(f"computepool: REST and gRPC on {scheme}://{settings.api_host}:{settings.api_port} (Envoy), "
          f"gRPC on {settings.grpc_host}:{settings.grpc_port}; Envoy log in {state / 'envoy.log'}", flush=True)

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and server.poll() is None and envoy.poll() is None:
        time.sleep(0.2)
    for process in (envoy, server):  # Envoy first: no new requests, then the server drains
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=settings.shutdown_grace_s + 5)
            except subprocess.TimeoutExpired:
                process.kill()
    return 0 if stopping else 1


DEVELOPMENT_KEY_FILE = "receipt-signing-key.dev"


def development_signing_key(path: pathlib.Path) -> str:
    """The development receipt signing seed (base64) kept in `path`, made on the first run."""
    try:
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
            seed = base64.b64encode(os.urandom(32)).decode()
            file.write(seed + "\n")
        told = f"made a development receipt signing key in {path}; later runs reuse it"
    except FileExistsError:
        seed = path.read_text().strip()
        told = f"receipts are signed with the development key in {path}"
    print(f"computepool: {told}. For development only: set COORDINATOR_SIGNING_KEY or SECRET_KEY in production",
          flush=True)
    return seed


if __name__ == "__main__":
    sys.exit(main())
