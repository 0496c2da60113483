"""AsyncClient: every rpc of the coordinator as a typed method, grouped by resource.

This is the one hand-written client: computepool/_sync/client.py (Client, the blocking twin) is
generated from it by `make gen` (unasync: `async`/`await` dropped, Async* names made plain) and
checked for drift by `make check-gen`. Responses are the generated messages of computepool.v1.
"""

from __future__ import annotations

import builtins
import datetime as dt
import time
from typing import Any, AsyncIterator, Iterable, Sequence, TypeVar

import grpc
from google.api import httpbody_pb2
from google.protobuf import duration_pb2, json_format
from google.protobuf.message import Message

from computepool._async import transport
from computepool._retry import RetryPolicy
from computepool.errors import ComputepoolError, DeadlineExceeded, from_rpc_error
from computepool.jobs import MAX_BATCH, TERMINAL, JobFailed, JobSpec
from computepool.v1 import alert_service_pb2 as alert_pb
from computepool.v1 import api_key_service_pb2 as api_key_pb
from computepool.v1 import event_service_pb2 as event_pb
from computepool.v1 import exchange_service_pb2 as exchange_pb
from computepool.v1 import job_pb2
from computepool.v1 import job_service_pb2 as job_pb
from computepool.v1 import miner_service_pb2 as miner_pb
from computepool.v1 import participant_service_pb2 as participant_pb
from computepool.v1 import payout_service_pb2 as payout_pb
from computepool.v1 import receipt_service_pb2 as receipt_pb
from computepool.v1 import user_service_pb2 as user_pb
from computepool.v1 import worker_service_pb2 as worker_pb

Response = TypeVar("Response", bound=Message)
DEFAULT_TIMEOUT_S = 30.0
PAGE_SIZE = 100


class AsyncClient:
    """A connection to a coordinator's gRPC API (port 50051, or Envoy's 8000).

    Credentials: `api_key` (x-api-key), `session_token` (a wallet login's), `miner_token` (a
    registered miner's). `tls`: True for the system's roots, or grpc.ChannelCredentials.
    Every call has a deadline (`timeout`, overridable per call); calls that are safe to repeat
    are retried on UNAVAILABLE as `retry` says. Close it, or use it as a context manager."""

    def __init__(self, target: str, *, api_key: str | None = None, session_token: str | None = None,
                 miner_token: str | None = None, tls: bool | grpc.ChannelCredentials = False,
                 timeout: float = DEFAULT_TIMEOUT_S, retry: RetryPolicy = RetryPolicy(),
                 options: Sequence[tuple[str, Any]] = ()):
        credentials = grpc.ssl_channel_credentials() if tls is True else (tls or None)
        self.channel = transport.open_channel(target, credentials, options)
        self.timeout = timeout
        self.retry = retry
        self.metadata: tuple[tuple[str, str], ...] = tuple(
            (key, value) for key, value in (("x-api-key", api_key), ("x-session-token", session_token),
                                            ("x-miner-token", miner_token)) if value)
        self.jobs = AsyncJobs(self)
        self.workers = AsyncWorkers(self)
        self.participants = AsyncParticipants(self)
        self.payouts = AsyncPayouts(self)
        self.receipts = AsyncReceipts(self)
        self.api_keys = AsyncApiKeys(self)
        self.exchange = AsyncExchange(self)
        self.users = AsyncUsers(self)
        self.miners = AsyncMiners(self)
        self.events = AsyncEvents(self)
        self.alerts = AsyncAlerts(self)

    @classmethod
    def connect(cls, target: str, **options: Any) -> AsyncClient:
        """The same as AsyncClient(target, ...): the channel connects on the first call."""
        return cls(target, **options)

    async def close(self) -> None:
        """Closes the channel; calls in flight are cancelled."""
        await transport.close_channel(self.channel)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def call(self, method: str, request: Message, response_type: type[Response], *, idempotent: bool,
                   timeout: float | None = None) -> Response:
        """One unary rpc (`method`: "/computepool.v1.JobService/SubmitJob"), retried while
        UNAVAILABLE if `idempotent`; a refusal raises its ComputepoolError."""
        rpc = self.channel.unary_unary(method, request_serializer=_serialize,
                                       response_deserializer=response_type.FromString)
        attempt = 0
        while True:
            try:
                response: Response = await rpc(request, metadata=self.metadata, timeout=timeout or self.timeout)
                return response
            except grpc.RpcError as error:
                failure = from_rpc_error(error)
                delay = self.retry.delay(attempt, failure) if idempotent else None
                if delay is None:
                    raise failure from None
            attempt += 1
            await transport.sleep(delay)

    async def pages(self, method: str, request: Message, response_type: type[Response], items: str, *,
                    timeout: float | None = None) -> AsyncIterator[Any]:
        """Every item (the repeated field `items`) of a paged list rpc: the request is sent again
        with each reply's next_page_token until there is none. `timeout` is each page's deadline."""
        while True:
            page = await self.call(method, request, response_type, idempotent=True, timeout=timeout)
            for item in getattr(page, items):
                yield item
            token = getattr(page, "next_page_token")
            if not token:
                return
            setattr(request, "page_token", token)

    async def stream(self, method: str, request: Message, response_type: type[Response], *,
                     timeout: float | None = None) -> AsyncIterator[Response]:
        """The messages of a server-streaming rpc, until it ends (no deadline unless `timeout`)."""
        rpc = self.channel.unary_stream(method, request_serializer=_serialize,
                                        response_deserializer=response_type.FromString)
        try:
            async for response in rpc(request, metadata=self.metadata, timeout=timeout):
                yield response
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None


