"""EventService: the caller's events and the pool's figures as they change (gRPC, and Server-Sent
Events through Envoy)."""

from __future__ import annotations

import asyncio

from computepool.v1 import event_service_pb2_grpc as pb_grpc
from coordinator.api import convert
from coordinator.errors import InvalidArgument
from coordinator.events.bus import EventBus, checked_types, watch
from coordinator.identity.callers import current_caller
from coordinator.pool.metrics import PoolCollector

INTERVAL_S = (1.0, 60.0, 5.0)  # WatchPoolMetrics interval: least, most, default


def checked_interval(value: float | None, field: str) -> float:
    interval = INTERVAL_S[2] if value is None else value
    if not INTERVAL_S[0] <= interval <= INTERVAL_S[1]:
        raise InvalidArgument.field(field, f"must be between {INTERVAL_S[0]:g} and {INTERVAL_S[1]:g} seconds")
    return interval


class EventServicer(pb_grpc.EventServiceServicer):
    def __init__(self, bus: EventBus, collector: PoolCollector):
        self.bus, self.collector = bus, collector

    async def WatchEvents(self, request, context):
        async for event in watch(self.bus, current_caller.get(), checked_types(list(request.types))):
            yield convert.event(event)

    async def WatchPoolMetrics(self, request, context):
        interval = checked_interval(convert.optional(request, "interval_seconds"), "interval_seconds")
        caller = current_caller.get()
        while True:
            yield convert.pool_metrics(self.collector, caller)
            await asyncio.sleep(interval)
