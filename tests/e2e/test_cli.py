"""The `computepool` command line as a real process against a real server: every group, tables and
--json, configuration from flags, the environment and a file, and its documented exit codes."""

import asyncio
import json
import os
import signal
import sys

from computepool.v1 import job_service_pb2 as job_pb
from computepool.v1 import job_service_pb2_grpc
from computepool.v1 import participant_service_pb2 as participant_pb
from computepool.v1 import payout_service_pb2 as payout_pb

from tests.support.miner import Miner, cancel_open_jobs
from tests.support.payouts import TON, earn
from tests.support.pool_api import new_worker
from tests.support.ports import free_port
from tests.support.server import API_KEY, AUTH
from tests.support.wallets import forms, new_wallet, tx_hash


async def cli(pool, *args: str, api_key: str | None = API_KEY, env: dict | None = None, stdin: bytes = b""
              ) -> tuple[int, str, str]:
    target = ("--url", f"127.0.0.1:{pool.grpc_port}") if pool else ()
    key = ("--api-key", api_key) if api_key else ()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "computepool_cli", *target, *key, *args, env={**os.environ, **(env or {})},
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate(stdin)
    return process.returncode, out.decode(), err.decode()


async def new_participant(stubs) -> participant_pb.Participant:
    return await stubs.participants.CreateParticipant(participant_pb.CreateParticipantRequest(
        ton_wallet_address=forms(new_wallet())["raw"]), metadata=AUTH)


async def test_keys_are_created_listed_and_revoked_from_the_command_line(pool, stubs):
    owner = await new_participant(stubs)
    code, out, _ = await cli(pool, "--json", "api-keys", "create", "--role", "miner", "--participant-id",
                             str(owner.id), "--label", "from the cli")
    assert code == 0
    created = json.loads(out)
    assert created["key"].startswith("cpk_") and created["api_key"]["role"] == "miner"
    key_id = created["api_key"]["id"]

    code, out, _ = await cli(pool, "--json", "api-keys", "list")
    assert code == 0 and any(k["id"] == key_id and not k.get("revoked_at") for k in json.loads(out))
    assert created["key"] not in out

    code, out, _ = await cli(pool, "api-keys", "list")  # a table for people
    assert code == 0 and out.splitlines()[0].split()[:3] == ["id", "prefix", "role"]

    code, out, _ = await cli(pool, "--json", "api-keys", "revoke", str(key_id))
    assert code == 0 and json.loads(out)["revoked_at"]


async def test_exit_codes_say_what_went_wrong(pool):
    code, out, err = await cli(pool, "api-keys", "list", api_key="not-a-key")
    assert (code, out) == (1, "") and "UNAUTHENTICATED" in err and "API_KEY_INVALID" in err
    code, _, err = await cli(pool, "jobs", "submit", "echo", "--priority", "12")
    assert code == 1 and "priority: must be between 0 and 9" in err  # the offending field, named
    code, _, err = await cli(pool, "jobs", "submit")
    assert code == 2 and "TYPE" in err
    code, _, _ = await cli(pool, "jobs", "no-such-action")
    assert code == 2
    code, _, err = await cli(None, "--url", f"127.0.0.1:{free_port()}", "--timeout", "1", "jobs", "status", "x")
    assert code == 3 and "UNAVAILABLE" in err


async def test_a_job_submitted_followed_verified_from_the_command_line(pool, channel, tmp_path):
    await cancel_open_jobs(pool.database)  # the test miner is offered only this test's job
    code, out, _ = await cli(pool, "--json", "jobs", "submit", "echo", "--param", "text=hi", "--param", "n=3")
    assert code == 0
    job = json.loads(out)
    assert job["status"] == "pending" and job["parameters"] == {"text": "hi", "n": 3}

    watching = asyncio.create_task(cli(pool, "jobs", "watch", job["id"]))
    miner = await Miner(channel, job_types=("echo",)).register()
    await miner.complete(await miner.lease(job["id"], attempts=50), {"text": "hi back"})
    code, out, _ = await asyncio.wait_for(watching, 30)
    assert code == 0 and out.split()[-3:] == ["completed", "attempt", "1"]

    code, out, _ = await cli(pool, "jobs", "result", job["id"])
    assert code == 0 and json.loads(out) == {"text": "hi back"}
    code, out, _ = await cli(pool, "--json", "jobs", "receipts", job["id"])
    (receipt,) = json.loads(out)
    (tmp_path / "receipt.json").write_text(json.dumps(receipt))
    code, out, _ = await cli(pool, "receipts", "verify", str(tmp_path / "receipt.json"))
    assert (code, out.strip()) == (0, "valid")
    receipt["units"] = str(int(receipt["units"]) + 1)
    code, out, _ = await cli(pool, "receipts", "verify", "-", stdin=json.dumps(receipt).encode())
    assert (code, out.strip()) == (5, "INVALID: units differs from the signed payload")


