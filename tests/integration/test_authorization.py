"""Who may call what: every rpc against six callers — anonymous, an admin, a client key and a
miner key (both owned by the participant whose things are asked for), that participant's
wallet session, and another participant's session — through gRPC and through REST (Envoy).

An allowed call must succeed; a refused one must be UNAUTHENTICATED (401) for the anonymous
caller and PERMISSION_DENIED (403) or, for another client's job, NOT_FOUND (404) otherwise.
The REST request of each rpc is derived from its google.api.http annotation, so the table
covers the REST bindings exactly as published.
"""

from __future__ import annotations

import grpc
import pytest
from coordinator.api.access import RULES
from coordinator.api.services import rpc_paths, services

from tests.support.access_table import CALLERS, TABLE, build_request, call_rpc, rest_request


def test_every_rpc_is_declared_and_in_the_table():
    published = {path.removeprefix("/computepool.v1.") for path in rpc_paths()}
    assert len(services()) == 11 and len(published) == 57  # the registry finds every service of the protos
    assert {rpc.removeprefix("/computepool.v1.") for rpc in RULES} == published
    assert set(TABLE) == published


def _expectation(rpc: str, caller: str) -> str:
    if caller in TABLE[rpc].allowed:
        return "ok"
    return "unauthenticated" if caller == "anonymous" else "denied"


GRPC_OUTCOME = {grpc.StatusCode.OK: "ok", grpc.StatusCode.UNAUTHENTICATED: "unauthenticated",
                grpc.StatusCode.PERMISSION_DENIED: "denied", grpc.StatusCode.NOT_FOUND: "denied"}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("rpc", sorted(TABLE))
async def test_grpc(world, rpc, caller):
    request, metadata = await build_request(world, rpc, caller)
    error = await call_rpc(world, rpc, request, metadata)
    code, detail = (grpc.StatusCode.OK, "") if error is None else (error.code(), error.details())
    assert GRPC_OUTCOME.get(code, code) == _expectation(rpc, caller), detail


GRPC_ONLY = {"MinerService/StreamHeartbeats", "JobService/WatchJob"}  # no google.api.http binding
REST_OUTCOME = {200: "ok", 201: "ok", 401: "unauthenticated", 403: "denied", 404: "denied"}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("rpc", sorted(rpc for rpc in TABLE if rpc not in GRPC_ONLY))
async def test_rest(world, bare_http, rpc, caller):
    request, metadata = await build_request(world, rpc, caller)
    verb, path, body = rest_request(rpc, request)
    async with bare_http.request(verb, path, json=body, headers=dict(metadata)) as response:
        # a stream that was let in sends events until the caller ends it: its first one will do
        streams = response.status == 200 and response.content_type == "text/event-stream"
        text = (await response.content.readuntil(b"\n\n")).decode() if streams else await response.text()
        assert REST_OUTCOME.get(response.status, response.status) == _expectation(rpc, caller), (verb, path, text)
