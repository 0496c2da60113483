"""The API reference (envoy/openapi.json) tells the truth about the REST API behind Envoy.

schemathesis calls every operation of the document through a real Envoy in front of a real server
with seeded data (the access table's World, a payment, a receipt), authenticated as each operation
needs; every response must conform to the document (status code, content type, headers, body) and
none may be a 5xx (`pytest -s` prints the figures). Then: each operation's security requirement
says who is refused, and Envoy serves the document, Swagger UI and ReDoc to anyone, however low
the rate limits.
"""

from __future__ import annotations

import collections
import itertools
import re
from dataclasses import dataclass

import hypothesis
import pytest
import requests
import schemathesis
from computepool.v1 import miner_service_pb2 as miner_pb
from coordinator.settings import Settings
from google.protobuf import json_format
from hypothesis import strategies as st
from schemathesis import checks as base_checks
from schemathesis.specs.openapi import checks
from scripts.ton_proof import Wallet

from tests.support.access_table import World
from tests.support.api_reference import DOCUMENT, OPERATIONS, Operation, Served, allowed_kinds, serving_stack
from tests.support.envoy import Envoy
from tests.support.pool_api import payout_request
from tests.support.server import API_KEY
from tests.support.wallets import forms, new_wallet

pytestmark = pytest.mark.envoy

# About 50 s per database for the 64 operations on two cores, half of each operation's examples
# naming seeded things; derandomized, so every run makes the same requests.
EXAMPLES_PER_OPERATION = 40
CONFORMANCE = [base_checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
               checks.response_headers_conformance, checks.response_schema_conformance]
# ignored_auth: schemathesis also calls each secured operation without our credentials and with
# made-up ones, and expects 401 or 403.
CHECKS = [*CONFORMANCE, checks.ignored_auth]
CREDENTIAL_HEADERS = {scheme["name"].lower() for scheme in DOCUMENT["components"]["securitySchemes"].values()}
# A miner's long poll may wait up to 30 s for work: the seeded miner asks without waiting.
NO_WAIT = {"wait": "0s"}
NAMES = itertools.count()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)


@pytest.fixture(scope="module")
async def stack(database_url, tmp_path_factory) -> Served:
    async with serving_stack(database_url, tmp_path_factory.mktemp("openapi")) as served:
        yield served


def login_body(url: str, wallet: Wallet | None = None) -> dict:
    """A fresh ton_proof for a new challenge, as the JSON body of POST /v1/users/login."""
    payload = requests.post(f"{url}/v1/users/login/challenge", json={}, timeout=10).json()["payload"]
    return json_format.MessageToDict((wallet or Wallet()).proof(payload), preserving_proto_field_name=True)


def fresh_session(url: str, wallet: Wallet) -> str:
    return requests.post(f"{url}/v1/users/login", json=login_body(url, wallet), timeout=10).json()["session_token"]


def credentials(operation: Operation, url: str, world: World) -> dict[str, str]:
    """The headers that let the seeded owner's side through: the admin key where admins may call,
    else the owner's own session (a fresh one for Logout, which ends it); the seeded miner's token
    where the operation needs one."""
    kinds = allowed_kinds(operation)
    if not operation.schemes:
        return {}
    if "admin" in kinds:
        headers = {"X-Api-Key": API_KEY}
    elif operation.rpc.endswith("/Logout"):
        headers = {"X-Session-Token": fresh_session(url, world.owner_wallet)}
    else:
        headers = {"X-Session-Token": dict(world.metadata["owner"])["x-session-token"]}
    if any("MinerToken" in alternative for alternative in operation.schemes):
        headers["X-Miner-Token"] = world.miner.token
    return headers


