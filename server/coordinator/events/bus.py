"""Events: produced once, inside the transaction that commits the change, and delivered to every
replica's subscribers.

On PostgreSQL an event is a NOTIFY in that transaction (pg_notify, several events per payload):
the database delivers it on commit, to every listening replica, this one included, and never
for a rolled-back change. On SQLite (one process) the events wait in the session and are
delivered after the commit. Each subscriber has a bounded queue: a producer never waits for a
subscriber; one that falls behind loses events and is told so (`Lost`), then it can resync.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import json
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from coordinator.duties import repeat
from coordinator.errors import Validator
from coordinator.identity.callers import Caller
from coordinator.storage.database import Database, after_commit

# The types of event the pool produces; a subscriber may ask for some of them.
EVENT_TYPES = ("worker.status_changed", "worker.metrics", "job.status_changed", "miner.registered",
               "payout.state_changed")
SUBSCRIBED, LOST = "events.subscribed", "events.lost"  # what a stream says of itself
CHANNEL = "computepool_events"
# Bytes per NOTIFY; PostgreSQL refuses 8,000 and more. Every event's fields are bounded (ids,
# statuses, figures), so one event alone always fits; several share a payload up to this size.
MAX_PAYLOAD = 7000
QUEUE_SIZE = 1000  # events a subscriber may fall behind before it loses them
LISTEN_RETRY_S = 1.0
# One row of parameters per payload (executemany): a text[] of payloads costs more to encode than
# the statement it would save (the driver quotes an array element by element).
_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


def now_text() -> str:
    """Now, RFC 3339 in UTC with microseconds."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Event:
    """One change. `participant_id` and `client_id` say whose it is: a subscriber sees an event
    of its own participant or client, an admin every event."""
    type: str  # worker.status_changed, worker.metrics, job.status_changed, miner.registered, …
    data: dict[str, Any]
    participant_id: int | None = None
    client_id: str | None = None
    at: str = field(default_factory=now_text)

    @functools.cached_property
    def json_text(self) -> str:
        """The event as WatchEvents prints it in JSON, made once however many subscribers get it."""
        shown = {"type": self.type, "at": self.at}
        if self.participant_id is not None:
            shown["participant_id"] = self.participant_id
        shown["data"] = self.data
        return json.dumps(shown, separators=(",", ":"))

    def encoded(self) -> dict[str, Any]:
        return {"t": self.type, "d": self.data, "p": self.participant_id, "c": self.client_id, "a": self.at}

    @classmethod
    def decoded(cls, raw: dict[str, Any]) -> Event:
        return cls(raw["t"], raw["d"], raw["p"], raw["c"], raw["a"])


@dataclass(frozen=True)
class Lost:
    """Events this subscriber missed (it fell behind, or the bus lost its database connection)."""
    count: int


class Subscription:
    def __init__(self, accepts: Callable[[Event], bool], size: int):
        self.accepts = accepts
        self._queue: asyncio.Queue[Event] = asyncio.Queue(size)
        self._lost = 0
        self._woken = asyncio.Event()

    def offer(self, event: Event) -> None:
        if not self.accepts(event):
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.lose(1)
            return
        self._woken.set()

    def lose(self, count: int) -> None:
        """Drops what is queued: a subscriber that lost events resyncs from a fresh read anyway."""
        self._lost += count + self._queue.qsize()
        while not self._queue.empty():
            self._queue.get_nowait()
        self._woken.set()

    def take_nowait(self) -> Event | Lost | None:
        """What is next, or None when nothing is."""
        if self._lost:
            lost, self._lost = self._lost, 0
            return Lost(lost)
        if not self._queue.empty():
            return self._queue.get_nowait()
        return None

    async def next(self) -> Event | Lost:
        while (item := self.take_nowait()) is None:
            self._woken.clear()
            await self._woken.wait()
        return item


