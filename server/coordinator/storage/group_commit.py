"""Group commit: concurrent callers' units of work share one transaction.

At one job per call the cost of a call is mostly the transaction around it (a pooled
connection, BEGIN, the ORM's flush, COMMIT), not its statements. A GroupCommit queues each
caller's item; whenever no group is in flight, one starts with every item queued so far (up
to `max_group` of weight), so a lone caller waits for nobody and a busy server writes many
callers' work per commit (as the heartbeat buffer does for heartbeats).

Big items (a batch of a thousand jobs) make long transactions, and one group at a time would
leave the process idle while the database works on each statement: once a full group's weight
is queued behind the ones in flight, another group starts beside them, up to `max_writers` at
once. Small items never queue that much, so they keep to one group at a time and share it.

- A caller is answered only after the transaction that did its work committed.
- `apply(session, items)` returns one outcome per item, in order: a value, or the DomainError
  that refuses that item alone. An item it refuses must have written nothing (every unit of
  work here checks before it writes), so the others commit without it.
- Any other failure (a constraint that one item violated, a deadlock) rolls the whole group
  back; each of its items then runs again in a transaction of its own (once more after a lost
  insert race, as Database.retrying does), so that only the item at fault fails.
- An unavailable database fails the whole group with Unavailable: nothing was written.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from coordinator.errors import DomainError, Unavailable
from coordinator.storage.database import Database

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")
Apply = Callable[[AsyncSession, list[Item]], Awaitable[list[Result | DomainError]]]


class GroupCommit(Generic[Item, Result]):
    def __init__(self, database: Database, apply: Apply, *, max_group: int = 100, max_writers: int = 1,
                 weight: Callable[[Item], int] = lambda item: 1):
        self.database = database
        self.apply = apply
        self.max_group = max_group  # the weight one transaction takes (at least one item)
        self.max_writers = max_writers
        self.weight = weight
        self._queued: list[tuple[Item, asyncio.Future]] = []
        self._queued_weight = 0
        self._writers: set[asyncio.Task] = set()
        self.groups = 0  # transactions committed (tests read it: were the items really grouped?)

    async def run(self, item: Item) -> Result:
        """The item's outcome once the transaction that applied it committed; its DomainError
        if it was refused."""
        future = asyncio.get_running_loop().create_future()
        self._queued.append((item, future))
        self._queued_weight += self.weight(item)
        if not self._writers or (len(self._writers) < self.max_writers and self._queued_weight >= self.max_group):
            self._writers.add(asyncio.create_task(self._write_all()))
        return await future

    def _next_group(self) -> list[tuple[Item, asyncio.Future]]:
        """The queued items, oldest first, up to max_group of weight (at least one)."""
        taken, weight = 0, 0
        for item, _ in self._queued:
            if taken and weight + self.weight(item) > self.max_group:
                break
            taken, weight = taken + 1, weight + self.weight(item)
        group, self._queued = self._queued[:taken], self._queued[taken:]
        self._queued_weight -= weight
        return group

    async def _write_all(self) -> None:
        try:
            while self._queued:
                await self._write(self._next_group())
        finally:  # before the task ends: an item queued from now on starts a writer of its own
            self._writers.discard(asyncio.current_task())

    async def _write(self, group: list[tuple[Item, asyncio.Future]]) -> None:
        try:
            async with self.database.transaction() as session:
                outcomes = await self.apply(session, [item for item, _ in group])
        except Unavailable as error:
            for _, future in group:
                _settle(future, error=error)
            return
        except Exception:  # noqa: BLE001 - one item's fault: find it by applying each alone
            if len(group) > 1:
                log.info("a group of %d failed: applying each alone", len(group), exc_info=True)
            await asyncio.gather(*[self._write_alone(item, future) for item, future in group])
            return
        self.groups += 1
        for (_, future), outcome in zip(group, outcomes, strict=True):
            _settle(future, outcome)

    async def _write_alone(self, item: Item, future: asyncio.Future) -> None:
        try:
            (outcome,) = await self.database.retrying(lambda session: self.apply(session, [item]))
        except Exception as error:  # noqa: BLE001 - the caller gets it, as it would without grouping
            _settle(future, error=error)
            return
        self.groups += 1
        _settle(future, outcome)


def _settle(future: asyncio.Future, outcome=None, *, error: BaseException | None = None) -> None:
    if future.done():  # the caller went away (a cancelled call): its work stands, no one to tell
        return
    error = error if error is not None else outcome if isinstance(outcome, DomainError) else None
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(outcome)
