"""The SDK's public surface: every public name documented."""

import importlib
import inspect

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