class AsyncJobHandle:
    """A submitted job: `job` is its state when last seen, `id` its UUID."""

    def __init__(self, jobs: AsyncJobs, job: job_pb2.Job):
        self.jobs = jobs
        self.job = job
        self.id = job.id

    async def status(self) -> job_pb2.Job:
        """The job now."""
        self.job = await self.jobs.get(self.id)
        return self.job

    async def wait(self, timeout: float | None = None) -> job_pb2.Job:
        """The job once it is terminal (completed, failed, cancelled, expired), following it with
        WatchJob (no polling); DeadlineExceeded (a TimeoutError) once `timeout` seconds have
        passed, however often a dropped stream had to be watched again. A stream dropped while
        the coordinator is UNAVAILABLE is watched again as the client's RetryPolicy says,
        counting afresh after each message, so a long wait outlives any number of restarts."""
        deadline = None if timeout is None else time.monotonic() + timeout
        attempt = 0
        while self.job.status not in TERMINAL:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise DeadlineExceeded(f"job {self.id} is still {self.job.status} after {timeout} s",
                                       code=grpc.StatusCode.DEADLINE_EXCEEDED)
            try:
                async for job in self.jobs.watch(self.id, timeout=remaining):
                    self.job = job
                    attempt = 0
            except ComputepoolError as failure:
                delay = self.jobs.client.retry.delay(attempt, failure)
                if delay is None:
                    raise
                attempt += 1
                await transport.sleep(delay if remaining is None else min(delay, remaining))
        return self.job

    async def result(self, timeout: float | None = None) -> dict[str, Any]:
        """The result the miner returned, once completed; JobFailed if it failed, was cancelled or
        expired."""
        job = await self.wait(timeout)
        if job.status != "completed":
            raise JobFailed(job)
        (receipt,) = await self.receipts()
        result: dict[str, Any] = json_format.MessageToDict(receipt.result)
        return result

    async def receipts(self) -> list[job_pb2.Receipt]:
        """The job's receipt once completed (verify it offline with computepool.verify_receipt)."""
        return await self.jobs.receipts(self.id)

    async def cancel(self) -> job_pb2.Job:
        """Cancels the job; JobAlreadyTerminal if it already ended."""
        self.job = await self.jobs.cancel(self.id)
        return self.job


class AsyncJobs:
    """JobService: submit, follow and cancel jobs (a client key, or admin)."""

    def __init__(self, client: AsyncClient):
        self.client = client

    async def submit(self, job_type: str, parameters: dict[str, Any] | None = None, *,
                     timeout: float | None = None, **options: Any) -> AsyncJobHandle:
        """Submits one job (options: the fields of computepool.JobSpec) and returns its handle.
        Retried on UNAVAILABLE under its idempotency key, so a lost reply never makes two jobs."""
        request = JobSpec(job_type, parameters or {}, **options).to_request()
        job = await self.client.call("/computepool.v1.JobService/SubmitJob", request, job_pb2.Job,
                                     idempotent=True, timeout=timeout)
        return AsyncJobHandle(self, job)

    async def submit_many(self, specs: Iterable[JobSpec], *, timeout: float | None = None
                          ) -> builtins.list[AsyncJobHandle]:
        """Submits jobs in batches of up to 1,000 (each batch all or nothing: a bad job refuses
        its batch with ValidationError naming jobs[i]); the handles in the order given."""
        requests = [spec.to_request() for spec in specs]
        handles = []
        for start in range(0, len(requests), MAX_BATCH):
            batch = job_pb.BatchSubmitJobsRequest(jobs=requests[start:start + MAX_BATCH])
            response = await self.client.call("/computepool.v1.JobService/BatchSubmitJobs", batch,
                                              job_pb.BatchSubmitJobsResponse, idempotent=True, timeout=timeout)
            handles += [AsyncJobHandle(self, job) for job in response.jobs]
        return handles

    def handle(self, job_id: str) -> AsyncJobHandle:
        """A handle on a job submitted earlier (nothing is called until its methods are)."""
        return AsyncJobHandle(self, job_pb2.Job(id=job_id, status="pending"))

    async def get(self, job_id: str, *, timeout: float | None = None) -> job_pb2.Job:
        """The job with its status; JobNotFound if it does not exist or is another client's."""
        return await self.client.call("/computepool.v1.JobService/GetJobStatus",
                                      job_pb.GetJobStatusRequest(job_id=job_id), job_pb2.Job, idempotent=True,
                                      timeout=timeout)

    async def list(self, status: str = "", *, page_size: int = PAGE_SIZE,
                   timeout: float | None = None) -> AsyncIterator[job_pb2.Job]:
        """The caller's jobs, newest first (only `status` when given), every page (`timeout`: each page's)."""
        async for job in self.client.pages("/computepool.v1.JobService/ListJobs", job_pb.ListJobsRequest(
                status=status, limit=page_size), job_pb.ListJobsResponse, "jobs", timeout=timeout):
            yield job

    async def receipts(self, job_id: str, *, timeout: float | None = None) -> builtins.list[job_pb2.Receipt]:
        """The job's receipts (one once completed)."""
        response = await self.client.call("/computepool.v1.JobService/ListJobReceipts",
                                          job_pb.ListJobReceiptsRequest(job_id=job_id),
                                          job_pb.ListJobReceiptsResponse, idempotent=True, timeout=timeout)
        return list(response.receipts)

    async def cancel(self, job_id: str, *, timeout: float | None = None) -> job_pb2.Job:
        """Cancels a job not yet terminal; JobAlreadyTerminal otherwise."""
        return await self.client.call("/computepool.v1.JobService/CancelJob", job_pb.CancelJobRequest(job_id=job_id),
                                      job_pb2.Job, idempotent=False, timeout=timeout)

    async def watch(self, job_id: str, *, timeout: float | None = None) -> AsyncIterator[job_pb2.Job]:
        """The job now, then at each status change, ending once it is terminal."""
        async for job in self.client.stream("/computepool.v1.JobService/WatchJob",
                                            job_pb.WatchJobRequest(job_id=job_id), job_pb2.Job, timeout=timeout):
            yield job


