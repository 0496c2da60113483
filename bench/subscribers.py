"""Live subscribers beside the heartbeat fan-in: the same streams measured without subscribers and
with `count` WebSocket subscribers on /ws/events (one per participant, the workers spread over
them; a tenth never read, so the server must cut them loose), in the same run, in turn.

Run by bench/harness.py (--scenario subscribers). This module is also the subscribers' own
process: `python -m bench.subscribers PORT` reads `api_key slow` lines on stdin, prints `ready`
once every socket has its `events.subscribed`, and on `stop` prints what each kind received.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

import aiohttp

from computepool.v1 import api_key_service_pb2 as key_pb
from computepool.v1 import api_key_service_pb2_grpc

from tests.support.server import AUTH

SLOW_EVERY = 10  # one subscriber in ten never reads


async def keys_for(channel, participant_ids: list[int]) -> list[str]:
    keys = api_key_service_pb2_grpc.ApiKeyServiceStub(channel)
    return [(await keys.CreateApiKey(key_pb.CreateApiKeyRequest(role="client", participant_id=pid, label="bench"),
                                     metadata=AUTH)).key for pid in participant_ids]


class Subscribers:
    """The subscribers' process, started and stopped around one measured round."""

    def __init__(self, metrics_port: int, keys: list[str]):
        self.metrics_port = metrics_port
        self.keys = keys

    async def __aenter__(self) -> Subscribers:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.subscribers", str(self.metrics_port), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, env=os.environ.copy())
        lines = "".join(f"{key} {int(i % SLOW_EVERY == 0)}\n" for i, key in enumerate(self.keys))
        self.process.stdin.write(lines.encode() + b"end\n")
        await self.process.stdin.drain()
        ready = (await asyncio.wait_for(self.process.stdout.readline(), 120)).decode().strip()
        if ready != "ready":
            raise RuntimeError(f"subscribers did not start: {ready!r}")
        return self

    async def stop(self) -> dict:
        self.process.stdin.write(b"stop\n")
        await self.process.stdin.drain()
        return json.loads(await asyncio.wait_for(self.process.stdout.readline(), 60))

    async def __aexit__(self, *_) -> None:
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()


async def subscribe_all(port: int) -> None:
    """The subscribers' own process."""
    stdin = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    wanted = []
    while (line := (await stdin.readline()).decode().strip()) != "end":
        key, slow = line.split()
        wanted.append((key, slow == "1"))
    counts = {"fast": {"events": 0, "lost_notices": 0, "lost_events": 0, "closed": 0},
              "slow": {"events": 0, "lost_notices": 0, "lost_events": 0, "closed": 0}}
    async with aiohttp.ClientSession() as http:
        sockets = [(await http.ws_connect(f"ws://127.0.0.1:{port}/ws/events?types=worker.metrics&api_key={key}",
                                          heartbeat=None, max_msg_size=0), slow) for key, slow in wanted]
        for socket, _ in sockets:
            first = json.loads((await socket.receive(timeout=30)).data)
            assert first["type"] == "events.subscribed", first

        async def read(socket, tally) -> None:
            async for message in socket:
                event = json.loads(message.data)
                if event["type"] == "events.lost":
                    tally["lost_notices"] += 1
                    tally["lost_events"] += event["data"]["count"]
                else:
                    tally["events"] += 1
            tally["closed"] += 1

        readers = [asyncio.create_task(read(socket, counts["fast"])) for socket, slow in sockets if not slow]
        print("ready", flush=True)
        await stdin.readline()  # stop
        for reader in readers:
            reader.cancel()
        # The slow ones read at last what waited for them: how much, and whether they were told of a gap.
        late = [asyncio.create_task(read(socket, counts["slow"])) for socket, slow in sockets if slow]
        await asyncio.sleep(2.0)
        for reader in late:
            reader.cancel()
        counts["subscribers"] = {"fast": len(readers), "slow": len(late)}
        print(json.dumps(counts), flush=True)
        for socket, _ in sockets:
            socket._response.close()  # no closing handshake: the slow ones' buffers are full


if __name__ == "__main__":
    asyncio.run(subscribe_all(int(sys.argv[1])))
