"""The README's browser snippet for /ws/metrics runs as written in headless Chromium, from a
page of the pool's origin through Envoy: it logs the pool's metrics, and with a wrong key the
close code and reason the README promises."""

from __future__ import annotations

import asyncio
import json
import pathlib
import re

from devtools.envoy_config import ROOT

from tests.support.server import API_KEY

CHROMIUM = pathlib.Path("/usr/bin/chromium")


def readme_javascript() -> str:
    """The README's one javascript block, its documented address made this Envoy's."""
    [block] = re.findall(r"```javascript\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return block


async def run_snippet(envoy, snippet_file: pathlib.Path, api_key: str, wait_for: str) -> dict:
    """The browser runs beside this test's in-process server, whose event loop must keep turning."""
    browser = await asyncio.create_subprocess_exec(
        "node", str(ROOT / "tests/support/readme_snippet.mjs"), f"{envoy.url}/health", str(snippet_file), api_key,
        wait_for, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(browser.communicate(), 120)
    assert browser.returncode == 0, err.decode()[-3000:]
    return json.loads(out)


async def test_the_readme_websocket_snippet_logs_metrics_and_a_refusal(envoy, tmp_path):
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: `make test` installs Debian's chromium"
    snippet = readme_javascript()
    assert "ws://localhost:8000/ws/metrics" in snippet
    snippet_file = tmp_path / "snippet.js"
    snippet_file.write_text(snippet.replace("ws://localhost:8000", f"ws://127.0.0.1:{envoy.port}"))
    served = await run_snippet(envoy, snippet_file, API_KEY, r'"workers_active"')
    metrics = [json.loads(line) for line in served["logs"] if line.startswith("{")]
    assert served["errors"] == [] and metrics, served
    assert {"at", "workers_active", "workers_healthy", "workers", "active_jobs"} <= set(metrics[0])
    refused = await run_snippet(envoy, snippet_file, "not-a-key", r"^4401 ")
    assert any(line.startswith("4401 API_KEY_INVALID") for line in refused["logs"]), refused
