"""The Python SDK at its limits and when things go wrong, against real servers: every reason the
coordinator has reaches the caller as an exception of its status (and of its own class where the
SDK has one); each kind of refusal a real server sends; a batch over the rpc's limit; deadlines
per client, per call and per page; a wait that outlives a server restart; retries that wait as
long as the server's RetryInfo asks, through a real database outage. On SQLite and PostgreSQL,
but the database faults: PostgreSQL only (an SQLite file has no connection to lose or stall)."""

import asyncio
import time

import grpc
import pytest
from computepool import AsyncClient, JobSpec, RetryPolicy
from computepool import errors as sdk_errors
from computepool.v1 import job_service_pb2 as job_pb
from computepool.v1 import miner_service_pb2 as miner_pb
from coordinator.api.status import STATUS_OF, translated_errors
from coordinator.app import build_server
from coordinator.errors import FieldViolation, InvalidArgument, Reason, ResourceExhausted, Unavailable
from coordinator.storage import migrate
from google.protobuf import duration_pb2, wrappers_pb2
from sqlalchemy.engine import make_url

from tests.support.miner import Miner, cancel_open_jobs
from tests.support.ports import free_port
from tests.support.postgres import create_database, drop_database
from tests.support.server import API_KEY, make_settings
from tests.support.tcp_proxy import TcpProxy
from tests.support.wallets import forms, new_wallet

# Reconnect to a restarted server within a fraction of a second (gRPC's own backoff starts at 1 s).
FAST_RECONNECT = (("grpc.initial_reconnect_backoff_ms", 100), ("grpc.min_reconnect_backoff_ms", 100),
                  ("grpc.max_reconnect_backoff_ms", 300))
NO_JOB = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
async def admin(pool):
    async with AsyncClient.connect(f"127.0.0.1:{pool.grpc_port}", api_key=API_KEY) as client:
        yield client


async def raise_as_told(request: wrappers_pb2.StringValue, context: grpc.aio.ServicerContext) -> None:
    """Raises the domain error "KIND REASON" names, through the server's own error translator."""
    kind, reason = request.value.split()
    async with translated_errors(context, "Raise"):
        if kind == "crash":
            raise RuntimeError("a fault")
        cls = next(cls for cls in STATUS_OF if cls.__name__ == kind)
        if issubclass(cls, InvalidArgument):
            raise cls([FieldViolation("jobs[3].priority", "must be 0-10")], reason=Reason(reason))
        if issubclass(cls, (ResourceExhausted, Unavailable)):
            raise cls("try later", reason=Reason(reason), retry_after_s=3)
        raise cls("refused", reason=Reason(reason), metadata={"job_id": "j-1"})


async def test_every_reason_of_the_server_reaches_the_caller_as_an_exception_of_its_status():
    """Each Reason sent under each status the server uses, encoded by the server's translator and
    decoded by the SDK over real gRPC: a class of that status (the reason's own class where the
    SDK has one), with the reason, message, fields, metadata and retry delay."""
    server = grpc.aio.server()
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("test.Errors", {
        "Raise": grpc.unary_unary_rpc_method_handler(raise_as_told,
                                                     request_deserializer=wrappers_pb2.StringValue.FromString)})])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with AsyncClient.connect(f"127.0.0.1:{port}") as client:
            async def refusal(kind: str, reason: str) -> sdk_errors.ComputepoolError:
                with pytest.raises(sdk_errors.ComputepoolError) as raised:
                    await client.call("/test.Errors/Raise", wrappers_pb2.StringValue(value=f"{kind} {reason}"),
                                      wrappers_pb2.StringValue, idempotent=False)
                return raised.value

            for kind, (code, _) in STATUS_OF.items():
                for reason in Reason:
                    error = await refusal(kind.__name__, reason)
                    assert type(error) in (sdk_errors.BY_CODE[code], sdk_errors.BY_REASON.get(reason)), (kind, reason)
                    assert isinstance(error, sdk_errors.BY_CODE[code]) and error.code == code
                    assert error.reason == reason and error.message
                    if issubclass(kind, InvalidArgument):
                        assert error.fields == {"jobs[3].priority": "must be 0-10"}
                    elif issubclass(kind, (ResourceExhausted, Unavailable)):
                        assert error.retry_after_s == 3
                    else:
                        assert error.metadata == {"job_id": "j-1"} and error.retry_after_s is None
            crash = await refusal("crash", "-")
            assert type(crash) is sdk_errors.Internal and crash.reason == Reason.INTERNAL
    finally:
        await server.stop(0)


