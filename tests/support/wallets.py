"""Real TON wallet addresses (random, in every written form) and transaction hashes."""

from __future__ import annotations

import os

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
