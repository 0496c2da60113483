"""A Bitcoin Core node, through its JSON-RPC: what the payment watcher asks of the chain."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Received:
    sat: int
    confirmations: int
    txids: tuple[str, ...]


class BitcoinCore:
    """The watcher's view of the chain through a Bitcoin Core node's JSON-RPC: what an address
    received with at least `min_confirmations` (the node must watch the addresses: import the
    account's descriptor as watch-only, see the README)."""

    def __init__(self, url: str, http) -> None:
        self.url = url
        self.http = http  # an aiohttp.ClientSession

    async def received(self, address: str, min_confirmations: int) -> Received:
        request = {"jsonrpc": "1.0", "id": "computepool", "method": "listreceivedbyaddress",
                   "params": [min_confirmations, False, True, address]}
        async with self.http.post(self.url, json=request) as response:
            answer = json.loads(await response.text(), parse_float=Decimal)  # amounts exactly, never floats
        if answer.get("error"):
            raise RuntimeError(f"bitcoind: {answer['error']}")
        entry = next((e for e in answer["result"] if e["address"] == address), None)
        if entry is None:
            return Received(0, 0, ())
        return Received(int(Decimal(entry["amount"]) * 10**8), int(entry["confirmations"]), tuple(entry["txids"]))
