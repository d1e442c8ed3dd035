"""MessageRecord: immutable address fields, and the events noted on a record."""

from __future__ import annotations

from emulator.store import MessageRecord


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
