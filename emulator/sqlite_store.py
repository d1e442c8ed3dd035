"""`SqliteMessageStore`: the `emulator.store.MessageStore` interface kept in one SQLite file.

Used when the emulator runs with ``--data-dir``; the in-memory store stays the default.

Durability: the database runs in WAL mode with ``synchronous=NORMAL`` and every `add`,
`update`, `delete` and `clear` is committed before it returns. In WAL mode a committed
transaction is in the WAL file once ``COMMIT`` returns, so **an acknowledged send survives the
emulator process being killed (SIGKILL)**; what ``NORMAL`` gives up is durability of the last
transactions across an operating-system crash or power loss, which a local test tool does not
need to pay an fsync per message for (SQLite docs, "PRAGMA synchronous" and "Write-Ahead
Logging").

One table holds the messages: the columns the store filters and orders on (``id``,
``account``, ``region``, ``timestamp``, insertion ``seq``), the MIME message as a BLOB, and
every other `MessageRecord` field as one JSON document. Fields are read and written through
`dataclasses.fields`, so a field added to `MessageRecord` later is stored without a schema
change, and a stored field the code no longer knows is ignored on read.

Thread-safe: one connection shared under one lock (the emulator's loop thread and test code
calling the backend from another thread may both use it).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from emulator.store import DeferredEvents, MessageRecord

__all__ = ["MESSAGES_TABLE", "SqliteMessageStore", "StoreError", "connect"]

MESSAGES_TABLE = "messages"
_ITER_PAGE = 256  # rows fetched per query while iterating: bounded memory, short lock holds
_COLUMNS = ("id", "account", "region", "timestamp", "raw")
_RECORD_FIELDS = {f.name: f for f in dataclasses.fields(MessageRecord)}
# Stored as JSON lists (JSON has no tuple), restored as the tuples the record declares: every
# ``tuple[...]`` field, and for ``tuple[tuple[...]]`` (tags) each item too. Databases written
# when these fields were lists hold the same JSON.
_TUPLE_FIELDS = frozenset(
    name for name, f in _RECORD_FIELDS.items() if str(f.type).startswith("tuple[")
)
_PAIRS_FIELDS = frozenset(
    name for name, f in _RECORD_FIELDS.items() if str(f.type).startswith("tuple[tuple[")
)

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {MESSAGES_TABLE} (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    id        TEXT NOT NULL UNIQUE,
    account   TEXT NOT NULL,
    region    TEXT NOT NULL,
    timestamp REAL NOT NULL,
    raw       BLOB NOT NULL,
    fields    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS {MESSAGES_TABLE}_account_region
    ON {MESSAGES_TABLE} (account, region, seq);
CREATE INDEX IF NOT EXISTS {MESSAGES_TABLE}_timestamp ON {MESSAGES_TABLE} (timestamp);
"""


