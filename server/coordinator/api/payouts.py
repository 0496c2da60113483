"""PayoutService: converts and calls the pool's payout operations (pool/payouts.Payouts)."""

from __future__ import annotations

from google.api import httpbody_pb2

from computepool.v1 import payout_service_pb2 as pb
from computepool.v1 import payout_service_pb2_grpc as pb_grpc
from coordinator.api import convert, rest
from coordinator.money import nanoton_to_ton
from coordinator.pool import payout_runs, payouts


class PayoutServicer(pb_grpc.PayoutServiceServicer):
    def __init__(self, payouts_: payouts.Payouts, runs: payout_runs.PayoutRuns):
        self.payouts = payouts_
        self.runs = runs

    async def ListPayouts(self, request, context):
        rows, next_token = await self.payouts.list(request.participant_id, convert.optional(request, "limit"),
                                                   request.page_token, request.status)
        await rest.send_next_page_token(context, next_token)
        return pb.ListPayoutsResponse(payouts=[convert.payout(p) for p in rows], next_page_token=next_token)

    async def GetPayout(self, request, context):
        return convert.payout(await self.payouts.get(request.payout_id))

    async def CreatePayout(self, request, context):
        new = payouts.NewPayout(
            participant_id=request.participant_id, transaction_hash=request.transaction_hash,
            amount_ton=convert.optional(request, "amount_ton"),
            amount_nanoton=convert.optional(request, "amount_nanoton"), amount_usd=request.amount_usd,
            from_address=request.from_address, to_address=request.to_address,
            transaction_time=convert.datetime_of(request, "transaction_time"),
            period_start=convert.datetime_of(request, "period_start"),
            period_end=convert.datetime_of(request, "period_end"))
        payout, created = await self.payouts.create(new)
        await rest.send_created(context, created)
        return convert.payout(payout)

    async def GetPayoutSummary(self, request, context):
        summary = await self.payouts.summary(request.participant_id)
        return pb.GetPayoutSummaryResponse(
            participant_id=summary.participant_id, total_payouts=summary.total_payouts,
            total_ton=nanoton_to_ton(summary.total_nanoton), total_nanoton=summary.total_nanoton,
            total_usd=convert.usd(summary.total_usd_micros), first_payout_at=convert.timestamp(summary.first_payout_at),
            last_payout_at=convert.timestamp(summary.last_payout_at),
            by_month=[pb.MonthlyPayouts(month=m.month, count=m.count, total_ton=nanoton_to_ton(m.total_nanoton),
                                        total_nanoton=m.total_nanoton, total_usd=convert.usd(m.total_usd_micros))
                      for m in summary.by_month])

    async def ExportTaxReport(self, request, context):
        text, filename = await self.payouts.tax_report(request.participant_id, request.year)
        await context.send_initial_metadata((("content-disposition", f'attachment; filename="{filename}"'),))
        return httpbody_pb2.HttpBody(content_type="text/csv; charset=utf-8", data=text.encode())


    async def CreatePayoutRun(self, request, context):
        view = await self.runs.create()
        await rest.send_created(context)
        return convert.payout_run(view)

    async def ListPayoutRuns(self, request, context):
        views, next_token = await self.runs.list(convert.optional(request, "limit"), request.page_token)
        await rest.send_next_page_token(context, next_token)
        return pb.ListPayoutRunsResponse(runs=[convert.payout_run(v) for v in views], next_page_token=next_token)

    async def GetPayoutRun(self, request, context):
        return convert.payout_run(await self.runs.get(request.run_id))

    async def ExportPayoutRun(self, request, context):
        body, content_type, filename = await self.runs.export(request.run_id, request.format)
        await context.send_initial_metadata((("content-disposition", f'attachment; filename="{filename}"'),))
        return httpbody_pb2.HttpBody(content_type=content_type, data=body)

    async def UpdatePayoutStatus(self, request, context):
        return convert.payout(await self.runs.update_status(request.payout_id, request.status,
                                                            request.transaction_hash, request.failure_reason))