async def test_each_kind_of_refusal_a_real_server_sends(admin, pool):
    target = f"127.0.0.1:{pool.grpc_port}"
    async with AsyncClient.connect(target, api_key="no-such-key") as stranger:
        with pytest.raises(sdk_errors.Unauthenticated) as unknown:
            await stranger.jobs.get(NO_JOB)
    assert unknown.value.reason == Reason.API_KEY_INVALID

    mine = await admin.participants.create(forms(new_wallet())["non_bounceable"])
    theirs = await admin.participants.create(forms(new_wallet())["non_bounceable"])
    key = (await admin.api_keys.create("client", participant_id=mine.id)).key
    async with AsyncClient.connect(target, api_key=key) as client:
        with pytest.raises(sdk_errors.PermissionDenied) as role:
            [k async for k in client.api_keys.list()]
        assert role.value.reason == Reason.ROLE_NOT_ALLOWED
        with pytest.raises(sdk_errors.NotOwner):
            [w async for w in client.workers.list(theirs.id)]

    await admin.workers.create(mine.id, "twin", "localhost", stats_port=12000)
    with pytest.raises(sdk_errors.AlreadyExists) as twin:
        await admin.workers.create(mine.id, "twin", "localhost", stats_port=12000)
    assert twin.value.reason == Reason.WORKER_ALREADY_EXISTS

    job = await admin.jobs.submit("echo")
    miner = Miner(admin.channel, job_types=("echo",))
    registered = await admin.miners.register(miner.request)
    miner.id = registered.miner.id
    async with AsyncClient.connect(target, api_key=API_KEY, miner_token=registered.miner_token) as as_miner:
        with pytest.raises(sdk_errors.LeaseLost) as lost:  # never leased to this miner
            await as_miner.miners.submit_result(miner_pb.SubmitResultRequest(
                miner_id=miner.id, job_id=job.id, lease_token="not-a-lease", outcome="failed"))
    assert isinstance(lost.value, sdk_errors.FailedPrecondition) and lost.value.metadata == {"job_id": job.id}

    pool.job_changes.limit = 0  # this server may follow no more jobs
    try:
        with pytest.raises(sdk_errors.ResourceExhausted) as busy:
            await job.wait(timeout=5)  # not retried: only UNAVAILABLE is
    finally:
        pool.job_changes.limit = 10_000
    assert busy.value.reason == Reason.TOO_MANY_WATCHES and busy.value.retry_after_s >= 1
    await job.cancel()


async def test_a_batch_over_the_rpcs_limit_is_sent_in_chunks_and_again_stores_nothing_twice(admin, pool):
    """1,001 jobs: two BatchSubmitJobs calls (the rpc takes 1,000); the same specs sent again (a
    retry after a failure) return the same jobs, since each spec made its idempotency key."""
    specs = [JobSpec("echo", {"n": n}) for n in range(1001)]
    handles = await admin.jobs.submit_many(specs)
    assert [h.job.parameters["n"] for h in handles] == list(range(1001)) and len({h.id for h in handles}) == 1001
    assert [h.id for h in await admin.jobs.submit_many(specs)] == [h.id for h in handles]
    await cancel_open_jobs(pool.database)


async def test_every_call_has_a_deadline_per_client_and_per_call(admin, pool):
    target = f"127.0.0.1:{pool.grpc_port}"
    job = await admin.jobs.submit("echo")
    started = time.monotonic()
    with pytest.raises(sdk_errors.DeadlineExceeded):
        await job.wait(timeout=0.5)  # nobody runs it
    assert 0.5 <= time.monotonic() - started < 2.5 and job.job.status == "pending"
    with pytest.raises(sdk_errors.DeadlineExceeded):
        [j async for j in admin.jobs.watch(job.id, timeout=0.3)]

    registered = await admin.miners.register(Miner(admin.channel).request)
    await admin.workers.update(registered.miner.worker_id, is_active=False)  # so that it is offered nothing
    async with AsyncClient.connect(target, api_key=API_KEY, miner_token=registered.miner_token, timeout=1) as short:
        # A long poll of 5 s under the client's 1 s default deadline.
        request = miner_pb.FetchJobsRequest(miner_id=registered.miner.id, max_jobs=1,
                                            wait=duration_pb2.Duration(seconds=5))
        started = time.monotonic()
        with pytest.raises(sdk_errors.DeadlineExceeded):
            await short.call("/computepool.v1.MinerService/FetchJobs", request, miner_pb.FetchJobsResponse,
                             idempotent=False)
        assert time.monotonic() - started < 3
        # fetch's own deadline outlasts the wait it asks for, unless the call sets one.
        assert await short.miners.fetch(registered.miner.id, wait_s=1.5) == []
        with pytest.raises(sdk_errors.DeadlineExceeded):
            await short.miners.fetch(registered.miner.id, wait_s=5, timeout=0.3)
    await job.cancel()


