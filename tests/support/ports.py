"""Free local ports."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on (for a server to take, or to find nobody there)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
