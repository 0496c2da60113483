"""The Bitcoin exchange on SQLite and PostgreSQL: exact amounts, BIP84 addresses, admin and
watcher confirmation (a JSON-RPC node speaking Bitcoin Core's protocol), credited exactly once."""

import asyncio
import uuid

import aiohttp
import grpc
import pytest
from aiohttp import web
from computepool.v1 import exchange_service_pb2 as pb
from computepool.v1 import exchange_service_pb2_grpc
from computepool.v1 import user_service_pb2 as user_pb
from coordinator.adapters.bitcoin_core import BitcoinCore
from coordinator.exchange import bitcoin, payments
from coordinator.app import build_server
from coordinator.storage.models import LedgerEntry, Payment
from coordinator.settings import Settings
from sqlalchemy import func, select, update

from tests.support.identity import Identity
from tests.support.rpc_errors import error_details
from tests.support.server import AUTH, TEST_ZPUB, make_settings

ACCOUNT = bitcoin.ExtendedPublicKey.parse(TEST_ZPUB)


@pytest.fixture
def stub(channel):
    return exchange_service_pb2_grpc.ExchangeServiceStub(channel)


@pytest.fixture
async def buyer(channel):
    """(user id, session metadata) of a fresh wallet user."""
    login, session = await Identity(channel).login()
    return login.user.id, session


async def refused(call, code) -> tuple[str, list[str]]:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    got, reason, fields = error_details(raised.value)
    assert got == code, reason
    return reason, fields


async def aitbc_balance(channel, user_id: int) -> int:
    answer = await Identity(channel).users.GetBalance(user_pb.GetBalanceRequest(user_id=user_id), metadata=AUTH)
    return next((b.amount_units for b in answer.balances if b.asset == "AITBC"), 0)


async def test_a_payment_has_an_exact_amount_its_own_bip84_address_and_a_bip21_uri(stub, buyer, pool):
    user_id, session = buyer
    first = await stub.CreatePayment(pb.CreatePaymentRequest(amount_sat=10_000), metadata=session)
    second = await stub.CreatePayment(pb.CreatePaymentRequest(amount_sat=29_000_000), metadata=session)
    assert (first.status, first.user_id, first.amount_sat, first.amount_btc) == ("pending", user_id, 10_000, 0.0001)
    assert (first.amount_aitbc, first.amount_aitbc_units) == (10.0, 10 * 10**9)  # 100,000 AITBC per BTC
    assert first.payment_uri == f"bitcoin:{first.address}?amount=0.0001"
    assert second.payment_uri == f"bitcoin:{second.address}?amount=0.29" and second.amount_btc == 0.29
    assert first.expires_at.ToSeconds() - first.created_at.ToSeconds() == 3600
    assert not first.needs_admin_confirmation and first.address != second.address
    async with pool.database.transaction() as session_:
        index = (await session_.get(Payment, first.id)).derivation_index
    assert index >= 1 and first.address == ACCOUNT.receive_address(index)


@pytest.mark.parametrize("aitbc, sat, credited", [(12.345, 12_345, 12_345_000_000), (12.3455, 12_346, 12_346_000_000)])
async def test_credits_buy_whole_satoshis_rounded_up(stub, buyer, aitbc, sat, credited):
    payment = await stub.CreatePayment(pb.CreatePaymentRequest(amount_aitbc=aitbc), metadata=buyer[1])
    assert (payment.amount_sat, payment.amount_aitbc_units) == (sat, credited)


@pytest.mark.parametrize("fields, bad_field", [
    (dict(), "amount_sat"), (dict(amount_sat=5_000, amount_aitbc=5.0), "amount_sat"), (dict(amount_sat=999), "amount_sat"),
    (dict(amount_sat=-5), "amount_sat"), (dict(amount_aitbc=0.0000000001), "amount_aitbc"),
    (dict(amount_sat=10**10 + 1), "amount_sat"),
])
async def test_bad_amounts_name_the_field_and_write_nothing(stub, buyer, pool, fields, bad_field):
    reason, violations = await refused(stub.CreatePayment(pb.CreatePaymentRequest(**fields), metadata=buyer[1]),
                                       grpc.StatusCode.INVALID_ARGUMENT)
    assert violations == [bad_field]
    async with pool.database.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)
                                    .where(Payment.participant_id == buyer[0])) == 0


