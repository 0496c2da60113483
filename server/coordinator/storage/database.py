"""Engine and unit of work. One transaction per request: `async with database.transaction()`.

A database that cannot be reached (stopped, restarting, connection lost) is not a server bug:
the transaction raises errors.Unavailable, which callers see as UNAVAILABLE with RetryInfo
(REST 503) and background duties skip until the next round. The outage is logged once when it
starts and once when a transaction succeeds again, not once per call.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sqlite3
import time
from typing import AsyncIterator, Callable

import psycopg
from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from coordinator.errors import NotFound, Reason, Unavailable

log = logging.getLogger(__name__)

# PostgreSQL SQLSTATEs that mean "not now" rather than "wrong": the server is shutting down,
# crashed or still starting (57P01-57P03), or has no connection slot left (53300). Class 08 is
# every connection exception.
UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def async_url(database_url: str) -> str:
    """sqlite:///x.db -> sqlite+aiosqlite:///x.db; postgresql://... -> postgresql+psycopg://..."""
    url = make_url(database_url)
    if url.drivername in ("sqlite", "sqlite+pysqlite"):
        url = url.set(drivername="sqlite+aiosqlite")
    elif url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def sync_url(database_url: str) -> str:
    """The URL Alembic uses: the same database through a synchronous driver."""
    url = make_url(database_url)
    if url.drivername.startswith("sqlite"):
        url = url.set(drivername="sqlite")
    elif url.drivername.startswith("postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


AFTER_COMMIT = "after_commit"


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Runs `callback` once `session`'s transaction has committed (never if it rolls back)."""
    session.info.setdefault(AFTER_COMMIT, []).append(callback)


def is_sqlite(database_url: str) -> bool:
    return make_url(database_url).drivername.startswith("sqlite")


class ConcurrentInsert(Exception):
    """A concurrent request inserted the same unique row first. Running the unit of work again
    finds that row and decides against it (idempotent creates, re-registration)."""


class Database:
    def __init__(self, database_url: str):
        self.url = async_url(database_url)
        if is_sqlite(database_url):
            # SQLite has one writer: a single pooled connection keeps this process's writes in
            # order instead of failing with "database is locked"; busy_timeout covers others.
            self.engine: AsyncEngine = create_async_engine(self.url, pool_size=1, max_overflow=0,
                                                           connect_args={"timeout": 30})
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            # pool_pre_ping replaces connections that died while idle (a restarted PostgreSQL), so
            # the first call after an outage does not fail on a dead pooled connection; the
            # connect timeout bounds how long a call waits on an unreachable host.
            self.engine = create_async_engine(self.url, pool_size=10, max_overflow=10, pool_pre_ping=True,
                                              connect_args={"connect_timeout": 5})
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.dialect = self.engine.dialect.name
        self._outage_started: float | None = None  # monotonic time of the first failure of an outage
        self._outage_failures = 0
        self._outage_ended_at: dt.datetime | None = None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Commits on success, rolls back on any exception: a refused request writes nothing.
        Raises Unavailable when the database cannot be reached."""
        try:
            async with self.sessions() as session:
                async with session.begin():
                    yield session
                for callback in session.info.pop(AFTER_COMMIT, ()):
                    callback()
        except exc.SQLAlchemyError as error:
            if not is_unavailable(error):
                raise
            self._failed(error)
            raise Unavailable("the database is unavailable; retry shortly", reason=Reason.DATABASE_UNAVAILABLE) from None
        if self._outage_started is not None:
            self._recovered()

    def _failed(self, error: exc.SQLAlchemyError) -> None:
        self._outage_failures += 1
        if self._outage_started is None:
            self._outage_started = time.monotonic()
            cause = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            log.error("database unavailable (%s): calls answer UNAVAILABLE until it is back", cause)

    def _recovered(self) -> None:
        log.warning("database available again after %.1f s (%d calls or rounds failed meanwhile)",
                    time.monotonic() - self._outage_started, self._outage_failures)
        self._outage_started, self._outage_failures = None, 0
        self._outage_ended_at = dt.datetime.now(dt.timezone.utc)

    def writable_since(self) -> dt.datetime | None:
        """Since when this process has seen the database take writes: now while an outage is on,
        the end of the last outage after it, None if it never saw one."""
        if self._outage_started is not None:
            return dt.datetime.now(dt.timezone.utc)
        return self._outage_ended_at

    async def retrying(self, work):
        """Runs `await work(session)` in one transaction, and once more if it lost an insert race."""
        try:
            async with self.transaction() as session:
                return await work(session)
        except ConcurrentInsert:
            async with self.transaction() as session:
                return await work(session)

    async def close(self) -> None:
        await self.engine.dispose()


def is_unavailable(error: exc.SQLAlchemyError) -> bool:
    """True when the error says the database cannot be reached now, not that the statement was
    wrong: a lost or refused connection, a server starting or shutting down, no free connection
    in the pool in time, or SQLite locked by another process past its busy timeout. The same
    request can succeed later."""
    if isinstance(error, exc.TimeoutError):  # the pool had no connection free in time
        return True
    if not isinstance(error, exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    original = error.orig
    if isinstance(original, psycopg.OperationalError):
        sqlstate = original.sqlstate  # None: a client-side failure (refused, closed, timed out)
        return sqlstate is None or sqlstate.startswith("08") or sqlstate in UNAVAILABLE_SQLSTATES
    return isinstance(original, sqlite3.OperationalError) and "database is locked" in str(original)


async def get_existing(session: AsyncSession, model, row_id: int, what: str):
    """The row with this id, or NotFound with reason `<WHAT>_NOT_FOUND` naming the id."""
    row = await session.get(model, row_id) if row_id > 0 else None
    if row is None:
        raise not_found(what, row_id)
    return row


def not_found(what: str, row_id: int) -> NotFound:
    return NotFound(f"{what} {row_id} not found", reason=Reason(f"{what.upper()}_NOT_FOUND"),
                    metadata={f"{what}_id": str(row_id)})


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
