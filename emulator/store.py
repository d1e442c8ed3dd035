"""What the emulator keeps of every accepted message, and where it keeps it.

One `MessageRecord` schema for every kind of send (simple, raw, templated, each bulk entry).
``raw`` — the MIME message as SES would deliver it — is the canonical content; rendered text,
HTML and attachments are derived from it on read (`parse_parts`), so a stored message costs
about its own size once.

`MessageStore` is the interface; `InMemoryStore` the default. (A SQLite store for
``--data-dir`` implements the same interface.)
"""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Generic, Literal, Protocol, TypeVar

__all__ = [
    "AttachmentInfo",
    "DeferredEvents",
    "InMemoryStore",
    "MessageParts",
    "MessageRecord",
    "MessageStore",
    "Outcomes",
    "PerMessage",
    "parse_parts",
]

SendKind = Literal["simple", "raw", "template"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeferredEvents:
    """Marks a record whose generated events (Send, Delivery, Bounce…) are not stored.

    When no route could take a message's events, they are not built on the send path: they are
    a pure function of the record and ``ooto_transient_bounce`` (the setting when it was sent),
    so `emulator.events.record_events` produces them on read, with the same ids, timestamps and
    contents every time, ahead of the entries in `MessageRecord.events`.
    """

    ooto_transient_bounce: bool = False


class Outcomes(Mapping[str, str]):
    """Each envelope recipient's outcome (`MessageRecord.outcomes`): a read-only mapping.

    It keeps the record's recipients tuple and, when they share one outcome (nearly always),
    that one string: 48 bytes a message, where a dict of one recipient costs 184 (issue 8).

    >>> Outcomes(("a@example.com", "b@example.com"), ("delivered", "bounce"))["b@example.com"]
    'bounce'
    """

    __slots__ = ("_outcomes", "_recipients")

    def __init__(self, recipients: tuple[str, ...], outcomes: Sequence[str]) -> None:
        """``outcomes[i]`` is the outcome of ``recipients[i]`` (a recipient listed twice
        keeps its first)."""
        if len(recipients) != len(outcomes):
            raise ValueError(
                f"outcomes: one per recipient ({len(recipients)}), got {len(outcomes)}"
            )
        if len(recipients) > 1 and len(set(recipients)) < len(recipients):
            first: dict[str, str] = {}
            for recipient, outcome in zip(recipients, outcomes, strict=True):
                first.setdefault(recipient, outcome)
            recipients, outcomes = tuple(first), tuple(first.values())
        self._recipients = recipients
        self._outcomes: str | tuple[str, ...]
        if outcomes and outcomes.count(outcomes[0]) == len(outcomes):
            self._outcomes = outcomes[0]  # the one outcome of every recipient
        else:
            self._outcomes = tuple(outcomes)

    def __getitem__(self, recipient: str) -> str:
        try:
            index = self._recipients.index(recipient)
        except ValueError:
            raise KeyError(recipient) from None
        outcomes = self._outcomes
        return outcomes if isinstance(outcomes, str) else outcomes[index]

    def __iter__(self) -> Iterator[str]:
        return iter(self._recipients)

    def __len__(self) -> int:
        return len(self._recipients)

    def __repr__(self) -> str:
        return f"Outcomes({dict(self)!r})"


@dataclass(slots=True, kw_only=True)
class MessageRecord:
    """One accepted message (one per bulk entry)."""

    id: str  # the SES MessageId returned to the caller
    account: str
    region: str
    api: Literal["v1", "v2"]
    operation: (
        str  # SendEmail, SendRawEmail, SendTemplatedEmail, SendBulkTemplatedEmail, SendBulkEmail
    )
    kind: SendKind
    timestamp: float  # epoch seconds, from the emulator's clock
    source: str  # the sender as given (Source / FromEmailAddress / From header), display name kept
    envelope_from: str  # bare address used as MAIL FROM
    # The address and tag fields are tuples: nothing changes them once sent, and an absent
    # field is the shared empty tuple, where an empty list cost 56 bytes per message.
    to: tuple[str, ...] = ()  # as given (display names kept)
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()  # envelope recipients, bare addresses
    reply_to: tuple[str, ...] = ()
    subject: str | None = None  # decoded / rendered subject
    raw: bytes = b""  # the full MIME message as delivered
    template: str | None = None  # template name (or "<inline>" for v2 TemplateContent)
    template_data: str | None = None  # the JSON data used to render (bulk: merged per entry)
    tags: tuple[tuple[str, str], ...] = ()
    configuration_set: str | None = None
    bulk_id: str | None = None  # shared by the entries of one bulk call
    # Per envelope recipient: "delivered", "bounce", "ooto", "complaint", "suppressed". The send
    # pipeline stores an `Outcomes`; any mapping will do (records read back from SQLite: a dict).
    outcomes: Mapping[str, str] = field(default_factory=dict)
    # "accepted", or "rendering_failure" (accepted with 200, then dropped, as SES does).
    status: str = "accepted"
    rendering_error: str | None = None
    # Events noted on the record: published events, relay outcomes, events made on request.
    # With ``deferred_events`` set, the generated events are not here; read the whole sequence
    # with `emulator.events.record_events`. A tuple, replaced by `add_event` and
    # `replace_event`: most messages never get one, and the empty tuple costs them nothing.
    events: tuple[dict[str, Any], ...] = ()
    deferred_events: DeferredEvents | None = None

    def add_event(self, event: dict[str, Any]) -> None:
        """Note ``event`` after the record's other events (then `MessageStore.update` it).

        `events` becomes a longer tuple: a message gets a handful of events at most.
        """
        with _EVENTS_LOCK:  # a relay outcome and a published event may be noted at once
            self.events = (*self.events, event)

    def replace_event(self, event: dict[str, Any]) -> None:
        """Put ``event`` in place of the noted event with the same ``id`` (an SNS delivery
        attempt updated it)."""
        event_id = event.get("id")
        with _EVENTS_LOCK:
            self.events = tuple(event if e.get("id") == event_id else e for e in self.events)


# Noting an event replaces the record's tuple; one lock for every record keeps two threads
# noting events on one record from losing one, without a lock per stored message.
_EVENTS_LOCK = threading.Lock()


T = TypeVar("T")


class PerMessage(Generic[T]):
    """A derived answer kept per stored message, for views that read messages again and again.

    ``compute(record)`` must depend on nothing that changes once the message is stored (its
    ``raw`` MIME, say). Answers are keyed by message id, which is random and never reused, and
    at most ``max_entries`` are kept: when full, the memo is emptied before the next answer.
    """

    def __init__(self, compute: Callable[[MessageRecord], T], *, max_entries: int) -> None:
        self._compute = compute
        self._max_entries = max_entries
        self._answers: dict[str, T] = {}

    def __call__(self, record: MessageRecord) -> T:
        answers = self._answers
        if record.id in answers:
            return answers[record.id]
        found = self._compute(record)
        if len(answers) >= self._max_entries:
            answers.clear()
        answers[record.id] = found
        return found


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    filename: str | None
    content_type: str
    size: int  # decoded bytes
    content_id: str | None
    disposition: str | None


@dataclass(frozen=True, slots=True)
class MessageParts:
    headers: list[tuple[str, str]]
    text: str | None
    html: str | None
    attachments: list[AttachmentInfo]


def parse_parts(raw: bytes) -> MessageParts:
    """Split a stored MIME message into headers, first text and HTML bodies, and attachments."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    headers = [(k, str(v)) for k, v in msg.items()]
    text: str | None = None
    html: str | None = None
    attachments: list[AttachmentInfo] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        assert isinstance(part, EmailMessage)
        ctype = part.get_content_type()
        disposition = part.get_content_disposition()
        is_body = disposition is None and ctype in ("text/plain", "text/html")
        if is_body and ctype == "text/plain" and text is None:
            text = _content(part)
        elif is_body and ctype == "text/html" and html is None:
            html = _content(part)
        else:
            payload = part.get_payload(decode=True)
            cid = part.get("Content-ID")
            attachments.append(
                AttachmentInfo(
                    filename=part.get_filename(),
                    content_type=ctype,
                    size=len(payload) if isinstance(payload, bytes) else 0,
                    content_id=str(cid).strip("<>") if cid else None,
                    disposition=disposition,
                )
            )
    return MessageParts(headers=headers, text=text, html=html, attachments=attachments)


def _content(part: EmailMessage) -> str:
    try:
        value = part.get_content()
    except (LookupError, UnicodeDecodeError):  # unknown charset: keep what can be read
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


class MessageStore(Protocol):
    """Where accepted messages live. Implementations are safe to call from one event loop."""

    def add(self, record: MessageRecord) -> None: ...

    def get(self, message_id: str) -> MessageRecord | None: ...

    def update(self, record: MessageRecord) -> None:
        """Persist changes to a record already added (events appended, outcomes)."""
        ...

    def iter(
        self, *, account: str | None = None, region: str | None = None
    ) -> Iterator[MessageRecord]:
        """Records in the order they were added (oldest first)."""
        ...

    def delete(self, message_id: str) -> bool: ...

    def clear(self, *, account: str | None = None, region: str | None = None) -> int: ...

    def __len__(self) -> int: ...


class InMemoryStore:
    """The default store: a dict in insertion order."""

    def __init__(self) -> None:
        self._records: dict[str, MessageRecord] = {}
        self._lock = threading.Lock()

    def add(self, record: MessageRecord) -> None:
        with self._lock:
            self._records[record.id] = record

    def get(self, message_id: str) -> MessageRecord | None:
        return self._records.get(message_id)

    def update(self, record: MessageRecord) -> None:
        with self._lock:
            if record.id in self._records:
                self._records[record.id] = record

    def iter(
        self, *, account: str | None = None, region: str | None = None
    ) -> Iterator[MessageRecord]:
        with self._lock:
            records = list(self._records.values())
        for record in records:
            if account is not None and record.account != account:
                continue
            if region is not None and record.region != region:
                continue
            yield record

    def delete(self, message_id: str) -> bool:
        with self._lock:
            return self._records.pop(message_id, None) is not None

    def clear(self, *, account: str | None = None, region: str | None = None) -> int:
        with self._lock:
            doomed = [
                key
                for key, rec in self._records.items()
                if (account is None or rec.account == account)
                and (region is None or rec.region == region)
            ]
            for key in doomed:
                del self._records[key]
            return len(doomed)

    def __len__(self) -> int:
        return len(self._records)