class AsyncWorkers:
    """WorkerService: the pool's workers (admin, or the owning participant)."""

    def __init__(self, client: AsyncClient):
        self.client = client

    async def list(self, participant_id: int = 0, *, is_active: bool | None = None, page_size: int = PAGE_SIZE,
                   timeout: float | None = None) -> AsyncIterator[worker_pb.Worker]:
        """Workers (of one participant when given), every page (`timeout`: each page's)."""
        request = worker_pb.ListWorkersRequest(participant_id=participant_id, limit=page_size)
        _set_present(request, is_active=is_active)
        async for worker in self.client.pages("/computepool.v1.WorkerService/ListWorkers", request,
                                              worker_pb.ListWorkersResponse, "workers", timeout=timeout):
            yield worker

    async def get(self, worker_id: int, *, timeout: float | None = None) -> worker_pb.Worker:
        """One worker with its latest status and revenue; WorkerNotFound if there is none."""
        return await self.client.call("/computepool.v1.WorkerService/GetWorker",
                                      worker_pb.GetWorkerRequest(worker_id=worker_id), worker_pb.Worker,
                                      idempotent=True, timeout=timeout)

    async def create(self, participant_id: int, worker_name: str, host: str, *, instance_number: int = 0,
                     stats_port: int = 0, price_coefficient: float | None = None, is_active: bool | None = None,
                     timeout: float | None = None) -> worker_pb.Worker:
        """Adds a worker (admin); AlreadyExists for the same participant, name and instance."""
        request = worker_pb.CreateWorkerRequest(participant_id=participant_id, worker_name=worker_name,
                                                instance_number=instance_number, host=host, stats_port=stats_port)
        _set_present(request, price_coefficient=price_coefficient, is_active=is_active)
        return await self.client.call("/computepool.v1.WorkerService/CreateWorker", request, worker_pb.Worker,
                                      idempotent=False, timeout=timeout)

    async def update(self, worker_id: int, *, is_active: bool | None = None, price_coefficient: float | None = None,
                     worker_name: str | None = None, instance_number: int | None = None, host: str | None = None,
                     stats_port: int | None = None, timeout: float | None = None) -> worker_pb.Worker:
        """Changes only the fields given."""
        request = worker_pb.UpdateWorkerRequest(worker_id=worker_id)
        _set_present(request, is_active=is_active, price_coefficient=price_coefficient, worker_name=worker_name,
                     instance_number=instance_number, host=host, stats_port=stats_port)
        return await self.client.call("/computepool.v1.WorkerService/UpdateWorker", request, worker_pb.Worker,
                                      idempotent=True, timeout=timeout)

    async def metrics(self, worker_id: int, *, hours: int | None = None,
                      timeout: float | None = None) -> worker_pb.GetWorkerMetricsResponse:
        """The worker's stored samples over the last `hours` (server default 24)."""
        request = worker_pb.GetWorkerMetricsRequest(worker_id=worker_id)
        _set_present(request, hours=hours)
        return await self.client.call("/computepool.v1.WorkerService/GetWorkerMetrics", request,
                                      worker_pb.GetWorkerMetricsResponse, idempotent=True, timeout=timeout)

    async def stats(self, worker_id: int, *, timeout: float | None = None) -> worker_pb.GetWorkerStatsResponse:
        """Uptime, utilisation and revenue over 24 h, 7 d and 30 d."""
        return await self.client.call("/computepool.v1.WorkerService/GetWorkerStats",
                                      worker_pb.GetWorkerStatsRequest(worker_id=worker_id),
                                      worker_pb.GetWorkerStatsResponse, idempotent=True, timeout=timeout)

    async def daily_earnings(self, worker_id: int, days: int = 30, *, timeout: float | None = None
                             ) -> worker_pb.GetWorkerDailyEarningsResponse:
        """The worker's earnings per UTC day over the last `days` days, newest first."""
        return await self.client.call("/computepool.v1.WorkerService/GetWorkerDailyEarnings",
                                      worker_pb.GetWorkerDailyEarningsRequest(worker_id=worker_id, days=days),
                                      worker_pb.GetWorkerDailyEarningsResponse, idempotent=True, timeout=timeout)

    async def watch(self, participant_id: int, *, timeout: float | None = None) -> AsyncIterator[worker_pb.Worker]:
        """The participant's workers now, then each again whenever it changes (status, a
        heartbeat's figures, a miner registered). Runs until you stop iterating."""
        async for worker in self.client.stream("/computepool.v1.WorkerService/WatchWorkers",
                                               worker_pb.WatchWorkersRequest(participant_id=participant_id),
                                               worker_pb.Worker, timeout=timeout):
            yield worker


