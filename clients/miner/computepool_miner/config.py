"""The miner's configuration: a TOML file, then COMPUTEPOOL_MINER_* environment variables over it.

A mistake is a ConfigError naming the key, raised before anything connects.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXECUTORS = ("echo", "command", "openai")
METRICS_PORT = 9400
# Keys the environment may override (COMPUTEPOOL_MINER_<KEY upper-cased>), with their types; the
# systemd template sets INSTANCE and STATE_DIR per GPU this way.
ENVIRONMENT_KEYS: dict[str, type] = {
    "server": str, "api_key": str, "owner_wallet": str, "worker_name": str, "instance": int,
    "state_dir": str, "max_concurrent_jobs": int, "metrics_port": int, "price_coefficient": float,
}


class ConfigError(Exception):
    """The configuration is unusable; the message names the key."""


@dataclass(frozen=True)
class JobTypeConfig:
    """How one job type is run: its executor and that executor's settings (the rest of its table)."""
    job_type: str
    executor: str
    models: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Hardware:
    gpu_model: str = ""
    gpu_count: int = 0
    vram_gb: float = 0.0


@dataclass(frozen=True)
class Config:
    server: str
    api_key: str
    owner_wallet: str
    worker_name: str
    state_dir: Path
    jobs: tuple[JobTypeConfig, ...]
    instance: int = 0
    endpoint: str = ""
    hardware: Hardware = Hardware()
    price_coefficient: float = 1.0
    max_concurrent_jobs: int = 1
    heartbeat_interval_s: float = 5.0
    claim_interval_s: float = 1.0     # how often an agent with free slots asks the stream for work
    drain_grace_s: float = 60.0       # how long SIGTERM / drain waits for running jobs
    metrics_port: int = 0             # /metrics on 127.0.0.1; the default 9400 + instance, one per GPU
    require_gpu: bool = False         # doctor fails when no GPU is visible through NVML

    def job(self, job_type: str) -> JobTypeConfig:
        return next(job for job in self.jobs if job.job_type == job_type)


def load(path: Path, environ: dict[str, str] | None = None) -> Config:
    """The file at `path` with the environment's overrides applied."""
    environ = dict(os.environ if environ is None else environ)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config: no file {path}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config: {path} is not TOML: {error}") from None
    for key, kind in ENVIRONMENT_KEYS.items():
        value = environ.get(f"COMPUTEPOOL_MINER_{key.upper()}")
        if value is not None:
            try:
                raw[key] = kind(value)
            except ValueError:
                raise ConfigError(f"COMPUTEPOOL_MINER_{key.upper()}: not a {kind.__name__}: {value!r}") from None
    return parse(raw)


def parse(raw: dict[str, Any]) -> Config:
    for key in ("server", "api_key", "owner_wallet", "worker_name", "state_dir"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise ConfigError(f"{key}: required (a non-empty string)")
    jobs = raw.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        raise ConfigError("jobs: required: one table per job type, e.g. [jobs.echo] executor = \"echo\"")
    hardware = raw.get("hardware", {})
    known = {"gpu_model", "gpu_count", "vram_gb"}
    if not isinstance(hardware, dict) or set(hardware) - known:
        raise ConfigError(f"hardware: a table of {sorted(known)}")
    instance = _number(raw, "instance", int, 0, minimum=0)
    config = Config(
        server=raw["server"], api_key=raw["api_key"], owner_wallet=raw["owner_wallet"],
        worker_name=raw["worker_name"], state_dir=Path(raw["state_dir"]).expanduser(),
        jobs=tuple(_job(job_type, table) for job_type, table in jobs.items()),
        instance=instance, endpoint=raw.get("endpoint", ""),
        hardware=Hardware(gpu_model=str(hardware.get("gpu_model", "")),
                          gpu_count=_number(hardware, "gpu_count", int, 0, minimum=0, prefix="hardware."),
                          vram_gb=_number(hardware, "vram_gb", float, 0.0, minimum=0, prefix="hardware.")),
        price_coefficient=_number(raw, "price_coefficient", float, 1.0, minimum=0),
        max_concurrent_jobs=_number(raw, "max_concurrent_jobs", int, 1, minimum=1),
        heartbeat_interval_s=_number(raw, "heartbeat_interval_s", float, 5.0, minimum=0.1),
        claim_interval_s=_number(raw, "claim_interval_s", float, 1.0, minimum=0.1),
        drain_grace_s=_number(raw, "drain_grace_s", float, 60.0, minimum=0),
        metrics_port=_number(raw, "metrics_port", int, METRICS_PORT + instance, minimum=1),
        require_gpu=bool(raw.get("require_gpu", False)))
    unknown = set(raw) - {f for f in Config.__dataclass_fields__} - {"hardware"}
    if unknown:
        raise ConfigError(f"{sorted(unknown)[0]}: unknown key")
    return config


def _job(job_type: str, table: Any) -> JobTypeConfig:
    if not isinstance(table, dict) or table.get("executor") not in EXECUTORS:
        raise ConfigError(f"jobs.{job_type}.executor: one of {', '.join(EXECUTORS)}")
    options = {k: v for k, v in table.items() if k not in ("executor", "models")}
    models = table.get("models", [])
    if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
        raise ConfigError(f"jobs.{job_type}.models: a list of model names")
    return JobTypeConfig(job_type, table["executor"], tuple(models), options)


def _number(table: dict[str, Any], key: str, kind: type, default: Any, *, minimum: float, prefix: str = "") -> Any:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
        raise ConfigError(f"{prefix}{key}: must be {'an integer' if kind is int else 'a number'}")
    if value < minimum:
        raise ConfigError(f"{prefix}{key}: must be at least {minimum}")
    return kind(value)
