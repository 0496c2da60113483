"""GPU metrics through NVML (nvidia-ml-py, the optional extra computepool-client[gpu]).

Without the library or a GPU the miner says so (doctor, the log) and its heartbeats carry no GPU
figures at all (absent, which the server shows as unknown); it never makes numbers up.

Which GPUs: those CUDA_VISIBLE_DEVICES names (indices or GPU-… UUIDs), else every GPU NVML sees.
NVML itself ignores that variable, so without this an agent run per GPU would report the whole
host. NVML numbers GPUs in PCI bus order; CUDA_DEVICE_ORDER=PCI_BUS_ID makes CUDA number them
the same way (the systemd unit sets both).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from statistics import fmean
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class Reading:
    """One GPU at one moment. Power is None where the GPU does not report it."""
    index: int  # position in this agent's list of GPUs (the /metrics label)
    name: str
    utilization_percent: float
    memory_used_gb: float
    memory_total_gb: float
    temperature_celsius: float
    power_watts: float | None


@dataclass(frozen=True)
class Sample:
    """The GPUs at one moment, and the heartbeat's figures over them: mean utilisation, memory in
    use (sum), hottest temperature, power (sum; None unless every GPU reports it)."""
    readings: tuple[Reading, ...]

    @property
    def utilization_percent(self) -> float:
        return fmean(r.utilization_percent for r in self.readings)

    @property
    def memory_used_gb(self) -> float:
        return sum(r.memory_used_gb for r in self.readings)

    @property
    def temperature_celsius(self) -> float:
        return max(r.temperature_celsius for r in self.readings)

    @property
    def power_watts(self) -> float | None:
        powers = [r.power_watts for r in self.readings]
        return None if None in powers else sum(p for p in powers if p is not None)


class Gpus:
    """The GPUs NVML sees (those CUDA_VISIBLE_DEVICES names, if set); `problem` says why there are none."""

    def __init__(self, nvml: ModuleType | None = None, visible: str | None = None):
        self.handles: list[Any] = []
        self.names: list[str] = []
        self.problem = ""
        visible = os.environ.get("CUDA_VISIBLE_DEVICES") if visible is None else visible
        try:
            self.nvml = nvml or _import_nvml()
            self.nvml.nvmlInit()
            self.handles = self._handles(visible)
            self.names = [_text(self.nvml.nvmlDeviceGetName(handle)) for handle in self.handles]
        except ImportError:
            self.problem = "nvidia-ml-py is not installed (pip install 'computepool-client[gpu]'): no GPU metrics"
        except Exception as error:  # pynvml.NVMLError and its subclasses: no driver, no device, unknown UUID
            self.problem = f"NVML found no GPU: {error}"
        if not self.handles and not self.problem:
            self.problem = ("CUDA_VISIBLE_DEVICES is empty: this agent uses no GPU" if visible is not None
                            and not visible.strip() else "NVML found no GPU")

    def _handles(self, visible: str | None) -> list[Any]:
        nvml = self.nvml
        if visible is None:
            return [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(nvml.nvmlDeviceGetCount())]
        entries = [entry.strip() for entry in visible.split(",") if entry.strip()]
        return [nvml.nvmlDeviceGetHandleByIndex(int(entry)) if entry.isdigit()
                else nvml.nvmlDeviceGetHandleByUUID(entry) for entry in entries]

    def sample(self) -> Sample | None:
        if not self.handles:
            return None
        return Sample(tuple(self._read(index, handle) for index, handle in enumerate(self.handles)))

    def _read(self, index: int, handle: Any) -> Reading:
        nvml = self.nvml
        memory = nvml.nvmlDeviceGetMemoryInfo(handle)
        try:
            power: float | None = nvml.nvmlDeviceGetPowerUsage(handle) / 1000  # milliwatts
        except nvml.NVMLError:  # NVML_ERROR_NOT_SUPPORTED on some boards and MIG instances
            power = None
        return Reading(index=index, name=self.names[index],
                       utilization_percent=float(nvml.nvmlDeviceGetUtilizationRates(handle).gpu),
                       memory_used_gb=memory.used / 1e9, memory_total_gb=memory.total / 1e9,
                       temperature_celsius=float(nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)),
                       power_watts=power)


def _import_nvml() -> ModuleType:
    import pynvml  # the module nvidia-ml-py installs

    module: ModuleType = pynvml
    return module


def _text(name: str | bytes) -> str:
    return name.decode() if isinstance(name, bytes) else name
