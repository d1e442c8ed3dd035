"""MessageRecord: immutable address fields, the events noted on a record, its outcomes."""

from __future__ import annotations

import dataclasses
import gc
import sys

import pytest

from emulator.store import MessageRecord, Outcomes, PerMessage


def _record() -> MessageRecord:
    return MessageRecord(
        id="m-1",
        account="000000000000",
        region="us-east-1",
        api="v2",
        operation="SendEmail",
        kind="simple",
        timestamp=0.0,
        source="s@example.com",
        envelope_from="s@example.com",
    )


def test_absent_sequence_fields_are_empty_tuples() -> None:
    record = _record()
    assert (record.to, record.cc, record.bcc, record.recipients, record.reply_to) == ((),) * 5
    assert (record.tags, record.events) == ((), ())


def test_noted_events_keep_their_order_and_a_replacement_keeps_its_place() -> None:
    record = _record()
    record.add_event({"id": "a", "type": "Send"})
    record.add_event({"id": "b", "type": "Delivery"})
    record.add_event({"type": "relay", "status": "sent"})

    record.replace_event({"id": "a", "type": "Send", "published": ["sns"]})

    assert record.events == (
        {"id": "a", "type": "Send", "published": ["sns"]},
        {"id": "b", "type": "Delivery"},
        {"type": "relay", "status": "sent"},
    )


def test_outcomes_read_like_the_dict_of_recipient_to_outcome() -> None:
    outcomes = Outcomes(("a@x.com", "b@x.com", "c@x.com"), ("delivered", "bounce", "delivered"))

    assert outcomes == {"a@x.com": "delivered", "b@x.com": "bounce", "c@x.com": "delivered"}
    assert outcomes == {"a@x.com": "delivered", "b@x.com": "bounce", "c@x.com": "delivered"}
    assert list(outcomes) == ["a@x.com", "b@x.com", "c@x.com"]
    assert (len(outcomes), outcomes["b@x.com"], outcomes.get("z@x.com")) == (3, "bounce", None)
    assert "c@x.com" in outcomes
    assert "C@x.com" not in outcomes  # keys compare exactly, as a dict's do
    with pytest.raises(KeyError, match=r"z@x\.com"):
        outcomes["z@x.com"]
    assert repr(outcomes) == (
        "Outcomes({'a@x.com': 'delivered', 'b@x.com': 'bounce', 'c@x.com': 'delivered'})"
    )


def test_outcomes_shared_by_every_recipient_are_one_string() -> None:
    recipients = ("a@x.com", "b@x.com")
    same = Outcomes(recipients, ["delivered", "delivered"])
    assert dict(same) == {"a@x.com": "delivered", "b@x.com": "delivered"}
    # What issue 8 measures: nothing per message but the 48-byte object itself, which holds
    # the record's recipients tuple and the one outcome string.
    assert sys.getsizeof(same) <= 48
    held = [r for r in gc.get_referents(same) if not isinstance(r, type)]
    assert len(held) == 2
    assert held[0] is recipients or held[1] is recipients
    assert "delivered" in held
    assert dict(Outcomes((), ())) == {}


def test_a_recipient_listed_twice_keeps_its_first_outcome_once() -> None:
    outcomes = Outcomes(("a@x.com", "b@x.com", "a@x.com"), ("bounce", "delivered", "ooto"))
    assert list(outcomes.items()) == [("a@x.com", "bounce"), ("b@x.com", "delivered")]


def test_outcomes_need_one_outcome_per_recipient() -> None:
    with pytest.raises(ValueError, match=r"one per recipient \(2\), got 1"):
        Outcomes(("a@x.com", "b@x.com"), ("delivered",))


def test_a_per_message_answer_is_computed_once_per_id_and_the_memo_stays_bounded() -> None:
    computed: list[str] = []

    def compute(record: MessageRecord) -> int:
        computed.append(record.id)
        return len(record.id)

    memo = PerMessage(compute, max_entries=2)
    first, second, third = (dataclasses.replace(_record(), id=i) for i in ("a", "bb", "ccc"))
    assert [memo(first), memo(first), memo(second), memo(second)] == [1, 1, 2, 2]
    assert computed == ["a", "bb"]
    assert memo(third) == 3  # full: emptied, then the new answer kept
    assert [memo(third), memo(first)] == [3, 1]
    assert computed == ["a", "bb", "ccc", "a"]
