"""The REST API through Envoy: one call's status, body and headers, and participants and workers
made with the pool document's example bodies."""

from __future__ import annotations

from tests.support.wallets import forms, new_wallet


async def call(http, method: str, path: str, body=None, headers=None):
    """(status, parsed JSON or text, headers) of one request on an aiohttp session."""
    async with http.request(method, path, json=body, headers=headers) as response:
        text = await response.text()
        parsed = await response.json(content_type=None) if response.content_type == "application/json" else text
        return response.status, parsed, response.headers


async def create_participant(http, **overrides) -> dict:
    body = {"ton_wallet_address": forms(new_wallet())["non_bounceable"], "telegram_user_id": 123456789,
            "username": "user123", "email": "user@example.com", **overrides}
    status, created, _ = await call(http, "POST", "/api/v1/participants", body)
    assert status == 201, created
    return created


async def create_worker(http, participant_id: int, **overrides) -> dict:
    body = {"participant_id": participant_id, "worker_name": "Worker-0", "instance_number": 0, "host": "localhost",
            "stats_port": 12000, "price_coefficient": 1.0, **overrides}
    status, created, _ = await call(http, "POST", "/api/v1/workers", body)
    assert status == 201, created
    return created
