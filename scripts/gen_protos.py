"""Generate the Python stubs, Envoy's descriptor set and the OpenAPI document from proto/.

Outputs are committed (clients/src/computepool/v1/, envoy/computepool.pb, envoy/openapi.json,
made by our protoc plugin scripts/protoc_gen_openapi.py); `make check-gen`
regenerates them into a scratch folder and fails if anything differs, which is how CI proves
the committed code matches the protos. Only computepool/v1 is generated: the package above it
(computepool/__init__.py, computepool/encoding.py) is written by hand.

Usage: python scripts/gen_protos.py [OUTPUT_ROOT]   (default: the repository itself)
"""

import pathlib
import stat
import sys
import tempfile

import grpc_tools
from grpc_tools import protoc

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
WELL_KNOWN = pathlib.Path(grpc_tools.__file__).parent / "_proto"
# For Envoy only: gRPC's health protocol with GET /health bound to Check (the server itself
# serves grpcio-health-checking's copy, wire-identical).
HEALTH_PROTO = "grpc/health/v1/health.proto"


def main() -> None:
    out_root = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT
    py_out = out_root / "clients" / "src"
    descriptor_out = out_root / "envoy" / "computepool.pb"
    (py_out / "computepool" / "v1").mkdir(parents=True, exist_ok=True)
    descriptor_out.parent.mkdir(parents=True, exist_ok=True)

    ours = sorted(str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / "computepool").rglob("*.proto"))
    include = [f"-I{PROTO_ROOT}", f"-I{WELL_KNOWN}"]
    run(include + [f"--python_out={py_out}", f"--pyi_out={py_out}", f"--grpc_python_out={py_out}"] + ours)
    # Envoy needs every message that can appear in a response, including the google.rpc error
    # details, or it silently fails to convert gRPC errors to JSON.
    run(include + ["--include_imports", "--include_source_info", f"--descriptor_set_out={descriptor_out}"]
        + ours + ["google/rpc/status.proto", "google/rpc/error_details.proto", HEALTH_PROTO])
    with tempfile.TemporaryDirectory() as scratch:
        # protoc runs a plugin as a program: a wrapper runs ours with this Python
        plugin = pathlib.Path(scratch) / "protoc-gen-openapi"
        plugin.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{ROOT / "scripts" / "protoc_gen_openapi.py"}"\n')
        plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
        run(include + [f"--plugin=protoc-gen-openapi={plugin}", f"--openapi_out={descriptor_out.parent}"]
            + ours + [HEALTH_PROTO])
    (py_out / "computepool" / "v1" / "__init__.py").write_text("")


def run(args: list[str]) -> None:
    if protoc.main(["protoc", *args]) != 0:
        sys.exit(f"protoc failed: {' '.join(args)}")


if __name__ == "__main__":
    main()