async def test_a_wait_outlives_a_server_restart(database_url):
    """The server following the job stops mid-wait; the handle watches again (UNAVAILABLE is
    retried) and sees the job end on a new server on the same port."""
    settings = make_settings(database_url, secret_key="test-secret", stats_poll_interval_s=3600.0)
    first = build_server(settings)
    await first.start()
    port = first.grpc_port
    second = build_server(make_settings(database_url, secret_key="test-secret", stats_poll_interval_s=3600.0,
                                        grpc_port=port))
    retry = RetryPolicy(attempts=50, initial_backoff_s=0.05, max_backoff_s=0.2)
    try:
        async with AsyncClient.connect(f"127.0.0.1:{port}", api_key=API_KEY, retry=retry,
                                       options=FAST_RECONNECT) as client:
            job = await client.jobs.submit("echo", {"text": "across"})
            waiting = asyncio.create_task(job.wait(timeout=30))
            for _ in range(250):  # until the server follows the job (5 s at most)
                if first.job_changes.watched:
                    break
                await asyncio.sleep(0.02)
            assert first.job_changes.watched == 1
            await first.stop(0)
            await asyncio.sleep(0.5)
            assert not waiting.done()
            started = time.monotonic()
            with pytest.raises(sdk_errors.DeadlineExceeded):  # `timeout` bounds the whole wait, re-watches included
                await client.jobs.handle(job.id).wait(timeout=0.5)
            assert time.monotonic() - started < 1.5
            await second.start()
            await asyncio.wait_for(client.channel.channel_ready(), 10)  # CancelJob is not retried
            await client.jobs.cancel(job.id)
            assert (await asyncio.wait_for(waiting, 10)).status == "cancelled"
    finally:
        await first.stop(0)
        await second.stop(0)


@pytest.fixture
async def proxied_database():
    """A PostgreSQL database of this test's, reached through a TcpProxy: (proxy, URL through it)."""
    name, url = create_database()
    migrate.upgrade(url)
    direct = make_url(url)
    proxy = await TcpProxy(direct.host, direct.port or 5432).start()
    try:
        yield proxy, direct.set(port=proxy.port).render_as_string(hide_password=False)
    finally:
        proxy.resume()
        await proxy.cut()
        drop_database(name)


async def test_retries_wait_as_long_as_the_servers_retry_info_asks(proxied_database):
    """A database outage: the server answers UNAVAILABLE DATABASE_UNAVAILABLE with RetryInfo 1 s.
    The client's own backoff here is 10 ms for 4 attempts (spent in 30 ms), so only RetryInfo keeps
    its calls alive across an outage of 1.5 s. A resubmission with the same idempotency key gets the
    job submitted before the outage; a call that is not safe to repeat is refused at once.
    PostgreSQL only: an SQLite file has no connection to lose (it is unavailable only when locked by
    another process past a 30 s busy timeout)."""
    proxy, url = proxied_database
    server = build_server(make_settings(url, secret_key="test-secret"), background_duties=False)
    await server.start()
    retry = RetryPolicy(attempts=4, initial_backoff_s=0.01, max_backoff_s=0.01)
    try:
        async with AsyncClient.connect(f"127.0.0.1:{server.grpc_port}", api_key=API_KEY, retry=retry) as client:
            job = await client.jobs.submit("echo", idempotency_key="before-the-outage")
            await proxy.cut()
            started = time.monotonic()
            with pytest.raises(sdk_errors.DatabaseUnavailable) as down:
                await client.jobs.cancel(job.id)
            assert down.value.retry_after_s == 1 and time.monotonic() - started < 0.5
            reading = asyncio.create_task(client.jobs.get(job.id))
            resubmitting = asyncio.create_task(client.jobs.submit("echo", idempotency_key="before-the-outage"))
            await asyncio.sleep(1.5)
            assert not reading.done() and not resubmitting.done()
            await proxy.restore()
            assert (await asyncio.wait_for(reading, 10)).id == job.id
            assert (await asyncio.wait_for(resubmitting, 10)).id == job.id
            assert [j.id async for j in client.jobs.list()] == [job.id]
    finally:
        await server.stop(0)


async def test_a_stalled_database_meets_the_clients_deadline_and_each_pages(proxied_database):
    """The database answers nothing (PostgreSQL only, as above): a call ends at the client's
    default deadline, a list call at the deadline given for its pages; neither is retried."""
    proxy, url = proxied_database
    server = build_server(make_settings(url, secret_key="test-secret"), background_duties=False)
    await server.start()
    try:
        async with AsyncClient.connect(f"127.0.0.1:{server.grpc_port}", api_key=API_KEY, timeout=1.5) as client:
            job = await client.jobs.submit("echo")
            proxy.stall()
            for call, limit in ((client.jobs.get(job.id), 1.5),
                                (anext(aiter(client.jobs.list(timeout=0.2, page_size=1))), 0.2)):
                started = time.monotonic()
                with pytest.raises(sdk_errors.DeadlineExceeded):
                    await call
                assert limit <= time.monotonic() - started < limit + 1
            proxy.resume()
            assert [j.id async for j in client.jobs.list(timeout=5)] == [job.id]
    finally:
        proxy.resume()
        await server.stop(0)
