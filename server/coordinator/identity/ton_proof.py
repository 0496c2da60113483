"""TON Connect `ton_proof` verification, as the TON Connect specification describes it.

A wallet proves it holds an address by signing, with the wallet's Ed25519 key:

  message = "ton-proof-item-v2/" || workchain (int32 BE) || address hash (32 bytes)
            || domain length (uint32 LE) || domain || timestamp (uint64 LE) || payload
  signed  = sha256(0xffff || "ton-connect" || sha256(message))

The server checks, in this order: the state init hashes to the claimed address; its code is a
wallet contract we know (v4r2, v5r1 — a W5 wallet may send its code as a library cell, whose
hash is the code's) and its data holds the claimed public key; the domain is one of ours; the
timestamp is fresh; the signature holds. The payload (issued by us, single use) is consumed by
the caller in the same transaction that opens the session.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
import struct
from dataclasses import dataclass

import nacl.exceptions
import nacl.signing
from pytoniq_core import Cell
from pytoniq_core.tlb.account import StateInit

from coordinator.errors import InvalidArgument, Reason, Unauthenticated, Validator
from coordinator.identity.wallet_address import WalletAddress, parse_address

PROOF_PREFIX = b"ton-proof-item-v2/"
CONNECT_PREFIX = b"\xff\xffton-connect"
NETWORKS = {"-239": "mainnet", "-3": "testnet"}
LIBRARY_CELL = 2
# Wallet code hash -> (name, bits of data before the public key).
WALLETS = {
    "feb5ff6820e2ff0d9483e7e0d62c817d846789fb4ae580c878866d959dabd5c0": ("v4r2", 64),  # seqno, subwallet id
    "20834b7b72b112147e1b2fb457b84e74d1a30f04f737d4f62a668e9552d2b72f": ("v5r1", 65),  # flag, seqno, wallet id
}
HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
FUTURE_SKEW = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class Proof:
    address: str         # raw form, 0:<hex>
    network: str         # "-239" mainnet, "-3" testnet
    public_key: str      # hex
    timestamp: int       # unix seconds
    domain: str
    domain_length: int   # bytes, as the wallet states it
    payload: str
    signature: str       # base64
    state_init: str      # base64 BOC


def _refused(why: str, reason: Reason) -> Unauthenticated:
    return Unauthenticated(f"the ton_proof does not verify: {why}", reason=reason)


def _decode(check: Validator, field: str, text: str, size: int | None = None) -> bytes:
    try:
        value = base64.b64decode(text, validate=True) if text else b""
    except (binascii.Error, ValueError):
        value = b""
    check.check(bool(value) and (size is None or len(value) == size), field,
                "must be base64" + (f" of {size} bytes" if size else ""))
    return value


def verify(proof: Proof, *, domains: tuple[str, ...], max_age: dt.timedelta, now: dt.datetime) -> WalletAddress:
    """The proven wallet, or InvalidArgument for a malformed proof, Unauthenticated for one
    that does not verify (the reason says which check failed)."""
    check = Validator()
    wallet = check.run("address", parse_address, proof.address)
    check.check(proof.network in NETWORKS, "network", "must be -239 (mainnet) or -3 (testnet)")
    check.check(bool(HEX64.match(proof.public_key)), "public_key", "must be 64 hex digits")
    signature = _decode(check, "proof.signature", proof.signature, 64)
    boc = _decode(check, "proof.state_init", proof.state_init)
    check.check(0 < proof.timestamp < 2**40, "proof.timestamp", "must be a unix time in seconds")
    check.check(0 < len(proof.payload) <= 128, "proof.payload", "is required (at most 128 characters)")
    check.check(bool(proof.domain) and proof.domain_length == len(proof.domain.encode()), "proof.domain",
                "value is required and length_bytes must be its length in bytes")
    check.raise_if_any()
    try:
        state_init_cell = Cell.one_from_boc(boc)
        state_init = StateInit.deserialize(state_init_cell.begin_parse())
    except Exception:  # pytoniq-core raises several kinds for a malformed BOC
        raise InvalidArgument.field("proof.state_init", "is not a state init BOC") from None

    workchain, address_hash = wallet.raw.split(":")
    if state_init_cell.hash.hex() != address_hash:
        raise _refused("the state init does not hash to this address", Reason.TON_PROOF_ADDRESS_MISMATCH)
    code, data = state_init.code, state_init.data
    if code is None or data is None:
        raise _refused("the state init has no code or data", Reason.TON_PROOF_UNKNOWN_WALLET)
    code_hash = bytes(code.data[1:33]).hex() if code.type_ == LIBRARY_CELL else code.hash.hex()
    if code_hash not in WALLETS:
        raise _refused("the state init is not a wallet contract we know (v4r2, v5r1)", Reason.TON_PROOF_UNKNOWN_WALLET)
    _, key_offset = WALLETS[code_hash]
    try:
        reader = data.begin_parse()
        reader.skip_bits(key_offset)
        wallet_key = reader.load_bytes(32)
    except Exception:
        raise _refused("the wallet data is too short to hold a public key", Reason.TON_PROOF_UNKNOWN_WALLET) from None
    if wallet_key.hex() != proof.public_key.lower():
        raise _refused("the public key is not the one in the wallet's state init", Reason.TON_PROOF_WRONG_KEY)
    if proof.domain not in domains:
        raise _refused(f"domain {proof.domain!r} is not this pool's", Reason.TON_PROOF_WRONG_DOMAIN)
    signed_at = dt.datetime.fromtimestamp(proof.timestamp, dt.timezone.utc)
    if signed_at < now - max_age or signed_at > now + FUTURE_SKEW:
        raise _refused("the proof's timestamp is too old or in the future", Reason.TON_PROOF_EXPIRED)
    message = (PROOF_PREFIX + struct.pack(">i", int(workchain)) + bytes.fromhex(address_hash)
               + struct.pack("<I", len(proof.domain.encode())) + proof.domain.encode()
               + struct.pack("<Q", proof.timestamp) + proof.payload.encode())
    signed = hashlib.sha256(CONNECT_PREFIX + hashlib.sha256(message).digest()).digest()
    try:
        nacl.signing.VerifyKey(wallet_key).verify(signed, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError):
        raise _refused("the signature does not hold", Reason.TON_PROOF_BAD_SIGNATURE) from None
    return wallet
