"""Every text a request carries, checked before any service sees it: no control characters and
no more than MAX_TEXT characters in one field, whatever the rpc.

PostgreSQL refuses a NUL in text (SQLite stores it), so without this one check a NUL in a
username, a label or a job id was stored on one database and an INTERNAL error on the other.
Line breaks and tabs are allowed only in free text: inside JSON documents (a job's parameters,
a result: google.protobuf.Struct / Value / ListValue) and in FREE_TEXT fields. Fields with a
narrower domain (names, addresses, keys) keep their own checks in the services; this is the
floor under all of them.
"""

from __future__ import annotations

import re

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from coordinator.errors import FieldViolation, InvalidArgument

MAX_TEXT = 4096
FREE_TEXT = frozenset({"error_message"})
JSON_TYPES = frozenset({"google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"})

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode's Cc: C0, DEL and C1
CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def check_request_text(message: Message) -> None:
    """Raises InvalidArgument naming every offending field (`capabilities[0].models[1]`)."""
    violations: list[FieldViolation] = []
    _walk(message, "", False, violations)
    if violations:
        raise InvalidArgument(violations)


def _walk(message: Message, path: str, in_json: bool, violations: list[FieldViolation]) -> None:
    in_json = in_json or message.DESCRIPTOR.full_name in JSON_TYPES
    for field, value in message.ListFields():
        name = f"{path}.{field.name}" if path and not in_json else (path or field.name)
        if in_json and field.name == "fields":  # a Struct: its keys are the path
            for key, item in value.items():
                if CONTROL.search(key):  # not named by the key itself: it is the bad text
                    violations.append(FieldViolation(path, "keys must not contain control characters"))
                    continue
                _walk(item, f"{path}.{key}" if path else key, True, violations)
            continue
        if field.is_repeated:
            for i, item in enumerate(value):
                _check_any(field, item, f"{name}[{i}]", in_json, violations)
            continue
        _check_any(field, value, name, in_json, violations)


def _check_any(field: FieldDescriptor, value, name: str, in_json: bool, violations: list[FieldViolation]) -> None:
    if field.type != FieldDescriptor.TYPE_STRING:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            _walk(value, name, in_json, violations)
        return
    lines_allowed = in_json or field.name in FREE_TEXT
    if (CONTROL_BUT_LINES if lines_allowed else CONTROL).search(value):
        violations.append(FieldViolation(name, "must not contain control characters"
                                         + ("" if lines_allowed else " (NUL, line breaks, tabs, ...)")))
    elif len(value) > MAX_TEXT and not in_json:  # a JSON document is bounded as a whole by its service
        violations.append(FieldViolation(name, f"must be at most {MAX_TEXT} characters"))
