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


def test_the_largest_amounts_stay_exact_or_are_refused():
    assert ton_to_nanoton(9_000_000_000.0, "amount_ton") == 9 * 10**18  # below int64's 9.22e18
    with pytest.raises(InvalidArgument, match="too large"):
        ton_to_nanoton(1e10, "amount_ton")  # 10**19 nanoton would not fit a BIGINT column


def test_a_refused_inexact_amount_points_at_the_exact_field():
    with pytest.raises(InvalidArgument, match="send amount_nanoton for an exact amount"):
        ton_to_nanoton(1234567.123456789, "amount_ton")


def test_negative_zero_is_zero_and_zero_refused_says_greater_than_zero():
    assert ton_to_nanoton(-0.0, "amount_ton") == 0
    with pytest.raises(InvalidArgument, match="greater than 0"):
        ton_to_nanoton(0.0, "amount_ton", allow_zero=False)


def test_decimal_text_of_zero_and_of_large_values():
    assert units_to_decimal_str(0, 9) == "0.000000000"
    assert units_to_decimal_str(2**63 - 1, 9) == "9223372036.854775807"
