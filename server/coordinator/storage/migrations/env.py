"""Alembic environment: migrates the database named by DATABASE_URL (or the caller's URL)."""

from alembic import context
from sqlalchemy import create_engine

from coordinator.settings import Settings
from coordinator.storage.database import is_sqlite, sync_url
from coordinator.storage.models import Base

config = context.config
database_url = config.attributes.get("database_url") or Settings.from_env().database_url


def run_migrations_online() -> None:
    engine = create_engine(sync_url(database_url))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=is_sqlite(database_url))
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
