"""Who may call each rpc. Every computepool.v1 rpc is declared here; an undeclared one is refused
(fail closed, and a test checks the table covers every rpc of api/services.py).

A kind here only opens the door: the servicer then limits a non-admin caller to its own
participant's workers, payouts, jobs and balances (callers.owner_scope / require_owner), and a
miner to itself (its X-Miner-Token).
"""

from __future__ import annotations

from coordinator.errors import PermissionDenied, Reason, Unauthenticated
from coordinator.identity.authenticator import Authenticator
from coordinator.identity.callers import CallerKind, current_caller

ADMIN_KIND, CLIENT, MINER, USER = CallerKind.ADMIN, CallerKind.CLIENT, CallerKind.MINER, CallerKind.USER

PUBLIC = frozenset(CallerKind)
ADMIN = frozenset({ADMIN_KIND})
OWNERS = frozenset({ADMIN_KIND, CLIENT, MINER, USER})  # non-admins scoped to their participant
CLIENTS = frozenset({ADMIN_KIND, CLIENT, USER})
MINERS = frozenset({ADMIN_KIND, MINER})


def _service(name: str, **methods: frozenset[str]) -> dict[str, frozenset[str]]:
    return {f"/computepool.v1.{name}/{method}": kinds for method, kinds in methods.items()}


RULES: dict[str, frozenset[str]] = {
    **_service("WorkerService", ListWorkers=OWNERS, GetWorker=OWNERS, CreateWorker=OWNERS, UpdateWorker=OWNERS,
               GetWorkerMetrics=OWNERS, GetWorkerStats=OWNERS, GetWorkerDailyEarnings=OWNERS,
               WatchWorkers=OWNERS),
    **_service("ParticipantService", ListParticipants=OWNERS, GetParticipant=OWNERS, GetParticipantByWallet=OWNERS,
               CreateParticipant=ADMIN, UpdatePayoutThreshold=OWNERS, ListBalanceChanges=OWNERS,
               GetDailyEarnings=OWNERS),
    **_service("PayoutService", ListPayouts=OWNERS, GetPayout=OWNERS, CreatePayout=ADMIN, GetPayoutSummary=OWNERS,
               ExportTaxReport=OWNERS, CreatePayoutRun=ADMIN, ListPayoutRuns=ADMIN, GetPayoutRun=ADMIN,
               ExportPayoutRun=ADMIN, UpdatePayoutStatus=ADMIN),
    **_service("JobService", SubmitJob=CLIENTS, BatchSubmitJobs=CLIENTS, GetJobStatus=CLIENTS,
               ListJobReceipts=CLIENTS, ListJobs=CLIENTS, CancelJob=CLIENTS, WatchJob=CLIENTS),
    **_service("MinerService", RegisterMiner=MINERS, SendHeartbeat=MINERS, StreamHeartbeats=MINERS, FetchJobs=MINERS,
               SubmitResults=MINERS, SubmitResult=MINERS),
    # A third party verifies receipts with nothing but the published key.
    **_service("ReceiptService", GetCoordinatorKey=PUBLIC, VerifyReceipt=PUBLIC),
    **_service("UserService", CreateLoginChallenge=PUBLIC, Login=PUBLIC, Logout=frozenset({USER}),
               GetMe=frozenset({CLIENT, MINER, USER}), GetBalance=OWNERS),
    **_service("ExchangeService", CreatePayment=frozenset({CLIENT, USER}),
               GetPaymentStatus=frozenset({ADMIN_KIND, CLIENT, USER}), ConfirmPayment=ADMIN),
    **_service("ApiKeyService", CreateApiKey=ADMIN, ListApiKeys=ADMIN, RevokeApiKey=ADMIN),
    # Every credential: each sees its own (events.bus.visible_to), and the pool's totals.
    **_service("EventService", WatchEvents=OWNERS, WatchPoolMetrics=OWNERS),
    **_service("AlertService", GetAlertSettings=OWNERS, UpdateAlertSettings=OWNERS, ListIncidents=OWNERS,
               ListNotifications=OWNERS),
}

# The rpcs that act as one registered miner: besides a MINERS credential they need that miner's
# X-Miner-Token (metadata x-miner-token), which RegisterMiner issues. The servicer checks it
# (market/work.MinerWork.identify); this declares it for the API reference (envoy/openapi.json),
# and tests/e2e/test_openapi.py holds the two in step.
MINER_TOKEN_RPCS = frozenset(f"/computepool.v1.MinerService/{method}" for method in
                             ("SendHeartbeat", "StreamHeartbeats", "FetchJobs", "SubmitResults", "SubmitResult"))


async def admit(authenticator: Authenticator, metadata, rpc: str) -> None:
    """Finds the caller, refuses it unless its kind may call this rpc, records it for the rpc."""
    caller = await authenticator.caller(metadata)
    if caller.kind not in RULES.get(rpc, frozenset()):
        if caller.kind == CallerKind.ANONYMOUS:
            raise Unauthenticated("this call needs credentials: send X-Api-Key or X-Session-Token",
                                  reason=Reason.CREDENTIALS_MISSING)
        raise PermissionDenied(f"a {caller.kind} credential may not call {rpc.rsplit('/', 1)[1]}",
                               reason=Reason.ROLE_NOT_ALLOWED, metadata={"rpc": rpc})
    current_caller.set(caller)
