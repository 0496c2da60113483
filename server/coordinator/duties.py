"""Background duties: a round of work repeated on a cadence while the server runs, in every
replica (each duty is safe to run in several processes at once)."""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from coordinator.errors import Unavailable

log = logging.getLogger(__name__)


async def repeat(name: str, round_of_work: Callable[[], Awaitable[object]], every_s: float, *,
                 traceback: bool = True) -> None:
    """Runs `round_of_work` every `every_s` seconds, counted from the start of the previous round
    (a round that takes longer is followed by the next at once). A failed round never stops the
    duty: a database outage is logged once by Database, anything else here, with its traceback
    unless `traceback` is False (an error whose text may carry a secret, such as a node's URL)."""
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        try:
            await round_of_work()
        except Unavailable:
            pass
        except Exception as error:
            if traceback:
                log.exception("%s round failed", name)
            else:
                log.error("%s round failed (%s); retrying in %.0f s", name, type(error).__name__, every_s)
        await asyncio.sleep(max(0.0, started + every_s - loop.time()))
