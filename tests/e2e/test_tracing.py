"""Tracing end to end: a real OTLP receiver (gRPC, port 0) gets the spans of one REST call from
Envoy and from the server, and they form one correctly parented trace."""

import asyncio
import json
import time

import aiohttp
import grpc
import pytest
from devtools.launch import server_env, start_server_process
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from tests.support.envoy import Envoy
from tests.support.server import API_KEY


class Receiver(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self):
        self.spans = []  # (service name, span)

    async def Export(self, request, context):
        for resource_spans in request.resource_spans:
            service = next((a.value.string_value for a in resource_spans.resource.attributes
                            if a.key == "service.name"), "")
            for scope_spans in resource_spans.scope_spans:
                self.spans.extend((service, span) for span in scope_spans.spans)
        return trace_service_pb2.ExportTraceServiceResponse()


@pytest.fixture
async def receiver():
    server = grpc.aio.server()
    collected = Receiver()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(collected, server)
    collected.port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield collected
    await server.stop(0)


@pytest.fixture
async def traced(database_url, receiver, tmp_path):
    """A server process and an Envoy, both exporting to the receiver."""
    endpoint = f"http://127.0.0.1:{receiver.port}"
    env = server_env(DATABASE_URL=database_url, API_KEYS=API_KEY, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, LOG_LEVEL="DEBUG",
                     OTEL_EXPORTER_OTLP_INSECURE="true", OTEL_BSP_SCHEDULE_DELAY="100", OTEL_SERVICE_NAME="computepool")
    process, port = await start_server_process(env, drain_output=False)
    envoy = Envoy(tmp_path, [port], 9, otlp_endpoint=endpoint)
    envoy.server, envoy.output = process, bytearray()

    async def collect() -> None:  # read as it comes: a full pipe would block the server's DEBUG logging
        while chunk := await process.stdout.read(1 << 16):
            envoy.output.extend(chunk)
    envoy.output_read = asyncio.create_task(collect())
    yield envoy
    envoy.stop()
    if process.returncode is None:
        process.terminate()
        await process.wait()


async def test_one_rest_call_is_one_trace_from_envoy_through_the_server_to_the_database(traced, receiver):
    async with aiohttp.ClientSession(headers={"X-Api-Key": API_KEY}) as http:
        async with http.get(f"{traced.url}/api/v1/workers?limit=5") as response:
            assert response.status == 200

    def spans_of_the_call():
        envoy = [span for service, span in receiver.spans if service == "computepool-envoy"]
        rpc = [span for service, span in receiver.spans if span.name == "computepool.v1.WorkerService/ListWorkers"]
        return envoy, rpc

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        envoy, rpc = spans_of_the_call()
        if envoy and rpc and any(s.parent_span_id == rpc[0].span_id for _, s in receiver.spans):
            break
        await asyncio.sleep(0.2)
    envoy, rpc = spans_of_the_call()
    assert len(envoy) == 1 and len(rpc) == 1, [(service, s.name) for service, s in receiver.spans]
    trace_id = envoy[0].trace_id
    in_trace = [(service, span) for service, span in receiver.spans if span.trace_id == trace_id]
    by_id = {span.span_id: span for _, span in in_trace}
    server_span = rpc[0]
    assert server_span.trace_id == trace_id and server_span.kind == server_span.SPAN_KIND_SERVER
    assert not envoy[0].parent_span_id  # the trace starts at Envoy
    parent = by_id[server_span.parent_span_id]
    assert parent is envoy[0] or parent.parent_span_id == envoy[0].span_id  # directly, or under Envoy's upstream span
    database = [span for service, span in in_trace if service == "computepool" and span.parent_span_id ==
                server_span.span_id]
    assert database and all(span.kind == span.SPAN_KIND_CLIENT and span.name.startswith("SELECT ") for span in database)
    assert {service for service, _ in in_trace} == {"computepool-envoy", "computepool"}


async def test_every_log_line_is_json_with_the_trace_id(traced, receiver):
    async with aiohttp.ClientSession(headers={"X-Api-Key": API_KEY}) as http:
        async with http.get(f"{traced.url}/api/v1/participants?limit=1") as response:
            assert response.status == 200
    traced.server.terminate()
    await traced.server.wait()
    await traced.output_read
    output = traced.output.decode()
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]  # every line parses
    assert all({"time", "level", "logger", "message", "trace_id", "span_id"} <= set(line) for line in lines)
    (access,) = [line for line in lines if "ParticipantService/ListParticipants" in line["message"]]
    server_span = next(span for _, span in receiver.spans if span.name.endswith("ListParticipants"))
    assert access["trace_id"] == server_span.trace_id.hex() and access["span_id"] == server_span.span_id.hex()
