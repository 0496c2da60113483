"""Exact money conversions (pure functions)."""

import pytest
from coordinator.errors import InvalidArgument
from coordinator.money import decimal_to_units, nanoton_to_ton, ton_to_nanoton, units_to_decimal_str


@pytest.mark.parametrize("value, nanoton", [(25.5, 25_500_000_000), (0.1, 100_000_000), (1e-9, 1),
                                            (125.50, 125_500_000_000), (0.0, 0), (999999.999999999, 999999999999999)])
def test_documented_decimals_convert_exactly_both_ways(value, nanoton):
    assert ton_to_nanoton(value, "amount_ton") == nanoton
    assert nanoton_to_ton(nanoton) == value


@pytest.mark.parametrize("value, why", [(1e-10, "decimals"), (-0.5, "negative"), (float("nan"), "finite"),
                                        (float("inf"), "finite"), (1234567.123456789, "significant")])
def test_inexact_or_negative_amounts_are_refused(value, why):
    with pytest.raises(InvalidArgument) as raised:
        ton_to_nanoton(value, "amount_ton")
    assert raised.value.violations[0].field == "amount_ton"
    assert why in raised.value.violations[0].description


def test_zero_can_be_refused_and_usd_uses_six_decimals():
    with pytest.raises(InvalidArgument):
        decimal_to_units(0.0, 9, "amount_ton", allow_zero=False)
    assert decimal_to_units(89.25, 6, "amount_usd") == 89_250_000


def test_decimal_text_is_exact():
    assert units_to_decimal_str(25_500_000_000, 9) == "25.500000000"
    assert units_to_decimal_str(1, 9) == "0.000000001"
    assert units_to_decimal_str(-1_500_000, 6) == "-1.500000"
