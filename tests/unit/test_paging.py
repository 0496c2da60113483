"""Keyset paging (storage/paging.py): limits, opaque page tokens, and cutting a page."""

import base64
import datetime as dt
import re
from types import SimpleNamespace

import pytest
from coordinator.errors import InvalidArgument, Validator
from coordinator.storage import paging


def test_no_limit_is_the_default_and_the_bounds_are_taken():
    assert paging.resolve_limit(None) == paging.DEFAULT_LIMIT == 100
    assert paging.resolve_limit(1) == 1 and paging.resolve_limit(paging.MAX_LIMIT) == paging.MAX_LIMIT == 1000


@pytest.mark.parametrize("limit", [0, -1, paging.MAX_LIMIT + 1, 2**63 - 1])
def test_a_limit_out_of_range_is_refused_never_replaced(limit):
    with pytest.raises(InvalidArgument) as raised:
        paging.resolve_limit(limit, "max_results")
    assert raised.value.violations[0].field == "max_results"


@pytest.mark.parametrize("position", [{"after_id": 42}, {"after_id": 2**63 - 1},
                                      {"before_time": "2025-01-15T10:30:00+00:00", "before_id": 7}])
def test_a_token_names_its_position_and_reads_back(position):
    token = paging.encode_token(position)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)  # URL-safe and unpadded: it travels in a query string
    assert paging.decode_token(token, tuple(position)) == position


def test_no_token_is_the_first_page():
    assert paging.decode_token("", ("after_id",)) is None


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("token", [
    "not a token!",
    b64(b"\xff\xfe"),                  # not UTF-8
    b64(b"[1, 2]"),                    # JSON, not an object
    b64(b"{}"),                        # no position
    b64(b'{"before_id": 1}'),          # another list's position
    b64(b'{"after_id": 1, "x": 2}'),   # one key too many
    paging.encode_token({"after_id": 1})[:-2],
])
def test_a_token_this_server_did_not_issue_is_refused(token):
    with pytest.raises(InvalidArgument) as raised:
        paging.decode_token(token, ("after_id",))
    assert raised.value.violations[0].field == "page_token"


def rows(count: int) -> list:
    start = dt.datetime(2025, 1, 15, tzinfo=dt.timezone.utc)
    return [SimpleNamespace(id=100 - i, created_at=start - dt.timedelta(minutes=i)) for i in range(count)]


@pytest.mark.parametrize("count", [0, 1, 3])
def test_the_last_page_has_no_next_token(count):
    """A list asks for limit + 1 rows: limit or fewer means nothing follows."""
    assert paging.newest_first_page(rows(count), 3, "created_at") == (rows(count), "")


def test_a_full_page_names_where_the_next_one_starts():
    page, token = paging.newest_first_page(rows(4), 3, "created_at")
    assert page == rows(3)
    assert paging.decode_token(token, paging.NEWEST_FIRST_KEYS) == {
        "before_time": "2025-01-14T23:58:00+00:00", "before_id": 98}


def test_a_newest_first_request_reports_a_bad_limit_and_a_bad_token_at_once():
    check = Validator()
    assert paging.newest_first_request(check, 0, "garbage") == (None, None)
    assert [v.field for v in check.violations] == ["limit", "page_token"]
    check = Validator()
    token = paging.encode_token({"before_time": "2025-01-15T00:00:00+00:00", "before_id": 5})
    assert paging.newest_first_request(check, None, token) == (100, {"before_time": "2025-01-15T00:00:00+00:00",
                                                                     "before_id": 5})
    assert check.violations == []
