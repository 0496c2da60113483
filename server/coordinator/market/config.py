"""Marketplace configuration, read once from Settings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from coordinator.settings import Settings


@dataclass(frozen=True)
class Market:
    prices: dict[str, int]          # job type -> nanoTON per unit
    fee_bps: int
    lease: dt.timedelta
    heartbeat_timeout: dt.timedelta
    default_ttl: dt.timedelta
    max_attempts: int
    retry_backoff: dt.timedelta
    sample_every: dt.timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> Market:
        if not 0 <= settings.pool_fee_bps <= 10_000:
            raise ValueError("POOL_FEE_BPS must be between 0 and 10000")
        return cls(prices=dict(settings.job_prices), fee_bps=settings.pool_fee_bps,
                   lease=dt.timedelta(seconds=settings.lease_s),
                   heartbeat_timeout=dt.timedelta(seconds=settings.heartbeat_timeout_s),
                   default_ttl=dt.timedelta(seconds=settings.job_ttl_s), max_attempts=settings.max_attempts,
                   retry_backoff=dt.timedelta(seconds=settings.retry_backoff_s),
                   sample_every=dt.timedelta(seconds=settings.sample_every_s))

    def backoff(self, attempts: int) -> dt.timedelta:
        """Delay before the next lease after `attempts` failed ones: doubling, capped at 5 minutes."""
        return min(self.retry_backoff * (2 ** max(attempts - 1, 0)), dt.timedelta(minutes=5))
