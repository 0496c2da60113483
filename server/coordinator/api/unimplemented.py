"""Services whose issue has not landed yet answer UNIMPLEMENTED with the usual error shape."""

from __future__ import annotations

from computepool.v1 import exchange_service_pb2_grpc

from ..errors import Unimplemented

# (generated module, service name, the issue that builds it)
PENDING_SERVICES = [
    (exchange_service_pb2_grpc, "ExchangeService", "the Bitcoin exchange"),
]


def pending_servicer(module, service: str, issue: str):
    """A servicer whose every rpc raises Unimplemented, naming the rpc."""
    base = getattr(module, f"{service}Servicer")

    def refuse(rpc: str):
        async def method(self, request, context):
            raise Unimplemented(f"computepool.v1.{service}/{rpc} is not implemented yet ({issue})",
                                metadata={"rpc": rpc})
        return method

    rpcs = [name for name in vars(base) if not name.startswith("_")]
    return type(f"Pending{service}", (base,), {rpc: refuse(rpc) for rpc in rpcs})()


def register_pending(server) -> list[str]:
    names = []
    for module, service, issue in PENDING_SERVICES:
        getattr(module, f"add_{service}Servicer_to_server")(pending_servicer(module, service, issue), server)
        names.append(f"computepool.v1.{service}")
    return names
