"""The miner's GPU reader (computepool_miner.gpu) against the real nvidia-ml-py: its calls exist in
the library as named; on a machine without a GPU it says so and reports no figures; on one with a
GPU it reads real ones (skipped, with the reason, where there is none)."""

from __future__ import annotations

from types import SimpleNamespace

import pynvml
import pytest
from computepool_miner.gpu import Gpus

CALLS = ("nvmlInit", "nvmlDeviceGetCount", "nvmlDeviceGetHandleByIndex", "nvmlDeviceGetName",
         "nvmlDeviceGetUtilizationRates", "nvmlDeviceGetMemoryInfo", "nvmlDeviceGetTemperature",
         "nvmlDeviceGetPowerUsage")


def gpu_present() -> bool:
    try:
        pynvml.nvmlInit()
        return pynvml.nvmlDeviceGetCount() > 0
    except pynvml.NVMLError:
        return False


def two_gpus() -> SimpleNamespace:
    """NVML's API shape (the names checked against pynvml below) over two GPUs' answers."""
    utilization = {0: 80, 1: 40}
    return SimpleNamespace(
        nvmlInit=lambda: None, nvmlDeviceGetCount=lambda: 2, nvmlDeviceGetHandleByIndex=lambda i: i,
        nvmlDeviceGetName=lambda h: b"NVIDIA H200" if h == 0 else "NVIDIA H200",
        nvmlDeviceGetUtilizationRates=lambda h: SimpleNamespace(gpu=utilization[h], memory=10),
        nvmlDeviceGetMemoryInfo=lambda h: SimpleNamespace(used=40_000_000_000, total=141_000_000_000, free=0),
        nvmlDeviceGetTemperature=lambda h, sensor: 60 + h * 5, nvmlDeviceGetPowerUsage=lambda h: 350_000,
        NVML_TEMPERATURE_GPU=pynvml.NVML_TEMPERATURE_GPU)


def test_the_calls_the_reader_makes_are_the_library_s():
    assert all(callable(getattr(pynvml, name)) for name in CALLS)
    assert set(CALLS) <= set(vars(two_gpus()))


def test_figures_across_gpus_mean_utilisation_summed_memory_and_power_hottest_temperature():
    gpus = Gpus(two_gpus())
    assert gpus.names == ["NVIDIA H200", "NVIDIA H200"] and gpus.problem == ""
    sample = gpus.sample()
    assert (sample.utilization_percent, sample.memory_used_gb, sample.temperature_celsius, sample.power_watts) == (
        60.0, 80.0, 65, 700.0)


@pytest.mark.skipif(gpu_present(), reason="this machine has a GPU: the test below reads it")
def test_without_a_gpu_it_says_so_and_reports_no_figures():
    gpus = Gpus()
    assert gpus.problem.startswith("NVML found no GPU") and gpus.sample() is None


@pytest.mark.skipif(not gpu_present(), reason="no NVIDIA GPU visible through NVML on this machine")
def test_a_real_gpu_is_read():
    gpus = Gpus()
    sample = gpus.sample()
    assert gpus.problem == "" and gpus.names and all(name.strip() for name in gpus.names)
    assert 0 <= sample.utilization_percent <= 100 and sample.memory_used_gb > 0
    assert 10 < sample.temperature_celsius < 110 and sample.power_watts > 0
    print(gpus.names, sample)
