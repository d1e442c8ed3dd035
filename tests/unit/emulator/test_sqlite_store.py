"""SqliteMessageStore: the MessageStore contract, durability across SIGKILL, foreign files."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from emulator import events
from emulator.sqlite_store import SqliteMessageStore, StoreError
from emulator.store import (
    DeferredEvents,
    InMemoryStore,
    MessageRecord,
    MessageStore,
    Outcomes,
)


def _record(n: int, *, account: str = "111111111111", region: str = "us-east-1") -> MessageRecord:
    return MessageRecord(
        id=f"msg-{n:04d}",
        account=account,
        region=region,
        api="v2",
        operation="SendEmail",
        kind="simple",
        timestamp=1_700_000_000.0 + n,
        source="Sender <s@example.com>",
        envelope_from="s@example.com",
        to=(f"a{n}@example.com",),
        cc=(f"Cc <c{n}@example.com>",),
        bcc=("b@example.com",),
        recipients=(f"a{n}@example.com", f"c{n}@example.com", "b@example.com"),
        reply_to=("r@example.com", "s@example.com"),
        subject=f"subject {n} ✓",
        raw=b"From: s@example.com\r\nSubject: x\r\n\r\nbody \xff\x00",
        tags=(("campaign", "c1"), ("n", str(n))),
        outcomes={f"a{n}@example.com": "delivered"},
        events=({"eventType": "Send", "n": n},),
    )


@pytest.fixture
def store(tmp_path: Path) -> SqliteMessageStore:
    return SqliteMessageStore(tmp_path / "emulator.sqlite3")


def test_sqlite_store_satisfies_the_protocol(store: SqliteMessageStore) -> None:
    typed: MessageStore = store
    assert len(typed) == 0


def test_added_record_comes_back_field_for_field(store: SqliteMessageStore) -> None:
    record = _record(1)
    store.add(record)
    assert store.get("msg-0001") == record
    assert store.get("missing") is None


def test_sequence_fields_are_stored_as_json_lists_and_read_back_as_tuples(
    store: SqliteMessageStore,
) -> None:
    # The JSON is what emulators that kept these fields as lists wrote, so their databases load.
    store.add(_record(1))
    with store.lock:
        (stored,) = store.connection.execute("SELECT fields FROM messages").fetchone()
    fields = json.loads(stored)
    assert fields["cc"] == ["Cc <c1@example.com>"]
    assert fields["tags"] == [["campaign", "c1"], ["n", "1"]]
    assert fields["events"] == [{"eventType": "Send", "n": 1}]

    again = store.get("msg-0001")

    assert again is not None
    for name in ("to", "cc", "bcc", "recipients", "reply_to", "tags", "events"):
        assert type(getattr(again, name)) is tuple, name
    assert again.tags == (("campaign", "c1"), ("n", "1"))
    assert again.events == ({"eventType": "Send", "n": 1},)


def test_the_send_pipeline_s_outcomes_read_back_as_the_same_mapping(
    store: SqliteMessageStore,
) -> None:
    record = _record(1)
    record.outcomes = Outcomes(record.recipients, ("delivered", "bounce", "delivered"))
    store.add(record)

    again = store.get("msg-0001")

    assert again is not None
    assert again.outcomes == {
        "a1@example.com": "delivered",
        "c1@example.com": "bounce",
        "b@example.com": "delivered",
    }
    assert again == record


def test_records_iterate_in_insertion_order_with_filters(store: SqliteMessageStore) -> None:
    for n in range(600):  # more than one iteration page
        store.add(
            _record(n, account="A" if n % 3 else "B", region="eu-west-1" if n % 2 else "us-east-1")
        )
    assert [r.id for r in store.iter()] == [f"msg-{n:04d}" for n in range(600)]
    only_b = [r.id for r in store.iter(account="B")]
    assert only_b == [f"msg-{n:04d}" for n in range(600) if n % 3 == 0]
    b_eu = list(store.iter(account="B", region="eu-west-1"))
    assert all(r.account == "B" and r.region == "eu-west-1" for r in b_eu)
    assert len(b_eu) == 100


def test_update_persists_changes_and_ignores_unknown_ids(store: SqliteMessageStore) -> None:
    record = _record(1)
    store.add(record)
    record.add_event({"eventType": "Delivery"})
    record.status = "rendering_failure"
    store.update(record)
    store.update(_record(2))  # never added
    again = store.get("msg-0001")
    assert again is not None
    assert again.events[-1] == {"eventType": "Delivery"}
    assert again.status == "rendering_failure"
    assert len(store) == 1


def test_delete_and_clear_match_the_in_memory_store(store: SqliteMessageStore) -> None:
    memory = InMemoryStore()
    for target in (store, memory):
        for n in range(10):
            target.add(_record(n, account="A" if n < 6 else "B"))
    for target in (store, memory):
        assert target.delete("msg-0000") is True
        assert target.delete("msg-0000") is False
        assert target.clear(account="B") == 4
        assert target.clear(region="nowhere") == 0
        assert len(target) == 5
    assert [r.id for r in store.iter()] == [r.id for r in memory.iter()]
    assert store.clear() == 5
    assert len(store) == 0


def test_records_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    first = SqliteMessageStore(path)
    first.add(_record(7))
    first.close()
    assert SqliteMessageStore(path).get("msg-0007") == _record(7)


def test_unknown_stored_fields_are_ignored_and_missing_ones_defaulted(
    store: SqliteMessageStore,
) -> None:
    store.add(_record(1))
    with store.lock:
        store.connection.execute(
            "UPDATE messages SET fields = ? WHERE id = ?",
            (
                '{"api":"v1","operation":"SendRawEmail","kind":"raw","source":"s@example.com",'
                '"envelope_from":"s@example.com","field_from_the_future":[1,2]}',
                "msg-0001",
            ),
        )
    record = store.get("msg-0001")
    assert record is not None
    assert (record.api, record.kind, record.tags, record.events) == ("v1", "raw", (), ())


def test_concurrent_adds_from_threads_are_all_kept(store: SqliteMessageStore) -> None:
    def worker(base: int) -> None:
        for n in range(base, base + 50):
            store.add(_record(n))

    threads = [threading.Thread(target=worker, args=(i * 50,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(store) == 400
    assert {r.id for r in store.iter()} == {f"msg-{n:04d}" for n in range(400)}


def test_wal_mode_is_on(store: SqliteMessageStore) -> None:
    with store.lock:
        assert store.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        # 1 = NORMAL
        assert store.connection.execute("PRAGMA synchronous").fetchone()[0] == 1


_WRITER = """
import os, signal, sys
sys.path.insert(0, sys.argv[2])
from tests.unit.emulator.test_sqlite_store import _record
from emulator.sqlite_store import SqliteMessageStore
store = SqliteMessageStore(sys.argv[1])
for n in range(200):
    store.add(_record(n))
    print(n, flush=True)  # "acknowledged" only after add returned
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_every_acknowledged_add_survives_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "killed.sqlite3"
    proc = subprocess.run(
        [sys.executable, "-c", _WRITER, str(path), os.getcwd()],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL
    acknowledged = [int(line) for line in proc.stdout.split()]
    assert acknowledged == list(range(200))
    reopened = SqliteMessageStore(path)
    assert [r.id for r in reopened.iter()] == [f"msg-{n:04d}" for n in acknowledged]


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"these are not the bytes of a database, just some text\n" * 20)
    with pytest.raises(StoreError) as exc:
        SqliteMessageStore(path)
    assert exc.value.path == str(path)
    assert "not an SQLite database" in str(exc.value)
    assert path.read_bytes().startswith(b"these are not")  # untouched


def test_a_foreign_messages_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "foreign.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE messages (id TEXT, body TEXT)")
    conn.execute("INSERT INTO messages VALUES ('x', 'y')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="was not written by the seskit emulator"):
        SqliteMessageStore(path)
    check = sqlite3.connect(path)
    assert check.execute("SELECT * FROM messages").fetchall() == [("x", "y")]


def test_a_record_with_deferred_events_reads_back_with_them(store: SqliteMessageStore) -> None:
    record = _record(3)
    record.events = ()
    record.deferred_events = events.deferred_marker(ooto_transient_bounce=True)
    store.add(record)

    again = store.get(record.id)

    assert again == record
    assert again is not None
    assert again.deferred_events == DeferredEvents(ooto_transient_bounce=True)
    assert [e["type"] for e in events.record_events(again)] == ["Send", "Delivery"]
    assert events.record_events(again) == events.record_events(record)
