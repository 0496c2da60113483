"""Request metrics, tracing and structured logs.

Tracing is on when the standard OpenTelemetry variables ask for an OTLP exporter
(OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, unless OTEL_SDK_DISABLED=true
or OTEL_TRACES_EXPORTER=none); the SDK reads the rest (OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER,
OTEL_BSP_*, …) itself. Off, nothing is installed: no span is made, no hook is attached.

Spans: one SERVER span per rpc (continuing a W3C `traceparent` sent by Envoy or a client), one
CLIENT span per SQL statement beneath whatever span is current, one span per message of a
heartbeat stream. Every log line is one JSON object carrying the current trace and span ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import time
from typing import Mapping

import grpc
from opentelemetry import propagate, trace
from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy import event

TRACER_NAME = "computepool"
log = logging.getLogger(__name__)


class RequestMetrics:
    """api_requests_total and api_request_duration_seconds by service, method and status code:
    label values come from the fixed set of rpcs and gRPC codes only."""

    def __init__(self, registry: CollectorRegistry):
        labels = ["service", "method", "code"]
        self.requests = Counter("api_requests", "API requests (gRPC, and REST through Envoy)", labels,
                                registry=registry)
        self.duration = Histogram("api_request_duration_seconds", "API request latency in seconds", labels,
                                  registry=registry,
                                  buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))

    def observe(self, service: str, method: str, code: str, seconds: float) -> None:
        self.requests.labels(service, method, code).inc()
        self.duration.labels(service, method, code).observe(seconds)


# Codes that mean the server failed (a span is marked as an error), not the caller.
SERVER_FAULTS = frozenset({"UNKNOWN", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "DEADLINE_EXCEEDED", "UNIMPLEMENTED"})


@contextlib.asynccontextmanager
async def observed_rpc(metrics: RequestMetrics, tracer: trace.Tracer | None, rpc: str, metadata, context):
    """Counts and times the rpc by its final status code; with tracing on, it is a SERVER span
    continuing the caller's trace."""
    service, method = rpc[1:].split("/")
    started = time.perf_counter()
    scope = contextlib.nullcontext()
    if tracer is not None:
        scope = tracer.start_as_current_span(
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
            metrics.observe(service, method, code, elapsed)
            log.debug("rpc %s %s %.1f ms", rpc[1:], code, elapsed * 1000)
            if span is not None:
                span.set_attribute("rpc.grpc.status_code", code)
                if code in SERVER_FAULTS:
                    span.set_status(trace.Status(trace.StatusCode.ERROR, code))


def _code_name(code, default: str) -> str:
    return code.name if isinstance(code, grpc.StatusCode) else default


def tracing_requested(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true" or env.get("OTEL_TRACES_EXPORTER", "") == "none":
        return False
    return bool(env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def otlp_endpoint(env: Mapping[str, str] | None = None) -> str:
    """The collector Envoy should send its spans to (the same as the server's), or ""."""
    env = os.environ if env is None else env
    if not tracing_requested(env):
        return ""
    return env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")


def configure_tracing() -> trace.Tracer | None:
    """Installs the OTLP pipeline when the environment asks for it; returns the tracer or None."""
    if not tracing_requested():
        return None
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "computepool")})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return trace.get_tracer(TRACER_NAME)


def span(tracer: trace.Tracer | None, name: str, **options):
    """The current span `name` while tracing is on; nothing at all while it is off."""
    return tracer.start_as_current_span(name, **options) if tracer is not None else contextlib.nullcontext()


def shutdown_tracing() -> None:
    provider = trace.get_tracer_provider()
    if hasattr(provider, "shutdown"):
        provider.shutdown()  # flushes what the batch processor still holds


def incoming_context(metadata):
    """The trace context a caller sent (`traceparent`, `tracestate`), for the rpc's span."""
    return propagate.extract({key: value for key, value in metadata or () if isinstance(value, str)})


def trace_database(engine, tracer: trace.Tracer) -> None:
    """A CLIENT span for every statement run inside a traced piece of work, as its child."""
    sync_engine = engine.sync_engine
    system = sync_engine.dialect.name

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _start(conn, cursor, statement, parameters, context, executemany):
        if not trace.get_current_span().get_span_context().is_valid:
            return  # a statement outside any traced work (background rounds) would be a trace of its own
        operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        span = tracer.start_span(f"{operation} {system}", kind=trace.SpanKind.CLIENT,
                                 attributes={"db.system": system, "db.statement": statement[:2000]})
        conn.info.setdefault("computepool_spans", []).append(span)

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _end(conn, cursor, statement, parameters, context, executemany):
        spans = conn.info.get("computepool_spans")
        if spans:
            spans.pop().end()

    @event.listens_for(sync_engine, "handle_error")
    def _failed(exception_context):
        spans = exception_context.connection.info.get("computepool_spans") if exception_context.connection else None
        if spans:
            span = spans.pop()
            span.set_status(trace.Status(trace.StatusCode.ERROR, type(exception_context.original_exception).__name__))
            span.end()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, trace_id and span_id (empty when
    no span is current), and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        context = trace.get_current_span().get_span_context()
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
            "trace_id": format(context.trace_id, "032x") if context.is_valid else "",
            "span_id": format(context.span_id, "016x") if context.is_valid else "",
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: int | str = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
