"""Events no route can take are generated when read, identical to published ones (issue #8)."""

from __future__ import annotations

from typing import Any

import pytest

from emulator import events
from emulator.config import Settings
from emulator.events import EventLog
from emulator.inspect import message_json
from emulator.ses.state import Backend, ConfigurationSet, Identity
from emulator.sns import EventPublisher
from emulator.sqlite_store import SqliteMessageStore
from emulator.store import DeferredEvents, MessageRecord, MessageStore

SIM = "simulator.amazonses.com"
RAW = (
    b"From: Sender <sender@example.com>\r\nTo: a@example.net\r\n"
    b"Subject: Hello\r\nDate: Thu, 01 Jan 2026 00:00:00 +0000\r\n\r\nbody\r\n"
)
ACCOUNT, REGION = "123456789012", "eu-west-1"
# Every generated type but Reject and Rendering Failure, with a feedback id on each bounce.
MIXED = {
    f"complaint@{SIM}": "complaint",
    f"bounce@{SIM}": "bounce",
    f"suppressionlist@{SIM}": "suppressed",
    "x@example.net": "suppressed",
    f"ooto@{SIM}": "ooto",
}


def _record(message_id: str = "0100abc-1-000000", **overrides: Any) -> MessageRecord:
    values: dict[str, Any] = {
        "id": message_id,
        "account": ACCOUNT,
        "region": REGION,
        "api": "v2",
        "operation": "SendEmail",
        "kind": "simple",
        "timestamp": 1_767_225_600.25,
        "source": "Sender <sender@example.com>",
        "envelope_from": "sender@example.com",
        "recipients": tuple(MIXED),
        "outcomes": dict(MIXED),
        "raw": RAW,
    }
    values.update(overrides)
    return MessageRecord(**values)


def _publisher(store: MessageStore | None = None, **settings: Any) -> EventPublisher:
    backend = Backend(Settings(region=REGION, default_account=ACCOUNT, **settings), store=store)
    return EventPublisher(backend)


def _send(publisher: EventPublisher, record: MessageRecord) -> MessageRecord:
    """What the send pipeline does: store the record, then call the listener."""
    publisher.backend.store.add(record)
    publisher.on_record(record)
    stored = publisher.backend.store.get(record.id)
    assert stored is not None
    return stored


def _log(publisher: EventPublisher, **filters: Any) -> list[dict[str, Any]]:
    return [logged.to_json() for logged in publisher.log.select(**filters)]


@pytest.mark.parametrize("ooto_transient_bounce", [False, True])
def test_deferred_events_read_exactly_as_the_published_ones_would(
    ooto_transient_bounce: bool,
) -> None:
    # The SQLite store gets its events generated at send time: the reference to compare with.
    deferring = _publisher(ooto_transient_bounce=ooto_transient_bounce)
    eager = _publisher(SqliteMessageStore(":memory:"), ooto_transient_bounce=ooto_transient_bounce)

    lazy_record = _send(deferring, _record())
    eager_record = _send(eager, _record())

    assert lazy_record.events == ()
    assert lazy_record.deferred_events == DeferredEvents(
        ooto_transient_bounce=ooto_transient_bounce
    )
    assert eager_record.deferred_events is None
    published = list(eager_record.events)
    expected_types = ["Send", "Delivery", "Bounce", "Bounce", "Bounce", "Complaint"]
    if ooto_transient_bounce:
        expected_types.append("Bounce")
    assert [e["type"] for e in published] == expected_types
    assert events.record_events(lazy_record) == published
    assert events.record_events(lazy_record) == published  # the same on every read
    assert message_json(lazy_record)["events"] == message_json(eager_record)["events"]
    assert _log(deferring) == _log(eager) == published
    assert [e["id"] for e in published] == [
        events.event_id(lazy_record.id, index) for index in range(len(published))
    ]


def test_a_message_a_route_can_take_is_published_when_sent() -> None:
    publisher = _publisher()
    state = publisher.backend.account(ACCOUNT, REGION)
    state.identities["example.com"] = Identity(
        name="example.com",
        kind="Domain",
        notification_topics={"Bounce": f"arn:aws:sns:{REGION}:{ACCOUNT}:bounces"},
    )

    record = _send(publisher, _record(envelope_from="sender@example.com"))

    assert record.deferred_events is None
    bounces = [e for e in record.events if e["type"] == "Bounce"]
    assert [route["topic_arn"] for route in bounces[0]["published"]] == [
        f"arn:aws:sns:{REGION}:{ACCOUNT}:bounces"
    ]
    assert events.record_events(record) == list(record.events)
    assert [e["id"] for e in record.events] == [
        events.event_id(record.id, index) for index in range(len(record.events))
    ]


