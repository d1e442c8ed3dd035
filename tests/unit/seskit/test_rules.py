"""Property tests: every rule violation raises the right ValidationError, field and rule."""

from __future__ import annotations

import json
import string
from collections.abc import Callable
from typing import TypeVar

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import seskit
from seskit import (
    AddressError,
    BulkEntry,
    Email,
    HeaderError,
    RecipientError,
    Tag,
    TagError,
    TemplateDataError,
    ValidationError,
    batching,
    rules,
)
from tests.unit.seskit.expect import invalid

T = TypeVar("T")
TAG_NAME_CHARS = set(string.ascii_letters + string.digits + "_-")
TAG_VALUE_CHARS = TAG_NAME_CHARS | {".", "@"}
valid_names = st.text(alphabet=sorted(TAG_NAME_CHARS), min_size=1, max_size=255)
valid_values = st.text(alphabet=sorted(TAG_VALUE_CHARS), min_size=1, max_size=255)


@given(valid_names, valid_values)
def test_valid_tags_are_accepted(name: str, value: str) -> None:
    assert Tag(name=name, value=value) == Tag(name=name, value=value)


@given(st.text(min_size=1, max_size=255), valid_values)
def test_tag_name_outside_the_charset_is_tag_charset(name: str, value: str) -> None:
    assume(not set(name) <= TAG_NAME_CHARS and name not in rules.FEEDBACK_ID_TAGS)
    with invalid(TagError, f"tags[{name!r}]", "tag-charset"):
        Email(sender="s@example.com", to="a@example.com", tags={name: value})


@given(valid_names, st.text(min_size=1, max_size=255))
def test_tag_value_outside_the_charset_is_tag_charset(name: str, value: str) -> None:
    assume(not set(value) <= TAG_VALUE_CHARS)
    with invalid(TagError, f"tags[{name!r}]", "tag-charset"):
        Tag(name=name, value=value)


@given(st.text(alphabet="ab", min_size=256, max_size=400), valid_names)
def test_tag_longer_than_255_is_tag_length(long: str, short: str) -> None:
    with invalid(TagError, f"tags[{long!r}]", "tag-length"):
        Tag(name=long, value=short)
    with invalid(TagError, f"tags[{short!r}]", "tag-length"):
        Tag(name=short, value=long)


@given(st.integers(0, 60), st.integers(0, 60), st.integers(0, 60))
def test_recipient_count_rule_names_the_first_recipient_past_fifty(
    to: int, cc: int, bcc: int
) -> None:
    def make() -> Email:
        return Email(
            sender="s@example.com",
            to=[f"t{i}@example.com" for i in range(to)],
            cc=[f"c{i}@example.com" for i in range(cc)],
            bcc=[f"b{i}@example.com" for i in range(bcc)],
        )

    total = to + cc + bcc
    if total == 0:
        with invalid(RecipientError, "to", "min-recipients"):
            make()
    elif total <= 50:
        assert len(make().recipients) == total
    else:
        field = (
            "to[50]" if to > 50 else f"cc[{50 - to}]" if to + cc > 50 else f"bcc[{50 - to - cc}]"
        )
        with invalid(RecipientError, field, "max-recipients"):
            make()


@given(st.text(min_size=1, max_size=30), st.integers(0, 4))
def test_header_name_outside_the_pattern_is_header_name(name: str, position: int) -> None:
    assume(rules.HEADER_NAME_RE.fullmatch(name) is None)
    headers = [(f"X-{i}", "v") for i in range(position)] + [(name, "v")]
    with invalid(HeaderError, f"headers[{position}].name", "header-name"):
        Email(sender="s@example.com", to="a@example.com", headers=headers)


@given(st.text(min_size=1, max_size=30))
def test_header_value_outside_printable_ascii_is_header_value(value: str) -> None:
    assume(rules.HEADER_VALUE_RE.fullmatch(value) is None)
    with invalid(HeaderError, "headers[0].value", "header-value"):
        Email(sender="s@example.com", to="a@example.com", headers=[("X-A", value)])


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(), st.lists))
def test_template_data_that_is_not_an_object_is_template_data_json(data: object) -> None:
    with invalid(TemplateDataError, "replacement_data", "template-data-json"):
        BulkEntry(to="a@example.com", replacement_data=json.dumps(data))


