"""The SDK's public surface: every rpc of the contract has a method, every public name a docstring."""

import importlib
import inspect
import pathlib
import pkgutil

import computepool.v1

# The public modules, and the private ones that define the classes a user holds (AsyncClient's
# resources such as AsyncJobs, the job handles).
MODULES = ["computepool", "computepool.errors", "computepool.jobs", "computepool.receipts", "computepool.encoding",
           "computepool._retry", "computepool._async.client", "computepool._sync.client"]


def public_names():
    """(dotted name, object) of each module, and each public class, function and method defined in it."""
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        yield module_name, module
        for name, value in vars(module).items():
            if name.startswith("_") or getattr(value, "__module__", None) != module_name:
                continue
            if inspect.isfunction(value):
                yield f"{module_name}.{name}", value
            elif inspect.isclass(value):
                yield f"{module_name}.{name}", value
                for attribute, member in vars(value).items():
                    if not attribute.startswith("_") and inspect.isfunction(member):
                        yield f"{module_name}.{name}.{attribute}", member


def test_every_public_name_has_a_docstring():
    names = dict(public_names())
    assert {"computepool._async.client.AsyncJobs.submit", "computepool._sync.client.JobHandle.wait",
            "computepool.errors.JobNotFound", "computepool.receipts.verify_receipt"} <= set(names)
    assert [name for name, value in names.items() if not (value.__doc__ or "").strip()] == []


def test_every_rpc_of_the_contract_is_called_by_the_sdk():
    """AsyncClient names each rpc it calls by its full path; Client is generated from it."""
    source = (pathlib.Path(computepool.v1.__file__).parent.parent / "_async" / "client.py").read_text()
    rpcs = {f"/{service.full_name}/{method.name}"
            for module in pkgutil.iter_modules(computepool.v1.__path__) if module.name.endswith("_service_pb2")
            for service in importlib.import_module(f"computepool.v1.{module.name}").DESCRIPTOR.services_by_name.values()
            for method in service.methods}
    assert len(rpcs) >= 41  # the 41 of 2026-12-01: the discovery found them all
    assert sorted(rpc for rpc in rpcs if f'"{rpc}"' not in source) == []
