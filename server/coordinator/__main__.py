"""`python -m coordinator`: serve until SIGTERM/SIGINT, then drain in-flight calls and exit."""

from __future__ import annotations

import asyncio
import logging
import signal

from .app import build_server
from .observability import configure_logging, configure_tracing, shutdown_tracing
from .settings import Settings


async def serve(settings: Settings) -> None:
    pool = build_server(settings)
    await pool.start()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    # launch.py (tests, benchmarks) reads the port from this line.
    logging.getLogger(__name__).info("computepool: gRPC on %s:%d, metrics on :%d", settings.grpc_host, pool.grpc_port,
                                     pool.metrics_port)
    await stopping.wait()
    logging.getLogger(__name__).info("shutting down: draining in-flight calls")
    await pool.stop()
    shutdown_tracing()


def main() -> None:
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    configure_tracing()
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
