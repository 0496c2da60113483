"""What differs between the asyncio client and the generated blocking one: channels and sleeping.
Hand-written for each (computepool/_async/transport.py is its twin)."""

from __future__ import annotations

import time
from typing import Any, Sequence

import grpc

Channel = grpc.Channel


def open_channel(target: str, credentials: grpc.ChannelCredentials | None,
                 options: Sequence[tuple[str, Any]]) -> grpc.Channel:
    if credentials is None:
        return grpc.insecure_channel(target, options=options)
    return grpc.secure_channel(target, credentials, options=options)


def close_channel(channel: grpc.Channel) -> None:
    channel.close()


def sleep(seconds: float) -> None:
    time.sleep(seconds)
