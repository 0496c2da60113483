"""Reading the live WebSockets in tests."""

from __future__ import annotations

import asyncio
import json

import aiohttp


async def subscribed(socket: aiohttp.ClientWebSocketResponse) -> aiohttp.ClientWebSocketResponse:
    """The socket once its subscription is in place (its first event says so)."""
    assert json.loads((await socket.receive(timeout=5)).data)["type"] == "events.subscribed"
    return socket


async def next_of(socket: aiohttp.ClientWebSocketResponse, kind: str, worker_id: int, timeout_s: float = 5.0) -> dict:
    """The next event of type `kind` about this worker (others, from other tests, are skipped)."""
    async with asyncio.timeout(timeout_s):
        while True:
            message = json.loads((await socket.receive()).data)
            if message["type"] == kind and message["data"].get("worker_id") == worker_id:
                return message
