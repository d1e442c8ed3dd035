"""The parse caches behind Email and the way Email is built keep every value and error the same.

`seskit.message` remembers addresses by their text and tags by their (name, value) pair, and
builds an `Email` without a frozen dataclass's per-field ``object.__setattr__``. None of that may
show: the values equal freshly parsed ones, wrong input is reported by position every time, the
caches stay bounded, and an `Email` is still an immutable, picklable, comparable dataclass.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
import re
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seskit import (
    Address,
    AddressError,
    BulkEntry,
    Email,
    RecipientError,
    Tag,
    TagError,
    rules,
    v1,
    v2,
)
from seskit import message as message_module
from tests.unit.seskit.expect import invalid

TEXTS = [
    "ana@example.com",
    "Ana Lima <ana@example.com>",
    '"Lima, Ana" <ana@example.com>',
    "Zoë <zoe@bücher.example>",
    "=?utf-8?q?Zo=C3=AB?= <zoe@example.com>",
    "  padded@example.com  ",
]


@pytest.fixture
def empty_caches() -> Iterator[None]:
    """Start from empty caches and leave them empty, so tests do not depend on one another."""
    message_module._PARSED.clear()
    message_module._TAGS.clear()
    message_module._tags_held = 0
    yield
    message_module._PARSED.clear()
    message_module._TAGS.clear()
    message_module._tags_held = 0


@pytest.mark.usefixtures("empty_caches")
def test_cached_addresses_equal_freshly_parsed_ones() -> None:
    first = Email(sender=TEXTS[1], to=TEXTS)
    again = Email(sender=TEXTS[1], to=TEXTS)
    for text, cold, warm in zip(TEXTS, first.to, again.to, strict=True):
        fresh = Address.parse(text)
        assert (warm.email, warm.name, warm.formatted) == (fresh.email, fresh.name, fresh.formatted)
        assert cold is warm  # the second Email was served from the cache
    assert again.sender == Address.parse(TEXTS[1])
    assert message_module._PARSED[TEXTS[0]] is again.to[0]


@pytest.mark.usefixtures("empty_caches")
def test_invalid_addresses_are_reported_by_position_every_time() -> None:
    Email(sender="s@example.com", to=["a@example.com", "b@example.com"])  # both cached now
    for _ in range(2):
        with invalid(AddressError, "to[2]", "address-syntax"):
            Email(sender="s@example.com", to=["a@example.com", "b@example.com", "broken"])
        with invalid(AddressError, "cc[0]", "address-syntax"):
            Email(sender="s@example.com", to="a@example.com", cc=("broken",))
        with invalid(AddressError, "sender", "address-syntax"):
            Email(sender="broken", to="a@example.com")
    assert "broken" not in message_module._PARSED


@pytest.mark.usefixtures("empty_caches")
def test_mixed_recipient_lists_keep_their_order_and_types() -> None:
    Email(sender="s@example.com", to="known@example.com")
    given = Address(email="given@example.com", name="Given")
    email = Email(
        sender="s@example.com",
        to=["known@example.com", given, "new@example.com"],
        bcc=(f"b{i}@example.com" for i in range(2)),
    )
    assert [a.email for a in email.to] == [
        "known@example.com",
        "given@example.com",
        "new@example.com",
    ]
    assert email.to[1] is given
    assert [a.email for a in email.bcc] == ["b0@example.com", "b1@example.com"]
    with pytest.raises(TypeError, match=r"to\[1\]: expected an Address or str, got list"):
        Email(sender="s@example.com", to=["known@example.com", ["x"]])  # type: ignore[list-item]


@pytest.mark.usefixtures("empty_caches")
def test_recipient_limits_hold_with_a_warm_cache() -> None:
    audience = [f"u{i}@example.com" for i in range(51)]
    Email(sender="s@example.com", to=audience[:50])  # every address cached
    with invalid(RecipientError, "to[50]", "max-recipients"):
        Email(sender="s@example.com", to=audience)
    with invalid(RecipientError, "cc[0]", "max-recipients"):
        Email(sender="s@example.com", to=audience[:50], cc=audience[:1])
    with invalid(RecipientError, "to", "min-recipients"):
        Email(sender="s@example.com", to=[])


@pytest.mark.usefixtures("empty_caches")
def test_address_cache_stays_bounded() -> None:
    limit = message_module._PARSED_MAX
    for start in range(0, limit + 100, 50):
        Email(sender="s@example.com", to=[f"u{i}@example.com" for i in range(start, start + 50)])
        assert len(message_module._PARSED) <= limit
    assert Email(sender="s@example.com", to="u0@example.com").to == (
        Address(email="u0@example.com"),
    )


@pytest.mark.usefixtures("empty_caches")
def test_cached_tags_equal_checked_ones_and_errors_still_name_the_tag() -> None:
    tags = {"campaign": "orders", "kind": "ship.ping@x"}
    first = Email(sender="s@example.com", to="a@example.com", tags=tags)
    again = Email(sender="s@example.com", to="a@example.com", tags=dict(tags))
    assert again.tags == (
        Tag(name="campaign", value="orders"),
        Tag(name="kind", value="ship.ping@x"),
    )
    assert again.tags[0] is first.tags[0]
    for _ in range(2):
        with invalid(TagError, "tags['a b']", "tag-charset"):
            Email(sender="s@example.com", to="a@example.com", tags={**tags, "a b": "v"})
        with invalid(TagError, "tags['campaign']", "tag-empty"):
            Email(sender="s@example.com", to="a@example.com", tags={"campaign": ""})
    assert "a b" not in message_module._TAGS
    assert "" not in message_module._TAGS["campaign"]
    with pytest.raises(TypeError):
        Email(sender="s@example.com", to="a@example.com", tags={"a": ["x"]})  # type: ignore[arg-type]


@pytest.mark.usefixtures("empty_caches")
def test_tag_cache_stays_bounded() -> None:
    limit = message_module._TAGS_MAX
    for start in range(0, limit + 100, 40):
        tags = {f"t{i}": "v" for i in range(start, start + 40)}
        Email(sender="s@example.com", to="a@example.com", tags=tags)
        assert sum(len(values) for values in message_module._TAGS.values()) <= limit


@pytest.mark.usefixtures("empty_caches")
def test_payloads_are_the_same_cold_and_warm() -> None:
    def build() -> Email:
        return Email(
            sender="Shop <shop@example.com>",
            to=["ana@example.com", "Bo <bo@example.com>"],
            cc="cy@example.com",
            subject="Zoë's order",
            text="t",
            html="<p>h</p>",
            tags={"campaign": "orders"},
        )

    cold = build()
    cold_payloads = (v1.send_email(cold), v2.send_email(cold))
    warm = build()
    assert (v1.send_email(warm), v2.send_email(warm)) == cold_payloads
    assert warm == cold


def test_email_refuses_every_change() -> None:
    email = Email(sender="s@example.com", to="a@example.com")
    with pytest.raises(dataclasses.FrozenInstanceError):
        email.to = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        email.extra = 1  # type: ignore[attr-defined]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del email.subject
    assert not hasattr(email, "__dict__")


def test_email_is_a_keyword_only_dataclass_value() -> None:
    email = Email(sender="s@example.com", to=["a@example.com"], tags={"k": "v"}, subject="Hi")
    same = Email(sender="s@example.com", to="a@example.com", tags={"k": "v"}, subject="Hi")
    assert email == same
    assert hash(email) == hash(same)
    assert email != dataclasses.replace(email, subject="Other")
    assert [f.name for f in dataclasses.fields(Email)] == list(message_module._EMAIL_FIELDS)
    assert repr(email).startswith("Email(sender=Address(email='s@example.com', name=None), to=(")
    parameters = inspect.signature(Email).parameters.values()
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)
    with pytest.raises(TypeError):
        Email("s@example.com", "a@example.com")  # type: ignore[call-arg]


def test_email_pickles_and_copies_to_an_equal_email() -> None:
    email = Email(
        sender="Shop <shop@example.com>",
        to="a@example.com",
        reply_to="r@example.com",
        subject="Hi",
        text="t",
        headers={"X-A": "1"},
        tags={"k": "v"},
        configuration_set="set",
        return_path="b@example.com",
    )
    for other in (
        pickle.loads(pickle.dumps(email)),
        pickle.loads(pickle.dumps(email, protocol=2)),
        copy.copy(email),
        copy.deepcopy(email),
    ):
        assert type(other) is Email
        assert other == email


def test_email_subclasses_get_checked_fields() -> None:
    class Tracked(Email):
        """A subclass with a __dict__ (so a layout of its own)."""

    tracked = Tracked(sender="s@example.com", to="a@example.com", subject="Hi")
    assert type(tracked) is Tracked
    assert (tracked.sender.email, tracked.subject) == ("s@example.com", "Hi")
    with invalid(RecipientError, "to", "min-recipients"):
        Tracked(sender="s@example.com")


def test_address_is_a_frozen_keyword_only_value_that_pickles() -> None:
    address = Address.parse("Zoë <zoe@bücher.example>")
    assert address == Address(email="zoe@xn--bcher-kva.example", name="Zoë")
    assert hash(address) == hash(Address(email="zoe@xn--bcher-kva.example", name="Zoë"))
    assert repr(address) == "Address(email='zoe@xn--bcher-kva.example', name='Zoë')"
    for other in (pickle.loads(pickle.dumps(address)), copy.copy(address), copy.deepcopy(address)):
        assert type(other) is Address
        assert (other.email, other.name, other.formatted) == (
            address.email,
            address.name,
            address.formatted,
        )
    assert dataclasses.replace(address, name="Zoe").formatted == "Zoe <zoe@xn--bcher-kva.example>"
    assert [f.name for f in dataclasses.fields(Address)] == ["email", "name", "formatted"]
    parameters = inspect.signature(Address).parameters.values()
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)
    with pytest.raises(dataclasses.FrozenInstanceError):
        address.email = "other@example.com"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        address.extra = 1  # type: ignore[attr-defined]
    with invalid(AddressError, "address", "address-syntax"):
        Address(email="broken")


def test_address_subclasses_get_checked_fields() -> None:
    class Contact(Address):
        """A subclass with a __dict__ (so a layout of its own)."""

    contact = Contact(email="a@example.com", name=" Ana ")
    assert type(contact) is Contact
    assert (contact.email, contact.name, contact.formatted) == (
        "a@example.com",
        "Ana",
        "Ana <a@example.com>",
    )


def test_tag_is_a_frozen_keyword_only_value_that_pickles() -> None:
    tag = Tag(name="ses:feedback-id-a", value="a.b@c")
    assert tag == Tag(name="ses:feedback-id-a", value="a.b@c")
    assert hash(tag) == hash(Tag(name="ses:feedback-id-a", value="a.b@c"))
    assert repr(tag) == "Tag(name='ses:feedback-id-a', value='a.b@c')"
    for other in (pickle.loads(pickle.dumps(tag)), copy.copy(tag), copy.deepcopy(tag)):
        assert type(other) is Tag
        assert other == tag
    assert dataclasses.replace(tag, value="x").value == "x"
    with pytest.raises(dataclasses.FrozenInstanceError):
        tag.value = "y"  # type: ignore[misc]
    with invalid(TagError, "tags['a b']", "tag-charset"):
        dataclasses.replace(tag, name="a b")
    with pytest.raises(TypeError):
        Tag("a", "b")  # type: ignore[call-arg]


@pytest.mark.usefixtures("empty_caches")
def test_tags_from_any_mapping_or_tag_values_match_tags_from_a_dict() -> None:
    from types import MappingProxyType

    expected = (Tag(name="a", value="1"), Tag(name="b", value="2"))
    for tags in ({"a": "1", "b": "2"}, MappingProxyType({"a": "1", "b": "2"}), list(expected)):
        assert Email(sender="s@example.com", to="a@example.com", tags=tags).tags == expected


def test_bulk_entry_is_a_frozen_value_that_pickles() -> None:
    entry = BulkEntry(
        to=["a@example.com", "b@example.com"],
        replacement_data={"name": "Zoë"},
        tags={"k": "v"},
        headers={"X-A": "1"},
    )
    assert repr(entry).startswith("BulkEntry(to=(Address(email='a@example.com', name=None),")
    for other in (pickle.loads(pickle.dumps(entry)), copy.copy(entry), copy.deepcopy(entry)):
        assert type(other) is BulkEntry
        assert other == entry
    assert hash(entry) == hash(copy.copy(entry))
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.replacement_data = "{}"  # type: ignore[misc]
    with invalid(RecipientError, "to", "min-recipients"):
        dataclasses.replace(entry, to=())


_BACKTRACKING_SIMPLE_ADDR_RE = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9_-]{1,63}\.)*[A-Za-z0-9_-]{1,63}"
)
_ADDRESS_ALPHABET = 'aZ09._-+@!~ ("é'


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=_ADDRESS_ALPHABET, max_size=30),
        st.builds(
            lambda local, labels: local + "@" + ".".join(labels),
            st.text(alphabet=_ADDRESS_ALPHABET, min_size=1, max_size=10),
            st.lists(st.text(alphabet="ab-_9.", min_size=0, max_size=70), min_size=1, max_size=4),
        ),
    )
)
def test_fast_address_check_accepts_only_what_the_full_check_leaves_unchanged(text: str) -> None:
    fast = message_module._SIMPLE_ADDR_RE.fullmatch(text) is not None
    assert fast == (_BACKTRACKING_SIMPLE_ADDR_RE.fullmatch(text) is not None)
    if fast:
        assert rules.normalize_addr_spec(text, field="to") == text


def test_empty_values_of_any_kind_mean_none_and_an_empty_string_is_an_address() -> None:
    email = Email(
        sender="s@example.com",
        to=["a@example.com"],
        cc=None,  # type: ignore[arg-type]
        bcc=set(),
        reply_to=[],
        headers=None,  # type: ignore[arg-type]
        attachments=[],
        tags=None,  # type: ignore[arg-type]
    )
    assert (email.cc, email.bcc, email.reply_to, email.headers, email.attachments, email.tags) == (
        (),
        (),
        (),
        (),
        (),
        (),
    )
    entry = BulkEntry(to="a@example.com", cc=None, tags={}, headers=None)  # type: ignore[arg-type]
    assert (entry.cc, entry.tags, entry.headers) == ((), (), ())
    with invalid(AddressError, "cc[0]", "address-syntax"):
        Email(sender="s@example.com", to="a@example.com", cc="")
