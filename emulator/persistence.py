"""Durable emulator state for ``--data-dir DIR``: messages and every account's SES state.

Everything lives in one SQLite database, ``DIR/emulator.sqlite3`` (WAL mode, see
`emulator.sqlite_store` for the durability argument):

* ``messages`` — accepted messages (`SqliteMessageStore`);
* ``state`` — one JSON document per (account, region): the `AccountState` with its identities,
  templates, configuration sets, suppression list, account settings and overrides, review
  status, the rolling 24-hour quota window and the send statistics;
* ``schema_version`` — one row, `SCHEMA_VERSION`, so a later emulator can migrate or refuse.

`StateStore.save` is one upsert of one document and is called after every mutating request, so
an acknowledged change survives a killed process. `StateStore.load` puts the saved states back
into a fresh `Backend` at start-up.

The documents are written generically from ``dataclasses.fields`` and read back by walking the
type hints, so a field added to a state dataclass later is saved without touching this module,
a saved field the code no longer has is ignored, and a field missing from an old document gets
its default. Two fields are not saved: ``lock`` (a runtime object) and ``profile`` (it comes
from the settings the emulator is started with; the run-time overrides *are* saved).

Nothing is ever silently overwritten: a data dir that is a file, a database that is not SQLite,
one written by something else or by a newer schema, or a state document that cannot be read
stops start-up with a `DataDirError` naming the path and the problem.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import json
import logging
import sqlite3
import types
import typing
from pathlib import Path
from typing import Any

from emulator.config import DataDirError
from emulator.ses.state import AccountState, Backend
from emulator.sqlite_store import SqliteMessageStore, StoreError

__all__ = [
    "DB_FILENAME",
    "SCHEMA_VERSION",
    "DataDirError",
    "StateStore",
    "decode_state",
    "dumps_state",
    "encode_state",
    "open_data_dir",
]

log = logging.getLogger(__name__)

DB_FILENAME = "emulator.sqlite3"
SCHEMA_VERSION = 1
_NOT_SAVED = frozenset({"lock", "profile"})
_KEY_FIELDS = ("account_id", "region")
_BYTES_TAG = "__bytes_b64__"

_STATE_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS state (
    account  TEXT NOT NULL,
    region   TEXT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (account, region)
);
"""


# --- generic encoding ---------------------------------------------------------------------


def _encode_default(value: Any) -> Any:
    # json.dumps walks dicts, lists, tuples and scalars in C and calls this only for the
    # rest, so saving after every send stays cheap even with a long quota window.
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: getattr(value, f.name)
            for f in dataclasses.fields(value)
            if f.name not in _NOT_SAVED
        }
    if isinstance(value, collections.deque | set | frozenset):
        return list(value)
    if isinstance(value, bytes | bytearray):
        return {_BYTES_TAG: base64.b64encode(bytes(value)).decode("ascii")}
    raise TypeError(f"cannot save a value of type {type(value).__name__}")


def dumps_state(state: AccountState) -> str:
    """An `AccountState` as JSON text (``lock`` and ``profile`` left out).

    Dict keys become strings (JSON has no others); `decode_state` turns them back through the
    type hints (the statistics' 15-minute bucket starts are ints).
    """
    return json.dumps(state, default=_encode_default, separators=(",", ":"))


def encode_state(state: AccountState) -> dict[str, Any]:
    """An `AccountState` as a JSON-ready document (``lock`` and ``profile`` left out)."""
    document: dict[str, Any] = json.loads(dumps_state(state))
    return document


def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except (NameError, TypeError):  # an unresolvable annotation: fall back to raw JSON
        log.warning("persistence: cannot resolve type hints of %s; restoring raw JSON", cls)
        return {}


