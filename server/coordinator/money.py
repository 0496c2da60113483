"""Exact money. Storage and arithmetic use integers of the smallest unit; the documented decimal
JSON numbers arrive as doubles and are converted exactly or refused, never rounded.

A double carries any decimal of at most 15 significant digits exactly: Python's repr() of the
double gives back that very decimal. So a value whose shortest repr has more than 15
significant digits (or more decimals than the unit allows) did not come from a decimal we can
take exactly, and it is refused with a pointer to the exact integer field.
"""

from __future__ import annotations

import math
from decimal import Decimal

from coordinator.errors import InvalidArgument

NANOTON_DECIMALS = 9
USD_MICROS_DECIMALS = 6
MAX_EXACT_DIGITS = 15
INT64_MAX = 2**63 - 1


def decimal_to_units(value: float, decimals: int, field: str, *, allow_zero: bool = True,
                     exact_field: str | None = None) -> int:
    """Converts a documented decimal number to integer units with `decimals` decimal places."""
    if not math.isfinite(value):
        raise InvalidArgument.field(field, "must be a finite number")
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidArgument.field(field, "must be greater than 0" if not allow_zero else "must not be negative")
    exact = Decimal(repr(value))
    sign, digits, exponent = exact.normalize().as_tuple()
    if exponent < -decimals:
        raise InvalidArgument.field(field, f"has more than {decimals} decimals")
    significant = len(digits) if digits != (0,) else 0
    if significant > MAX_EXACT_DIGITS:
        hint = f"; send {exact_field} for an exact amount" if exact_field else ""
        raise InvalidArgument.field(field, f"has more than {MAX_EXACT_DIGITS} significant digits, "
                                           f"which a JSON number cannot carry exactly{hint}")
    units = int(exact.scaleb(decimals))
    if units > INT64_MAX:
        raise InvalidArgument.field(field, "is too large")
    return units


def units_to_float(units: int, decimals: int) -> float:
    """The nearest double to units / 10**decimals (exact when it has at most 15 digits)."""
    return float(Decimal(units).scaleb(-decimals))


def units_to_decimal_str(units: int, decimals: int) -> str:
    """Exact decimal text, always with `decimals` places, e.g. 25500000000 -> '25.500000000'."""
    sign = "-" if units < 0 else ""
    whole, fraction = divmod(abs(units), 10**decimals)
    return f"{sign}{whole}.{fraction:0{decimals}d}"


def ton_to_nanoton(value: float, field: str, *, allow_zero: bool = True) -> int:
    return decimal_to_units(value, NANOTON_DECIMALS, field, allow_zero=allow_zero,
                            exact_field=field.replace("_ton", "_nanoton"))


def nanoton_to_ton(nanoton: int) -> float:
    return units_to_float(nanoton, NANOTON_DECIMALS)
