"""Hostile and careless input, on every rpc: refused with a clear error naming the field, never
applied to another resource, never quietly replaced, never an INTERNAL error from the database.

The sweeps start from the authorization table's valid request of each rpc (test_authorization)
and spoil one text field at a time, so the spoiled value travels as far as a real call would.
Every test runs on SQLite and on PostgreSQL (PostgreSQL refuses a NUL that SQLite stores).
"""

from __future__ import annotations

import base64

import grpc
import nacl.signing
import pytest
from computepool.v1 import miner_service_pb2 as miner_pb
from computepool.v1 import miner_service_pb2_grpc
from google.api import annotations_pb2
from google.protobuf import json_format, struct_pb2
from google.protobuf.descriptor import FieldDescriptor

from tests.support.access_table import MODULES, TABLE, build_request, call_rpc, rest_request, service_descriptor
from tests.support.identity import Identity
from tests.support.rest import call, create_participant, create_worker
from tests.support.rpc_errors import error_details
from tests.support.server import AUTH
from tests.support.wallets import forms, new_wallet

ANY_CALLER = ("admin", "miner", "owner", "client", "anonymous")
SERVER_FAULTS = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
JSON_KEY = "spoiled"  # the key put into a JSON document (Struct) field: free text, bounded by the document


def text_paths(descriptor, prefix: str = "", depth: int = 0):
    """Every string field of a request message (nested messages to depth 2, first element of a
    repeated field), and a key inside each JSON document (Struct) field."""
    for field in descriptor.fields:
        path = f"{prefix}{field.name}" + ("[0]" if field.is_repeated else "")
        if field.type == FieldDescriptor.TYPE_STRING or (
                field.message_type is not None and field.message_type.full_name == "google.protobuf.Value"):
            yield path
        elif field.message_type is not None and field.message_type.full_name == "google.protobuf.Struct":
            yield f"{path}.{JSON_KEY}"
        elif field.message_type is not None and depth < 2 and not field.message_type.full_name.startswith("google."):
            yield from text_paths(field.message_type, f"{path}.", depth + 1)


def spoil(request, path: str, value: str):
    """A copy of the request with `value` at `path` (as text_paths names it)."""
    body = json_format.MessageToDict(request, preserving_proto_field_name=True)
    *parents, last = path.split(".")
    target = body
    for part in parents:
        name = part.removesuffix("[0]")
        if part.endswith("[0]"):
            items = target.setdefault(name, [])
            items[:1] = items[:1] or [{}]
            target = items[0]
        else:
            target = target.setdefault(name, {})
    name = last.removesuffix("[0]")
    target[name] = [value] if last.endswith("[0]") else value
    return json_format.ParseDict(body, type(request)())


async def invoke(world, rpc: str, request, metadata):
    """The status code, field violations and message of one call."""
    error = await call_rpc(world, rpc, request, metadata)
    if error is None:
        return grpc.StatusCode.OK, [], ""
    code, _, fields = error_details(error)
    return code, fields, error.details()


async def spoiled_calls(world, rpc: str, value: str):
    caller = next(c for c in ANY_CALLER if c in TABLE[rpc].allowed)
    service, method = rpc.split("/")
    descriptor = service_descriptor(service).methods_by_name[method].input_type
    for path in text_paths(descriptor):
        request, metadata = await build_request(world, rpc, caller)
        yield path, await invoke(world, rpc, spoil(request, path, value), metadata)


@pytest.mark.parametrize("rpc", sorted(TABLE))
async def test_control_characters_in_any_text_are_refused_naming_the_field(world, rpc):
    async for path, (code, fields, detail) in spoiled_calls(world, rpc, "a\x00b"):
        assert code == grpc.StatusCode.INVALID_ARGUMENT and path in fields, (path, code, detail)


@pytest.mark.parametrize("rpc", sorted(TABLE))
async def test_long_text_is_refused_or_stored_never_a_database_error(world, rpc):
    """Lengths just past the database's column sizes (64, 80/100/128, 253/254/300, 1000) and past
    the server's floor for any text (4096)."""
    for length in (65, 129, 301, 1001, 4097):
        async for path, (code, fields, detail) in spoiled_calls(world, rpc, "x" * length):
            assert code not in SERVER_FAULTS, (path, length, detail)
            if length > 4096 and not path.endswith(f".{JSON_KEY}"):
                named = any(field.startswith(path) for field in fields)  # or a part of it
                assert code == grpc.StatusCode.INVALID_ARGUMENT and named, (path, code, detail)


# --- REST: what a path names, a body cannot change ---------------------------------------------