@given(
    st.text(alphabet=string.ascii_letters, min_size=1, max_size=20), st.characters(categories=["L"])
)
def test_non_ascii_local_part_is_address_charset(local: str, letter: str) -> None:
    assume(not letter.isascii())
    with invalid(AddressError, "bcc[0]", "address-charset"):
        Email(sender="s@example.com", bcc=[f"{local}{letter}@example.com"])


@given(st.text(min_size=1, max_size=70))
def test_configuration_set_names_follow_the_pattern(name: str) -> None:
    if rules.CONFIGURATION_SET_NAME_RE.fullmatch(name):
        assert (
            Email(
                sender="s@example.com", to="a@example.com", configuration_set=name
            ).configuration_set
            == name
        )
    else:
        with invalid(ValidationError, "configuration_set", "configuration-set-name"):
            Email(sender="s@example.com", to="a@example.com", configuration_set=name)


@given(
    st.lists(st.integers(0, 500).map(lambda i: f"u{i}@example.com"), max_size=260),
    st.integers(1, 50),
)
def test_recipient_batches_keep_order_and_respect_the_cap(audience: list[str], size: int) -> None:
    batches = list(batching.recipient_batches(audience, size=size))
    assert all(1 <= len(batch) <= size for batch in batches)
    assert [a.email for batch in batches for a in batch] == audience


def test_batching_rejects_sizes_over_the_caps_and_names_bad_addresses() -> None:
    with pytest.raises(ValueError, match="size must be 1-50, got 51"):
        batching.recipient_batches([], size=51)
    with pytest.raises(ValueError, match="size must be 1-50, got 0"):
        batching.entry_batches([], size=0)
    with invalid(AddressError, "audience[2]", "address-syntax"):
        list(batching.recipient_batches(["a@example.com", "b@example.com", "nope"]))
    emails = list(
        batching.emails_per_batch(
            (f"u{i}@example.com" for i in range(101)),
            lambda batch: Email(sender="s@example.com", to="me@example.com", bcc=batch),
            size=49,
        )
    )
    assert [len(e.recipients) for e in emails] == [50, 50, 4]


def test_public_names_are_exactly_all() -> None:
    exported = set(seskit.__all__)
    assert seskit.__all__ == sorted(seskit.__all__)
    # dir(), not vars(): the senders load on first access (seskit.__getattr__), and dir()
    # lists them whether or not anything has touched them yet.
    public = {
        name
        for name in dir(seskit)
        if not name.startswith("_") and not _is_module(getattr(seskit, name))
    }
    assert public == {name for name in exported if not _is_module(getattr(seskit, name))}
    for name in exported:
        assert hasattr(seskit, name), name


def _is_module(value: object) -> bool:
    return type(value).__name__ == "module"


ADDRESS_RULES = {"address-syntax", "address-charset", "address-length"}


def _outcome(make: Callable[[], T]) -> T | ValidationError:
    try:
        return make()
    except ValidationError as error:
        return error


@given(st.text(max_size=80))
def test_any_text_parses_as_an_address_or_raises_address_error(text: str) -> None:
    result = _outcome(lambda: seskit.Address.parse(text, field="to[0]"))
    if isinstance(result, ValidationError):
        assert isinstance(result, AddressError)
        assert (result.field, result.rule in ADDRESS_RULES) == ("to[0]", True), result
    else:
        assert result.email.isascii()
        assert result.formatted.isascii()
        assert seskit.Address.parse(result.formatted) == result


@given(
    st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.[a-z]{2,3}", fullmatch=True),
    st.text(max_size=60),
)
def test_any_display_name_is_encoded_or_refused(addr: str, name: str) -> None:
    result = _outcome(lambda: seskit.Address(email=addr, name=name))
    if isinstance(result, ValidationError):
        assert isinstance(result, AddressError)
        assert ("\n" in name or "\r" in name) != (result.rule == "address-length"), result
    else:
        assert result.formatted.isascii()
        reparsed = seskit.Address.parse(result.formatted)
        assert reparsed.email == addr
        assert (reparsed.name or "") == (result.name or "")


@given(st.text(max_size=300), st.text(max_size=90))
def test_any_attachment_metadata_is_accepted_or_raises_attachment_error(
    filename: str, content_type: str
) -> None:
    result = _outcome(
        lambda: seskit.Attachment(filename=filename, content=b"", content_type=content_type)
    )
    if isinstance(result, ValidationError):
        assert isinstance(result, seskit.AttachmentError)
        assert result.field in {"attachment.filename", "attachment.content_type"}
        assert result.rule.startswith("attachment-")
