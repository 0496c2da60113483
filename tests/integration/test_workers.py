"""WorkerService over gRPC, on SQLite and PostgreSQL."""

import datetime as dt

import grpc
import pytest
from computepool.v1 import participant_service_pb2 as participant_pb
from computepool.v1 import worker_service_pb2 as pb
from coordinator.storage.models import WorkerSample

from tests.support.pool_api import new_participant, new_worker
from tests.support.rpc_errors import error_details
from tests.support.server import AUTH


async def test_create_and_get_a_worker(stubs):
    owner = await new_participant(stubs)
    created = await new_worker(stubs, owner, price_coefficient=1.25)
    assert (created.participant_id, created.worker_name, created.host, created.stats_port) == (
        owner, "Worker-0", "localhost", 12000)
    assert created.price_coefficient == 1.25 and created.is_active and created.latest_status == "unknown"
    fetched = await stubs.workers.GetWorker(pb.GetWorkerRequest(worker_id=created.id), metadata=AUTH)
    assert fetched == created
    participant = await stubs.participants.GetParticipant(
        participant_pb.GetParticipantRequest(participant_id=owner), metadata=AUTH)
    assert (participant.total_workers, participant.active_workers) == (1, 1)


async def test_same_name_and_instance_is_a_conflict_but_another_instance_is_not(stubs):
    owner = await new_participant(stubs)
    await new_worker(stubs, owner)
    await new_worker(stubs, owner, instance=1)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await new_worker(stubs, owner)
    assert error_details(raised.value)[:2] == (grpc.StatusCode.ALREADY_EXISTS, "WORKER_ALREADY_EXISTS")


async def test_worker_for_a_missing_participant_is_not_found(stubs):
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await new_worker(stubs, 99999999)
    assert error_details(raised.value)[:2] == (grpc.StatusCode.NOT_FOUND, "PARTICIPANT_NOT_FOUND")


@pytest.mark.parametrize("fields, bad_field", [
    ({"worker_name": ""}, "worker_name"), ({"host": "bad host!"}, "host"), ({"stats_port": 70000}, "stats_port"),
    ({"instance_number": -1}, "instance_number"), ({"price_coefficient": 0}, "price_coefficient"),
    ({"price_coefficient": 1.0000001}, "price_coefficient"), ({"price_coefficient": 1001}, "price_coefficient"),
])
async def test_bad_worker_input_names_the_field_and_writes_nothing(stubs, fields, bad_field):
    owner = await new_participant(stubs)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await new_worker(stubs, owner, **fields)
    code, _, violated = error_details(raised.value)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and bad_field in violated
    listed = await stubs.workers.ListWorkers(pb.ListWorkersRequest(participant_id=owner), metadata=AUTH)
    assert list(listed.workers) == []


async def test_list_filters_by_participant_and_active_flag(stubs):
    owner, other = await new_participant(stubs), await new_participant(stubs)
    first = await new_worker(stubs, owner)
    second = await new_worker(stubs, owner, instance=1, is_active=False)
    await new_worker(stubs, other)
    mine = await stubs.workers.ListWorkers(pb.ListWorkersRequest(participant_id=owner), metadata=AUTH)
    assert [w.id for w in mine.workers] == [first.id, second.id]
    active = await stubs.workers.ListWorkers(pb.ListWorkersRequest(participant_id=owner, is_active=True),
                                             metadata=AUTH)
    inactive = await stubs.workers.ListWorkers(pb.ListWorkersRequest(participant_id=owner, is_active=False),
                                               metadata=AUTH)
    assert [w.id for w in active.workers] == [first.id] and [w.id for w in inactive.workers] == [second.id]


async def test_patch_changes_only_the_fields_sent(stubs):
    owner = await new_participant(stubs)
    worker = await new_worker(stubs, owner, price_coefficient=1.5)
    updated = await stubs.workers.UpdateWorker(pb.UpdateWorkerRequest(worker_id=worker.id, is_active=False),
                                               metadata=AUTH)
    assert not updated.is_active and updated.price_coefficient == 1.5 and updated.host == worker.host
    updated = await stubs.workers.UpdateWorker(pb.UpdateWorkerRequest(worker_id=worker.id, price_coefficient=1.2),
                                               metadata=AUTH)
    assert not updated.is_active and updated.price_coefficient == 1.2


async def test_a_refused_patch_changes_nothing(stubs):
    owner = await new_participant(stubs)
    worker = await new_worker(stubs, owner)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.workers.UpdateWorker(pb.UpdateWorkerRequest(worker_id=worker.id, is_active=False,
                                                                stats_port=0), metadata=AUTH)
    assert error_details(raised.value)[2] == ["stats_port"]
    unchanged = await stubs.workers.GetWorker(pb.GetWorkerRequest(worker_id=worker.id), metadata=AUTH)
    assert unchanged.is_active and unchanged.stats_port == worker.stats_port
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.workers.UpdateWorker(pb.UpdateWorkerRequest(worker_id=424242, is_active=False), metadata=AUTH)
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


