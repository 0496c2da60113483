"""A participant's alert rules and notification channels, and what the pool did with them:
read, replaced, and the incidents and notifications listed."""

from __future__ import annotations

import secrets
import urllib.parse
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.adapters.notifiers import public_host
from coordinator.errors import FailedPrecondition, Reason, Validator
from coordinator.identity.callers import require_owner
from coordinator.storage import paging
from coordinator.storage.database import Database, get_existing, not_found
from coordinator.storage.models import AlertRule, Incident, Notification, NotificationChannel, Participant, utcnow

# Each rule kind, and the range its threshold must fall in (None: unused, must be 0).
RULE_THRESHOLDS: dict[str, tuple[float, float] | None] = {
    "worker_offline": (0.0, 7 * 24 * 60.0),     # minutes unheard of (more than 0)
    "worker_temperature": (1.0, 150.0),         # °C
    "worker_error_rate": (0.0, 100.0),          # percent of requests
    "participant_silent": (0.0, 7 * 24 * 60.0),  # minutes none of its workers was heard of
    "payout": None,
}
EXCLUSIVE_LOW = {"worker_offline", "participant_silent"}  # 0 minutes would fire at once
CHANNEL_KINDS = ("webhook", "telegram", "email")
MAX_WEBHOOK_URL = 500


@dataclass(frozen=True)
class ChannelsAvailable:
    """What the pool can send through: a Telegram bot, an SMTP server; and whether a webhook may
    point at a private or loopback address (off by default: the pool's own network)."""
    telegram: bool
    email: bool
    webhook_private_addresses: bool = False


@dataclass(frozen=True)
class RuleIn:
    kind: str
    threshold: float
    channels: tuple[str, ...]


@dataclass(frozen=True)
class ChannelIn:
    kind: str
    enabled: bool
    webhook_url: str = ""


@dataclass(frozen=True)
class AlertSettingsView:
    participant_id: int
    rules: list[AlertRule]
    channels: list[NotificationChannel]


def check_webhook_url(url: str, private_allowed: bool, field: str) -> str:
    """An http(s) URL with a host; not a private, loopback or link-local address unless allowed.
    (A name is checked again when it is resolved, at each delivery: adapters/notifiers.)"""
    check = Validator()
    parsed = urllib.parse.urlsplit(url)
    check.check(len(url) <= MAX_WEBHOOK_URL, field, f"must be at most {MAX_WEBHOOK_URL} characters")
    if check.check(parsed.scheme in ("http", "https") and bool(parsed.hostname), field,
                   "must be an http:// or https:// URL with a host"):
        if not private_allowed:
            check.check(public_host(parsed.hostname or ""), field,
                        "must not point at a private, loopback or link-local address")
    check.raise_if_any()
    return url


def _checked(rules: list[RuleIn], channels: list[ChannelIn], available: ChannelsAvailable,
             participant: Participant) -> None:
    check = Validator()
    seen_rules: set[str] = set()
    listed = {channel.kind for channel in channels}
    for i, rule in enumerate(rules):
        if not check.check(rule.kind in RULE_THRESHOLDS, f"rules[{i}].kind",
                           f"must be one of {', '.join(RULE_THRESHOLDS)}"):
            continue
        check.check(rule.kind not in seen_rules, f"rules[{i}].kind", "appears twice; one rule per kind")
        seen_rules.add(rule.kind)
        limits = RULE_THRESHOLDS[rule.kind]
        if limits is None:
            check.check(rule.threshold == 0, f"rules[{i}].threshold", "is unused for this kind and must be 0")
        else:
            low, high = limits
            within = (low < rule.threshold if rule.kind in EXCLUSIVE_LOW else low <= rule.threshold) \
                and rule.threshold <= high
            check.check(within, f"rules[{i}].threshold",
                        f"must be {'more than' if rule.kind in EXCLUSIVE_LOW else 'at least'} {low:g} "
                        f"and at most {high:g} for {rule.kind}")
        check.check(bool(rule.channels), f"rules[{i}].channels", "must name at least one channel")
        for j, name in enumerate(rule.channels):
            check.check(name in listed, f"rules[{i}].channels[{j}]",
                        f"{name!r} is not one of the channels given ({', '.join(sorted(listed)) or 'none'})")
    seen_channels: set[str] = set()
    for i, channel in enumerate(channels):
        if not check.check(channel.kind in CHANNEL_KINDS, f"channels[{i}].kind",
                           f"must be one of {', '.join(CHANNEL_KINDS)}"):
            continue
        check.check(channel.kind not in seen_channels, f"channels[{i}].kind", "appears twice; one channel per kind")
        seen_channels.add(channel.kind)
        if channel.kind == "webhook":
            check.run(f"channels[{i}].webhook_url", check_webhook_url, channel.webhook_url,
                      available.webhook_private_addresses)
        else:
            check.check(not channel.webhook_url, f"channels[{i}].webhook_url", "is for the webhook channel only")
    check.raise_if_any()
    for i, channel in enumerate(channels):
        unusable = _unusable(channel.kind, available, participant)
        if unusable and channel.enabled:
            raise FailedPrecondition(unusable, reason=Reason.CHANNEL_UNAVAILABLE, metadata={"field": f"channels[{i}]"})


