"""The exchange's Bitcoin addresses: the current coordinator.exchange.bitcoin against an older one.

  python -m bench.bitcoin_addresses                      # against the hand-written one bip-utils replaced
  python -m bench.bitcoin_addresses --old-ref main --addresses 200 --validations 50000

The old module is taken from git (`git show REF:server/coordinator/exchange/bitcoin.py`; by
default REF is the last revision before the module used bip-utils) into a temporary directory
for this run only. Both must first agree (the same BIP84 addresses from a
zpub, an xpub, a tpub and a vpub; the same answer for every address of a mixed table), then
they are timed in turn, old and new alternating for --rounds rounds so that the machine's
drift hits both; the median round counts:
- derive: ExtendedPublicKey.receive_address(index), what each payment request does once;
- validate: validate_address(address, network), valid and invalid addresses of both kinds;
- import: a fresh interpreter importing each module (server start-up pays it once).
Prints the figures and writes bench/results/bitcoin_addresses.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

from coordinator.exchange import bitcoin as new
from devtools.envoy_config import ROOT

from tests.support.server import TEST_ZPUB

MODULE_PATH = "server/coordinator/exchange/bitcoin.py"

# BIP32's first test vector (master key): the same key as an xpub, and re-versioned as tpub.
TEST_XPUB = "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8"
ADDRESSES = [
    "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", "BC1QCR8TE4KR609GCAWUTMRZA0J4XV80JY8Z306FYU",
    "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
    "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn",
    "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyv", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3",
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",  # bech32 checksum on v1: refused
]


def git(*args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True).stdout


def hand_written_revision() -> str:
    """The parent of the first commit whose module imports bip_utils: it holds our own secp256k1 code."""
    first = git("log", "--reverse", "--format=%H", "-S", "bip_utils", "--", MODULE_PATH).split()[0]
    return first.decode() + "^"


def load_old_module(ref: str, directory: pathlib.Path):
    source = git("show", f"{ref}:{MODULE_PATH}")
    path = directory / "old_bitcoin.py"
    path.write_bytes(source)
    spec = importlib.util.spec_from_file_location("old_bitcoin", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module, path


def with_version(key: str, version_hex: str) -> str:
    """The same extended key under other version bytes (xpub -> tpub, zpub -> vpub)."""
    from bip_utils import Base58Decoder, Base58Encoder
    return Base58Encoder.CheckEncode(bytes.fromhex(version_hex) + Base58Decoder.CheckDecode(key)[4:])


def validation_outcome(module, address: str, network_name: str) -> str:
    try:
        return module.validate_address(address, module.NETWORKS[network_name], "address")
    except Exception as error:  # noqa: BLE001 - the outcome is what is compared
        return getattr(error, "reason", type(error).__name__)


def check_agreement(old) -> None:
    keys = [TEST_ZPUB, TEST_XPUB, with_version(TEST_XPUB, "043587cf"), with_version(TEST_ZPUB, "045f1cf6")]
    for key in keys:
        old_account, new_account = old.ExtendedPublicKey.parse(key), new.ExtendedPublicKey.parse(key)
        for index in [*range(20), 2**31 - 1]:
            assert old_account.receive_address(index) == new_account.receive_address(index), (key, index)
    for address in ADDRESSES:
        for network_name in new.NETWORKS:
            assert validation_outcome(old, address, network_name) == validation_outcome(new, address, network_name), \
                (address, network_name)


def time_derive(module, count: int, first_index: int) -> float:
    """Seconds per receive address."""
    account = module.ExtendedPublicKey.parse(TEST_ZPUB)
    started = time.perf_counter()
    for index in range(first_index, first_index + count):
        account.receive_address(index)
    return (time.perf_counter() - started) / count


def time_validate(module, count: int) -> float:
    """Seconds per address validated, refusals included."""
    network = module.MAINNET
    addresses = [ADDRESSES[i % len(ADDRESSES)] for i in range(count)]
    started = time.perf_counter()
    for address in addresses:
        try:
            module.validate_address(address, network, "address")
        except Exception:  # noqa: BLE001 - refusals are part of the work timed
            pass
    return (time.perf_counter() - started) / count


def time_import(module_path: pathlib.Path) -> float:
    """Seconds for a fresh interpreter to import the module (and what it imports), start-up included."""
    code = (f"import sys; sys.path[:0] = [{str(ROOT / 'server')!r}, {str(module_path.parent)!r}]; "
            f"import {module_path.stem}")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old-ref", help="git revision holding the old module (default: the hand-written one)")
    parser.add_argument("--addresses", type=int, default=100, help="receive addresses derived per round")
    parser.add_argument("--validations", type=int, default=20_000, help="addresses validated per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    args.old_ref = args.old_ref or hand_written_revision()

    with tempfile.TemporaryDirectory() as directory:
        old, old_path = load_old_module(args.old_ref, pathlib.Path(directory))
        check_agreement(old)
        rounds = {name: {"old": [], "new": []} for name in ("derive", "validate", "import")}
        for round_number in range(args.rounds):
            # Fresh indexes each round: nothing is cached between calls, as with real payments.
            first_index = 1 + round_number * args.addresses
            for label, module, path in (("old", old, old_path), ("new", new, pathlib.Path(new.__file__))):
                rounds["derive"][label].append(time_derive(module, args.addresses, first_index))
                rounds["validate"][label].append(time_validate(module, args.validations))
                rounds["import"][label].append(time_import(path))

    results = {"old_ref": args.old_ref, "rounds": args.rounds, "addresses_per_round": args.addresses,
               "validations_per_round": args.validations}
    print(f"old = {MODULE_PATH} at {args.old_ref}, new = the working tree; median of {args.rounds} rounds")
    print(f"{'':10}{'old':>14}{'new':>14}{'old/new':>10}")
    for name, unit, scale in (("derive", "us", 1e6), ("validate", "us", 1e6), ("import", "ms", 1e3)):
        old_median, new_median = (statistics.median(rounds[name][label]) for label in ("old", "new"))
        ratio = old_median / new_median
        results[name] = {"old_s": old_median, "new_s": new_median, "old_over_new": ratio}
        print(f"{name:10}{old_median * scale:>11.1f} {unit}{new_median * scale:>11.1f} {unit}{ratio:>10.2f}")
    out = ROOT / "bench" / "results" / "bitcoin_addresses.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
