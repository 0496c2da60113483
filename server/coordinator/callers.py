"""Who is calling: set by the interceptor for the duration of one rpc."""

from __future__ import annotations

import contextvars
import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Caller:
    role: str       # "admin" for the bootstrap API_KEYS
    client_id: str  # the identity jobs are submitted under; never the key itself

    @classmethod
    def for_api_key(cls, key: bytes) -> Caller:
        return cls(role="admin", client_id="key-" + hashlib.sha256(key).hexdigest()[:16])


current_caller: contextvars.ContextVar[Caller] = contextvars.ContextVar("current_caller")
