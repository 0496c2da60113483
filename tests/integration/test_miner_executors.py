"""The miner's executors against real backends: a subprocess (`command`, with its timeout and
output limit) and an OpenAI-compatible HTTP server standing in for vLLM (`openai`)."""

from __future__ import annotations

import sys
import time

import pytest
from computepool_miner.config import JobTypeConfig
from computepool_miner.executors import ExecutorFailed, build

from tests.support.miner_agent import OpenAIStandIn
from tests.support.ports import free_port


def command(script: str, **options) -> object:
    return build(JobTypeConfig("embedding", "command", options={"argv": [sys.executable, "-c", script], **options}))


@pytest.fixture
async def openai_server():
    server = await OpenAIStandIn().start()
    yield server
    await server.stop()


async def test_command_gets_the_parameters_on_stdin_and_returns_the_json_it_prints():
    executor = command("import json, sys; p = json.load(sys.stdin); "
                       "print(json.dumps({'twice': p['n'] * 2, 'units': 7}))")
    assert await executor.check() is None
    output = await executor.run({"n": 21})
    assert output.result == {"twice": 42, "units": 7} and output.units == 7


@pytest.mark.parametrize("script, options, message", [
    ("import time; time.sleep(30)", {"timeout_s": 0.5}, "command timed out after 0.5 s"),
    ("print('x' * 5000)", {"max_output_bytes": 1000}, "command output is over max_output_bytes (1000)"),
    ("import sys; sys.exit('no GPU memory left')", {}, "command exited 1: no GPU memory left"),
    ("print('not json')", {}, "command printed no JSON object on stdout"),
    ("print('[1, 2]')", {}, "command printed JSON that is not an object"),
])
async def test_command_failures_say_why(script, options, message):
    started = time.monotonic()
    with pytest.raises(ExecutorFailed) as failure:
        await command(script, **options).run({})
    assert str(failure.value).strip() == message
    assert time.monotonic() - started < 10  # the timed-out process was killed, not waited for


async def test_command_check_names_a_missing_program():
    executor = build(JobTypeConfig("embedding", "command", options={"argv": ["/no/such/program"]}))
    assert await executor.check() == "/no/such/program: not found or not executable"


@pytest.mark.parametrize("api, parameters, key", [
    ("chat/completions", {"messages": [{"role": "user", "content": "two words"}]}, "choices"),
    ("completions", {"prompt": "one two three"}, "choices"),
    ("embeddings", {"input": "embed me"}, "data"),
])
async def test_openai_forwards_each_api_and_counts_usage_tokens(openai_server, api, parameters, key):
    executor = build(JobTypeConfig("llm_inference", "openai",
                                   options={"base_url": openai_server.url, "model": "stand-in", "api": api}))
    assert await executor.check() is None
    output = await executor.run(parameters)
    assert key in output.result and output.units == output.result["usage"]["total_tokens"] > 0
    assert openai_server.requests[-1] == (api, {**parameters, "model": "stand-in"})
    # a job may name its own api and model
    output = await executor.run({"api": "embeddings", "input": "x", "model": "bge-m3"})
    assert openai_server.requests[-1] == ("embeddings", {"input": "x", "model": "bge-m3"})


async def test_openai_failures_say_why(openai_server):
    executor = build(JobTypeConfig("llm_inference", "openai", options={"base_url": openai_server.url}))
    with pytest.raises(ExecutorFailed, match=r"HTTP 500: .*the model exploded"):
        await executor.run({"prompt": "explode"})
    with pytest.raises(ExecutorFailed, match="api: one of chat/completions, completions, embeddings"):
        await executor.run({"api": "images", "prompt": "x"})
    away = build(JobTypeConfig("llm_inference", "openai", options={"base_url": f"http://127.0.0.1:{free_port()}"}))
    assert "unreachable" in await away.check()
    with pytest.raises(ExecutorFailed, match="unreachable"):
        await away.run({"prompt": "x"})
