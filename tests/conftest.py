"""Fixtures: a real gRPC server on port 0 over SQLite and over PostgreSQL, and a real Envoy.

Every test that uses `pool` (or anything built on it) runs once per database. PostgreSQL is
required: if it is unreachable the tests fail, they never skip (make test starts it).
"""

from __future__ import annotations

import json
import os
import pathlib
import time
import urllib.request
import uuid

import aiohttp
import grpc
import psycopg
import pytest
from computepool.v1 import participant_service_pb2_grpc, payout_service_pb2_grpc, worker_service_pb2_grpc
from coordinator.storage import migrate
from coordinator.app import build_server
from devtools.envoy_config import render, start_envoy
from coordinator.settings import Settings
from psycopg import sql
from sqlalchemy.engine import make_url

API_KEY = "test-key-1"
# BIP84's test vector account (mnemonic "abandon ... about"), m/84'/0'/0'.
TEST_ZPUB = ("zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2"
             "oz2AGutZYs")
AUTH = (("x-api-key", API_KEY),)
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _create_postgres_database(admin_url: str = PG_ADMIN_URL) -> tuple[str, str]:
    name = f"computepool_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as error:
        raise RuntimeError(f"PostgreSQL is required for the tests ({admin_url}): {error}. "
                           "`make test` starts it.") from error
    return name, make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(name: str, admin_url: str = PG_ADMIN_URL) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite')}/coordinator.db"
        migrate.upgrade(url)
        yield url
        return
    name, url = _create_postgres_database()
    try:
        migrate.upgrade(url)
        yield url
    finally:
        _drop_postgres_database(name)


def make_settings(database_url: str, **overrides) -> Settings:
    values = dict(database_url=database_url, grpc_port=0, metrics_port=0, api_keys=(API_KEY,), shutdown_grace_s=1.0,
                  bitcoin_xpub=TEST_ZPUB, allow_ephemeral_signing_key=True)
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
async def pool(database_url):
    """The server, without its background poller: tests drive polling rounds themselves."""
    server = build_server(make_settings(database_url), background_duties=False)
    await server.start()
    yield server
    await server.stop(0)


@pytest.fixture(scope="session")
async def channel(pool):
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{pool.grpc_port}")
    yield channel
    await channel.close()


class Stubs:
    def __init__(self, channel):
        self.workers = worker_service_pb2_grpc.WorkerServiceStub(channel)
        self.participants = participant_service_pb2_grpc.ParticipantServiceStub(channel)
        self.payouts = payout_service_pb2_grpc.PayoutServiceStub(channel)


@pytest.fixture(scope="session")
def stubs(channel) -> Stubs:
    return Stubs(channel)


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


@pytest.fixture(scope="session")
def envoy(pool, tmp_path_factory) -> Envoy:
    envoy = Envoy(tmp_path_factory.mktemp("envoy"), [pool.grpc_port], pool.metrics_port)
    yield envoy
    envoy.stop()


@pytest.fixture(scope="session")
async def http(envoy):
    """An HTTP client bound to Envoy, sending the API key unless a test overrides headers."""
    async with aiohttp.ClientSession(base_url=envoy.url, headers={"X-Api-Key": API_KEY}) as session:
        yield session
