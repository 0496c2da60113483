"""`python -m coordinator`: serve until SIGTERM/SIGINT, then drain in-flight calls and exit."""

from __future__ import annotations

import asyncio
import logging
import signal

from .app import build_server
from .settings import Settings


async def serve(settings: Settings) -> None:
    pool = build_server(settings)
    await pool.start()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    print(f"computepool: gRPC on {settings.grpc_host}:{pool.grpc_port}, metrics on :{pool.metrics_port}", flush=True)
    await stopping.wait()
    logging.getLogger(__name__).info("shutting down: draining in-flight calls")
    await pool.stop()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(serve(Settings.from_env()))


if __name__ == "__main__":
    main()
