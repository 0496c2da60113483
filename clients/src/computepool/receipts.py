"""Receipts verified offline, with nothing but the coordinator's public key.

A receipt is the coordinator's Ed25519 signature (`proof`) over `payload`, the canonical
encoding "computepool-receipt-v1" of the job's facts: the UTF-8 bytes of a JSON object with
sorted keys, no whitespace and ASCII escapes, whose values are only strings and integers, with
exactly the keys RECEIPT_KEYS. Times are RFC 3339 UTC with microseconds; `miner_signature` is
the miner's Ed25519 signature (base64) over the 32 raw bytes of `result_hash`.

The coordinator's VerifyReceipt decides with this module too, so an offline verdict and the
server's are the same by construction.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, NamedTuple

import nacl.exceptions
import nacl.signing
from google.protobuf import json_format

from computepool.encoding import result_digest
from computepool.v1 import job_pb2

ENCODING = "computepool-receipt-v1"
RECEIPT_KEYS = frozenset({
    "v", "receipt_id", "job_id", "job_type", "client_id", "worker_id", "miner_id", "miner_public_key",
    "owner_wallet", "result_hash", "units", "unit_price_nanoton", "price_coefficient_micros", "charge_nanoton",
    "earning_nanoton", "fee_nanoton", "attempt", "submitted_at", "completed_at", "miner_signature"})


class Verification(NamedTuple):
    """The verdict on a receipt: `reason` says why it is not valid ("" when it is)."""

    valid: bool
    reason: str


class NotAReceipt(ValueError):
    """The payload or proof cannot be a receipt's at all (`violations`: (field, description) pairs)."""

    def __init__(self, violations: list[tuple[str, str]]):
        super().__init__("; ".join(f"{field} {description}" for field, description in violations))
        self.violations = violations


def canonical(fields: dict[str, Any]) -> bytes:
    """The bytes a receipt's payload is: sorted keys, no whitespace, ASCII escapes."""
    for key, value in fields.items():
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise TypeError(f"receipt field {key} must be a string or an integer")
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def key_id_of(public_key: bytes) -> str:
    """The identifier receipts name their signing key by: hex of its first 8 bytes."""
    return public_key[:8].hex()


def read_receipt(payload_b64: str, proof_b64: str) -> tuple[dict[str, Any], bytes, bytes]:
    """(facts, payload, proof) of a shown receipt, whoever signed it; NotAReceipt naming
    receipt.payload / receipt.proof when they cannot be a receipt's."""
    violations = []
    payload, facts = _base64(payload_b64), None
    if not payload:
        violations.append(("receipt.payload", "must be the base64 of a receipt's payload"))
    else:
        facts = _facts(payload)
        if facts is None:
            violations.append(("receipt.payload", f"is not a {ENCODING} payload: the canonical JSON (sorted keys, "
                               f"no whitespace, ASCII escapes) of exactly the keys {', '.join(sorted(RECEIPT_KEYS))}"))
    proof = _base64(proof_b64)
    if proof is None or len(proof) != 64:
        violations.append(("receipt.proof", "must be the base64 of a 64-byte Ed25519 signature"))
    if violations or facts is None or payload is None or proof is None:
        raise NotAReceipt(violations)
    return facts, payload, proof


def receipt_from_facts(facts: dict[str, Any], *, payload: str, proof: str, key_id: str) -> job_pb2.Receipt:
    """Every field a receipt with these signed facts shows (all but `result`, which the payload
    holds only as its hash)."""
    receipt = job_pb2.Receipt(
        id=facts["receipt_id"], job_id=facts["job_id"], miner_id=facts["miner_id"], proof=proof, payload=payload,
        miner_signature=facts["miner_signature"], key_id=key_id, result_hash=facts["result_hash"],
        units=facts["units"], charge_nanoton=facts["charge_nanoton"], earning_nanoton=facts["earning_nanoton"],
        fee_nanoton=facts["fee_nanoton"], worker_id=facts["worker_id"], owner_wallet=facts["owner_wallet"],
        attempt=facts["attempt"])
    receipt.created_at.FromJsonString(facts["completed_at"])
    return receipt


def verify_signature(public_key: bytes, payload: bytes, signature: bytes) -> bool:
    """Whether `signature` is the Ed25519 signature of `payload` by `public_key` (raw bytes)."""
    try:
        nacl.signing.VerifyKey(public_key).verify(payload, signature)
        return True
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError):
        return False


def verify_miner_signature(public_key_b64: str, result_hash_hex: str, signature_b64: str) -> bool:
    """The miner's Ed25519 signature (base64) over the raw bytes of the result hash (hex)."""
    try:
        nacl.signing.VerifyKey(base64.b64decode(public_key_b64, validate=True)).verify(
            bytes.fromhex(result_hash_hex), base64.b64decode(signature_b64, validate=True))
        return True
    except (binascii.Error, ValueError, nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError):
        return False


def verify_receipt(receipt: job_pb2.Receipt, public_key: bytes | str) -> Verification:
    """Checks a receipt with only the coordinator's public key (raw 32 bytes, or the base64
    GetCoordinatorKey returns): its signature, every field shown beside the payload, the result
    against its signed hash, and the miner's signature. Raises NotAReceipt when the payload or
    proof cannot be a receipt's at all."""
    key = base64.b64decode(public_key, validate=True) if isinstance(public_key, str) else public_key
    facts, payload, proof = read_receipt(receipt.payload, receipt.proof)
    if receipt.key_id != key_id_of(key):
        return Verification(False, f"key_id {receipt.key_id!r} is not this coordinator's key {key_id_of(key)}")
    if not verify_signature(key, payload, proof):
        return Verification(False, "the coordinator's signature does not verify over the payload")
    # The loop runs over the message's own fields, so a field added to Receipt is checked too.
    shown_by_facts = receipt_from_facts(facts, payload=receipt.payload, proof=receipt.proof, key_id=key_id_of(key))
    for field in job_pb2.Receipt.DESCRIPTOR.fields:
        if field.name != "result" and getattr(receipt, field.name) != getattr(shown_by_facts, field.name):
            return Verification(False, f"{field.name} differs from the signed payload")
    # An empty result shows none (the miner sent only the hash), so it claims nothing.
    if receipt.result.fields:
        computed = result_digest(json_format.MessageToDict(receipt.result))
        if computed != facts["result_hash"]:
            return Verification(False, f"result hashes to {computed}, not to the signed result_hash "
                                       f"{facts['result_hash']}")
    if not verify_miner_signature(facts["miner_public_key"], facts["result_hash"], facts["miner_signature"]):
        return Verification(False, "the miner's signature does not verify over the result hash")
    return Verification(True, "")


def _base64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error, or a character outside ASCII
        return None


def _facts(payload: bytes) -> dict[str, Any] | None:
    try:
        facts = json.loads(payload)
        if (isinstance(facts, dict) and facts.keys() == RECEIPT_KEYS and facts["v"] == ENCODING
                and canonical(facts) == payload):
            return facts
    except (ValueError, TypeError):  # not JSON, not UTF-8, a value neither string nor integer
        pass
    return None
