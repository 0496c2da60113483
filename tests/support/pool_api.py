"""The pool API over gRPC: its stubs on a channel, and participants, workers and payout
requests made through them as an admin."""

from __future__ import annotations

from computepool.v1 import participant_service_pb2 as participant_pb
from computepool.v1 import participant_service_pb2_grpc, payout_service_pb2_grpc, worker_service_pb2_grpc
from computepool.v1 import payout_service_pb2 as payout_pb
from computepool.v1 import worker_service_pb2 as worker_pb
from google.protobuf.timestamp_pb2 import Timestamp

from tests.support.server import AUTH
from tests.support.wallets import forms, new_wallet, tx_hash

POOL_WALLET = forms(new_wallet())["bounceable"]  # where test payouts come from


class Stubs:
    def __init__(self, channel):
        self.workers = worker_service_pb2_grpc.WorkerServiceStub(channel)
        self.participants = participant_service_pb2_grpc.ParticipantServiceStub(channel)
        self.payouts = payout_service_pb2_grpc.PayoutServiceStub(channel)


async def new_participant(stubs: Stubs) -> int:
    created = await stubs.participants.CreateParticipant(
        participant_pb.CreateParticipantRequest(ton_wallet_address=forms(new_wallet())["raw"]), metadata=AUTH)
    return created.id


async def new_worker(stubs: Stubs, participant_id: int, name="Worker-0", instance=0, **fields) -> worker_pb.Worker:
    request = dict(participant_id=participant_id, worker_name=name, instance_number=instance, host="localhost",
                   stats_port=12000 + 10 * instance)
    request.update(fields)
    return await stubs.workers.CreateWorker(worker_pb.CreateWorkerRequest(**request), metadata=AUTH)


def ts(text: str) -> Timestamp:
    stamp = Timestamp()
    stamp.FromJsonString(text)
    return stamp


def payout_request(participant_id: int, to_address: str = "", **fields) -> payout_pb.CreatePayoutRequest:
    """The pool document's example payout (25.5 TON, 89.25 USD, January 2025) with a new transaction hash."""
    values = dict(participant_id=participant_id, transaction_hash=tx_hash(), amount_ton=25.5, amount_usd=89.25,
                  from_address=POOL_WALLET, to_address=to_address, transaction_time=ts("2025-01-15T10:30:00Z"),
                  period_start=ts("2025-01-08T00:00:00Z"), period_end=ts("2025-01-15T00:00:00Z"))
    values.update(fields)
    return payout_pb.CreatePayoutRequest(**values)