@dataclass(frozen=True)
class Seeded:
    """What the stack seeded, to name in requests: the World's things, a payment, a receipt."""

    url: str
    world: World
    payment_id: str
    api_key_id: int
    receipt: dict
    run_id: int

    def values(self) -> dict[str, object]:
        """Path and query values naming seeded things, by parameter name."""
        world = self.world
        return {"worker_id": world.worker_id, "participant_id": world.owner_id, "user_id": world.owner_id,
                "payout_id": world.payout_id, "job_id": world.job_id, "payment_id": self.payment_id,
                "api_key_id": self.api_key_id, "wallet_address": world.owner_wallet.address,
                "miner_id": world.miner.id, "year": 2025, "run_id": self.run_id, **NO_WAIT}

    def valid_body(self, rpc: str) -> dict | None:
        """A body the operation accepts (a new thing each time), or None: each call makes a new
        participant, worker, payout, job, miner or key, so created answers (201) are checked too."""
        world, owner = self.world, self.world.owner_id
        method = rpc.rsplit("/", 1)[1]
        bodies = {
            "CreateParticipant": lambda: {"ton_wallet_address": forms(new_wallet())["non_bounceable"],
                                          "telegram_user_id": 123456789, "username": "user123",
                                          "email": "user@example.com"},
            "CreateWorker": lambda: {"participant_id": owner, "worker_name": f"worker-{next(NAMES)}",
                                     "host": "localhost", "stats_port": 12000, "price_coefficient": 1.0},
            "UpdateWorker": lambda: {"is_active": True, "price_coefficient": 1.2},
            "CreatePayout": lambda: json_format.MessageToDict(payout_request(owner, world.owner_wallet.address),
                                                              preserving_proto_field_name=True),
            "SubmitJob": lambda: {"job_type": "echo", "parameters": {"prompt": "hi"}},
            "BatchSubmitJobs": lambda: {"jobs": [{"job_type": "echo"}, {"job_type": "embedding"}]},
            "RegisterMiner": lambda: {**json_format.MessageToDict(world.miner.request,
                                                                  preserving_proto_field_name=True),
                                      "address": forms(new_wallet())["non_bounceable"]},
            "SubmitResult": self.leased_result,
            "SubmitResults": lambda: {"miner_id": world.miner.id, "results": [self.leased_result()]},
            "SendHeartbeat": lambda: {"miner_id": world.miner.id, "heartbeat": {"status": "healthy",
                                                                                "gpu_utilization": 50.5}},
            "VerifyReceipt": lambda: {"receipt": self.receipt},
            "Login": lambda: login_body(self.url),
            "CreatePayment": lambda: {"amount_sat": "5000"},
            "ConfirmPayment": lambda: {"txid": "ab" * 32},
            "CreateApiKey": lambda: {"role": "client", "participant_id": owner, "label": "schemathesis"},
            "UpdatePayoutStatus": lambda: {"status": "confirmed"},  # the seeded payout is: no change
            "UpdatePayoutThreshold": lambda: {"payout_threshold_nanoton": "0"},
        }
        return bodies[method]() if method in bodies else None


    def leased_result(self) -> dict:
        """The seeded miner's result for a job leased to it now (a new job, submitted first)."""
        admin = {"X-Api-Key": API_KEY}
        miner = {**admin, "X-Miner-Token": self.world.miner.token}
        # A heartbeat first, as a miner sends them: one silent for HEARTBEAT_TIMEOUT (30 s; the
        # schemathesis sweep takes longer) is offline, and an offline worker is offered no job.
        beat = requests.post(f"{self.url}/v1/miner/heartbeat", json={"miner_id": self.world.miner.id,
                             "heartbeat": {"status": "healthy"}}, headers=miner, timeout=10)
        assert beat.status_code == 200, beat.text
        submitted = requests.post(f"{self.url}/v1/client/jobs", json={"job_type": "echo", "priority": 9},
                                  headers=admin, timeout=10)
        fetched = requests.get(f"{self.url}/v1/miner/jobs", params={"miner_id": self.world.miner.id},
                               headers=miner, timeout=10)
        assert submitted.status_code == 201 and fetched.status_code == 200, (submitted.text, fetched.text)
        assignment = json_format.ParseDict(fetched.json()["assignments"][0], miner_pb.JobAssignment())
        return json_format.MessageToDict(self.world.miner.result(assignment, {"ok": True}, units=1),
                                         preserving_proto_field_name=True)


