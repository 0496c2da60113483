"""Result digests (computepool.encoding, shared by clients and the server): the canonical JSON
a result's hash is taken over, and the documented test vector."""

import hashlib

import pytest
from computepool.encoding import canonical_result, result_digest
from devtools.envoy_config import ROOT

# The test vector written in proto/computepool/v1/miner_service.proto and README.md.
VECTOR = {"text": "naïve café", "score": 0.25, "tokens": 12.0}
VECTOR_BYTES = b'{"score":0.25,"text":"na\\u00efve caf\\u00e9","tokens":12}'
VECTOR_SHA256 = "bc259bec77e229857e4eff3d49c1e890ffbc75616e2188f084cc562a48d7393a"


def test_the_documented_result_hash_vector_is_what_the_server_computes():
    assert canonical_result(VECTOR) == VECTOR_BYTES and result_digest(VECTOR) == VECTOR_SHA256
    assert hashlib.sha256(VECTOR_BYTES).hexdigest() == VECTOR_SHA256
    for document in (ROOT / "proto/computepool/v1/miner_service.proto", ROOT / "README.md"):
        text = document.read_text()
        assert VECTOR_BYTES.decode() in text and VECTOR_SHA256 in text, document


def test_whole_numbers_lose_their_fraction_at_every_depth():
    """A Struct carries every number as a double: the miner's 1 arrives as 1.0 and must hash the same."""
    result = {"a": 1.0, "b": [2.0, {"c": -3.0, "d": 0.5}], "e": 10.0**15, "f": -0.0}
    assert canonical_result(result) == b'{"a":1,"b":[2,{"c":-3,"d":0.5}],"e":1000000000000000,"f":0}'
    assert result_digest({"n": 1.0}) == result_digest({"n": 1})


@pytest.mark.parametrize("other", [{"n": 1.5}, {"n": "1"}, {"n": True}, {"n": None}, {"n": [1]}, {"N": 1}])
def test_a_different_result_has_a_different_digest(other):
    assert result_digest(other) != result_digest({"n": 1})


def test_key_order_and_spacing_do_not_change_the_digest():
    assert result_digest({"a": 1, "b": {"x": True, "y": None}}) == result_digest({"b": {"y": None, "x": True}, "a": 1})
    assert canonical_result({"b": {"y": None, "x": True}, "a": 1}) == b'{"a":1,"b":{"x":true,"y":null}}'


def test_a_digest_is_64_lowercase_hex_digits():
    digest = result_digest({})
    assert digest == hashlib.sha256(b"{}").hexdigest() and len(digest) == 64 and digest == digest.lower()
