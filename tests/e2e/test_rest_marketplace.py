"""The coordinator document's paths through a real Envoy: documented bodies and shapes."""

import base64
import hashlib
import json
import uuid

import aiohttp
import nacl.signing
import pytest

from tests.support.miner import digest
from tests.support.rest import call
from tests.support.wallets import forms, new_wallet

pytestmark = pytest.mark.envoy

JOB_SHAPE = {"id": str, "client_id": str, "job_type": str, "parameters": dict, "status": str, "created_at": str,
             "updated_at": str}
MINER_SHAPE = {"id": str, "address": str, "endpoint": str, "capabilities": list, "status": str,
               "last_heartbeat": str}
RECEIPT_SHAPE = {"id": str, "job_id": str, "miner_id": str, "result": dict, "proof": str, "created_at": str}


def assert_shape(body: dict, shape: dict) -> None:
    for field, kind in shape.items():
        assert isinstance(body.get(field), kind), f"{field}={body.get(field)!r} is not {kind}"


async def register(http, job_types=("llm_inference",)) -> tuple[dict, str, nacl.signing.SigningKey]:
    key = nacl.signing.SigningKey.generate()
    status, body, _ = await call(http, "POST", "/v1/miner/register", {
        "address": forms(new_wallet())["non_bounceable"], "endpoint": "127.0.0.1:12000",
        "capabilities": [{"job_type": t} for t in job_types], "worker_name": "gpu-box", "instance_number": 0,
        "hardware": {"gpu_model": "H100", "gpu_count": 1, "vram_gb": 80, "max_concurrent_jobs": 100},
        "public_key": base64.b64encode(bytes(key.verify_key)).decode()})
    assert status == 201, body
    return body["miner"], body["miner_token"], key


async def lease(http, prefix: str, miner_id: str, as_miner: dict, job_id: str) -> dict:
    """Fetches until this job is leased to the miner (other tests' jobs may come first)."""
    for _ in range(20):
        status, fetched, _ = await call(http, "GET", f"{prefix}/miner/jobs?miner_id={miner_id}&max_jobs=100&wait=1s",
                                        headers=as_miner)
        assert status == 200, fetched
        for assignment in fetched["assignments"]:
            if assignment["job"]["id"] == job_id:
                return assignment
    raise AssertionError(f"job {job_id} was never offered")


def result_body(miner: dict, assignment: dict, key: nacl.signing.SigningKey, result: dict,
                result_hash: str = "") -> dict:
    """A completed result, signed over `result_hash` (by default the hash the documented rule gives)."""
    signed = result_hash or digest(result)
    return {"miner_id": miner["id"], "job_id": assignment["job"]["id"], "lease_token": assignment["lease_token"],
            "outcome": "completed", "result": result, "result_hash": result_hash, "units": 16,
            "miner_signature": base64.b64encode(key.sign(bytes.fromhex(signed)).signature).decode()}


@pytest.mark.parametrize("prefix", ["/v1", "/api/v1"])
async def test_the_job_cycle_through_rest(http, prefix):
    status, job, _ = await call(http, "POST", f"{prefix}/client/jobs",
                                {"job_type": "llm_inference", "parameters": {"prompt": "hi", "max_tokens": 16}})
    assert status == 201, job
    assert_shape(job, JOB_SHAPE)
    assert uuid.UUID(job["id"]) and job["status"] == "pending" and job["parameters"]["prompt"] == "hi"

    miner, token, key = await register(http)
    assert_shape(miner, MINER_SHAPE)
    assert uuid.UUID(miner["id"]) and miner["status"] == "active" and miner["capabilities"][0]["job_type"]
    as_miner = {"X-Miner-Token": token}
    status, beat, _ = await call(http, "POST", f"{prefix}/miner/heartbeat", {
        "miner_id": miner["id"], "heartbeat": {"status": "healthy", "gpu_utilization": 87.5}}, headers=as_miner)
    assert status == 200 and beat["received_at"]

    assignment = await lease(http, prefix, miner["id"], as_miner, job["id"])
    result = {"text": "hello"}
    status, done, _ = await call(http, "POST", f"{prefix}/miner/result", result_body(miner, assignment, key, result),
                                 headers=as_miner)
    assert status == 200, done
    assert done["job"]["status"] == "completed"

    status, job_now, _ = await call(http, "GET", f"{prefix}/client/jobs/{job['id']}/status")
    assert status == 200 and job_now["status"] == "completed"
    status, receipts, _ = await call(http, "GET", f"{prefix}/client/jobs/{job['id']}/receipts")
    assert status == 200 and len(receipts["receipts"]) == 1
    assert_shape(receipts["receipts"][0], RECEIPT_SHAPE)
    assert receipts["receipts"][0]["result"] == result

    async with aiohttp.ClientSession(base_url=str(http._base_url)) as anonymous:  # no API key needed
        status, key_info, _ = await call(anonymous, "GET", f"{prefix}/receipts/public-key")
        assert status == 200 and len(base64.b64decode(key_info["public_key"])) == 32
        status, verdict, _ = await call(anonymous, "POST", f"{prefix}/receipts/verify",
                                        {"receipt": receipts["receipts"][0]})
        assert status == 200 and verdict["valid"] is True


