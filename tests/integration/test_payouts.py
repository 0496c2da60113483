"""PayoutService over gRPC, on SQLite and PostgreSQL: idempotency, exact money, reports."""

import asyncio
import base64
import csv
import io

import grpc
import pytest
from computepool.v1 import participant_service_pb2 as participant_pb
from computepool.v1 import payout_service_pb2 as pb

from tests.support.pool_api import POOL_WALLET, payout_request, ts
from tests.support.rpc_errors import error_details
from tests.support.server import AUTH
from tests.support.wallets import forms, new_wallet

async def new_participant(stubs) -> tuple[int, str]:
    wallet = forms(new_wallet())
    created = await stubs.participants.CreateParticipant(
        participant_pb.CreateParticipantRequest(ton_wallet_address=wallet["raw"]), metadata=AUTH)
    return created.id, wallet["non_bounceable"]


async def test_create_get_and_exact_amounts(stubs):
    owner, wallet = await new_participant(stubs)
    payout = await stubs.payouts.CreatePayout(payout_request(owner, wallet), metadata=AUTH)
    assert payout.amount_nanoton == 25_500_000_000 and payout.amount_ton == 25.5 and payout.amount_usd == 89.25
    assert payout.to_address == wallet and payout.transaction_time.ToJsonString() == "2025-01-15T10:30:00Z"
    fetched = await stubs.payouts.GetPayout(pb.GetPayoutRequest(payout_id=payout.id), metadata=AUTH)
    assert fetched == payout
    participant = await stubs.participants.GetParticipant(
        participant_pb.GetParticipantRequest(participant_id=owner), metadata=AUTH)
    assert participant.total_payouts == 1


@pytest.mark.parametrize("amount_ton, nanoton", [(0.000000001, 1), (123456.123456789, 123_456_123_456_789),
                                                 (0.1, 100_000_000), (999999.999999999, 999_999_999_999_999)])
async def test_decimal_amounts_are_taken_exactly(stubs, amount_ton, nanoton):
    owner, wallet = await new_participant(stubs)
    payout = await stubs.payouts.CreatePayout(payout_request(owner, wallet, amount_ton=amount_ton), metadata=AUTH)
    assert payout.amount_nanoton == nanoton and payout.amount_ton == amount_ton


async def test_large_exact_amounts_go_in_nanotons(stubs):
    owner, wallet = await new_participant(stubs)
    request = payout_request(owner, wallet, amount_nanoton=12_345_678_123_456_789)
    request.ClearField("amount_ton")
    payout = await stubs.payouts.CreatePayout(request, metadata=AUTH)
    assert payout.amount_nanoton == 12_345_678_123_456_789


@pytest.mark.parametrize("fields, bad_field", [
    ({"amount_ton": 1.0000000001}, "amount_ton"),
    ({"amount_ton": -1.0}, "amount_ton"),
    ({"amount_ton": 0.0}, "amount_ton"),
    ({"amount_ton": 12345678.123456789}, "amount_ton"),  # more digits than a JSON number carries exactly
    ({"amount_ton": 1.5, "amount_nanoton": 1_000_000_000}, "amount_ton"),
    ({"amount_usd": -0.01}, "amount_usd"),
    ({"amount_usd": 0.0000001}, "amount_usd"),
    ({"transaction_hash": "abc123..."}, "transaction_hash"),
    ({"from_address": "UQPool..."}, "from_address"),
    ({"to_address": ""}, "to_address"),
    ({"period_start": ts("2025-02-01T00:00:00Z")}, "period_end"),
])
async def test_bad_payouts_name_the_field_and_write_nothing(stubs, fields, bad_field):
    owner, wallet = await new_participant(stubs)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.payouts.CreatePayout(payout_request(owner, **{"to_address": wallet, **fields}), metadata=AUTH)
    code, _, violated = error_details(raised.value)
    assert code == grpc.StatusCode.INVALID_ARGUMENT and bad_field in violated
    listed = await stubs.payouts.ListPayouts(pb.ListPayoutsRequest(participant_id=owner), metadata=AUTH)
    assert list(listed.payouts) == []


async def test_missing_timestamps_are_refused(stubs):
    owner, wallet = await new_participant(stubs)
    request = payout_request(owner, wallet)
    request.ClearField("transaction_time")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.payouts.CreatePayout(request, metadata=AUTH)
    assert error_details(raised.value)[2] == ["transaction_time"]


async def test_same_hash_same_content_returns_the_existing_payout(stubs):
    owner, wallet = await new_participant(stubs)
    request = payout_request(owner, wallet)
    first = await stubs.payouts.CreatePayout(request, metadata=AUTH)
    # The same transfer written differently: base64 hash, bounceable address, nanotons.
    again = pb.CreatePayoutRequest()
    again.CopyFrom(request)
    again.transaction_hash = base64.b64encode(bytes.fromhex(request.transaction_hash)).decode()
    again.ClearField("amount_ton")
    again.amount_nanoton = 25_500_000_000
    second = await stubs.payouts.CreatePayout(again, metadata=AUTH)
    assert second == first


