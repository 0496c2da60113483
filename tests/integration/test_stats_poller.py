"""Polling workers' HTTP statistics: parsing, storing samples, unreachable workers, replicas."""

import asyncio
import datetime as dt

import pytest
from computepool.v1 import participant_service_pb2 as participant_pb
from computepool.v1 import worker_service_pb2 as pb
from coordinator.pool.metrics import PoolCollector
from coordinator.adapters.cocoon_stats import parse_cocoon_stats

from tests.support.cocoon import CocoonWorkerStats, jsonstats
from tests.support.polling import poll_once
from tests.support.pool_api import new_participant, new_worker
from tests.support.ports import free_port
from tests.support.server import AUTH

def now() -> dt.datetime:
    """Read at each use: jsonstats() stamps its sync time with the clock when it is called, and
    make test reaches these tests minutes after importing the module."""
    return dt.datetime.now(dt.timezone.utc)


def test_parse_reads_totals_errors_and_revenue():
    parsed = parse_cocoon_stats(jsonstats(queries=1000, failed=10, earned_tokens=(1_000, 2_000), fee_per_token=16),
                                now())
    assert parsed.status == "healthy"
    assert (parsed.requests_total, parsed.errors_total) == (1000, 5)  # each failure is counted twice
    assert parsed.revenue_nanoton == 48_000
    assert parsed.gpu_utilization is None  # /jsonstats carries no GPU figures


@pytest.mark.parametrize("problem", [dict(image_ok=False), dict(model_ok=False), dict(synced_ago_s=4000),
                                     dict(proxies_inited=False), dict(earned_tokens=())])
def test_parse_flags_an_unhealthy_worker(problem):
    assert parse_cocoon_stats(jsonstats(**problem), now()).status == "unhealthy"


@pytest.mark.parametrize("document", [{}, {"stats": []}, [], "text"])
def test_parse_refuses_what_is_not_a_jsonstats_document(document):
    with pytest.raises(ValueError):
        parse_cocoon_stats(document, now())


@pytest.fixture
async def cocoon():
    server = await CocoonWorkerStats().start()
    yield server
    await server.stop()


async def get(stubs, worker_id):
    return await stubs.workers.GetWorker(pb.GetWorkerRequest(worker_id=worker_id), metadata=AUTH)


async def test_a_round_polls_active_workers_and_stores_samples(stubs, pool, database_url, cocoon):
    owner = await new_participant(stubs)
    reachable = await new_worker(stubs, owner, host="127.0.0.1", stats_port=cocoon.port)
    unreachable = await new_worker(stubs, owner, instance=1, host="127.0.0.1", stats_port=free_port())
    inactive = await new_worker(stubs, owner, instance=2, host="127.0.0.1", stats_port=cocoon.port, is_active=False)
    assert await poll_once(database_url) >= 2

    worker = await get(stubs, reachable.id)
    assert worker.latest_status == "healthy" and worker.HasField("latest_seen_at")
    assert worker.latest_revenue_nanoton == 798_000_000 * 16 and worker.latest_revenue_ton == 12.768
    down = await get(stubs, unreachable.id)
    assert down.latest_status == "offline" and not down.HasField("latest_seen_at")
    assert (await get(stubs, inactive.id)).latest_status == "unknown"

    metrics = await stubs.workers.GetWorkerMetrics(pb.GetWorkerMetricsRequest(worker_id=reachable.id), metadata=AUTH)
    assert [(s.status, s.requests_total, s.errors_total) for s in metrics.samples] == [("healthy", 18342, 42)]
    participant = await stubs.participants.GetParticipant(
        participant_pb.GetParticipantRequest(participant_id=owner), metadata=AUTH)
    assert participant.total_revenue_nanoton == 798_000_000 * 16


async def test_a_worker_is_polled_once_per_interval_even_by_two_replicas(stubs, database_url, cocoon):
    owner = await new_participant(stubs)
    await new_worker(stubs, owner, host="127.0.0.1", stats_port=cocoon.port)
    await poll_once(database_url)  # catch up every other due worker first
    cocoon.requests = 0
    await new_worker(stubs, owner, instance=1, host="127.0.0.1", stats_port=cocoon.port)
    polled = await asyncio.gather(poll_once(database_url), poll_once(database_url))
    assert sorted(polled) == [0, 1] and cocoon.requests == 1
    assert await poll_once(database_url) == 0  # not due again within the interval


@pytest.mark.parametrize("raw", ["not json", '{"status": {}}'])
async def test_a_worker_serving_garbage_is_offline_not_fatal(stubs, database_url, cocoon, raw):
    cocoon.raw = raw
    worker = await new_worker(stubs, await new_participant(stubs), host="127.0.0.1", stats_port=cocoon.port)
    await poll_once(database_url)
    assert (await get(stubs, worker.id)).latest_status == "offline"


async def test_pool_metrics_are_exposed_for_prometheus(stubs, pool, database_url, cocoon):
    worker = await new_worker(stubs, await new_participant(stubs), host="127.0.0.1", stats_port=cocoon.port)
    await poll_once(database_url)
    collector = PoolCollector()
    await collector.refresh(pool.database)
    families = {family.name: family for family in collector.collect()}
    label = {"worker_id": str(worker.id)}
    value = {name: next((s.value for s in f.samples if s.labels == label), None) for name, f in families.items()}
    assert value["cocoon_worker_status"] == 1.0
    assert value["cocoon_revenue_ton"] == 12.768
    assert value["cocoon_inference_requests"] == 18342 and value["cocoon_worker_errors"] == 42
    assert value["cocoon_gpu_utilization"] is None  # never reported: no series rather than a false 0