async def test_rename_onto_a_sibling_is_a_conflict(stubs):
    owner = await new_participant(stubs)
    await new_worker(stubs, owner, name="a")
    b = await new_worker(stubs, owner, name="b")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.workers.UpdateWorker(pb.UpdateWorkerRequest(worker_id=b.id, worker_name="a"), metadata=AUTH)
    assert raised.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def add_samples(pool, worker_id: int, samples: list[dict]) -> None:
    async with pool.database.transaction() as session:
        session.add_all(WorkerSample(worker_id=worker_id, **sample) for sample in samples)


def ago(**delta) -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) - dt.timedelta(**delta)


async def test_metrics_returns_the_window_oldest_first(stubs, pool):
    worker = await new_worker(stubs, await new_participant(stubs))
    await add_samples(pool, worker.id, [
        dict(sampled_at=ago(hours=30), status="healthy", gpu_utilization=10.0),
        dict(sampled_at=ago(hours=2), status="healthy", gpu_utilization=50.0, requests_total=5),
        dict(sampled_at=ago(hours=5), status="offline"),
    ])
    day = await stubs.workers.GetWorkerMetrics(pb.GetWorkerMetricsRequest(worker_id=worker.id, hours=24),
                                               metadata=AUTH)
    assert [s.status for s in day.samples] == ["offline", "healthy"]
    assert day.samples[1].gpu_utilization == 50.0 and day.samples[1].requests_total == 5
    default = await stubs.workers.GetWorkerMetrics(pb.GetWorkerMetricsRequest(worker_id=worker.id), metadata=AUTH)
    assert default.hours == 24 and len(default.samples) == 2
    wide = await stubs.workers.GetWorkerMetrics(pb.GetWorkerMetricsRequest(worker_id=worker.id, hours=48),
                                                metadata=AUTH)
    assert len(wide.samples) == 3
    for hours in (-1, 721):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stubs.workers.GetWorkerMetrics(pb.GetWorkerMetricsRequest(worker_id=worker.id, hours=hours),
                                                 metadata=AUTH)
        assert error_details(raised.value)[2] == ["hours"]


async def test_stats_aggregate_each_window_and_survive_counter_resets(stubs, pool):
    worker = await new_worker(stubs, await new_participant(stubs))
    await add_samples(pool, worker.id, [
        dict(sampled_at=ago(days=10), status="healthy", gpu_utilization=20.0, requests_total=100, errors_total=1,
             revenue_nanoton=1_000_000_000),
        dict(sampled_at=ago(days=3), status="healthy", gpu_utilization=60.0, requests_total=400, errors_total=4,
             revenue_nanoton=3_000_000_000),
        dict(sampled_at=ago(hours=3), status="offline"),
        # The worker restarted: its counters began again from zero.
        dict(sampled_at=ago(hours=2), status="healthy", gpu_utilization=90.0, requests_total=50, errors_total=2,
             revenue_nanoton=3_500_000_000),
        dict(sampled_at=ago(hours=1), status="unhealthy", gpu_utilization=30.0, requests_total=80, errors_total=2,
             revenue_nanoton=3_600_000_000),
    ])
    stats = await stubs.workers.GetWorkerStats(pb.GetWorkerStatsRequest(worker_id=worker.id), metadata=AUTH)
    day, week, month = stats.last_24h, stats.last_7d, stats.last_30d
    assert (day.hours, week.hours, month.hours) == (24, 168, 720)
    assert (day.samples, week.samples, month.samples) == (3, 4, 5)
    assert day.uptime_ratio == pytest.approx(1 / 3) and month.uptime_ratio == pytest.approx(3 / 5)
    assert day.avg_gpu_utilization == pytest.approx(60.0) and day.peak_gpu_utilization == 90.0
    assert month.avg_gpu_utilization == pytest.approx(50.0)
    assert day.requests == 30 and week.requests == 80 and month.requests == 380
    assert day.errors == 0 and month.errors == 5
    assert day.revenue_nanoton == 100_000_000 and day.revenue_ton == pytest.approx(0.1)
    assert month.revenue_nanoton == 2_600_000_000


async def test_stats_of_a_worker_without_samples_are_zero(stubs):
    worker = await new_worker(stubs, await new_participant(stubs))
    stats = await stubs.workers.GetWorkerStats(pb.GetWorkerStatsRequest(worker_id=worker.id), metadata=AUTH)
    assert stats.latest_status == "unknown" and stats.last_30d.samples == 0 and not stats.HasField("latest_seen_at")
