"""TON wallet addresses: validated strictly, then normalised with pytoniq-core.

pytoniq-core's Address() alone accepts too much (a 2-byte raw hash, workchain 999, stray
characters inside a base64 form), so the shape, tag, workchain and CRC16 are checked first.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from pytoniq_core import Address
from pytoniq_core.crypto.crc import crc16

from coordinator.errors import InvalidArgument, Reason

RAW_FORM = re.compile(r"(-1|0):[0-9a-fA-F]{64}")
FRIENDLY_FORM = re.compile(r"[A-Za-z0-9+/_-]{48}")
# First byte of the user-friendly form: bounceable 0x11, non-bounceable 0x51, +0x80 testnet-only.
FRIENDLY_TAGS = {0x11, 0x51, 0x91, 0xD1}


@dataclass(frozen=True)
class WalletAddress:
    raw: str        # `0:<64 hex>`: the identity, unique per participant
    friendly: str   # non-bounceable, url-safe (`UQ…`, or `0Q…` for a testnet-only address)


def _invalid(field: str, why: str) -> InvalidArgument:
    return InvalidArgument.field(field, f"is not a valid TON address ({why})", reason=Reason.INVALID_WALLET_ADDRESS)


def parse_address(text: str, field: str) -> WalletAddress:
    """Accepts raw (`0:<hex>`), bounceable and non-bounceable forms, url-safe or standard base64."""
    text = (text or "").strip()
    if not text:
        raise InvalidArgument.field(field, "is required")
    if RAW_FORM.fullmatch(text):
        address = Address(text.lower())
    elif FRIENDLY_FORM.fullmatch(text):
        data = base64.b64decode(text.replace("-", "+").replace("_", "/"))
        if data[0] not in FRIENDLY_TAGS:
            raise _invalid(field, "unknown tag")
        if int.from_bytes(data[1:2], "big", signed=True) not in (0, -1):
            raise _invalid(field, "workchain must be 0 or -1")
        if crc16(data[:34]) != data[34:]:
            raise _invalid(field, "bad checksum")
        address = Address(text)
    else:
        raise _invalid(field, "expected 0:<64 hex digits> or a 48-character base64 form")
    friendly = address.to_str(is_user_friendly=True, is_url_safe=True, is_bounceable=False,
                              is_test_only=bool(address.is_test_only))
    return WalletAddress(raw=address.to_str(is_user_friendly=False), friendly=friendly)