class AsyncParticipants:
    """ParticipantService: the GPU owners, by TON wallet."""

    def __init__(self, client: AsyncClient):
        self.client = client

    async def list(self, *, page_size: int = PAGE_SIZE,
                   timeout: float | None = None) -> AsyncIterator[participant_pb.Participant]:
        """Participants the caller may see, every page (`timeout`: each page's)."""
        async for participant in self.client.pages("/computepool.v1.ParticipantService/ListParticipants",
                                                   participant_pb.ListParticipantsRequest(limit=page_size),
                                                   participant_pb.ListParticipantsResponse, "participants",
                                                   timeout=timeout):
            yield participant

    async def get(self, participant_id: int, *, timeout: float | None = None) -> participant_pb.Participant:
        """One participant with its totals; ParticipantNotFound if there is none."""
        return await self.client.call("/computepool.v1.ParticipantService/GetParticipant",
                                      participant_pb.GetParticipantRequest(participant_id=participant_id),
                                      participant_pb.Participant, idempotent=True, timeout=timeout)

    async def get_by_wallet(self, wallet_address: str, *, timeout: float | None = None
                            ) -> participant_pb.Participant:
        """The participant of a TON wallet (any of its address forms)."""
        return await self.client.call("/computepool.v1.ParticipantService/GetParticipantByWallet",
                                      participant_pb.GetParticipantByWalletRequest(wallet_address=wallet_address),
                                      participant_pb.Participant, idempotent=True, timeout=timeout)

    async def create(self, ton_wallet_address: str, *, telegram_user_id: int = 0, username: str = "",
                     email: str = "", timeout: float | None = None) -> participant_pb.Participant:
        """Registers a participant (admin); AlreadyExists for a wallet already registered."""
        request = participant_pb.CreateParticipantRequest(ton_wallet_address=ton_wallet_address,
                                                          telegram_user_id=telegram_user_id, username=username,
                                                          email=email)
        return await self.client.call("/computepool.v1.ParticipantService/CreateParticipant", request,
                                      participant_pb.Participant, idempotent=False, timeout=timeout)

    async def set_payout_threshold(self, participant_id: int, payout_threshold_nanoton: int, *,
                                   timeout: float | None = None) -> participant_pb.Participant:
        """The owed balance at which a run pays the participant: at least the pool minimum
        (0: the pool minimum); InvalidArgument below it."""
        request = participant_pb.UpdatePayoutThresholdRequest(participant_id=participant_id,
                                                              payout_threshold_nanoton=payout_threshold_nanoton)
        return await self.client.call("/computepool.v1.ParticipantService/UpdatePayoutThreshold", request,
                                      participant_pb.Participant, idempotent=True, timeout=timeout)

    async def balance_changes(self, participant_id: int, *, page_size: int = PAGE_SIZE,
                              timeout: float | None = None) -> AsyncIterator[participant_pb.BalanceChange]:
        """Every movement of what the pool owes the participant, newest first, every page."""
        async for change in self.client.pages("/computepool.v1.ParticipantService/ListBalanceChanges",
                                              participant_pb.ListBalanceChangesRequest(
                                                  participant_id=participant_id, limit=page_size),
                                              participant_pb.ListBalanceChangesResponse, "changes", timeout=timeout):
            yield change

    async def daily_earnings(self, participant_id: int, days: int = 30, *, timeout: float | None = None
                             ) -> participant_pb.GetDailyEarningsResponse:
        """Earnings per UTC day (and per worker) over the last `days` days, newest first."""
        return await self.client.call("/computepool.v1.ParticipantService/GetDailyEarnings",
                                      participant_pb.GetDailyEarningsRequest(participant_id=participant_id, days=days),
                                      participant_pb.GetDailyEarningsResponse, idempotent=True, timeout=timeout)


