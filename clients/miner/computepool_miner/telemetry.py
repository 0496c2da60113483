"""The miner's own observability: JSON log lines on stderr and a Prometheus /metrics page."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict

from computepool_miner.gpu import Sample

# The per-GPU gauges of /metrics: name, help, the Reading attribute.
GPU_GAUGES = (("utilization_percent", "GPU utilisation in percent.", "utilization_percent"),
              ("memory_used_gb", "GPU memory in use, GB.", "memory_used_gb"),
              ("memory_total_gb", "GPU memory in all, GB.", "memory_total_gb"),
              ("temperature_celsius", "GPU temperature, degrees Celsius.", "temperature_celsius"),
              ("power_watts", "GPU power draw, watts.", "power_watts"))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, message, and the record's `fields` extra."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
                "level": record.levelname.lower(), "message": record.getMessage()}
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line)


def configure_logging() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)


class Metrics:
    """Counters the /metrics page shows: jobs run and failed per job type, executor seconds."""

    def __init__(self) -> None:
        self.completed: dict[str, int] = defaultdict(int)
        self.failed: dict[str, int] = defaultdict(int)
        self.dropped = 0  # results refused by the coordinator (lease lost, …)
        self.executor_seconds: dict[str, float] = defaultdict(float)
        self.executor_runs: dict[str, int] = defaultdict(int)
        self.reconnects = 0
        self.received: dict[str, int] = defaultdict(int)  # jobs leased to this agent, by the way they came
        self.returned: dict[str, int] = defaultdict(int)  # results the coordinator took, by the way they went
        self.gpus: Sample | None = None  # the GPUs as the latest heartbeat read them

    def observe(self, job_type: str, seconds: float, ok: bool) -> None:
        (self.completed if ok else self.failed)[job_type] += 1
        self.executor_seconds[job_type] += seconds
        self.executor_runs[job_type] += 1

    def page(self) -> str:
        lines = ["# HELP computepool_miner_jobs_total Jobs the executors finished, by job type and outcome.",
                 "# TYPE computepool_miner_jobs_total counter"]
        for outcome, counts in (("completed", self.completed), ("failed", self.failed)):
            lines += [f'computepool_miner_jobs_total{{job_type="{t}",outcome="{outcome}"}} {n}'
                      for t, n in sorted(counts.items())]
        lines += ["# HELP computepool_miner_executor_seconds Time the executors took, by job type.",
                  "# TYPE computepool_miner_executor_seconds summary"]
        for job_type in sorted(self.executor_runs):
            lines += [f'computepool_miner_executor_seconds_sum{{job_type="{job_type}"}} '
                      f"{self.executor_seconds[job_type]:.6f}",
                      f'computepool_miner_executor_seconds_count{{job_type="{job_type}"}} '
                      f"{self.executor_runs[job_type]}"]
        lines += ["# HELP computepool_miner_results_dropped_total Results the coordinator refused (lease lost).",
                  "# TYPE computepool_miner_results_dropped_total counter",
                  f"computepool_miner_results_dropped_total {self.dropped}",
                  "# HELP computepool_miner_jobs_received_total Jobs leased to the agent, over the stream or "
                 "FetchJobs.",
                 "# TYPE computepool_miner_jobs_received_total counter",
                 *(f'computepool_miner_jobs_received_total{{via="{via}"}} {self.received[via]}'
                   for via in ("stream", "fetch")),
                 "# HELP computepool_miner_results_returned_total Results the coordinator applied, sent on the "
                 "stream or by SubmitResult(s) calls.",
                 "# TYPE computepool_miner_results_returned_total counter",
                 *(f'computepool_miner_results_returned_total{{via="{via}"}} {self.returned[via]}'
                   for via in ("stream", "call")),
                 "# HELP computepool_miner_reconnects_total Heartbeat streams opened again after a failure.",
                  "# TYPE computepool_miner_reconnects_total counter",
                  f"computepool_miner_reconnects_total {self.reconnects}"]
        return "\n".join(lines + self._gpu_lines()) + "\n"

    def _gpu_lines(self) -> list[str]:
        """Each GPU's figures from the latest heartbeat; none at all without a GPU."""
        lines: list[str] = []
        readings = self.gpus.readings if self.gpus else ()
        for name, help_text, attribute in GPU_GAUGES if readings else ():
            lines += [f"# HELP computepool_miner_gpu_{name} {help_text}", f"# TYPE computepool_miner_gpu_{name} gauge"]
            lines += [f'computepool_miner_gpu_{name}{{gpu="{r.index}",name="{_label(r.name)}"}} {value}'
                      for r in readings if (value := getattr(r, attribute)) is not None]
        return lines

    async def serve(self, port: int) -> asyncio.Server:
        """A minimal HTTP server on 127.0.0.1:`port` answering GET /metrics (anything else: 404)."""
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            request = await reader.readline()
            while (await reader.readline()).strip():
                pass
            found = request.split()[1:2] == [b"/metrics"]
            body = (self.page() if found else "not found\n").encode()
            writer.write(b"HTTP/1.1 %s\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: %d\r\n"
                         b"Connection: close\r\n\r\n%s" % (b"200 OK" if found else b"404 Not Found", len(body), body))
            await writer.drain()
            writer.close()

        return await asyncio.start_server(answer, "127.0.0.1", port)


def _label(value: str) -> str:
    """A Prometheus label value: backslash, quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
