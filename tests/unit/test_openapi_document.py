"""The API reference document (envoy/openapi.json, made by scripts/protoc_gen_openapi.py) is valid
OpenAPI 3.1 and covers the REST API: one operation per google.api.http binding of the descriptor
set Envoy transcodes with, public exactly where the access table says anyone may call. Whether
the API answers as it says is tests/e2e/test_openapi.py's part."""

from __future__ import annotations

from coordinator.api.access import PUBLIC, RULES
from devtools.envoy_config import ENVOY_DIR
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2
from openapi_spec_validator import validate

from tests.support.api_reference import DOCUMENT, OPERATIONS


def http_bindings() -> set[tuple[str, str, str]]:
    """(rpc, method, path) of every binding in envoy/computepool.pb."""
    files = descriptor_pb2.FileDescriptorSet.FromString((ENVOY_DIR / "computepool.pb").read_bytes()).file
    found = set()
    for file in files:
        for service in file.service:
            for method in service.method:
                if not method.options.HasExtension(annotations_pb2.http):
                    continue
                rule = method.options.Extensions[annotations_pb2.http]
                for binding in [rule, *rule.additional_bindings]:
                    verb = binding.WhichOneof("pattern")
                    found.add((f"/{file.package}.{service.name}/{method.name}", verb, getattr(binding, verb)))
    return found


def test_the_document_is_valid_openapi_3_1():
    assert DOCUMENT["openapi"].startswith("3.1")
    validate(DOCUMENT)


def test_every_http_binding_is_one_operation_and_nothing_else_is():
    assert sorted(http_bindings()) == sorted((o.rpc, o.method, o.path) for o in OPERATIONS)
    assert len({o.spec["operationId"] for o in OPERATIONS}) == len(OPERATIONS)


def test_an_operation_needs_no_credentials_exactly_where_anyone_may_call_it():
    public = {o.rpc for o in OPERATIONS if not o.schemes}
    assert public == {rpc for rpc in {o.rpc for o in OPERATIONS} if RULES.get(rpc) == PUBLIC or rpc not in RULES}
    assert "/grpc.health.v1.Health/Check" in public and "/computepool.v1.JobService/SubmitJob" not in public


def test_pool_lists_are_bare_arrays_with_the_next_page_token_in_a_header():
    for path in ("/api/v1/workers", "/api/v1/participants", "/api/v1/payouts"):
        answer = DOCUMENT["paths"][path]["get"]["responses"]["200"]
        assert answer["content"]["application/json"]["schema"]["type"] == "array"
        assert "X-Next-Page-Token" in answer["headers"]


def test_the_proto_comments_are_the_descriptions():
    """Every rpc, message and field of ours has a comment (buf lint's STANDARD does not insist, the
    house does): each shows in the document."""
    assert all(o.spec["summary"] and o.spec["description"] for o in OPERATIONS)
    ours = {name: schema for name, schema in DOCUMENT["components"]["schemas"].items()
            if not name.startswith(("HealthCheck", "Error"))}
    undescribed = [f"{name}.{field}" for name, schema in ours.items() for field, property in
                   schema.get("properties", {}).items() if not property.get("description")]
    assert undescribed == []
    assert ours["Worker"]["properties"]["id"]["description"] == "Server-assigned id."
