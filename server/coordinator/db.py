"""Engine and unit of work. One transaction per request: `async with database.transaction()`."""

from __future__ import annotations

import contextlib
from typing import AsyncIterator

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from .errors import NotFound


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
            self.engine = create_async_engine(self.url, pool_size=10, max_overflow=10, pool_pre_ping=True)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.dialect = self.engine.dialect.name

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Commits on success, rolls back on any exception: a refused request writes nothing."""
        async with self.sessions() as session:
            async with session.begin():
                yield session

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


async def get_existing(session: AsyncSession, model, row_id: int, what: str):
    """The row with this id, or NotFound with reason `<WHAT>_NOT_FOUND` naming the id."""
    row = await session.get(model, row_id) if row_id > 0 else None
    if row is None:
        raise not_found(what, row_id)
    return row


def not_found(what: str, row_id: int) -> NotFound:
    return NotFound(f"{what} {row_id} not found", reason=f"{what.upper()}_NOT_FOUND",
                    metadata={f"{what}_id": str(row_id)})


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
