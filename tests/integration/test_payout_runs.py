"""Payout runs, on SQLite and PostgreSQL: what the pool owes, reserved once, paid once.

After every step the ledger is checked (tests/support/payouts.check_ledger): it sums to zero,
and for each participant owed = earned - reserved - paid, with reserved and paid equal to its
open and confirmed run payouts. Amounts are whole TON and more: the shared server's pool
minimum is 1 TON, so the small earnings other tests' jobs leave are never paid here.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json

import aiohttp
import grpc
import pytest
from computepool.v1 import participant_service_pb2 as participant_pb
from computepool.v1 import payout_service_pb2 as pb
from computepool.v1 import worker_service_pb2 as worker_pb
from coordinator.app import build_server
from coordinator.identity.wallet_address import parse_address
from coordinator.pool import payout_runs
from coordinator.pool.payout_runs import PayoutPolicy, TonCenter
from coordinator.storage.models import Payout, PayoutRun
from sqlalchemy import func, select

from tests.support.pool_api import POOL_WALLET, new_worker, payout_request
from tests.support.payouts import TON, FakeTonCenter, check_ledger, earn
from tests.support.rest import call
from tests.support.rpc_errors import error_details, error_metadata
from tests.support.server import AUTH, make_settings
from tests.support.wallets import forms, new_wallet, tx_hash


async def owner(stubs) -> tuple[int, int, str]:
    """A new participant and a worker of it: (participant id, worker id, wallet raw form)."""
    wallet = forms(new_wallet())
    created = await stubs.participants.CreateParticipant(
        participant_pb.CreateParticipantRequest(ton_wallet_address=wallet["bounceable"]), metadata=AUTH)
    worker = await new_worker(stubs, created.id)
    return created.id, worker.id, wallet["raw"]


async def participant(stubs, participant_id: int) -> participant_pb.Participant:
    return await stubs.participants.GetParticipant(participant_pb.GetParticipantRequest(participant_id=participant_id),
                                                   metadata=AUTH)


async def run(stubs) -> pb.PayoutRun:
    return await stubs.payouts.CreatePayoutRun(pb.CreatePayoutRunRequest(), metadata=AUTH)


def of(run_: pb.PayoutRun, participant_id: int) -> list[pb.Payout]:
    return [p for p in run_.payouts if p.participant_id == participant_id]


async def set_status(stubs, payout_id: int, status: str, **fields) -> pb.Payout:
    return await stubs.payouts.UpdatePayoutStatus(pb.UpdatePayoutStatusRequest(
        payout_id=payout_id, status=status, **fields), metadata=AUTH)


async def refused(call_) -> tuple[grpc.StatusCode, str, list[str], dict]:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call_
    return (*error_details(raised.value), error_metadata(raised.value))


async def test_the_owed_balance_is_on_the_participant_through_grpc_and_rest(pool, stubs, http):
    pid, worker, _ = await owner(stubs)
    await earn(pool.database, pid, worker, 3 * TON + 7)
    shown = await participant(stubs, pid)
    assert (shown.owed_nanoton, shown.earned_nanoton, shown.reserved_nanoton, shown.paid_nanoton) == (
        3 * TON + 7, 3 * TON + 7, 0, 0)
    assert shown.owed_ton == 3.000000007 and shown.payout_threshold_nanoton == TON
    status, body, _ = await call(http, "GET", f"/api/v1/participants/{pid}")
    assert status == 200 and body["owed_nanoton"] == str(3 * TON + 7) and body["owed_ton"] == 3.000000007
    await check_ledger(pool.database, [pid])


async def test_a_run_reserves_what_is_owed_and_a_second_run_pays_nothing_twice(pool, stubs):
    pid, worker, raw = await owner(stubs)
    await earn(pool.database, pid, worker, 2 * TON)
    await earn(pool.database, pid, worker, TON + 5)
    first = await run(stubs)
    [payout] = of(first, pid)
    assert (payout.status, payout.amount_nanoton, payout.run_id, payout.transaction_hash) == (
        "pending", 3 * TON + 5, first.id, "")
    assert payout.comment == f"computepool payout {payout.id}" and first.trigger == "manual"
    assert parse_address(payout.to_address, "to").raw == raw and payout.to_address.startswith("UQ")
    shown = await participant(stubs, pid)
    assert (shown.owed_nanoton, shown.reserved_nanoton) == (0, 3 * TON + 5)
    assert (await check_ledger(pool.database, [pid]))[pid]["reserved"] == 3 * TON + 5
    second = await run(stubs)
    assert second.id != first.id and of(second, pid) == []
    await earn(pool.database, pid, worker, TON)  # earned since: the next run pays that, only that
    [later] = of(await run(stubs), pid)
    assert later.amount_nanoton == TON and later.period_start == payout.period_end
    figures = await check_ledger(pool.database, [pid])
    assert figures[pid] == {"owed": 0, "earned": 4 * TON + 5, "reserved": 4 * TON + 5, "paid": 0}


async def test_thresholds_the_pool_minimum_and_a_participants_own(pool, stubs, http):
    below, worker_b, _ = await owner(stubs)
    raised_, worker_r, _ = await owner(stubs)
    await earn(pool.database, below, worker_b, TON - 1)
    await earn(pool.database, raised_, worker_r, 3 * TON)
    changed = await stubs.participants.UpdatePayoutThreshold(participant_pb.UpdatePayoutThresholdRequest(
        participant_id=raised_, payout_threshold_nanoton=5 * TON), metadata=AUTH)
    assert changed.payout_threshold_nanoton == 5 * TON
    first = await run(stubs)
    assert of(first, below) == [] and of(first, raised_) == []
    await earn(pool.database, below, worker_b, 1)  # exactly the pool minimum now
    await earn(pool.database, raised_, worker_r, 2 * TON)  # exactly its own threshold
    second = await run(stubs)
    assert [p.amount_nanoton for p in of(second, below)] == [TON]
    assert [p.amount_nanoton for p in of(second, raised_)] == [5 * TON]
    # Lower than the pool's minimum: refused, naming the field, and nothing changes.
    for value in (TON - 1, 1, -1):
        code, reason, fields, metadata = await refused(stubs.participants.UpdatePayoutThreshold(
            participant_pb.UpdatePayoutThresholdRequest(participant_id=raised_, payout_threshold_nanoton=value),
            metadata=AUTH))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and fields == ["payout_threshold_nanoton"]
        assert reason == ("VALIDATION_ERROR" if value < 0 else "THRESHOLD_BELOW_POOL_MINIMUM")
    assert (await participant(stubs, raised_)).payout_threshold_nanoton == 5 * TON
    status, body, _ = await call(http, "PATCH", f"/api/v1/participants/{raised_}/payout-threshold",
                                 {"payout_threshold_nanoton": str(TON // 2)})
    assert status == 422 and body["error"]["code"] == "THRESHOLD_BELOW_POOL_MINIMUM"
    assert body["error"]["details"]["field_violations"][0]["field"] == "payout_threshold_nanoton"
    status, body, _ = await call(http, "PATCH", f"/api/v1/participants/{raised_}/payout-threshold",
                                 {"payout_threshold_nanoton": "0"})  # back to the pool minimum
    assert status == 200 and body["payout_threshold_nanoton"] == str(TON)
    await check_ledger(pool.database, [below, raised_])


async def test_sent_confirmed_and_failed_and_what_each_does_to_the_ledger(pool, stubs):
    paid, worker_p, _ = await owner(stubs)
    lost, worker_l, _ = await owner(stubs)
    await earn(pool.database, paid, worker_p, 2 * TON)
    await earn(pool.database, lost, worker_l, 3 * TON)
    the_run = await run(stubs)
    [to_pay], [to_fail] = of(the_run, paid), of(the_run, lost)
    sent_hash = tx_hash()
    sent = await set_status(stubs, to_pay.id, "sent", transaction_hash=sent_hash.upper())
    assert (sent.status, sent.transaction_hash) == ("sent", sent_hash) and sent.HasField("sent_at")
    assert await set_status(stubs, to_pay.id, "sent", transaction_hash=sent_hash) == sent  # again: no change
    # The hash joins CreatePayout: recording the same transfer by hand finds this payout.
    code, reason, _, metadata = await refused(stubs.payouts.CreatePayout(
        payout_request(paid, to_pay.to_address, transaction_hash=sent_hash), metadata=AUTH))
    assert (code, reason, metadata["payout_id"]) == (grpc.StatusCode.ALREADY_EXISTS, "PAYOUT_CONFLICT", str(to_pay.id))
    # Another payout's hash, or a second hash for this one, is refused.
    manual = await stubs.payouts.CreatePayout(payout_request(lost, to_fail.to_address), metadata=AUTH)
    assert (await refused(set_status(stubs, to_fail.id, "sent", transaction_hash=manual.transaction_hash)))[:2] == (
        grpc.StatusCode.ALREADY_EXISTS, "PAYOUT_CONFLICT")
    assert (await refused(set_status(stubs, to_pay.id, "confirmed", transaction_hash=tx_hash())))[:2] == (
        grpc.StatusCode.ALREADY_EXISTS, "PAYOUT_CONFLICT")
    assert (await check_ledger(pool.database, [paid]))[paid]["reserved"] == 2 * TON
    confirmed = await set_status(stubs, to_pay.id, "confirmed")
    assert confirmed.status == "confirmed" and confirmed.HasField("confirmed_at")
    assert await set_status(stubs, to_pay.id, "confirmed", transaction_hash=sent_hash) == confirmed
    assert (await check_ledger(pool.database, [paid]))[paid] == {"owed": 0, "earned": 2 * TON, "reserved": 0,
                                                                 "paid": 2 * TON}
    failed = await set_status(stubs, to_fail.id, "failed", failure_reason="bounced: wallet not active")
    assert (failed.status, failed.failure_reason) == ("failed", "bounced: wallet not active")
    shown = await participant(stubs, lost)
    assert (shown.owed_nanoton, shown.reserved_nanoton) == (3 * TON, 0)  # back to owed
    await check_ledger(pool.database, [paid, lost])
    # What a status does not allow, and bad input: a clear error, and nothing changes.
    for payout_id, status, fields, expected in [
        (to_fail.id, "sent", {"transaction_hash": tx_hash()}, (grpc.StatusCode.FAILED_PRECONDITION,
                                                                "PAYOUT_STATUS_CONFLICT", [])),
        (to_fail.id, "confirmed", {"transaction_hash": tx_hash()}, (grpc.StatusCode.FAILED_PRECONDITION,
                                                                     "PAYOUT_STATUS_CONFLICT", [])),
        (to_pay.id, "failed", {}, (grpc.StatusCode.FAILED_PRECONDITION, "PAYOUT_STATUS_CONFLICT", [])),
        (to_pay.id, "paid", {}, (grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR", ["status"])),
        (to_pay.id, "sent", {}, (grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR", ["transaction_hash"])),
        (to_pay.id, "sent", {"transaction_hash": "0xabc"}, (grpc.StatusCode.INVALID_ARGUMENT, "VALIDATION_ERROR",
                                                            ["transaction_hash"])),
        (to_fail.id, "failed", {"failure_reason": "x" * 201}, (grpc.StatusCode.INVALID_ARGUMENT,
                                                               "VALIDATION_ERROR", ["failure_reason"])),
        (987654321, "failed", {}, (grpc.StatusCode.NOT_FOUND, "PAYOUT_NOT_FOUND", [])),
    ]:
        assert (await refused(set_status(stubs, payout_id, status, **fields)))[:3] == expected, (status, fields)
    again = await stubs.payouts.GetPayoutRun(pb.GetPayoutRunRequest(run_id=the_run.id), metadata=AUTH)
    assert [(p.status, p.transaction_hash) for p in of(again, paid) + of(again, lost)] == [
        ("confirmed", sent_hash), ("failed", "")]
    await check_ledger(pool.database, [paid, lost])
    # The next run pays the released amount again, in a new payout; the failed one stays failed.
    [retry] = of(await run(stubs), lost)
    assert retry.amount_nanoton == 3 * TON and retry.id != to_fail.id
    await check_ledger(pool.database, [paid, lost])


async def test_confirmed_run_payouts_are_in_the_summary_and_the_tax_report_the_others_are_not(pool, stubs):
    pid, worker, _ = await owner(stubs)
    await earn(pool.database, pid, worker, 2 * TON)
    [first] = of(await run(stubs), pid)
    await set_status(stubs, first.id, "confirmed", transaction_hash=tx_hash())
    await earn(pool.database, pid, worker, 4 * TON)
    [pending] = of(await run(stubs), pid)  # stays pending: neither paid nor reported
    summary = await stubs.payouts.GetPayoutSummary(pb.GetPayoutSummaryRequest(participant_id=pid), metadata=AUTH)
    assert (summary.total_payouts, summary.total_nanoton) == (1, 2 * TON)
    assert (await participant(stubs, pid)).total_payouts == 1
    year = dt.datetime.now(dt.timezone.utc).year
    report = await stubs.payouts.ExportTaxReport(pb.ExportTaxReportRequest(participant_id=pid, year=year),
                                                 metadata=AUTH)
    rows = list(csv.reader(io.StringIO(report.data.decode())))
    assert [row[0] for row in rows[1:]] == [str(first.id), "TOTAL"] and rows[-1][3] == "2.000000000"
    listed = await stubs.payouts.ListPayouts(pb.ListPayoutsRequest(participant_id=pid, status="pending"),
                                             metadata=AUTH)
    assert [p.id for p in listed.payouts] == [pending.id]
    code, _, fields, _ = await refused(stubs.payouts.ListPayouts(pb.ListPayoutsRequest(status="lost"), metadata=AUTH))
    assert (code, fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["status"])


def parse_csv(body: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body.decode())))


async def export(stubs, run_id: int, export_format: str) -> bytes:
    return (await stubs.payouts.ExportPayoutRun(pb.ExportPayoutRunRequest(run_id=run_id, format=export_format),
                                                metadata=AUTH)).data


async def test_the_export_round_trips_exactly_in_csv_and_json(pool, stubs, http):
    owners = [await owner(stubs) for _ in range(3)]
    amounts = [TON, 123_456_789_123_456_789 // 1000, 7 * TON + 1]  # up to 123456.789123456 TON
    for (pid, worker, _), amount in zip(owners, amounts):
        await earn(pool.database, pid, worker, amount)
    the_run = await run(stubs)
    ours = [of(the_run, pid)[0] for pid, _, _ in owners]
    expected = [{"payout_id": str(p.id), "destination": p.to_address, "amount_nanoton": str(p.amount_nanoton),
                 "comment": f"computepool payout {p.id}"} for p in ours]
    rows = parse_csv(await export(stubs, the_run.id, "csv"))
    assert [{k: row[k] for k in expected[0]} for row in rows if int(row["payout_id"]) in {p.id for p in ours}] == expected
    for row in rows:  # the decimal column says the same amount
        whole, fraction = row["amount_ton"].split(".")
        assert int(whole) * TON + int(fraction) == int(row["amount_nanoton"])
    for row, (_, _, raw) in zip([r for r in rows if int(r["payout_id"]) in {p.id for p in ours}], owners):
        assert parse_address(row["destination"], "destination").raw == raw
    document = json.loads(await export(stubs, the_run.id, "json"))
    assert document["run_id"] == the_run.id
    assert [{k: item[k] for k in expected[0]} for item in document["payouts"]
            if item["payout_id"] in {p.id for p in ours}] == [{**e, "payout_id": int(e["payout_id"])} for e in expected]
    assert int(document["total_nanoton"]) == sum(int(item["amount_nanoton"]) for item in document["payouts"])
    # Through REST: the file as a download, byte for byte what gRPC gives.
    async with http.get(f"/api/v1/payouts/runs/{the_run.id}/export?format=csv") as response:
        assert response.status == 200 and response.content_type == "text/csv"
        assert response.headers["Content-Disposition"] == f'attachment; filename="payout-run-{the_run.id}.csv"'
        assert await response.read() == await export(stubs, the_run.id, "csv")
    # A payout once sent is never offered again; the others are, unchanged.
    await set_status(stubs, ours[0].id, "sent", transaction_hash=tx_hash())
    assert str(ours[0].id) not in [row["payout_id"] for row in parse_csv(await export(stubs, the_run.id, ""))]
    assert len(parse_csv(await export(stubs, the_run.id, "csv"))) == len(rows) - 1
    code, _, fields, _ = await refused(export(stubs, the_run.id, "xlsx"))
    assert (code, fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["format"])
    code, reason, _, _ = await refused(export(stubs, 987654, "csv"))
    assert (code, reason) == (grpc.StatusCode.NOT_FOUND, "PAYOUT_RUN_NOT_FOUND")
    await check_ledger(pool.database, [pid for pid, _, _ in owners])


async def count_runs_and_payouts(database, participant_id: int) -> tuple[int, int]:
    async with database.transaction() as session:
        return (await session.scalar(select(func.count(PayoutRun.id))),
                await session.scalar(select(func.count(Payout.id)).where(Payout.participant_id == participant_id)))


async def test_a_run_that_dies_before_commit_leaves_nothing_and_a_restart_exports_the_same(pool, stubs, database_url):
    pid, worker, _ = await owner(stubs)
    await earn(pool.database, pid, worker, 2 * TON)
    policy = PayoutPolicy(minimum_nanoton=TON)
    before = await count_runs_and_payouts(pool.database, pid)
    with pytest.raises(RuntimeError):
        async with pool.database.transaction() as session:  # the process dies after creating, before commit
            created = await payout_runs.create_run(session, pool.events, policy, payout_runs.MANUAL)
            assert [p.participant_id for p in await payout_runs.run_payouts(session, created.id)].count(pid) == 1
            raise RuntimeError("killed")
    assert await count_runs_and_payouts(pool.database, pid) == before
    assert (await check_ledger(pool.database, [pid]))[pid]["owed"] == 2 * TON
    # A replica makes the run and stops before anyone exports it; a new one exports the same.
    replica = build_server(make_settings(database_url), background_duties=False)
    await replica.start()
    made = await payout_runs.PayoutRuns(replica.database, policy, replica.events).create()
    assert [p.amount_nanoton for p in made.payouts if p.participant_id == pid] == [2 * TON]
    first_export = await payout_runs.PayoutRuns(replica.database, policy, replica.events).export(made.run.id, "json")
    await replica.stop(0)
    restarted = build_server(make_settings(database_url), background_duties=False)
    await restarted.start()
    try:
        assert await payout_runs.PayoutRuns(restarted.database, policy, restarted.events).export(made.run.id, "json") == first_export
        assert any(item["amount_nanoton"] == str(2 * TON) for item in json.loads(first_export[0])["payouts"])
        again = await payout_runs.PayoutRuns(restarted.database, policy, restarted.events).create()
        assert [p for p in again.payouts if p.participant_id == pid] == []
    finally:
        await restarted.stop(0)
    await check_ledger(pool.database, [pid])


async def test_two_replicas_running_the_same_slot_at_once_make_one_run(pool, stubs, database_url):
    owners = [await owner(stubs) for _ in range(4)]
    for pid, worker, _ in owners:
        await earn(pool.database, pid, worker, 2 * TON)
    replicas = [build_server(make_settings(database_url, payout_interval_s=3600), background_duties=False)
                for _ in range(2)]
    for replica in replicas:
        await replica.start()
    try:
        policy = PayoutPolicy(minimum_nanoton=TON, interval_s=3600)
        made = await asyncio.gather(*[payout_runs.run_scheduled(r.database, r.events, policy) for r in replicas * 2])
        runs = [m for m in made if m is not None]
        assert len(runs) == 1 and runs[0].trigger == "scheduled"
        async with pool.database.transaction() as session:
            slot_runs = (await session.scalars(select(PayoutRun).where(PayoutRun.slot == runs[0].slot))).all()
            payouts = (await session.scalars(select(Payout).where(
                Payout.participant_id.in_([pid for pid, _, _ in owners])))).all()
        assert len(slot_runs) == 1
        assert sorted((p.participant_id, p.amount_nanoton, p.run_id) for p in payouts) == [
            (pid, 2 * TON, runs[0].id) for pid, _, _ in owners]
        # On demand at once in both replicas too: what is owed is reserved once.
        for pid, worker, _ in owners:
            await earn(pool.database, pid, worker, TON)
        manual = await asyncio.gather(*[payout_runs.PayoutRuns(r.database, policy, r.events).create() for r in replicas])
        paid_now = [p.participant_id for view in manual for p in view.payouts if p.participant_id in
                    {pid for pid, _, _ in owners}]
        assert sorted(paid_now) == sorted(pid for pid, _, _ in owners)
    finally:
        for replica in replicas:
            await replica.stop(0)
    figures = await check_ledger(pool.database, [pid for pid, _, _ in owners])
    assert {f["reserved"] for f in figures.values()} == {3 * TON}


async def test_the_duty_makes_the_scheduled_run_in_a_replica(pool, stubs, database_url):
    pid, worker, _ = await owner(stubs)
    await earn(pool.database, pid, worker, 2 * TON)
    # A year's interval: a slot no other test's run took (the previous test's hour is taken).
    replica = build_server(make_settings(database_url, payout_interval_s=366 * 86400))
    await replica.start()
    try:
        for _ in range(600):  # the duty's first round runs at start
            async with pool.database.transaction() as session:
                found = (await session.scalars(select(Payout).where(Payout.participant_id == pid))).all()
            if found:
                break
            await asyncio.sleep(0.05)
    finally:
        await replica.stop(0)
    [payout] = found
    async with pool.database.transaction() as session:
        assert (await session.get(PayoutRun, payout.run_id)).trigger == "scheduled"
    await check_ledger(pool.database, [pid])


async def test_the_ton_watcher_confirms_by_comment_amount_and_destination(pool, stubs, database_url):
    pids = [await owner(stubs) for _ in range(4)]
    for pid, worker, _ in pids:
        await earn(pool.database, pid, worker, 2 * TON)
    the_run = await run(stubs)
    good, wrong_amount, as_data, elsewhere = [of(the_run, pid)[0] for pid, _, _ in pids]
    recorded_hash = tx_hash()  # the hash the operator recorded; the chain's may differ (a message hash)
    await set_status(stubs, as_data.id, "sent", transaction_hash=recorded_hash)
    ton = await FakeTonCenter().start()
    utime = 1_764_850_000
    ton.add_transfer(source=POOL_WALLET, destination=forms(new_wallet())["raw"], amount=good.amount_nanoton,
                     comment=good.comment, utime=utime - 5)  # the right comment to another wallet
    good_hash = ton.add_transfer(source=POOL_WALLET, destination=good.to_address, amount=good.amount_nanoton,
                                 comment=good.comment, utime=utime)
    ton.add_transfer(source=POOL_WALLET, destination=wrong_amount.to_address, amount=wrong_amount.amount_nanoton - 1,
                     comment=wrong_amount.comment, utime=utime)
    ton.add_transfer(source=POOL_WALLET, destination=elsewhere.to_address, amount=elsewhere.amount_nanoton,
                     comment="thanks", utime=utime)
    ton.transactions.insert(0, {"utime": "x", "transaction_id": {}, "out_msgs": [{}]})  # unreadable: skipped
    try:
        async with aiohttp.ClientSession() as session:
            center = TonCenter(ton.url, "secret-key", session)
            assert await payout_runs.watch_once(pool.database, pool.events, center, POOL_WALLET, 50) == 1
            assert ton.requests[-1] == ({"address": POOL_WALLET, "limit": "50"}, "secret-key")
            assert await payout_runs.watch_once(pool.database, pool.events, center, POOL_WALLET, 50) == 0  # once
        confirmed = await stubs.payouts.GetPayout(pb.GetPayoutRequest(payout_id=good.id), metadata=AUTH)
        assert (confirmed.status, confirmed.transaction_hash, confirmed.confirmed_at.seconds) == (
            "confirmed", good_hash, utime)
        for other in (wrong_amount, as_data, elsewhere):
            got = await stubs.payouts.GetPayout(pb.GetPayoutRequest(payout_id=other.id), metadata=AUTH)
            assert got.status in ("pending", "sent")
        # The comment only in msg_data (base64), and a server that runs the watcher itself.
        ton.add_transfer(source=POOL_WALLET, destination=as_data.to_address, amount=as_data.amount_nanoton,
                         comment=as_data.comment, utime=utime + 1, comment_as_data=True)
        replica = build_server(make_settings(database_url, ton_api_url=ton.url, pool_wallet_address=POOL_WALLET,
                                             ton_watch_s=0.2))
        await replica.start()
        try:
            for _ in range(600):  # its first round runs at start
                if (await stubs.payouts.GetPayout(pb.GetPayoutRequest(payout_id=as_data.id),
                                                  metadata=AUTH)).status == "confirmed":
                    break
                await asyncio.sleep(0.05)
        finally:
            await replica.stop(0)
        got = await stubs.payouts.GetPayout(pb.GetPayoutRequest(payout_id=as_data.id), metadata=AUTH)
        assert got.transaction_hash == recorded_hash  # the watcher keeps what was recorded
    finally:
        await ton.stop()
    figures = await check_ledger(pool.database, [pid for pid, _, _ in pids])
    assert [figures[pid]["paid"] for pid, _, _ in pids] == [2 * TON, 0, 2 * TON, 0]


async def test_balance_changes_and_daily_earnings(pool, stubs, http):
    pid, worker, _ = await owner(stubs)
    second_worker = (await new_worker(stubs, pid, name="Worker-1", instance=1)).id
    await earn(pool.database, pid, worker, TON)
    await earn(pool.database, pid, second_worker, 2 * TON)
    await earn(pool.database, pid, worker, 5)
    [payout] = of(await run(stubs), pid)
    await set_status(stubs, payout.id, "failed")
    changes = await stubs.participants.ListBalanceChanges(participant_pb.ListBalanceChangesRequest(
        participant_id=pid), metadata=AUTH)
    assert [(c.reason, c.amount_nanoton, c.balance_after_nanoton, c.payout_id) for c in changes.changes] == [
        ("release", 3 * TON + 5, 3 * TON + 5, payout.id), ("reserve", -(3 * TON + 5), 0, payout.id),
        ("earning", 5, 3 * TON + 5, 0), ("earning", 2 * TON, 3 * TON, 0), ("earning", TON, TON, 0)]
    assert [c.worker_id for c in changes.changes] == [0, 0, worker, second_worker, worker]
    assert all(len(c.job_id) == 36 for c in changes.changes[2:])
    paged, token = [], ""
    while True:  # one at a time, the same list
        page = await stubs.participants.ListBalanceChanges(participant_pb.ListBalanceChangesRequest(
            participant_id=pid, limit=2, page_token=token), metadata=AUTH)
        paged += page.changes
        if not (token := page.next_page_token):
            break
    assert paged == list(changes.changes)
    daily = await stubs.participants.GetDailyEarnings(participant_pb.GetDailyEarningsRequest(participant_id=pid),
                                                      metadata=AUTH)
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert [(d.date, d.earning_nanoton, d.jobs) for d in daily.days] == [(today, 3 * TON + 5, 3)]
    assert [(w.worker_id, w.earning_nanoton, w.jobs) for w in daily.days[0].workers] == [
        (worker, TON + 5, 2), (second_worker, 2 * TON, 1)]
    per_worker = await stubs.workers.GetWorkerDailyEarnings(worker_pb.GetWorkerDailyEarningsRequest(
        worker_id=second_worker, days=7), metadata=AUTH)
    assert (per_worker.participant_id, [(d.date, d.earning_nanoton, [w.worker_id for w in d.workers])
                                        for d in per_worker.days]) == (pid, [(today, 2 * TON, [second_worker])])
    status, body, _ = await call(http, "GET", f"/api/v1/workers/{worker}/earnings/daily")
    assert status == 200 and body["days"][0]["earning_nanoton"] == str(TON + 5)
    status, body, _ = await call(http, "GET", f"/api/v1/participants/{pid}/earnings/daily?days=1")
    assert status == 200 and body["days"][0]["earning_nanoton"] == str(3 * TON + 5)
    status, body, headers = await call(http, "GET", f"/api/v1/participants/{pid}/balance-changes?limit=1")
    assert status == 200 and [c["reason"] for c in body["changes"]] == ["release"] and body["next_page_token"]
    assert body["changes"][0]["amount_nanoton"] == str(3 * TON + 5)
    for days in (0, 367, -1):
        code, _, fields, _ = await refused(stubs.participants.GetDailyEarnings(participant_pb.GetDailyEarningsRequest(
            participant_id=pid, days=days), metadata=AUTH))
        assert (code, fields) == (grpc.StatusCode.INVALID_ARGUMENT, ["days"])
    await check_ledger(pool.database, [pid])


async def test_metrics_show_what_is_owed_and_payouts_by_status(pool, stubs):
    pid, worker, _ = await owner(stubs)
    await earn(pool.database, pid, worker, 4 * TON)
    await pool.refresh_metrics()
    before = {status: pool.collector.payouts.get(status, (0, 0)) for status in ("pending", "confirmed")}
    owed_before = pool.collector.owed_nanoton
    the_run = await run(stubs)  # pays whoever else is due too
    [payout] = of(the_run, pid)
    await pool.refresh_metrics()
    assert pool.collector.owed_nanoton == owed_before - the_run.total_nanoton
    count, amount = pool.collector.payouts["pending"]
    assert (count, amount) == (before["pending"][0] + the_run.payout_count,
                               before["pending"][1] + the_run.total_nanoton)
    await set_status(stubs, payout.id, "confirmed", transaction_hash=tx_hash())
    await pool.refresh_metrics()
    assert pool.collector.payouts["confirmed"][1] == before["confirmed"][1] + 4 * TON
    samples = {(m.name, s.labels.get("status")): s.value for m in pool.collector.collect() for s in m.samples}
    assert samples[("payouts_amount_ton", "confirmed")] == pool.collector.payouts["confirmed"][1] / TON
    assert ("payouts_owed_ton", None) in samples and ("payouts", "failed") in samples
