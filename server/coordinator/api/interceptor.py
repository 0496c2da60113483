"""The one place where access is checked, request text is checked (api/request_text.py) and
domain errors become gRPC statuses.

Every computepool.v1 rpc admits only the caller kinds api/access.py declares for it (the caller
comes from api/auth.py: an API key, a session token, or nobody); health checking and
reflection stay open. A DomainError becomes its status code with
google.rpc.ErrorInfo (reason) and, for invalid input, google.rpc.BadRequest field violations.
For REST, the documented JSON error body and the HTTP status travel in trailing metadata
(`x-error-body`, `x-http-status`); Envoy's Lua filter puts them on the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import time

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from opentelemetry import trace

from coordinator.api.access import RULES
from coordinator.api.auth import Authenticator
from coordinator.api.request_text import check_request_text
from coordinator.api.rest import HTTP_STATUS
from coordinator.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    Malformed,
    NotFound,
    PermissionDenied,
    Reason,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
)
from coordinator.identity.callers import CallerKind, current_caller
from coordinator.telemetry.observability import RequestMetrics, incoming_context

log = logging.getLogger(__name__)

ERROR_BODY = "x-error-body"
DOMAIN = "computepool.v1"
PROTECTED_PREFIX = "/computepool.v1."

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
RETRY_AFTER = "retry-after"  # for REST: Envoy's Lua filter makes it the Retry-After header


def _pack(message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def rest_body(error: DomainError) -> dict:
    details: dict = dict(error.metadata)
    if isinstance(error, InvalidArgument):
        details["field_violations"] = [{"field": v.field, "description": v.description} for v in error.violations]
    return {"detail": error.message, "error": {"code": error.reason, "message": error.message, "details": details}}


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


# Codes that mean the server failed (a span is marked as an error), not the caller.
SERVER_FAULTS = frozenset({"UNKNOWN", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "DEADLINE_EXCEEDED", "UNIMPLEMENTED"})


class ApiInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, authenticator: Authenticator, metrics: RequestMetrics, tracer: trace.Tracer | None):
        self._authenticator = authenticator
        self._metrics = metrics
        self._tracer = tracer

    @contextlib.asynccontextmanager
    async def _observed(self, rpc: str, metadata, context):
        """Counts and times the rpc by its final status code; with tracing on, it is a SERVER span
        continuing the caller's trace."""
        service, method = rpc[1:].split("/")
        started = time.perf_counter()
        scope = contextlib.nullcontext()
        if self._tracer is not None:
            scope = self._tracer.start_as_current_span(
                rpc[1:], context=incoming_context(metadata), kind=trace.SpanKind.SERVER, record_exception=False,
                set_status_on_exception=False, attributes={"rpc.system": "grpc", "rpc.service": service,
                                                           "rpc.method": method})
        with scope as span:
            code = "UNKNOWN"
            try:
                yield
                code = _code_name(context.code(), "OK")
            except asyncio.CancelledError:
                code = "CANCELLED"
                raise
            except BaseException:
                code = _code_name(context.code(), "UNKNOWN")
                raise
            finally:
                elapsed = time.perf_counter() - started
                self._metrics.observe(service, method, code, elapsed)
                log.debug("rpc %s %s %.1f ms", rpc[1:], code, elapsed * 1000)
                if span is not None:
                    span.set_attribute("rpc.grpc.status_code", code)
                    if code in SERVER_FAULTS:
                        span.set_status(trace.Status(trace.StatusCode.ERROR, code))

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not method.startswith(PROTECTED_PREFIX):
            return handler
        allowed = RULES.get(method, frozenset())
        metadata = handler_call_details.invocation_metadata

        async def admit() -> None:
            """Finds the caller, refuses it unless its kind may call this rpc, records it."""
            caller = await self._authenticator.caller(metadata)
            if caller.kind not in allowed:
                if caller.kind == CallerKind.ANONYMOUS:
                    raise Unauthenticated("this call needs credentials: send X-Api-Key or X-Session-Token",
                                          reason=Reason.CREDENTIALS_MISSING)
                raise PermissionDenied(f"a {caller.kind} credential may not call {method.rsplit('/', 1)[1]}",
                                       reason=Reason.ROLE_NOT_ALLOWED, metadata={"rpc": method})
            current_caller.set(caller)

        return _wrap(handler, admit, lambda context: self._observed(method, metadata, context))


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


def _code_name(code, default: str) -> str:
    return code.name if isinstance(code, grpc.StatusCode) else default


def _wrap(handler: grpc.RpcMethodHandler, authenticate, observed) -> grpc.RpcMethodHandler:
    if handler.unary_unary or handler.stream_unary:
        behavior = handler.unary_unary or handler.stream_unary

        async def unary_response(request, context):
            async with observed(context), translated_errors(context, behavior.__qualname__):
                await authenticate()
                if handler.unary_unary:  # a stream's messages are checked by its handler
                    check_request_text(request)
                return await behavior(request, context)

        factory = grpc.unary_unary_rpc_method_handler if handler.unary_unary else grpc.stream_unary_rpc_method_handler
        return factory(unary_response, request_deserializer=handler.request_deserializer,
                       response_serializer=handler.response_serializer)

    behavior = handler.unary_stream or handler.stream_stream

    async def streaming_response(request, context):
        async with observed(context), translated_errors(context, behavior.__qualname__):
            await authenticate()
            if handler.unary_stream:
                check_request_text(request)
            result = behavior(request, context)
            if inspect.isasyncgen(result):
                async for item in result:
                    yield item
            else:
                await result

    factory = grpc.unary_stream_rpc_method_handler if handler.unary_stream else grpc.stream_stream_rpc_method_handler
    return factory(streaming_response, request_deserializer=handler.request_deserializer,
                   response_serializer=handler.response_serializer)