class AsyncPayouts:
    """PayoutService: what was paid to participants, their tax reports, and payout runs."""

    def __init__(self, client: AsyncClient):
        self.client = client

    async def list(self, participant_id: int = 0, *, status: str = "", page_size: int = PAGE_SIZE,
                   timeout: float | None = None) -> AsyncIterator[payout_pb.Payout]:
        """Payouts (of one participant, in one status, when given), newest first, every page
        (`timeout`: each page's)."""
        async for payout in self.client.pages("/computepool.v1.PayoutService/ListPayouts", payout_pb.ListPayoutsRequest(
                participant_id=participant_id, status=status, limit=page_size), payout_pb.ListPayoutsResponse, "payouts",
                timeout=timeout):
            yield payout

    async def get(self, payout_id: int, *, timeout: float | None = None) -> payout_pb.Payout:
        """One payout; PayoutNotFound if there is none."""
        return await self.client.call("/computepool.v1.PayoutService/GetPayout",
                                      payout_pb.GetPayoutRequest(payout_id=payout_id), payout_pb.Payout,
                                      idempotent=True, timeout=timeout)

    async def create(self, participant_id: int, transaction_hash: str, *, from_address: str, to_address: str,
                     transaction_time: dt.datetime, period_start: dt.datetime, period_end: dt.datetime,
                     amount_ton: float | None = None, amount_nanoton: int | None = None, amount_usd: float = 0.0,
                     timeout: float | None = None) -> payout_pb.Payout:
        """Records a payout (admin). Idempotent on `transaction_hash`, so it is retried on
        UNAVAILABLE; the same hash with other content is a conflict (PAYOUT_CONFLICT)."""
        request = payout_pb.CreatePayoutRequest(participant_id=participant_id, transaction_hash=transaction_hash,
                                                amount_usd=amount_usd, from_address=from_address,
                                                to_address=to_address)
        _set_present(request, amount_ton=amount_ton, amount_nanoton=amount_nanoton)
        request.transaction_time.FromDatetime(transaction_time)
        request.period_start.FromDatetime(period_start)
        request.period_end.FromDatetime(period_end)
        return await self.client.call("/computepool.v1.PayoutService/CreatePayout", request, payout_pb.Payout,
                                      idempotent=True, timeout=timeout)

    async def summary(self, participant_id: int, *, timeout: float | None = None
                      ) -> payout_pb.GetPayoutSummaryResponse:
        """Totals of a participant's payouts."""
        return await self.client.call("/computepool.v1.PayoutService/GetPayoutSummary",
                                      payout_pb.GetPayoutSummaryRequest(participant_id=participant_id),
                                      payout_pb.GetPayoutSummaryResponse, idempotent=True, timeout=timeout)

    async def tax_report(self, participant_id: int, year: int, *, timeout: float | None = None) -> bytes:
        """The year's tax report as CSV bytes."""
        body: Any = await self.client.call("/computepool.v1.PayoutService/ExportTaxReport",
                                      payout_pb.ExportTaxReportRequest(participant_id=participant_id, year=year),
                                      httpbody_pb2.HttpBody, idempotent=True, timeout=timeout)
        data: bytes = body.data
        return data

    async def run(self, *, timeout: float | None = None) -> payout_pb.PayoutRun:
        """Runs payouts now (admin): a pending payout for each participant owed at least its
        threshold. Not retried: a second run would find nothing more to pay, but says so."""
        return await self.client.call("/computepool.v1.PayoutService/CreatePayoutRun",
                                      payout_pb.CreatePayoutRunRequest(), payout_pb.PayoutRun, idempotent=False,
                                      timeout=timeout)

    async def runs(self, *, page_size: int = PAGE_SIZE, timeout: float | None = None
                   ) -> AsyncIterator[payout_pb.PayoutRun]:
        """Payout runs, newest first, every page (admin)."""
        async for run in self.client.pages("/computepool.v1.PayoutService/ListPayoutRuns",
                                           payout_pb.ListPayoutRunsRequest(limit=page_size),
                                           payout_pb.ListPayoutRunsResponse, "runs", timeout=timeout):
            yield run

    async def get_run(self, run_id: int, *, timeout: float | None = None) -> payout_pb.PayoutRun:
        """One payout run with its payouts (admin)."""
        return await self.client.call("/computepool.v1.PayoutService/GetPayoutRun",
                                      payout_pb.GetPayoutRunRequest(run_id=run_id), payout_pb.PayoutRun,
                                      idempotent=True, timeout=timeout)

    async def export_run(self, run_id: int, export_format: str = "csv", *, timeout: float | None = None) -> bytes:
        """The run's pending payouts for the wallet, as CSV or JSON bytes (admin)."""
        body: Any = await self.client.call("/computepool.v1.PayoutService/ExportPayoutRun",
                                           payout_pb.ExportPayoutRunRequest(run_id=run_id, format=export_format),
                                           httpbody_pb2.HttpBody, idempotent=True, timeout=timeout)
        data: bytes = body.data
        return data

    async def set_status(self, payout_id: int, status: str, *, transaction_hash: str = "", failure_reason: str = "",
                         timeout: float | None = None) -> payout_pb.Payout:
        """Marks a run's payout "sent" (with its transaction hash), "confirmed" or "failed"
        (admin). Idempotent: the same status and hash again changes nothing."""
        request = payout_pb.UpdatePayoutStatusRequest(payout_id=payout_id, status=status,
                                                      transaction_hash=transaction_hash,
                                                      failure_reason=failure_reason)
        return await self.client.call("/computepool.v1.PayoutService/UpdatePayoutStatus", request,
                                      payout_pb.Payout, idempotent=True, timeout=timeout)


