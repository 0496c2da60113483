"""Keyset paging: `limit` plus an opaque `page_token` naming the last row returned."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json

from coordinator.errors import InvalidArgument

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def resolve_limit(limit: int | None, field: str = "limit") -> int:
    """The default when the caller sent no limit; 0 is refused like any other out-of-range value,
    never quietly replaced."""
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidArgument.field(field, f"must be between 1 and {MAX_LIMIT}")
    return limit


def encode_token(position: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str, keys: tuple[str, ...], field: str = "page_token") -> dict | None:
    """Returns the position a token names, None for an empty token; refuses anything else."""
    if not token:
        return None
    try:
        position = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        position = None
    if not isinstance(position, dict) or set(position) != set(keys):
        raise InvalidArgument.field(field, "is not a token this server issued")
    return position


NEWEST_FIRST_KEYS = ("before_time", "before_id")


def newest_first_request(check, limit: int | None, page_token: str) -> tuple[int | None, dict | None]:
    """The limit and position of a newest-first list request; what is wrong goes to `check`
    (an errors.Validator)."""
    return (check.run("limit", resolve_limit, limit),
            check.run("page_token", lambda token, field: decode_token(token, NEWEST_FIRST_KEYS, field), page_token))


def newest_first(query, time_column, id_column, limit: int, position: dict | None):
    """Orders newest first on (time, id) and continues after `position` (a decoded token)."""
    query = query.order_by(time_column.desc(), id_column.desc()).limit(limit + 1)
    if position:
        before_time = dt.datetime.fromisoformat(position["before_time"])
        query = query.where((time_column < before_time)
                            | ((time_column == before_time) & (id_column < position["before_id"])))
    return query


def newest_first_page(rows: list, limit: int, time_attribute: str) -> tuple[list, str]:
    """The page and the token for the next one (empty on the last page)."""
    if len(rows) <= limit:
        return rows, ""
    last = rows[limit - 1]
    return rows[:limit], encode_token({"before_time": getattr(last, time_attribute).isoformat(), "before_id": last.id})
