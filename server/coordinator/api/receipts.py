"""ReceiptService: the coordinator's public key, and receipt verification."""

from __future__ import annotations

import base64

from google.protobuf import json_format

from computepool.encoding import result_digest
from computepool.v1 import job_pb2
from computepool.v1 import receipt_service_pb2 as pb
from computepool.v1 import receipt_service_pb2_grpc as pb_grpc
from coordinator.api import convert
from coordinator.market.receipts import (
    ENCODING,
    ReceiptSigner,
    read_receipt,
    receipt_of,
    verify_miner_signature,
    verify_signature,
)


class ReceiptServicer(pb_grpc.ReceiptServiceServicer):
    def __init__(self, signer: ReceiptSigner):
        self.signer = signer

    async def GetCoordinatorKey(self, request, context):
        return pb.GetCoordinatorKeyResponse(public_key=base64.b64encode(self.signer.public_key).decode(),
                                            key_id=self.signer.key_id, encoding=ENCODING)

    async def VerifyReceipt(self, request, context):
        valid, reason = check(request.receipt, self.signer)
        return pb.VerifyReceiptResponse(valid=valid, reason=reason)


def check(receipt: job_pb2.Receipt, signer: ReceiptSigner) -> tuple[bool, str]:
    """(valid, why not). Raises InvalidArgument when the request holds no receipt at all."""
    facts, payload, proof = read_receipt(receipt.payload, receipt.proof)
    if receipt.key_id != signer.key_id:
        return False, f"key_id {receipt.key_id!r} is not this coordinator's key {signer.key_id}"
    if not verify_signature(signer.public_key, payload, proof):
        return False, "the coordinator's signature does not verify over the payload"
    # Every field shown beside the payload must be what a receipt with these facts shows: the
    # loop runs over the message's own fields, so a field added to Receipt is checked too.
    shown_by_facts = convert.receipt(receipt_of(facts, payload=receipt.payload, proof=receipt.proof,
                                                key_id=signer.key_id, result=None))
    for field in job_pb2.Receipt.DESCRIPTOR.fields:
        if field.name != "result" and getattr(receipt, field.name) != getattr(shown_by_facts, field.name):
            return False, f"{field.name} differs from the signed payload"
    # The result is not in the payload, its hash is. An empty result shows none (the miner sent
    # only the hash), so it claims nothing.
    if receipt.result.fields:
        computed = result_digest(json_format.MessageToDict(receipt.result))
        if computed != facts["result_hash"]:
            return False, f"result hashes to {computed}, not to the signed result_hash {facts['result_hash']}"
    if not verify_miner_signature(facts["miner_public_key"], facts["result_hash"], facts["miner_signature"]):
        return False, "the miner's signature does not verify over the result hash"
    return True, ""
