"""A record deleted from the store is let go by the event log, whose reads do not change."""

from __future__ import annotations

import base64
import copy
import gc
import weakref
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from emulator import events
from emulator.config import Settings
from emulator.events import EventLog
from emulator.ses.state import Backend
from emulator.sns import EventPublisher
from emulator.store import MessageRecord

SIM = "simulator.amazonses.com"
RAW = (
    b"From: Sender <sender@example.com>\r\nTo: a@example.net\r\n"
    b"Subject: Hello\r\nDate: Thu, 01 Jan 2026 00:00:00 +0000\r\n\r\nbody\r\n"
)
VIRUS = (
    b'From: sender@example.com\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
    b"--b\r\nContent-Type: application/octet-stream\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n"
    + base64.encodebytes(events.EICAR_SIGNATURE).replace(b"\n", b"\r\n")
    + b"--b--\r\n"
)
ACCOUNTS = ("111111111111", "222222222222")
# What becomes of the recipients: from one event (Send) up to seven.
SHAPES: dict[str, dict[str, Any]] = {
    "delivered": {"recipients": ("a@example.net",)},
    "mixed": {
        "recipients": (f"bounce@{SIM}", f"complaint@{SIM}", f"ooto@{SIM}", "x@example.net"),
        "outcomes": {
            f"bounce@{SIM}": "bounce",
            f"complaint@{SIM}": "complaint",
            f"ooto@{SIM}": "ooto",
            "x@example.net": "suppressed",
        },
    },
    "virus": {"recipients": (f"bounce@{SIM}", "a@example.net"), "raw": VIRUS},
    "rendering failure": {"status": "rendering_failure", "rendering_error": "no name"},
    "no recipient": {"recipients": ()},
}


class _Record(MessageRecord):
    """A record a weak reference can watch (MessageRecord's slots leave no room for one)."""

    __slots__ = ("__weakref__",)


def _record(message_id: str, shape: str = "mixed", account: str = ACCOUNTS[0]) -> MessageRecord:
    values: dict[str, Any] = {
        "id": message_id,
        "account": account,
        "region": "eu-west-1",
        "api": "v2",
        "operation": "SendEmail",
        "kind": "simple",
        "timestamp": 1_767_225_600.25,
        "source": "sender@example.com",
        "envelope_from": "sender@example.com",
        "raw": RAW,
        "deferred_events": events.deferred_marker(ooto_transient_bounce=True),
        **SHAPES[shape],
    }
    return _Record(**values)


def _read(log: EventLog, **filters: Any) -> list[dict[str, Any]]:
    return [logged.to_json() for logged in log.select(**filters)]


def test_a_released_record_is_freed_and_its_events_read_the_same() -> None:
    log = EventLog()
    records = [_record(f"m{i}", shape) for i, shape in enumerate(SHAPES)]
    for record in records:
        log.add_deferred(record)
    open_event = events.on_request(records[0], "Open", now=1_767_225_700.0)
    log.add(records[0], open_event, id="open-1")
    before = _read(log)
    virus_before = _read(log, message_id="m2")
    refs = [weakref.ref(record) for record in records]

    log.release_records(["m0", "m2", "unknown"])
    del records, record  # the test's own references
    gc.collect()

    assert [ref() is None for ref in refs] == [True, False, True, False, False]
    assert _read(log) == before
    assert _read(log) == before  # and on every later read
    assert _read(log, message_id="m2") == virus_before
    assert [e["type"] for e in virus_before] == ["Send", "Reject"]
    assert [e["id"] for e in _read(log, message_id="m0")] == [
        events.event_id("m0", 0),  # Send
        events.event_id("m0", 1),  # Delivery
        "open-1",
    ]
    assert len(log) == len(before)

    log.release_records()  # every record
    gc.collect()
    assert all(ref() is None for ref in refs)
    assert _read(log) == before
    assert _read(log, event_type="Bounce", account=ACCOUNTS[0]) == [
        e for e in before if e["type"] == "Bounce"
    ]


def test_a_record_logged_twice_is_released_from_both_entries() -> None:
    log = EventLog()
    record = _record("m1", "delivered")
    log.add_deferred(record)
    log.add_deferred(record)
    before = _read(log)
    ref = weakref.ref(record)

    log.release_records(["m1"])
    del record
    gc.collect()

    assert ref() is None
    assert _read(log) == before
    assert len(before) == 4


def test_the_publisher_forgets_a_reset_scope_whose_records_it_held() -> None:
    publisher = EventPublisher(Backend(Settings(region="eu-west-1")))
    publisher.backend.reset_listeners.append(publisher.reset)  # as emulator.sns.install does
    kept, reset = _record("m1", account=ACCOUNTS[0]), _record("m2", account=ACCOUNTS[1])
    for record in (kept, reset):
        record.deferred_events = None
        publisher.backend.store.add(record)
        publisher.on_record(record)
    ref = weakref.ref(reset)
    del reset, record

    publisher.backend.reset(ACCOUNTS[1], None)
    gc.collect()

    assert ref() is None
    assert {e["message_id"] for e in _read(publisher.log)} == {"m1"}


# --------------------------------------------------------------------------- property

LIMIT = 9
operations = st.lists(
    st.one_of(
        st.tuples(st.just("deferred"), st.sampled_from(list(SHAPES)), st.sampled_from(ACCOUNTS)),
        st.tuples(st.just("event"), st.integers(0, 30), st.sampled_from(ACCOUNTS)),
        st.tuples(st.just("release"), st.lists(st.integers(0, 30), max_size=4)),
        st.tuples(st.just("release all")),
        st.tuples(st.just("clear"), st.sampled_from(ACCOUNTS)),
        st.tuples(st.just("clear all")),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(operations)
def test_releasing_never_changes_what_the_log_shows(steps: list[tuple[Any, ...]]) -> None:
    """Two logs get the same adds and clears; only one is told of deleted records. Both must
    read the same after every step (window trimming and clear included), and every record the
    first was told of must be freed."""
    releasing, keeping = EventLog(limit=LIMIT), EventLog(limit=LIMIT)
    released: list[weakref.ref[MessageRecord]] = []
    live: dict[str, MessageRecord] = {}  # what the store still holds
    for number, (kind, *args) in enumerate(steps):
        if kind == "deferred":
            message_id = f"m{number}"
            live[message_id] = _record(message_id, args[0], args[1])
            releasing.add_deferred(live[message_id])
            keeping.add_deferred(copy.deepcopy(live[message_id]))
        elif kind == "event":
            about = _record(f"m{args[0]}", "delivered", args[1])
            event = events.on_request(about, "Click", now=1_767_225_700.0, link="https://e.com")
            releasing.add(about, event, id=f"click-{number}")
            keeping.add(about, event, id=f"click-{number}")
        elif kind in ("release", "release all"):
            known = [*live, "unknown"]
            doomed = [known[i % len(known)] for i in args[0]] if kind == "release" else list(live)
            released += [weakref.ref(live.pop(i)) for i in doomed if i in live]
            releasing.release_records(doomed if kind == "release" else None)
        else:
            account = args[0] if kind == "clear" else None
            releasing.clear(account=account)
            keeping.clear(account=account)
        assert _read(releasing) == _read(keeping)
        assert len(releasing) == len(keeping)
        for account in ACCOUNTS:
            assert _read(releasing, account=account) == _read(keeping, account=account)
    gc.collect()
    assert [ref() for ref in released if ref() is not None] == []