def _unusable(kind: str, available: ChannelsAvailable, participant: Participant) -> str:
    """Why this participant cannot get notifications through `kind` now ("" if it can)."""
    if kind == "telegram" and not available.telegram:
        return "this pool has no Telegram bot (TELEGRAM_BOT_TOKEN)"
    if kind == "telegram" and not participant.telegram_user_id:
        return "the participant has no telegram_user_id"
    if kind == "email" and not available.email:
        return "this pool sends no e-mail (SMTP_HOST, SMTP_FROM)"
    if kind == "email" and not participant.email:
        return "the participant has no email"
    return ""


async def get_settings(session: AsyncSession, participant_id: int) -> AlertSettingsView:
    await get_existing(session, Participant, participant_id, "participant")
    rules = await session.scalars(select(AlertRule).where(AlertRule.participant_id == participant_id)
                                  .order_by(AlertRule.kind))
    channels = await session.scalars(select(NotificationChannel)
                                     .where(NotificationChannel.participant_id == participant_id)
                                     .order_by(NotificationChannel.kind))
    return AlertSettingsView(participant_id, list(rules), list(channels))


async def replace_settings(session: AsyncSession, participant_id: int, rules: list[RuleIn],
                           channels: list[ChannelIn], available: ChannelsAvailable) -> AlertSettingsView:
    """Replaces the rules and channels. A channel kept keeps its webhook secret (while its URL is
    unchanged) and its failure count; enabling it again clears why the pool disabled it."""
    # Locked: two saves at once replace one after the other, never interleaved.
    participant = await session.scalar(select(Participant).where(Participant.id == participant_id).with_for_update())
    if participant is None:
        raise not_found("participant", participant_id)
    _checked(rules, channels, available, participant)
    old = {c.kind: c for c in (await get_settings(session, participant_id)).channels}
    await session.execute(delete(AlertRule).where(AlertRule.participant_id == participant_id))
    session.add_all(AlertRule(participant_id=participant_id, kind=r.kind, threshold=float(r.threshold),
                              channels=",".join(dict.fromkeys(r.channels))) for r in rules)
    wanted = {c.kind: c for c in channels}
    for kind, row in old.items():
        if kind not in wanted:
            await session.delete(row)
    for kind, given in wanted.items():
        row = old.get(kind) or NotificationChannel(participant_id=participant_id, kind=kind)
        if kind == "webhook" and (not row.webhook_secret or row.webhook_url != given.webhook_url):
            row.webhook_secret = secrets.token_hex(32)
        if given.enabled and not row.enabled:
            row.disabled_reason, row.consecutive_failures = "", 0
        row.enabled, row.webhook_url = given.enabled, given.webhook_url
        session.add(row)
    # Incidents of a rule removed end here, without a message: nobody asked to hear of them now.
    kept = [r.kind for r in rules]
    await session.execute(update(Incident).where(Incident.participant_id == participant_id,
                                                 Incident.resolved_at.is_(None), Incident.rule.not_in(kept))
                          .values(resolved_at=utcnow()))
    await session.flush()
    return await get_settings(session, participant_id)


async def list_incidents(session: AsyncSession, participant_id: int, open_only: bool, limit: int | None,
                         page_token: str) -> tuple[list[Incident], str]:
    query = select(Incident).where(Incident.participant_id == participant_id)
    if open_only:
        query = query.where(Incident.resolved_at.is_(None))
    return await _newest_first(session, participant_id, query, Incident.opened_at, Incident.id, limit, page_token)


async def list_notifications(session: AsyncSession, participant_id: int, limit: int | None, page_token: str
                             ) -> tuple[list[Notification], str]:
    query = select(Notification).where(Notification.participant_id == participant_id)
    return await _newest_first(session, participant_id, query, Notification.created_at, Notification.id, limit,
                               page_token)


async def _newest_first(session: AsyncSession, participant_id: int, query, time_column, id_column,
                        limit: int | None, page_token: str) -> tuple[list, str]:
    """A page of the participant's rows, newest first."""
    check = Validator()
    limit, position = paging.newest_first_request(check, limit, page_token)
    check.raise_if_any()
    await get_existing(session, Participant, participant_id, "participant")
    rows = list(await session.scalars(paging.newest_first(query, time_column, id_column, limit, position)))
    return paging.newest_first_page(rows, limit, time_column.key)


class Alerts:
    """A participant's alert operations (its own, or any for an admin), each one unit of work."""

    def __init__(self, database: Database, available: ChannelsAvailable):
        self.database = database
        self.available = available

    async def get(self, participant_id: int) -> AlertSettingsView:
        require_owner(participant_id, "participant")
        async with self.database.transaction() as session:
            return await get_settings(session, participant_id)

    async def replace(self, participant_id: int, rules: list[RuleIn], channels: list[ChannelIn]) -> AlertSettingsView:
        require_owner(participant_id, "participant")
        async with self.database.transaction() as session:
            return await replace_settings(session, participant_id, rules, channels, self.available)

    async def incidents(self, participant_id: int, open_only: bool, limit: int | None, page_token: str
                        ) -> tuple[list[Incident], str]:
        require_owner(participant_id, "participant")
        async with self.database.transaction() as session:
            return await list_incidents(session, participant_id, open_only, limit, page_token)

    async def notifications(self, participant_id: int, limit: int | None, page_token: str
                            ) -> tuple[list[Notification], str]:
        require_owner(participant_id, "participant")
        async with self.database.transaction() as session:
            return await list_notifications(session, participant_id, limit, page_token)
