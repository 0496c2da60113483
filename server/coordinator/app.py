"""build_server(settings): the one place that wires the server together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from opentelemetry import trace
from prometheus_client import CollectorRegistry

from coordinator.alerts.incidents import AlertEvaluator
from coordinator.alerts.outbox import Sender, SenderConfig
from coordinator.alerts.preferences import Alerts, ChannelsAvailable
from coordinator.api.alerts import AlertServicer
from coordinator.api.api_keys import ApiKeyServicer
from coordinator.api.events import EventServicer
from coordinator.api.exchange import ExchangeServicer
from coordinator.api.interceptor import ApiInterceptor
from coordinator.api.jobs import JobServicer
from coordinator.api.live import LiveHttp
from coordinator.api.miners import MinerServicer
from coordinator.api.participants import ParticipantServicer
from coordinator.api.payouts import PayoutServicer
from coordinator.api.receipts import ReceiptServicer
from coordinator.api.reflection import enable_reflection
from coordinator.api.services import services
from coordinator.api.users import UserServicer
from coordinator.api.workers import WorkerServicer
from coordinator.events.bus import EventBus
from coordinator.exchange.payments import Exchange, ExchangeConfig, watch_forever
from coordinator.identity.api_keys import ApiKeys
from coordinator.identity.authenticator import Authenticator
from coordinator.identity.users import LoginPolicy, Users
from coordinator.market.config import Market
from coordinator.market.dispatch import reap_forever
from coordinator.market.dispatch_group import DispatchGroup
from coordinator.market.heartbeats import HeartbeatBuffer
from coordinator.market.jobs import JobChanges, Jobs, NewWork
from coordinator.market.receipts import ReceiptSigner
from coordinator.market.work import MinerWork
from coordinator.pool.metrics import PoolCollector, build_registry, refresh_forever
from coordinator.pool import payout_runs
from coordinator.pool.participants import Participants
from coordinator.pool.payouts import Payouts
from coordinator.pool.stats_poller import StatsPoller
from coordinator.pool.workers import Workers
from coordinator.settings import Settings
from coordinator.storage.database import Database
from coordinator.telemetry.observability import TRACER_NAME, RequestMetrics, trace_database, tracing_requested

# grpc.aio takes new calls from gRPC core one event-loop turn at a time; when thousands of miners
# open their heartbeat streams at once (a reconnect storm after a restart), a busy loop takes
# longer than core's default 30 s to take them all, and core then cancels the waiting calls
# (CANCELLED). Late is better than lost: a call may wait up to five minutes to be taken.
SERVER_OPTIONS = (("grpc.server_max_unrequested_time_in_server", 300),)
LEFTOVER_CALLS_WAIT_S = 5.0  # how long stop() lets grpc.aio's call tasks end by themselves (_calls_ended)

log = logging.getLogger(__name__)


@dataclass
class PoolServer:
    """A built server: start() binds and starts background duties, stop() drains and closes."""

    settings: Settings
    server: grpc.aio.Server
    database: Database
    health: health.aio.HealthServicer
    service_names: list[str]
    collector: PoolCollector
    registry: CollectorRegistry
    heartbeats: HeartbeatBuffer
    market: Market
    job_changes: JobChanges
    events: EventBus
    live: LiveHttp
    background: list = field(default_factory=list)  # coroutine factories run while serving
    grpc_port: int = 0
    metrics_port: int = 0
    _tasks: list[asyncio.Task] = field(default_factory=list)

    async def start(self) -> None:
        self.grpc_port = self.server.add_insecure_port(f"{self.settings.grpc_host}:{self.settings.grpc_port}")
        if self.grpc_port == 0:
            raise RuntimeError(f"cannot bind gRPC port {self.settings.grpc_host}:{self.settings.grpc_port}")
        await self.server.start()
        self.metrics_port = await self.live.start(self.settings.grpc_host, self.settings.metrics_port)
        self._tasks = [asyncio.create_task(factory()) for factory in self.background]
        for name in ["", *self.service_names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info("serving gRPC on %s:%d, metrics on %d", self.settings.grpc_host, self.grpc_port, self.metrics_port)

    async def refresh_metrics(self) -> None:
        await self.collector.refresh(self.database)

    async def stop(self, grace: float | None = None) -> None:
        """Stops taking new calls, lets in-flight calls finish within `grace`, then closes."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(self.settings.shutdown_grace_s if grace is None else grace)
        await _calls_ended(LEFTOVER_CALLS_WAIT_S)
        for task in self._tasks:
            task.cancel()
        await self.heartbeats.flush()  # heartbeats that arrived during the drain are not lost
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.live.stop()
        await self.database.close()


# The coroutines grpc.aio runs each call in (grpc/_cython/_cygrpc/aio/server.pyx.pxi).
GRPC_CALL_COROUTINES = frozenset({"_schedule_rpc_coro", "_handle_exceptions"})