class AsyncReceipts:
    """ReceiptService: the coordinator's public key, and verification by the server. To verify
    offline, with only the key, use computepool.verify_receipt."""

    def __init__(self, client: AsyncClient):
        self.client = client

    async def public_key(self, *, timeout: float | None = None) -> receipt_pb.GetCoordinatorKeyResponse:
        """The key receipts are signed with (base64 `public_key`, `key_id`, `encoding`)."""
        return await self.client.call("/computepool.v1.ReceiptService/GetCoordinatorKey",
                                      receipt_pb.GetCoordinatorKeyRequest(), receipt_pb.GetCoordinatorKeyResponse,
                                      idempotent=True, timeout=timeout)

    async def verify(self, receipt: job_pb2.Receipt, *, timeout: float | None = None
                     ) -> receipt_pb.VerifyReceiptResponse:
        """The server's verdict (`valid`, `reason`)."""
        return await self.client.call("/computepool.v1.ReceiptService/VerifyReceipt",
                                      receipt_pb.VerifyReceiptRequest(receipt=receipt),
                                      receipt_pb.VerifyReceiptResponse, idempotent=True, timeout=timeout)


class AsyncApiKeys:
    """ApiKeyService: API keys (admin only)."""

    def __init__(self, client: AsyncClient):
        self.client = client

    async def create(self, role: str, *, participant_id: int = 0, label: str = "",
                     timeout: float | None = None) -> api_key_pb.CreateApiKeyResponse:
        """A new key (`key` is shown only now); role admin, client or miner."""
        request = api_key_pb.CreateApiKeyRequest(role=role, participant_id=participant_id, label=label)
        return await self.client.call("/computepool.v1.ApiKeyService/CreateApiKey", request,
                                      api_key_pb.CreateApiKeyResponse, idempotent=False, timeout=timeout)

    async def list(self, *, page_size: int = PAGE_SIZE, timeout: float | None = None
                   ) -> AsyncIterator[api_key_pb.ApiKey]:
        """Every key (never the secret), newest first, every page (`timeout`: each page's)."""
        async for key in self.client.pages("/computepool.v1.ApiKeyService/ListApiKeys",
                                           api_key_pb.ListApiKeysRequest(limit=page_size),
                                           api_key_pb.ListApiKeysResponse, "api_keys", timeout=timeout):
            yield key

    async def revoke(self, api_key_id: int, *, timeout: float | None = None) -> api_key_pb.ApiKey:
        """Revokes a key at once."""
        return await self.client.call("/computepool.v1.ApiKeyService/RevokeApiKey",
                                      api_key_pb.RevokeApiKeyRequest(api_key_id=api_key_id), api_key_pb.ApiKey,
                                      idempotent=True, timeout=timeout)


class AsyncExchange:
    """ExchangeService: buying AITBC credits with Bitcoin (a wallet session)."""

    def __init__(self, client: AsyncClient):
        self.client = client

    async def create_payment(self, *, amount_aitbc: float = 0.0, amount_sat: int = 0,
                             timeout: float | None = None) -> exchange_pb.Payment:
        """A payment request: the address and BIP21 URI to pay."""
        request = exchange_pb.CreatePaymentRequest(amount_aitbc=amount_aitbc, amount_sat=amount_sat)
        return await self.client.call("/computepool.v1.ExchangeService/CreatePayment", request, exchange_pb.Payment,
                                      idempotent=False, timeout=timeout)

    async def get_payment(self, payment_id: str, *, timeout: float | None = None) -> exchange_pb.Payment:
        """A payment with its status."""
        return await self.client.call("/computepool.v1.ExchangeService/GetPaymentStatus",
                                      exchange_pb.GetPaymentStatusRequest(payment_id=payment_id),
                                      exchange_pb.Payment, idempotent=True, timeout=timeout)

    async def confirm_payment(self, payment_id: str, *, txid: str, received_sat: int, confirmations: int,
                              timeout: float | None = None) -> exchange_pb.Payment:
        """Confirms a payment by hand (admin), crediting its AITBC once."""
        request = exchange_pb.ConfirmPaymentRequest(payment_id=payment_id, txid=txid, received_sat=received_sat,
                                                    confirmations=confirmations)
        return await self.client.call("/computepool.v1.ExchangeService/ConfirmPayment", request,
                                      exchange_pb.Payment, idempotent=True, timeout=timeout)


