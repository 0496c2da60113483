"""The README's examples run as written: its ```bash blocks, in order, in one shell, against a
real `make run` system (devtools.supervisor: migrate, server, Envoy) on a new SQLite database.

Only ```bash blocks are the walk-through; blocks with a `$` prompt (```console) start the system,
run benchmarks or need other set-up, and are not run. The one substitution is where the system
listens: the README's localhost:8000 (Envoy) and localhost:50051 (gRPC) become this test's free
ports. The exchange examples need a Bitcoin address, and the payout examples a pool minimum the
walk-through's one job reaches: the test starts the system with what the README's start line gives.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest
from devtools.envoy_config import ROOT

from tests.support.ports import free_port

README = ROOT / "README.md"
BITCOIN_ADDRESS = "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"  # as in the README's start line
BASH_BLOCK = re.compile(r"^```bash\n(.*?)^```$", re.S | re.M)


def bash_blocks(text: str) -> list[tuple[int, str]]:
    """(line of the block's first command, its code) for each ```bash block, in order."""
    return [(text.count("\n", 0, match.start(1)) + 1, match.group(1)) for match in BASH_BLOCK.finditer(text)]


def walkthrough(blocks: list[tuple[int, str]], api_port: int, grpc_port: int) -> tuple[str, list[int]]:
    """One bash script of every block, and the README line of each of its lines."""
    script = ["trap 'echo \"SCRIPT_LINE=$LINENO\" >&2' ERR"]
    readme_lines = [0]
    for first_line, code in blocks:
        code = code.replace("localhost:8000", f"127.0.0.1:{api_port}").replace(
            "localhost:50051", f"127.0.0.1:{grpc_port}")
        for offset, line in enumerate(code.splitlines()):
            script.append(line)
            readme_lines.append(first_line + offset)
    return "\n".join(script) + "\n", readme_lines


@pytest.fixture
def system(tmp_path):
    """`API_KEYS=dev-key BITCOIN_ADDRESS=… PAYOUT_MINIMUM_NANOTON=10000 make run` on free ports and a new database."""
    api_port, grpc_port, metrics_port = free_port(), free_port(), free_port()
    env = {**os.environ, "API_KEYS": "dev-key", "BITCOIN_ADDRESS": BITCOIN_ADDRESS, "PAYOUT_MINIMUM_NANOTON": "10000",
           "DATABASE_URL": f"sqlite:///{tmp_path}/coordinator.db", "API_PORT": str(api_port),
           "GRPC_PORT": str(grpc_port), "METRICS_PORT": str(metrics_port)}
    log = open(tmp_path / "run.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "devtools.supervisor"], env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:  # ready when Envoy reaches the server (the public-key call is public)
            assert process.poll() is None, (tmp_path / "run.log").read_text()
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{api_port}/v1/receipts/public-key", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, "make run did not come up in 30 s"
                time.sleep(0.3)
        yield api_port, grpc_port
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_every_bash_example_runs_in_order_against_make_run(system, tmp_path):
    text = README.read_text()
    blocks = bash_blocks(text)
    assert len(blocks) >= 8, "the README's walk-through has gone"
    for first_line, code in blocks:  # an error status must fail the command, or the test would miss it
        for line in code.splitlines():
            call = line.split(" #")[0]
            assert "curl " not in call.replace("buf curl", "") or "--fail-with-body" in call, (
                f"README.md line {first_line}: a curl without --fail-with-body: {line}")
    script, readme_lines = walkthrough(blocks, *system)
    for tool in (".venv", "node_modules", "scripts"):  # run where files it writes do not matter
        (tmp_path / tool).symlink_to(ROOT / tool)
    done = subprocess.run(["bash", "-Eeuo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    failed = re.search(r"SCRIPT_LINE=(\d+)", done.stderr)
    where = "README.md"
    if failed:
        line = readme_lines[int(failed.group(1)) - 1]
        where = f"README.md line {line} ({text.splitlines()[line - 1].strip()})"
    assert done.returncode == 0, f"{where} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert '"valid":true' in done.stdout, "POST /v1/receipts/verify did not find the README's receipt valid"