async def test_status_is_private_and_unknown_payments_are_not_found(stub, channel, buyer):
    payment = await stub.CreatePayment(pb.CreatePaymentRequest(amount_sat=10_000), metadata=buyer[1])
    seen = await stub.GetPaymentStatus(pb.GetPaymentStatusRequest(payment_id=payment.id), metadata=buyer[1])
    assert seen == payment
    _, stranger = await Identity(channel).login()
    await refused(stub.GetPaymentStatus(pb.GetPaymentStatusRequest(payment_id=payment.id), metadata=stranger),
                  grpc.StatusCode.PERMISSION_DENIED)
    reason, _ = await refused(stub.GetPaymentStatus(pb.GetPaymentStatusRequest(payment_id=str(uuid.uuid4())),
                                                    metadata=buyer[1]), grpc.StatusCode.NOT_FOUND)
    assert reason == "PAYMENT_NOT_FOUND"


async def test_an_admin_confirmation_credits_once(stub, channel, buyer):
    user_id, session = buyer
    payment = await stub.CreatePayment(pb.CreatePaymentRequest(amount_sat=50_000), metadata=session)
    txid = "ab" * 32
    confirmed = await stub.ConfirmPayment(pb.ConfirmPaymentRequest(payment_id=payment.id, txid=txid, confirmations=3),
                                          metadata=AUTH)
    assert (confirmed.status, confirmed.txid, confirmed.confirmations, confirmed.received_sat) == \
        ("confirmed", txid, 3, 50_000)
    assert await aitbc_balance(channel, user_id) == payment.amount_aitbc_units
    again = await stub.ConfirmPayment(pb.ConfirmPaymentRequest(payment_id=payment.id, txid=txid), metadata=AUTH)
    assert again == confirmed and await aitbc_balance(channel, user_id) == payment.amount_aitbc_units
    reason, _ = await refused(stub.ConfirmPayment(pb.ConfirmPaymentRequest(payment_id=payment.id, txid="cd" * 32),
                                                  metadata=AUTH), grpc.StatusCode.FAILED_PRECONDITION)
    assert reason == "ALREADY_CONFIRMED" and await aitbc_balance(channel, user_id) == payment.amount_aitbc_units
    status = await stub.GetPaymentStatus(pb.GetPaymentStatusRequest(payment_id=payment.id), metadata=session)
    assert status.status == "confirmed" and status.HasField("confirmed_at")


async def test_underpaid_and_expired_payments_are_not_credited(stub, channel, buyer, pool):
    user_id, session = buyer
    under = await stub.CreatePayment(pb.CreatePaymentRequest(amount_sat=20_000), metadata=session)
    reason, _ = await refused(stub.ConfirmPayment(pb.ConfirmPaymentRequest(
        payment_id=under.id, txid="01" * 32, received_sat=19_999), metadata=AUTH), grpc.StatusCode.FAILED_PRECONDITION)
    assert reason == "UNDERPAID"
    assert (await stub.GetPaymentStatus(pb.GetPaymentStatusRequest(payment_id=under.id), metadata=session)).status \
        == "pending"

    late = await stub.CreatePayment(pb.CreatePaymentRequest(amount_sat=20_000), metadata=session)
    async with pool.database.transaction() as db:
        await db.execute(update(Payment).where(Payment.id == late.id).values(expires_at=Payment.created_at))
    reason, _ = await refused(stub.ConfirmPayment(pb.ConfirmPaymentRequest(payment_id=late.id, txid="02" * 32),
                                                  metadata=AUTH), grpc.StatusCode.FAILED_PRECONDITION)
    assert reason == "PAYMENT_EXPIRED"
    assert (await stub.GetPaymentStatus(pb.GetPaymentStatusRequest(payment_id=late.id), metadata=session)).status \
        == "expired"
    assert await aitbc_balance(channel, user_id) == 0


async def test_concurrent_confirmations_credit_exactly_once(stub, channel, buyer, pool):
    user_id, session = buyer
    payment = await stub.CreatePayment(pb.CreatePaymentRequest(amount_sat=30_000), metadata=session)
    txids = ["aa" * 32] * 5 + [f"{i:064x}" for i in range(1, 6)]
    results = await asyncio.gather(*[stub.ConfirmPayment(pb.ConfirmPaymentRequest(payment_id=payment.id, txid=txid),
                                                         metadata=AUTH) for txid in txids], return_exceptions=True)
    winners = {r.txid for r in results if isinstance(r, pb.Payment)}
    assert len(winners) == 1
    losers = [error_details(r)[1] for r in results if not isinstance(r, pb.Payment)]
    assert set(losers) <= {"ALREADY_CONFIRMED"} and len(losers) >= 4
    assert await aitbc_balance(channel, user_id) == payment.amount_aitbc_units
    async with pool.database.transaction() as db:
        entries = list(await db.scalars(select(LedgerEntry.amount).where(LedgerEntry.payment_id == payment.id)))
    assert sorted(entries) == [-payment.amount_aitbc_units, payment.amount_aitbc_units]  # credited once, balanced


