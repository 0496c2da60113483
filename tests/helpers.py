"""Small helpers shared by the tests: real wallet addresses, error decoding, free ports."""

from __future__ import annotations

import os
import socket

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from pytoniq_core import Address


def new_wallet(workchain: int = 0) -> Address:
    return Address((workchain, os.urandom(32)))


def forms(address: Address) -> dict[str, str]:
    """Every written form of one wallet."""
    return {
        "raw": address.to_str(is_user_friendly=False),
        "bounceable": address.to_str(is_user_friendly=True, is_url_safe=True, is_bounceable=True),
        "non_bounceable": address.to_str(is_user_friendly=True, is_url_safe=True, is_bounceable=False),
        "standard_base64": address.to_str(is_user_friendly=True, is_url_safe=False, is_bounceable=True),
    }


def tx_hash() -> str:
    return os.urandom(32).hex()


def _detail(error: grpc.aio.AioRpcError, kind):
    """The first detail of this kind (ErrorInfo, BadRequest, RetryInfo) in a failed call's status, or None."""
    status = rpc_status.from_call(error)
    for detail in status.details if status else []:
        if detail.Is(kind.DESCRIPTOR):
            message = kind()
            detail.Unpack(message)
            return message
    return None


def error_details(error: grpc.aio.AioRpcError) -> tuple[grpc.StatusCode, str, list[str]]:
    """(code, ErrorInfo reason, BadRequest fields) decoded from a failed call."""
    info, bad = _detail(error, error_details_pb2.ErrorInfo), _detail(error, error_details_pb2.BadRequest)
    return error.code(), info.reason if info else "", [v.field for v in bad.field_violations] if bad else []


def error_metadata(error: grpc.aio.AioRpcError) -> dict[str, str]:
    """The ErrorInfo metadata of a failed call."""
    info = _detail(error, error_details_pb2.ErrorInfo)
    return dict(info.metadata) if info else {}


def retry_delay_s(error: grpc.aio.AioRpcError) -> float | None:
    """The google.rpc.RetryInfo delay of a failed call, None without one."""
    retry = _detail(error, error_details_pb2.RetryInfo)
    return retry.retry_delay.ToTimedelta().total_seconds() if retry else None


def free_port() -> int:
    """A port nothing listens on (for a server to take, or to find nobody there)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
