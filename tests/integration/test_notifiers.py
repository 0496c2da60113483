"""The notification channels against real local receivers: an HTTP server that checks webhook
signatures with the SDK's verifier, a stand-in for Telegram's Bot API, and an SMTP server
(aiosmtpd). Retries, backoff that honours the receiver, and giving up on what cannot succeed."""

from __future__ import annotations

import asyncio
import email
import json
import time

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from computepool import webhooks
from coordinator.adapters.notifiers import DeliveryFailed, Email, Notice, Telegram, Webhook, deliver

from tests.support.ports import free_port

NOTICE = Notice(id="n-1", type="worker.offline", title="Worker 7 is offline",
                text="No heartbeat for 5 minutes.", data={"worker_id": 7}, participant_id=3)


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


async def test_a_webhook_is_signed_so_that_the_sdk_verifies_it_and_a_forgery_fails():
    async with Receiver() as receiver:
        assert await deliver(Webhook(f"{receiver.url}/hook", "s3cret"), NOTICE) == 1
    _, headers, body, _ = receiver.requests[0]
    assert webhooks.verify("s3cret", body, headers[webhooks.SIGNATURE_HEADER]) <= time.time()
    assert json.loads(body) == {"id": "n-1", "type": "worker.offline", "title": "Worker 7 is offline",
                                "text": "No heartbeat for 5 minutes.", "participant_id": 3, "data": {"worker_id": 7}}
    assert headers["X-Computepool-Delivery"] == "n-1"
    for secret, tampered, at in (("other", body, None), ("s3cret", body + b" ", None),
                                 ("s3cret", body, time.time() + 3600)):
        with pytest.raises(webhooks.BadSignature):
            webhooks.verify(secret, tampered, headers[webhooks.SIGNATURE_HEADER], now=at)


async def test_a_webhook_failing_for_a_while_is_retried_with_growing_waits_and_the_same_id():
    async with Receiver(503, 500) as receiver:
        attempts = await deliver(Webhook(f"{receiver.url}/hook", "s"), NOTICE, first_backoff_s=0.2)
    times = [at for *_, at in receiver.requests]
    assert attempts == 3 and len({headers["X-Computepool-Delivery"] for _, headers, _, _ in receiver.requests}) == 1
    assert 0.1 <= times[1] - times[0] and times[2] - times[1] >= 0.2  # 0.2 s then 0.4 s, each jittered by half


async def test_a_refusal_that_cannot_change_is_not_retried():
    async with Receiver(410) as receiver:
        with pytest.raises(DeliveryFailed) as failed:
            await deliver(Webhook(f"{receiver.url}/hook", "s"), NOTICE, first_backoff_s=0.01)
    assert not failed.value.retryable and "410" in str(failed.value) and len(receiver.requests) == 1


async def test_an_unreachable_receiver_fails_after_every_attempt():
    with pytest.raises(DeliveryFailed) as failed:
        await deliver(Webhook(f"http://127.0.0.1:{free_port()}/hook", "s"), NOTICE, attempts=3, first_backoff_s=0.01)
    assert failed.value.retryable and "unreachable" in str(failed.value)


async def test_telegram_gets_send_message_for_the_chat_and_its_retry_after_is_honoured():
    too_many = (429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                      "parameters": {"retry_after": 1}})
    async with Receiver(too_many) as bot_api:
        attempts = await deliver(Telegram(bot_api.url, "123:abc", chat_id=424242), NOTICE, first_backoff_s=0.01)
    (path, _, first, at_first), (_, _, second, at_second) = bot_api.requests
    assert attempts == 2 and path == "/bot123:abc/sendMessage" and first == second
    assert json.loads(first) == {"chat_id": 424242, "text": "Worker 7 is offline\nNo heartbeat for 5 minutes."}
    assert at_second - at_first >= 1.0  # the Bot API's retry_after, not our 10 ms


class Inbox:
    def __init__(self):
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


async def test_an_email_reaches_a_real_smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        await deliver(Email("127.0.0.1", controller.port, "pool@example.org", "owner@example.org"), NOTICE)
    finally:
        controller.stop()
    [message] = inbox.messages
    assert (message["Subject"], message["To"], message["Message-ID"]) == (
        "Worker 7 is offline", "owner@example.org", "<n-1@computepool>")
    assert message.get_payload().strip() == "No heartbeat for 5 minutes."


async def test_an_smtp_server_that_is_away_is_a_retryable_failure():
    with pytest.raises(DeliveryFailed) as failed:
        await deliver(Email("127.0.0.1", free_port(), "pool@example.org", "o@example.org"), NOTICE, attempts=2,
                      first_backoff_s=0.01)
    assert failed.value.retryable
