"""Bitcoin addresses: validation (base58check, bech32/bech32m checksums, network) and BIP84
receive addresses derived from an account's extended public key (BIP32 public derivation on
secp256k1). No private key is ever involved; amounts are satoshis (integers).

The encodings, the derivation and the networks' constants are bip-utils' (its secp256k1 is
libsecp256k1 through coincurve); this module only picks what the exchange accepts."""

from __future__ import annotations

from dataclasses import dataclass

from bip_utils import (
    Base58ChecksumError,
    Base58Decoder,
    Bech32ChecksumError,
    Bip32KeyError,
    Bip32KeyNetVersions,
    Bip32Slip10Secp256k1,
    Bip44Conf,
    Bip84Conf,
    CoinsConf,
    P2WPKHAddrEncoder,
    SegwitBech32Decoder,
)

from coordinator.errors import InvalidArgument, Reason
from coordinator.money import units_to_decimal_str

# What bip-utils raises for a malformed string: its checksum and key errors are not ValueErrors.
_MALFORMED = (ValueError, Base58ChecksumError, Bech32ChecksumError, Bip32KeyError)


@dataclass(frozen=True)
class Network:
    name: str
    hrp: str                                            # bech32 prefix
    base58_versions: frozenset[bytes]                   # P2PKH and P2SH version bytes
    account_key_versions: tuple[Bip32KeyNetVersions, ...]  # xpub and zpub (tpub and vpub)


def _network(name: str, coin, bip44, bip84) -> Network:
    return Network(name, coin.ParamByKey("p2wpkh_hrp"),
                   frozenset({coin.ParamByKey("p2pkh_net_ver"), coin.ParamByKey("p2sh_net_ver")}),
                   (bip44.KeyNetVersions(), bip84.KeyNetVersions()))


MAINNET = _network("mainnet", CoinsConf.BitcoinMainNet, Bip44Conf.BitcoinMainNet, Bip84Conf.BitcoinMainNet)
TESTNET = _network("testnet", CoinsConf.BitcoinTestNet, Bip44Conf.BitcoinTestNet, Bip84Conf.BitcoinTestNet)
NETWORKS = {"mainnet": MAINNET, "testnet": TESTNET}


def validate_address(address: str, network: Network, field: str) -> str:
    """The address if it is a valid address of this network (P2PKH, P2SH, or segwit)."""
    address = (address or "").strip()
    try:
        if address.lower().startswith(network.hrp + "1"):
            SegwitBech32Decoder.Decode(network.hrp, address)  # bech32 for v0, bech32m for v1+ (BIP173/350)
            return address.lower()
        payload = Base58Decoder.CheckDecode(address)
        if len(payload) != 21 or payload[:1] not in network.base58_versions:
            raise ValueError("not an address of this network")
        return address
    except _MALFORMED as error:
        raise InvalidArgument.field(field, f"is not a valid {network.name} Bitcoin address ({error})",
                                    reason=Reason.INVALID_BITCOIN_ADDRESS) from None


@dataclass(frozen=True)
class ExtendedPublicKey:
    """A BIP32 extended public key; for BIP84, the account key m/84'/coin'/account'."""

    network: Network
    receive_chain: Bip32Slip10Secp256k1  # the account's external chain, m/84'/coin'/account'/0

    @classmethod
    def parse(cls, text: str) -> ExtendedPublicKey:
        """Raises ValueError for anything but a mainnet or testnet xpub/zpub/tpub/vpub (a private key too)."""
        text = text.strip()
        try:
            version = Base58Decoder.CheckDecode(text)[:4]
            network, versions = next(((network, versions) for network in NETWORKS.values()
                                      for versions in network.account_key_versions if versions.Public() == version),
                                     (None, None))
            if network is None:
                raise ValueError("not an xpub/zpub/tpub/vpub")
            return cls(network, Bip32Slip10Secp256k1.FromExtendedKey(text, versions).ChildKey(0))
        except _MALFORMED as error:
            raise ValueError(str(error)) from None

    def receive_address(self, index: int) -> str:
        """BIP84 receive address `index` of this account: m/84'/coin'/account'/0/index."""
        public_key = self.receive_chain.ChildKey(index).PublicKey().KeyObject()
        return P2WPKHAddrEncoder.EncodeKey(public_key, hrp=self.network.hrp)


def payment_uri(address: str, amount_sat: int) -> str:
    """BIP21: bitcoin:<address>?amount=<BTC, exact decimal>."""
    amount = units_to_decimal_str(amount_sat, 8).rstrip("0").rstrip(".")
    return f"bitcoin:{address}?amount={amount}"