async def _calls_ended(timeout_s: float) -> None:
    """grpc.aio's stop() returns once core has ended every call, but the tasks running them
    (thousands while miners hold heartbeat streams) end some loop turns later. Still pending
    when asyncio.run closes the loop, they deadlock it with grpc's poller thread and the process
    never exits; so they are awaited here, and cancelled if they do not end."""
    calls = {task for task in asyncio.all_tasks()
             if getattr(task.get_coro(), "__qualname__", "") in GRPC_CALL_COROUTINES}
    if calls:
        _, pending = await asyncio.wait(calls, timeout=timeout_s)
        log.info("stopped: %d call tasks ended, %d cancelled", len(calls) - len(pending), len(pending))
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=timeout_s)


def build_server(settings: Settings, *, background_duties: bool = True) -> PoolServer:
    signer = ReceiptSigner.from_settings(settings)  # first: a server without a key stops before opening anything
    database = Database(settings.database_url)
    authenticator = Authenticator(database, settings.api_keys)
    collector = PoolCollector(tuple(name for name, _ in settings.job_prices))
    registry = build_registry(collector)
    tracer = trace.get_tracer(TRACER_NAME) if tracing_requested() else None
    if tracer is not None:
        trace_database(database.engine, tracer)
    server = grpc.aio.server(interceptors=[ApiInterceptor(authenticator, RequestMetrics(registry), tracer)],
                             options=SERVER_OPTIONS)
    market = Market.from_settings(settings)
    events = EventBus(database)
    heartbeats = HeartbeatBuffer(database, market, settings.heartbeat_flush_s, events, tracer)
    new_work = NewWork()
    job_changes = JobChanges(database)
    dispatch_group = DispatchGroup(database, market, signer, events)  # submissions, claims, results
    exchange_config = ExchangeConfig.from_settings(settings)
    payout_policy = payout_runs.PayoutPolicy.from_settings(settings)
    sender_config = SenderConfig.from_settings(settings)
    servicers = {
        "AlertService": AlertServicer(Alerts(database, ChannelsAvailable(
            telegram=bool(sender_config.telegram_bot_token), email=sender_config.smtp is not None,
            webhook_private_addresses=sender_config.webhook_private_addresses))),
        "WorkerService": WorkerServicer(Workers(database, events)),
        "ParticipantService": ParticipantServicer(Participants(database, payout_policy.minimum_nanoton)),
        "PayoutService": PayoutServicer(Payouts(database), payout_runs.PayoutRuns(database, payout_policy, events)),
        "JobService": JobServicer(Jobs(database, market, new_work, job_changes, events, dispatch_group)),
        "MinerService": MinerServicer(
            MinerWork(database, market, heartbeats, new_work, job_changes, events, dispatch_group),
            settings.stream_messages_per_minute, tracer),
        "ReceiptService": ReceiptServicer(signer),
        "UserService": UserServicer(Users(database, LoginPolicy.from_settings(settings), authenticator)),
        "ApiKeyService": ApiKeyServicer(ApiKeys(database, authenticator)),
        "ExchangeService": ExchangeServicer(Exchange(database, exchange_config)),
        "EventService": EventServicer(events, collector),
    }
    missing = {service.name for service in services()} ^ set(servicers)
    if missing:  # a service in the protos with no servicer here, or a servicer for no service
        raise RuntimeError(f"servicers and the computepool.v1 services differ: {sorted(missing)}")
    for service in services():
        service.add_to_server(servicers[service.name], server)
    service_names = [service.full_name for service in services()]

    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    enable_reflection([*service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name], server)

    pool = PoolServer(settings=settings, server=server, database=database, health=health_servicer,
                      service_names=service_names, collector=collector, registry=registry, heartbeats=heartbeats,
                      market=market, job_changes=job_changes, events=events,
                      live=LiveHttp(registry, collector, authenticator, events, settings.live_max_subscribers,
                                    dashboard_dir=settings.dashboard_dir))
    pool.background.append(lambda: refresh_forever(collector, database))
    pool.background.append(events.run_forever)
    pool.background.append(heartbeats.run_forever)
    if background_duties:
        poller = StatsPoller(database, settings)
        pool.background.append(poller.run_forever)
        pool.background.append(AlertEvaluator(database, events, settings.alert_interval_s).run_forever)
        pool.background.append(Sender(database, sender_config).run_forever)
        pool.background.append(lambda: reap_forever(database, market, settings.reaper_interval_s, events))
        if exchange_config.xpub is not None and settings.bitcoin_rpc_url:
            pool.background.append(lambda: watch_forever(database, settings.bitcoin_rpc_url,
                                                         settings.bitcoin_confirmations, settings.bitcoin_poll_s))
        if payout_policy.interval_s > 0:
            pool.background.append(lambda: payout_runs.schedule_forever(database, events, payout_policy))
        if settings.ton_api_url and payout_policy.from_address:
            pool.background.append(lambda: payout_runs.watch_forever(
                database, events, settings.ton_api_url, settings.ton_api_key, payout_policy.from_address,
                settings.ton_watch_limit, settings.ton_watch_s))
    return pool
