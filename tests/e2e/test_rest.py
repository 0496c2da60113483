"""The pool API through a real Envoy: documented paths, bodies, shapes, JSON types and errors."""

import csv
import io

import aiohttp
import grpc
import pytest
from computepool.v1 import participant_service_pb2 as participant_pb
from computepool.v1 import participant_service_pb2_grpc
from grpc_health.v1 import health_pb2

from tests.support.cocoon import CocoonWorkerStats
from tests.support.envoy import Envoy
from tests.support.polling import poll_once
from tests.support.rest import call, create_participant, create_worker
from tests.support.server import API_KEY, AUTH
from tests.support.wallets import forms, new_wallet, tx_hash

pytestmark = pytest.mark.envoy

# The documented response shapes: field -> JSON type (pool API document).
WORKER_SHAPE = {"id": int, "participant_id": int, "worker_name": str, "instance_number": int, "host": str,
                "stats_port": int, "is_active": bool, "latest_status": str, "latest_gpu_utilization": (int, float),
                "latest_revenue_ton": (int, float)}
PARTICIPANT_SHAPE = {"id": int, "ton_wallet_address": str, "username": str, "is_active": bool, "total_workers": int,
                     "active_workers": int, "total_revenue_ton": (int, float), "total_payouts": int}
PAYOUT_SHAPE = {"id": int, "participant_id": int, "transaction_hash": str, "amount_ton": (int, float),
                "amount_usd": (int, float), "from_address": str, "to_address": str, "transaction_time": str,
                "period_start": str, "period_end": str}


def assert_shape(body: dict, shape: dict) -> None:
    for field, kind in shape.items():
        assert field in body, f"missing {field}"
        assert isinstance(body[field], kind) and not (kind is int and isinstance(body[field], bool)), \
            f"{field}={body[field]!r} is not {kind}"


def payout_body(participant_id: int, to_address: str) -> dict:
    return {"participant_id": participant_id, "transaction_hash": tx_hash(), "amount_ton": 25.5, "amount_usd": 89.25,
            "from_address": forms(new_wallet())["non_bounceable"], "to_address": to_address,
            "transaction_time": "2025-01-15T10:30:00Z", "period_start": "2025-01-08T00:00:00Z",
            "period_end": "2025-01-15T00:00:00Z"}


async def test_participant_examples(http):
    wallet = new_wallet()
    created = await create_participant(http, ton_wallet_address=forms(wallet)["bounceable"])
    assert_shape(created, PARTICIPANT_SHAPE)
    assert created["ton_wallet_address"] == forms(wallet)["non_bounceable"]
    assert created["telegram_user_id"] == 123456789
    status, fetched, _ = await call(http, "GET", f"/api/v1/participants/{created['id']}")
    assert status == 200 and fetched == created
    for form in forms(wallet).values():
        path = "/api/v1/participants/wallet/" + form.replace("/", "%2F").replace("+", "%2B")
        status, found, _ = await call(http, "GET", path)
        assert status == 200 and found["id"] == created["id"], (form, found)
    status, listed, _ = await call(http, "GET", "/api/v1/participants?limit=1000")
    assert status == 200 and isinstance(listed, list) and created["id"] in [p["id"] for p in listed]


async def test_worker_examples(http):
    participant = await create_participant(http)
    created = await create_worker(http, participant["id"])
    assert_shape(created, WORKER_SHAPE)
    assert created["latest_status"] == "unknown" and created["price_coefficient"] == 1.0
    status, fetched, _ = await call(http, "GET", f"/api/v1/workers/{created['id']}")
    assert status == 200 and fetched == created
    status, listed, _ = await call(http, "GET", f"/api/v1/workers?participant_id={participant['id']}&is_active=true")
    assert status == 200 and isinstance(listed, list) and [w["id"] for w in listed] == [created["id"]]
    assert_shape(listed[0], WORKER_SHAPE)
    status, patched, _ = await call(http, "PATCH", f"/api/v1/workers/{created['id']}",
                                    {"is_active": False, "price_coefficient": 1.2})
    assert status == 200 and patched["is_active"] is False and patched["price_coefficient"] == 1.2
    assert patched["host"] == created["host"]
    status, metrics, _ = await call(http, "GET", f"/api/v1/workers/{created['id']}/metrics?hours=24")
    assert status == 200 and metrics["hours"] == 24 and metrics["samples"] == []
    status, stats, _ = await call(http, "GET", f"/api/v1/workers/{created['id']}/stats")
    assert status == 200 and stats["last_24h"]["hours"] == 24 and stats["last_30d"]["samples"] == 0


