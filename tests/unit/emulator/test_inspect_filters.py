"""Filters, paging and clock-change parsing of the control API (pure functions)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import MultiDict

from emulator.inspect import (
    AdvanceClock,
    ControlError,
    MessageQuery,
    PageRequest,
    RealClock,
    SetClock,
    page_messages,
    parse_clock_change,
)
from emulator.store import MessageRecord


def _record(n: int, **overrides: object) -> MessageRecord:
    fields: dict[str, object] = {
        "id": f"m{n}",
        "account": "000000000000",
        "region": "us-east-1",
        "api": "v1",
        "operation": "SendEmail",
        "kind": "simple",
        "timestamp": 1000.0 + n,
        "source": "Shop <Shop@Example.com>",
        "envelope_from": "Shop@Example.com",
        "to": ("Ada <ada@example.com>",),
        "recipients": ("ada@example.com",),
        "subject": f"Order {n} shipped",
    }
    fields.update(overrides)
    return MessageRecord(**fields)  # type: ignore[arg-type]  # test factory: keys checked at run time


def _query(**params: str | list[str]) -> MessageQuery:
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        pairs.extend((key, v) for v in ([value] if isinstance(value, str) else value))
    return MessageQuery.from_query(MultiDict(pairs))


def _error(exc: pytest.ExceptionInfo[ControlError]) -> tuple[int, str, str | None]:
    return exc.value.status, exc.value.code, exc.value.field


def test_recipient_matches_envelope_and_header_addresses_case_insensitively() -> None:
    record = _record(
        1, cc=("Bob <BOB@example.com>",), recipients=("ada@example.com", "bob@example.com")
    )
    assert _query(recipient="ADA@example.com").matches(record)
    assert _query(recipient="bob@example.com").matches(record)
    assert not _query(recipient="eve@example.com").matches(record)


def test_sender_matches_the_bare_source_address() -> None:
    assert _query(sender="shop@example.com").matches(_record(1))
    assert not _query(sender="other@example.com").matches(_record(1))


def test_subject_is_a_case_insensitive_substring() -> None:
    assert _query(subject="ORDER 1 ship").matches(_record(1))
    assert not _query(subject="refund").matches(_record(1))
    assert not _query(subject="order").matches(_record(1, subject=None))


def test_tag_filters_by_name_or_name_and_value_all_required() -> None:
    record = _record(1, tags=(("campaign", "spring"), ("ses:feedback-id-a", "x1")))
    assert _query(tag="campaign").matches(record)
    assert _query(tag="campaign:spring").matches(record)
    assert not _query(tag="campaign:autumn").matches(record)
    assert _query(tag="ses:feedback-id-a").matches(record)
    assert _query(tag="ses:feedback-id-a:x1").matches(record)
    assert _query(tag=["campaign", "ses:feedback-id-a:x1"]).matches(record)
    assert not _query(tag=["campaign", "missing"]).matches(record)
    # "ses:x" names a tag called "ses:x" and also the value "x" of a tag called "ses".
    assert _query(tag="ses:x").matches(_record(1, tags=(("ses", "x"),)))
    assert _query(tag="ses:x").matches(_record(1, tags=(("ses:x", "1"),)))
    assert not _query(tag="ses:x").matches(_record(1, tags=(("ses", "y"),)))


def test_since_accepts_epoch_and_iso_and_keeps_messages_at_or_after() -> None:
    record = _record(0)  # timestamp 1000.0 = 1970-01-01T00:16:40Z
    assert _query(since="1000").matches(record)
    assert not _query(since="1000.5").matches(record)
    assert _query(since="1970-01-01T00:16:40Z").matches(record)
    assert not _query(since="1970-01-01T00:16:41+00:00").matches(record)
    assert _query(since="1970-01-01T00:16:40").matches(record)  # no offset: UTC


def test_account_region_and_operation_filters() -> None:
    record = _record(1, account="123456789012", region="eu-west-1", operation="SendBulkEmail")
    assert _query(account="123456789012", region="eu-west-1").matches(record)
    assert _query(operation="sendbulkemail").matches(record)
    assert not _query(region="us-east-1").matches(record)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"since": "-5"}, "since"),
        ({"since": "nan"}, "since"),
        ({"account": "12"}, "account"),
        ({"region": "Mars"}, "region"),
        ({"recipient": " "}, "recipient"),
        ({"recipient": ["a@x.com", "b@x.com"]}, "recipient"),
        ({"tag": ""}, "tag"),
        ({"tag": ":value"}, "tag"),
    ],
)
def test_bad_filters_are_400_naming_the_field(
    params: dict[str, str | list[str]], field: str
) -> None:
    with pytest.raises(ControlError) as exc:
        _query(**params)
    assert _error(exc) == (400, "InvalidParameter", field)


def test_select_orders_most_recent_first() -> None:
    records = [_record(n) for n in range(3)]
    assert [r.id for r in MessageQuery().select(records)] == ["m2", "m1", "m0"]


def test_paging_with_next_token_walks_every_message_once() -> None:
    matched = MessageQuery().select([_record(n) for n in range(7)])
    seen: list[str] = []
    token: str | None = None
    for _ in range(10):
        page = page_messages(matched, PageRequest(limit=3, next_token=token))
        assert page.total == 7
        seen.extend(r.id for r in page.records)
        token = page.next_token
        if token is None:
            break
    assert seen == ["m6", "m5", "m4", "m3", "m2", "m1", "m0"]


def test_next_token_is_not_shifted_by_newer_messages() -> None:
    records = [_record(n) for n in range(4)]
    first = page_messages(MessageQuery().select(records), PageRequest(limit=2))
    assert [r.id for r in first.records] == ["m3", "m2"]
    records.append(_record(9))  # sent between the two page requests
    second = page_messages(
        MessageQuery().select(records), PageRequest(limit=2, next_token=first.next_token)
    )
    assert [r.id for r in second.records] == ["m1", "m0"]
    assert second.next_token is None


def test_offset_paging_and_the_last_page_has_no_token() -> None:
    matched = MessageQuery().select([_record(n) for n in range(5)])
    page = page_messages(matched, PageRequest(limit=2, offset=3))
    assert [r.id for r in page.records] == ["m1", "m0"]
    assert page.next_token is None


def test_stale_or_garbage_next_token_is_400() -> None:
    matched = MessageQuery().select([_record(n) for n in range(3)])
    token = page_messages(matched, PageRequest(limit=1)).next_token
    with pytest.raises(ControlError) as exc:
        page_messages([r for r in matched if r.id != "m2"], PageRequest(next_token=token))
    assert _error(exc) == (400, "InvalidParameter", "next_token")
    with pytest.raises(ControlError) as exc:
        page_messages(matched, PageRequest(next_token="%%%"))
    assert _error(exc) == (400, "InvalidParameter", "next_token")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "1", "next_token": "bTE="}, "offset"),
        ({"include": "everything"}, "include"),
    ],
)
def test_bad_paging_is_400_naming_the_field(params: dict[str, str], field: str) -> None:
    with pytest.raises(ControlError) as exc:
        PageRequest.from_query(MultiDict(params))
    assert _error(exc) == (400, "InvalidParameter", field)


def test_paging_defaults() -> None:
    page = PageRequest.from_query(MultiDict())
    assert (page.limit, page.offset, page.next_token, page.include_raw) == (100, None, None, False)


def test_clock_change_accepts_exactly_one_of_advance_now_real() -> None:
    assert parse_clock_change({"advance": 2}) == AdvanceClock(2.0)
    assert parse_clock_change({"now": 60}) == SetClock(60.0)
    assert parse_clock_change({"now": "1970-01-01T00:01:00Z"}) == SetClock(60.0)
    assert parse_clock_change({"real": True}) == RealClock()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "advance"),
        ({"advance": -1}, "advance"),
        ({"advance": "5"}, "advance"),
        ({"advance": True}, "advance"),
        ({"advance": float("inf")}, "advance"),
        ({"now": None}, "now"),
        ({"now": "soon"}, "now"),
        ({"real": False}, "real"),
        ({"advance": 1, "now": 5}, "now"),
        ({"rewind": 5}, "rewind"),
    ],
)
def test_bad_clock_changes_are_400_naming_the_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(ControlError) as exc:
        parse_clock_change(body)
    assert _error(exc) == (400, "InvalidParameter", field)


@pytest.mark.parametrize(
    "body",
    [{"now": 1e300}, {"now": "10000-01-01T00:00:00Z"}],
)
def test_clock_cannot_be_set_past_the_year_9999(body: dict[str, object]) -> None:
    with pytest.raises(ControlError) as exc:
        parse_clock_change(body)
    assert _error(exc) == (400, "InvalidParameter", "now")


@given(total=st.integers(min_value=0, max_value=60), limit=st.integers(min_value=1, max_value=25))
def test_next_token_paging_returns_every_match_once_in_order(total: int, limit: int) -> None:
    matched = MessageQuery().select([_record(n) for n in range(total)])
    seen: list[str] = []
    token: str | None = None
    for _ in range(total + 1):
        page = page_messages(matched, PageRequest(limit=limit, next_token=token))
        assert len(page.records) <= limit
        seen.extend(r.id for r in page.records)
        token = page.next_token
        if token is None:
            break
    assert seen == [r.id for r in matched]


@given(
    name=st.from_regex(r"(ses:)?[A-Za-z0-9_-]{1,20}", fullmatch=True),
    value=st.from_regex(r"[A-Za-z0-9_.@-]{0,20}", fullmatch=True),
)
def test_a_tag_filter_finds_the_tag_it_names(name: str, value: str) -> None:
    record = _record(1, tags=((name, value),))
    assert _query(tag=name).matches(record)
    assert _query(tag=f"{name}:{value}").matches(record)
    assert not _query(tag=f"{name}:{value}x").matches(record)
