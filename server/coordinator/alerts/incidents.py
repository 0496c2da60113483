"""Rules judged against the pool's state: an incident opens when a rule fires for a subject and
resolves when its condition ends, each telling the rule's channels once.

Every replica judges (woken by the events that can change an outcome, and on a sweep for
"for N minutes"); the partial unique index on open incidents lets one replica's insert win, and
a resolve is a conditional UPDATE, so each message is produced once. Open incidents are read
before the state they are judged on: an incident another replica opened is then never closed on
older figures than the ones that opened it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.alerts import outbox
from coordinator.errors import Unavailable
from coordinator.events.bus import EventBus, Lost
from coordinator.storage.database import Database
from coordinator.storage.models import AlertRule, Incident, Worker, WorkerSample, WorkerStatus, utcnow

log = logging.getLogger(__name__)

TEMPERATURE_RECOVERY_C = 3.0  # a hot GPU recovers this far below the limit (no message per wobble)
ERROR_WINDOW = dt.timedelta(minutes=15)
ERROR_MIN_REQUESTS = 10  # fewer requests in the window say nothing about the error rate
WAKING_EVENTS = frozenset({"worker.status_changed", "worker.metrics"})
DEBOUNCE_S = 0.5  # events that arrive together are judged together

Key = tuple[int, str, str]  # participant, rule, subject


@dataclass(frozen=True)
class Firing:
    participant_id: int
    rule: str
    subject: str
    worker_id: int | None
    summary: str


@dataclass
class Judgement:
    firing: dict[Key, Firing]
    unknown: set[Key]  # no figures to judge on: an open incident stays open
    retired: set[int]  # workers deactivated: their incidents end without a message (they did not recover)


def worker_label(worker) -> str:
    return f"{worker.worker_name}#{worker.instance_number}"


def _minutes(delta: dt.timedelta) -> str:
    return f"{delta.total_seconds() / 60:.1f} min"


async def judge(session: AsyncSession, rules: list[AlertRule], open_keys: set[Key], now: dt.datetime) -> Judgement:
    by_participant: dict[int, dict[str, AlertRule]] = {}
    for rule in rules:
        by_participant.setdefault(rule.participant_id, {})[rule.kind] = rule
    every = list(await session.scalars(select(Worker).where(Worker.participant_id.in_(list(by_participant)))))
    workers = [w for w in every if w.is_active]
    rates = await _error_rates(session, [w.id for w in workers
                                         if "worker_error_rate" in by_participant[w.participant_id]], now)
    result = Judgement({}, set(), {w.id for w in every if not w.is_active})

    def fire(participant_id: int, rule: str, subject: str, worker_id: int | None, summary: str) -> None:
        result.firing[(participant_id, rule, subject)] = Firing(participant_id, rule, subject, worker_id, summary)

    for worker in workers:
        rules_of = by_participant[worker.participant_id]
        subject, label = f"worker:{worker.id}", worker_label(worker)
        if (rule := rules_of.get("worker_offline")) and worker.latest_seen_at is not None:
            silent = now - worker.latest_seen_at
            if silent > dt.timedelta(minutes=rule.threshold):
                fire(worker.participant_id, rule.kind, subject, worker.id,
                     f"{label} unheard of for {_minutes(silent)} (limit {rule.threshold:g} min)")
        if rule := rules_of.get("worker_temperature"):
            key = (worker.participant_id, rule.kind, subject)
            temperature = worker.latest_gpu_temperature_celsius
            if temperature is None or worker.latest_status == WorkerStatus.OFFLINE:
                result.unknown.add(key)
            elif temperature > rule.threshold or (key in open_keys
                                                  and temperature > rule.threshold - TEMPERATURE_RECOVERY_C):
                fire(worker.participant_id, rule.kind, subject, worker.id,
                     f"{label} GPU at {temperature:.1f} °C (limit {rule.threshold:g} °C)")
        if rule := rules_of.get("worker_error_rate"):
            key = (worker.participant_id, rule.kind, subject)
            rate = rates.get(worker.id)
            if rate is None:
                result.unknown.add(key)
            elif rate[0] * 100 > rule.threshold * rate[1]:
                fire(worker.participant_id, rule.kind, subject, worker.id,
                     f"{label} failed {rate[0]} of {rate[1]} requests in 15 min "
                     f"({100 * rate[0] / rate[1]:.1f} %, limit {rule.threshold:g} %)")
    last_seen: dict[int, list[dt.datetime]] = {}
    for worker in workers:
        if worker.latest_seen_at is not None:
            last_seen.setdefault(worker.participant_id, []).append(worker.latest_seen_at)
    for participant_id, rules_of in by_participant.items():
        if rule := rules_of.get("participant_silent"):
            seen = last_seen.get(participant_id, [])
            if seen and now - max(seen) > dt.timedelta(minutes=rule.threshold):
                fire(participant_id, rule.kind, "participant", None,
                     f"none of {len(seen)} active workers heard of for {_minutes(now - max(seen))} "
                     f"(limit {rule.threshold:g} min)")
    return result


async def _error_rates(session: AsyncSession, worker_ids: list[int], now: dt.datetime) -> dict[int, tuple[int, int]]:
    """(errors, requests) per worker over the window, from the first and last of its samples (a
    counter that went down was reset by a restart: then the last sample's counts alone); absent
    with fewer than ERROR_MIN_REQUESTS requests."""
    if not worker_ids:
        return {}
    rows = await session.execute(
        select(WorkerSample.worker_id, WorkerSample.requests_total, WorkerSample.errors_total)
        .where(WorkerSample.worker_id.in_(worker_ids), WorkerSample.sampled_at >= now - ERROR_WINDOW,
               WorkerSample.requests_total.is_not(None), WorkerSample.errors_total.is_not(None))
        .order_by(WorkerSample.worker_id, WorkerSample.sampled_at, WorkerSample.id))
    ends: dict[int, list] = {}
    for worker_id, requests, errors in rows:
        ends.setdefault(worker_id, [(requests, errors), (requests, errors)])[1] = (requests, errors)
    rates = {}
    for worker_id, ((first_requests, first_errors), (requests, errors)) in ends.items():
        if requests >= first_requests and errors >= first_errors:
            requests, errors = requests - first_requests, errors - first_errors
        if requests >= ERROR_MIN_REQUESTS:
            rates[worker_id] = (errors, requests)
    return rates


async def evaluate(session: AsyncSession, participant_ids: set[int] | None, now: dt.datetime | None = None
                   ) -> tuple[int, int]:
    """Opens and resolves the incidents of these participants (None: all); returns how many of
    each this call did (another replica may have done the rest)."""
    now = now or utcnow()
    scope = [] if participant_ids is None else [Incident.participant_id.in_(list(participant_ids))]
    open_rows = list(await session.scalars(select(Incident).where(Incident.resolved_at.is_(None), *scope)))
    rule_scope = [] if participant_ids is None else [AlertRule.participant_id.in_(list(participant_ids))]
    rules = list(await session.scalars(select(AlertRule).where(AlertRule.kind != "payout", *rule_scope)))
    if not rules and not open_rows:
        return 0, 0
    open_by_key = {(row.participant_id, row.rule, row.subject): row for row in open_rows}
    judgement = await judge(session, rules, set(open_by_key), now)
    rule_of = {(rule.participant_id, rule.kind): rule for rule in rules}
    opened = resolved = 0
    for key, firing in judgement.firing.items():
        if key not in open_by_key:
            incident_id = await _open(session, firing, now)
            if incident_id is not None:
                opened += 1
                await outbox.tell_incident(session, rule_of[key[:2]], incident_id, firing.summary, "opened", now)
    for key, row in open_by_key.items():
        if key in judgement.firing or key in judgement.unknown or key[:2] not in rule_of:
            continue  # still firing, unknown, or of a rule removed meanwhile (preferences closes those)
        closed = await session.scalar(update(Incident).where(Incident.id == row.id, Incident.resolved_at.is_(None))
                                      .values(resolved_at=now).returning(Incident.id))
        if closed is not None and row.worker_id not in judgement.retired:
            resolved += 1
            await outbox.tell_incident(session, rule_of[key[:2]], row.id,
                                       f"{row.summary}; resolved after {_minutes(now - row.opened_at)}",
                                       "recovered", now)
    return opened, resolved


async def _open(session: AsyncSession, firing: Firing, now: dt.datetime) -> int | None:
    """The new incident's id, or None when one is open already (another replica's)."""
    insert = postgresql.insert if session.bind.dialect.name == "postgresql" else sqlite.insert
    statement = (insert(Incident).values(participant_id=firing.participant_id, rule=firing.rule,
                                         subject=firing.subject, worker_id=firing.worker_id,
                                         summary=firing.summary[:300], opened_at=now)
                 .on_conflict_do_nothing(index_elements=["participant_id", "rule", "subject"],
                                         index_where=Incident.resolved_at.is_(None))
                 .returning(Incident.id))
    return await session.scalar(statement)


class AlertEvaluator:
    """The duty: judges the participants an event concerns soon after it, and all of them on a
    sweep every `interval_s`."""

    def __init__(self, database: Database, events: EventBus, interval_s: float):
        self.database = database
        self.events = events
        self.interval_s = interval_s

    async def evaluate(self, participant_ids: set[int] | None) -> tuple[int, int]:
        async with self.database.transaction() as session:
            return await evaluate(session, participant_ids)

    async def run_forever(self) -> None:
        loop = asyncio.get_running_loop()
        with self.events.subscribe(lambda e: e.type in WAKING_EVENTS and e.participant_id is not None) as events:
            next_sweep = loop.time()
            while True:
                dirty: set[int] | None = set()
                try:
                    item = await asyncio.wait_for(events.next(), max(0.0, next_sweep - loop.time()))
                except asyncio.TimeoutError:
                    dirty, next_sweep = None, loop.time() + self.interval_s
                else:
                    await asyncio.sleep(DEBOUNCE_S)
                    while True:  # take what came meanwhile
                        if isinstance(item, Lost):
                            dirty = None
                        elif dirty is not None:
                            dirty.add(item.participant_id)
                        item = events.take_nowait()
                        if item is None:
                            break
                await self._round(dirty)

    async def _round(self, participant_ids: set[int] | None) -> None:
        try:
            await self.evaluate(participant_ids)
        except Unavailable:
            pass
        except Exception:
            log.exception("alert evaluation failed")
