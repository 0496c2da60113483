"""Where notifications go, each in its own protocol: a participant's webhook (a signed JSON
POST), Telegram (the Bot API's sendMessage, to the participant's telegram_user_id) and e-mail
(SMTP). `deliver` retries what may succeed later (the receiver away, 5xx, 429) with exponential
backoff and jitter, and gives up at once on what will not (any other 4xx)."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Protocol

import aiohttp
import aiosmtplib
from computepool.webhooks import SIGNATURE_HEADER, sign

TIMEOUT_S = 10.0
MAX_ATTEMPTS, FIRST_BACKOFF_S, MAX_BACKOFF_S = 5, 1.0, 60.0


@dataclass(frozen=True)
class Notice:
    """One notification: `id` is the same on every retry of it (receivers deduplicate on it)."""
    id: str
    type: str  # the alert, e.g. worker.offline, worker.recovered, payout.sent
    title: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    participant_id: int | None = None


class DeliveryFailed(Exception):
    def __init__(self, message: str, *, retryable: bool, retry_after_s: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after_s = retry_after_s


class Notifier(Protocol):
    async def send(self, notice: Notice) -> None: ...


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: str

    async def send(self, notice: Notice) -> None:
        body = json.dumps({"id": notice.id, "type": notice.type, "title": notice.title, "text": notice.text,
                           "participant_id": notice.participant_id, "data": notice.data}).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(self.secret, body),
                   "X-Computepool-Delivery": notice.id}
        await _post(self.url, data=body, headers=headers, what="webhook")


@dataclass(frozen=True)
class Telegram:
    """The Bot API at `base_url` (https://api.telegram.org, or a stand-in)."""
    base_url: str
    bot_token: str
    chat_id: int

    async def send(self, notice: Notice) -> None:
        await _post(f"{self.base_url.rstrip('/')}/bot{self.bot_token}/sendMessage", what="telegram",
                    json={"chat_id": self.chat_id, "text": f"{notice.title}\n{notice.text}"})


@dataclass(frozen=True)
class Email:
    host: str
    port: int
    sender: str
    to: str
    username: str = ""
    password: str = ""
    start_tls: bool = False

    async def send(self, notice: Notice) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, self.to, notice.title
        message["Message-ID"] = f"<{notice.id}@computepool>"
        message.set_content(notice.text)
        try:
            await aiosmtplib.send(message, hostname=self.host, port=self.port, username=self.username or None,
                                  password=self.password or None, start_tls=self.start_tls, timeout=TIMEOUT_S)
        except aiosmtplib.SMTPResponseException as error:  # 4xx: try later; 5xx: the server refuses
            raise DeliveryFailed(f"SMTP {error.code}: {error.message}", retryable=400 <= error.code < 500) from None
        except (aiosmtplib.SMTPException, OSError) as error:
            raise DeliveryFailed(f"SMTP server unreachable: {error}", retryable=True) from None


async def _post(url: str, *, what: str, **request: Any) -> None:
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as http:
            async with http.post(url, **request) as response:
                if response.status < 300:
                    return
                text = (await response.text())[:300]
                retry_after = _retry_after(response.headers.get("Retry-After"), text)
                raise DeliveryFailed(f"{what} answered {response.status}: {text}",
                                     retryable=response.status >= 500 or response.status == 429,
                                     retry_after_s=retry_after)
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        raise DeliveryFailed(f"{what} unreachable: {error!r}", retryable=True) from None


def _retry_after(header: str | None, text: str) -> float | None:
    """Retry-After in seconds, or the Bot API's parameters.retry_after."""
    if header and header.isdigit():
        return float(header)
    try:
        return float(json.loads(text)["parameters"]["retry_after"])
    except (ValueError, KeyError, TypeError):
        return None


async def deliver(notifier: Notifier, notice: Notice, *, attempts: int = MAX_ATTEMPTS,
                  first_backoff_s: float = FIRST_BACKOFF_S) -> int:
    """Sends until it is taken; returns the attempts it took, or raises the last DeliveryFailed
    (at once when it cannot succeed later). Waits double from `first_backoff_s` with jitter, never
    less than what the receiver asked for."""
    for attempt in range(1, attempts + 1):
        try:
            await notifier.send(notice)
            return attempt
        except DeliveryFailed as failure:
            if not failure.retryable or attempt == attempts:
                raise
            backoff = min(MAX_BACKOFF_S, first_backoff_s * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
            await asyncio.sleep(max(backoff, failure.retry_after_s or 0.0))
    raise AssertionError("unreachable")
