"""The server's plain-HTTP port (METRICS_PORT; Envoy routes /metrics and /ws/ here): Prometheus
/metrics, and the WebSockets /ws/metrics (JSON snapshots of the pool's figures) and /ws/events
(the events of coordinator.events, as they happen).

A WebSocket is authenticated like an rpc: `X-Api-Key` or `X-Session-Token` headers, or, since a
browser cannot set headers on a WebSocket, the query parameters `api_key` / `session_token`.
The upgrade is always accepted, and a refusal is a close frame whose code and reason a browser
can read:

    4400  a query parameter is wrong (the reason names it)
    4401  no credential, or one that does not check out (the reason gives the error's reason)
    1013  this server has as many live subscribers as it takes: try again later
    1001  the server is shutting down

Each sees what its reads would show: an admin everything; any other caller the pool's totals
and its own participant's workers, jobs and payouts (a client key of no participant: its jobs). The server pings every PING_S; a peer that
does not answer is closed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from coordinator.errors import DomainError
from coordinator.events.bus import Event, EventBus, Lost
from coordinator.identity.authenticator import API_KEY, SESSION_TOKEN, Authenticator
from coordinator.identity.callers import Caller, CallerKind
from coordinator.pool.metrics import PoolCollector

log = logging.getLogger(__name__)

PING_S = 20.0
INTERVAL_S = (1.0, 60.0, 5.0)  # /ws/metrics `interval`: least, most, default
BAD_REQUEST, UNAUTHENTICATED = 4400, 4401
ENDED = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)


class LiveHttp:
    def __init__(self, registry: CollectorRegistry, collector: PoolCollector, authenticator: Authenticator,
                 bus: EventBus, max_subscribers: int):
        self.registry, self.collector, self.authenticator, self.bus = registry, collector, authenticator, bus
        self.max_subscribers = max_subscribers
        self.sockets: set[web.WebSocketResponse] = set()
        app = web.Application()
        app.add_routes([web.get("/metrics", self.metrics), web.get("/ws/metrics", self.ws_metrics),
                        web.get("/ws/events", self.ws_events)])
        self.runner = web.AppRunner(app, access_log=None)
        self.port = 0

    async def start(self, host: str, port: int) -> int:
        await self.runner.setup()
        await web.TCPSite(self.runner, host, port).start()
        self.port = self.runner.addresses[0][1]  # the bound port, when `port` was 0
        return self.port

    async def stop(self) -> None:
        for socket in list(self.sockets):
            await socket.close(code=WSCloseCode.GOING_AWAY, message=b"the server is shutting down")
        await self.runner.cleanup()

    async def metrics(self, request: web.Request) -> web.Response:
        body = await asyncio.to_thread(generate_latest, self.registry)  # away from the event loop
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def ws_metrics(self, request: web.Request) -> web.WebSocketResponse:
        """Every `interval` seconds (1-60, default 5) a snapshot of the pool's figures."""
        async with self._socket(request) as (socket, caller):
            if caller is None:
                return socket
            try:
                interval = float(request.query.get("interval", INTERVAL_S[2]))
            except ValueError:
                interval = math.nan
            if not INTERVAL_S[0] <= interval <= INTERVAL_S[1]:
                await socket.close(code=BAD_REQUEST, message=b"interval: must be between 1 and 60 seconds")
                return socket
            while not socket.closed:
                await socket.send_str(json.dumps(snapshot(self.collector, caller)))
                await _closed_within(socket, interval)
            return socket

    async def ws_events(self, request: web.Request) -> web.WebSocketResponse:
        """The caller's events as they happen; `types` (comma-separated) keeps only those types. A
        subscriber that falls behind gets {"type": "events.lost", "count": N} and should resync."""
        async with self._socket(request) as (socket, caller):
            if caller is None:
                return socket
            types = {name for name in request.query.get("types", "").split(",") if name}

            def accepts(event: Event) -> bool:
                return (not types or event.type in types) and visible_to(caller, event)

            with self.bus.subscribe(accepts) as subscription:
                receiving = asyncio.ensure_future(socket.receive())  # reading sees the peer's close
                sending = asyncio.ensure_future(subscription.next())
                try:
                    while not socket.closed:
                        done, _ = await asyncio.wait([sending, receiving], return_when=asyncio.FIRST_COMPLETED)
                        if receiving in done:
                            if receiving.result().type in ENDED:
                                break
                            receiving = asyncio.ensure_future(socket.receive())  # the peer's messages are ignored
                        if sending in done:
                            item = sending.result()
                            await socket.send_str(json.dumps(
                                {"type": "events.lost", "count": item.count} if isinstance(item, Lost)
                                else item.as_dict()))
                            sending = asyncio.ensure_future(subscription.next())
                finally:
                    sending.cancel()
                    receiving.cancel()
            return socket

    def _socket(self, request: web.Request) -> _Socket:
        return _Socket(self, request)


