"""Alerts on SQLite and PostgreSQL, against real receivers: an aiohttp server for webhooks (its
signatures checked with the SDK), a stand-in for Telegram's Bot API and an aiosmtpd inbox.

Rules fire once per incident, recover once, respect where the participant wants to hear; a
failing channel is retried, then disabled; a notification whose sender died is sent again with
the same id; two replicas judging at once open one incident."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time

import grpc
import pytest
from aiosmtpd.controller import Controller
from computepool import webhooks
from computepool.v1 import alert_service_pb2 as pb
from computepool.v1 import alert_service_pb2_grpc
from computepool.v1 import miner_service_pb2 as miner_pb
from computepool.v1 import participant_service_pb2 as participant_pb
from computepool.v1 import participant_service_pb2_grpc
from computepool.v1 import payout_service_pb2 as payout_pb
from computepool.v1 import payout_service_pb2_grpc
from computepool.v1 import worker_service_pb2 as worker_pb
from computepool.v1 import worker_service_pb2_grpc
from coordinator.alerts.incidents import AlertEvaluator
from coordinator.alerts.outbox import Sender, SenderConfig
from coordinator.app import build_server
from coordinator.events.bus import watch as watch_events
from coordinator.identity.callers import Caller, CallerKind
from coordinator.storage.models import Notification

from sqlalchemy import func, select

from tests.support.identity import Identity
from tests.support.miner import Miner
from tests.support.payouts import TON, earn
from tests.support.ports import free_port
from tests.support.receivers import Inbox, Receiver
from tests.support.rest import call
from tests.support.rpc_errors import error_details, error_metadata
from tests.support.server import AUTH, make_settings
from tests.support.wallets import forms, new_wallet, tx_hash

BOT_TOKEN = "123:abc"
ADMIN = Caller(CallerKind.ADMIN)


class Alerting:
    """A server whose notifications go to local receivers; tests drive judging and sending."""

    def __init__(self, database_url: str, webhook: Receiver, bot_api: Receiver, inbox_port: int):
        self.settings = make_settings(database_url, telegram_api_url=bot_api.url, telegram_bot_token=BOT_TOKEN,
                                      smtp_host="127.0.0.1", smtp_port=inbox_port, smtp_from="pool@example.org",
                                      webhook_private_addresses=True, notify_retry_s=0.01, notify_disable_after=2,
                                      sample_every_s=0.0)
        self.webhook, self.bot_api = webhook, bot_api
        self.server = build_server(self.settings, background_duties=False)

    async def start(self) -> Alerting:
        await self.server.start()
        self.channel = grpc.aio.insecure_channel(f"127.0.0.1:{self.server.grpc_port}")
        self.alerts = alert_service_pb2_grpc.AlertServiceStub(self.channel)
        self.participants = participant_service_pb2_grpc.ParticipantServiceStub(self.channel)
        self.evaluator = AlertEvaluator(self.server.database, self.server.events, 30.0)
        self.sender = Sender(self.server.database, SenderConfig.from_settings(self.settings))
        return self

    async def stop(self) -> None:
        await self.channel.close()
        await self.server.stop(0)

    async def owner(self, **contact) -> tuple[int, Miner]:
        """A participant (with these contact fields) and a registered miner of it."""
        wallet = forms(new_wallet())["non_bounceable"]
        created = await self.participants.CreateParticipant(participant_pb.CreateParticipantRequest(
            ton_wallet_address=wallet, **contact), metadata=AUTH)
        return created.id, await Miner(self.channel, wallet=wallet).register()

    async def settle(self) -> None:
        """Heartbeats written, rules judged, every notification sent or given up (retries included)."""
        await self.server.heartbeats.flush()
        await self.evaluator.evaluate(None)
        for _ in range(500):
            await self.sender.send_due()
            async with self.server.database.transaction() as session:
                if not await session.scalar(select(func.count()).where(Notification.status == "pending")):
                    return
            await asyncio.sleep(0.01)
        raise AssertionError("notifications still pending after 5 s")


@pytest.fixture(scope="module")
async def alerting(database_url):
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    async with Receiver() as webhook, Receiver() as bot_api:
        pool = await Alerting(database_url, webhook, bot_api, smtp.port).start()
        pool.inbox = inbox
        try:
            yield pool
        finally:
            await pool.stop()
            smtp.stop()


def rule(kind: str, threshold: float = 0.0, *channels: str) -> pb.AlertRule:
    return pb.AlertRule(kind=kind, threshold=threshold, channels=list(channels) or ["webhook"])


async def configure(alerting: Alerting, participant_id: int, rules: list[pb.AlertRule],
                    channels=("webhook",), webhook_path="/hook") -> pb.AlertSettings:
    made = [pb.NotificationChannel(kind=kind, enabled=True,
                                   webhook_url=f"{alerting.webhook.url}{webhook_path}" if kind == "webhook" else "")
            for kind in channels]
    return await alerting.alerts.UpdateAlertSettings(pb.UpdateAlertSettingsRequest(
        participant_id=participant_id, rules=rules, channels=made), metadata=AUTH)


async def beat(miner: Miner, temperature: float | None = None, requests: int = 0, errors: int = 0) -> None:
    heartbeat = miner_pb.Heartbeat(status="healthy", requests_total=requests, errors_total=errors)
    if temperature is not None:
        heartbeat.gpu_utilization, heartbeat.gpu_temperature_celsius = 50.0, temperature
    await miner.stub.SendHeartbeat(miner_pb.SendHeartbeatRequest(miner_id=miner.id, heartbeat=heartbeat),
                                   metadata=miner.metadata)


def hooks_for(receiver: Receiver, path: str) -> list[dict]:
    """The webhook bodies that reached `path`, each checked against its signature."""
    return [json.loads(body) for p, _, body, _ in receiver.requests if p == path]


async def incidents(alerting: Alerting, participant_id: int) -> list[pb.Incident]:
    return list((await alerting.alerts.ListIncidents(pb.ListIncidentsRequest(participant_id=participant_id),
                                                     metadata=AUTH)).incidents)


async def notifications(alerting: Alerting, participant_id: int) -> list[pb.Notification]:
    return list((await alerting.alerts.ListNotifications(
        pb.ListNotificationsRequest(participant_id=participant_id), metadata=AUTH)).notifications)


async def test_a_hot_gpu_is_told_once_on_every_channel_asked_for_and_its_recovery_once(alerting):
    telegram_id = 770000 + free_port()
    pid, miner = await alerting.owner(telegram_user_id=telegram_id, email="owner@example.org")
    settings = await configure(alerting, pid, [rule("worker_temperature", 85, "webhook", "telegram", "email"),
                                               rule("worker_offline", 60, "telegram")],
                               channels=("webhook", "telegram", "email"), webhook_path=f"/hot/{pid}")
    secret = next(c.webhook_secret for c in settings.channels if c.kind == "webhook")
    await beat(miner, temperature=70)
    await alerting.settle()
    assert await incidents(alerting, pid) == []
    for temperature in (91, 93, 83):  # 83: within 3 °C of the limit, not yet recovered
        await beat(miner, temperature=temperature)
        await alerting.settle()
    [incident] = await incidents(alerting, pid)
    assert incident.rule == "worker_temperature" and incident.worker_id == miner.worker_id
    assert "91.0 °C" in incident.summary and not incident.HasField("resolved_at")
    await beat(miner, temperature=80)
    await alerting.settle()
    await alerting.settle()  # judging again changes nothing
    [incident] = await incidents(alerting, pid)
    assert incident.HasField("resolved_at")

    hooks = [(path, headers, body) for path, headers, body, _ in alerting.webhook.requests if path == f"/hot/{pid}"]
    assert [json.loads(body)["type"] for _, _, body in hooks] == ["worker_temperature.opened",
                                                                  "worker_temperature.recovered"]
    for _, headers, body in hooks:
        webhooks.verify(secret, body, headers[webhooks.SIGNATURE_HEADER])
    messages = [json.loads(body)["text"] for path, _, body, _ in alerting.bot_api.requests
                if json.loads(body)["chat_id"] == telegram_id]
    assert [m.split("\n")[0] for m in messages] == ["GPU too hot", "GPU temperature back to normal"]
    mails = [m["Subject"] for m in alerting.inbox.messages if m["To"] == "owner@example.org"]
    assert mails == ["GPU too hot", "GPU temperature back to normal"]
    log = await notifications(alerting, pid)
    assert sorted((n.channel, n.type, n.status, n.attempts) for n in log) == sorted(
        (channel, f"worker_temperature.{phase}", "delivered", 1)
        for channel in ("webhook", "telegram", "email") for phase in ("opened", "recovered"))
    assert len({n.notice_id for n in log}) == 6
    first = await alerting.alerts.ListNotifications(pb.ListNotificationsRequest(participant_id=pid, limit=4),
                                                    metadata=AUTH)
    rest = await alerting.alerts.ListNotifications(pb.ListNotificationsRequest(
        participant_id=pid, limit=4, page_token=first.next_page_token), metadata=AUTH)
    assert [n.notification_id for n in [*first.notifications, *rest.notifications]] == [n.notification_id for n in log]
    assert len(rest.notifications) == 2 and rest.next_page_token == ""


async def test_an_offline_worker_and_a_silent_participant_open_after_the_minutes_and_recover(alerting):
    pid, miner = await alerting.owner()
    await configure(alerting, pid, [rule("worker_offline", 0.02), rule("participant_silent", 0.02)],
                    webhook_path=f"/silent/{pid}")
    await beat(miner)
    await alerting.settle()
    assert await incidents(alerting, pid) == []
    await asyncio.sleep(1.5)  # more than 0.02 minutes
    await alerting.settle()
    assert sorted(i.rule for i in await incidents(alerting, pid)) == ["participant_silent", "worker_offline"]
    await beat(miner)
    await alerting.settle()
    assert all(i.HasField("resolved_at") for i in await incidents(alerting, pid))
    assert sorted(h["type"] for h in hooks_for(alerting.webhook, f"/silent/{pid}")) == [
        "participant_silent.opened", "participant_silent.recovered", "worker_offline.opened",
        "worker_offline.recovered"]


async def test_an_error_rate_over_the_limit_fires_once_enough_requests_were_made(alerting):
    pid, miner = await alerting.owner()
    await configure(alerting, pid, [rule("worker_error_rate", 10)], webhook_path=f"/errors/{pid}")
    for requests, errors in ((100, 1), (105, 5)):  # 5 requests: too few to judge, though 80 % failed
        await beat(miner, requests=requests, errors=errors)
        await alerting.settle()
    assert await incidents(alerting, pid) == []
    await beat(miner, requests=120, errors=10)  # 20 requests, 9 failed: 45 %
    await alerting.settle()
    [incident] = await incidents(alerting, pid)
    assert "failed 9 of 20 requests" in incident.summary
    assert [h["type"] for h in hooks_for(alerting.webhook, f"/errors/{pid}")] == ["worker_error_rate.opened"]


async def test_payouts_sent_and_failed_are_told_and_seen_as_events(alerting):
    pid, miner = await alerting.owner()
    await configure(alerting, pid, [rule("payout", 0, "webhook")], webhook_path=f"/paid/{pid}")
    database = alerting.server.database
    payouts = payout_service_pb2_grpc.PayoutServiceStub(alerting.channel)
    seen = []

    async def watch():
        async for event in watch_events(alerting.server.events, ADMIN, {"payout.state_changed"}):
            seen.append(event)

    watcher = asyncio.create_task(watch())
    try:
        await earn(database, pid, miner.worker_id, 2 * TON)
        run = await payouts.CreatePayoutRun(payout_pb.CreatePayoutRunRequest(), metadata=AUTH)
        [first] = [p for p in run.payouts if p.participant_id == pid]
        await payouts.UpdatePayoutStatus(payout_pb.UpdatePayoutStatusRequest(
            payout_id=first.id, status="sent", transaction_hash=tx_hash()), metadata=AUTH)
        await earn(database, pid, miner.worker_id, TON)
        run = await payouts.CreatePayoutRun(payout_pb.CreatePayoutRunRequest(), metadata=AUTH)
        [second] = [p for p in run.payouts if p.participant_id == pid]
        await payouts.UpdatePayoutStatus(payout_pb.UpdatePayoutStatusRequest(
            payout_id=second.id, status="failed", failure_reason="bounced"), metadata=AUTH)
        await alerting.settle()
        for _ in range(50):
            if len([e for e in seen if e.participant_id == pid]) >= 4:
                break
            await asyncio.sleep(0.1)
    finally:
        watcher.cancel()
    told = hooks_for(alerting.webhook, f"/paid/{pid}")
    assert [(h["type"], h["data"]["payout_id"]) for h in told] == [("payout.sent", first.id),
                                                                  ("payout.failed", second.id)]
    assert "3 TON" not in told[0]["text"] and "2 TON sent to" in told[0]["text"] and "bounced" in told[1]["text"]
    mine = [(e.data["payout_id"], e.data["old"], e.data["new"]) for e in seen if e.participant_id == pid]
    assert mine == [(first.id, None, "pending"), (first.id, "pending", "sent"), (second.id, None, "pending"),
                    (second.id, "pending", "failed")]


async def test_a_failing_webhook_is_retried_then_disabled_and_its_owner_enables_it_again(alerting):
    pid, miner = await alerting.owner()
    path = f"/flaky/{pid}"
    await configure(alerting, pid, [rule("worker_temperature", 85), rule("worker_offline", 0.02)], webhook_path=path)
    alerting.webhook.statuses[:] = [503, 503, 410]  # away twice, then gone
    await beat(miner, temperature=95)
    await alerting.settle()  # opened: 503, retried 10 ms later: 503, then 410: failed
    [first] = await notifications(alerting, pid)
    assert (first.status, first.attempts) == ("failed", 3) and "410" in first.last_error
    alerting.webhook.statuses[:] = [400]
    await asyncio.sleep(1.5)
    await alerting.settle()  # the worker offline too: its notice fails, the second in a row
    settings = await alerting.alerts.GetAlertSettings(pb.GetAlertSettingsRequest(participant_id=pid), metadata=AUTH)
    [webhook] = settings.channels
    assert not webhook.enabled and webhook.consecutive_failures == 2 and "400" in webhook.disabled_reason
    await beat(miner, temperature=70)  # both recover: nothing is sent to a disabled channel
    await alerting.settle()
    assert len(await notifications(alerting, pid)) == 2
    assert len([p for p, *_ in alerting.webhook.requests if p == path]) == 4
    enabled = await configure(alerting, pid, [rule("worker_temperature", 85)], webhook_path=path)
    assert enabled.channels[0].enabled and enabled.channels[0].disabled_reason == ""
    assert enabled.channels[0].webhook_secret == webhook.webhook_secret  # same URL, same secret
    await beat(miner, temperature=99)
    await alerting.settle()
    assert hooks_for(alerting.webhook, path)[-1]["type"] == "worker_temperature.opened"


async def test_a_worker_its_owner_deactivates_ends_its_incidents_without_a_recovery_message(alerting):
    pid, miner = await alerting.owner()
    path = f"/retired/{pid}"
    await configure(alerting, pid, [rule("worker_temperature", 85)], webhook_path=path)
    await beat(miner, temperature=95)
    await alerting.settle()
    workers = worker_service_pb2_grpc.WorkerServiceStub(alerting.channel)
    await workers.UpdateWorker(worker_pb.UpdateWorkerRequest(worker_id=miner.worker_id, is_active=False), metadata=AUTH)
    await alerting.settle()
    [incident] = await incidents(alerting, pid)
    assert incident.HasField("resolved_at")
    assert [h["type"] for h in hooks_for(alerting.webhook, path)] == ["worker_temperature.opened"]


async def test_a_notification_whose_sender_died_is_sent_again_with_the_same_id(alerting):
    pid, miner = await alerting.owner()
    path = f"/crash/{pid}"
    await configure(alerting, pid, [rule("worker_temperature", 85)], webhook_path=path)
    await beat(miner, temperature=95)
    await alerting.server.heartbeats.flush()
    await alerting.evaluator.evaluate(None)
    dying = Sender(alerting.server.database, SenderConfig.from_settings(alerting.settings),
                   lease=dt.timedelta(seconds=0.5))

    async def never_returns(*_):
        await asyncio.sleep(3600)

    dying._send = never_returns  # the replica stops while it sends: claimed, never recorded
    crashed = asyncio.create_task(dying.send_due())
    await asyncio.sleep(0.3)
    crashed.cancel()
    assert await alerting.sender.send_due() == 0  # still under the dead replica's lease
    await asyncio.sleep(0.4)
    assert await alerting.sender.send_due() == 1
    [notice] = await notifications(alerting, pid)
    [(_, headers, _, _)] = [r for r in alerting.webhook.requests if r[0] == path]
    assert notice.status == "delivered" and notice.attempts == 2 and headers["X-Computepool-Delivery"] == notice.notice_id


async def test_replicas_judging_at_once_open_one_incident_and_tell_it_once(alerting, database_url):
    pid, miner = await alerting.owner()
    path = f"/replicas/{pid}"
    await configure(alerting, pid, [rule("worker_temperature", 85)], webhook_path=path)
    await beat(miner, temperature=95)
    await alerting.server.heartbeats.flush()
    replicas = [build_server(make_settings(database_url), background_duties=False) for _ in range(3)]
    for replica in replicas:
        await replica.start()
    try:
        judged = await asyncio.gather(*[AlertEvaluator(r.database, r.events, 30).evaluate({pid})
                                        for r in replicas * 2])
    finally:
        for replica in replicas:
            await replica.stop(0)
    assert sum(opened for opened, _ in judged) == 1
    while await alerting.sender.send_due():
        pass
    assert len(await incidents(alerting, pid)) == 1 and len(hooks_for(alerting.webhook, path)) == 1


async def test_the_duties_of_a_running_server_judge_on_the_heartbeat_and_send(database_url):
    """No test driving: the evaluator woken by the heartbeat's event, the sender on its own."""
    async with Receiver() as receiver:
        server = build_server(make_settings(database_url, webhook_private_addresses=True, alert_interval_s=3600))
        await server.start()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}")
        try:
            miner = await Miner(channel).register()
            alerts = alert_service_pb2_grpc.AlertServiceStub(channel)
            worker = await worker_service_pb2_grpc.WorkerServiceStub(channel).GetWorker(
                worker_pb.GetWorkerRequest(worker_id=miner.worker_id), metadata=AUTH)
            await alerts.UpdateAlertSettings(pb.UpdateAlertSettingsRequest(
                participant_id=worker.participant_id, rules=[rule("worker_temperature", 85)],
                channels=[pb.NotificationChannel(kind="webhook", enabled=True, webhook_url=f"{receiver.url}/live")]),
                metadata=AUTH)
            started = time.monotonic()
            await beat(miner, temperature=96)
            while not receiver.requests and time.monotonic() - started < 10:
                await asyncio.sleep(0.05)
            assert [json.loads(body)["type"] for _, _, body, _ in receiver.requests] == ["worker_temperature.opened"]
        finally:
            await channel.close()
            await server.stop(0)


