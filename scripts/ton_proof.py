"""A TON wallet without a wallet app, to log in: prints the body of POST /v1/users/login.

  .venv/bin/python scripts/ton_proof.py --payload PAYLOAD [--domain localhost] [--seed HEX]

PAYLOAD comes from POST /v1/users/login/challenge; the domain must be one of the server's
TON_PROOF_DOMAINS (default localhost). Without --seed a new v4r2 wallet key is made; its seed
(hex, 32 bytes) is printed on stderr, to log in as the same wallet again with --seed.

The wallet is real: an Ed25519 key pair, the wallet contract's real code and initial data, the
state init and the address derived from it, and ton_proof signing exactly as a wallet does it
(TON Connect specification). The tests log in with it too.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import struct
import sys
import time

import nacl.signing
from computepool.v1 import user_service_pb2 as pb
from google.protobuf import json_format
from pytoniq_core import Cell, begin_cell
from pytoniq_core.tlb.account import StateInit

# The standard wallet contracts' code (public, identical in every wallet app).
V4R2_CODE = Cell.one_from_boc(bytes.fromhex(
    "B5EE9C72410214010002D4000114FF00F4A413F4BCF2C80B010201200203020148040504F8F28308D71820D31FD31FD31F02F823BBF2"
    "64ED44D0D31FD31FD3FFF404D15143BAF2A15151BAF2A205F901541064F910F2A3F80024A4C8CB1F5240CB1F5230CBFF5210F400C9ED"
    "54F80F01D30721C0009F6C519320D74A96D307D402FB00E830E021C001E30021C002E30001C0039130E30D03A4C8CB1F12CB1FCBFF10"
    "11121302E6D001D0D3032171B0925F04E022D749C120925F04E002D31F218210706C7567BD22821064737472BDB0925F05E003FA4030"
    "20FA4401C8CA07CBFFC9D0ED44D0810140D721F404305C810108F40A6FA131B3925F07E005D33FC8258210706C7567BA923830E30D03"
    "821064737472BA925F06E30D06070201200809007801FA00F40430F8276F2230500AA121BEF2E0508210706C7567831EB17080185004"
    "CB0526CF1658FA0219F400CB6917CB1F5260CB3F20C98040FB0006008A5004810108F45930ED44D0810140D720C801CF16F400C9ED54"
    "0172B08E23821064737472831EB17080185005CB055003CF1623FA0213CB6ACB1FCB3FC98040FB00925F03E20201200A0B0059BD242B"
    "6F6A2684080A06B90FA0218470D4080847A4937D29910CE6903E9FF9837812801B7810148987159F31840201580C0D0011B8C97ED44D"
    "0D70B1F8003DB29DFB513420405035C87D010C00B23281F2FFF274006040423D029BE84C600201200E0F0019ADCE76A26840206B90EB"
    "85FFC00019AF1DF6A26840106B90EB858FC0006ED207FA00D4D422F90005C8CA0715CBFFC9D077748018C8CB05CB0222CF165005FA02"
    "14CB6B12CCCCC973FB00C84014810108F451F2A7020070810108D718FA00D33FC8542047810108F451F2A782106E6F74657074801"
    "8C8CB05CB025006CF165004FA0214CB6A12CB1FCB3FC973FB0002006C810108D718FA00D33F305224810108F459F2A78210647374"
    "7270748018C8CB05CB025005CF165003FA0213CB6ACB1F12CB3FC973FB00000AF400C9ED54696225E5"))
V5R1_CODE = Cell.one_from_boc(base64.b64decode(
    "te6cckECFAEAAoEAART/APSkE/S88sgLAQIBIAIDAgFIBAUBAvIOAtzQINdJwSCRW49jINcLHyCCEGV4dG69IYIQc2ludL2wkl8D4IIQZXh0"
    "brqOtIAg1yEB0HTXIfpAMPpE+Cj6RDBYvZFb4O1E0IEBQdch9AWDB/QOb6ExkTDhgEDXIXB/2zzgMSDXSYECgLmRMOBw4hAPAgEgBgcCASAI"
    "CQAZvl8PaiaECAoOuQ+gLAIBbgoLAgFIDA0AGa3OdqJoQCDrkOuF/8AAGa8d9qJoQBDrkOuFj8AAF7Ml+1E0HHXIdcLH4AARsmL7UTQ1woAg"
    "AR4g1wsfghBzaWduuvLgin8PAeaO8O2i7fshgwjXIgKDCNcjIIAg1yHTH9Mf0x/tRNDSANMfINMf0//XCgAK+QFAzPkQmiiUXwrbMeHywIff"
    "ArNQB7Dy0IRRJbry4IVQNrry4Ib4I7vy0IgikvgA3gGkf8jKAMsfAc8Wye1UIJL4D95w2zzYEAP27aLt+wL0BCFukmwhjkwCIdc5MHCUIccA"
    "s44tAdcoIHYeQ2wg10nACPLgkyDXSsAC8uCTINcdBscSwgBSMLDy0InXTNc5MAGk6GwShAe78uCT10rAAPLgk+1V4tIAAcAAkVvg69csCBQg"
    "kXCWAdcsCBwS4lIQseMPINdKERITAJYB+kAB+kT4KPpEMFi68uCR7UTQgQFB1xj0BQSdf8jKAEAEgwf0U/Lgi44UA4MH9Fvy4Iwi1woAIW4B"
    "s7Dy0JDiyFADzxYS9ADJ7VQAcjDXLAgkji0h8uCS0gDtRNDSAFETuvLQj1RQMJExnAGBAUDXIdcKAPLgjuLIygBYzxbJ7VST8sCN4gAQk1vb"
    "MeHXTNCon9ZI"))
LIBRARY_CELL = 2
DOMAIN = "localhost"  # what the default TON_PROOF_DOMAINS accepts


def library_cell(code: Cell) -> Cell:
    """How a W5 wallet app sends its code: an exotic cell naming the code by hash."""
    bits = begin_cell().store_uint(LIBRARY_CELL, 8).store_bytes(code.hash).end_cell().bits
    return Cell(bits, [], LIBRARY_CELL)


class Wallet:
    def __init__(self, version: str = "v4r2", *, as_library: bool = False, key: nacl.signing.SigningKey | None = None):
        self.key = key or nacl.signing.SigningKey.generate()
        public_key = bytes(self.key.verify_key)
        if version == "v4r2":
            code = V4R2_CODE
            data = begin_cell().store_uint(0, 32).store_uint(698983191, 32).store_bytes(public_key).store_bit(0)
        else:
            code = V5R1_CODE
            data = (begin_cell().store_bit(1).store_uint(0, 32).store_uint(2147483409, 32).store_bytes(public_key)
                    .store_bit(0))
        code = library_cell(code) if as_library else code
        self.state_init = StateInit(code=code, data=data.end_cell()).serialize()
        self.address = "0:" + self.state_init.hash.hex()
        self.public_key = public_key.hex()

    def proof(self, payload: str, *, domain: str = DOMAIN, timestamp: int | None = None,
              key: nacl.signing.SigningKey | None = None) -> pb.LoginRequest:
        """A LoginRequest carrying this wallet's ton_proof over `payload`."""
        timestamp = int(time.time()) if timestamp is None else timestamp
        workchain, address_hash = self.address.split(":")
        message = (b"ton-proof-item-v2/" + struct.pack(">i", int(workchain)) + bytes.fromhex(address_hash)
                   + struct.pack("<I", len(domain.encode())) + domain.encode() + struct.pack("<Q", timestamp)
                   + payload.encode())
        signed = hashlib.sha256(b"\xff\xffton-connect" + hashlib.sha256(message).digest()).digest()
        signature = (key or self.key).sign(signed).signature
        return pb.LoginRequest(address=self.address, network="-239", public_key=self.public_key, proof=pb.TonProof(
            timestamp=timestamp, domain=pb.TonProofDomain(length_bytes=len(domain.encode()), value=domain),
            payload=payload, signature=base64.b64encode(signature).decode(),
            state_init=base64.b64encode(self.state_init.to_boc()).decode()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--payload", required=True, help="from POST /v1/users/login/challenge")
    parser.add_argument("--domain", default=DOMAIN, help="one of the server's TON_PROOF_DOMAINS")
    parser.add_argument("--seed", help="the wallet's Ed25519 seed, hex (default: a new wallet)")
    args = parser.parse_args(argv)
    key = nacl.signing.SigningKey(bytes.fromhex(args.seed)) if args.seed else nacl.signing.SigningKey.generate()
    if not args.seed:
        print(f"wallet seed: {bytes(key).hex()}", file=sys.stderr)
    request = Wallet(key=key).proof(args.payload, domain=args.domain)
    print(json_format.MessageToJson(request, preserving_proto_field_name=True, indent=None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
