"""Server reflection on both protocol versions: `grpc.reflection.v1` (what current clients ask
first: buf curl, grpcurl, Postman) and `grpc.reflection.v1alpha` (older clients).

grpcio-reflection implements only v1alpha. The v1 protocol is the same messages under another
package name, so the same servicer answers it: its requests and responses are read and written
with v1alpha's classes (the bytes on the wire are identical), and a v1 descriptor is put in the
default pool so that a client that asks reflection about the v1 service itself gets its file.
"""

from __future__ import annotations

from typing import Iterable

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection, reflection_pb2

V1_PACKAGE = "grpc.reflection.v1"
V1_SERVICE_NAME = f"{V1_PACKAGE}.ServerReflection"


def enable_reflection(service_names: Iterable[str], server: grpc.aio.Server) -> None:
    """Answer reflection for `service_names` (and for reflection itself) on v1 and v1alpha."""
    _add_v1_descriptor()
    names = [*service_names, reflection.SERVICE_NAME, V1_SERVICE_NAME]
    servicer = reflection.aio.ReflectionServicer(names)
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(V1_SERVICE_NAME, {
        "ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(
            servicer.ServerReflectionInfo,
            request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
            response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString),
    })])
    reflection.enable_server_reflection(names, server)


def _add_v1_descriptor() -> None:
    """grpc/reflection/v1/reflection.proto, made from v1alpha's by renaming its package."""
    pool = descriptor_pool.Default()
    try:
        pool.FindServiceByName(V1_SERVICE_NAME)
        return  # a second server in this process
    except KeyError:
        pass
    file = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(file)
    old, new = f".{file.package}.", f".{V1_PACKAGE}."
    file.name, file.package = "grpc/reflection/v1/reflection.proto", V1_PACKAGE
    for message in file.message_type:
        for field in message.field:
            if field.HasField("type_name"):
                field.type_name = field.type_name.replace(old, new, 1)
    for service in file.service:
        for method in service.method:
            method.input_type = method.input_type.replace(old, new, 1)
            method.output_type = method.output_type.replace(old, new, 1)
    pool.AddSerializedFile(file.SerializeToString())
