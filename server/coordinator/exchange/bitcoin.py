"""Bitcoin addresses: validation (base58check, bech32/bech32m checksums, network) and BIP84
receive addresses derived from an account's extended public key (BIP32 public derivation on
secp256k1). No private key is ever involved; amounts are satoshis (integers)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from coordinator.errors import InvalidArgument, Reason
from coordinator.money import units_to_decimal_str

# secp256k1
_P = 2**256 - 2**32 - 977
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
      0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)

BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
BECH32M_CONST = 0x2BC830A3


@dataclass(frozen=True)
class Network:
    name: str
    hrp: str                       # bech32 prefix
    p2pkh: int                     # base58 version bytes
    p2sh: int
    xpub_versions: frozenset[bytes]


MAINNET = Network("mainnet", "bc", 0x00, 0x05, frozenset({bytes.fromhex("0488b21e"), bytes.fromhex("04b24746")}))
TESTNET = Network("testnet", "tb", 0x6F, 0xC4, frozenset({bytes.fromhex("043587cf"), bytes.fromhex("045f1cf6")}))
NETWORKS = {"mainnet": MAINNET, "testnet": TESTNET}


def _point_add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % _P == 0:
        return None
    if a == b:
        slope = 3 * a[0] * a[0] * pow(2 * a[1], -1, _P) % _P
    else:
        slope = (b[1] - a[1]) * pow(b[0] - a[0], -1, _P) % _P
    x = (slope * slope - a[0] - b[0]) % _P
    return x, (slope * (a[0] - x) - a[1]) % _P


def _multiply(k: int, point=_G):
    result = None
    while k:
        if k & 1:
            result = _point_add(result, point)
        point = _point_add(point, point)
        k >>= 1
    return result


def _compress(point) -> bytes:
    return bytes([2 + (point[1] & 1)]) + point[0].to_bytes(32, "big")


def _decompress(data: bytes):
    if len(data) != 33 or data[0] not in (2, 3):
        raise ValueError("not a compressed public key")
    x = int.from_bytes(data[1:], "big")
    y = pow((pow(x, 3, _P) + 7) % _P, (_P + 1) // 4, _P)
    if (y * y - pow(x, 3, _P) - 7) % _P:
        raise ValueError("not a point on secp256k1")
    return x, y if y % 2 == data[0] % 2 else _P - y


def _hash160(data: bytes) -> bytes:
    return hashlib.new("ripemd160", hashlib.sha256(data).digest()).digest()


def base58check_decode(text: str) -> bytes:
    number = 0
    for char in text:
        if char not in BASE58:
            raise ValueError("not base58")
        number = number * 58 + BASE58.index(char)
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    raw = b"\0" * (len(text) - len(text.lstrip("1"))) + raw
    payload, checksum = raw[:-4], raw[-4:]
    if len(raw) < 5 or hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        raise ValueError("bad base58 checksum")
    return payload


def _bech32_polymod(values: list[int]) -> int:
    generator = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            checksum ^= generator[i] if (top >> i) & 1 else 0
    return checksum


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data, from_bits: int, to_bits: int, pad: bool) -> list[int]:
    accumulator, bits, out, top = 0, 0, [], (1 << to_bits) - 1
    for value in data:
        accumulator = (accumulator << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((accumulator >> bits) & top)
    if pad and bits:
        out.append((accumulator << (to_bits - bits)) & top)
    elif not pad and (bits >= from_bits or (accumulator << (to_bits - bits)) & top):
        raise ValueError("bad padding")
    return out


def segwit_encode(hrp: str, version: int, program: bytes) -> str:
    data = [version] + _convert_bits(program, 8, 5, True)
    const = 1 if version == 0 else BECH32M_CONST
    polymod = _bech32_polymod(_hrp_expand(hrp) + data + [0] * 6) ^ const
    return hrp + "1" + "".join(BECH32[d] for d in data + [(polymod >> 5 * (5 - i)) & 31 for i in range(6)])


def segwit_decode(hrp: str, address: str) -> tuple[int, bytes]:
    """(witness version, program), checking the bech32 (v0) or bech32m (v1+) checksum (BIP173/350)."""
    if address.lower() != address and address.upper() != address:
        raise ValueError("mixed case")
    address = address.lower()
    prefix, _, rest = address.rpartition("1")
    if prefix != hrp or len(rest) < 7 or any(c not in BECH32 for c in rest):
        raise ValueError("not a bech32 address of this network")
    data = [BECH32.index(c) for c in rest]
    const = _bech32_polymod(_hrp_expand(hrp) + data)
    version = data[0]
    if const != (1 if version == 0 else BECH32M_CONST) or version > 16:
        raise ValueError("bad bech32 checksum")
    program = bytes(_convert_bits(data[1:-6], 5, 8, False))
    if not 2 <= len(program) <= 40 or (version == 0 and len(program) not in (20, 32)):
        raise ValueError("bad witness program")
    return version, program


def validate_address(address: str, network: Network, field: str) -> str:
    """The address if it is a valid address of this network (P2PKH, P2SH, or segwit)."""
    address = (address or "").strip()
    try:
        if address.lower().startswith(network.hrp + "1"):
            segwit_decode(network.hrp, address)
            return address.lower()
        payload = base58check_decode(address)
        if len(payload) != 21 or payload[0] not in (network.p2pkh, network.p2sh):
            raise ValueError("not an address of this network")
        return address
    except ValueError as error:
        raise InvalidArgument.field(field, f"is not a valid {network.name} Bitcoin address ({error})",
                                    reason=Reason.INVALID_BITCOIN_ADDRESS) from None


@dataclass(frozen=True)
class ExtendedPublicKey:
    """A BIP32 extended public key; for BIP84, the account key m/84'/coin'/account'."""

    network: Network
    chain_code: bytes
    point: tuple[int, int]

    @classmethod
    def parse(cls, text: str) -> ExtendedPublicKey:
        payload = base58check_decode(text.strip())
        if len(payload) != 78:
            raise ValueError("an extended public key is 78 bytes")
        network = next((n for n in NETWORKS.values() if payload[:4] in n.xpub_versions), None)
        if network is None:
            raise ValueError("not an xpub/zpub/tpub/vpub")
        return cls(network, payload[13:45], _decompress(payload[45:78]))

    def child(self, index: int) -> ExtendedPublicKey:
        """Public (non-hardened) child derivation, BIP32 CKDpub."""
        if not 0 <= index < 2**31:
            raise ValueError("public derivation takes indexes 0 to 2^31-1")
        digest = hmac.new(self.chain_code, _compress(self.point) + index.to_bytes(4, "big"), hashlib.sha512).digest()
        tweak = int.from_bytes(digest[:32], "big")
        point = _point_add(_multiply(tweak), self.point)
        if tweak >= _N or point is None:  # astronomically rare: BIP32 says skip to the next index
            raise ValueError("invalid child")
        return ExtendedPublicKey(self.network, digest[32:], point)

    def p2wpkh_address(self) -> str:
        return segwit_encode(self.network.hrp, 0, _hash160(_compress(self.point)))

    def receive_address(self, index: int) -> str:
        """BIP84 receive address `index` of this account: m/84'/coin'/account'/0/index."""
        return self.child(0).child(index).p2wpkh_address()


def payment_uri(address: str, amount_sat: int) -> str:
    """BIP21: bitcoin:<address>?amount=<BTC, exact decimal>."""
    amount = units_to_decimal_str(amount_sat, 8).rstrip("0").rstrip(".")
    return f"bitcoin:{address}?amount={amount}"