class AsyncUsers:
    """UserService: wallet login (TON Connect ton_proof), the caller, balances."""

    def __init__(self, client: AsyncClient):
        self.client = client

    async def login_challenge(self, *, timeout: float | None = None) -> user_pb.CreateLoginChallengeResponse:
        """A payload for the wallet to sign in its ton_proof."""
        return await self.client.call("/computepool.v1.UserService/CreateLoginChallenge",
                                      user_pb.CreateLoginChallengeRequest(), user_pb.CreateLoginChallengeResponse,
                                      idempotent=False, timeout=timeout)

    async def login(self, address: str, *, network: str, public_key: str, proof: dict[str, Any],
                    timeout: float | None = None) -> user_pb.LoginResponse:
        """Exchanges a wallet's ton_proof for a session (`session_token`: pass it to a client)."""
        request = user_pb.LoginRequest(address=address, network=network, public_key=public_key)
        json_format.ParseDict(proof, request.proof)
        return await self.client.call("/computepool.v1.UserService/Login", request, user_pb.LoginResponse,
                                      idempotent=False, timeout=timeout)

    async def logout(self, *, timeout: float | None = None) -> None:
        """Ends this client's session."""
        await self.client.call("/computepool.v1.UserService/Logout", user_pb.LogoutRequest(), user_pb.LogoutResponse,
                               idempotent=True, timeout=timeout)

    async def me(self, *, timeout: float | None = None) -> user_pb.User:
        """The logged-in user."""
        return await self.client.call("/computepool.v1.UserService/GetMe", user_pb.GetMeRequest(), user_pb.User,
                                      idempotent=True, timeout=timeout)

    async def balance(self, user_id: int, *, timeout: float | None = None) -> user_pb.GetBalanceResponse:
        """A user's balances per asset (a user sees only its own)."""
        return await self.client.call("/computepool.v1.UserService/GetBalance",
                                      user_pb.GetBalanceRequest(user_id=user_id), user_pb.GetBalanceResponse,
                                      idempotent=True, timeout=timeout)


class AsyncEvents:
    """EventService: what changes in the pool as it happens (each caller sees its own)."""

    def __init__(self, client: AsyncClient):
        self.client = client

    async def watch(self, types: Iterable[str] = (), *, timeout: float | None = None
                    ) -> AsyncIterator[event_pb.Event]:
        """The caller's events as they happen, first `events.subscribed` (nothing after it is
        missed), `events.lost` after a gap (read afresh what you show). Runs until you stop
        iterating; `types` keeps only those (worker.status_changed, worker.metrics,
        job.status_changed, miner.registered, payout.state_changed)."""
        async for event in self.client.stream("/computepool.v1.EventService/WatchEvents",
                                              event_pb.WatchEventsRequest(types=list(types)), event_pb.Event,
                                              timeout=timeout):
            yield event

    async def watch_pool_metrics(self, interval_s: float = 5.0, *, timeout: float | None = None
                                 ) -> AsyncIterator[event_pb.PoolMetrics]:
        """The pool's figures now and every `interval_s` (1-60) seconds, with your own workers."""
        async for metrics in self.client.stream("/computepool.v1.EventService/WatchPoolMetrics",
                                                event_pb.WatchPoolMetricsRequest(interval_seconds=interval_s),
                                                event_pb.PoolMetrics, timeout=timeout):
            yield metrics


class AsyncAlerts:
    """AlertService: a participant's alert rules and channels, its incidents and notifications."""

    def __init__(self, client: AsyncClient):
        self.client = client

    async def get(self, participant_id: int, *, timeout: float | None = None) -> alert_pb.AlertSettings:
        """The participant's rules and channels (with the webhook's signing secret)."""
        return await self.client.call("/computepool.v1.AlertService/GetAlertSettings",
                                      alert_pb.GetAlertSettingsRequest(participant_id=participant_id),
                                      alert_pb.AlertSettings, idempotent=True, timeout=timeout)

    async def replace(self, participant_id: int, rules: Iterable[alert_pb.AlertRule],
                      channels: Iterable[alert_pb.NotificationChannel], *, timeout: float | None = None
                      ) -> alert_pb.AlertSettings:
        """Replaces every rule and channel (saving the same again changes nothing)."""
        request = alert_pb.UpdateAlertSettingsRequest(participant_id=participant_id, rules=list(rules),
                                                      channels=list(channels))
        return await self.client.call("/computepool.v1.AlertService/UpdateAlertSettings", request,
                                      alert_pb.AlertSettings, idempotent=True, timeout=timeout)

    async def incidents(self, participant_id: int, *, open_only: bool = False, page_size: int = PAGE_SIZE,
                        timeout: float | None = None) -> AsyncIterator[alert_pb.Incident]:
        """Its incidents, newest first, every page."""
        request = alert_pb.ListIncidentsRequest(participant_id=participant_id, open_only=open_only, limit=page_size)
        async for incident in self.client.pages("/computepool.v1.AlertService/ListIncidents", request,
                                                alert_pb.ListIncidentsResponse, "incidents", timeout=timeout):
            yield incident

    async def notifications(self, participant_id: int, *, page_size: int = PAGE_SIZE,
                            timeout: float | None = None) -> AsyncIterator[alert_pb.Notification]:
        """The delivery log, newest first, every page."""
        request = alert_pb.ListNotificationsRequest(participant_id=participant_id, limit=page_size)
        async for notification in self.client.pages("/computepool.v1.AlertService/ListNotifications", request,
                                                    alert_pb.ListNotificationsResponse, "notifications",
                                                    timeout=timeout):
            yield notification


