"""How answers are shown: a table for people, JSON (--json) for scripts."""

from __future__ import annotations

import json
import sys
from typing import Any, Iterable, Sequence, TextIO

from google.protobuf import json_format
from google.protobuf.message import Message


def as_dict(message: Message) -> dict[str, Any]:
    """A reply as the REST API prints it: proto field names, every field shown."""
    shown: dict[str, Any] = json_format.MessageToDict(message, preserving_proto_field_name=True,
                                                      always_print_fields_with_no_presence=True)
    return shown


def emit(rows: Iterable[Message] | Message, columns: Sequence[str], *, as_json: bool, out: TextIO = sys.stdout
         ) -> None:
    """One message or many: with --json a JSON object or array, else a table of `columns`."""
    single = isinstance(rows, Message)
    records = [as_dict(rows)] if isinstance(rows, Message) else [as_dict(row) for row in rows]
    if as_json:
        json.dump(records[0] if single else records, out, indent=2)
        out.write("\n")
        return
    if single:  # one thing: every field, one per line
        width = max(map(len, records[0]), default=0)
        for name, value in records[0].items():
            out.write(f"{name:<{width}}  {_cell(value)}\n")
        return
    table = [list(columns)] + [[_cell(record.get(column, "")) for column in columns] for record in records]
    widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
    for row in table:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n")


def _cell(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


class Progress:
    """`done/total` on one line of stderr, rewritten in place on a terminal, at most every 1%."""

    def __init__(self, total: int, label: str, out: TextIO = sys.stderr):
        self.total, self.label, self.out = total, label, out
        self.shown = -1

    def update(self, done: int) -> None:
        percent = done * 100 // max(self.total, 1)
        if percent == self.shown:
            return
        self.shown = percent
        terminal, finished = self.out.isatty(), done >= self.total
        if not terminal and not finished and percent % 25:
            return  # in a log: a line per quarter is enough
        bar = "#" * (percent // 5)
        end = "\r" if terminal and not finished else "\n"
        self.out.write(f"{self.label} [{bar:<20}] {done}/{self.total}{end}")
        self.out.flush()
