"""Persistence: every AccountState field round-trips; foreign or corrupt data dirs are refused."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections import deque
from pathlib import Path

import pytest

from emulator.config import Settings
from emulator.persistence import (
    DB_FILENAME,
    SCHEMA_VERSION,
    DataDirError,
    decode_state,
    encode_state,
    open_data_dir,
)
from emulator.ses.state import (
    AccountState,
    Backend,
    ConfigurationSet,
    Identity,
    SuppressedDestination,
    Template,
)


def _populated(
    backend: Backend, account: str = "123456789012", region: str = "eu-west-1"
) -> AccountState:
    state = backend.account(account, region)
    state.identities["a@example.com"] = Identity(
        name="a@example.com",
        kind="EmailAddress",
        status="Pending",
        token="t",
        created=5.0,
        dkim_tokens=["k1", "k2"],
        notification_topics={"Bounce": "arn:aws:sns:x"},
        headers_in_notifications={"Bounce": True},
        tags=[{"Key": "k", "Value": "v"}],
    )
    state.identities["example.com"] = Identity(name="example.com", kind="Domain")
    state.templates["T1"] = Template(
        name="T1", subject="Hi {{n}}", text="t", html=None, created=7.5
    )
    state.configuration_sets["cs"] = ConfigurationSet(
        name="cs",
        sending_enabled=False,
        event_destinations={"d": {"Enabled": True, "Types": ["SEND"]}},
        tracking_options={"CustomRedirectDomain": "x.example.com"},
    )
    state.suppressed["b@example.com"] = SuppressedDestination(
        email="b@example.com", reason="COMPLAINT", last_update=9.0, message_id="m"
    )
    state.suppressed_reasons = ["BOUNCE"]
    state.sandbox_override = True
    state.max_send_rate_override = 3.5
    state.max_24h_send_override = 1000.0
    state.sending_enabled = False
    state.enforcement_status = "PROBATION"
    state.details = {"MailType": "TRANSACTIONAL", "WebsiteURL": "https://x.example"}
    state.review_status = "PENDING"
    state.review_case_id = "case-1"
    state.sent_window = deque([(100.0, 2), (101.5, 3)])
    state.bucket_tokens = -1.5
    state.bucket_updated = 101.5
    state.statistics = {900: {"DeliveryAttempts": 5, "Bounces": 1}, 1800: {"Rejects": 2}}
    return state


def _comparable(state: AccountState) -> dict[str, object]:
    return {f.name: getattr(state, f.name) for f in dataclasses.fields(state) if f.name != "lock"}


def test_every_state_field_round_trips_through_json() -> None:
    backend = Backend(Settings())
    state = _populated(backend)
    document = json.loads(json.dumps(encode_state(state)))
    restored = decode_state(document, Backend(Settings()))
    assert _comparable(restored) == _comparable(state)
    assert isinstance(restored.sent_window, deque)
    assert isinstance(restored.sent_window[0], tuple)
    assert set(restored.statistics) == {900, 1800}


def test_document_leaves_out_the_lock_and_the_profile() -> None:
    document = encode_state(Backend(Settings()).account())
    assert "lock" not in document
    assert "profile" not in document


def test_profile_comes_from_the_current_settings() -> None:
    document = encode_state(Backend(Settings(profile="sandbox")).account())
    restored = decode_state(document, Backend(Settings(profile="production")))
    assert restored.profile == Settings(profile="production").profile_values()


def test_unknown_fields_are_ignored_and_missing_fields_defaulted() -> None:
    document = encode_state(_populated(Backend(Settings())))
    document["field_from_the_future"] = {"x": 1}
    document["identities"]["a@example.com"]["future_identity_field"] = 3
    del document["statistics"]
    del document["identities"]["a@example.com"]["dkim_tokens"]
    restored = decode_state(document, Backend(Settings()))
    assert restored.statistics == {}
    assert restored.identities["a@example.com"].dkim_tokens == []
    assert restored.identities["a@example.com"].token == "t"


def test_state_survives_closing_and_reopening_the_data_dir(tmp_path: Path) -> None:
    messages, states = open_data_dir(tmp_path)
    backend = Backend(Settings(), store=messages)
    original = _populated(backend)
    _populated(backend, account="000000000000", region="us-east-1")
    states.save_all(backend)
    messages.close()

    messages2, states2 = open_data_dir(tmp_path)
    fresh = Backend(Settings(), store=messages2)
    assert states2.load(fresh) == 2
    assert _comparable(fresh.account("123456789012", "eu-west-1")) == _comparable(original)
    assert {(s.account_id, s.region) for s in fresh.accounts()} == {
        ("123456789012", "eu-west-1"),
        ("000000000000", "us-east-1"),
    }


def test_save_is_an_upsert_of_one_document(tmp_path: Path) -> None:
    messages, states = open_data_dir(tmp_path)
    backend = Backend(Settings(), store=messages)
    state = backend.account()
    states.save(state)
    state.templates["T"] = Template(name="T")
    states.save(state)
    assert states.keys() == [("000000000000", "us-east-1")]
    fresh = Backend(Settings())
    states.load(fresh)
    assert list(fresh.account().templates) == ["T"]


def test_save_all_drops_states_that_were_reset(tmp_path: Path) -> None:
    messages, states = open_data_dir(tmp_path)
    backend = Backend(Settings(), store=messages)
    backend.account("111111111111")
    backend.account("222222222222")
    states.save_all(backend)
    backend.reset(account_id="111111111111")
    states.save_all(backend)
    assert states.keys() == [("222222222222", "us-east-1")]
    assert states.delete() == 1
    assert states.keys() == []


def test_settings_pre_verified_identities_are_merged_into_a_loaded_state(tmp_path: Path) -> None:
    messages, states = open_data_dir(tmp_path)
    backend = Backend(Settings(), store=messages)
    backend.account().templates["T"] = Template(name="T")
    states.save(backend.account())
    fresh = Backend(Settings(verified_identities=("new@example.com",)))
    states.load(fresh)
    assert set(fresh.account().identities) == {"new@example.com"}
    assert set(fresh.account().templates) == {"T"}


def test_new_data_dir_records_the_schema_version(tmp_path: Path) -> None:
    open_data_dir(tmp_path / "nested" / "dir")[0].close()
    conn = sqlite3.connect(tmp_path / "nested" / "dir" / DB_FILENAME)
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]


# --- refusing what is not ours -------------------------------------------------------------


def test_a_file_where_the_dir_should_be_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "data"
    target.write_text("not a directory")
    with pytest.raises(DataDirError) as exc:
        open_data_dir(target)
    assert exc.value.path == str(target)
    assert "not a directory" in str(exc.value)
    assert target.read_text() == "not a directory"


def test_a_database_file_that_is_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / DB_FILENAME
    db.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(DataDirError) as exc:
        open_data_dir(tmp_path)
    assert exc.value.path == str(db)
    assert "not an SQLite database" in exc.value.problem
    assert db.read_bytes() == b"\x00garbage" * 100


def test_a_truncated_database_is_refused(tmp_path: Path) -> None:
    messages, states = open_data_dir(tmp_path)
    states.save(Backend(Settings()).account())
    messages.close()
    db = tmp_path / DB_FILENAME
    db.write_bytes(db.read_bytes()[:600])
    with pytest.raises(DataDirError) as exc:
        open_data_dir(tmp_path)
    assert exc.value.path == str(db)


def test_a_foreign_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / DB_FILENAME
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE customers (id INTEGER, name TEXT)")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    with pytest.raises(DataDirError) as exc:
        open_data_dir(tmp_path)
    assert "customers" in exc.value.problem
    assert db.read_bytes() == before


def test_a_newer_schema_version_is_refused(tmp_path: Path) -> None:
    open_data_dir(tmp_path)[0].close()
    conn = sqlite3.connect(tmp_path / DB_FILENAME)
    conn.execute("UPDATE schema_version SET version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(DataDirError, match="schema version 99"):
        open_data_dir(tmp_path)


def test_an_unreadable_state_document_stops_loading(tmp_path: Path) -> None:
    messages, states = open_data_dir(tmp_path)
    states.save(Backend(Settings()).account())
    with messages.lock:
        messages.connection.execute(
            "UPDATE state SET document = ?",
            (json.dumps({"account_id": "000000000000", "region": "us-east-1", "sent_window": 5}),),
        )
    with pytest.raises(DataDirError) as exc:
        states.load(Backend(Settings()))
    assert "account 000000000000 region us-east-1" in exc.value.problem
    assert "sent_window" in exc.value.problem
