"""Deleting messages keeps their events in the log, and the log lets go of the messages.

Every way a message leaves the store is driven over HTTP (or the shipped client); the event
log must read the same afterwards, and the deleted records (with their MIME content) must no
longer be reachable from it.
"""

from __future__ import annotations

import base64
import gc
import types
from collections.abc import Callable
from typing import Any

import pytest
import requests

from emulator.client import EmulatorClient
from emulator.events import EICAR_SIGNATURE, EventLog
from emulator.server import EmulatorServer
from emulator.sns import EventPublisher
from emulator.store import MessageRecord

SIM = "simulator.amazonses.com"


def _events(emulator: EmulatorServer) -> list[dict[str, Any]]:
    response = requests.get(f"{emulator.endpoint_url}/_emulator/events", timeout=5)
    assert response.status_code == 200, response.text
    return list(response.json()["events"])


def _log(emulator: EmulatorServer) -> EventLog:
    """The log of the publisher listening to the emulator's sends."""
    owners = [getattr(listener, "__self__", None) for listener in emulator.backend.record_listeners]
    publishers = [owner for owner in owners if isinstance(owner, EventPublisher)]
    assert len(publishers) == 1
    return publishers[0].log


def _reachable(root: object, target: object) -> bool:
    """Whether ``target`` can be reached from ``root`` through the objects it refers to (not
    through classes, modules or functions, which lead everywhere)."""
    seen = {id(root)}
    todo = [root]
    while todo:
        for referent in gc.get_referents(todo.pop()):
            if referent is target:
                return True
            if id(referent) in seen or isinstance(
                referent, type | types.ModuleType | types.FunctionType
            ):
                continue
            seen.add(id(referent))
            todo.append(referent)
    return False


def _send(sesv2: Any, to: str, subject: str, attachment: bytes | None = None) -> str:
    content: dict[str, Any] = {"Subject": {"Data": subject}, "Body": {"Text": {"Data": "Hi"}}}
    if attachment is not None:
        content["Attachments"] = [
            {"FileName": "a.bin", "RawContent": attachment, "ContentType": "application/x-data"}
        ]
    response = sesv2.send_email(
        FromEmailAddress="sender@example.com",
        Destination={"ToAddresses": [to]},
        Content={"Simple": content},
    )
    return str(response["MessageId"])


def _stored(emulator: EmulatorServer, message_id: str) -> MessageRecord:
    record = emulator.backend.store.get(message_id)
    assert record is not None
    return record


Delete = Callable[[EmulatorServer, list[str]], None]


def _by_id(emulator: EmulatorServer, ids: list[str]) -> None:
    response = requests.delete(f"{emulator.endpoint_url}/_emulator/messages/{ids[0]}", timeout=5)
    assert response.status_code == 204


def _by_filter(emulator: EmulatorServer, ids: list[str]) -> None:
    response = requests.delete(
        f"{emulator.endpoint_url}/_emulator/messages", params={"subject": "doomed"}, timeout=5
    )
    assert (response.status_code, response.headers["X-Deleted-Count"]) == (204, "2")


def _all(emulator: EmulatorServer, ids: list[str]) -> None:
    response = requests.delete(f"{emulator.endpoint_url}/_emulator/messages", timeout=5)
    assert response.status_code == 204


def _localstack_by_id(emulator: EmulatorServer, ids: list[str]) -> None:
    response = requests.delete(
        f"{emulator.endpoint_url}/_aws/ses", params={"id": ids[0]}, timeout=5
    )
    assert response.status_code == 204


def _localstack_all(emulator: EmulatorServer, ids: list[str]) -> None:
    response = requests.delete(f"{emulator.endpoint_url}/_aws/ses", timeout=5)
    assert response.status_code == 204


def _client(emulator: EmulatorServer, ids: list[str]) -> None:
    assert EmulatorClient(emulator.endpoint_url).delete_messages(subject="doomed") == 2


@pytest.mark.parametrize(
    ("delete", "doomed"),
    [
        (_by_id, 1),
        (_by_filter, 2),
        (_all, 3),
        (_localstack_by_id, 1),
        (_localstack_all, 3),
        (_client, 2),
    ],
)
def test_deleted_messages_keep_their_events_and_leave_the_log(
    emulator: EmulatorServer, sesv2: Any, delete: Delete, doomed: int
) -> None:
    sesv2.create_email_identity(EmailIdentity="example.com")
    ids = [
        _send(sesv2, f"bounce@{SIM}", "doomed virus", EICAR_SIGNATURE),
        _send(sesv2, f"complaint@{SIM}", "doomed", base64.b64encode(bytes(range(256)) * 40)),
        _send(sesv2, f"success@{SIM}", "kept"),
    ]
    records = [_stored(emulator, message_id) for message_id in ids]
    log = _log(emulator)
    assert all(_reachable(log, record) for record in records)  # their events are deferred
    before = _events(emulator)
    assert [e["type"] for e in before] == [
        *("Send", "Reject"),
        *("Send", "Delivery", "Complaint"),
        *("Send", "Delivery"),
    ]

    delete(emulator, ids)

    assert [emulator.backend.store.get(i) is None for i in ids] == [True] * doomed + [False] * (
        3 - doomed
    )
    assert [_reachable(log, record) for record in records] == [False] * doomed + [True] * (
        3 - doomed
    )
    assert _events(emulator) == before


def test_a_reset_forgets_the_events_and_the_records(emulator: EmulatorServer, sesv2: Any) -> None:
    sesv2.create_email_identity(EmailIdentity="example.com")
    record = _stored(emulator, _send(sesv2, f"success@{SIM}", "reset"))
    log = _log(emulator)
    assert _reachable(log, record)

    assert requests.post(f"{emulator.endpoint_url}/_emulator/reset", timeout=5).status_code == 204

    assert not _reachable(log, record)
    assert _events(emulator) == []
