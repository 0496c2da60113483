"""The computepool.v1 services, found in the generated descriptors: the one list that server
registration, health, reflection, the Envoy config, the access table's coverage check and the
authorization tests read. A service added to the protos is registered, health-checked,
reflected, transcoded and access-checked without a second list to update.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from functools import cache

from google.protobuf.descriptor import ServiceDescriptor

import computepool.v1

PACKAGE = "computepool.v1"


@dataclass(frozen=True)
class Service:
    descriptor: ServiceDescriptor
    grpc_module: object  # the generated *_pb2_grpc module: its Stub and add_*_to_server

    @property
    def name(self) -> str:  # "WorkerService"
        return self.descriptor.name

    @property
    def full_name(self) -> str:  # "computepool.v1.WorkerService"
        return self.descriptor.full_name

    def rpc_paths(self) -> list[str]:
        """The gRPC paths of its rpcs, "/computepool.v1.WorkerService/GetWorker"."""
        return [f"/{self.full_name}/{method.name}" for method in self.descriptor.methods]

    def stub(self, channel):
        return getattr(self.grpc_module, f"{self.name}Stub")(channel)

    def add_to_server(self, servicer, server) -> None:
        getattr(self.grpc_module, f"add_{self.name}Servicer_to_server")(servicer, server)


@cache
def services() -> tuple[Service, ...]:
    """Every service of the computepool.v1 package, in name order."""
    found = []
    for module_info in pkgutil.iter_modules(computepool.v1.__path__):
        if not module_info.name.endswith("_pb2"):
            continue
        module = importlib.import_module(f"{PACKAGE}.{module_info.name}")
        for descriptor in module.DESCRIPTOR.services_by_name.values():
            found.append(Service(descriptor, importlib.import_module(f"{module.__name__}_grpc")))
    return tuple(sorted(found, key=lambda service: service.name))


def service(name: str) -> Service:
    return next(s for s in services() if s.name == name)


def rpc_paths() -> set[str]:
    return {path for s in services() for path in s.rpc_paths()}