async def test_a_cancelled_job_ends_its_watch_with_exit_4(pool):
    _, out, _ = await cli(pool, "--json", "jobs", "submit", "echo")
    job_id = json.loads(out)["id"]
    code, out, _ = await cli(pool, "jobs", "cancel", job_id)
    assert code == 0 and "cancelled" in out
    code, out, _ = await cli(pool, "jobs", "watch", job_id)
    assert code == 4 and "cancelled" in out
    code, _, err = await cli(pool, "jobs", "result", job_id)
    assert code == 4 and "cancelled" in err


async def test_thousands_of_jobs_from_a_file_in_batches(pool, channel, tmp_path):
    lines = [json.dumps({"job_type": "echo", "parameters": {"n": n}, "idempotency_key": f"file-{n}"})
             for n in range(1500)]
    (tmp_path / "jobs.jsonl").write_text("\n".join(lines) + "\n")
    code, out, err = await cli(pool, "jobs", "submit", "--file", str(tmp_path / "jobs.jsonl"))
    ids = out.split()
    assert code == 0 and len(ids) == len(set(ids)) == 1500
    assert "1500/1500" in err and "submitted 1500 jobs" in err
    job = await job_service_pb2_grpc.JobServiceStub(channel).GetJobStatus(
        job_pb.GetJobStatusRequest(job_id=ids[-1]), metadata=AUTH)
    assert job.parameters["n"] == 1499
    code, again, _ = await cli(pool, "jobs", "submit", "--file", str(tmp_path / "jobs.jsonl"))
    assert code == 0 and again.split() == ids  # their idempotency keys: nothing submitted twice

    (tmp_path / "bad.jsonl").write_text('{"job_type": "echo"}\n{"job_type": "echo", "colour": "red"}\n')
    code, _, err = await cli(pool, "jobs", "submit", "--file", str(tmp_path / "bad.jsonl"))
    assert code == 2 and "bad.jsonl:2" in err


async def test_workers_participants_and_payouts(pool, stubs, tmp_path):
    wallet = forms(new_wallet())["non_bounceable"]
    code, out, _ = await cli(pool, "--json", "participants", "create", wallet, "--username", "cli")
    participant = json.loads(out)
    code, out, _ = await cli(pool, "participants", "show", wallet)
    assert code == 0 and "cli" in out.split()

    code, out, _ = await cli(pool, "--json", "workers", "create", "--participant-id", str(participant["id"]),
                             "--name", "rig", "--host", "10.0.0.5", "--stats-port", "12000")
    worker = json.loads(out)
    code, out, _ = await cli(pool, "--json", "workers", "update", str(worker["id"]), "--price-coefficient", "1.25",
                             "--inactive")
    assert code == 0 and (json.loads(out)["price_coefficient"], json.loads(out)["is_active"]) == (1.25, False)
    code, out, _ = await cli(pool, "workers", "list", "--participant-id", str(participant["id"]))
    header, row = out.splitlines()
    assert header.split()[:3] == ["id", "participant_id", "worker_name"] and row.split()[:3] == [
        str(worker["id"]), str(participant["id"]), "rig"]

    code, out, _ = await cli(pool, "--json", "payouts", "create", "--participant-id", str(participant["id"]),
                             "--transaction-hash", tx_hash(), "--from-address", forms(new_wallet())["bounceable"],
                             "--to-address", wallet, "--transaction-time", "2025-06-01T12:00:00Z",
                             "--period-start", "2025-05-25T00:00:00Z", "--period-end", "2025-06-01T00:00:00Z",
                             "--amount-ton", "12.5")
    assert code == 0, out
    code, _, err = await cli(pool, "payouts", "tax-report", str(participant["id"]), "--year", "2025",
                             "-o", str(tmp_path / "tax.csv"))
    assert code == 0 and "wrote" in err
    expected = await stubs.payouts.ExportTaxReport(payout_pb.ExportTaxReportRequest(
        participant_id=participant["id"], year=2025), metadata=AUTH)
    assert (tmp_path / "tax.csv").read_bytes() == expected.data