@pytest.mark.parametrize("rules, channels, field, reason", [
    ([rule("worker_hot", 1)], ["webhook"], "rules[0].kind", "VALIDATION_ERROR"),
    ([rule("worker_temperature", 500)], ["webhook"], "rules[0].threshold", "VALIDATION_ERROR"),
    ([rule("worker_offline", 0)], ["webhook"], "rules[0].threshold", "VALIDATION_ERROR"),
    ([rule("payout", 3)], ["webhook"], "rules[0].threshold", "VALIDATION_ERROR"),
    ([rule("payout", 0, "email")], ["webhook"], "rules[0].channels[0]", "VALIDATION_ERROR"),
    ([rule("payout"), rule("payout")], ["webhook"], "rules[1].kind", "VALIDATION_ERROR"),
    ([], ["pager"], "channels[0].kind", "VALIDATION_ERROR"),
    ([], ["telegram"], "channels[0]", "CHANNEL_UNAVAILABLE"),  # the participant has no telegram_user_id
])
async def test_bad_settings_are_refused_naming_the_field_and_change_nothing(alerting, rules, channels, field,
                                                                           reason):
    pid, _ = await alerting.owner()
    before = await configure(alerting, pid, [rule("worker_offline", 5)])
    made = [pb.NotificationChannel(kind=kind, enabled=True,
                                   webhook_url=f"{alerting.webhook.url}/x" if kind == "webhook" else "")
            for kind in channels]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await alerting.alerts.UpdateAlertSettings(pb.UpdateAlertSettingsRequest(
            participant_id=pid, rules=rules, channels=made), metadata=AUTH)
    code, got_reason, _ = error_details(refused.value)
    assert (code, got_reason, error_metadata(refused.value)["field"]) == (
        grpc.StatusCode.FAILED_PRECONDITION if reason == "CHANNEL_UNAVAILABLE" else grpc.StatusCode.INVALID_ARGUMENT,
        reason, field)
    after = await alerting.alerts.GetAlertSettings(pb.GetAlertSettingsRequest(participant_id=pid), metadata=AUTH)
    assert after == before


