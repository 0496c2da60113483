"""The `computepool` command line: API keys created, listed and revoked over gRPC."""

import asyncio
import json
import sys

from computepool.v1 import participant_service_pb2 as participant_pb

from tests.support.server import API_KEY, AUTH
from tests.support.wallets import forms, new_wallet


async def cli(pool, *args: str, api_key: str = API_KEY) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "computepool_cli", "--target", f"127.0.0.1:{pool.grpc_port}", "--api-key", api_key,
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    return process.returncode, out.decode(), err.decode()


async def test_keys_are_created_listed_and_revoked_from_the_command_line(pool, stubs):
    owner = await stubs.participants.CreateParticipant(participant_pb.CreateParticipantRequest(
        ton_wallet_address=forms(new_wallet())["raw"]), metadata=AUTH)
    code, out, _ = await cli(pool, "api-keys", "create", "--role", "miner", "--participant-id", str(owner.id),
                             "--label", "from the cli")
    assert code == 0
    created = json.loads(out)
    assert created["key"].startswith("cpk_") and created["api_key"]["role"] == "miner"
    assert created["api_key"]["participant_id"] == owner.id
    key_id = created["api_key"]["id"]

    code, out, _ = await cli(pool, "api-keys", "list", "--limit", "1000")
    listed = json.loads(out)["api_keys"]
    assert code == 0 and any(k["id"] == key_id and "revoked_at" not in k for k in listed)
    assert created["key"] not in out

    code, out, _ = await cli(pool, "api-keys", "revoke", str(key_id))
    assert code == 0 and "revoked_at" in json.loads(out)


async def test_a_refused_call_says_why_and_exits_nonzero(pool):
    code, out, err = await cli(pool, "api-keys", "list", api_key="not-a-key")
    assert code == 1 and out == "" and "UNAUTHENTICATED" in err
    code, _, err = await cli(pool, "api-keys", "create", "--role", "client", "--participant-id", "999999")
    assert code == 1 and "NOT_FOUND" in err