class EventBus:
    def __init__(self, database: Database, queue_size: int = QUEUE_SIZE):
        self.database = database
        self.queue_size = queue_size
        # Subscribers by what they may see, so an event is offered only to those it concerns (with
        # thousands of workers heartbeating and a hundred dashboards open, asking each subscriber
        # of each event would cost more than the heartbeats): admins and the pool's own duties see
        # every event; anyone else its participant's and its own client's.
        self.everything: set[Subscription] = set()
        self.by_participant: dict[int, set[Subscription]] = {}
        self.by_client: dict[str, set[Subscription]] = {}
        self.listening = asyncio.Event()  # set while the LISTEN connection is up (PostgreSQL)

    async def emit(self, session, events: list[Event]) -> None:
        """Produces `events` as part of `session`'s transaction: delivered if and when it commits."""
        if not events:
            return
        if self.database.dialect != "postgresql":
            after_commit(session, lambda: self._deliver(events))
            return
        payloads, chunk, size = [], [], 2
        for event in events:
            encoded = json.dumps(event.encoded(), separators=(",", ":"))
            if chunk and size + len(encoded) + 1 > MAX_PAYLOAD:
                payloads.append("[" + ",".join(chunk) + "]")
                chunk, size = [], 2
            chunk.append(encoded)
            size += len(encoded) + 1
        payloads.append("[" + ",".join(chunk) + "]")
        await session.execute(_NOTIFY, [{"channel": CHANNEL, "payload": payload} for payload in payloads])

    @contextlib.contextmanager
    def subscribe(self, accepts: Callable[[Event], bool], caller: Caller | None = None):
        """A subscription to the events `accepts`, among those `caller` may see (None: all)."""
        subscription = Subscription(accepts, self.queue_size)
        homes = [self.everything]
        if caller is not None and not caller.is_admin:
            homes = [self.by_participant.setdefault(caller.participant_id, set())] \
                if caller.participant_id is not None else []
            if caller.client_id:
                homes.append(self.by_client.setdefault(caller.client_id, set()))
        for home in homes:
            home.add(subscription)
        try:
            yield subscription
        finally:
            for home in homes:
                home.discard(subscription)
            if caller is not None:
                for index, key in ((self.by_participant, caller.participant_id), (self.by_client, caller.client_id)):
                    if key in index and not index[key]:
                        del index[key]

    @property
    def subscriptions(self) -> set[Subscription]:
        return self.everything.union(*self.by_participant.values(), *self.by_client.values())

    def _deliver(self, events: list[Event]) -> None:
        for event in events:
            concerned = self.by_participant.get(event.participant_id, ()), self.by_client.get(event.client_id, ())
            targets = self.everything.union(*concerned) if all(concerned) else [*self.everything, *concerned[0],
                                                                                 *concerned[1]]
            for subscription in targets:
                subscription.offer(event)

    async def run_forever(self) -> None:
        """On PostgreSQL: LISTEN, and deliver what arrives; after a lost connection every
        subscriber is told it may have missed events. Nothing to do on SQLite."""
        if self.database.dialect != "postgresql":
            return
        await repeat("event listener", self._listen, LISTEN_RETRY_S, traceback=False)

    async def _listen(self) -> None:
        try:
            async with await psycopg.AsyncConnection.connect(_libpq_url(self.database), autocommit=True) as connection:
                await connection.execute(f"LISTEN {CHANNEL}")
                self.listening.set()
                async for notify in connection.notifies():
                    if self.everything or self.by_participant or self.by_client:  # else no one here to decode for
                        self._deliver([Event.decoded(raw) for raw in json.loads(notify.payload)])
        finally:
            if self.listening.is_set():
                self.listening.clear()
                for subscription in list(self.subscriptions):
                    subscription.lose(0)


def _libpq_url(database: Database) -> str:
    """The database URL as libpq takes it (no SQLAlchemy driver name)."""
    return make_url(database.url).set(drivername="postgresql").render_as_string(hide_password=False)


def checked_types(types: list[str]) -> set[str]:
    """The event types a subscriber asked for (empty: all), or InvalidArgument naming an unknown one."""
    check = Validator()
    for index, name in enumerate(types):
        check.check(name in EVENT_TYPES, f"types[{index}]", f"is not an event type ({', '.join(EVENT_TYPES)})")
    check.raise_if_any()
    return set(types)


def visible_to(caller: Caller, event: Event) -> bool:
    """An admin sees every event; anyone else those of its own participant, or its own jobs."""
    if caller.is_admin:
        return True
    return ((event.participant_id is not None and event.participant_id == caller.participant_id)
            or (event.client_id is not None and event.client_id == caller.client_id))


async def watch(bus: EventBus, caller: Caller, types: set[str]) -> AsyncIterator[Event]:
    """The caller's events of these types (empty: all) as they come, first `events.subscribed`
    once nothing from then on can be missed, and `events.lost` after a gap."""
    def accepts(event: Event) -> bool:
        return (not types or event.type in types) and visible_to(caller, event)

    with bus.subscribe(accepts, caller) as subscription:
        yield Event(SUBSCRIBED, {})
        while True:
            item = await subscription.next()
            yield Event(LOST, {"count": item.count}) if isinstance(item, Lost) else item
