"""Scratch PostgreSQL databases: one per test session or benchmark scenario, dropped after."""

from __future__ import annotations

import os
import uuid

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def create_database(admin_url: str = PG_ADMIN_URL, prefix: str = "computepool_test") -> tuple[str, str]:
    """(name, URL) of a new empty database. PostgreSQL is required: unreachable, it is an error
    saying so, never a skip."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as error:
        raise RuntimeError(f"PostgreSQL is required ({admin_url}): {error}. "
                           "`make test` and `make bench` start it.") from error
    return name, make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(name: str, admin_url: str = PG_ADMIN_URL) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
