"""Receipts (market/receipts.py): the canonical payload a receipt signs, and a receipt signed,
read back and verified with the coordinator's public key only."""

import base64

import nacl.signing
import pytest
from computepool.receipts import ENCODING, RECEIPT_KEYS, canonical, verify_signature
from coordinator.errors import Malformed
from coordinator.market.receipts import ReceiptSigner, read_receipt


def test_a_receipt_payload_is_sorted_compact_ascii_json():
    assert canonical({"b": 2, "a": "é"}) == b'{"a":"\\u00e9","b":2}'


@pytest.mark.parametrize("value", [1.5, 1.0, True, None, {}, []])
def test_a_receipt_payload_holds_only_strings_and_integers(value):
    """No floats (every implementation must produce the same bytes), no booleans posing as integers."""
    with pytest.raises(TypeError, match="units"):
        canonical({"units": value})


def facts() -> dict:
    """Every receipt key but "v", with values of the right types."""
    return {key: 7 if key in ("worker_id", "units", "attempt") else f"{key}-value" for key in RECEIPT_KEYS - {"v"}}


def test_a_signed_receipt_reads_back_and_verifies_with_the_public_key_only():
    signer = ReceiptSigner(nacl.signing.SigningKey(bytes(range(32))))
    payload_b64, proof_b64 = signer.sign(facts())
    read, payload, proof = read_receipt(payload_b64, proof_b64)
    assert read == {"v": ENCODING, **facts()}
    assert verify_signature(signer.public_key, payload, proof)
    assert not verify_signature(signer.public_key, payload.replace(b"units\":7", b"units\":8"), proof)
    other = ReceiptSigner(nacl.signing.SigningKey(bytes(32)))
    assert not verify_signature(other.public_key, payload, proof) and other.key_id != signer.key_id


@pytest.mark.parametrize("payload, proof, fields", [
    ("not base64", base64.b64encode(bytes(64)).decode(), ["receipt.payload"]),
    (base64.b64encode(b'{"v":"computepool-receipt-v1"}').decode(), base64.b64encode(bytes(64)).decode(),
     ["receipt.payload"]),
    (None, "", ["receipt.proof"]),
    (None, base64.b64encode(bytes(32)).decode(), ["receipt.proof"]),
])
def test_what_cannot_be_a_receipt_is_malformed_naming_the_part(payload, proof, fields):
    signed_payload, _ = ReceiptSigner(nacl.signing.SigningKey(bytes(32))).sign(facts())
    with pytest.raises(Malformed) as raised:
        read_receipt(payload if payload is not None else signed_payload, proof)
    assert [v.field for v in raised.value.violations] == fields and raised.value.reason == "NOT_A_RECEIPT"
