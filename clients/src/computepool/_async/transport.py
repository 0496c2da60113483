"""What differs between the asyncio client and the generated blocking one: channels and sleeping.
Hand-written for each (computepool/_sync/transport.py is its twin)."""

from __future__ import annotations

import asyncio
from typing import Any, Sequence

import grpc

Channel = grpc.aio.Channel


def open_channel(target: str, credentials: grpc.ChannelCredentials | None,
                 options: Sequence[tuple[str, Any]]) -> grpc.aio.Channel:
    if credentials is None:
        return grpc.aio.insecure_channel(target, options=options)
    return grpc.aio.secure_channel(target, credentials, options=options)


async def close_channel(channel: grpc.aio.Channel) -> None:
    await channel.close()


async def sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)
