"""Executors: what runs a job. Each job type in the config names one:

- `echo`: the job's parameters back as the result, 1 unit.
- `command`: `argv` run as a subprocess, the parameters as JSON on stdin, the result a JSON object
  on stdout; `timeout_s` (default 300) and `max_output_bytes` (default 1 MiB) bound it; 1 unit,
  or the integer the object gives as "units".
- `openai`: the parameters POSTed to an OpenAI-compatible server (`base_url`: vLLM, llama.cpp
  server, Ollama) at `/v1/<api>`, api `chat/completions` (default), `completions` or
  `embeddings` (a job may name its own in parameters "api"); `model` fills the body's when the
  job gives none. The result is the server's answer; units are its usage.total_tokens.

A job an executor cannot run raises ExecutorFailed; its message becomes the job's error_message.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from computepool_miner.config import JobTypeConfig

OPENAI_APIS = ("chat/completions", "completions", "embeddings")


class ExecutorFailed(Exception):
    """The job failed; the message says why (sent as the job's error_message)."""


@dataclass(frozen=True)
class Output:
    result: dict[str, Any]
    units: int


class Echo:
    async def check(self) -> str | None:
        return None

    async def run(self, parameters: dict[str, Any]) -> Output:
        return Output(parameters, 1)


class Command:
    def __init__(self, options: dict[str, Any]):
        self.argv = [str(part) for part in options.get("argv", [])]
        self.timeout_s = float(options.get("timeout_s", 300))
        self.max_output_bytes = int(options.get("max_output_bytes", 1 << 20))

    async def check(self) -> str | None:
        if not self.argv:
            return "argv: missing (the command to run)"
        return None if shutil.which(self.argv[0]) else f"{self.argv[0]}: not found or not executable"

    async def run(self, parameters: dict[str, Any]) -> Output:
        process = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        try:
            stdout, stderr = await asyncio.wait_for(self._communicate(process, json.dumps(parameters).encode()),
                                                    self.timeout_s)
        except TimeoutError:
            raise ExecutorFailed(f"command timed out after {self.timeout_s:g} s") from None
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        if process.returncode != 0:
            raise ExecutorFailed(f"command exited {process.returncode}: {stderr.decode(errors='replace')[-500:]}")
        try:
            result = json.loads(stdout)
        except ValueError:
            raise ExecutorFailed("command printed no JSON object on stdout") from None
        if not isinstance(result, dict):
            raise ExecutorFailed("command printed JSON that is not an object")
        units = result.get("units", 1)
        return Output(result, units if isinstance(units, int) and units >= 0 else 1)

    async def _communicate(self, process: asyncio.subprocess.Process, stdin: bytes) -> tuple[bytes, bytes]:
        """stdout up to max_output_bytes (more is a failure, and the process is killed) and stderr."""
        assert process.stdin and process.stdout and process.stderr
        process.stdin.write(stdin)
        process.stdin.close()
        errors = asyncio.ensure_future(process.stderr.read(64 * 1024))
        stdout = await process.stdout.read(self.max_output_bytes + 1)
        while len(stdout) <= self.max_output_bytes and (more := await process.stdout.read(
                self.max_output_bytes + 1 - len(stdout))):
            stdout += more
        if len(stdout) > self.max_output_bytes:
            errors.cancel()
            raise ExecutorFailed(f"command output is over max_output_bytes ({self.max_output_bytes})")
        await process.wait()
        return stdout, await errors


class OpenAI:
    def __init__(self, options: dict[str, Any]):
        self.base_url = str(options.get("base_url", "")).rstrip("/")
        self.api = str(options.get("api", "chat/completions"))
        self.model = str(options.get("model", ""))
        self.timeout_s = float(options.get("timeout_s", 600))

    async def check(self) -> str | None:
        if not self.base_url:
            return "base_url: missing (the OpenAI-compatible server, e.g. http://127.0.0.1:8000)"
        if self.api not in OPENAI_APIS:
            return f"api: one of {', '.join(OPENAI_APIS)}"
        try:
            await asyncio.to_thread(self._request, "GET", "/v1/models", None, 5.0)
        except ExecutorFailed as error:
            return f"{self.base_url}: {error}"
        return None

    async def run(self, parameters: dict[str, Any]) -> Output:
        body = dict(parameters)
        api = body.pop("api", self.api)
        if api not in OPENAI_APIS:
            raise ExecutorFailed(f"api: one of {', '.join(OPENAI_APIS)}")
        if self.model and "model" not in body:
            body["model"] = self.model
        answer = await asyncio.to_thread(self._request, "POST", f"/v1/{api}", body, self.timeout_s)
        usage = answer.get("usage") or {}
        return Output(answer, int(usage.get("total_tokens", 0)))

    def _request(self, method: str, path: str, body: dict[str, Any] | None, timeout: float) -> dict[str, Any]:
        request = urllib.request.Request(
            self.base_url + path, method=method, headers={"Content-Type": "application/json"},
            data=None if body is None else json.dumps(body).encode())
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise ExecutorFailed(f"HTTP {error.code}: {error.read()[:500].decode(errors='replace')}") from None
        except (urllib.error.URLError, OSError) as error:
            raise ExecutorFailed(f"unreachable: {getattr(error, 'reason', error)}") from None
        except ValueError:
            raise ExecutorFailed("answered something that is not JSON") from None
        if not isinstance(answer, dict):
            raise ExecutorFailed("answered JSON that is not an object")
        return answer


Executor = Echo | Command | OpenAI


def build(job: JobTypeConfig) -> Executor:
    if job.executor == "echo":
        return Echo()
    if job.executor == "command":
        return Command(job.options)
    return OpenAI(job.options)