def _decode(value: Any, hint: Any, where: str) -> Any:
    if hint is Any or hint is None:
        return value
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _decode(value, arg, where)
            except (TypeError, ValueError) as exc:
                errors.append(str(exc))
        raise ValueError(f"{where}: {value!r} fits none of {hint} ({'; '.join(errors)})")
    if origin is typing.Literal:
        if value not in args:
            raise ValueError(f"{where}: {value!r} is not one of {args}")
        return value
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _decode_dataclass(hint, value, where)
    if origin in (dict, collections.abc.Mapping) or hint is dict:
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected an object, got {type(value).__name__}")
        key_hint, value_hint = args if args else (Any, Any)
        return {
            _decode_key(k, key_hint, where): _decode(v, value_hint, f"{where}.{k}")
            for k, v in value.items()
        }
    if origin in (list, collections.deque, set, frozenset, tuple) or hint in (list, tuple):
        if not isinstance(value, list):
            raise ValueError(f"{where}: expected a list, got {type(value).__name__}")
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return tuple(_decode(v, args[0], where) for v in value)
            if args and len(args) != len(value):
                raise ValueError(f"{where}: expected {len(args)} items, got {len(value)}")
            return tuple(
                _decode(v, a, where) for v, a in zip(value, args or [Any] * len(value), strict=True)
            )
        item_hint = args[0] if args else Any
        items = [_decode(v, item_hint, f"{where}[{i}]") for i, v in enumerate(value)]
        if origin is collections.deque:
            return collections.deque(items)
        if origin in (set, frozenset):
            return origin(items)
        return items
    if hint is bytes:
        if not isinstance(value, dict) or _BYTES_TAG not in value:
            raise ValueError(f"{where}: expected bytes")
        return base64.b64decode(value[_BYTES_TAG])
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint in (int, str, bool):
        if type(value) is not hint:
            raise ValueError(f"{where}: expected {hint.__name__}, got {value!r}")
        return value
    # A type this codec does not know (a newer field's class): keep the JSON as it is.
    return value


def _decode_key(key: str, hint: Any, where: str) -> Any:
    if hint is int:
        try:
            return int(key)
        except ValueError as exc:
            raise ValueError(f"{where}: key {key!r} is not an integer") from exc
    if hint is float:
        return float(key)
    return key


def _decode_dataclass(cls: type, value: Any, where: str, **fixed: Any) -> Any:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object, got {type(value).__name__}")
    hints = _hints(cls)
    kwargs: dict[str, Any] = dict(fixed)
    for f in dataclasses.fields(cls):
        if f.name in fixed or f.name in _NOT_SAVED or not f.init:
            continue
        if f.name not in value:
            continue  # saved by an older emulator: the field's default applies
        kwargs[f.name] = _decode(value[f.name], hints.get(f.name, Any), f"{where}.{f.name}")
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field the document lacks
        raise ValueError(f"{where}: {exc}") from exc


def decode_state(document: dict[str, Any], backend: Backend) -> AccountState:
    """Rebuild an `AccountState` from `encode_state`'s document, profile from the settings."""
    account = document.get("account_id")
    region = document.get("region")
    if not isinstance(account, str) or not isinstance(region, str):
        raise ValueError("document: account_id and region must be strings")
    state: AccountState = _decode_dataclass(
        AccountState,
        document,
        f"state[{account}/{region}]",
        profile=backend.settings.profile_values(),
    )
    return state


# --- the store ----------------------------------------------------------------------------