async def test_same_hash_different_content_is_a_conflict(stubs):
    owner, wallet = await new_participant(stubs)
    request = payout_request(owner, wallet)
    first = await stubs.payouts.CreatePayout(request, metadata=AUTH)
    request.amount_ton = 26.0
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.payouts.CreatePayout(request, metadata=AUTH)
    assert error_details(raised.value)[:2] == (grpc.StatusCode.ALREADY_EXISTS, "PAYOUT_CONFLICT")
    stored = await stubs.payouts.GetPayout(pb.GetPayoutRequest(payout_id=first.id), metadata=AUTH)
    assert stored.amount_nanoton == 25_500_000_000


async def test_concurrent_identical_creates_store_one_payout(stubs):
    owner, wallet = await new_participant(stubs)
    request = payout_request(owner, wallet)
    results = await asyncio.gather(*[stubs.payouts.CreatePayout(request, metadata=AUTH) for _ in range(12)])
    assert len({p.id for p in results}) == 1
    listed = await stubs.payouts.ListPayouts(pb.ListPayoutsRequest(participant_id=owner), metadata=AUTH)
    assert len(listed.payouts) == 1


async def test_payout_for_a_missing_participant_is_not_found(stubs):
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.payouts.CreatePayout(payout_request(98765432, POOL_WALLET), metadata=AUTH)
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


async def record(stubs, owner, wallet, when: str, amount_ton: float, amount_usd: float) -> pb.Payout:
    return await stubs.payouts.CreatePayout(
        payout_request(owner, wallet, amount_ton=amount_ton, amount_usd=amount_usd, transaction_time=ts(when),
                       period_start=ts(when), period_end=ts(when)), metadata=AUTH)


async def test_list_is_newest_first_and_pages_by_keyset(stubs):
    owner, wallet = await new_participant(stubs)
    made = [await record(stubs, owner, wallet, f"2025-0{m}-01T00:00:00Z", m, m) for m in (1, 3, 2, 4)]
    same_time = await record(stubs, owner, wallet, "2025-04-01T00:00:00Z", 9, 9)
    pages, token = [], ""
    while True:
        page = await stubs.payouts.ListPayouts(pb.ListPayoutsRequest(participant_id=owner, limit=2,
                                                                     page_token=token), metadata=AUTH)
        pages.append([p.id for p in page.payouts])
        token = page.next_page_token
        if not token:
            break
    ids = [i for page in pages for i in page]
    assert ids == [same_time.id, made[3].id, made[1].id, made[2].id, made[0].id]
    assert [len(p) for p in pages] == [2, 2, 1]


async def test_summary_totals_and_months(stubs):
    owner, wallet = await new_participant(stubs)
    await record(stubs, owner, wallet, "2025-01-15T10:30:00Z", 25.5, 89.25)
    await record(stubs, owner, wallet, "2025-01-22T10:30:00Z", 0.1, 0.35)
    await record(stubs, owner, wallet, "2025-03-01T00:00:00Z", 0.2, 0.7)
    summary = await stubs.payouts.GetPayoutSummary(pb.GetPayoutSummaryRequest(participant_id=owner), metadata=AUTH)
    assert summary.total_payouts == 3 and summary.total_nanoton == 25_800_000_000
    assert summary.total_ton == 25.8 and summary.total_usd == 90.3
    assert summary.first_payout_at.ToJsonString() == "2025-01-15T10:30:00Z"
    assert summary.last_payout_at.ToJsonString() == "2025-03-01T00:00:00Z"
    assert [(m.month, m.count, m.total_nanoton) for m in summary.by_month] == [
        ("2025-01", 2, 25_600_000_000), ("2025-03", 1, 200_000_000)]
    empty_owner, _ = await new_participant(stubs)
    empty = await stubs.payouts.GetPayoutSummary(pb.GetPayoutSummaryRequest(participant_id=empty_owner),
                                                 metadata=AUTH)
    assert empty.total_payouts == 0 and not empty.HasField("first_payout_at")


async def test_tax_report_has_a_row_per_payout_of_the_year_and_exact_totals(stubs):
    owner, wallet = await new_participant(stubs)
    a = await record(stubs, owner, wallet, "2025-01-15T10:30:00Z", 25.5, 89.25)
    b = await record(stubs, owner, wallet, "2025-12-31T23:59:59Z", 0.000000001, 0.000001)
    await record(stubs, owner, wallet, "2026-01-01T00:00:00Z", 7, 7)
    report = await stubs.payouts.ExportTaxReport(pb.ExportTaxReportRequest(participant_id=owner, year=2025),
                                                 metadata=AUTH)
    assert report.content_type.startswith("text/csv")
    rows = list(csv.reader(io.StringIO(report.data.decode())))
    assert rows[0][:5] == ["payout_id", "transaction_time", "transaction_hash", "amount_ton", "amount_usd"]
    assert [r[0] for r in rows[1:]] == [str(a.id), str(b.id), "TOTAL"]
    assert rows[1][3:5] == ["25.500000000", "89.250000"] and rows[2][3:5] == ["0.000000001", "0.000001"]
    assert rows[3][3:5] == ["25.500000001", "89.250001"]
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.payouts.ExportTaxReport(pb.ExportTaxReportRequest(participant_id=owner, year=1999),
                                            metadata=AUTH)
    assert error_details(raised.value)[2] == ["year"]
