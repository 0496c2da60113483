"""The one catalogue of error reasons (coordinator.errors.Reason) and what cites it: every rpc's
comment in proto/ names the errors it answers, every reason the comments name is catalogued,
every catalogued reason is documented (proto or README), and the server names reasons only
through the catalogue."""

from __future__ import annotations

import re

import grpc
import pytest
from coordinator.api.services import services
from coordinator.errors import Reason
from devtools.envoy_config import ROOT

PROTOS = sorted((ROOT / "proto/computepool/v1").glob("*.proto"))
STATUS_CODES = {code.name for code in grpc.StatusCode}
RPC_COMMENT = re.compile(r"((?:[ \t]*//[^\n]*\n)+)[ \t]*rpc (\w+)\(")


def rpc_comments() -> dict[str, str]:
    found = {}
    for proto in PROTOS:
        for match in RPC_COMMENT.finditer(proto.read_text()):
            found[match.group(2)] = " ".join(line.strip().removeprefix("//") for line in match.group(1).splitlines())
    return found


def upper_words(text: str) -> set[str]:
    return set(re.findall(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|\b[A-Z]{4,}\b", text))


def test_every_rpc_comment_names_its_errors():
    comments = rpc_comments()
    assert set(comments) == {method.name for service in services() for method in service.descriptor.methods}
    silent = [rpc for rpc, comment in comments.items() if not upper_words(comment) & (STATUS_CODES | set(Reason))]
    assert silent == []


def test_every_reason_the_comments_cite_is_catalogued():
    """A word in parentheses after a status code, "NOT_FOUND (JOB_NOT_FOUND)", is a reason."""
    cited = set()
    for comment in rpc_comments().values():
        for inside in re.findall(r"\b(?:%s)\s*\(([^)]*)\)" % "|".join(STATUS_CODES), comment):
            cited |= {word for word in upper_words(inside) if word not in STATUS_CODES | {"REST", "HTTP"}}
    assert cited and cited <= set(Reason), sorted(cited - set(Reason))


def test_every_catalogued_reason_is_documented():
    documented = upper_words("\n".join(p.read_text() for p in PROTOS) + (ROOT / "README.md").read_text())
    assert sorted(set(Reason) - documented) == []


@pytest.mark.parametrize("path", sorted((ROOT / "server/coordinator").rglob("*.py")), ids=lambda p: p.name)
def test_the_server_names_reasons_only_through_the_catalogue(path):
    assert re.findall(r"""reason\s*=\s*f?["']""", path.read_text()) == []
