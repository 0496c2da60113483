"""The notification channels against real local receivers: an HTTP server that checks webhook
signatures with the SDK's verifier, a stand-in for Telegram's Bot API, and an SMTP server
(aiosmtpd). Which failures may pass, backoff that honours the receiver, and webhooks kept off the
pool's own network. (tests/integration/test_alerts.py sends through them from the outbox.)"""

from __future__ import annotations

import json
import time

import pytest
from aiosmtpd.controller import Controller
from computepool import webhooks
from coordinator.adapters.notifiers import DeliveryFailed, Email, Notice, Telegram, Webhook, retry_delay_s

from tests.support.ports import free_port
from tests.support.receivers import Inbox, Receiver

NOTICE = Notice(id="n-1", type="worker.offline", title="Worker 7 is offline",
                text="No heartbeat for 5 minutes.", data={"worker_id": 7}, participant_id=3)


async def test_a_webhook_is_signed_so_that_the_sdk_verifies_it_and_a_forgery_fails():
    async with Receiver() as receiver:
        await Webhook(f"{receiver.url}/hook", "s3cret", private_addresses=True).send(NOTICE)
    _, headers, body, _ = receiver.requests[0]
    assert webhooks.verify("s3cret", body, headers[webhooks.SIGNATURE_HEADER]) <= time.time()
    assert json.loads(body) == {"id": "n-1", "type": "worker.offline", "title": "Worker 7 is offline",
                                "text": "No heartbeat for 5 minutes.", "participant_id": 3, "data": {"worker_id": 7}}
    assert headers["X-Computepool-Delivery"] == "n-1"
    for secret, tampered, at in (("other", body, None), ("s3cret", body + b" ", None),
                                 ("s3cret", body, time.time() + 3600)):
        with pytest.raises(webhooks.BadSignature):
            webhooks.verify(secret, tampered, headers[webhooks.SIGNATURE_HEADER], now=at)


async def send_failure(notifier) -> DeliveryFailed:
    with pytest.raises(DeliveryFailed) as failed:
        await notifier.send(NOTICE)
    return failed.value


async def test_a_receiver_in_trouble_may_be_retried_and_a_refusal_that_cannot_change_may_not():
    async with Receiver(503, 429, 410) as receiver:
        hook = Webhook(f"{receiver.url}/hook", "s", private_addresses=True)
        away, busy, gone = [await send_failure(hook) for _ in range(3)]
    unreachable = await send_failure(Webhook(f"http://127.0.0.1:{free_port()}/hook", "s", private_addresses=True))
    assert away.retryable and busy.retryable and unreachable.retryable and "unreachable" in str(unreachable)
    assert not gone.retryable and "410" in str(gone) and len(receiver.requests) == 3


def test_waits_double_with_jitter_honour_the_receiver_and_end():
    away = DeliveryFailed("503", retryable=True)
    waits = [retry_delay_s(away, attempt, 10.0) for attempt in range(1, 8)]
    for attempt, wait in enumerate(waits, 1):
        assert 5.0 * 2 ** (attempt - 1) <= wait <= 10.0 * 2 ** (attempt - 1)
    assert retry_delay_s(away, 8, 10.0) is None  # the last attempt
    assert retry_delay_s(DeliveryFailed("410", retryable=False), 1, 10.0) is None
    assert retry_delay_s(DeliveryFailed("429", retryable=True, retry_after_s=30), 1, 10.0) == 30


async def test_telegram_gets_send_message_for_the_chat_and_its_retry_after_is_read():
    too_many = (429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 7",
                      "parameters": {"retry_after": 7}})
    async with Receiver(too_many) as bot_api:
        telegram = Telegram(bot_api.url, "123:abc", chat_id=424242)
        refused = await send_failure(telegram)
        await telegram.send(NOTICE)
    (path, _, first, _), (_, _, second, _) = bot_api.requests
    assert refused.retryable and refused.retry_after_s == 7
    assert path == "/bot123:abc/sendMessage" and first == second
    assert json.loads(first) == {"chat_id": 424242, "text": "Worker 7 is offline\nNo heartbeat for 5 minutes."}


async def test_a_webhook_never_reaches_a_private_address_unless_the_pool_allows_it():
    async with Receiver() as receiver:
        for url in (f"{receiver.url}/hook", f"http://localhost:{receiver.port}/hook",
                    f"http://[::1]:{receiver.port}/hook", "http://10.1.2.3/hook", "http://169.254.169.254/latest"):
            refused = await send_failure(Webhook(url, "s"))
            assert not refused.retryable and "public" in str(refused), url
    assert receiver.requests == []


async def test_an_email_reaches_a_real_smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        await Email("127.0.0.1", controller.port, "pool@example.org", "owner@example.org").send(NOTICE)
    finally:
        controller.stop()
    [message] = inbox.messages
    assert (message["Subject"], message["To"], message["Message-ID"]) == (
        "Worker 7 is offline", "owner@example.org", "<n-1@computepool>")
    assert message.get_payload().strip() == "No heartbeat for 5 minutes."


async def test_an_smtp_server_that_is_away_is_a_retryable_failure():
    assert (await send_failure(Email("127.0.0.1", free_port(), "pool@example.org", "o@example.org"))).retryable