class FakeNode:
    """An HTTP JSON-RPC endpoint answering listreceivedbyaddress as Bitcoin Core does (amounts as
    JSON numbers in BTC, which must be read exactly)."""

    def __init__(self):
        self.received: dict[str, tuple[str, int, list[str]]] = {}  # address -> (amount text, confirmations, txids)
        self.calls: list[dict] = []

    async def handle(self, request: web.Request) -> web.Response:
        call = await request.json()
        self.calls.append(call)
        min_conf, _, _, address = call["params"]
        amount, confirmations, txids = self.received.get(address, ("0", 0, []))
        rows = [] if confirmations < min_conf else [
            f'{{"address":"{address}","amount":{amount},"confirmations":{confirmations},"label":"",'
            f'"txids":{str(txids).replace(chr(39), chr(34))}}}']
        return web.Response(text=f'{{"result":[{",".join(rows)}],"error":null,"id":"{call["id"]}"}}',
                            content_type="application/json")


@pytest.fixture
async def node():
    fake = FakeNode()
    app = web.Application()
    app.router.add_post("/", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.url = f"http://rpcuser:rpcpass@127.0.0.1:{site._server.sockets[0].getsockname()[1]}/"
    yield fake
    await runner.cleanup()


async def test_the_watcher_confirms_from_the_chain_and_never_credits_an_underpayment(stub, channel, buyer, pool, node):
    user_id, session = buyer
    payment = await stub.CreatePayment(pb.CreatePaymentRequest(amount_sat=29_000_000), metadata=session)
    async with aiohttp.ClientSession() as http:
        chain = BitcoinCore(node.url, http)
        node.received[payment.address] = ("0.28999999", 6, ["11" * 32])  # one satoshi short
        await payments.watch_once(pool.database, chain, 2)
        assert (await stub.GetPaymentStatus(pb.GetPaymentStatusRequest(payment_id=payment.id),
                                            metadata=session)).status == "pending"
        node.received[payment.address] = ("0.29", 1, ["22" * 32])  # paid, but not yet 2 confirmations
        await payments.watch_once(pool.database, chain, 2)
        assert (await stub.GetPaymentStatus(pb.GetPaymentStatusRequest(payment_id=payment.id),
                                            metadata=session)).status == "pending"
        node.received[payment.address] = ("0.29", 2, ["22" * 32])
        await payments.watch_once(pool.database, chain, 2)
        await payments.watch_once(pool.database, chain, 2)  # a second round changes nothing
    done = await stub.GetPaymentStatus(pb.GetPaymentStatusRequest(payment_id=payment.id), metadata=session)
    assert (done.status, done.txid, done.confirmations, done.received_sat) == ("confirmed", "22" * 32, 2, 29_000_000)
    assert await aitbc_balance(channel, user_id) == payment.amount_aitbc_units
    ours = [call for call in node.calls if payment.address in call["params"]]
    assert ours and all(call["method"] == "listreceivedbyaddress" and call["params"][0] == 2 for call in ours)


async def test_with_only_an_address_payments_wait_for_an_admin(database_url, buyer):
    server = build_server(make_settings(database_url, bitcoin_xpub="",
                                        bitcoin_address="tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"),
                          background_duties=False)
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
            payment = await exchange_service_pb2_grpc.ExchangeServiceStub(channel).CreatePayment(
                pb.CreatePaymentRequest(amount_sat=10_000), metadata=buyer[1])
    finally:
        await server.stop(0)
    assert payment.needs_admin_confirmation and payment.address == "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"


async def test_without_an_address_the_exchange_is_disabled(database_url, buyer):
    server = build_server(make_settings(database_url, bitcoin_xpub=""), background_duties=False)
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
            reason, _ = await refused(exchange_service_pb2_grpc.ExchangeServiceStub(channel).CreatePayment(
                pb.CreatePaymentRequest(amount_sat=10_000), metadata=buyer[1]), grpc.StatusCode.FAILED_PRECONDITION)
    finally:
        await server.stop(0)
    assert reason == "EXCHANGE_DISABLED"


async def test_rest_create_payment_and_status(envoy, channel):
    identity = Identity(channel)
    login, _ = await identity.login()
    _, client_key = await identity.api_key("client", login.user.id)
    async with aiohttp.ClientSession(base_url=envoy.url, headers=dict(client_key)) as http:
        async with http.post("/v1/exchange/create-payment", json={"amount_aitbc": 1.5}) as response:
            created = await response.json()
            assert response.status == 201, created
        async with http.get(f"/v1/exchange/payment-status/{created['id']}") as response:
            status = await response.json()
    assert created["amount_sat"] == "1500" and created["amount_btc"] == 0.000015 and created["amount_aitbc"] == 1.5
    assert created["payment_uri"] == f"bitcoin:{created['address']}?amount=0.000015"
    assert status["status"] == "pending" and status["id"] == created["id"]


# Addresses and keys, no server.

BIP84_VECTOR = [(0, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"), (1, "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g")]


def test_bip84_receive_addresses_match_the_specification():
    assert [ACCOUNT.receive_address(index) for index, _ in BIP84_VECTOR] == [a for _, a in BIP84_VECTOR]


# The same keys under each network's other version bytes (BIP84's zpub as vpub; BIP32's first
# test vector, its master key, as xpub and tpub): the version bytes pick the network.
@pytest.mark.parametrize("account_key, network, first_address", [
    (TEST_ZPUB, bitcoin.MAINNET, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"),
    ("vpub5YvMuJNjRSYon44z9QmCfdf8SqJRVNvz6m55Qy5iVjZQxDfUgtiQjnc7CC1fAbED2tAGCZRERUfvtn2DstZGU6HMns6dXXH2wujSc2wfi2x",
     bitcoin.TESTNET, "tb1qcr8te4kr609gcawutmrza0j4xv80jy8zmfp6l0"),
    ("xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8",
     bitcoin.MAINNET, "bc1qp5wfcq48h6d63wyy9qz0awtpfqwwv4sma86mhz"),
    ("tpubD6NzVbkrYhZ4XgiXtGrdW5XDAPFCL9h7we1vwNCpn8tGbBcgfVYjXyhWo4E1xkh56hjod1RhGjxbaTLV3X4FyWuejifB9jusQ46QzG87VKp",
     bitcoin.TESTNET, "tb1qp5wfcq48h6d63wyy9qz0awtpfqwwv4smhppgv3"),
])
def test_an_account_key_derives_addresses_of_its_own_network(account_key, network, first_address):
    account = bitcoin.ExtendedPublicKey.parse(account_key)
    assert (account.network, account.receive_address(0)) == (network, first_address)


@pytest.mark.parametrize("address, network", [
    ("bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", bitcoin.MAINNET),
    ("BC1QCR8TE4KR609GCAWUTMRZA0J4XV80JY8Z306FYU", bitcoin.MAINNET),
    ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", bitcoin.MAINNET), ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", bitcoin.MAINNET),
    ("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", bitcoin.MAINNET),  # taproot, bech32m
    ("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", bitcoin.TESTNET),
])
def test_valid_addresses(address, network):
    bech32 = address.lower().startswith(network.hrp + "1")
    assert bitcoin.validate_address(address, network, "address") == (address.lower() if bech32 else address)


@pytest.mark.parametrize("address, network", [
    ("bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyv", bitcoin.MAINNET),   # checksum
    ("bc1qcr8te4kr609gcawutmrza0j4xv80jy8Z306fyu", bitcoin.MAINNET),   # mixed case
    ("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", bitcoin.MAINNET),   # other network
    ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", bitcoin.MAINNET),          # base58 checksum
    ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", bitcoin.TESTNET),          # other network
    ("", bitcoin.MAINNET), ("0OIl", bitcoin.MAINNET),
])
def test_invalid_addresses_are_refused(address, network):
    with pytest.raises(Exception) as raised:
        bitcoin.validate_address(address, network, "address")
    assert raised.value.reason == "INVALID_BITCOIN_ADDRESS"


# The last: BIP84's account private key (zprv): a private key is never taken, even a valid one.
@pytest.mark.parametrize("overrides", [dict(bitcoin_address="bc1qnotanaddress"), dict(bitcoin_xpub="zpubjunk"), dict(
    bitcoin_xpub="zprvAdG4iTXWBoARxkkzNpNh8r6Qag3irQB8PzEMkAFeTRXxHpbF9z4QgEvBRmfvqWvGp42t42nvgGpNgYSJA9iefm1yYNZKEm7z6qUWCroSQnE")])
def test_a_bad_configured_address_or_key_stops_the_start(overrides):
    with pytest.raises(ValueError):
        payments.ExchangeConfig.from_settings(Settings(**overrides))
