"""Receipts: the coordinator's Ed25519 signature over a canonical encoding of a job's facts.

Encoding "computepool-receipt-v1": the UTF-8 bytes of a JSON object with sorted keys, no
whitespace, ASCII escapes, whose values are only strings and integers (no floats, so every
implementation produces the same bytes). Its keys are RECEIPT_KEYS:

  v, receipt_id, job_id, job_type, client_id, worker_id, miner_id, miner_public_key,
  owner_wallet, result_hash, units, unit_price_nanoton, price_coefficient_micros,
  charge_nanoton, earning_nanoton, fee_nanoton, attempt, submitted_at, completed_at,
  miner_signature

Times are RFC 3339 UTC with microseconds. `miner_signature` is the miner's Ed25519 signature
(base64) over the 32 raw bytes of result_hash, checkable with miner_public_key. A third party
verifies a receipt with only the coordinator's public key: Ed25519-verify `proof` over the
base64-decoded `payload`, then read the facts from the payload itself.

A result's hash (result_hash) is the SHA-256 of the result's own canonical JSON; the miner
computes it the same way and signs it. That rule, the receipt encoding and the verification
decision live in the client distribution (computepool.encoding, computepool.receipts), so that
clients and the server share one implementation of them.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Iterator

import nacl.signing

from computepool.receipts import ENCODING, NotAReceipt, canonical, key_id_of
from computepool.receipts import read_receipt as read_shown_receipt
from coordinator.errors import Malformed, Reason, Validator
from coordinator.settings import ConfigurationError, Settings
from coordinator.storage.models import Receipt, detached

log = logging.getLogger(__name__)


def rfc3339(value: dt.datetime) -> str:
    """A time as receipts write it: UTC, microseconds, Z."""
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def receipt_of(facts: dict, *, payload: str, proof: str, key_id: str, result: dict | None,
               participant_id: int | None = None) -> Receipt:
    """The receipt that shows these signed facts. The one mapping from facts to the fields a
    receipt shows beside its payload: used to issue a receipt, and to check a shown one."""
    return detached(Receipt, dict(
        id=facts["receipt_id"], job_id=facts["job_id"], miner_id=facts["miner_id"], worker_id=facts["worker_id"],
        participant_id=participant_id, owner_wallet=facts["owner_wallet"], attempt=facts["attempt"], result=result,
        result_hash=facts["result_hash"], units=facts["units"], charge_nanoton=facts["charge_nanoton"],
        earning_nanoton=facts["earning_nanoton"], fee_nanoton=facts["fee_nanoton"], payload=payload, signature=proof,
        miner_signature=facts["miner_signature"], key_id=key_id,
        created_at=dt.datetime.fromisoformat(facts["completed_at"])))


@dataclass(frozen=True)
class ReceiptSigner:
    signing_key: nacl.signing.SigningKey

    @classmethod
    def from_settings(cls, settings: Settings) -> ReceiptSigner:
        """An explicit seed, else one derived from SECRET_KEY (every replica derives the same).
        Without either, a random key for this process only, and only when asked for: receipts
        signed with it stop verifying once the process ends."""
        if settings.coordinator_signing_key:
            try:
                seed = base64.b64decode(settings.coordinator_signing_key, validate=True)
            except ValueError:  # binascii.Error, or a character outside ASCII
                seed = b""
            if len(seed) != 32:
                raise ConfigurationError("COORDINATOR_SIGNING_KEY must be the base64 of 32 bytes")
        elif settings.secret_key:
            seed = hashlib.sha256(b"computepool receipt signing key v1\0" + settings.secret_key.encode()).digest()
        elif settings.allow_ephemeral_signing_key:
            log.warning("ALLOW_EPHEMERAL_SIGNING_KEY: receipts are signed with a key that lives only as long as "
                        "this process; they stop verifying after a restart")
            return cls(nacl.signing.SigningKey.generate())
        else:
            raise ConfigurationError(
                "no receipt signing key: set COORDINATOR_SIGNING_KEY (base64 of a 32-byte Ed25519 seed) or "
                "SECRET_KEY, the same for every server process, so receipts keep verifying across restarts "
                "(ALLOW_EPHEMERAL_SIGNING_KEY=1 signs with a key that dies with the process)")
        return cls(nacl.signing.SigningKey(seed))

    @property
    def public_key(self) -> bytes:
        return bytes(self.signing_key.verify_key)

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_key)

    def sign(self, fields: dict) -> tuple[str, str]:
        """Returns (payload, signature), both base64."""
        payload = canonical({"v": ENCODING, **fields})
        signature = self.signing_key.sign(payload).signature
        return base64.b64encode(payload).decode(), base64.b64encode(signature).decode()


@contextlib.contextmanager
def refusing_non_receipts() -> Iterator[None]:
    """NotAReceipt becomes Malformed (NOT_A_RECEIPT) naming receipt.payload / receipt.proof: a
    request that is not a receipt is the caller's mistake, not a receipt that failed to verify."""
    try:
        yield
    except NotAReceipt as error:
        check = Validator()
        for field, description in error.violations:
            check.fail(field, description)
        check.raise_if_any(Malformed, reason=Reason.NOT_A_RECEIPT)
        raise


def read_receipt(payload_b64: str, proof_b64: str) -> tuple[dict, bytes, bytes]:
    """(facts, payload, proof) of a shown receipt, whoever signed it; Malformed when the payload
    or proof cannot be a receipt's."""
    with refusing_non_receipts():
        return read_shown_receipt(payload_b64, proof_b64)
