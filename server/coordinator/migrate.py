"""Runs the Alembic migrations to head: `python -m coordinator.migrate` (make run does this)."""

from __future__ import annotations

import pathlib

from alembic import command
from alembic.config import Config

from .settings import Settings

ROOT = pathlib.Path(__file__).resolve().parents[2]


def upgrade(database_url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    command.upgrade(config, "head")


if __name__ == "__main__":
    upgrade(Settings.from_env().database_url)