def seed(case, seeded: Seeded, operation: Operation):
    """The case naming seeded things: every parameter and top-level body field that names a kind of
    seeded thing names the seeded one; where a valid body is known, it is sent."""
    values = seeded.values()
    for location in ("path_parameters", "query"):
        parameters = getattr(case, location)
        if parameters:
            parameters.update({name: values[name] for name in parameters if name in values})
    body = seeded.valid_body(operation.rpc)
    if body is not None:
        case.body = body
    elif isinstance(case.body, dict) and "miner_id" in case.body:
        case.body["miner_id"] = values["miner_id"]
    return case


@pytest.fixture(scope="module")
async def seeded(stack) -> Seeded:
    url, world = stack.url, stack.world
    session = {"X-Session-Token": dict(world.metadata["owner"])["x-session-token"]}
    payment = requests.post(f"{url}/v1/exchange/create-payment", json={"amount_sat": "5000"}, headers=session,
                            timeout=10)
    key = requests.post(f"{url}/v1/admin/api-keys", json={"role": "client", "participant_id": world.owner_id},
                        headers={"X-Api-Key": API_KEY}, timeout=10)
    run = requests.post(f"{url}/api/v1/payouts/runs", json={}, headers={"X-Api-Key": API_KEY}, timeout=10)
    assert payment.status_code == 201 and key.status_code == 201 and run.status_code == 201, (
        payment.text, key.text, run.text)
    done = await world.miner.complete(await world.leased(), {"ok": True}, units=1)
    return Seeded(url, world, payment.json()["id"], key.json()["api_key"]["id"],
                  json_format.MessageToDict(done.receipt, preserving_proto_field_name=True), run.json()["id"])


def test_schemathesis_finds_every_response_conforming_and_no_server_error(stack, seeded):
    url, world = stack.url, stack.world
    operations = [result.ok() for result in SCHEMA.get_all_operations()]
    assert len(operations) == len(OPERATIONS)
    by_label = {str(operation): operation for operation in OPERATIONS}
    figures = collections.Counter()
    statuses = collections.Counter()
    failures: dict[str, str] = {}
    http = requests.Session()
    for api_operation in operations:
        operation = by_label[f"{api_operation.method.upper()} {api_operation.path}"]
        if operation.streams:  # it never ends by itself: tests/e2e/test_live_envoy.py reads its stream
            continue

        @hypothesis.settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None, deadline=None,
                             suppress_health_check=list(hypothesis.HealthCheck), phases=[
                                 hypothesis.Phase.explicit, hypothesis.Phase.generate])
        @hypothesis.given(case=api_operation.as_strategy(), use_seeded=st.booleans())
        def call(case, use_seeded):
            if use_seeded:
                seed(case, seeded, operation)
            # Credentials are ours, never generated: schemathesis then probes each operation without
            # them and with made-up ones (its ignored_auth check), expecting 401 or 403.
            case.headers = {name: value for name, value in (case.headers or {}).items()
                            if name.lower() not in CREDENTIAL_HEADERS}
            figures["examples"] += 1
            response = case.call_and_validate(base_url=url, session=http, checks=CHECKS,
                                              headers=credentials(operation, url, world), timeout=30)
            statuses[(str(operation), response.status_code)] += 1

        try:
            call()
        except (AssertionError, BaseExceptionGroup) as failure:  # every operation is tried; all are reported
            failures[str(operation)] = re.sub(r"\s+", " ", str(failure))[:2000]
        figures["operations"] += 1
    answered = collections.Counter()
    for (_, status), count in statuses.items():
        answered[status] += count
    never_ok = sorted({label for label, _ in statuses} - {label for label, status in statuses if status < 300})
    print(f"\nschemathesis: {figures['operations']} operations, {figures['examples']} examples, "
          f"{len(failures)} operations failing; statuses {dict(sorted(answered.items()))}; "
          f"never 2xx: {never_ok}")
    assert failures == {}, "\n\n".join(f"{label}: {text}" for label, text in failures.items())
    assert {label for label, _ in statuses} == {label for label, o in by_label.items() if not o.streams}, \
        "an operation no request reached"


