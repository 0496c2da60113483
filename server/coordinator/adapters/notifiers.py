"""Where notifications go, each in its own protocol: a participant's webhook (a signed JSON
POST), Telegram (the Bot API's sendMessage, to the participant's telegram_user_id) and e-mail
(SMTP). A failure says whether it may succeed later (the receiver away, 5xx, 429: retry, after
`retry_delay_s`) or will not (any other 4xx: give up at once)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import random
import socket
import urllib.parse
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Protocol

import aiohttp
import aiosmtplib
from computepool.webhooks import SIGNATURE_HEADER, sign

TIMEOUT_S = 10.0
MAX_ATTEMPTS, MAX_BACKOFF_S = 8, 3600.0  # with 10 s first: eight attempts over about 20 minutes


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
    """A participant's URL. Unless `private_addresses`, it may not reach a private, loopback or
    link-local address (the pool's own network), whatever its name resolves to at delivery."""
    url: str
    secret: str
    private_addresses: bool = False

    async def send(self, notice: Notice) -> None:
        body = json.dumps({"id": notice.id, "type": notice.type, "title": notice.title, "text": notice.text,
                           "participant_id": notice.participant_id, "data": notice.data}).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(self.secret, body),
                   "X-Computepool-Delivery": notice.id}
        if self.private_addresses:
            await _post(self.url, data=body, headers=headers, what="webhook")
            return
        host = urllib.parse.urlsplit(self.url).hostname or ""
        if not public_host(host):
            raise DeliveryFailed(f"webhook address {host} is not public", retryable=False)
        await _post(self.url, data=body, headers=headers, what="webhook",
                    connector=aiohttp.TCPConnector(resolver=PublicResolver()))


def public_host(host: str) -> bool:
    """False for a private, loopback or link-local address and for localhost; a name's addresses
    are checked when it resolves (PublicResolver)."""
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True
    return address.is_global


class PublicResolver(aiohttp.ThreadedResolver):
    """Resolves a name to its public addresses only; a name with none is refused."""

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET):
        found = await super().resolve(host, port, family)
        public = [entry for entry in found if ipaddress.ip_address(entry["host"]).is_global]
        if not public:
            raise DeliveryFailed(f"webhook host {host} resolves to no public address", retryable=False)
        return public


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


async def _post(url: str, *, what: str, connector: aiohttp.BaseConnector | None = None, **request: Any) -> None:
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S), connector=connector) as http:
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


def retry_delay_s(failure: DeliveryFailed, attempt: int, first_backoff_s: float,
                  attempts: int = MAX_ATTEMPTS) -> float | None:
    """Seconds to wait after failed attempt number `attempt` (from 1), or None to give up: at
    once on what cannot succeed later, and after `attempts`. Waits double from `first_backoff_s`
    with jitter (receivers coming back are not stormed), never less than the receiver asked."""
    if not failure.retryable or attempt >= attempts:
        return None
    backoff = min(MAX_BACKOFF_S, first_backoff_s * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
    return max(backoff, failure.retry_after_s or 0.0)
