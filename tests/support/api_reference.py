"""The API reference (envoy/openapi.json) as the tests read it, and a stack that serves it: a real
server process, a real Envoy in front of it, and a World of seeded things (tests/support/access_table)."""

from __future__ import annotations

import contextlib
import json
import pathlib
from dataclasses import dataclass

from coordinator.api.access import RULES
from devtools.envoy_config import ENVOY_DIR

from tests.support.access_table import World, build_world
from tests.support.envoy import server_behind_envoy
from tests.support.server import API_KEY, TEST_ZPUB

DOCUMENT = json.loads((ENVOY_DIR / "openapi.json").read_text())
METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict

    @property
    def streams(self) -> bool:
        """Answers with Server-Sent Events until the caller ends it (a server-streaming rpc)."""
        return "text/event-stream" in self.spec["responses"].get("200", {}).get("content", {})

    @property
    def rpc(self) -> str:
        """The gRPC method it transcodes to: "/computepool.v1.JobService/SubmitJob" (operationId
        JobService_SubmitJob or, for another binding, JobService_SubmitJob_2)."""
        service, method = self.spec["operationId"].split("_")[:2]
        package = "grpc.health.v1" if service == "Health" else "computepool.v1"
        return f"/{package}.{service}/{method}"

    @property
    def schemes(self) -> list[set[str]]:
        """The security alternatives, each the set of scheme names sent together; [] if public."""
        return [set(requirement) for requirement in self.spec.get("security", [])]

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"


OPERATIONS = [Operation(method, path, spec) for path, methods in DOCUMENT["paths"].items()
              for method, spec in methods.items() if method in METHODS]


def allowed_kinds(operation: Operation) -> frozenset[str]:
    return RULES.get(operation.rpc, frozenset())


@dataclass(frozen=True)
class Served:
    url: str  # Envoy's
    grpc_port: int  # the server's own
    world: World


@contextlib.asynccontextmanager
async def serving_stack(database_url: str, workdir: pathlib.Path):
    """Yields a Served: a server process (payments go to BIP84 addresses of TEST_ZPUB, so the
    exchange works) behind a real Envoy, and the World seeded through it."""
    # /metrics is not used here: no HTTP port routed
    async with server_behind_envoy(workdir, DATABASE_URL=database_url, API_KEYS=API_KEY,
                                   BITCOIN_XPUB=TEST_ZPUB) as (envoy, channel, grpc_port):
        yield Served(envoy.url, grpc_port, await build_world(channel))
