"""TON wallet addresses: validated and normalised with pytoniq-core."""

from __future__ import annotations

from dataclasses import dataclass

from pytoniq_core import Address

from .errors import InvalidArgument

# Basechain and masterchain; pytoniq-core parses any workchain number, the pool takes these.
ALLOWED_WORKCHAINS = (0, -1)


@dataclass(frozen=True)
class WalletAddress:
    raw: str        # `0:<64 hex>`: the identity, unique per participant
    friendly: str   # non-bounceable, url-safe (`UQ…`, or `0Q…` for a testnet-only address)


def parse_address(text: str, field: str) -> WalletAddress:
    """Accepts raw, bounceable and non-bounceable forms, url-safe or standard base64."""
    text = (text or "").strip()
    if not text:
        raise InvalidArgument.field(field, "is required")
    try:
        address = Address(text)
    except Exception:  # pytoniq-core raises AddressError, and IndexError/ValueError on some garbage
        raise InvalidArgument.field(field, "is not a valid TON address", reason="INVALID_WALLET_ADDRESS") from None
    if address.wc not in ALLOWED_WORKCHAINS:
        raise InvalidArgument.field(field, "must be on workchain 0 or -1", reason="INVALID_WALLET_ADDRESS")
    friendly = address.to_str(is_user_friendly=True, is_url_safe=True, is_bounceable=False,
                              is_test_only=bool(address.is_test_only))
    return WalletAddress(raw=address.to_str(is_user_friendly=False), friendly=friendly)
