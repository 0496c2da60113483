"""When a failed call is tried again: only UNAVAILABLE, only for calls that are safe to repeat."""

from __future__ import annotations

import random
from dataclasses import dataclass

import grpc

from computepool.errors import ComputepoolError


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, never sooner than the server's RetryInfo asks.
    `attempts` counts the first call: 5 means up to 4 retries."""

    attempts: int = 5
    initial_backoff_s: float = 0.2
    max_backoff_s: float = 10.0
    multiplier: float = 2.0

    def delay(self, attempt: int, error: ComputepoolError) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None to give up and raise."""
        if error.code != grpc.StatusCode.UNAVAILABLE or attempt + 1 >= self.attempts:
            return None
        backoff = min(self.max_backoff_s, self.initial_backoff_s * self.multiplier ** attempt)
        return max(random.uniform(0.0, backoff), error.retry_after_s or 0.0)


NO_RETRIES = RetryPolicy(attempts=1)
