"""One round of the pool's worker statistics poller, run from a test against the test database."""

from __future__ import annotations

import aiohttp
from coordinator.pool.stats_poller import StatsPoller
from coordinator.storage.database import Database

from tests.support.server import make_settings


async def poll_once(database_url: str, **settings) -> int:
    """Polls the workers due now; returns how many it polled."""
    database = Database(database_url)
    try:
        poller = StatsPoller(database, make_settings(database_url, stats_poll_timeout_s=2, **settings))
        async with aiohttp.ClientSession(timeout=poller.timeout) as http:
            return await poller.poll_round(http)
    finally:
        await database.close()