class _Socket:
    """An accepted WebSocket and its caller (None once refused with a close code)."""

    def __init__(self, live: LiveHttp, request: web.Request):
        self.live, self.request = live, request
        self.socket = web.WebSocketResponse(heartbeat=PING_S)

    async def __aenter__(self) -> tuple[web.WebSocketResponse, Caller | None]:
        socket, live = self.socket, self.live
        await socket.prepare(self.request)
        if len(live.sockets) >= live.max_subscribers:
            await socket.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"too many live subscribers: try again later")
            return socket, None
        live.sockets.add(socket)
        caller = await self._caller()
        return socket, caller

    async def _caller(self) -> Caller | None:
        request, socket = self.request, self.socket
        presented = [(API_KEY, request.headers.get(API_KEY) or request.query.get("api_key", "")),
                     (SESSION_TOKEN, request.headers.get(SESSION_TOKEN) or request.query.get("session_token", ""))]
        try:
            caller = await self.live.authenticator.caller(presented)
        except DomainError as error:
            await socket.close(code=UNAUTHENTICATED, message=f"{error.reason}: {error.message}"[:120].encode())
            return None
        if caller.kind == CallerKind.ANONYMOUS:
            await socket.close(code=UNAUTHENTICATED, message=b"UNAUTHENTICATED: an API key or session token is required")
            return None
        return caller

    async def __aexit__(self, *_: object) -> None:
        self.live.sockets.discard(self.socket)
        if not self.socket.closed:
            await self.socket.close()


def visible_to(caller: Caller, event: Event) -> bool:
    """An admin sees every event; anyone else those of its own participant, or its own jobs."""
    if caller.is_admin:
        return True
    return ((event.participant_id is not None and event.participant_id == caller.participant_id)
            or (event.client_id is not None and event.client_id == caller.client_id))


def snapshot(collector: PoolCollector, caller: Caller) -> dict[str, Any]:
    """The pool's figures as /metrics has them (refreshed every few seconds): totals for everyone,
    the workers themselves only for their owner (an admin: all)."""
    workers = collector.workers
    reporting = [w.gpu_utilization for w in workers if w.gpu_utilization is not None]
    own = [w for w in workers if caller.is_admin or w.participant_id == caller.participant_id]
    return {
        "type": "metrics",
        "at": collector.refreshed_at,
        "workers_active": len(workers),
        "workers_healthy": sum(w.status == "healthy" for w in workers),
        "gpu_utilization_mean": sum(reporting) / len(reporting) if reporting else None,
        "active_jobs": dict(sorted(collector.active_jobs.items())),
        "registered_miners": collector.registered_miners,
        "workers": [{"worker_id": w.worker_id, "participant_id": w.participant_id, "status": w.status,
                     "gpu_utilization": w.gpu_utilization, "gpu_memory_used_gb": w.gpu_memory_used_gb,
                     "gpu_temperature_celsius": w.gpu_temperature_celsius, "gpu_power_watts": w.gpu_power_watts,
                     "revenue_nanoton": w.revenue_nanoton} for w in own],
    }


async def _closed_within(socket: web.WebSocketResponse, seconds: float) -> None:
    """Waits `seconds`, reading meanwhile (which answers pings and sees a close); the peer's
    messages are ignored."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not socket.closed and (left := deadline - loop.time()) > 0:
        try:
            if (await socket.receive(timeout=left)).type in ENDED:
                return
        except asyncio.TimeoutError:
            return
