"""Who is calling: set by the interceptor for the duration of one rpc, and the ownership rules
every servicer applies with it.

Kinds (CallerKind): admin, client and miner (API keys, by role), user (a wallet login session),
anonymous (public rpcs only). An admin sees and changes everything; every other caller acts
for the participant that owns its credential, and only on that participant's things.
"""

from __future__ import annotations

import contextvars
import hashlib
from dataclasses import dataclass
from enum import StrEnum

from coordinator.errors import PermissionDenied, Reason


class CallerKind(StrEnum):
    ANONYMOUS = "anonymous"
    ADMIN = "admin"
    CLIENT = "client"  # an API key's roles are the kinds admin, client and miner
    MINER = "miner"
    USER = "user"


API_KEY_ROLES = (CallerKind.ADMIN, CallerKind.CLIENT, CallerKind.MINER)


@dataclass(frozen=True)
class Caller:
    kind: CallerKind
    participant_id: int | None = None
    # The identity jobs are submitted under; never a credential itself.
    client_id: str = ""

    @classmethod
    def bootstrap_admin(cls, key: bytes) -> Caller:
        return cls(CallerKind.ADMIN, None, "key-" + hashlib.sha256(key).hexdigest()[:16])

    @classmethod
    def for_api_key(cls, key_id: int, role: str, participant_id: int | None) -> Caller:
        return cls(CallerKind(role), participant_id, client_id_of(participant_id) if participant_id else f"apikey-{key_id}")

    @classmethod
    def for_session(cls, participant_id: int) -> Caller:
        return cls(CallerKind.USER, participant_id, client_id_of(participant_id))

    @property
    def is_admin(self) -> bool:
        return self.kind == CallerKind.ADMIN


ANONYMOUS = Caller(CallerKind.ANONYMOUS)
current_caller: contextvars.ContextVar[Caller] = contextvars.ContextVar("current_caller", default=ANONYMOUS)


def client_id_of(participant_id: int) -> str:
    """A participant's jobs are theirs whichever credential (key or session) submitted them."""
    return f"participant-{participant_id}"


def owner_scope() -> int | None:
    """None for an admin (everything), else the caller's participant; a non-admin credential
    that belongs to no participant owns nothing."""
    caller = current_caller.get()
    if caller.is_admin:
        return None
    if caller.participant_id is None:
        raise PermissionDenied("this credential belongs to no participant, so it owns nothing here",
                               reason=Reason.NO_PARTICIPANT)
    return caller.participant_id


def require_owner(participant_id: int, what: str) -> None:
    """Refuses unless the caller is an admin or the participant that owns `what`."""
    scope = owner_scope()
    if scope is not None and scope != participant_id:
        raise PermissionDenied(f"this {what} belongs to another participant", reason=Reason.NOT_OWNER)


def scoped_participant_filter(requested: int) -> int:
    """The participant a list is limited to: the caller's own (asking for another's is refused),
    or what an admin asked for (0: all)."""
    scope = owner_scope()
    if scope is None:
        return requested
    if requested and requested != scope:
        raise PermissionDenied("you can list only your own participant's records", reason=Reason.NOT_OWNER)
    return scope
