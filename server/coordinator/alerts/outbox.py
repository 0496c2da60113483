"""Notifications: written in the transaction that decides them (an incident opened or resolved,
a payout sent or failed), then sent by whichever replica claims them, at least once.

A claim moves a notification's next attempt a lease ahead and counts the attempt, so a replica
that dies while sending leaves it to be sent again after the lease, with the same notice id.
A failure that may pass is retried with exponential backoff; one that will not, or the last
attempt, fails the notification and counts against its channel, which is disabled after
`disable_after` failures in a row.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.adapters.notifiers import (
    DeliveryFailed, Email, Notice, Notifier, Telegram, Webhook, retry_delay_s)
from coordinator.duties import repeat
from coordinator.money import NANOTON_DECIMALS, units_to_decimal_str
from coordinator.storage.database import Database
from coordinator.storage.models import AlertRule, Notification, NotificationChannel, Participant, Payout, utcnow

log = logging.getLogger(__name__)

SEND_LEASE = dt.timedelta(seconds=60)  # longer than a notifier may take (its timeout is 10 s)
BATCH = 20
POLL_S = 1.0

TITLES = {  # rule: (opened, recovered)
    "worker_offline": ("Worker offline", "Worker back online"),
    "worker_temperature": ("GPU too hot", "GPU temperature back to normal"),
    "worker_error_rate": ("Worker error rate high", "Worker error rate back to normal"),
    "participant_silent": ("No heartbeat from any worker", "Workers heard again"),
}


async def _enqueue(session: AsyncSession, participant_id: int, channels: str, type_: str, title: str, text: str,
                   data: dict, now: dt.datetime, incident_id: int | None = None) -> None:
    enabled = set(await session.scalars(select(NotificationChannel.kind).where(
        NotificationChannel.participant_id == participant_id, NotificationChannel.enabled.is_(True))))
    session.add_all(Notification(notice_id=str(uuid.uuid4()), participant_id=participant_id, incident_id=incident_id,
                                 channel=channel, type=type_, title=title, text=text, data=data, status="pending",
                                 attempts=0, next_attempt_at=now, last_error="", created_at=now)
                    for channel in channels.split(",") if channel in enabled)


async def tell_incident(session: AsyncSession, rule: AlertRule, incident_id: int, summary: str, phase: str,
                        now: dt.datetime) -> None:
    """`phase`: opened or recovered."""
    title = TITLES[rule.kind][0 if phase == "opened" else 1]
    await _enqueue(session, rule.participant_id, rule.channels, f"{rule.kind}.{phase}", title, summary,
                   {"incident_id": incident_id, "rule": rule.kind, "threshold": rule.threshold}, now, incident_id)


async def tell_payout(session: AsyncSession, payout: Payout) -> None:
    """A payout sent or failed, to the channels of its participant's payout rule (if any)."""
    channels = await session.scalar(select(AlertRule.channels).where(
        AlertRule.participant_id == payout.participant_id, AlertRule.kind == "payout"))
    if not channels:
        return
    amount = f"{units_to_decimal_str(payout.amount_nanoton, NANOTON_DECIMALS).rstrip('0').rstrip('.')} TON"
    if payout.status == "sent":
        title, text = "Payout sent", f"{amount} sent to {payout.to_address} in transaction {payout.transaction_hash}"
    else:
        title, text = "Payout failed", f"{amount} to {payout.to_address} failed ({payout.failure_reason or 'no reason given'}); it is owed again"
    await _enqueue(session, payout.participant_id, channels, f"payout.{payout.status}", title, text,
                   {"payout_id": payout.id, "amount_nanoton": payout.amount_nanoton,
                    "transaction_hash": payout.transaction_hash}, utcnow())


class ChannelGone(DeliveryFailed):
    """The channel was removed or disabled since the notification was made: not its failure."""

    def __init__(self, channel: str):
        super().__init__(f"the {channel} channel was removed or disabled", retryable=False)


@dataclass(frozen=True)
class SenderConfig:
    telegram_api_url: str = "https://api.telegram.org"
    telegram_bot_token: str = ""
    smtp: Email | None = None  # host, port, sender and login; `to` is each participant's email
    webhook_private_addresses: bool = False
    retry_s: float = 10.0
    disable_after: int = 5

    @classmethod
    def from_settings(cls, settings) -> SenderConfig:
        smtp = None
        if settings.smtp_host and settings.smtp_from:
            smtp = Email(settings.smtp_host, settings.smtp_port, settings.smtp_from, "", settings.smtp_username,
                         settings.smtp_password, settings.smtp_starttls)
        return cls(settings.telegram_api_url, settings.telegram_bot_token, smtp,
                   settings.webhook_private_addresses, settings.notify_retry_s, settings.notify_disable_after)