async def test_worker_list_pages_with_a_header(http):
    participant = await create_participant(http)
    ids = [(await create_worker(http, participant["id"], instance_number=i))["id"] for i in range(3)]
    status, first, headers = await call(http, "GET", f"/api/v1/workers?participant_id={participant['id']}&limit=2")
    assert status == 200 and [w["id"] for w in first] == ids[:2]
    token = headers["X-Next-Page-Token"]
    status, second, headers = await call(
        http, "GET", f"/api/v1/workers?participant_id={participant['id']}&limit=2&page_token={token}")
    assert [w["id"] for w in second] == ids[2:] and "X-Next-Page-Token" not in headers


async def test_payout_examples(http):
    participant = await create_participant(http)
    body = payout_body(participant["id"], participant["ton_wallet_address"])
    status, created, _ = await call(http, "POST", "/api/v1/payouts", body)
    assert status == 201, created
    assert_shape(created, PAYOUT_SHAPE)
    assert created["amount_ton"] == 25.5 and created["amount_usd"] == 89.25
    assert created["transaction_time"] == "2025-01-15T10:30:00Z"
    status, replay, _ = await call(http, "POST", "/api/v1/payouts", body)
    assert status == 200 and replay == created
    status, conflict, _ = await call(http, "POST", "/api/v1/payouts", {**body, "amount_ton": 30})
    assert status == 409 and conflict["error"]["code"] == "PAYOUT_CONFLICT"
    assert conflict["error"]["details"]["differing_fields"] == "amount_nanoton"
    status, fetched, _ = await call(http, "GET", f"/api/v1/payouts/{created['id']}")
    assert status == 200 and fetched == created
    status, listed, _ = await call(http, "GET", f"/api/v1/payouts?participant_id={participant['id']}&limit=100")
    assert status == 200 and [p["id"] for p in listed] == [created["id"]]
    status, summary, _ = await call(http, "GET", f"/api/v1/payouts/participant/{participant['id']}/summary")
    assert status == 200 and summary["total_payouts"] == 1 and summary["total_ton"] == 25.5
    assert summary["by_month"] == [{"month": "2025-01", "count": 1, "total_ton": 25.5,
                                    "total_nanoton": "25500000000", "total_usd": 89.25}]
    status, participant_now, _ = await call(http, "GET", f"/api/v1/participants/{participant['id']}")
    assert participant_now["total_payouts"] == 1


async def test_tax_report_is_a_csv_download(http):
    participant = await create_participant(http)
    await call(http, "POST", "/api/v1/payouts", payout_body(participant["id"], participant["ton_wallet_address"]))
    async with http.get(f"/api/v1/payouts/export/tax-report?participant_id={participant['id']}&year=2025") as r:
        assert r.status == 200 and r.content_type == "text/csv"
        assert r.headers["Content-Disposition"] == \
            f'attachment; filename="tax-report-{participant["id"]}-2025.csv"'
        rows = list(csv.reader(io.StringIO(await r.text())))
    assert rows[1][3:5] == ["25.500000000", "89.250000"] and rows[-1][0] == "TOTAL"


def assert_error(body: dict, code: str, field: str | None = None) -> None:
    assert body["detail"] and body["error"]["code"] == code and body["error"]["message"] == body["detail"]
    if field:
        assert field in [v["field"] for v in body["error"]["details"]["field_violations"]]


async def test_errors_have_the_documented_statuses_and_bodies(http):
    status, body, _ = await call(http, "GET", "/api/v1/workers/123456789")
    assert status == 404
    assert_error(body, "WORKER_NOT_FOUND")
    status, body, _ = await call(http, "POST", "/api/v1/participants", {"ton_wallet_address": "UQAbc...xyz"})
    assert status == 422
    assert_error(body, "VALIDATION_ERROR", "ton_wallet_address")
    participant = await create_participant(http)
    worker = await create_worker(http, participant["id"])
    status, body, _ = await call(http, "GET", f"/api/v1/workers/{worker['id']}/metrics?hours=9999")
    assert status == 422
    assert_error(body, "VALIDATION_ERROR", "hours")
    status, body, _ = await call(http, "POST", "/api/v1/participants",
                                 {"ton_wallet_address": participant["ton_wallet_address"]})
    assert status == 409
    assert_error(body, "WALLET_ALREADY_REGISTERED")
    status, body, _ = await call(http, "GET", "/api/v1/workers", headers={"X-Api-Key": "wrong"})
    assert status == 401
    assert_error(body, "API_KEY_INVALID")


