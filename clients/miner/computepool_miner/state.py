"""What the miner keeps between starts, in its state directory (mode 0700, files 0600): the
Ed25519 key it signs results with, and the identity registration gave it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import nacl.signing

KEY_FILE = "ed25519.key"
IDENTITY_FILE = "identity.json"


@dataclass(frozen=True)
class Identity:
    miner_id: str
    miner_token: str
    worker_id: int
    server: str  # the coordinator that issued it: another server means registering again


def signing_key(state_dir: Path) -> nacl.signing.SigningKey:
    """The miner's key, generated on first use and kept (its 32-byte seed) in the state directory."""
    path = state_dir / KEY_FILE
    if path.exists():
        return nacl.signing.SigningKey(path.read_bytes())
    key = nacl.signing.SigningKey.generate()
    _write_private(path, bytes(key))
    return key


def load_identity(state_dir: Path) -> Identity | None:
    path = state_dir / IDENTITY_FILE
    if not path.exists():
        return None
    return Identity(**json.loads(path.read_text()))


def save_identity(state_dir: Path, identity: Identity) -> None:
    _write_private(state_dir / IDENTITY_FILE, json.dumps(identity.__dict__, indent=2).encode())


def _write_private(path: Path, content: bytes) -> None:
    """Written whole (temporary file, then rename) and readable by the owner only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
    os.replace(temporary, path)
