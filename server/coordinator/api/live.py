"""The server's plain-HTTP port (METRICS_PORT; Envoy routes /metrics, /ws/ and /app/ here): Prometheus
/metrics, the WebSockets /ws/metrics and /ws/events: the same messages as EventService's
WatchPoolMetrics and WatchEvents, as JSON text frames; and the dashboard's files under /app/
(api/dashboard.py).

A WebSocket is authenticated like an rpc: `X-Api-Key` or `X-Session-Token` headers, or, since a
browser cannot set headers on a WebSocket, the query parameters `api_key` / `session_token`.
The upgrade is always accepted, and a refusal is a close frame whose code and reason a browser
can read:

    4400  a query parameter is wrong (the reason names it)
    4401  no credential, or one that does not check out (the reason gives the error's reason)
    1013  this server has as many live subscribers as it takes: try again later
    1001  the server is shutting down

Each sees what its reads would show (events.bus.visible_to). The server pings every PING_S; a
peer that does not answer is closed.
"""

from __future__ import annotations

import asyncio
import json
import math

from aiohttp import WSCloseCode, WSMsgType, web
from google.protobuf import json_format
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from coordinator.api import convert, dashboard
from coordinator.api.events import checked_interval
from coordinator.errors import DomainError, InvalidArgument
from coordinator.events.bus import EventBus, checked_types, watch
from coordinator.identity.authenticator import API_KEY, SESSION_TOKEN, Authenticator
from coordinator.identity.callers import Caller, CallerKind
from coordinator.pool.metrics import PoolCollector

PING_S = 20.0
BAD_REQUEST, UNAUTHENTICATED = 4400, 4401
ENDED = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)


class LiveHttp:
    def __init__(self, registry: CollectorRegistry, collector: PoolCollector, authenticator: Authenticator,
                 bus: EventBus, max_subscribers: int, dashboard_dir: str = ""):
        self.registry, self.collector, self.authenticator, self.bus = registry, collector, authenticator, bus
        self.max_subscribers = max_subscribers
        self.sockets: set[web.WebSocketResponse] = set()
        app = web.Application()
        app.add_routes([web.get("/metrics", self.metrics), web.get("/ws/metrics", self.ws_metrics),
                        web.get("/ws/events", self.ws_events), *dashboard.routes(dashboard_dir)])
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
        """Every `interval` seconds (1-60, default 5) the pool's figures, as WatchPoolMetrics sends them."""
        async with self._socket(request) as (socket, caller):
            if caller is None:
                return socket
            try:
                interval = checked_interval(_number(request.query.get("interval")), "interval")
            except InvalidArgument as error:
                await _refuse(socket, error)
                return socket
            while not socket.closed:
                await socket.send_str(_json(convert.pool_metrics(self.collector, caller)))
                await _closed_within(socket, interval)
            return socket

    async def ws_events(self, request: web.Request) -> web.WebSocketResponse:
        """The caller's events as WatchEvents sends them; `types` (comma-separated) keeps only those."""
        # Uncompressed: deflating each small event costs more CPU than the bytes it saves, and a
        # pool's every heartbeat may be an event.
        async with self._socket(request, compress=False) as (socket, caller):
            if caller is None:
                return socket
            try:
                types = checked_types([name for name in request.query.get("types", "").split(",") if name])
            except InvalidArgument as error:
                await _refuse(socket, error)
                return socket
            events = watch(self.bus, caller, types)

            async def send_all() -> None:
                async for event in events:
                    await socket.send_str(event.json_text)

            sending = asyncio.create_task(send_all())
            try:
                while not sending.done() and (await socket.receive()).type not in ENDED:
                    pass  # reading answers pings and sees the peer's close; its messages are ignored
            finally:
                sending.cancel()
                await asyncio.gather(sending, return_exceptions=True)  # before closing what it reads
                await events.aclose()
            return socket

    def _socket(self, request: web.Request, *, compress: bool = True) -> _Socket:
        return _Socket(self, request, compress)


class _Socket:
    """An accepted WebSocket and its caller (None once refused with a close code)."""

    def __init__(self, live: LiveHttp, request: web.Request, compress: bool):
        self.live, self.request = live, request
        self.socket = web.WebSocketResponse(heartbeat=PING_S, compress=compress)

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


def _number(text: str | None) -> float | None:
    try:
        return None if text is None else float(text)
    except ValueError:
        return math.nan  # refused by the range check, naming the parameter


def _json(message) -> str:
    return json.dumps(json_format.MessageToDict(message, preserving_proto_field_name=True,
                                                always_print_fields_with_no_presence=True))  # as Envoy prints


async def _refuse(socket: web.WebSocketResponse, error: InvalidArgument) -> None:
    violation = error.violations[0]
    await socket.close(code=BAD_REQUEST, message=f"{violation.field}: {violation.description}"[:120].encode())


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
