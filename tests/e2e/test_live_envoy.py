"""The live WebSockets as users reach them: through Envoy on the API port."""

from __future__ import annotations

import json

import aiohttp

from tests.support.live import next_of
from tests.support.miner import Miner
from tests.support.server import API_KEY


async def test_ws_metrics_and_ws_events_through_envoy(envoy, channel):
    miner = await Miner(channel).register()
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(f"ws://127.0.0.1:{envoy.port}/ws/metrics?interval=1&api_key={API_KEY}") as socket:
            snapshot = json.loads((await socket.receive(timeout=5)).data)
        async with http.ws_connect(f"ws://127.0.0.1:{envoy.port}/ws/events", headers={"X-Api-Key": API_KEY}) as socket:
            await miner.heartbeat(gpu=33.0)
            event = await next_of(socket, "worker.metrics", miner.worker_id)
        async with http.ws_connect(f"ws://127.0.0.1:{envoy.port}/ws/events?api_key=wrong") as socket:
            closing = await socket.receive(timeout=5)
    assert snapshot["type"] == "metrics" and "active_jobs" in snapshot
    assert event["gpu_utilization"] == 33.0
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4401 and "API_KEY_INVALID" in closing.extra