def test_only_an_enabled_sns_destination_or_a_notification_topic_makes_a_route() -> None:
    state = Backend(Settings()).account(ACCOUNT, REGION)
    state.configuration_sets["cs"] = ConfigurationSet(
        name="cs",
        event_destinations={
            "off": {
                "Enabled": False,
                "MatchingEventTypes": ["SEND"],
                "SnsDestination": {"TopicArn": "arn:aws:sns:eu-west-1:1:t"},
            },
            "cloudwatch": {
                "Enabled": True,
                "MatchingEventTypes": ["SEND"],
                "CloudWatchDestination": {"DimensionConfigurations": []},
            },
        },
    )
    in_set = _record(configuration_set="cs")

    assert not events.routable(_record(), state)
    assert not events.routable(in_set, state)
    assert not events.routable(in_set, None)
    state.configuration_sets["cs"].event_destinations["off"]["Enabled"] = True
    assert events.routable(in_set, state)
    assert not events.routable(_record(), state)
    state.identities["sender@example.com"] = Identity(
        name="sender@example.com", kind="EmailAddress", notification_topics={}
    )
    assert not events.routable(_record(), state)
    state.identities["sender@example.com"].notification_topics["Delivery"] = "arn:aws:sns:x:1:d"
    assert events.routable(_record(), state)


def test_events_noted_later_follow_the_deferred_ones() -> None:
    publisher = _publisher()
    record = _send(publisher, _record(recipients=("a@example.net",), outcomes={}))
    record.add_event({"type": "relay", "status": "sent"})
    click = events.on_request(record, "Click", now=record.timestamp + 60, link="https://e.com")

    logged = publisher.publish(record, click)

    assert [e["type"] for e in events.record_events(record)] == [
        "Send",
        "Delivery",
        "relay",
        "Click",
    ]
    assert [e["type"] for e in _log(publisher)] == ["Send", "Delivery", "Click"]
    assert _log(publisher, message_id=record.id)[-1] == logged.to_json()


def test_generated_ids_derive_from_the_message_and_position_only() -> None:
    first = events.generate(_record())
    again = events.generate(_record())
    other = events.generate(_record("0100abc-2-000000"))

    feedback = [e.detail["feedbackId"] for e in first if "feedbackId" in e.detail]
    assert len(set(feedback)) == 4  # three bounces and the complaint, each its own
    assert feedback == [e.detail["feedbackId"] for e in again if "feedbackId" in e.detail]
    assert not set(feedback) & {e.detail.get("feedbackId") for e in other}
    assert events.event_id("m", 0) == events.event_id("m", 0)
    assert len({events.event_id("m", 0), events.event_id("m", 1), events.event_id("n", 0)}) == 3
    asked = [events.on_request(_record(), "Bounce", now=1.0).detail["feedbackId"] for _ in range(2)]
    assert asked[0] != asked[1]  # an event made on request is new each time


def test_the_log_keeps_the_newest_events_across_deferred_entries() -> None:
    log = EventLog(limit=3)
    marker = events.deferred_marker(ooto_transient_bounce=False)
    old = _record("m1", recipients=("a@example.net",), outcomes={}, deferred_events=marker)
    other = _record("m3", account="210987654321", recipients=("a@example.net",), outcomes={})
    other.deferred_events = marker
    log.add_deferred(old)  # Send, Delivery
    single = events.on_request(old, "Open", now=old.timestamp + 5)
    log.add(_record("m2"), single, id="open-1")
    log.add_deferred(other)  # Send, Delivery

    # The newest three: the Open and m3's two; m1's fell out.
    assert len(log) == 3
    assert [(e.message_id, e.event.type) for e in log.select()] == [
        ("m2", "Open"),
        ("m3", "Send"),
        ("m3", "Delivery"),
    ]
    assert [e.id for e in log.select(message_id="m3")] == [
        events.event_id("m3", 0),
        events.event_id("m3", 1),
    ]
    assert [e.message_id for e in log.select(event_type="Delivery")] == ["m3"]
    assert log.select(message_id="m1") == []

    log.clear(account="210987654321")
    assert [(e.message_id, e.event.type) for e in log.select()] == [("m2", "Open")]
    log.add_deferred(old)
    log.add_deferred(other)  # pushes out the Open and m1's Send
    log.clear(account="210987654321")
    assert [(e.message_id, e.event.type) for e in log.select()] == [("m1", "Delivery")]
    assert len(log) == 1
    log.clear()
    assert (len(log), log.select()) == (0, [])
    with pytest.raises(ValueError, match="deferred_events is not set"):
        log.add_deferred(_record("m4"))


@pytest.mark.parametrize(
    ("overrides", "ooto_transient_bounce"),
    [
        ({}, False),
        ({}, True),
        ({"recipients": ("a@example.net",), "outcomes": {}}, False),
        ({"status": "rendering_failure", "rendering_error": "missing name"}, False),
        ({"raw": RAW + events.EICAR_SIGNATURE}, True),  # Send, Reject: no bounces
        ({"raw": RAW + events.EICAR_SIGNATURE, "recipients": ("a@example.net",)}, False),
    ],
)
def test_the_log_counts_a_deferred_entry_as_the_events_it_generates(
    overrides: dict[str, Any], ooto_transient_bounce: bool
) -> None:
    record = _record(**overrides)
    record.deferred_events = events.deferred_marker(ooto_transient_bounce=ooto_transient_bounce)
    generated = events.generate(record, ooto_transient_bounce=ooto_transient_bounce)
    log = EventLog()
    log.add_deferred(record)

    assert len(log) == len(generated)  # counted without generating
    assert [e.event for e in log.select()] == generated
