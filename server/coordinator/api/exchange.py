"""ExchangeService: converts and calls the exchange's operations (exchange/payments.Exchange)."""

from __future__ import annotations

from computepool.v1 import exchange_service_pb2 as pb
from computepool.v1 import exchange_service_pb2_grpc as pb_grpc
from coordinator import ledger
from coordinator.api import convert, rest
from coordinator.exchange import payments
from coordinator.exchange.bitcoin import payment_uri
from coordinator.money import units_to_float
from coordinator.storage.models import Payment


def payment_message(payment: Payment) -> pb.Payment:
    return pb.Payment(
        id=payment.id, user_id=payment.participant_id, status=payment.status,
        amount_btc=units_to_float(payment.amount_sat, ledger.DECIMALS[ledger.BTC]), amount_sat=payment.amount_sat,
        address=payment.address, payment_uri=payment_uri(payment.address, payment.amount_sat),
        amount_aitbc=units_to_float(payment.credit_units, ledger.DECIMALS[ledger.AITBC]),
        amount_aitbc_units=payment.credit_units,
        expires_at=convert.timestamp(payment.expires_at), txid=payment.txid or "", confirmations=payment.confirmations,
        created_at=convert.timestamp(payment.created_at), confirmed_at=convert.timestamp(payment.confirmed_at),
        received_sat=payment.received_sat, needs_admin_confirmation=payment.needs_admin)


class ExchangeServicer(pb_grpc.ExchangeServiceServicer):
    def __init__(self, exchange: payments.Exchange):
        self.exchange = exchange

    async def CreatePayment(self, request, context):
        created = await self.exchange.create(request.amount_aitbc, request.amount_sat)
        await rest.send_created(context)
        return payment_message(created)

    async def GetPaymentStatus(self, request, context):
        return payment_message(await self.exchange.status(request.payment_id))

    async def ConfirmPayment(self, request, context):
        return payment_message(await self.exchange.confirm(request.payment_id, request.txid, request.confirmations,
                                                           request.received_sat))
