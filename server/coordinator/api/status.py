"""Domain errors become gRPC statuses: the code (STATUS_OF), google.rpc.ErrorInfo with the
reason, google.rpc.BadRequest with the field violations, google.rpc.RetryInfo when a retry
helps; and, for REST, the HTTP status and the documented body in trailing metadata
(api/rest.py), which Envoy's Lua filter puts on the wire. An unexpected exception is logged and
shown as INTERNAL.
"""

from __future__ import annotations

import contextlib
import json
import logging

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from coordinator.api.rest import ERROR_BODY, HTTP_STATUS, RETRY_AFTER, rest_body
from coordinator.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    Malformed,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
)

log = logging.getLogger(__name__)

DOMAIN = "computepool.v1"

# error class -> (gRPC code, HTTP status for REST)
STATUS_OF = {  # the first class an error is an instance of decides
    Malformed: (grpc.StatusCode.INVALID_ARGUMENT, 400),
    InvalidArgument: (grpc.StatusCode.INVALID_ARGUMENT, 422),
    NotFound: (grpc.StatusCode.NOT_FOUND, 404),
    AlreadyExists: (grpc.StatusCode.ALREADY_EXISTS, 409),
    FailedPrecondition: (grpc.StatusCode.FAILED_PRECONDITION, 400),
    Unauthenticated: (grpc.StatusCode.UNAUTHENTICATED, 401),
    PermissionDenied: (grpc.StatusCode.PERMISSION_DENIED, 403),
    ResourceExhausted: (grpc.StatusCode.RESOURCE_EXHAUSTED, 429),
    Unavailable: (grpc.StatusCode.UNAVAILABLE, 503),
}


def _pack(message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


# An error travels in trailing metadata three times (grpc-message, the status details, the REST
# body) and gRPC clients refuse more than 16 KiB of it: an error that echoes a long input, or
# names a thousand bad jobs of a batch, is cut to these bounds (the first violations are kept).
MAX_MESSAGE = 512
MAX_VIOLATIONS = 10
MAX_VIOLATION_TEXT = 200


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def bounded(error: DomainError) -> DomainError:
    if isinstance(error, InvalidArgument):
        kept = [FieldViolation(_cut(v.field, MAX_VIOLATION_TEXT), _cut(v.description, MAX_VIOLATION_TEXT))
                for v in error.violations[:MAX_VIOLATIONS]]
        if len(error.violations) > MAX_VIOLATIONS:
            kept.append(FieldViolation("…", f"and {len(error.violations) - MAX_VIOLATIONS} more"))
        error.violations = kept
    error.message = _cut(error.message, MAX_MESSAGE)
    error.metadata = {key: _cut(value, MAX_VIOLATION_TEXT) for key, value in error.metadata.items()}
    return error


async def abort_with(context: grpc.aio.ServicerContext, error: DomainError) -> None:
    error = bounded(error)
    code, http_status = next(((c, h) for cls, (c, h) in STATUS_OF.items() if isinstance(error, cls)),
                             (grpc.StatusCode.INTERNAL, 500))
    details = [_pack(error_details_pb2.ErrorInfo(reason=error.reason, domain=DOMAIN, metadata=error.metadata))]
    retry = ()
    if error.retry_after_s is not None:
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(
            seconds=error.retry_after_s))))
        retry = ((RETRY_AFTER, str(error.retry_after_s)),)
    if isinstance(error, InvalidArgument):
        details.append(_pack(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in error.violations])))
    status = rpc_status.to_status(status_pb2.Status(code=code.value[0], message=error.message, details=details))
    trailing = tuple(status.trailing_metadata) + retry + (
        (HTTP_STATUS, str(http_status)),
        (ERROR_BODY, json.dumps(rest_body(error), ensure_ascii=True, separators=(",", ":"))),
    )
    await context.abort(status.code, status.details, trailing_metadata=trailing)


@contextlib.asynccontextmanager
async def translated_errors(context: grpc.aio.ServicerContext, rpc: str):
    """Turns what the rpc raises into its status; an unexpected exception is logged, shown as INTERNAL."""
    try:
        yield
    except grpc.aio.AbortError:
        raise
    except DomainError as error:
        await abort_with(context, error)
    except Exception:
        log.exception("unhandled error in %s", rpc)
        await abort_with(context, DomainError("internal error"))
