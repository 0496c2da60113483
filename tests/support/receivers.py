"""Local receivers for the pool's notifications: an HTTP server (webhooks, and the stand-in for
Telegram's Bot API) and an SMTP inbox for aiosmtpd."""

from __future__ import annotations

import email
import time

from aiohttp import web

from tests.support.ports import free_port


class Receiver:
    """An HTTP server answering each request with the next of `statuses` (then 200), keeping them."""

    def __init__(self, *statuses: int | tuple[int, dict]):
        self.statuses = list(statuses)
        self.requests: list[tuple[str, dict, bytes, float]] = []

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.answer)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        self.port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    async def __aexit__(self, *_) -> None:
        await self.runner.cleanup()

    async def answer(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.headers), await request.read(), time.monotonic()))
        status = self.statuses.pop(0) if self.statuses else 200
        status, body = status if isinstance(status, tuple) else (status, {"ok": status < 300})
        return web.json_response(body, status=status)


class Inbox:
    def __init__(self):
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"
