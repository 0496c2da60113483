"""The miner agent (computepool-miner) as tests run it: a config file, a real process, and a small
OpenAI-compatible HTTP server standing in for vLLM."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import sys
from typing import Any

from aiohttp import web

from tests.support.ports import free_port
from tests.support.server import API_KEY
from tests.support.wallets import forms, new_wallet


def write_config(folder: pathlib.Path, server: str, *, jobs: dict[str, dict[str, Any]] | None = None,
                 name: str = "rig", **settings: Any) -> pathlib.Path:
    """A miner config in `folder` (its state dir beside it), for the coordinator at `server`."""
    values = {"server": server, "api_key": API_KEY, "owner_wallet": forms(new_wallet())["non_bounceable"],
              "worker_name": name, "state_dir": str(folder / "state"), "max_concurrent_jobs": 4,
              "heartbeat_interval_s": 1.0, "metrics_port": free_port(), "claim_interval_s": 0.3,
              "drain_grace_s": 10.0, **settings}
    lines = [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    lines += ["[hardware]", 'gpu_model = "H100"', "gpu_count = 1", "vram_gb = 80"]
    for job_type, table in (jobs or {"echo": {"executor": "echo"}}).items():
        lines += [f"[jobs.{job_type}]", *(f"{key} = {json.dumps(value)}" for key, value in table.items())]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "miner.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


async def miner_process(config: pathlib.Path, command: str = "run", env: dict[str, str] | None = None
                        ) -> asyncio.subprocess.Process:
    """`computepool-miner COMMAND --config CONFIG`, its stdout and stderr piped; in a session of its
    own, so that killing its group (os.killpg) ends the executors' subprocesses with it."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "computepool_miner", command, "--config", str(config),
        env={**os.environ, **(env or {})}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        start_new_session=True)


async def run_miner(config: pathlib.Path, command: str = "doctor", env: dict[str, str] | None = None
                    ) -> tuple[int, str, str]:
    process = await miner_process(config, command, env)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, out.decode(), err.decode()


def log_lines(stderr: str) -> list[dict[str, Any]]:
    """The agent's JSON log lines."""
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


class OpenAIStandIn:
    """An OpenAI-compatible server (GET /v1/models, POST /v1/chat/completions, /v1/completions,
    /v1/embeddings) answering like vLLM: usage counts one token per word. A prompt containing
    "explode" gets a 500. `requests` records each body it was sent."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        app = web.Application()
        app.router.add_get("/v1/models", self.models)
        app.router.add_post("/v1/{api:.*}", self.answer)
        self.runner = web.AppRunner(app)
        self.url = ""

    async def start(self) -> OpenAIStandIn:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        await self.runner.cleanup()

    async def models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "stand-in", "object": "model"}]})

    async def answer(self, request: web.Request) -> web.Response:
        api, body = request.match_info["api"], await request.json()
        self.requests.append((api, body))
        text = json.dumps(body.get("messages") or body.get("prompt") or body.get("input"))
        if "explode" in text:
            return web.json_response({"error": {"message": "the model exploded"}}, status=500)
        prompt_tokens = len(text.split())
        if api == "embeddings":
            return web.json_response({"object": "list", "data": [{"embedding": [0.25, 0.5], "index": 0}],
                                      "model": body["model"], "usage": {"prompt_tokens": prompt_tokens,
                                                                        "total_tokens": prompt_tokens}})
        choice = ({"message": {"role": "assistant", "content": "ok"}} if api == "chat/completions"
                  else {"text": "ok"})
        return web.json_response({"id": "cmpl-1", "object": api, "model": body["model"],
                                  "choices": [{"index": 0, "finish_reason": "stop", **choice}],
                                  "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 1,
                                            "total_tokens": prompt_tokens + 1}})
