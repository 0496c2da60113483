"""What the SDK raises: one exception per gRPC status, with the coordinator's reason, message and
field violations decoded from the status details (google.rpc.ErrorInfo, BadRequest, RetryInfo).

Catch by status (`NotFound`, `ValidationError`, …) or by the reason a class names (`JobNotFound`
is a NotFound whose reason is JOB_NOT_FOUND); `error.reason` always holds the server's reason.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2


class ComputepoolError(Exception):
    """A call the coordinator (or the transport) refused.

    `code`: the gRPC status; `reason`: the coordinator's reason (UPPER_SNAKE, "" when the server
    gave none); `message`: what it said; `fields`: {field: description} of bad input;
    `metadata`: ErrorInfo's facts (e.g. {"job_id": …}); `retry_after_s`: RetryInfo's delay."""

    code = grpc.StatusCode.UNKNOWN

    def __init__(self, message: str, *, code: grpc.StatusCode | None = None, reason: str = "",
                 fields: dict[str, str] | None = None, metadata: dict[str, str] | None = None,
                 retry_after_s: float | None = None):
        super().__init__(f"{reason}: {message}" if reason else message)
        if code is not None:
            self.code = code
        self.message = message
        self.reason = reason
        self.fields = dict(fields or {})
        self.metadata = dict(metadata or {})
        self.retry_after_s = retry_after_s


class ValidationError(ComputepoolError):
    """Bad input (INVALID_ARGUMENT); `fields` names each offending field (REST 400/422)."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(ComputepoolError):
    """No such thing, or one the caller may not see (NOT_FOUND)."""

    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(ComputepoolError):
    """It exists already (ALREADY_EXISTS): e.g. the same worker name and instance."""

    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(ComputepoolError):
    """Not possible in the thing's present state (FAILED_PRECONDITION)."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class Unauthenticated(ComputepoolError):
    """No credential, or one the coordinator does not know (UNAUTHENTICATED)."""

    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(ComputepoolError):
    """This caller may not do this (PERMISSION_DENIED)."""

    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhausted(ComputepoolError):
    """Over a rate limit or a capacity; `retry_after_s` says when to try again."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class Unavailable(ComputepoolError):
    """The coordinator (or its database) cannot answer now; idempotent calls were retried."""

    code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceeded(ComputepoolError, TimeoutError):
    """The call's deadline passed before an answer (DEADLINE_EXCEEDED)."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED


class Internal(ComputepoolError):
    """A fault in the coordinator (INTERNAL); it logged the details."""

    code = grpc.StatusCode.INTERNAL


class JobNotFound(NotFound):
    """No such job, or another client's (reason JOB_NOT_FOUND)."""


class JobAlreadyTerminal(FailedPrecondition):
    """The job already completed, failed, was cancelled or expired (JOB_ALREADY_TERMINAL)."""


class InvalidJobType(ValidationError):
    """The job type is not one the pool runs (INVALID_JOB_TYPE)."""


class LeaseLost(FailedPrecondition):
    """The job is no longer leased to this miner (LEASE_LOST, LEASE_EXPIRED): drop the result."""


class WorkerNotFound(NotFound):
    """WORKER_NOT_FOUND."""


class ParticipantNotFound(NotFound):
    """PARTICIPANT_NOT_FOUND."""


class PayoutNotFound(NotFound):
    """PAYOUT_NOT_FOUND."""


class NotOwner(PermissionDenied):
    """The thing belongs to another participant (NOT_OWNER)."""


class RateLimited(ResourceExhausted):
    """Over a rate limit (RATE_LIMITED)."""


class DatabaseUnavailable(Unavailable):
    """The coordinator's database is unreachable (DATABASE_UNAVAILABLE)."""


BY_CODE: dict[grpc.StatusCode, type[ComputepoolError]] = {
    cls.code: cls for cls in (ValidationError, NotFound, AlreadyExists, FailedPrecondition, Unauthenticated,
                              PermissionDenied, ResourceExhausted, Unavailable, DeadlineExceeded, Internal)}
# Reasons with a class of their own; every other reason raises its status's class.
BY_REASON: dict[str, type[ComputepoolError]] = {
    "JOB_NOT_FOUND": JobNotFound, "JOB_ALREADY_TERMINAL": JobAlreadyTerminal,
    "INVALID_JOB_TYPE": InvalidJobType, "LEASE_LOST": LeaseLost, "LEASE_EXPIRED": LeaseLost,
    "WORKER_NOT_FOUND": WorkerNotFound, "PARTICIPANT_NOT_FOUND": ParticipantNotFound,
    "PAYOUT_NOT_FOUND": PayoutNotFound, "NOT_OWNER": NotOwner, "RATE_LIMITED": RateLimited,
    "DATABASE_UNAVAILABLE": DatabaseUnavailable}


def from_rpc_error(error: grpc.RpcError) -> ComputepoolError:
    """The SDK's exception for a failed call (sync or asyncio), details decoded."""
    code: grpc.StatusCode = error.code()
    message: str = error.details() or ""
    reason, fields, metadata, retry_after_s = "", {}, {}, None
    for detail in _details(error):
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, metadata = info.reason, dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields = {violation.field: violation.description for violation in bad.field_violations}
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            retry_after_s = retry.retry_delay.ToTimedelta().total_seconds()
    cls = BY_REASON.get(reason) or BY_CODE.get(code, ComputepoolError)
    if cls.code != code:  # a reason under another status than usual: keep the status's class
        cls = BY_CODE.get(code, ComputepoolError)
    return cls(message, code=code, reason=reason, fields=fields, metadata=metadata, retry_after_s=retry_after_s)


def _details(error: grpc.RpcError) -> list[any_pb2.Any]:
    trailing: Any = error.trailing_metadata() or ()
    for key, value in trailing:
        if key == "grpc-status-details-bin":
            return list(status_pb2.Status.FromString(value).details)
    return []
