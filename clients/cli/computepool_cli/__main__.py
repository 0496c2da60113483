"""`computepool api-keys create|list|revoke`: manage API keys over gRPC with an admin key.

  computepool api-keys create --role client --participant-id 3 --label "ci runner"
  computepool api-keys list
  computepool api-keys revoke 7

The coordinator is --target (COMPUTEPOOL_TARGET, default 127.0.0.1:50051); the admin key is
--api-key (COMPUTEPOOL_API_KEY). Answers print as JSON; a refused call prints the server's
reason and exits 1. The created key is printed once, in the `key` field.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import grpc
from computepool.v1 import api_key_service_pb2 as pb
from computepool.v1 import api_key_service_pb2_grpc
from google.protobuf import json_format


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="computepool", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", default=os.environ.get("COMPUTEPOOL_TARGET", "127.0.0.1:50051"))
    parser.add_argument("--api-key", default=os.environ.get("COMPUTEPOOL_API_KEY", ""))
    groups = parser.add_subparsers(dest="group", required=True)
    keys = groups.add_parser("api-keys", help="create, list and revoke API keys (admin)")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create")
    create.add_argument("--role", required=True, choices=["admin", "client", "miner"])
    create.add_argument("--participant-id", type=int, default=0)
    create.add_argument("--label", default="")
    listing = actions.add_parser("list")
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--page-token", default="")
    revoke = actions.add_parser("revoke")
    revoke.add_argument("api_key_id", type=int)
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict:
    with grpc.insecure_channel(args.target) as channel:
        stub = api_key_service_pb2_grpc.ApiKeyServiceStub(channel)
        metadata = (("x-api-key", args.api_key),)
        if args.action == "create":
            answer = stub.CreateApiKey(pb.CreateApiKeyRequest(role=args.role, participant_id=args.participant_id,
                                                              label=args.label), metadata=metadata)
        elif args.action == "list":
            answer = stub.ListApiKeys(pb.ListApiKeysRequest(limit=args.limit, page_token=args.page_token),
                                      metadata=metadata)
        else:
            answer = stub.RevokeApiKey(pb.RevokeApiKeyRequest(api_key_id=args.api_key_id), metadata=metadata)
    return json_format.MessageToDict(answer, preserving_proto_field_name=True)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if not args.api_key:
        print("computepool: an admin API key is needed: --api-key or COMPUTEPOOL_API_KEY", file=sys.stderr)
        return 2
    try:
        print(json.dumps(run(args), indent=2))
    except grpc.RpcError as error:
        print(f"computepool: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