class StoreError(RuntimeError):
    """The database file cannot be used (not SQLite, unreadable, or a foreign schema)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def connect(path: str | Path) -> sqlite3.Connection:
    """Open ``path`` with the settings the emulator relies on (WAL, synchronous=NORMAL).

    Raises `StoreError` when the file is not an SQLite database.
    """
    try:
        conn = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=10.0
        )
    except sqlite3.Error as exc:
        raise StoreError(str(path), f"cannot open the database ({exc})") from exc
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(str(path), f"not an SQLite database ({exc})") from exc
    if str(mode).lower() != "wal" and str(path) != ":memory:":
        conn.close()
        raise StoreError(str(path), f"cannot switch the database to WAL mode (got {mode!r})")
    return conn


def _encode_fields(record: MessageRecord) -> str:
    data = {name: getattr(record, name) for name in _RECORD_FIELDS if name not in _COLUMNS}
    data["outcomes"] = dict(record.outcomes)  # an `Outcomes` is no dict to json
    deferred = record.deferred_events
    # Kept as an object, so the generated events come back on read (emulator.events).
    data["deferred_events"] = None if deferred is None else dataclasses.asdict(deferred)
    # default=str: an event payload holding a non-JSON value (a datetime) is kept as text
    # rather than failing an acknowledged send.
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=str)


def _decode(row: tuple[Any, ...]) -> MessageRecord:
    message_id, account, region, timestamp, raw, fields_json = row
    stored = json.loads(fields_json)
    kwargs: dict[str, Any] = {}
    for name, value in stored.items():
        if name not in _RECORD_FIELDS or name in _COLUMNS:
            continue  # a field an older or newer emulator wrote: keep what we understand
        if name in _PAIRS_FIELDS and isinstance(value, list):
            kwargs[name] = tuple(tuple(item) if isinstance(item, list) else item for item in value)
        elif name in _TUPLE_FIELDS and isinstance(value, list):
            kwargs[name] = tuple(value)
        elif name == "deferred_events":
            kwargs[name] = (
                DeferredEvents(ooto_transient_bounce=bool(value.get("ooto_transient_bounce")))
                if isinstance(value, dict)
                else None
            )
        else:
            kwargs[name] = value
    return MessageRecord(
        id=message_id,
        account=account,
        region=region,
        timestamp=timestamp,
        raw=bytes(raw),
        **kwargs,
    )


class SqliteMessageStore:
    """Accepted messages in the ``messages`` table of an SQLite database.

    >>> store = SqliteMessageStore(":memory:")  # or a file path; see emulator.persistence
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.connection = connect(path)
        # Shared with emulator.persistence.StateStore, which writes to the same file.
        self.lock = threading.RLock()
        expected = ["seq", *_COLUMNS[:4], "raw", "fields"]
        try:
            with self.lock:
                columns = [
                    r[1] for r in self.connection.execute(f"PRAGMA table_info({MESSAGES_TABLE})")
                ]
                if columns and columns != expected:
                    raise StoreError(
                        self.path,
                        f"table {MESSAGES_TABLE!r} has columns {columns}, expected {expected}: "
                        "this file was not written by the seskit emulator",
                    )
                self.connection.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            self.connection.close()
            raise StoreError(self.path, f"cannot create the messages table ({exc})") from exc
        except StoreError:
            self.connection.close()
            raise

    def add(self, record: MessageRecord) -> None:
        """Insert ``record`` (or replace one with the same id); committed on return."""
        with self.lock:
            self.connection.execute(
                f"INSERT INTO {MESSAGES_TABLE} (id, account, region, timestamp, raw, fields) "
                "VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET account=excluded.account, "
                "region=excluded.region, timestamp=excluded.timestamp, raw=excluded.raw, "
                "fields=excluded.fields",
                (
                    record.id,
                    record.account,
                    record.region,
                    record.timestamp,
                    record.raw,
                    _encode_fields(record),
                ),
            )

    def get(self, message_id: str) -> MessageRecord | None:
        with self.lock:
            row = self.connection.execute(
                f"SELECT id, account, region, timestamp, raw, fields FROM {MESSAGES_TABLE} "
                "WHERE id = ?",
                (message_id,),
            ).fetchone()
        return None if row is None else _decode(row)

    def update(self, record: MessageRecord) -> None:
        """Persist changes to a record already added; unknown ids are ignored (as in memory)."""
        with self.lock:
            self.connection.execute(
                f"UPDATE {MESSAGES_TABLE} SET account=?, region=?, timestamp=?, raw=?, fields=? "
                "WHERE id = ?",
                (
                    record.account,
                    record.region,
                    record.timestamp,
                    record.raw,
                    _encode_fields(record),
                    record.id,
                ),
            )

    def iter(
        self, *, account: str | None = None, region: str | None = None
    ) -> Iterator[MessageRecord]:
        """Records in the order they were added, fetched a page at a time."""
        where, args = _filters(account, region)
        last = 0
        while True:
            with self.lock:
                rows = self.connection.execute(
                    f"SELECT seq, id, account, region, timestamp, raw, fields "
                    f"FROM {MESSAGES_TABLE} WHERE seq > ?{where} ORDER BY seq LIMIT ?",
                    (last, *args, _ITER_PAGE),
                ).fetchall()
            for row in rows:
                yield _decode(row[1:])
            if len(rows) < _ITER_PAGE:
                return
            last = rows[-1][0]

    def delete(self, message_id: str) -> bool:
        with self.lock:
            cursor = self.connection.execute(
                f"DELETE FROM {MESSAGES_TABLE} WHERE id = ?", (message_id,)
            )
            return cursor.rowcount > 0

    def clear(self, *, account: str | None = None, region: str | None = None) -> int:
        where, args = _filters(account, region)
        with self.lock:
            cursor = self.connection.execute(f"DELETE FROM {MESSAGES_TABLE} WHERE 1=1{where}", args)
            return cursor.rowcount

    def __len__(self) -> int:
        with self.lock:
            return int(
                self.connection.execute(f"SELECT COUNT(*) FROM {MESSAGES_TABLE}").fetchone()[0]
            )

    def close(self) -> None:
        """Close the connection (checkpointing the WAL into the main file)."""
        with self.lock:
            self.connection.close()


def _filters(account: str | None, region: str | None) -> tuple[str, tuple[str, ...]]:
    clauses = []
    args: list[str] = []
    if account is not None:
        clauses.append(" AND account = ?")
        args.append(account)
    if region is not None:
        clauses.append(" AND region = ?")
        args.append(region)
    return "".join(clauses), tuple(args)
