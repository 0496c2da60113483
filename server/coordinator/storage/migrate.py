"""Runs the Alembic migrations to head on DATABASE_URL: the `computepool-migrate` console script,
or `python -m coordinator.storage.migrate` (make run does this).

The migrations ship inside the package (storage/migrations), so an installed server migrates
from any working directory; alembic.ini at the repository root points at the same folder for
the `alembic` command line.
"""

from __future__ import annotations

import pathlib
import sys

from alembic import command
from alembic.config import Config

from coordinator.settings import ConfigurationError, Settings

MIGRATIONS = pathlib.Path(__file__).resolve().parent / "migrations"


def upgrade(database_url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    command.upgrade(config, "head")


def main() -> None:
    try:
        upgrade(Settings.from_env().database_url)
    except ConfigurationError as error:  # a line for the operator, not a traceback; exit status 1
        sys.exit(f"computepool-migrate: {error}")


if __name__ == "__main__":
    main()
