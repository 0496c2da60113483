"""Small helpers shared by the tests: real wallet addresses, error decoding."""

from __future__ import annotations

import os

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


def error_details(error: grpc.aio.AioRpcError) -> tuple[grpc.StatusCode, str, list[str]]:
    """(code, ErrorInfo reason, BadRequest fields) decoded from a failed call."""
    status = rpc_status.from_call(error)
    reason, fields = "", []
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason = info.reason
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields = [v.field for v in bad.field_violations]
    return error.code(), reason, fields