async def test_envoys_own_refusals_are_wrapped_in_the_same_shape(http):
    async with http.post("/api/v1/participants", data="{not json", headers={"content-type": "application/json"}) as r:
        assert r.status == 400 and r.content_type == "application/json"
        assert (await r.json())["error"]["code"] == "INVALID_ARGUMENT"
    status, body, _ = await call(http, "GET", "/api/v1/workers?bogus=1")
    assert status == 400 and body["error"]["code"] == "INVALID_ARGUMENT"
    status, body, _ = await call(http, "GET", "/api/v1/nothing-here")
    assert status == 404 and body["error"]["code"] == "NOT_FOUND"


async def test_health_answers_from_the_grpc_health_service(http, pool):
    """GET /health is the gRPC health check: 200 only when serving, so a load balancer can read the code."""
    status, body, _ = await call(http, "GET", "/health")
    assert (status, body) == (200, {"status": "SERVING"})
    status, body, _ = await call(http, "GET", "/health?service=computepool.v1.JobService")
    assert (status, body) == (200, {"status": "SERVING"})
    status, body, _ = await call(http, "GET", "/health?service=computepool.v1.NoSuchService")
    assert status == 404 and body["error"]["code"] == "NOT_FOUND"
    await pool.health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    try:
        status, body, _ = await call(http, "GET", "/health")
        assert (status, body) == (503, {"status": "NOT_SERVING"})
    finally:
        await pool.health.set("", health_pb2.HealthCheckResponse.SERVING)


async def test_native_grpc_passes_through_envoy(envoy):
    async with grpc.aio.insecure_channel(f"127.0.0.1:{envoy.port}") as channel:
        stub = participant_service_pb2_grpc.ParticipantServiceStub(channel)
        page = await stub.ListParticipants(participant_pb.ListParticipantsRequest(limit=1), metadata=AUTH)
        assert len(page.participants) <= 1


async def test_metrics_through_envoy_name_the_seven_pool_metrics(http, stubs, pool, database_url):
    cocoon = await CocoonWorkerStats().start()
    try:
        participant = await create_participant(http)
        await create_worker(http, participant["id"], host="127.0.0.1", stats_port=cocoon.port)
        await poll_once(database_url)
    finally:
        await cocoon.stop()
    await pool.refresh_metrics()
    async with http.get("/metrics") as response:
        assert response.status == 200
        text = await response.text()
    for name in ("cocoon_worker_status", "cocoon_gpu_utilization", "cocoon_gpu_memory_used_gb",
                 "cocoon_gpu_temperature_celsius", "cocoon_revenue_ton", "cocoon_inference_requests_total",
                 "cocoon_worker_errors_total"):
        assert f"# TYPE {name.removesuffix('_total')}" in text, name
    assert "cocoon_revenue_ton{worker_id=" in text and "cocoon_inference_requests_total{worker_id=" in text
    assert "# TYPE active_jobs gauge" in text and "registered_miners " in text


async def test_two_envoys_run_side_by_side(envoy, pool, tmp_path):
    second = Envoy(tmp_path, [pool.grpc_port], pool.metrics_port)
    try:
        assert second.port != envoy.port
        async with aiohttp.ClientSession(headers={"X-Api-Key": API_KEY}) as client:
            for base in (envoy.url, second.url):
                async with client.get(f"{base}/api/v1/workers?limit=1") as response:
                    assert response.status == 200 and isinstance(await response.json(), list)
    finally:
        second.stop()


@pytest.mark.parametrize("amount", [25.5, 0.1, 0.000000001, 123456.123456789, 999999.999999999, 125.5])
async def test_decimal_amounts_round_trip_exactly_through_json(http, amount):
    participant = await create_participant(http)
    body = {**payout_body(participant["id"], participant["ton_wallet_address"]), "amount_ton": amount}
    async with http.post("/api/v1/payouts", json=body) as response:
        assert response.status == 201
        text = await response.text()
    # Envoy prints a double's shortest round-trip form: the very decimal that was sent.
    assert text.split('"amount_ton":')[1].split(",")[0] == repr(amount)
    status, refused, _ = await call(http, "POST", "/api/v1/payouts",
                                    {**payout_body(participant["id"], participant["ton_wallet_address"]),
                                     "amount_ton": 1.0000000001})
    assert status == 422 and refused["error"]["details"]["field_violations"][0]["field"] == "amount_ton"