class StateStore:
    """The ``state`` table: one JSON document per (account, region)."""

    def __init__(self, messages: SqliteMessageStore) -> None:
        # One connection and lock for the whole database, shared with the message store.
        self._conn = messages.connection
        self._lock = messages.lock
        self.path = messages.path

    def save(self, state: AccountState) -> None:
        """Upsert ``state``'s document; committed on return."""
        if not state.lock.acquire(timeout=5.0):
            raise RuntimeError(f"state {state.account_id}/{state.region} stayed locked")
        try:
            document = dumps_state(state)
        finally:
            state.lock.release()
        with self._lock:
            self._conn.execute(
                "INSERT INTO state (account, region, document) VALUES (?, ?, ?) "
                "ON CONFLICT(account, region) DO UPDATE SET document = excluded.document",
                (state.account_id, state.region, document),
            )

    def save_all(self, backend: Backend) -> None:
        """Make the table equal the backend: upsert every state, drop the ones reset away."""
        states = backend.accounts()
        for state in states:
            self.save(state)
        keep = {(s.account_id, s.region) for s in states}
        with self._lock:
            stored = self._conn.execute("SELECT account, region FROM state").fetchall()
            for account, region in stored:
                if (account, region) not in keep:
                    self._conn.execute(
                        "DELETE FROM state WHERE account = ? AND region = ?", (account, region)
                    )

    def delete(self, account: str | None = None, region: str | None = None) -> int:
        """Drop saved states: all, or those of one account and/or region (after a reset)."""
        clauses, args = [], []
        if account is not None:
            clauses.append("account = ?")
            args.append(account)
        if region is not None:
            clauses.append("region = ?")
            args.append(region)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._lock:
            return self._conn.execute(f"DELETE FROM state{where}", args).rowcount

    def keys(self) -> list[tuple[str, str]]:
        with self._lock:
            rows = self._conn.execute("SELECT account, region FROM state ORDER BY rowid").fetchall()
        return [(a, r) for a, r in rows]

    def load(self, backend: Backend) -> int:
        """Install every saved state into ``backend``; returns how many. Unreadable → error."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT account, region, document FROM state ORDER BY rowid"
            ).fetchall()
        restored = []
        for account, region, text in rows:
            try:
                document = json.loads(text)
                if not isinstance(document, dict):
                    raise ValueError("document: not a JSON object")
                if (document.get("account_id"), document.get("region")) != (account, region):
                    raise ValueError("document: account_id/region differ from the row's key")
                restored.append(decode_state(document, backend))
            except ValueError as exc:
                raise DataDirError(
                    self.path,
                    f"saved state of account {account} region {region} is unreadable "
                    f"({exc}); move the file away to start empty",
                ) from exc
        for state in restored:
            _install(backend, state)
        return len(restored)


def _install(backend: Backend, saved: AccountState) -> None:
    # Backend exposes no setter; take the live state it creates on first use and copy the
    # saved fields onto it, so every reference the backend hands out sees the saved values.
    # Dicts are merged over the fresh state's, so identities the current settings pre-verify
    # (--verified-identity) are present even if they were added after the state was saved.
    live = backend.account(saved.account_id, saved.region)
    for f in dataclasses.fields(AccountState):
        if f.name in _NOT_SAVED or f.name in _KEY_FIELDS:
            continue
        value = getattr(saved, f.name)
        fresh = getattr(live, f.name)
        if isinstance(value, dict) and isinstance(fresh, dict):
            value = {**fresh, **value}
        setattr(live, f.name, value)


def _check_schema(conn: sqlite3.Connection, path: Path) -> None:
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    ours = {"messages", "state", "schema_version", "sqlite_sequence"}
    foreign = sorted(tables - ours)
    if foreign:
        raise DataDirError(
            path,
            f"the database has tables the emulator does not write ({', '.join(foreign)}); "
            "it belongs to something else",
        )
    if "schema_version" in tables:
        rows = conn.execute("SELECT version FROM schema_version").fetchall()
        if len(rows) != 1:
            raise DataDirError(path, f"schema_version must hold one row, found {len(rows)}")
        version = rows[0][0]
        if version != SCHEMA_VERSION:
            raise DataDirError(
                path, f"schema version {version!r}; this emulator reads version {SCHEMA_VERSION}"
            )
    elif tables - {"sqlite_sequence"}:
        raise DataDirError(path, "the database has emulator tables but no schema_version")


def open_data_dir(path: str | Path) -> tuple[SqliteMessageStore, StateStore]:
    """Open (creating if needed) the data dir ``path``; refuse anything that is not ours.

    Returns the message store and the state store over ``path/emulator.sqlite3``.
    """
    directory = Path(path)
    if directory.exists() and not directory.is_dir():
        raise DataDirError(directory, "exists but is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirError(directory, f"cannot create the directory ({exc.strerror})") from exc
    db = directory / DB_FILENAME
    if db.exists() and not db.is_file():
        raise DataDirError(db, "exists but is not a regular file")
    if db.is_file() and db.stat().st_size > 0:
        with db.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise DataDirError(db, "is not an SQLite database (wrong file header)")
    if db.is_file() and db.stat().st_size > 0:
        # Inspect read-only first: a foreign database must not even be switched to WAL.
        try:
            probe = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
            try:
                _check_schema(probe, db)
            finally:
                probe.close()
        except sqlite3.DatabaseError as exc:
            raise DataDirError(db, f"cannot read the database ({exc})") from exc
    try:
        messages = SqliteMessageStore(db)
    except StoreError as exc:
        raise DataDirError(db, exc.problem) from exc
    try:
        with messages.lock:
            messages.connection.executescript(_STATE_SCHEMA)
            if not messages.connection.execute("SELECT 1 FROM schema_version").fetchone():
                messages.connection.execute(
                    "INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,)
                )
    except sqlite3.DatabaseError as exc:
        messages.close()
        raise DataDirError(db, f"cannot set up the database ({exc})") from exc
    return messages, StateStore(messages)
