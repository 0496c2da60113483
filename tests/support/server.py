"""How tests and benchmarks configure a server: the admin API key it accepts and its settings."""

from __future__ import annotations

from coordinator.settings import Settings

API_KEY = "test-key-1"
AUTH = (("x-api-key", API_KEY),)  # gRPC metadata of the admin key
# BIP84's test vector account (mnemonic "abandon ... about"), m/84'/0'/0'.
TEST_ZPUB = ("zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2"
             "oz2AGutZYs")


def make_settings(database_url: str, **overrides) -> Settings:
    """A server on port 0 (gRPC and metrics), admin key API_KEY, a short drain, receipts signed
    with a key of its own, payments to BIP84 addresses of TEST_ZPUB."""
    values = dict(database_url=database_url, grpc_port=0, metrics_port=0, api_keys=(API_KEY,), shutdown_grace_s=1.0,
                  bitcoin_xpub=TEST_ZPUB, allow_ephemeral_signing_key=True)
    values.update(overrides)
    return Settings(**values)