def path_bound_rpcs():
    """(rpc, path field) for every rpc whose REST binding has a body and a path parameter."""
    for service in MODULES:
        for method in service_descriptor(service).methods:
            rule = method.GetOptions().Extensions[annotations_pb2.http]
            template = getattr(rule, rule.WhichOneof("pattern")) if rule.WhichOneof("pattern") else ""
            for name in [part.split("}")[0] for part in template.split("{")[1:]]:
                if rule.body == "*":
                    yield f"{service}/{method.name}", name


PATH_BOUND = sorted(path_bound_rpcs())


def test_the_collision_sweep_covers_something():
    assert ("WorkerService/UpdateWorker", "worker_id") in PATH_BOUND


@pytest.mark.envoy
@pytest.mark.parametrize("rpc, field", PATH_BOUND)
async def test_a_body_field_colliding_with_the_path_is_refused(world, bare_http, rpc, field):
    request, metadata = await build_request(world, rpc, "admin")
    verb, path, body = rest_request(rpc, request)
    kind = service_descriptor(rpc.split("/")[0]).methods_by_name[rpc.split("/")[1]].input_type.fields_by_name[field]
    body[field] = 987654 if kind.type != FieldDescriptor.TYPE_STRING else "another-one"
    async with bare_http.request(verb, path, json=body, headers=dict(metadata)) as response:
        refused = await response.json()
    assert response.status == 400, refused
    assert refused["error"]["details"]["field"] == field, refused


@pytest.mark.envoy
async def test_patching_one_worker_never_changes_another(http):
    owner = await create_participant(http)
    first = await create_worker(http, owner["id"], worker_name="first")
    second = await create_worker(http, owner["id"], worker_name="second", instance_number=1)
    status, refused, _ = await call(http, "PATCH", f"/api/v1/workers/{first['id']}",
                                    {"worker_id": second["id"], "worker_name": "x"})
    assert status == 400 and refused["error"]["details"]["field_violations"][0]["field"] == "worker_id"
    for worker, name in ((first, "first"), (second, "second")):
        assert (await call(http, "GET", f"/api/v1/workers/{worker['id']}"))[1]["worker_name"] == name


# --- REST: text the database would refuse -------------------------------------------------------

@pytest.mark.envoy
@pytest.mark.parametrize("control", ["\u0000", "\n", "\u0085"])
async def test_a_control_character_in_a_username_or_a_label_is_a_422_naming_it(http, control):
    wallet = forms(new_wallet())["non_bounceable"]
    status, refused, _ = await call(http, "POST", "/api/v1/participants",
                                    {"ton_wallet_address": wallet, "username": f"bad{control}name"})
    assert status == 422 and refused["error"]["details"]["field_violations"][0]["field"] == "username", refused
    assert (await call(http, "GET", f"/api/v1/participants/wallet/{wallet}"))[0] == 404  # nothing written
    owner = await create_participant(http)
    status, refused, _ = await call(http, "POST", "/v1/admin/api-keys",
                                    {"role": "client", "participant_id": owner["id"], "label": f"ci{control}"})
    assert status == 422 and refused["error"]["details"]["field_violations"][0]["field"] == "label", refused


# --- REST: nothing the caller said is quietly replaced ------------------------------------------

def list_paths_with(field: str):
    for service in MODULES:
        for method in service_descriptor(service).methods:
            rule = method.GetOptions().Extensions[annotations_pb2.http]
            if rule.get and field in method.input_type.fields_by_name and "{" not in rule.get:
                yield rule.get


@pytest.mark.envoy
@pytest.mark.parametrize("path", sorted(list_paths_with("limit")))
async def test_limit_zero_is_refused_not_the_default(http, path):
    status, refused, _ = await call(http, "GET", f"{path}?limit=0")
    assert status == 422 and refused["error"]["details"]["field_violations"][0]["field"] == "limit", (path, refused)
    assert (await call(http, "GET", f"{path}?limit=1"))[0] == 200


@pytest.mark.envoy
async def test_a_query_value_of_the_wrong_type_names_its_field(http):
    status, refused, _ = await call(http, "GET", "/api/v1/participants?limit=abc")
    assert status == 400 and refused["error"]["details"]["field"] == "limit", refused


@pytest.mark.envoy
async def test_hours_and_max_jobs_zero_are_refused(http):
    owner = await create_participant(http)
    worker = await create_worker(http, owner["id"])
    status, refused, _ = await call(http, "GET", f"/api/v1/workers/{worker['id']}/metrics?hours=0")
    assert status == 422 and refused["error"]["details"]["field"] == "hours"
    miner, token = await register_rest(http, ["echo"])
    status, refused, _ = await call(http, "GET", f"/v1/miner/jobs?miner_id={miner['id']}&max_jobs=0",
                                    headers={"X-Miner-Token": token})
    assert status == 422 and refused["error"]["details"]["field"] == "max_jobs"


