"""GPU metrics through NVML (nvidia-ml-py, the optional extra computepool-client[gpu]).

Without the library or a GPU the miner says so (doctor, the log) and its heartbeats carry no GPU
figures (zeros: the wire has no "absent" for them); it never makes numbers up.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class Sample:
    """The GPUs at one moment: mean utilisation, memory in use (sum), hottest temperature, power (sum)."""
    utilization_percent: float
    memory_used_gb: float
    temperature_celsius: float
    power_watts: float


class Gpus:
    """The GPUs NVML sees; `problem` says why there are none."""

    def __init__(self, nvml: ModuleType | None = None):
        self.handles: list[Any] = []
        self.names: list[str] = []
        self.problem = ""
        try:
            self.nvml = nvml or _import_nvml()
            self.nvml.nvmlInit()
            self.handles = [self.nvml.nvmlDeviceGetHandleByIndex(i) for i in range(self.nvml.nvmlDeviceGetCount())]
            self.names = [_text(self.nvml.nvmlDeviceGetName(handle)) for handle in self.handles]
        except ImportError:
            self.problem = "nvidia-ml-py is not installed (pip install 'computepool-client[gpu]'): no GPU metrics"
        except Exception as error:  # pynvml.NVMLError and its subclasses: no driver, no device
            self.problem = f"NVML found no GPU: {error}"
        if not self.handles and not self.problem:
            self.problem = "NVML found no GPU"

    def sample(self) -> Sample | None:
        if not self.handles:
            return None
        nvml = self.nvml
        rates = [nvml.nvmlDeviceGetUtilizationRates(handle) for handle in self.handles]
        memory = [nvml.nvmlDeviceGetMemoryInfo(handle) for handle in self.handles]
        return Sample(
            utilization_percent=sum(rate.gpu for rate in rates) / len(rates),
            memory_used_gb=sum(info.used for info in memory) / 1e9,
            temperature_celsius=max(nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)
                                    for handle in self.handles),
            power_watts=sum(nvml.nvmlDeviceGetPowerUsage(handle) for handle in self.handles) / 1000)


def _import_nvml() -> ModuleType:
    import pynvml  # the module nvidia-ml-py installs

    module: ModuleType = pynvml
    return module


def _text(name: str | bytes) -> str:
    return name.decode() if isinstance(name, bytes) else name