async def test_over_rest_the_owner_sets_and_reads_its_alerts_and_a_private_webhook_is_refused(channel, http, stubs):
    pid = (await stubs.participants.CreateParticipant(participant_pb.CreateParticipantRequest(
        ton_wallet_address=forms(new_wallet())["raw"]), metadata=AUTH)).id
    body = {"rules": [{"kind": "worker_offline", "threshold": 10, "channels": ["webhook"]}],
            "channels": [{"kind": "webhook", "enabled": True, "webhook_url": "https://hooks.example.org/pool"}]}
    status, saved, _ = await call(http, "PUT", f"/api/v1/participants/{pid}/alerts", body)
    assert status == 200 and saved["rules"] == body["rules"] and len(saved["channels"][0]["webhook_secret"]) == 64
    status, read, _ = await call(http, "GET", f"/api/v1/participants/{pid}/alerts")
    assert (status, read) == (200, saved)
    private = {**body, "channels": [{"kind": "webhook", "enabled": True, "webhook_url": "http://127.0.0.1:9464/x"}]}
    status, refused, _ = await call(http, "PUT", f"/api/v1/participants/{pid}/alerts", private)
    assert status == 422 and "channels[0].webhook_url" in json.dumps(refused)
    status, listed, _ = await call(http, "GET", f"/api/v1/participants/{pid}/incidents?open_only=true")
    assert (status, listed) == (200, {"incidents": [], "next_page_token": ""})
    _, other_key = await Identity(channel).api_key("client")
    status, _, _ = await call(http, "GET", f"/api/v1/participants/{pid}/notifications", headers=dict(other_key))
    assert status == 403
