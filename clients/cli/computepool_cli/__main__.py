"""computepool: the pool from the command line, built on the Python SDK (computepool.Client).

  computepool jobs submit echo --param text=hi --wait
  computepool jobs submit --file jobs.jsonl          # thousands, in batches, with progress
  computepool jobs watch JOB_ID
  computepool workers list --participant-id 3
  computepool workers update 7 --price-coefficient 1.2 --inactive
  computepool payouts tax-report 3 --year 2025 -o tax-2025.csv
  computepool payouts run                            # admin: a pending payout per participant due
  computepool payouts export RUN_ID --format csv -o run.csv
  computepool payouts mark PAYOUT_ID sent --transaction-hash HASH
  computepool receipts verify receipt.json
  computepool api-keys create --role client --participant-id 3 --label "ci runner"

Where and as whom: --url / COMPUTEPOOL_URL (host:port, or http(s)://host:port; https means TLS;
default 127.0.0.1:50051), --api-key / COMPUTEPOOL_API_KEY, --session-token /
COMPUTEPOOL_SESSION_TOKEN; else the keys url, api_key, session_token of the TOML file --config /
COMPUTEPOOL_CONFIG (default ~/.config/computepool/config.toml). A flag beats the environment,
which beats the file.

Answers print as tables, or as JSON with --json (field names as in the REST API).
Exit codes: 0 done; 1 the coordinator refused (its reason is printed); 2 bad usage;
3 the coordinator could not be reached; 4 a job ended without a result (failed, cancelled,
expired); 5 a receipt did not verify.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pathlib
import sys
import tomllib
from typing import Any, Iterator

import grpc
from computepool import Client, JobFailed, JobSpec, NotAReceipt, verify_receipt
from computepool.errors import ComputepoolError
from computepool.v1 import job_pb2
from google.protobuf import json_format

from computepool_cli.output import Progress, as_dict, emit

REFUSED, USAGE, UNREACHABLE, JOB_FAILED, RECEIPT_INVALID = 1, 2, 3, 4, 5
JOB_COLUMNS = ("id", "job_type", "status", "attempts", "priority", "created_at", "error_message")
WORKER_COLUMNS = ("id", "participant_id", "worker_name", "instance_number", "host", "is_active", "latest_status",
                  "price_coefficient", "latest_gpu_utilization", "latest_revenue_ton")
PARTICIPANT_COLUMNS = ("id", "ton_wallet_address", "username", "is_active", "total_workers", "active_workers",
                       "total_revenue_ton", "total_payouts", "owed_ton", "payout_threshold_nanoton")
PAYOUT_COLUMNS = ("id", "participant_id", "status", "amount_ton", "amount_usd", "transaction_time", "transaction_hash")
RUN_COLUMNS = ("id", "trigger", "created_at", "payout_count", "total_ton")
CHANGE_COLUMNS = ("id", "created_at", "reason", "amount_ton", "balance_after_nanoton", "job_id", "payout_id")
KEY_COLUMNS = ("id", "prefix", "role", "participant_id", "label", "created_at", "revoked_at")
BATCH = 1000


class UsageError(Exception):
    """A command line the tool cannot run (exit 2)."""


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="computepool", description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    root.add_argument("--url", "--target", dest="url", help="the coordinator's gRPC address (COMPUTEPOOL_URL)")
    root.add_argument("--api-key", help="COMPUTEPOOL_API_KEY")
    root.add_argument("--session-token", help="a wallet login's session (COMPUTEPOOL_SESSION_TOKEN)")
    root.add_argument("--config", help="TOML file with url, api_key, session_token (COMPUTEPOOL_CONFIG)")
    root.add_argument("--json", action="store_true", help="print JSON instead of tables")
    root.add_argument("--timeout", type=float, default=30.0, help="deadline of each call, seconds (default 30)")
    groups = root.add_subparsers(dest="group", required=True, metavar="GROUP")

    jobs = groups.add_parser("jobs", help="submit, follow and cancel jobs").add_subparsers(dest="action", required=True)
    submit = jobs.add_parser("submit", help="one job (TYPE) or many (--file, one JSON job per line)")
    submit.add_argument("job_type", nargs="?", metavar="TYPE")
    submit.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="a parameter (VALUE read as JSON when it parses, else as text); repeatable")
    submit.add_argument("--parameters", help="all parameters as one JSON object")
    submit.add_argument("--priority", type=int, default=0)
    submit.add_argument("--ttl", type=float, help="time to live, seconds")
    submit.add_argument("--model", default="")
    submit.add_argument("--max-price-nanoton", type=int, default=0)
    submit.add_argument("--idempotency-key", default="")
    submit.add_argument("--wait", action="store_true", help="wait until the job ends and print it")
    submit.add_argument("--file", help="JSONL: one object per line with job_type, parameters, priority, …")
    for name in ("status", "cancel", "watch", "receipts", "result"):
        jobs.add_parser(name).add_argument("job_id")
    listing = jobs.add_parser("list")
    listing.add_argument("--status", default="")
    listing.add_argument("--limit", type=int, default=100, help="at most this many (0: all)")

    workers = groups.add_parser("workers", help="the pool's workers").add_subparsers(dest="action", required=True)
    listing = workers.add_parser("list")
    listing.add_argument("--participant-id", type=int, default=0)
    listing.add_argument("--active", dest="is_active", action="store_const", const=True)
    listing.add_argument("--inactive", dest="is_active", action="store_const", const=False)
    workers.add_parser("show").add_argument("worker_id", type=int)
    workers.add_parser("watch", help="each heartbeat and status change of your workers, as it happens")
    create = workers.add_parser("create")
    create.add_argument("--participant-id", type=int, required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--host", required=True)
    create.add_argument("--instance", type=int, default=0)
    create.add_argument("--stats-port", type=int, default=0)
    create.add_argument("--price-coefficient", type=float)
    update = workers.add_parser("update")
    update.add_argument("worker_id", type=int)
    update.add_argument("--active", dest="is_active", action="store_const", const=True)
    update.add_argument("--inactive", dest="is_active", action="store_const", const=False)
    update.add_argument("--price-coefficient", type=float)
    update.add_argument("--name")
    update.add_argument("--host")
    update.add_argument("--instance", type=int)
    update.add_argument("--stats-port", type=int)

    participants = groups.add_parser("participants", help="GPU owners").add_subparsers(dest="action", required=True)
    participants.add_parser("list")
    participants.add_parser("show").add_argument("participant", help="an id, or a TON wallet address")
    create = participants.add_parser("create")
    create.add_argument("wallet")
    create.add_argument("--username", default="")
    create.add_argument("--email", default="")
    create.add_argument("--telegram-user-id", type=int, default=0)
    threshold = participants.add_parser("threshold", help="the owed balance at which a run pays (0: pool minimum)")
    threshold.add_argument("participant_id", type=int)
    threshold.add_argument("nanoton", type=int)
    participants.add_parser("balance-changes", help="every movement of what the pool owes").add_argument(
        "participant_id", type=int)
    earnings = participants.add_parser("earnings", help="earnings per day and worker")
    earnings.add_argument("participant_id", type=int)
    earnings.add_argument("--days", type=int, default=30)

    payouts = groups.add_parser("payouts", help="what was paid").add_subparsers(dest="action", required=True)
    listing = payouts.add_parser("list")
    listing.add_argument("--participant-id", type=int, default=0)
    listing.add_argument("--status", default="", help="pending, sent, confirmed or failed")
    payouts.add_parser("show").add_argument("payout_id", type=int)
    create = payouts.add_parser("create", help="record a payout (admin; idempotent on the transaction hash)")
    for name in ("--participant-id", "--transaction-hash", "--from-address", "--to-address", "--transaction-time",
                 "--period-start", "--period-end"):
        create.add_argument(name, required=True, type=int if name == "--participant-id" else str)
    create.add_argument("--amount-ton", type=float)
    create.add_argument("--amount-nanoton", type=int)
    create.add_argument("--amount-usd", type=float, default=0.0)
    payouts.add_parser("summary").add_argument("participant_id", type=int)
    report = payouts.add_parser("tax-report", help="a year's tax report as CSV")
    report.add_argument("participant_id", type=int)
    report.add_argument("--year", type=int, required=True)
    report.add_argument("-o", "--output", help="file to write (default: standard output)")
    payouts.add_parser("run", help="run payouts now (admin): a pending payout per participant due")
    payouts.add_parser("runs", help="payout runs, newest first (admin)")
    payouts.add_parser("show-run").add_argument("run_id", type=int)
    export = payouts.add_parser("export", help="a run's pending payouts for the wallet (admin)")
    export.add_argument("run_id", type=int)
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("-o", "--output", help="file to write (default: standard output)")
    mark = payouts.add_parser("mark", help="a run's payout sent, confirmed or failed (admin)")
    mark.add_argument("payout_id", type=int)
    mark.add_argument("status", choices=("sent", "confirmed", "failed"))
    mark.add_argument("--transaction-hash", default="")
    mark.add_argument("--reason", default="", help="why it failed")

    receipts = groups.add_parser("receipts", help="verify receipts").add_subparsers(dest="action", required=True)
    verify = receipts.add_parser("verify", help="offline, with the coordinator's public key")
    verify.add_argument("file", help="a receipt as JSON (as `jobs receipts` prints it), - for standard input")
    verify.add_argument("--public-key", help="base64; asked of the coordinator when not given")

    keys = groups.add_parser("api-keys", help="API keys (admin)").add_subparsers(dest="action", required=True)
    create = keys.add_parser("create")
    create.add_argument("--role", required=True, choices=["admin", "client", "miner"])
    create.add_argument("--participant-id", type=int, default=0)
    create.add_argument("--label", default="")
    keys.add_parser("list")
    keys.add_parser("revoke").add_argument("api_key_id", type=int)

    exchange = groups.add_parser("exchange", help="buy credits with Bitcoin").add_subparsers(dest="action",
                                                                                             required=True)
    pay = exchange.add_parser("pay", help="a payment request (a wallet session)")
    pay.add_argument("--amount-sat", type=int, default=0)
    pay.add_argument("--amount-aitbc", type=float, default=0.0)
    exchange.add_parser("status").add_argument("payment_id")
    confirm = exchange.add_parser("confirm", help="confirm by hand (admin)")
    confirm.add_argument("payment_id")
    confirm.add_argument("--txid", required=True)
    confirm.add_argument("--received-sat", type=int, required=True)
    confirm.add_argument("--confirmations", type=int, required=True)
    events = groups.add_parser("events", help="what changes in the pool").add_subparsers(dest="action", required=True)
    events.add_parser("watch", help="your events as they happen, one line each (Ctrl-C ends)").add_argument(
        "--type", action="append", default=[], dest="types", help="only this type (repeatable)")
    return root


def connect(args: argparse.Namespace) -> Client:
    path = args.config or os.environ.get("COMPUTEPOOL_CONFIG") or "~/.config/computepool/config.toml"
    config_file = pathlib.Path(path).expanduser()
    try:
        config = tomllib.loads(config_file.read_text()) if config_file.is_file() else {}
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{config_file}: {error}") from None
    if args.config and not config_file.is_file():
        raise UsageError(f"no config file {config_file}")

    def setting(flag: str | None, variable: str, key: str) -> str:
        return flag or os.environ.get(variable) or str(config.get(key, ""))

    url = setting(args.url, "COMPUTEPOOL_URL", "url") or os.environ.get("COMPUTEPOOL_TARGET") or "127.0.0.1:50051"
    scheme, _, rest = url.rpartition("://")
    if scheme not in ("", "http", "https"):
        raise UsageError(f"--url {url!r}: use host:port, http://host:port or https://host:port")
    return Client.connect(rest.rstrip("/"), api_key=setting(args.api_key, "COMPUTEPOOL_API_KEY", "api_key") or None,
                          session_token=setting(args.session_token, "COMPUTEPOOL_SESSION_TOKEN",
                                                "session_token") or None,
                          tls=scheme == "https", timeout=args.timeout)


WORKER_EVENTS = ["worker.status_changed", "worker.metrics"]


def run(client: Client, args: argparse.Namespace) -> int:
    as_json = args.json
    group, action = args.group, args.action
    if group == "jobs":
        return jobs_command(client, args)
    if group == "events" or (group, action) == ("workers", "watch"):
        types = getattr(args, "types", None) or (WORKER_EVENTS if group == "workers" else [])
        for event in client.events.watch(types):
            if as_json:
                print(json.dumps(as_dict(event)), flush=True)
            elif event.type != "events.subscribed":
                figures = " ".join(f"{name}={json.dumps(value)}" for name, value in sorted(event.data.items()))
                print(f"{event.at.ToJsonString()}  {event.type}  {figures}", flush=True)
        return 0
    if group == "workers":
        if action == "list":
            emit(client.workers.list(args.participant_id, is_active=args.is_active), WORKER_COLUMNS,
                 as_json=as_json)
        elif action == "show":
            emit(client.workers.get(args.worker_id), WORKER_COLUMNS, as_json=as_json)
        elif action == "create":
            emit(client.workers.create(args.participant_id, args.name, args.host, instance_number=args.instance,
                                       stats_port=args.stats_port, price_coefficient=args.price_coefficient),
                 WORKER_COLUMNS, as_json=as_json)
        else:
            emit(client.workers.update(args.worker_id, is_active=args.is_active,
                                       price_coefficient=args.price_coefficient, worker_name=args.name,
                                       instance_number=args.instance, host=args.host, stats_port=args.stats_port),
                 WORKER_COLUMNS, as_json=as_json)
    elif group == "participants":
        if action == "list":
            emit(client.participants.list(), PARTICIPANT_COLUMNS, as_json=as_json)
        elif action == "show":
            who = args.participant
            found = client.participants.get(int(who)) if who.isdigit() else client.participants.get_by_wallet(who)
            emit(found, PARTICIPANT_COLUMNS, as_json=as_json)
        elif action == "threshold":
            emit(client.participants.set_payout_threshold(args.participant_id, args.nanoton), PARTICIPANT_COLUMNS,
                 as_json=as_json)
        elif action == "balance-changes":
            emit(client.participants.balance_changes(args.participant_id), CHANGE_COLUMNS, as_json=as_json)
        elif action == "earnings":
            daily = client.participants.daily_earnings(args.participant_id, args.days)
            emit(daily.days, ("date", "earning_ton", "earning_nanoton", "jobs"), as_json=as_json)
        else:
            emit(client.participants.create(args.wallet, username=args.username, email=args.email,
                                            telegram_user_id=args.telegram_user_id), PARTICIPANT_COLUMNS,
                 as_json=as_json)
    elif group == "payouts":
        return payouts_command(client, args)
    elif group == "receipts":
        return verify_command(client, args)
    elif group == "api-keys":
        if action == "create":  # the key itself is shown only now
            emit(client.api_keys.create(args.role, participant_id=args.participant_id, label=args.label), (),
                 as_json=as_json)
        elif action == "list":
            emit(client.api_keys.list(), KEY_COLUMNS, as_json=as_json)
        else:
            emit(client.api_keys.revoke(args.api_key_id), KEY_COLUMNS, as_json=as_json)
    elif group == "exchange":
        if action == "pay":
            payment = client.exchange.create_payment(amount_sat=args.amount_sat, amount_aitbc=args.amount_aitbc)
        elif action == "status":
            payment = client.exchange.get_payment(args.payment_id)
        else:
            payment = client.exchange.confirm_payment(args.payment_id, txid=args.txid, received_sat=args.received_sat,
                                                      confirmations=args.confirmations)
        emit(payment, (), as_json=as_json)
    return 0


def jobs_command(client: Client, args: argparse.Namespace) -> int:
    as_json, action = args.json, args.action
    if action == "submit":
        return submit_file(client, args) if args.file else submit_one(client, args)
    if action == "status":
        emit(client.jobs.get(args.job_id), JOB_COLUMNS, as_json=as_json)
    elif action == "cancel":
        emit(client.jobs.cancel(args.job_id), JOB_COLUMNS, as_json=as_json)
    elif action == "receipts":
        emit(client.jobs.receipts(args.job_id), ("id", "job_id", "units", "charge_nanoton", "key_id"),
             as_json=as_json)
    elif action == "list":
        emit(limited(client.jobs.list(args.status), args.limit), JOB_COLUMNS, as_json=as_json)
    elif action == "watch":  # one line (or JSON object) per change, as it happens
        last = None
        for job in client.jobs.watch(args.job_id):
            last = job
            if as_json:
                print(json.dumps(as_dict(job)), flush=True)  # the shape `jobs get --json` prints
            else:
                print(f"{job.updated_at.ToJsonString()}  {job.id}  {job.status}  attempt {job.attempts}", flush=True)
        return 0 if last is None or last.status == "completed" else JOB_FAILED
    else:  # result
        try:
            result = client.jobs.handle(args.job_id).result(timeout=None)
        except JobFailed as failure:
            print(f"computepool: {failure}", file=sys.stderr)
            return JOB_FAILED
        print(json.dumps(result, indent=2))
    return 0


def submit_one(client: Client, args: argparse.Namespace) -> int:
    if not args.job_type:
        raise UsageError("jobs submit needs a TYPE, or --file")
    parameters = json.loads(args.parameters) if args.parameters else {}
    for item in args.param:
        key, equals, value = item.partition("=")
        if not equals:
            raise UsageError(f"--param {item!r}: write KEY=VALUE")
        parameters[key] = _json_or_text(value)
    job = client.jobs.submit(args.job_type, parameters, priority=args.priority, ttl=args.ttl, model=args.model,
                             max_price_nanoton=args.max_price_nanoton, idempotency_key=args.idempotency_key)
    if not args.wait:
        emit(job.job, JOB_COLUMNS, as_json=args.json)
        return 0
    finished = job.wait()
    emit(finished, JOB_COLUMNS, as_json=args.json)
    return 0 if finished.status == "completed" else JOB_FAILED


def submit_file(client: Client, args: argparse.Namespace) -> int:
    """Every line a job; batches of 1,000 (each batch all or nothing); ids to stdout (JSON: one
    object per job), a summary to stderr. A rerun after a failure resubmits nothing twice when the
    lines carry idempotency keys."""
    lines = pathlib.Path(args.file).read_text().splitlines() if args.file != "-" else sys.stdin.read().splitlines()
    specs = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            specs.append(JobSpec(**json.loads(line)))
        except (ValueError, TypeError) as error:
            raise UsageError(f"{args.file}:{number}: not a job ({error})") from None
    progress = Progress(len(specs), "submitted")
    submitted = 0
    for start in range(0, len(specs), BATCH):
        handles = client.jobs.submit_many(specs[start:start + BATCH])
        for handle in handles:
            print(json.dumps({"id": handle.id, "status": handle.job.status}) if args.json else handle.id)
        submitted += len(handles)
        progress.update(submitted)
    print(f"computepool: submitted {submitted} jobs from {args.file}", file=sys.stderr)
    return 0


def payouts_command(client: Client, args: argparse.Namespace) -> int:
    as_json, action = args.json, args.action
    if action == "list":
        emit(client.payouts.list(args.participant_id, status=args.status), PAYOUT_COLUMNS, as_json=as_json)
    elif action == "show":
        emit(client.payouts.get(args.payout_id), PAYOUT_COLUMNS, as_json=as_json)
    elif action == "summary":
        emit(client.payouts.summary(args.participant_id), (), as_json=as_json)
    elif action == "run":
        emit(client.payouts.run(), RUN_COLUMNS, as_json=as_json)
    elif action == "runs":
        emit(client.payouts.runs(), RUN_COLUMNS, as_json=as_json)
    elif action == "show-run":
        run = client.payouts.get_run(args.run_id)
        emit(run if as_json else run.payouts, () if as_json else PAYOUT_COLUMNS, as_json=as_json)
    elif action == "export":
        _write(client.payouts.export_run(args.run_id, args.format), args.output)
    elif action == "mark":
        emit(client.payouts.set_status(args.payout_id, args.status, transaction_hash=args.transaction_hash,
                                       failure_reason=args.reason), PAYOUT_COLUMNS, as_json=as_json)
    elif action == "create":
        emit(client.payouts.create(
            args.participant_id, args.transaction_hash, from_address=args.from_address, to_address=args.to_address,
            transaction_time=_time(args.transaction_time, "--transaction-time"),
            period_start=_time(args.period_start, "--period-start"), period_end=_time(args.period_end, "--period-end"),
            amount_ton=args.amount_ton, amount_nanoton=args.amount_nanoton, amount_usd=args.amount_usd),
            PAYOUT_COLUMNS, as_json=as_json)
    else:
        _write(client.payouts.tax_report(args.participant_id, args.year), args.output)
    return 0


def _write(data: bytes, output: str | None) -> None:
    """A downloaded file to `output`, or to standard output."""
    if output:
        pathlib.Path(output).write_bytes(data)
        print(f"computepool: wrote {output} ({len(data)} bytes)", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)


def verify_command(client: Client, args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.file == "-" else pathlib.Path(args.file).read_text()
    receipt = job_pb2.Receipt()
    try:
        json_format.Parse(text, receipt, ignore_unknown_fields=False)
    except json_format.ParseError as error:
        raise UsageError(f"{args.file}: not a receipt ({error})") from None
    key = args.public_key or client.receipts.public_key().public_key
    try:
        verdict = verify_receipt(receipt, key)
    except NotAReceipt as error:
        raise UsageError(f"{args.file}: {error}") from None
    print(json.dumps(verdict._asdict()) if args.json else ("valid" if verdict.valid else f"INVALID: {verdict.reason}"))
    return 0 if verdict.valid else RECEIPT_INVALID


def limited(rows: Iterator[Any], limit: int) -> Iterator[Any]:
    for count, row in enumerate(rows):
        if limit and count >= limit:
            return
        yield row


def _json_or_text(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _time(text: str, flag: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{flag} {text!r}: use ISO 8601, e.g. 2025-01-15T10:30:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        with connect(args) as client:
            return run(client, args)
    except UsageError as error:
        print(f"computepool: {error}", file=sys.stderr)
        return USAGE
    except ComputepoolError as error:
        print(f"computepool: {error.code.name}: {error}", file=sys.stderr)
        for field, description in error.fields.items():
            print(f"  {field}: {description}", file=sys.stderr)
        return UNREACHABLE if error.code == grpc.StatusCode.UNAVAILABLE else REFUSED
    except BrokenPipeError:  # | head
        return 0
    except KeyboardInterrupt:  # Ctrl-C ends a watch
        return 130


if __name__ == "__main__":
    sys.exit(main())