async def test_configuration_from_the_environment_and_a_file(pool, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'url = "http://127.0.0.1:{pool.grpc_port}"\napi_key = "{API_KEY}"\n')
    code, out, _ = await cli(None, "--json", "api-keys", "list", api_key=None, env={"COMPUTEPOOL_CONFIG": str(config)})
    assert code == 0 and isinstance(json.loads(out), list)
    code, _, err = await cli(None, "api-keys", "list", api_key=None, env={
        "COMPUTEPOOL_CONFIG": str(config), "COMPUTEPOOL_API_KEY": "from-the-environment"})
    assert code == 1 and "API_KEY_INVALID" in err  # the environment beats the file
    code, out, _ = await cli(None, "--json", "api-keys", "list", api_key=None, env={
        "COMPUTEPOOL_URL": f"127.0.0.1:{pool.grpc_port}", "COMPUTEPOOL_API_KEY": API_KEY,
        "COMPUTEPOOL_CONFIG": str(tmp_path / "none.toml")})
    assert code == 0


async def test_workers_watch_prints_each_heartbeat_as_it_happens_until_ctrl_c(pool, channel):
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "computepool_cli", "--url", f"127.0.0.1:{pool.grpc_port}", "--api-key", API_KEY,
        "--json", "workers", "watch", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        first = json.loads(await asyncio.wait_for(process.stdout.readline(), 10))
        miner = await Miner(channel).register()
        await miner.heartbeat(gpu=61.0)
        while (line := json.loads(await asyncio.wait_for(process.stdout.readline(), 10)))["data"].get(
                "worker_id") != miner.worker_id or line["type"] != "worker.metrics":
            pass
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.communicate(), 10)
    assert first["type"] == "events.subscribed"
    assert line["data"]["gpu_utilization"] == 61.0 and process.returncode == 130


async def test_a_payout_run_from_the_command_line(pool, stubs, tmp_path):
    owner = await new_participant(stubs)
    worker = await new_worker(stubs, owner.id)
    await earn(pool.database, owner.id, worker.id, 2 * TON)
    code, out, _ = await cli(pool, "--json", "participants", "threshold", str(owner.id), str(3 * TON))
    assert code == 0 and json.loads(out)["payout_threshold_nanoton"] == str(3 * TON)
    code, out, _ = await cli(pool, "--json", "payouts", "run")
    assert code == 0 and owner.id not in [p["participant_id"] for p in json.loads(out).get("payouts", [])]
    code, _, err = await cli(pool, "participants", "threshold", str(owner.id), "5")  # below the pool's minimum
    assert code == 1 and "THRESHOLD_BELOW_POOL_MINIMUM" in err
    assert (await cli(pool, "participants", "threshold", str(owner.id), "0"))[0] == 0
    code, out, _ = await cli(pool, "--json", "payouts", "run")
    run = json.loads(out)
    [payout] = [p for p in run["payouts"] if p["participant_id"] == owner.id]
    code, out, _ = await cli(pool, "payouts", "runs")  # a table for people
    assert code == 0 and out.splitlines()[0].split() == ["id", "trigger", "created_at", "payout_count", "total_ton"]
    target = tmp_path / "run.csv"
    code, _, err = await cli(pool, "payouts", "export", str(run["id"]), "--format", "csv", "-o", str(target))
    assert code == 0 and f"{payout['id']},{payout['to_address']},{2 * TON}," in target.read_text()
    code, out, _ = await cli(pool, "payouts", "export", str(run["id"]), "--format", "json")
    assert code == 0 and json.loads(out)["run_id"] == run["id"]
    sent_hash = tx_hash()
    code, out, _ = await cli(pool, "--json", "payouts", "mark", str(payout["id"]), "sent", "--transaction-hash",
                             sent_hash)
    assert code == 0 and (json.loads(out)["status"], json.loads(out)["transaction_hash"]) == ("sent", sent_hash)
    code, out, _ = await cli(pool, "--json", "payouts", "mark", str(payout["id"]), "confirmed")
    assert code == 0 and json.loads(out)["status"] == "confirmed"
    code, _, err = await cli(pool, "payouts", "mark", str(payout["id"]), "failed")
    assert code == 1 and "PAYOUT_STATUS_CONFLICT" in err
    code, out, _ = await cli(pool, "--json", "payouts", "list", "--participant-id", str(owner.id), "--status",
                             "confirmed")
    assert code == 0 and [p["id"] for p in json.loads(out)] == [payout["id"]]
    code, out, _ = await cli(pool, "--json", "participants", "balance-changes", str(owner.id))
    assert code == 0 and [c["reason"] for c in json.loads(out)] == ["reserve", "earning"]
    code, out, _ = await cli(pool, "--json", "participants", "earnings", str(owner.id), "--days", "2")
    assert code == 0 and json.loads(out)[0]["earning_nanoton"] == str(2 * TON)
    code, out, _ = await cli(pool, "--json", "participants", "show", str(owner.id))
    assert code == 0 and (json.loads(out)["paid_nanoton"], json.loads(out).get("owed_nanoton", "0")) == (
        str(2 * TON), "0")
