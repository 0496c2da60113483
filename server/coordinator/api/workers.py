"""WorkerService."""

from __future__ import annotations

from computepool.v1 import worker_service_pb2 as pb
from computepool.v1 import worker_service_pb2_grpc as pb_grpc
from coordinator.api import convert, rest
from coordinator.identity.callers import require_owner, scoped_participant_filter
from coordinator.pool import workers
from coordinator.storage.database import Database


async def owned_worker(session, worker_id: int):
    worker = await workers.get_worker(session, worker_id)
    require_owner(worker.participant_id, "worker")
    return worker


class WorkerServicer(pb_grpc.WorkerServiceServicer):
    def __init__(self, database: Database):
        self.database = database

    async def ListWorkers(self, request, context):
        async with self.database.transaction() as session:
            rows, next_token = await workers.list_workers(
                session, scoped_participant_filter(request.participant_id), convert.optional(request, "is_active"),
                convert.optional(request, "limit"), request.page_token)
            revenue = await workers.revenue_of(session, rows)
            response = pb.ListWorkersResponse(workers=[convert.worker(w, revenue[w.id]) for w in rows],
                                              next_page_token=next_token)
        await rest.send_next_page_token(context, next_token)
        return response

    async def GetWorker(self, request, context):
        async with self.database.transaction() as session:
            worker, revenue = await workers.get_worker_and_revenue(session, request.worker_id)
            require_owner(worker.participant_id, "worker")
            return convert.worker(worker, revenue)

    @staticmethod
    async def _shown(session, worker) -> pb.Worker:
        return convert.worker(worker, (await workers.revenue_of(session, [worker]))[worker.id])

    async def CreateWorker(self, request, context):
        new = workers.NewWorker(
            participant_id=request.participant_id, worker_name=request.worker_name,
            instance_number=request.instance_number, host=request.host, stats_port=request.stats_port,
            price_coefficient=convert.optional(request, "price_coefficient"),
            is_active=convert.optional(request, "is_active"))
        require_owner(request.participant_id, "participant")
        async with self.database.transaction() as session:
            shown = await self._shown(session, await workers.create_worker(session, new))
        await rest.send_created(context)
        return shown

    async def UpdateWorker(self, request, context):
        changes = {name: getattr(request, name) for name in workers.UPDATABLE if request.HasField(name)}
        async with self.database.transaction() as session:
            await owned_worker(session, request.worker_id)
            return await self._shown(session, await workers.update_worker(session, request.worker_id, changes))

    async def GetWorkerMetrics(self, request, context):
        async with self.database.transaction() as session:
            await owned_worker(session, request.worker_id)
            hours, samples = await workers.worker_metrics(session, request.worker_id, convert.optional(request, "hours"))
            return pb.GetWorkerMetricsResponse(worker_id=request.worker_id, hours=hours,
                                               samples=[convert.sample(s) for s in samples])

    async def GetWorkerStats(self, request, context):
        async with self.database.transaction() as session:
            await owned_worker(session, request.worker_id)
            worker, (day, week, month) = await workers.worker_stats(session, request.worker_id)
            return pb.GetWorkerStatsResponse(
                worker_id=worker.id, latest_status=worker.latest_status,
                latest_seen_at=convert.timestamp(worker.latest_seen_at), last_24h=convert.window(day),
                last_7d=convert.window(week), last_30d=convert.window(month))
