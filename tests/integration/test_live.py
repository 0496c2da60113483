"""Live updates on the server's HTTP port: /ws/metrics snapshots and /ws/events, their
authentication and close codes, rights, a slow subscriber, and events across two replicas."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import grpc
import pytest
from computepool.v1 import event_service_pb2 as event_pb
from computepool.v1 import event_service_pb2_grpc
from computepool.v1 import job_service_pb2 as job_pb
from computepool.v1 import job_service_pb2_grpc
from computepool.v1 import worker_service_pb2 as worker_pb
from computepool.v1 import worker_service_pb2_grpc
from coordinator.app import build_server
from coordinator.events.bus import Event, EventBus, Lost
from coordinator.identity.callers import Caller, CallerKind
from coordinator.storage import migrate

from tests.support.identity import Identity
from tests.support.live import next_of, subscribed
from tests.support.miner import Miner, cancel_open_jobs
from tests.support.postgres import create_database, drop_database
from tests.support.rpc_errors import error_details
from tests.support.server import API_KEY, AUTH, make_settings


def ws_url(pool, path: str) -> str:
    return f"ws://127.0.0.1:{pool.metrics_port}{path}"


async def owner_of(channel, miner: Miner) -> int:
    workers = worker_service_pb2_grpc.WorkerServiceStub(channel)
    return (await workers.GetWorker(worker_pb.GetWorkerRequest(worker_id=miner.worker_id), metadata=AUTH)).participant_id


async def test_metrics_snapshots_at_the_interval_asked_with_the_callers_own_workers(pool, channel):
    miner = await Miner(channel).register()
    await miner.heartbeat(gpu=55.0)
    await pool.refresh_metrics()
    _, owner_key = await Identity(channel).api_key("client", await owner_of(channel, miner))
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(ws_url(pool, "/ws/metrics?interval=1"), headers=dict(owner_key)) as socket:
            first = json.loads((await socket.receive(timeout=5)).data)
            second = json.loads((await socket.receive(timeout=5)).data)
        async with http.ws_connect(ws_url(pool, f"/ws/metrics?api_key={API_KEY}")) as socket:  # a browser's way
            as_admin = json.loads((await socket.receive(timeout=5)).data)
    assert first["registered_miners"] >= 1 and second["at"] and first["active_jobs"] is not None
    assert [(w["worker_id"], w["gpu_utilization"]) for w in first["workers"]] == [(miner.worker_id, 55.0)]
    assert len(as_admin["workers"]) == as_admin["workers_active"] >= 1


@pytest.mark.parametrize("query, headers, code, reason", [
    ("", {}, 4401, "UNAUTHENTICATED"),
    ("?api_key=not-a-key", {}, 4401, "API_KEY_INVALID"),
    ("?interval=0.5", {"x-api-key": API_KEY}, 4400, "interval: must be between 1 and 60"),
    ("?interval=soon", {"x-api-key": API_KEY}, 4400, "interval: must be between 1 and 60"),
])
@pytest.mark.parametrize("path", ["/ws/metrics", "/ws/events"])
async def test_a_refused_socket_is_closed_with_a_code_and_a_reason(pool, path, query, headers, code, reason):
    if path == "/ws/events" and "interval" in query:
        query = query.replace("interval=", "types=worker.metrics,")
        reason = "types[1]: is not an event type"
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(ws_url(pool, path + query), headers=headers) as socket:
            closing = await socket.receive(timeout=5)
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == code and reason in closing.extra


async def test_events_reach_their_owner_and_an_admin_and_no_one_else(pool, channel):
    miner = await Miner(channel).register()
    identity = Identity(channel)
    _, owner_key = await identity.api_key("client", await owner_of(channel, miner))
    _, stranger_key = await identity.api_key("client")
    async with aiohttp.ClientSession() as http:
        async with (http.ws_connect(ws_url(pool, "/ws/events"), headers=dict(owner_key)) as owner,
                    http.ws_connect(ws_url(pool, "/ws/events?types=worker.status_changed"),
                                    headers={"x-api-key": API_KEY}) as admin,
                    http.ws_connect(ws_url(pool, "/ws/events"), headers=dict(stranger_key)) as stranger):
            for socket in (owner, admin, stranger):
                await subscribed(socket)
            await miner.heartbeat(gpu=None)
            changed = await next_of(owner, "worker.status_changed", miner.worker_id)
            metrics = await next_of(owner, "worker.metrics", miner.worker_id)
            seen_by_admin = await next_of(admin, "worker.status_changed", miner.worker_id)
            with pytest.raises(TimeoutError):
                await next_of(stranger, "worker.metrics", miner.worker_id, timeout_s=1.0)
    assert (changed["data"]["old"], changed["data"]["new"], changed["data"]["reason"]) == (
        "unknown", "healthy", "heartbeat")
    assert metrics["data"]["gpu_utilization"] is None and metrics["data"]["running_jobs"] == 0
    assert metrics["participant_id"] == changed["participant_id"] and seen_by_admin == changed


async def test_a_subscriber_that_falls_behind_is_told_it_lost_events(pool):
    bus = EventBus(pool.database, queue_size=3)
    with bus.subscribe(lambda event: True) as slow:
        async with pool.database.transaction() as session:
            await bus.emit(session, [Event("test.tick", {"n": n}) for n in range(10)])
        if pool.database.dialect == "postgresql":  # this bus does not listen: hand it what PostgreSQL would
            bus._deliver([Event("test.tick", {"n": n}) for n in range(10)])
        first = await slow.next()
        assert isinstance(first, Lost)  # told first, before anything after the gap
        later = [(await slow.next()).data["n"] for _ in range(10 - first.count)]
        assert later == list(range(first.count, 10))  # what it was not told it lost, it gets, in order
        async with pool.database.transaction() as session:
            await bus.emit(session, [Event("test.tick", {"n": 10})])
        if pool.database.dialect == "postgresql":
            bus._deliver([Event("test.tick", {"n": 10})])
        assert (await slow.next()).data == {"n": 10}


def test_an_event_is_offered_only_to_the_subscribers_it_concerns_and_once_to_each(pool):
    bus = EventBus(pool.database)
    owner = Caller(CallerKind.USER, participant_id=7, client_id="participant-7")
    others_client = Caller(CallerKind.CLIENT, participant_id=None, client_id="apikey-9")
    asked: list[str] = []

    def counting(name: str):
        return lambda event: asked.append(name) or True

    with bus.subscribe(counting("admin"), Caller(CallerKind.ADMIN)) as admin, \
            bus.subscribe(counting("owner"), owner) as mine, bus.subscribe(counting("client"), others_client) as client:
        bus._deliver([Event("job.status_changed", {"n": 1}, participant_id=7, client_id="participant-7"),
                      Event("worker.metrics", {"n": 2}, participant_id=8),
                      Event("job.status_changed", {"n": 3}, client_id="apikey-9")])
        assert sorted(asked) == ["admin", "admin", "admin", "client", "owner"]  # never asked of another's
        assert [mine.take_nowait().data, mine.take_nowait()] == [{"n": 1}, None]  # once, though its twice
        assert [client.take_nowait().data, client.take_nowait()] == [{"n": 3}, None]
        assert [admin.take_nowait().data["n"] for _ in range(3)] == [1, 2, 3]
    assert bus.subscriptions == set() and bus.by_participant == {} and bus.by_client == {}


async def test_a_rolled_back_change_produces_no_event(pool):
    bus = pool.events
    with bus.subscribe(lambda event: event.type == "test.rolled_back") as subscription:
        with pytest.raises(RuntimeError):
            async with pool.database.transaction() as session:
                await bus.emit(session, [Event("test.rolled_back", {})])
                raise RuntimeError("the change fails")
        async with pool.database.transaction() as session:
            await bus.emit(session, [Event("test.rolled_back", {"second": True})])
        assert (await asyncio.wait_for(subscription.next(), 5)).data == {"second": True}


async def test_a_heartbeat_sent_to_one_replica_reaches_a_subscriber_of_another():
    """Two server processes' worth of servers on one PostgreSQL database (LISTEN/NOTIFY carries
    the events; on SQLite there is one process)."""
    name, url = create_database()
    migrate.upgrade(url)
    replicas = [build_server(make_settings(url), background_duties=False) for _ in range(2)]
    for replica in replicas:
        await replica.start()
    try:
        await asyncio.wait_for(replicas[1].events.listening.wait(), 10)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{replicas[0].grpc_port}") as channel:
            miner = await Miner(channel).register()
            async with aiohttp.ClientSession() as http:
                async with http.ws_connect(ws_url(replicas[1], "/ws/events"), headers={"x-api-key": API_KEY}) as socket:
                    await subscribed(socket)
                    started = asyncio.get_running_loop().time()
                    await miner.heartbeat(gpu=12.5)
                    event = await next_of(socket, "worker.metrics", miner.worker_id, timeout_s=2.0)
                    took = asyncio.get_running_loop().time() - started
    finally:
        for replica in replicas:
            await replica.stop(0)
        drop_database(name)
    assert event["data"]["gpu_utilization"] == 12.5 and took < 2.0


async def test_watch_events_and_pool_metrics_over_grpc(pool, channel):
    events = event_service_pb2_grpc.EventServiceStub(channel)
    miner = await Miner(channel).register()
    stream = events.WatchEvents(event_pb.WatchEventsRequest(types=["worker.metrics"]), metadata=AUTH)
    assert (await stream.read()).type == "events.subscribed"
    await miner.heartbeat(gpu=71.0)
    while (event := await asyncio.wait_for(stream.read(), 5)).data["worker_id"] != miner.worker_id:
        pass
    stream.cancel()
    assert event.type == "worker.metrics" and event.data["gpu_utilization"] == 71.0 and event.HasField("at")
    metrics = events.WatchPoolMetrics(event_pb.WatchPoolMetricsRequest(interval_seconds=1), metadata=AUTH)
    snapshot = await asyncio.wait_for(metrics.read(), 5)
    metrics.cancel()
    assert snapshot.registered_miners >= 1 and len(snapshot.workers) == snapshot.workers_active


@pytest.mark.parametrize("rpc, request_, field", [
    ("WatchEvents", event_pb.WatchEventsRequest(types=["worker.metrics", "worker.exploded"]), "types[1]"),
    ("WatchPoolMetrics", event_pb.WatchPoolMetricsRequest(interval_seconds=0), "interval_seconds"),
])
async def test_a_bad_watch_is_refused_naming_the_field(channel, rpc, request_, field):
    stream = getattr(event_service_pb2_grpc.EventServiceStub(channel), rpc)(request_, metadata=AUTH)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stream.read()
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT and field in refused.value.details()


async def test_past_its_limit_a_server_closes_a_new_socket_with_try_again_later(database_url):
    server = build_server(make_settings(database_url, live_max_subscribers=1), background_duties=False)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(ws_url(server, "/ws/events"), headers={"x-api-key": API_KEY}) as first:
                await subscribed(first)
                async with http.ws_connect(ws_url(server, "/ws/events"), headers={"x-api-key": API_KEY}) as second:
                    refused = await second.receive(timeout=5)
            async with http.ws_connect(ws_url(server, "/ws/events"), headers={"x-api-key": API_KEY}) as third:
                await subscribed(third)  # the first one's place is free again
    finally:
        await server.stop(0)
    assert refused.type == aiohttp.WSMsgType.CLOSE and refused.data == 1013 and "try again later" in refused.extra


async def test_a_jobs_status_changes_reach_its_client_in_order_and_no_other(pool, channel):
    await cancel_open_jobs(pool.database)
    identity = Identity(channel)
    _, client_key = await identity.api_key("client")
    _, stranger_key = await identity.api_key("client")
    miner = await Miner(channel, job_types=("echo",)).register()
    jobs = job_service_pb2_grpc.JobServiceStub(channel)
    async with aiohttp.ClientSession() as http:
        async with (http.ws_connect(ws_url(pool, "/ws/events?types=job.status_changed"),
                                    headers=dict(client_key)) as owner,
                    http.ws_connect(ws_url(pool, "/ws/events?types=job.status_changed"),
                                    headers=dict(stranger_key)) as stranger):
            await subscribed(owner)
            await subscribed(stranger)
            job = await jobs.SubmitJob(job_pb.SubmitJobRequest(job_type="echo"), metadata=client_key)
            assignment = await miner.lease(job.id)
            await miner.complete(assignment)
            seen = [json.loads((await owner.receive(timeout=5)).data)["data"] for _ in range(3)]
            with pytest.raises(TimeoutError):
                await stranger.receive(timeout=0.5)
    assert [(e["job_id"], e["status"], e["attempts"]) for e in seen] == [
        (job.id, "pending", 0), (job.id, "running", 1), (job.id, "completed", 1)]


async def test_registering_a_miner_is_an_event_for_its_owner(pool, channel):
    with pool.events.subscribe(lambda e: e.type == "miner.registered") as registered:
        miner = await Miner(channel, name="announced").register()
        while (event := await asyncio.wait_for(registered.next(), 5)).data["miner_id"] != miner.id:
            pass
    assert (event.data["worker_id"], event.data["worker_name"]) == (miner.worker_id, "announced")
    assert event.participant_id == await owner_of(channel, miner)


async def test_watching_workers_shows_them_then_each_change_and_only_to_their_owner(pool, channel):
    miner = await Miner(channel).register()
    second = await Miner(channel, wallet=miner.wallet, name="rig-two").register()
    owner_id = await owner_of(channel, miner)
    _, owner_key = await Identity(channel).api_key("client", owner_id)
    workers = worker_service_pb2_grpc.WorkerServiceStub(channel)
    stream = workers.WatchWorkers(worker_pb.WatchWorkersRequest(participant_id=owner_id), metadata=owner_key)
    first = [await asyncio.wait_for(stream.read(), 5) for _ in range(2)]
    assert [w.id for w in first] == sorted([miner.worker_id, second.worker_id])
    assert all(w.latest_status == "unknown" for w in first)
    await miner.heartbeat(gpu=61.0)
    changed = await asyncio.wait_for(stream.read(), 5)  # the heartbeat's two events come as one worker
    assert (changed.id, changed.latest_status, changed.latest_gpu_utilization) == (miner.worker_id, "healthy", 61.0)
    await second.heartbeat(gpu=12.0)
    assert (await asyncio.wait_for(stream.read(), 5)).id == second.worker_id
    stream.cancel()
    _, stranger_key = await Identity(channel).api_key("client")
    refused = workers.WatchWorkers(worker_pb.WatchWorkersRequest(participant_id=owner_id), metadata=stranger_key)
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await refused.read()
    missing = workers.WatchWorkers(worker_pb.WatchWorkersRequest(participant_id=10**8), metadata=AUTH)
    with pytest.raises(grpc.aio.AioRpcError) as absent:
        await missing.read()
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert absent.value.code() == grpc.StatusCode.NOT_FOUND and "PARTICIPANT" in str(error_details(absent.value))