class Sender:
    """The duty that sends what is due, in every replica."""

    def __init__(self, database: Database, config: SenderConfig, lease: dt.timedelta = SEND_LEASE):
        self.database = database
        self.config = config
        self.lease = lease

    async def run_forever(self) -> None:
        await repeat("notification sender", self.send_due, POLL_S)

    async def send_due(self) -> int:
        """Claims and sends up to a batch of due notifications; returns how many it sent."""
        now = utcnow()
        async with self.database.transaction() as session:
            due = (select(Notification.id).where(Notification.status == "pending", Notification.next_attempt_at <= now)
                   .order_by(Notification.next_attempt_at).limit(BATCH).with_for_update(skip_locked=True))
            claimed = list(await session.scalars(
                update(Notification).where(Notification.id.in_(due.scalar_subquery()))
                .values(attempts=Notification.attempts + 1, next_attempt_at=now + self.lease)
                .returning(Notification)))
            if not claimed:
                return 0
            channels = {(c.participant_id, c.kind): c for c in await session.scalars(select(NotificationChannel).where(
                NotificationChannel.participant_id.in_({n.participant_id for n in claimed})))}
            participants = {p.id: p for p in await session.scalars(select(Participant).where(
                Participant.id.in_({n.participant_id for n in claimed})))}
            session.expunge_all()
        outcomes = await asyncio.gather(*(self._send(n, channels.get((n.participant_id, n.channel)),
                                                     participants[n.participant_id]) for n in claimed))
        async with self.database.transaction() as session:
            for notification, outcome in zip(claimed, outcomes):
                await self._record(session, notification, outcome)
        return sum(1 for outcome in outcomes if outcome is None)

    async def _send(self, notification: Notification, channel: NotificationChannel | None,
                    participant: Participant) -> DeliveryFailed | None:
        if channel is None or not channel.enabled:
            return ChannelGone(notification.channel)
        try:
            notifier = self._notifier(channel, participant)
            await notifier.send(Notice(notification.notice_id, notification.type, notification.title,
                                       notification.text, notification.data, notification.participant_id))
        except DeliveryFailed as failure:
            return failure
        except Exception as error:  # a notifier's bug must not stop the others
            log.exception("notification %s failed", notification.id)
            return DeliveryFailed(f"{type(error).__name__}: {error}", retryable=True)
        return None

    def _notifier(self, channel: NotificationChannel, participant: Participant) -> Notifier:
        if channel.kind == "webhook":
            return Webhook(channel.webhook_url, channel.webhook_secret, self.config.webhook_private_addresses)
        if channel.kind == "telegram" and self.config.telegram_bot_token and participant.telegram_user_id:
            return Telegram(self.config.telegram_api_url, self.config.telegram_bot_token, participant.telegram_user_id)
        if channel.kind == "email" and self.config.smtp is not None and participant.email:
            return dataclasses.replace(self.config.smtp, to=participant.email)
        raise DeliveryFailed(f"no {channel.kind} destination: the pool or the participant has none now",
                             retryable=False)

    async def _record(self, session: AsyncSession, notification: Notification, failure: DeliveryFailed | None) -> None:
        now = utcnow()
        if failure is None:
            values = {"status": "delivered", "delivered_at": now, "last_error": ""}
        elif (wait_s := retry_delay_s(failure, notification.attempts, self.config.retry_s)) is not None:
            values = {"next_attempt_at": now + dt.timedelta(seconds=wait_s), "last_error": str(failure)[:500]}
        else:
            values = {"status": "failed", "last_error": str(failure)[:500]}
        await session.execute(update(Notification).where(Notification.id == notification.id).values(**values))
        if "status" not in values or isinstance(failure, ChannelGone):
            return  # a retry to come, or no fault of the channel
        channel = await session.scalar(select(NotificationChannel).where(
            NotificationChannel.participant_id == notification.participant_id,
            NotificationChannel.kind == notification.channel).with_for_update())
        if channel is None:
            return
        if failure is None:
            channel.consecutive_failures = 0
            return
        channel.consecutive_failures += 1
        if channel.enabled and channel.consecutive_failures >= self.config.disable_after:
            channel.enabled = False
            channel.disabled_reason = (f"disabled after {channel.consecutive_failures} failed notifications in a "
                                       f"row; the last: {failure}")[:300]
