"""WorkerService: converts and calls the pool's worker operations (pool/workers.Workers)."""

from __future__ import annotations

from computepool.v1 import worker_service_pb2 as pb
from computepool.v1 import worker_service_pb2_grpc as pb_grpc
from coordinator.api import convert, rest
from coordinator.pool import workers


class WorkerServicer(pb_grpc.WorkerServiceServicer):
    def __init__(self, workers_: workers.Workers):
        self.workers = workers_

    async def ListWorkers(self, request, context):
        views, next_token = await self.workers.list(request.participant_id, convert.optional(request, "is_active"),
                                                    convert.optional(request, "limit"), request.page_token)
        await rest.send_next_page_token(context, next_token)
        return pb.ListWorkersResponse(workers=[convert.worker(v) for v in views], next_page_token=next_token)

    async def GetWorker(self, request, context):
        return convert.worker(await self.workers.get(request.worker_id))

    async def WatchWorkers(self, request, context):
        async for view in self.workers.watch(request.participant_id):
            yield convert.worker(view)

    async def CreateWorker(self, request, context):
        new = workers.NewWorker(
            participant_id=request.participant_id, worker_name=request.worker_name,
            instance_number=request.instance_number, host=request.host, stats_port=request.stats_port,
            price_coefficient=convert.optional(request, "price_coefficient"),
            is_active=convert.optional(request, "is_active"))
        created = await self.workers.create(new)
        await rest.send_created(context)
        return convert.worker(created)

    async def UpdateWorker(self, request, context):
        changes = {name: getattr(request, name) for name in workers.UPDATABLE if request.HasField(name)}
        return convert.worker(await self.workers.update(request.worker_id, changes))

    async def GetWorkerMetrics(self, request, context):
        hours, samples = await self.workers.metrics(request.worker_id, convert.optional(request, "hours"))
        return pb.GetWorkerMetricsResponse(worker_id=request.worker_id, hours=hours,
                                           samples=[convert.sample(s) for s in samples])

    async def GetWorkerStats(self, request, context):
        worker, (day, week, month) = await self.workers.stats(request.worker_id)
        return pb.GetWorkerStatsResponse(
            worker_id=worker.id, latest_status=worker.latest_status,
            latest_seen_at=convert.timestamp(worker.latest_seen_at), last_24h=convert.window(day),
            last_7d=convert.window(week), last_30d=convert.window(month))


    async def GetWorkerDailyEarnings(self, request, context):
        worker, rows = await self.workers.daily_earnings(request.worker_id, convert.optional(request, "days"))
        days = convert.daily_earnings(worker.participant_id, rows).days
        return pb.GetWorkerDailyEarningsResponse(worker_id=worker.id, participant_id=worker.participant_id, days=days)
