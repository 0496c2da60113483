"""Fixtures: a real gRPC server on port 0 over SQLite and over PostgreSQL, and a real Envoy.

Every test that uses `pool` (or anything built on it) runs once per database. PostgreSQL is
required: if it is unreachable the tests fail, they never skip (make test starts it).
Helpers live in tests/support/; this module holds only fixtures.
"""

from __future__ import annotations

import aiohttp
import grpc
import pytest
from coordinator.app import build_server
from coordinator.storage import migrate

from tests.support.access_table import World, build_world
from tests.support.envoy import Envoy
from tests.support.pool_api import Stubs
from tests.support.postgres import create_database, drop_database
from tests.support.server import API_KEY, make_settings


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite')}/coordinator.db"
        migrate.upgrade(url)
        yield url
        return
    name, url = create_database()
    try:
        migrate.upgrade(url)
        yield url
    finally:
        drop_database(name)


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


@pytest.fixture(scope="session")
def stubs(channel) -> Stubs:
    return Stubs(channel)


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


@pytest.fixture(scope="module")
async def bare_http(envoy):
    """An HTTP client bound to Envoy that sends no credentials of its own."""
    async with aiohttp.ClientSession(base_url=envoy.url) as session:
        yield session


@pytest.fixture(scope="module")
async def world(channel) -> World:
    """The authorization table's world: one owner's things and a credential of each caller."""
    return await build_world(channel)
