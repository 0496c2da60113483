"""ParticipantService over gRPC, on SQLite and PostgreSQL."""

import asyncio

import grpc
import pytest
from computepool.v1 import participant_service_pb2 as pb

from tests.support.rpc_errors import error_details
from tests.support.server import AUTH
from tests.support.wallets import forms, new_wallet


async def create(stubs, wallet: str, **fields):
    return await stubs.participants.CreateParticipant(
        pb.CreateParticipantRequest(ton_wallet_address=wallet, **fields), metadata=AUTH)


async def test_create_normalises_the_wallet_and_get_returns_totals(stubs):
    wallet = new_wallet()
    created = await create(stubs, forms(wallet)["bounceable"], username="user123", email="user@example.com",
                           telegram_user_id=123456789)
    assert created.id > 0
    assert created.ton_wallet_address == forms(wallet)["non_bounceable"]
    assert created.ton_wallet_address_raw == forms(wallet)["raw"]
    fetched = await stubs.participants.GetParticipant(pb.GetParticipantRequest(participant_id=created.id),
                                                      metadata=AUTH)
    assert (fetched.username, fetched.email, fetched.telegram_user_id) == ("user123", "user@example.com", 123456789)
    assert (fetched.total_workers, fetched.active_workers, fetched.total_payouts) == (0, 0, 0)
    assert fetched.total_revenue_ton == 0 and fetched.is_active


@pytest.mark.parametrize("form", ["raw", "bounceable", "non_bounceable", "standard_base64"])
async def test_every_address_form_finds_the_participant(stubs, form):
    wallet = new_wallet(workchain=-1 if form == "raw" else 0)
    created = await create(stubs, forms(wallet)["non_bounceable"])
    found = await stubs.participants.GetParticipantByWallet(
        pb.GetParticipantByWalletRequest(wallet_address=forms(wallet)[form]), metadata=AUTH)
    assert found.id == created.id


@pytest.mark.parametrize("second_form", ["raw", "bounceable", "standard_base64"])
async def test_same_wallet_in_another_form_is_a_conflict(stubs, second_form):
    wallet = new_wallet()
    await create(stubs, forms(wallet)["non_bounceable"])
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await create(stubs, forms(wallet)[second_form])
    code, reason, _ = error_details(raised.value)
    assert (code, reason) == (grpc.StatusCode.ALREADY_EXISTS, "WALLET_ALREADY_REGISTERED")


async def test_concurrent_creates_of_one_wallet_store_one_participant(stubs):
    wallet = new_wallet()
    results = await asyncio.gather(*[create(stubs, forms(wallet)[f]) for _ in range(3)
                                     for f in ("raw", "bounceable", "non_bounceable", "standard_base64")],
                                   return_exceptions=True)
    created = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(created) == 1 and len(refused) == 11
    assert all(error_details(e)[0] == grpc.StatusCode.ALREADY_EXISTS for e in refused)


@pytest.mark.parametrize("fields, bad_field", [
    ({"ton_wallet_address": "UQAbc...xyz"}, "ton_wallet_address"),
    ({"ton_wallet_address": "0:abcd"}, "ton_wallet_address"),
    ({"ton_wallet_address": ""}, "ton_wallet_address"),
    ({"email": "not-an-email"}, "email"),
    ({"telegram_user_id": 12.5}, "telegram_user_id"),
    ({"telegram_user_id": -4}, "telegram_user_id"),
    ({"username": "x" * 65}, "username"),
])
async def test_bad_input_names_the_field_and_writes_nothing(stubs, fields, bad_field):
    wallet = new_wallet()
    request = {"ton_wallet_address": forms(wallet)["non_bounceable"], **fields}
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.participants.CreateParticipant(pb.CreateParticipantRequest(**request), metadata=AUTH)
    code, _, violated = error_details(raised.value)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert bad_field in violated
    with pytest.raises(grpc.aio.AioRpcError) as lookup:
        await stubs.participants.GetParticipantByWallet(
            pb.GetParticipantByWalletRequest(wallet_address=forms(wallet)["raw"]), metadata=AUTH)
    assert lookup.value.code() == grpc.StatusCode.NOT_FOUND


async def test_unknown_participant_and_malformed_wallet_lookup(stubs):
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.participants.GetParticipant(pb.GetParticipantRequest(participant_id=987654), metadata=AUTH)
    assert error_details(raised.value)[:2] == (grpc.StatusCode.NOT_FOUND, "PARTICIPANT_NOT_FOUND")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.participants.GetParticipantByWallet(pb.GetParticipantByWalletRequest(wallet_address="nope"),
                                                        metadata=AUTH)
    assert error_details(raised.value)[2] == ["wallet_address"]


async def test_list_pages_through_every_participant_in_id_order(stubs):
    created = [(await create(stubs, forms(new_wallet())["raw"])).id for _ in range(5)]
    seen, token = [], ""
    while True:
        page = await stubs.participants.ListParticipants(pb.ListParticipantsRequest(limit=2, page_token=token),
                                                         metadata=AUTH)
        assert len(page.participants) <= 2
        seen += [p.id for p in page.participants]
        token = page.next_page_token
        if not token:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert set(created) <= set(seen)


@pytest.mark.parametrize("request_fields, field", [({"limit": 1001}, "limit"), ({"limit": -1}, "limit"),
                                                   ({"page_token": "garbage!"}, "page_token")])
async def test_list_refuses_bad_paging(stubs, request_fields, field):
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stubs.participants.ListParticipants(pb.ListParticipantsRequest(**request_fields), metadata=AUTH)
    assert error_details(raised.value)[0] == grpc.StatusCode.INVALID_ARGUMENT


async def test_calls_without_a_valid_key_are_refused(stubs):
    for metadata, reason in ((None, "CREDENTIALS_MISSING"), ((("x-api-key", "wrong"),), "API_KEY_INVALID")):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stubs.participants.ListParticipants(pb.ListParticipantsRequest(), metadata=metadata)
        assert error_details(raised.value)[:2] == (grpc.StatusCode.UNAUTHENTICATED, reason)
