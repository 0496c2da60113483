"""Metadata the server sends for the REST side; Envoy's Lua filter (envoy/) turns it into HTTP.

gRPC has no "201 Created", no response headers on a bare-array body and no documented error
body, so the server says what REST should show in metadata: `x-http-status` (status to use),
`x-error-body` (the documented error body), `retry-after`, `x-next-page-token` (paging header
for bare arrays) and `content-disposition` (downloads). Native gRPC callers simply see extra
metadata.
"""

from __future__ import annotations

import grpc

from coordinator.errors import DomainError, InvalidArgument

HTTP_STATUS = "x-http-status"
NEXT_PAGE_TOKEN = "x-next-page-token"
ERROR_BODY = "x-error-body"
RETRY_AFTER = "retry-after"  # Envoy's Lua filter makes it the Retry-After header


def rest_body(error: DomainError) -> dict:
    details: dict = dict(error.metadata)
    if isinstance(error, InvalidArgument):
        details["field_violations"] = [{"field": v.field, "description": v.description} for v in error.violations]
    return {"detail": error.message, "error": {"code": error.reason, "message": error.message, "details": details}}




async def send_created(context: grpc.aio.ServicerContext, created: bool = True) -> None:
    if created:
        await context.send_initial_metadata(((HTTP_STATUS, "201"),))


async def send_next_page_token(context: grpc.aio.ServicerContext, token: str) -> None:
    if token:
        await context.send_initial_metadata(((NEXT_PAGE_TOKEN, token),))