class AsyncMiners:
    """MinerService, the miner's side: the layer a miner agent is built on. Calls that act as a
    registered miner need the client's `miner_token`."""

    def __init__(self, client: AsyncClient):
        self.client = client

    async def register(self, request: miner_pb.RegisterMinerRequest, *, timeout: float | None = None
                       ) -> miner_pb.RegisterMinerResponse:
        """Registers (or re-registers) a miner; `miner_token` in the reply is its credential."""
        return await self.client.call("/computepool.v1.MinerService/RegisterMiner", request,
                                      miner_pb.RegisterMinerResponse, idempotent=False, timeout=timeout)

    async def heartbeat(self, miner_id: str, heartbeat: miner_pb.Heartbeat, *, timeout: float | None = None
                        ) -> miner_pb.SendHeartbeatResponse:
        """One heartbeat; the running jobs it lists have their leases extended."""
        return await self.client.call("/computepool.v1.MinerService/SendHeartbeat",
                                      miner_pb.SendHeartbeatRequest(miner_id=miner_id, heartbeat=heartbeat),
                                      miner_pb.SendHeartbeatResponse, idempotent=True, timeout=timeout)

    async def fetch(self, miner_id: str, *, max_jobs: int = 1, wait_s: float = 0.0,
                    timeout: float | None = None) -> list[miner_pb.JobAssignment]:
        """Leases up to `max_jobs` jobs, waiting up to `wait_s` for one. Not retried: a lost reply
        leaves leases that expire by themselves."""
        wait = duration_pb2.Duration()
        wait.FromTimedelta(dt.timedelta(seconds=wait_s))
        request = miner_pb.FetchJobsRequest(miner_id=miner_id, max_jobs=max_jobs, wait=wait)
        response = await self.client.call("/computepool.v1.MinerService/FetchJobs", request,
                                          miner_pb.FetchJobsResponse, idempotent=False,
                                          timeout=timeout or self.client.timeout + wait_s)
        return list(response.assignments)

    async def submit_result(self, request: miner_pb.SubmitResultRequest, *, timeout: float | None = None
                            ) -> miner_pb.SubmitResultResponse:
        """Returns one result; idempotent for the lease holder, so it is retried on UNAVAILABLE.
        LeaseLost when the lease is no longer this miner's: drop the result."""
        return await self.client.call("/computepool.v1.MinerService/SubmitResult", request,
                                      miner_pb.SubmitResultResponse, idempotent=True, timeout=timeout)

    async def stream_heartbeats(self, requests: AsyncIterator[miner_pb.StreamHeartbeatsRequest]
                                ) -> AsyncIterator[miner_pb.StreamHeartbeatsResponse]:
        """The heartbeat stream: each request a heartbeat (with `ready_for_jobs` when the miner
        takes work over the stream); the replies acks, job assignments and directives (drain), as
        they come. No deadline: it lasts as long as `requests` does."""
        rpc = self.client.channel.stream_stream("/computepool.v1.MinerService/StreamHeartbeats",
                                                request_serializer=_serialize,
                                                response_deserializer=miner_pb.StreamHeartbeatsResponse.FromString)
        try:
            async for response in rpc(requests, metadata=self.client.metadata):
                yield response
        except grpc.RpcError as error:
            raise from_rpc_error(error) from None

    async def submit_results(self, miner_id: str, results: Sequence[miner_pb.SubmitResultRequest], *,
                             timeout: float | None = None) -> list[miner_pb.ResultOutcome]:
        """Returns many results in one call, judged one by one (an outcome each)."""
        request = miner_pb.SubmitResultsRequest(miner_id=miner_id, results=results)
        response = await self.client.call("/computepool.v1.MinerService/SubmitResults", request,
                                          miner_pb.SubmitResultsResponse, idempotent=True, timeout=timeout)
        return list(response.outcomes)


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


def _set_present(message: Message, **fields: Any) -> None:
    """Sets the optional fields that were given (None: left absent)."""
    for name, value in fields.items():
        if value is not None:
            setattr(message, name, value)
