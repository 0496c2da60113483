"""The encodings a client and the coordinator must agree on byte for byte.

A result's hash (`result_hash`) is the SHA-256 of the result's canonical JSON: a miner computes
it and signs it, the coordinator computes it again from the result it received and refuses a
mismatch. The rule in full, with a test vector: README ("Hashing a result") and
SubmitResultRequest.result_hash in proto/computepool/v1/miner_service.proto.

Hand-written: this module sits beside the generated package computepool.v1, not in it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

# Said to a miner whose hash or signature does not match; short enough that the refusal is not cut
# (coordinator/api/interceptor.py bounds a violation to 200 characters).
RESULT_HASH_RULE = "the SHA-256 of the result's canonical JSON (sorted keys, no spaces, \\uXXXX escapes, 1.0 as 1)"


def canonical_result(result: dict[str, Any]) -> bytes:
    """The bytes a result's hash is taken over: Python's json.dumps with sorted keys, no whitespace
    and ASCII escapes, after whole numbers lose their fraction (a google.protobuf.Struct carries
    every number as a double, so the miner's 1 arrives as 1.0; both must hash the same)."""
    return json.dumps(_whole_numbers_as_ints(result), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True).encode()


def result_digest(result: dict[str, Any]) -> str:
    """SHA-256 (hex) of the result's canonical JSON."""
    return hashlib.sha256(canonical_result(result)).hexdigest()


def _whole_numbers_as_ints(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _whole_numbers_as_ints(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole_numbers_as_ints(item) for item in value]
    return value