def explicit_case(operation: Operation, seeded: Seeded, headers: dict[str, str]):
    """A request of the operation naming seeded things, with a valid body where one is known."""
    values = seeded.values()
    parameters = {where: {p["name"]: values[p["name"]] for p in operation.spec.get("parameters", [])
                          if p["in"] == where and p["name"] in values} for where in ("path", "query")}
    body = {"body": seeded.valid_body(operation.rpc) or {}} if "requestBody" in operation.spec else {}
    return SCHEMA[operation.path][operation.method].Case(
        path_parameters=parameters["path"], query=parameters["query"], headers=headers, **body)


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_a_secured_operation_refuses_a_caller_without_credentials_and_a_public_one_answers(operation, seeded):
    response = explicit_case(operation, seeded, {}).call_and_validate(base_url=seeded.url, checks=CONFORMANCE)
    if operation.schemes:
        assert (response.status_code, response.json()["error"]["code"]) == (401, "CREDENTIALS_MISSING")
    else:
        assert response.status_code < 400, response.text


@pytest.mark.parametrize("operation", [o for o in OPERATIONS if o.rpc.startswith("/computepool.v1.MinerService/")],
                         ids=str)
def test_a_miner_operation_needs_the_miners_token_where_the_document_says(operation, seeded):
    case = explicit_case(operation, seeded, {"X-Api-Key": API_KEY})
    response = case.call_and_validate(base_url=seeded.url, checks=CONFORMANCE)
    code = response.json().get("error", {}).get("code")
    needs_token = all("MinerToken" in alternative for alternative in operation.schemes)
    assert (code == "MINER_TOKEN_MISSING") == needs_token, (response.status_code, response.text)


REFERENCE = {"/openapi.json": "application/json", "/docs": "text/html", "/docs/swagger-ui.css": "text/css",
             "/docs/swagger-ui-bundle.js": "text/javascript", "/redoc": "text/html",
             "/redoc/redoc.standalone.js": "text/javascript"}


async def test_envoy_serves_the_reference_to_anyone_however_low_the_rate_limits(stack, seeded, tmp_path):
    """Under /api and /v1, with no credentials, through an Envoy allowing one call a minute per
    family, where a pool list's second call is refused as documented (429, Retry-After)."""
    envoy = Envoy(tmp_path, [stack.grpc_port], metrics_port=0,
                  rate_limits={family: 1 for family, _ in Settings().rate_limits})
    try:
        for prefix, (path, content_type), _ in itertools.product(("/api", "/v1"), REFERENCE.items(), range(3)):
            response = requests.get(f"{envoy.url}{prefix}{path}", timeout=10)
            assert response.status_code == 200, (prefix, path, response.status_code)
            assert response.headers["content-type"].split(";")[0] == content_type, (prefix, path)
            if path == "/openapi.json":
                assert response.json() == DOCUMENT
        redirected = requests.get(f"{envoy.url}/api/docs/", allow_redirects=False, timeout=10)
        assert (redirected.status_code, redirected.headers["location"].rsplit(":", 1)[1]) == (
            301, f"{envoy.port}/api/docs")
        workers = SCHEMA["/api/v1/workers"]["get"].Case(headers={"X-Api-Key": API_KEY})
        statuses = [workers.call_and_validate(base_url=envoy.url, checks=CONFORMANCE).status_code for _ in range(2)]
        assert statuses == [200, 429]
    finally:
        envoy.stop()
