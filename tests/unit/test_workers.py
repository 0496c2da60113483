"""Worker figures (pool/workers.py): a statistics window's summary, counter increases across
worker restarts, and the price coefficient's exact micros."""

from types import SimpleNamespace

import pytest
from coordinator.errors import InvalidArgument
from coordinator.pool.workers import WindowStats, coefficient_to_micros, counter_increase, summarise


def sample(status="healthy", gpu=None, requests=None, errors=None, revenue=None):
    """A stored sample as worker_stats selects it (oldest first)."""
    return SimpleNamespace(status=status, gpu_utilization=gpu, requests_total=requests, errors_total=errors,
                           revenue_nanoton=revenue)


def test_a_window_without_samples_is_all_zero():
    assert summarise([], 24) == WindowStats(hours=24, samples=0, uptime_ratio=0.0, avg_gpu_utilization=0.0,
                                            peak_gpu_utilization=0.0, requests=0, errors=0, revenue_nanoton=0)


def test_uptime_is_the_share_of_healthy_samples():
    rows = [sample("healthy"), sample("unhealthy"), sample("offline"), sample("healthy")]
    stats = summarise(rows, 168)
    assert (stats.hours, stats.samples, stats.uptime_ratio) == (168, 4, 0.5)


def test_gpu_figures_leave_out_samples_without_a_reading():
    stats = summarise([sample(gpu=None), sample(gpu=20.0), sample(gpu=60.0), sample(status="offline")], 24)
    assert (stats.avg_gpu_utilization, stats.peak_gpu_utilization) == (40.0, 60.0)  # not 20.0: None is no 0
    unread = summarise([sample(), sample()], 24)
    assert (unread.avg_gpu_utilization, unread.peak_gpu_utilization) == (0.0, 0.0)


def test_a_restart_counts_its_requests_from_zero_but_revenue_never_goes_back():
    rows = [sample(requests=100, errors=1, revenue=1_000_000_000),
            sample(requests=400, errors=4, revenue=3_000_000_000),
            sample(status="offline"),
            # The worker restarted: its counters began again from zero; a proxy left its revenue list.
            sample(requests=50, errors=2, revenue=2_500_000_000),
            sample(requests=80, errors=2, revenue=2_600_000_000)]
    stats = summarise(rows, 720)
    assert (stats.requests, stats.errors) == (300 + 50 + 30, 3 + 2 + 0)
    assert stats.revenue_nanoton == 2_000_000_000 + 0 + 100_000_000
    assert type(stats.revenue_nanoton) is int


@pytest.mark.parametrize("values, resets, increase", [
    ([], True, 0),
    ([5], True, 0),                              # one reading: nothing to compare
    ([10, 10, 10], True, 0),
    ([100, 400], True, 300),
    ([100, 400, 50, 80], True, 380),             # a drop is a restart: 50 counted from zero
    ([100, 400, 50, 80], False, 330),            # a drop is no increase, never a negative one
    ([3, 0], True, 0),                           # restarted and nothing since
    ([None, 10, None, 15, None], True, 5),       # samples without the counter are skipped
    ([None, None], False, 0),
    ([0, 10**18, 2 * 10**18], False, 2 * 10**18),  # large values stay exact integers
])
def test_counter_increase(values, resets, increase):
    assert counter_increase(values, resets=resets) == increase


@pytest.mark.parametrize("value, micros", [(1.0, 1_000_000), (1.25, 1_250_000), (0.000001, 1), (1000, 1_000_000_000)])
def test_a_price_coefficient_is_exact_micros(value, micros):
    assert coefficient_to_micros(value, "price_coefficient") == micros


@pytest.mark.parametrize("value, why", [(0, "greater than 0"), (-1.0, "greater than 0"),
                                        (1.0000001, "decimals"), (1000.000001, "at most 1000")])
def test_a_price_coefficient_that_is_not_positive_exact_and_at_most_1000_is_refused(value, why):
    with pytest.raises(InvalidArgument) as raised:
        coefficient_to_micros(value, "price_coefficient")
    assert raised.value.violations[0].field == "price_coefficient" and why in raised.value.violations[0].description