@pytest.mark.envoy
async def test_an_empty_worker_name_is_refused_not_replaced_by_the_endpoint(http):
    status, refused, _ = await call(http, "POST", "/v1/miner/register", registration(["echo"], worker_name=""))
    assert status == 422 and refused["error"]["details"]["field"] == "worker_name", refused
    status, registered, _ = await call(http, "POST", "/v1/miner/register", registration(["echo"]))
    assert status == 201 and registered["miner"]["endpoint"] == "10.0.0.5:12000"  # absent: named after it


@pytest.mark.envoy
async def test_a_client_key_must_act_for_a_participant(http):
    status, refused, _ = await call(http, "POST", "/v1/admin/api-keys", {"role": "client"})
    assert status == 422 and refused["error"]["details"]["field"] == "participant_id", refused


# --- REST: one path, one shape; an empty header is no header ------------------------------------

@pytest.mark.envoy
async def test_a_trailing_slash_answers_the_same_shape(http):
    owner = await create_participant(http)
    worker = await create_worker(http, owner["id"])
    for path in ("/api/v1/participants", f"/api/v1/workers?participant_id={owner['id']}",
                 f"/api/v1/workers/{worker['id']}"):
        plain = await call(http, "GET", path)
        slashed = await call(http, "GET", path.replace("?", "/?") if "?" in path else path + "/")
        assert slashed[0] == plain[0] == 200 and slashed[1] == plain[1], path
    assert isinstance((await call(http, "GET", "/api/v1/participants/"))[1], list)


@pytest.mark.envoy
async def test_an_empty_api_key_header_beside_a_session_is_ignored(channel, bare_http):
    _, session = await Identity(channel).login()
    token = dict(session)["x-session-token"]
    async with bare_http.get("/v1/users/me", headers={"X-Api-Key": "", "X-Session-Token": token}) as response:
        assert response.status == 200, await response.text()
    async with bare_http.get("/v1/users/me", headers={"X-Api-Key": " "}) as response:
        assert response.status == 401 and (await response.json())["error"]["code"] == "CREDENTIALS_MISSING"


# --- capabilities: plain job types or objects ---------------------------------------------------

def registration(capabilities, **overrides) -> dict:
    key = nacl.signing.SigningKey.generate()
    return {"address": forms(new_wallet())["non_bounceable"], "endpoint": "10.0.0.5:12000",
            "capabilities": capabilities, "public_key": base64.b64encode(bytes(key.verify_key)).decode(), **overrides}


async def register_rest(http, capabilities) -> tuple[dict, str]:
    status, body, _ = await call(http, "POST", "/v1/miner/register", registration(capabilities, worker_name="w"))
    assert status == 201, body
    return body["miner"], body["miner_token"]


@pytest.mark.envoy
async def test_capabilities_may_be_plain_job_types_or_objects(http):
    miner, _ = await register_rest(http, ["llm_inference", {"job_type": "embedding", "models": ["bge-m3"]}])
    assert miner["capabilities"] == [{"job_type": "llm_inference", "models": []},
                                     {"job_type": "embedding", "models": ["bge-m3"]}]


@pytest.mark.envoy
@pytest.mark.parametrize("capabilities, field", [
    (["no_such_type"], "capabilities[0].job_type"),
    (["echo", 7], "capabilities[1]"),
    ([{"job_type": "echo", "model": "typo"}], "capabilities[0]"),
    ([{"job_type": "echo", "models": [3]}], "capabilities[0].models"),
    ([None], "capabilities[0]"),
])
async def test_bad_capabilities_name_the_entry(http, capabilities, field):
    status, refused, _ = await call(http, "POST", "/v1/miner/register", registration(capabilities))
    assert status == 422 and field in [v["field"] for v in refused["error"]["details"]["field_violations"]], refused


async def test_capabilities_over_grpc_take_strings_too(channel):
    stub = miner_service_pb2_grpc.MinerServiceStub(channel)
    body = registration([])
    request = miner_pb.RegisterMinerRequest(
        address=body["address"], endpoint=body["endpoint"], worker_name="grpc", public_key=body["public_key"],
        capabilities=[struct_pb2.Value(string_value="echo"),
                      json_format.ParseDict({"job_type": "embedding", "models": ["e5"]}, struct_pb2.Value())])
    registered = await stub.RegisterMiner(request, metadata=AUTH)
    assert [(c.job_type, list(c.models)) for c in registered.miner.capabilities] == [("echo", []), ("embedding", ["e5"])]
