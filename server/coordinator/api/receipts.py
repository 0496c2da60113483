"""ReceiptService: the coordinator's public key, and receipt verification."""

from __future__ import annotations

import base64

from computepool.receipts import ENCODING, verify_receipt
from computepool.v1 import job_pb2
from computepool.v1 import receipt_service_pb2 as pb
from computepool.v1 import receipt_service_pb2_grpc as pb_grpc
from coordinator.market.receipts import ReceiptSigner, refusing_non_receipts


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
    """(valid, why not), decided as computepool.verify_receipt decides offline. Raises
    InvalidArgument (NOT_A_RECEIPT) when the request holds no receipt at all."""
    with refusing_non_receipts():
        return verify_receipt(receipt, signer.public_key)
