"""Domain errors and the one catalogue of their reasons. An error says what went wrong (its
class: the kind; its Reason: the case, google.rpc.ErrorInfo.reason and REST `error.code`);
api/interceptor.py decides the status code and details. The rpc comments in proto/ cite these
reasons, and a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    # The defaults of the error kinds below, when nothing more precise applies.
    INTERNAL = "INTERNAL"                      # a server fault (logged with its traceback)
    VALIDATION_ERROR = "VALIDATION_ERROR"      # a field's value is out of range or malformed (field_violations)
    MALFORMED_REQUEST = "MALFORMED_REQUEST"    # the request is not the kind of thing the call takes
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    RATE_LIMITED = "RATE_LIMITED"              # over a rate limit (RetryInfo says when to retry)
    UNAVAILABLE = "UNAVAILABLE"
    # Credentials and access
    CREDENTIALS_MISSING = "CREDENTIALS_MISSING"  # the rpc needs an API key or a session token
    API_KEY_INVALID = "API_KEY_INVALID"          # unknown or revoked API key
    SESSION_INVALID = "SESSION_INVALID"          # unknown, expired or logged-out session
    ROLE_NOT_ALLOWED = "ROLE_NOT_ALLOWED"        # this kind of caller may not call this rpc
    NOT_OWNER = "NOT_OWNER"                      # the thing belongs to another participant
    NO_PARTICIPANT = "NO_PARTICIPANT"            # a non-admin credential that belongs to no participant
    API_KEY_NOT_FOUND = "API_KEY_NOT_FOUND"      # no API key with this id (revoking)
    # Wallet login (ton_proof)
    TON_PROOF_PAYLOAD_INVALID = "TON_PROOF_PAYLOAD_INVALID"    # never issued, used or expired
    TON_PROOF_ADDRESS_MISMATCH = "TON_PROOF_ADDRESS_MISMATCH"  # the state init is not this address's
    TON_PROOF_UNKNOWN_WALLET = "TON_PROOF_UNKNOWN_WALLET"      # not a v4r2 / v5r1 wallet
    TON_PROOF_WRONG_KEY = "TON_PROOF_WRONG_KEY"                # the public key is not the wallet's
    TON_PROOF_WRONG_DOMAIN = "TON_PROOF_WRONG_DOMAIN"          # not one of TON_PROOF_DOMAINS
    TON_PROOF_EXPIRED = "TON_PROOF_EXPIRED"                    # too old, or in the future
    TON_PROOF_BAD_SIGNATURE = "TON_PROOF_BAD_SIGNATURE"
    # The pool
    INVALID_WALLET_ADDRESS = "INVALID_WALLET_ADDRESS"
    PARTICIPANT_NOT_FOUND = "PARTICIPANT_NOT_FOUND"
    USER_NOT_FOUND = "USER_NOT_FOUND"
    WALLET_ALREADY_REGISTERED = "WALLET_ALREADY_REGISTERED"
    WORKER_NOT_FOUND = "WORKER_NOT_FOUND"
    WORKER_ALREADY_EXISTS = "WORKER_ALREADY_EXISTS"  # same participant, name and instance
    PAYOUT_NOT_FOUND = "PAYOUT_NOT_FOUND"
    PAYOUT_CONFLICT = "PAYOUT_CONFLICT"              # same transaction hash, other content
    PAYOUT_STATUS_CONFLICT = "PAYOUT_STATUS_CONFLICT"  # the payout's status does not allow this change
    PAYOUT_RUN_NOT_FOUND = "PAYOUT_RUN_NOT_FOUND"
    THRESHOLD_BELOW_POOL_MINIMUM = "THRESHOLD_BELOW_POOL_MINIMUM"  # a participant's payout threshold
    CHANNEL_UNAVAILABLE = "CHANNEL_UNAVAILABLE"  # a notification channel the pool or participant cannot use
    # The marketplace
    INVALID_JOB_TYPE = "INVALID_JOB_TYPE"
    JOB_NOT_FOUND = "JOB_NOT_FOUND"
    JOB_ALREADY_TERMINAL = "JOB_ALREADY_TERMINAL"
    TOO_MANY_WATCHES = "TOO_MANY_WATCHES"            # this server follows as many jobs as it may (WatchJob)
    MINER_TOKEN_MISSING = "MINER_TOKEN_MISSING"
    MINER_TOKEN_INVALID = "MINER_TOKEN_INVALID"
    MINER_MISMATCH = "MINER_MISMATCH"                # the token is another miner's
    MINER_KEY_MISSING = "MINER_KEY_MISSING"          # a completed result needs a registered public key
    LEASE_LOST = "LEASE_LOST"                        # the job is no longer leased to this miner
    LEASE_EXPIRED = "LEASE_EXPIRED"
    NOT_A_RECEIPT = "NOT_A_RECEIPT"
    # The exchange
    EXCHANGE_DISABLED = "EXCHANGE_DISABLED"
    INVALID_BITCOIN_ADDRESS = "INVALID_BITCOIN_ADDRESS"
    PAYMENT_NOT_FOUND = "PAYMENT_NOT_FOUND"
    PAYMENT_EXPIRED = "PAYMENT_EXPIRED"
    ALREADY_CONFIRMED = "ALREADY_CONFIRMED"          # confirmed before, with another txid
    UNDERPAID = "UNDERPAID"
    # Outages
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


class DomainError(Exception):
    """Base of every error a caller may see. `reason` is UPPER_SNAKE (google.rpc.ErrorInfo)."""

    reason = Reason.INTERNAL
    retry_after_s: int | None = None  # set: the caller may retry after this many seconds (google.rpc.RetryInfo)

    def __init__(self, message: str, *, reason: Reason | None = None, metadata: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        if reason:
            self.reason = reason
        self.metadata = dict(metadata or {})


class InvalidArgument(DomainError):
    """Input that is malformed or out of range; names the offending fields."""

    reason = Reason.VALIDATION_ERROR

    def __init__(self, violations: list[FieldViolation], *, reason: Reason | None = None,
                 metadata: dict[str, str] | None = None):
        self.violations = list(violations)
        message = "; ".join(f"{v.field}: {v.description}" for v in self.violations)
        super().__init__(message, reason=reason, metadata={"field": self.violations[0].field, **(metadata or {})})

    @classmethod
    def field(cls, field: str, description: str, *, reason: Reason | None = None) -> InvalidArgument:
        return cls([FieldViolation(field, description)], reason=reason)


class Malformed(InvalidArgument):
    """A request that is not the kind of thing the call takes at all (a receipt to verify that
    is no receipt): REST 400 "malformed request", where a bad value of a field is 422."""

    reason = Reason.MALFORMED_REQUEST


class NotFound(DomainError):
    reason = Reason.NOT_FOUND


class AlreadyExists(DomainError):
    reason = Reason.ALREADY_EXISTS


class FailedPrecondition(DomainError):
    reason = Reason.FAILED_PRECONDITION


class Unauthenticated(DomainError):
    reason = Reason.UNAUTHENTICATED


class PermissionDenied(DomainError):
    reason = Reason.PERMISSION_DENIED


class ResourceExhausted(DomainError):
    """Over a rate limit or a capacity; `retry_after_s` says when to try again."""

    reason = Reason.RATE_LIMITED

    def __init__(self, message: str, *, retry_after_s: int, reason: Reason | None = None):
        super().__init__(message, reason=reason)
        self.retry_after_s = max(1, retry_after_s)


class Unavailable(DomainError):
    """A dependency (the database) cannot be reached now. Retry the same request after
    `retry_after_s` (UNAVAILABLE is the code gRPC clients retry): it wrote nothing, or, when the
    connection was lost during the commit, all of it; retries that carry their idempotency key
    (jobs) or the same result for the same lease (results) are answered with what was stored."""

    reason = Reason.UNAVAILABLE

    def __init__(self, message: str, *, reason: Reason | None = None, retry_after_s: int = 1):
        super().__init__(message, reason=reason)
        self.retry_after_s = max(1, retry_after_s)


class Validator:
    """Collects field violations so a request reports all of them at once."""

    def __init__(self) -> None:
        self.violations: list[FieldViolation] = []

    def fail(self, field: str, description: str) -> None:
        self.violations.append(FieldViolation(field, description))

    def check(self, ok: bool, field: str, description: str) -> bool:
        if not ok:
            self.fail(field, description)
        return ok

    def run(self, field: str, convert, *args):
        """Calls convert(*args, field); records its InvalidArgument and returns None instead."""
        try:
            return convert(*args, field)
        except InvalidArgument as error:
            self.violations.extend(error.violations)
            return None

    def raise_if_any(self, error: type[InvalidArgument] = InvalidArgument, *, reason: Reason | None = None,
                     metadata: dict[str, str] | None = None) -> None:
        """`metadata`: facts the caller needs to mend its request (ErrorInfo metadata)."""
        if self.violations:
            raise error(self.violations, reason=reason, metadata=metadata)
