"""A local stand-in for a cocoon worker's HTTP statistics port: serves /jsonstats documents of
the shape runners/worker/WorkerRunner.cpp produces (counters are [total, 1s, 10s, 1m, 10m, 1h, 1d])."""

from __future__ import annotations

import time

from aiohttp import web


def jsonstats(*, queries: float = 18342, success: float = 18300, failed: float = 84, earned_tokens=(798_000_000,),
              fee_per_token: int = 16, synced_ago_s: float = 30, image_ok: bool = True, model_ok: bool = True,
              proxies_inited: bool = True) -> dict:
    def counter(total):
        return [float(total), 0.18, 2.1, 12.48, 119.33, 702.55, 16890.12]

    return {
        "status": {"wallet_balance": 7431250000, "actual_image_hash": image_ok, "actual_model": model_ok,
                   "ton_last_synced_at": int(time.time() - synced_ago_s), "enabled": True,
                   "git_commit": "e2ba", "git_commit_data": "2025-11-30"},
        "stats": {"queries": counter(queries), "success": counter(success), "failed": counter(failed),
                  "bytes_received": counter(1e6), "bytes_sent": counter(2e6), "time": counter(3600),
                  "total_adjusted_tokens_used": counter(5e7)},
        "wallet": {"address": "EQ", "balance": 7431250000, "seqno": 57, "pending_transactions_cnt": 0,
                   "active_transactions_cnt": 0},
        "localconfig": {"root_address": "UQ", "owner_address": "UQ", "model": "Qwen/Qwen3-32B", "coefficient": 1000,
                        "check_image_hashes": True},
        "root_contract_config": {"price_per_token": 20, "worker_fee_per_token": fee_per_token},
        "proxies": [{"sc_inited": proxies_inited, "proxy_sc_address": "EQ", "sc_address": "EQ",
                     "earned_tokens_committed_to_blockchain": tokens, "earned_tokens_max_known": tokens,
                     "running_request": False, "params_version": 4} for tokens in earned_tokens],
    }


class CocoonWorkerStats:
    """Serves `document` (or `raw` text) at /jsonstats on 127.0.0.1:<port>."""

    def __init__(self):
        self.document: dict = jsonstats()
        self.raw: str | None = None
        self.requests = 0
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        if self.raw is not None:
            return web.Response(text=self.raw, content_type="application/json")
        return web.json_response(self.document)

    async def start(self) -> CocoonWorkerStats:
        app = web.Application()
        app.router.add_get("/jsonstats", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        await self._runner.cleanup()
