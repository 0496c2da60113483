"""Rate limits through a real Envoy (per client address and route family) and, in the server,
per heartbeat stream. Each test calls from its own loopback address, so buckets never mix."""

import re

import aiohttp
import grpc
import pytest
from computepool.v1 import miner_service_pb2 as miner_pb
from computepool.v1 import receipt_service_pb2 as receipt_pb
from computepool.v1 import receipt_service_pb2_grpc
from coordinator.api.access import RULES
from coordinator.app import build_server
from devtools.envoy_config import FAMILY_RULES
from google.api import annotations_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.support.access_table import MODULES, service_descriptor
from tests.support.envoy import Envoy
from tests.support.miner import Miner
from tests.support.server import API_KEY, make_settings
from tests.support.wallets import forms, new_wallet

LIMITS = {"pool_read": 3, "pool_write": 2, "client": 3, "miner": 4, "user": 2}


@pytest.fixture(scope="module")
def limited(pool, tmp_path_factory) -> Envoy:
    envoy = Envoy(tmp_path_factory.mktemp("limited-envoy"), [pool.grpc_port], pool.metrics_port, rate_limits=LIMITS)
    yield envoy
    envoy.stop()


def client_from(envoy: Envoy, address: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(base_url=envoy.url, headers={"X-Api-Key": API_KEY},
                                 connector=aiohttp.TCPConnector(local_addr=(address, 0)))


async def statuses(http, method: str, path: str, times: int, body=None) -> list:
    answers = []
    for _ in range(times):
        async with http.request(method, path, json=body() if body else None) as response:
            answers.append((response.status, response.headers.get("Retry-After"), await response.json()))
    return answers


async def test_rest_over_the_limit_is_429_with_retry_after_and_the_error_body(limited):
    async with client_from(limited, "127.0.0.11") as http:
        answers = await statuses(http, "GET", "/api/v1/workers", 4)
    assert [status for status, _, _ in answers] == [200, 200, 200, 429]
    _, retry_after, body = answers[-1]
    assert 1 <= int(retry_after) <= 60
    assert body["error"]["code"] == "RATE_LIMITED" and "at most 3 requests per minute" in body["detail"]


async def test_families_have_their_own_buckets(limited):
    async with client_from(limited, "127.0.0.12") as http:
        reads = await statuses(http, "GET", "/api/v1/participants", 4)
        writes = await statuses(http, "POST", "/api/v1/participants", 3,
                                lambda: {"ton_wallet_address": forms(new_wallet())["non_bounceable"]})
        users = await statuses(http, "POST", "/v1/users/login/challenge", 3, dict)
    assert [s for s, _, _ in reads] == [200, 200, 200, 429]
    assert [s for s, _, _ in writes] == [201, 201, 429]  # writes count apart from reads: 20/min by default
    assert [s for s, _, _ in users] == [200, 200, 429]


async def test_each_client_address_has_its_own_bucket(limited):
    async with client_from(limited, "127.0.0.13") as first, client_from(limited, "127.0.0.14") as second:
        assert [s for s, _, _ in await statuses(first, "GET", "/v1/receipts/public-key", 4)] == [200, 200, 200, 429]
        assert [s for s, _, _ in await statuses(second, "GET", "/v1/receipts/public-key", 3)] == [200, 200, 200]


async def test_grpc_through_envoy_is_resource_exhausted_with_retry_info(limited):
    async with grpc.aio.insecure_channel(f"127.0.0.1:{limited.port}") as channel:
        receipts = receipt_service_pb2_grpc.ReceiptServiceStub(channel)
        for _ in range(LIMITS["client"]):
            await receipts.GetCoordinatorKey(receipt_pb.GetCoordinatorKeyRequest())
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await receipts.GetCoordinatorKey(receipt_pb.GetCoordinatorKeyRequest())
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    status = rpc_status.from_call(raised.value)
    retry, info = error_details_pb2.RetryInfo(), error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(retry) and status.details[1].Unpack(info)
    assert 1 <= retry.retry_delay.seconds <= 60 and info.reason == "RATE_LIMITED"


@pytest.fixture(scope="module")
async def stream_limited(database_url):
    server = build_server(make_settings(database_url, stream_messages_per_minute=5, heartbeat_flush_s=0.01), background_duties=False)
    await server.start()
    yield server
    await server.stop(0)


async def test_a_heartbeat_stream_is_limited_per_stream_not_per_call(stream_limited):
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stream_limited.grpc_port}") as channel:
        miner = await Miner(channel, name="chatty").register()
        beat = miner_pb.StreamHeartbeatsRequest(miner_id=miner.id, heartbeat=miner_pb.Heartbeat(status="healthy"))

        async def stream_of(count: int):
            stream = miner.stub.StreamHeartbeats(metadata=miner.metadata)
            for _ in range(count):
                await stream.write(beat)
                assert (await stream.read()).HasField("ack")
            return stream

        chatty = await stream_of(5)
        await chatty.write(beat)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await chatty.read()
        assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        retry = error_details_pb2.RetryInfo()
        assert rpc_status.from_call(raised.value).details[1].Unpack(retry) and retry.retry_delay.seconds >= 1
        quiet = await stream_of(5)  # a new stream has its own allowance
        await quiet.done_writing()


def test_every_rpc_falls_in_exactly_one_family_through_rest_and_grpc():
    def families(path: str, method: str) -> list[str]:
        return [family for family, regex, wanted in FAMILY_RULES if re.fullmatch(regex, path)
                and (wanted is None or (method != wanted[1:] if wanted.startswith("!") else method == wanted))]

    for rpc in RULES:
        assert len(families(rpc, "POST")) == 1, rpc
    for service in MODULES:
        for method in service_descriptor(service).methods:
            rule = method.GetOptions().Extensions[annotations_pb2.http]
            bindings = [rule, *rule.additional_bindings]
            for binding in bindings if rule.WhichOneof("pattern") else []:
                verb = binding.WhichOneof("pattern")
                path = re.sub(r"\{[^}]+\}", "1", getattr(binding, verb))
                assert len(families(path, verb.upper())) == 1, (path, families(path, verb.upper()))
