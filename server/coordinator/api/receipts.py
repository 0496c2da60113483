"""ReceiptService: the coordinator's public key, and receipt verification."""

from __future__ import annotations

import base64

from computepool.v1 import receipt_service_pb2 as pb
from computepool.v1 import receipt_service_pb2_grpc as pb_grpc

from ..receipts import ENCODING, ReceiptSigner, verify_miner_signature, verify_signature

# Receipt field -> the key of the signed payload it must equal.
SIGNED_FIELDS = {"id": "receipt_id", "job_id": "job_id", "miner_id": "miner_id", "worker_id": "worker_id",
                 "owner_wallet": "owner_wallet", "result_hash": "result_hash", "units": "units",
                 "charge_nanoton": "charge_nanoton", "earning_nanoton": "earning_nanoton", "fee_nanoton": "fee_nanoton",
                 "attempt": "attempt", "miner_signature": "miner_signature"}


class ReceiptServicer(pb_grpc.ReceiptServiceServicer):
    def __init__(self, signer: ReceiptSigner):
        self.signer = signer

    async def GetCoordinatorKey(self, request, context):
        return pb.GetCoordinatorKeyResponse(public_key=base64.b64encode(self.signer.public_key).decode(),
                                            key_id=self.signer.key_id, encoding=ENCODING)

    async def VerifyReceipt(self, request, context):
        valid, reason = check(request.receipt, self.signer)
        return pb.VerifyReceiptResponse(valid=valid, reason=reason)


def check(receipt, signer: ReceiptSigner) -> tuple[bool, str]:
    if receipt.key_id and receipt.key_id != signer.key_id:
        return False, f"signed by key {receipt.key_id}, not this coordinator's key {signer.key_id}"
    facts = verify_signature(signer.public_key, receipt.payload, receipt.proof)
    if facts is None:
        return False, "the coordinator's signature does not verify over the payload"
    for field, key in SIGNED_FIELDS.items():
        if getattr(receipt, field) != facts.get(key):
            return False, f"{field} differs from the signed payload"
    if not verify_miner_signature(facts["miner_public_key"], facts["result_hash"], facts["miner_signature"]):
        return False, "the miner's signature does not verify over the result hash"
    return True, ""
