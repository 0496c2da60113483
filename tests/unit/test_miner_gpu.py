"""The miner's GPU reader (computepool_miner.gpu) against the real nvidia-ml-py: its calls exist in
the library as named; on a machine without a GPU it says so and reports no figures; on one with a
GPU it reads real ones (skipped, with the reason, where there is none)."""

from __future__ import annotations

from types import SimpleNamespace

import pynvml
import pytest
from computepool_miner.agent import Agent
from computepool_miner.config import parse
from computepool_miner.gpu import Gpus
from computepool_miner.telemetry import Metrics

GPU_FIELDS = ("gpu_utilization", "gpu_memory_used_gb", "gpu_temperature_celsius", "gpu_power_watts")

CALLS = ("nvmlInit", "nvmlDeviceGetCount", "nvmlDeviceGetHandleByIndex", "nvmlDeviceGetHandleByUUID",
         "nvmlDeviceGetName", "nvmlDeviceGetUtilizationRates", "nvmlDeviceGetMemoryInfo",
         "nvmlDeviceGetTemperature", "nvmlDeviceGetPowerUsage")


def gpu_present() -> bool:
    try:
        pynvml.nvmlInit()
        return pynvml.nvmlDeviceGetCount() > 0
    except pynvml.NVMLError:
        return False


def two_gpus(power_supported: bool = True) -> SimpleNamespace:
    """NVML's API shape (the names checked against pynvml below) over two GPUs' answers."""
    utilization = {0: 80, 1: 40}

    def power(handle: int) -> int:
        if not power_supported and handle == 1:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
        return 350_000

    return SimpleNamespace(
        nvmlInit=lambda: None, nvmlDeviceGetCount=lambda: 2, nvmlDeviceGetHandleByIndex=lambda i: [0, 1][i],
        nvmlDeviceGetHandleByUUID=lambda uuid: {"GPU-b": 1}[uuid],
        nvmlDeviceGetName=lambda h: b"NVIDIA H200" if h == 0 else "NVIDIA L4",
        nvmlDeviceGetUtilizationRates=lambda h: SimpleNamespace(gpu=utilization[h], memory=10),
        nvmlDeviceGetMemoryInfo=lambda h: SimpleNamespace(used=40_000_000_000, total=141_000_000_000, free=0),
        nvmlDeviceGetTemperature=lambda h, sensor: 60 + h * 5, nvmlDeviceGetPowerUsage=power,
        NVML_TEMPERATURE_GPU=pynvml.NVML_TEMPERATURE_GPU, NVMLError=pynvml.NVMLError)


def test_the_calls_the_reader_makes_are_the_library_s():
    assert all(callable(getattr(pynvml, name)) for name in CALLS)
    assert set(CALLS) <= set(vars(two_gpus()))


def test_figures_across_gpus_mean_utilisation_summed_memory_and_power_hottest_temperature():
    gpus = Gpus(two_gpus(), visible=None)
    assert gpus.names == ["NVIDIA H200", "NVIDIA L4"] and gpus.problem == ""
    sample = gpus.sample()
    assert (sample.utilization_percent, sample.memory_used_gb, sample.temperature_celsius, sample.power_watts) == (
        60.0, 80.0, 65, 700.0)
    assert [(r.index, r.name, r.utilization_percent, r.memory_total_gb) for r in sample.readings] == [
        (0, "NVIDIA H200", 80, 141.0), (1, "NVIDIA L4", 40, 141.0)]


@pytest.mark.parametrize("visible", ["1", "GPU-b", " 1 ,"])
def test_cuda_visible_devices_picks_the_gpus_by_index_or_uuid(visible):
    """NVML ignores CUDA_VISIBLE_DEVICES: the agent run for GPU 1 must report GPU 1 only."""
    sample = Gpus(two_gpus(), visible=visible).sample()
    assert [(r.name, r.utilization_percent) for r in sample.readings] == [("NVIDIA L4", 40)]


def test_an_empty_cuda_visible_devices_means_no_gpu_and_says_so():
    gpus = Gpus(two_gpus(), visible="")
    assert gpus.sample() is None and "CUDA_VISIBLE_DEVICES is empty" in gpus.problem


def test_an_unknown_gpu_uuid_is_a_problem_not_a_crash():
    gpus = Gpus(two_gpus(), visible="GPU-nope")
    assert gpus.sample() is None and gpus.problem.startswith("NVML found no GPU")


def test_a_gpu_without_power_readings_leaves_power_unknown_not_zero():
    sample = Gpus(two_gpus(power_supported=False), visible=None).sample()
    assert [r.power_watts for r in sample.readings] == [350.0, None] and sample.power_watts is None
    assert sample.utilization_percent == 60.0


def test_metrics_page_shows_each_gpu_and_nothing_without_one():
    metrics = Metrics()
    assert "computepool_miner_gpu_" not in metrics.page()
    metrics.gpus = Gpus(two_gpus(power_supported=False), visible=None).sample()
    page = metrics.page()
    assert 'computepool_miner_gpu_utilization_percent{gpu="1",name="NVIDIA L4"} 40.0' in page
    assert 'computepool_miner_gpu_power_watts{gpu="0",name="NVIDIA H200"} 350.0' in page
    assert 'computepool_miner_gpu_power_watts{gpu="1"' not in page  # unknown, so no figure at all


def test_a_heartbeat_without_a_gpu_carries_no_gpu_fields_and_with_one_carries_all():
    def heartbeat(gpus: Gpus):
        agent = Agent(parse({"server": "127.0.0.1:1", "api_key": "k", "owner_wallet": "w", "worker_name": "n", "state_dir": "unused",
                             "jobs": {"echo": {"executor": "echo"}}}), None, "miner", None, {}, gpus, Metrics())
        return agent._heartbeat()

    bare = heartbeat(Gpus(two_gpus(), visible=""))
    assert not any(bare.HasField(name) for name in GPU_FIELDS)
    full = heartbeat(Gpus(two_gpus(), visible=None))
    assert all(full.HasField(name) for name in GPU_FIELDS) and full.gpu_power_watts == 700.0


@pytest.mark.skipif(gpu_present(), reason="this machine has a GPU: the test below reads it")
def test_without_a_gpu_it_says_so_and_reports_no_figures():
    gpus = Gpus(visible=None)
    assert gpus.problem.startswith("NVML found no GPU") and gpus.sample() is None


@pytest.mark.skipif(not gpu_present(), reason="no NVIDIA GPU visible through NVML on this machine")
def test_a_real_gpu_is_read():
    gpus = Gpus(visible=None)
    sample = gpus.sample()
    assert gpus.problem == "" and gpus.names and all(name.strip() for name in gpus.names)
    assert 0 <= sample.utilization_percent <= 100 and sample.memory_used_gb > 0
    assert 10 < sample.temperature_celsius < 110 and sample.power_watts > 0
    print(gpus.names, sample)
