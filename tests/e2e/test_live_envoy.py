"""The live WebSockets as users reach them: through Envoy on the API port."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from tests.support.live import next_of, subscribed
from tests.support.miner import Miner
from tests.support.server import API_KEY


async def test_ws_metrics_and_ws_events_through_envoy(envoy, channel):
    miner = await Miner(channel).register()
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(f"ws://127.0.0.1:{envoy.port}/ws/metrics?interval=1&api_key={API_KEY}") as socket:
            snapshot = json.loads((await socket.receive(timeout=5)).data)
        async with http.ws_connect(f"ws://127.0.0.1:{envoy.port}/ws/events", headers={"X-Api-Key": API_KEY}) as socket:
            await subscribed(socket)
            await miner.heartbeat(gpu=33.0)
            event = await next_of(socket, "worker.metrics", miner.worker_id)
        async with http.ws_connect(f"ws://127.0.0.1:{envoy.port}/ws/events?api_key=wrong") as socket:
            closing = await socket.receive(timeout=5)
    assert "active_jobs" in snapshot and snapshot["registered_miners"] >= 1
    assert event["data"]["gpu_utilization"] == 33.0
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4401 and "API_KEY_INVALID" in closing.extra


async def test_events_as_server_sent_events_through_envoy(envoy, channel):
    miner = await Miner(channel).register()
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{envoy.port}/api/v1/events?types=worker.metrics",
                            headers={"X-Api-Key": API_KEY}) as response:
            assert response.status == 200 and response.content_type == "text/event-stream"
            first = await response.content.readuntil(b"\n\n")
            await miner.heartbeat(gpu=44.0)
            while True:
                line = (await asyncio.wait_for(response.content.readuntil(b"\n\n"), 5)).decode()
                event = json.loads(line.removeprefix("data: "))
                if event["data"]["worker_id"] == miner.worker_id:
                    break
        async with http.get(f"http://127.0.0.1:{envoy.port}/api/v1/events?types=nope",
                            headers={"X-Api-Key": API_KEY}) as refused:
            body = await refused.json()
    assert json.loads(first.decode().removeprefix("data: "))["type"] == "events.subscribed"
    assert event["type"] == "worker.metrics" and event["data"]["gpu_utilization"] == 44.0
    assert refused.status == 422 and body["error"]["details"]["field"] == "types[0]", body
