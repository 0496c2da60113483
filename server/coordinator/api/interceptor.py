"""The one interceptor: every computepool.v1 rpc is observed (telemetry/observability.py),
admitted by the access table (api/access.py: the caller comes from identity/authenticator.py), its request
text checked (api/request_text.py), and what it raises turned into its status (api/status.py).
Health checking and reflection stay open.
"""

from __future__ import annotations

import inspect

import grpc
from opentelemetry import trace

from coordinator.api.access import admit
from coordinator.api.request_text import check_request_text
from coordinator.api.status import translated_errors
from coordinator.identity.authenticator import Authenticator
from coordinator.telemetry.observability import RequestMetrics, observed_rpc

PROTECTED_PREFIX = "/computepool.v1."


class ApiInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, authenticator: Authenticator, metrics: RequestMetrics, tracer: trace.Tracer | None):
        self._authenticator = authenticator
        self._metrics = metrics
        self._tracer = tracer

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        rpc = handler_call_details.method
        if handler is None or not rpc.startswith(PROTECTED_PREFIX):
            return handler
        metadata = handler_call_details.invocation_metadata
        return _wrap(handler, lambda: admit(self._authenticator, metadata, rpc),
                     lambda context: observed_rpc(self._metrics, self._tracer, rpc, metadata, context))


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
