"""A cocoon worker's HTTP statistics, `GET /jsonstats` (runners/worker/WorkerRunner.cpp in the
cocoon source): request counters, contract state and per-proxy earnings, but no GPU figures.
Only /jsonstats is read; the worker's `/request/*` paths change its state and are never called.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging

import aiohttp

from coordinator.storage.models import WorkerStatus, utcnow

log = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 1 << 20
SYNC_STALE_AFTER_S = 3600


@dataclasses.dataclass(frozen=True)
class ParsedStats:
    status: str
    requests_total: int | None = None
    errors_total: int | None = None
    revenue_nanoton: int | None = None
    gpu_utilization: float | None = None
    gpu_memory_used_gb: float | None = None
    gpu_temperature_celsius: float | None = None


def _total(stats: dict, name: str) -> int | None:
    """Cocoon counters are [total since start, then decaying sums over 1s..1d]; take the total."""
    series = stats.get(name)
    if isinstance(series, list) and series and isinstance(series[0], (int, float)):
        return int(series[0])
    return None


def parse_cocoon_stats(document: dict, now: dt.datetime) -> ParsedStats:
    """Reads a cocoon worker's /jsonstats document. Raises ValueError if it is not one."""
    if not isinstance(document, dict) or not isinstance(document.get("stats"), dict):
        raise ValueError("not a cocoon /jsonstats document: no 'stats' object")
    stats = document["stats"]
    status_section = document.get("status") if isinstance(document.get("status"), dict) else {}
    proxies = [p for p in document.get("proxies") or [] if isinstance(p, dict)]
    config = document.get("root_contract_config") if isinstance(document.get("root_contract_config"), dict) else {}

    failed = _total(stats, "failed")
    # WorkerRunner counts each failure twice (once where the request fails, once on cleanup).
    errors_total = failed // 2 if failed is not None else None

    revenue = None
    fee_per_token = config.get("worker_fee_per_token")
    if isinstance(fee_per_token, int):
        # Earned tokens committed on chain x the worker's fee per token (nanoTON): exact integers.
        revenue = sum(int(p.get("earned_tokens_committed_to_blockchain") or 0) for p in proxies) * fee_per_token

    synced_at = status_section.get("ton_last_synced_at")
    unhealthy = (
        status_section.get("actual_image_hash") is False
        or status_section.get("actual_model") is False
        or (isinstance(synced_at, (int, float)) and now.timestamp() - synced_at > SYNC_STALE_AFTER_S)
        or not any(p.get("sc_inited") for p in proxies)
    )
    return ParsedStats(status=WorkerStatus.UNHEALTHY if unhealthy else WorkerStatus.HEALTHY, requests_total=_total(stats, "queries"),
                       errors_total=errors_total, revenue_nanoton=revenue)


async def fetch_cocoon_stats(http: aiohttp.ClientSession, url, worker_id: int) -> ParsedStats:
    """GET the worker's /jsonstats (at most 1 MiB, no redirects); an unreachable worker or an
    answer that is not a cocoon document is OFFLINE."""
    try:
        async with http.get(url, allow_redirects=False) as response:
            if response.status != 200:
                raise ValueError(f"HTTP {response.status}")
            body = await response.content.read(MAX_DOCUMENT_BYTES + 1)
            if len(body) > MAX_DOCUMENT_BYTES:
                raise ValueError("document larger than 1 MiB")
            return parse_cocoon_stats(json.loads(body), utcnow())
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, UnicodeDecodeError) as error:
        log.info("worker %s unreachable at %s: %s", worker_id, url, error)
        return ParsedStats(status=WorkerStatus.OFFLINE)
