"""A failed gRPC call's status decoded: code, google.rpc.ErrorInfo reason and metadata,
BadRequest field violations, RetryInfo delay (tests assert on the reason, not just the code)."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


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
