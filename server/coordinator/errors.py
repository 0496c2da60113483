"""Domain errors. They say what went wrong; api/interceptor.py decides the status code and details."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


class DomainError(Exception):
    """Base of every error a caller may see. `reason` is UPPER_SNAKE (google.rpc.ErrorInfo)."""

    reason = "INTERNAL"
    retry_after_s: int | None = None  # set: the caller may retry after this many seconds (google.rpc.RetryInfo)

    def __init__(self, message: str, *, reason: str | None = None, metadata: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        if reason:
            self.reason = reason
        self.metadata = dict(metadata or {})


class InvalidArgument(DomainError):
    """Input that is malformed or out of range; names the offending fields."""

    reason = "VALIDATION_ERROR"

    def __init__(self, violations: list[FieldViolation], *, reason: str | None = None,
                 metadata: dict[str, str] | None = None):
        self.violations = list(violations)
        message = "; ".join(f"{v.field}: {v.description}" for v in self.violations)
        super().__init__(message, reason=reason, metadata={"field": self.violations[0].field, **(metadata or {})})

    @classmethod
    def field(cls, field: str, description: str, *, reason: str | None = None) -> InvalidArgument:
        return cls([FieldViolation(field, description)], reason=reason)


class Malformed(InvalidArgument):
    """A request that is not the kind of thing the call takes at all (a receipt to verify that
    is no receipt): REST 400 "malformed request", where a bad value of a field is 422."""

    reason = "MALFORMED_REQUEST"


class NotFound(DomainError):
    reason = "NOT_FOUND"


class AlreadyExists(DomainError):
    reason = "ALREADY_EXISTS"


class FailedPrecondition(DomainError):
    reason = "FAILED_PRECONDITION"


class Unauthenticated(DomainError):
    reason = "UNAUTHENTICATED"


class PermissionDenied(DomainError):
    reason = "PERMISSION_DENIED"


class ResourceExhausted(DomainError):
    """Over a rate limit; `retry_after_s` says when to try again."""

    reason = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after_s: int):
        super().__init__(message)
        self.retry_after_s = max(1, retry_after_s)


class Unavailable(DomainError):
    """A dependency (the database) cannot be reached now. Retry the same request after
    `retry_after_s` (UNAVAILABLE is the code gRPC clients retry): it wrote nothing, or, when the
    connection was lost during the commit, all of it; retries that carry their idempotency key
    (jobs) or the same result for the same lease (results) are answered with what was stored."""

    reason = "UNAVAILABLE"

    def __init__(self, message: str, *, reason: str | None = None, retry_after_s: int = 1):
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

    def raise_if_any(self, error: type[InvalidArgument] = InvalidArgument, *, reason: str | None = None,
                     metadata: dict[str, str] | None = None) -> None:
        """`metadata`: facts the caller needs to mend its request (ErrorInfo metadata)."""
        if self.violations:
            raise error(self.violations, reason=reason, metadata=metadata)
