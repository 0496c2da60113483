"""Webhook signatures: how the pool signs a notification it POSTs, and how a receiver checks it.

The pool sends `X-Computepool-Signature: t=<unix seconds>,v1=<hex>`, where the hex is
HMAC-SHA256, keyed with the webhook's secret, over `<t>.<the request body's bytes>`. A receiver
recomputes it over the raw body (before any JSON parsing), compares in constant time, and refuses
a timestamp older than a few minutes, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Computepool-Signature"
TOLERANCE_S = 300


class BadSignature(ValueError):
    """The request was not signed with this secret, or is too old."""


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for `body`, signed now (or at `timestamp`)."""
    moment = int(time.time()) if timestamp is None else timestamp
    return f"t={moment},v1={_digest(secret, moment, body)}"


def verify(secret: str, body: bytes, header: str, *, tolerance_s: float = TOLERANCE_S,
           now: float | None = None) -> int:
    """The signing time, or BadSignature: no such header value, another secret or body, or a
    timestamp more than `tolerance_s` from now."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        moment = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        raise BadSignature(f"{SIGNATURE_HEADER} is not t=<seconds>,v1=<hex>") from None
    if not hmac.compare_digest(given, _digest(secret, moment, body)):
        raise BadSignature("the signature does not match this secret and body")
    if abs((time.time() if now is None else now) - moment) > tolerance_s:
        raise BadSignature(f"signed at {moment}, more than {tolerance_s:g} s from now")
    return moment


def _digest(secret: str, moment: int, body: bytes) -> str:
    return hmac.new(secret.encode(), str(moment).encode() + b"." + body, hashlib.sha256).hexdigest()
