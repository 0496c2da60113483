"""Ledger arithmetic (market/ledger.py): what a completed job charges the client, what the
provider earns and the pool keeps, and the entries that record it. Exact integers of nanoTON:
fractions round down, the client's max_price caps the charge, charge == earning + fee."""

import itertools
from fractions import Fraction

import pytest
from coordinator import ledger
from coordinator.market.config import Market
from coordinator.market.dispatch import MAX_UNITS
from coordinator.settings import Settings
from sqlalchemy.ext.asyncio import AsyncSession

COEFFICIENT_ONE = 1_000_000  # a price coefficient of 1.0, in micros


def test_the_charge_is_units_times_price_times_coefficient():
    assert ledger.settle(100, 20, COEFFICIENT_ONE, 0, 0) == ledger.Settlement(charge=2_000, earning=2_000, fee=0)
    assert ledger.settle(100, 20, 1_250_000, 0, 0).charge == 2_500  # coefficient 1.25


@pytest.mark.parametrize("units, unit_price, coefficient_micros, charge", [
    (1, 1, 999_999, 0),            # 0.999999 nanoTON: a fraction is never charged
    (3, 1, 333_334, 1),            # 1.000002
    (7, 3, 1_500_001, 31),         # 31.500021
    (1, 20, 1, 0),                 # the smallest coefficient
])
def test_a_fraction_of_a_nanoton_is_rounded_down(units, unit_price, coefficient_micros, charge):
    assert ledger.settle(units, unit_price, coefficient_micros, 0, 0).charge == charge


def test_the_fee_is_rounded_down_and_the_provider_gets_the_rest():
    settlement = ledger.settle(9_999, 1, COEFFICIENT_ONE, 0, 250)  # 2.5% of 9,999 is 249.975
    assert (settlement.charge, settlement.fee, settlement.earning) == (9_999, 249, 9_750)


def test_max_price_caps_the_charge_and_the_fee_is_taken_from_the_capped_charge():
    assert ledger.settle(1_000, 1, COEFFICIENT_ONE, 500, 1_000) == ledger.Settlement(charge=500, earning=450, fee=50)
    assert ledger.settle(1_000, 1, COEFFICIENT_ONE, 1_000, 0).charge == 1_000  # a cap equal to the charge
    assert ledger.settle(1_000, 1, COEFFICIENT_ONE, 10**9, 0).charge == 1_000  # a cap above it changes nothing
    assert ledger.settle(1_000, 1, COEFFICIENT_ONE, 0, 0).charge == 1_000  # 0: no cap


@pytest.mark.parametrize("units, unit_price", [(0, 20), (100, 0)])
def test_no_units_or_a_free_job_type_charge_nothing(units, unit_price):
    assert ledger.settle(units, unit_price, COEFFICIENT_ONE, 0, 500) == ledger.Settlement(0, 0, 0)


def test_the_fee_may_be_none_or_everything():
    assert ledger.settle(1_000, 1, COEFFICIENT_ONE, 0, 0).fee == 0
    assert ledger.settle(1_000, 1, COEFFICIENT_ONE, 0, 10_000) == ledger.Settlement(charge=1_000, earning=0, fee=1_000)


UNITS = (0, 1, 7, 999, MAX_UNITS)
PRICES = (0, 1, 20, 123_457)
COEFFICIENTS = (1, 333_333, COEFFICIENT_ONE, 1_000 * COEFFICIENT_ONE)
MAX_PRICES = (0, 1, 10**9, 2**63 - 1)
FEES = (0, 1, 333, 10_000)


@pytest.mark.parametrize("units, unit_price", list(itertools.product(UNITS, PRICES)))
def test_settlements_are_exact_integers_that_add_up(units, unit_price):
    """Large values too: the exact product, rounded down, never a float on the way."""
    for coefficient, max_price, fee_bps in itertools.product(COEFFICIENTS, MAX_PRICES, FEES):
        settlement = ledger.settle(units, unit_price, coefficient, max_price, fee_bps)
        exact = int(Fraction(units * unit_price * coefficient, COEFFICIENT_ONE))  # floored: all are >= 0
        assert settlement.charge == (min(exact, max_price) if max_price else exact)
        assert settlement.fee == settlement.charge * fee_bps // 10_000
        assert settlement.charge == settlement.earning + settlement.fee and 0 <= settlement.fee <= settlement.charge
        assert all(type(value) is int for value in (settlement.charge, settlement.earning, settlement.fee))


@pytest.mark.parametrize("fee_bps", [-1, 10_001])
def test_a_pool_fee_outside_0_to_100_percent_is_refused(fee_bps):
    with pytest.raises(ValueError, match="POOL_FEE_BPS"):
        Market.from_settings(Settings(pool_fee_bps=fee_bps))


@pytest.mark.parametrize("fee_bps", [0, 10_000])
def test_a_pool_fee_of_none_or_all_is_taken(fee_bps):
    assert Market.from_settings(Settings(pool_fee_bps=fee_bps)).fee_bps == fee_bps


def test_a_job_settlement_is_three_entries_that_sum_to_zero():
    settlement = ledger.settle(100, 7, COEFFICIENT_ONE, 0, 250)
    entries = sorted(ledger.job_settlement_entries(job_id="job-1", receipt_id="receipt-1", client_id="client-1",
                                                   participant_id=5, worker_id=9, settlement=settlement),
                     key=lambda entry: entry["kind"])
    assert [(e["kind"], e["account"], e["amount"]) for e in entries] == [
        ("charge", "client:client-1", -700), ("earning", "participant:5", 683), ("fee", "pool:fees", 17)]
    assert sum(e["amount"] for e in entries) == 0
    assert {(e["asset"], e["job_id"], e["receipt_id"]) for e in entries} == {("TON", "job-1", "receipt-1")}
    assert (entries[1]["participant_id"], entries[1]["worker_id"]) == (5, 9)  # what earnings are summed by
    assert all(set(e) == set(entries[0]) for e in entries)  # one INSERT takes them: the same columns in each


def test_a_deposit_is_two_entries_that_sum_to_zero():
    session = AsyncSession()
    ledger.record_deposit(session, payment_id="pay-1", client_id="client-1", participant_id=5,
                          credit_units=1_500_000_000)
    entries = sorted(session.new, key=lambda entry: entry.amount)
    assert [(e.account, e.amount) for e in entries] == [("pool:aitbc-issued", -1_500_000_000),
                                                         ("client:client-1", 1_500_000_000)]
    assert {(e.asset, e.kind, e.payment_id) for e in entries} == {("AITBC", "deposit", "pay-1")}