async def test_the_documented_error_example(http):
    status, body, _ = await call(http, "POST", "/api/v1/client/jobs", {"job_type": "video_render", "parameters": {}})
    assert status == 422
    assert body["error"]["code"] == "INVALID_JOB_TYPE" and body["error"]["message"]
    assert body["error"]["details"]["field_violations"][0]["field"] == "job_type"


async def test_a_miner_call_without_its_credential_is_401(http):
    status, body, _ = await call(http, "GET", "/v1/miner/jobs?miner_id=00000000-0000-0000-0000-000000000000")
    assert status == 401 and body["error"]["code"] == "MINER_TOKEN_MISSING"


async def test_an_idempotent_resubmit_answers_200_with_the_same_job(http):
    body = {"job_type": "echo", "idempotency_key": str(uuid.uuid4())}
    first_status, first, _ = await call(http, "POST", "/v1/client/jobs", body)
    again_status, again, _ = await call(http, "POST", "/v1/client/jobs", body)
    assert (first_status, again_status) == (201, 200) and first["id"] == again["id"]


async def test_a_miner_registers_with_only_the_documented_fields(http):
    status, body, _ = await call(http, "POST", "/v1/miner/register", {
        "address": forms(new_wallet())["raw"], "endpoint": "10.0.0.5:12000", "capabilities": []})
    assert status == 201, body
    miner, token = body["miner"], body["miner_token"]
    assert_shape(miner, MINER_SHAPE)
    assert {c["job_type"] for c in miner["capabilities"]} == {"llm_inference", "embedding", "echo"}
    await call(http, "POST", "/v1/client/jobs", {"job_type": "embedding", "parameters": {}})
    as_miner = {"X-Miner-Token": token}
    status, fetched, _ = await call(http, "GET", f"/v1/miner/jobs?miner_id={miner['id']}&wait=2s", headers=as_miner)
    (assignment,) = fetched["assignments"]  # it runs one job at a time: any configured type
    status, refused, _ = await call(http, "POST", "/v1/miner/result", {
        "miner_id": miner["id"], "job_id": assignment["job"]["id"], "lease_token": assignment["lease_token"],
        "outcome": "completed",
        "result": {"ok": True}, "units": 1, "miner_signature": "AAAA"}, headers=as_miner)
    assert status == 400 and refused["error"]["code"] == "MINER_KEY_MISSING"


async def leased_job(http) -> tuple[dict, dict, dict, nacl.signing.SigningKey]:
    """(assignment, miner, its X-Miner-Token header, its key) for a fresh job leased through REST."""
    status, job, _ = await call(http, "POST", "/v1/client/jobs", {"job_type": "llm_inference", "priority": 9})
    assert status == 201, job
    miner, token, key = await register(http)
    as_miner = {"X-Miner-Token": token}
    return await lease(http, "/v1", miner["id"], as_miner, job["id"]), miner, as_miner, key


async def test_a_receipt_with_a_forged_result_does_not_verify_through_rest(http):
    assignment, miner, as_miner, key = await leased_job(http)
    status, done, _ = await call(http, "POST", "/v1/miner/result",
                                 result_body(miner, assignment, key, {"text": "naïve", "score": 0.5}), headers=as_miner)
    assert status == 200, done
    receipt = done["receipt"]
    status, verdict, _ = await call(http, "POST", "/v1/receipts/verify", {"receipt": receipt})
    assert status == 200 and verdict == {"valid": True, "reason": ""}
    for field, forged in (("result", {"text": "forged", "score": 0.5}), ("created_at", "2020-01-01T00:00:00Z")):
        status, verdict, _ = await call(http, "POST", "/v1/receipts/verify", {"receipt": {**receipt, field: forged}})
        assert status == 200 and verdict["valid"] is False and verdict["reason"].startswith(f"{field} "), verdict


@pytest.mark.parametrize("body, fields", [
    ({}, ["receipt.payload", "receipt.proof"]),
    ({"receipt": {"payload": "not base64!", "proof": base64.b64encode(bytes(64)).decode()}}, ["receipt.payload"]),
])
async def test_a_body_that_is_not_a_receipt_is_refused_through_rest(http, body, fields):
    status, refused, _ = await call(http, "POST", "/v1/receipts/verify", body)
    assert status == 400 and refused["error"]["code"] == "NOT_A_RECEIPT", refused
    assert [v["field"] for v in refused["error"]["details"]["field_violations"]] == fields


async def test_a_miner_hashing_non_ascii_raw_is_told_the_computed_hash_through_rest(http):
    assignment, miner, as_miner, key = await leased_job(http)
    result = {"text": "naïve café"}
    raw = hashlib.sha256(json.dumps(result, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
    status, refused, _ = await call(http, "POST", "/v1/miner/result", result_body(miner, assignment, key, result, raw),
                                    headers=as_miner)
    assert status == 422 and refused["error"]["code"] == "VALIDATION_ERROR", refused
    assert refused["error"]["details"]["computed_result_hash"] == digest(result)
    assert digest(result) in refused["detail"]
    assert [v["field"] for v in refused["error"]["details"]["field_violations"]] == ["result_hash", "miner_signature"]
    for violation in refused["error"]["details"]["field_violations"]:  # whole, not cut to the wire's bounds
        assert violation["description"].endswith("\\uXXXX escapes, 1.0 as 1)"), violation
