"""The events SES generates for accepted messages, in SES's own JSON formats (sans-I/O).

For every accepted message the emulator generates the events SES would (`generate`), from the
outcome the send pipeline recorded for each recipient (`MessageRecord.outcomes`, set by the
mailbox simulator and the suppression list) and from the record's status:

| what was recorded                              | events                                          |
|------------------------------------------------|-------------------------------------------------|
| every accepted message                         | ``Send``                                        |
| ``status == "rendering_failure"``              | ``Rendering Failure`` (nothing is delivered)    |
| an attachment holding the EICAR test string    | ``Reject`` (virus; nothing is delivered) [D]    |
| ``delivered`` / ``ooto`` / ``complaint``       | one ``Delivery`` listing those recipients       |
| ``bounce`` (``bounce@simulator``)              | ``Bounce`` Permanent / General                  |
| ``suppressed``, simulator address              | ``Bounce`` Permanent / Suppressed               |
| ``suppressed``, account suppression list       | ``Bounce`` Permanent / OnAccountSuppressionList |
| ``complaint``                                  | ``Complaint`` (abuse), after its ``Delivery``   |

``ooto@simulator`` is a delivery: the out-of-office reply goes to the sender's mailbox, and SES
publishes no event for it [D] (mailbox simulator); ``--ooto-transient-bounce`` adds the
Transient/General Bounce an SES of 2013 was observed to send [O]. Simulated bounces of one
message are combined into one Bounce event per bounce subtype [D]. ``DeliveryDelay``,
``Open`` and ``Click`` happen only on request (`on_request`, the control API).

Two payload formats (SES developer guide, "Contents of event data that Amazon SES publishes
to Amazon SNS" and "Amazon SNS notification contents for Amazon SES") [D]:

- **event publishing** (`event_payload`), for configuration-set event destinations: top-level
  ``eventType``; ``mail`` with ``tags``; every event type.
- **notifications** (`notification_payload`), for identity notification topics
  (SetIdentityNotificationTopic): top-level ``notificationType``, only Bounce, Complaint and
  Delivery; ``mail`` has ``sourceIp`` and ``callerIdentity`` but no ``tags``, and headers only
  when SetIdentityHeadersInNotificationsEnabled is on for that type.

`routes` says where an event goes (`Route`: a topic ARN and the JSON text SNS carries);
`EventLog` keeps every generated event and what became of its deliveries, for
``GET /_emulator/events`` and `MessageRecord.events`.

When no route could take a message's events (`routable` is false), nothing is generated on the
send path: the record is marked (`emulator.store.DeferredEvents`) and logged as it is, and its
events are generated when read (`record_events`, `EventLog.select`). Generation is a pure
function of the record — a generated event's id and feedback id derive from the message id and
the event's position (`event_id`) — so every read gives the same events. When such a record
is deleted from the store, `EventLog.release_records` generates its events once and keeps them
in its place, so the log never keeps a deleted message's MIME content alive.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.parser
import email.policy
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any, Final, Literal

from emulator.ses import identities, simulator
from emulator.ses.state import AccountState, Identity
from emulator.store import DeferredEvents, MessageRecord, PerMessage

__all__ = [
    "DELAY_TYPES",
    "DETAIL_KEYS",
    "EICAR_SIGNATURE",
    "EVENT_TYPES",
    "MATCHING_EVENT_TYPES",
    "MAX_LOGGED_EVENTS",
    "NOTIFICATION_TYPES",
    "REQUESTABLE_TYPES",
    "EventLog",
    "EventType",
    "LoggedEvent",
    "Route",
    "SesEvent",
    "deferred_marker",
    "event_id",
    "event_payload",
    "generate",
    "generated_events",
    "iso_timestamp",
    "mail_object",
    "notification_payload",
    "on_request",
    "record_events",
    "routable",
    "routes",
    "sending_identity",
]

EventType = Literal[
    "Send",
    "Delivery",
    "Bounce",
    "Complaint",
    "Reject",
    "Rendering Failure",
    "DeliveryDelay",
    "Open",
    "Click",
]
EVENT_TYPES: Final[tuple[EventType, ...]] = (
    "Send",
    "Delivery",
    "Bounce",
    "Complaint",
    "Reject",
    "Rendering Failure",
    "DeliveryDelay",
    "Open",
    "Click",
)
# eventType → the v2 EventType enum an event destination's MatchingEventTypes lists [M]
# (v1 destinations are stored in the v2 spelling by emulator.ses.configsets).
MATCHING_EVENT_TYPES: Final[dict[EventType, str]] = {
    "Send": "SEND",
    "Delivery": "DELIVERY",
    "Bounce": "BOUNCE",
    "Complaint": "COMPLAINT",
    "Reject": "REJECT",
    "Rendering Failure": "RENDERING_FAILURE",
    "DeliveryDelay": "DELIVERY_DELAY",
    "Open": "OPEN",
    "Click": "CLICK",
}
# The object holding each event type's details; "Rendering Failure" breaks the pattern [D].
DETAIL_KEYS: Final[dict[EventType, str]] = {
    "Send": "send",
    "Delivery": "delivery",
    "Bounce": "bounce",
    "Complaint": "complaint",
    "Reject": "reject",
    "Rendering Failure": "failure",
    "DeliveryDelay": "deliveryDelay",
    "Open": "open",
    "Click": "click",
}
# Identity notification topics carry only these three types [D] (SetIdentityNotificationTopic).
NOTIFICATION_TYPES: Final[tuple[EventType, ...]] = ("Bounce", "Complaint", "Delivery")
# What the control API can make happen to an accepted message after the fact.
REQUESTABLE_TYPES: Final[tuple[EventType, ...]] = (
    "Open",
    "Click",
    "DeliveryDelay",
    "Delivery",
    "Bounce",
    "Complaint",
)
# deliveryDelay.delayType values [D] (event publishing contents).
DELAY_TYPES: Final = (
    "InternalFailure",
    "General",
    "MailboxFull",
    "SpamDetected",
    "RecipientServerError",
    "IPFailure",
    "TransientCommunicationFailure",
    "BYOIPHostNameLookupUnavailable",
    "Undetermined",
    "SendingDeferral",
)
# The EICAR anti-virus test file: SES accepts such a message, then rejects it as a virus and
# publishes a Reject event (ses-spec §4 [D]).
EICAR_SIGNATURE: Final = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
# The log keeps the newest events only, so a long-running emulator's memory stays bounded.
MAX_LOGGED_EVENTS: Final = 10_000

# What SES writes in the fields no emulator can observe. Addresses come from TEST-NET-1
# (RFC 5737) so they can never be mistaken for a real server.
_REPORTING_MTA: Final = "a8-70.smtp-out.amazonses.com"
_REMOTE_MTA_IP: Final = "192.0.2.1"
_SOURCE_IP: Final = "127.0.0.1"
_SMTP_OK: Final = "250 2.6.0 Message received"
# Delivery happens a moment after the send [I]; fixed, so payloads are deterministic.
_PROCESSING_MILLIS: Final = 500
# A DeliveryDelay's expirationTime: SES retries for up to 14 hours [D].
_DELAY_EXPIRATION_SECONDS: Final = 14 * 3600
_SIMULATOR_USER_AGENT: Final = "Amazon SES Mailbox Simulator"
_OPEN_USER_AGENT: Final = "Mozilla/5.0 (seskit emulator)"
# The bounce recipients' texts SES reports for each subtype [D] (notification examples).
_GENERAL_BOUNCE: Final = ("5.1.1", "smtp; 550 5.1.1 user unknown")
_SUPPRESSED_BOUNCE: Final = (
    "5.1.1",
    "Amazon SES has suppressed sending to this address because it has a recent history of "
    "bouncing as an invalid address. For more information about how to remove an address "
    "from the suppression list, see the Amazon SES Developer Guide: "
    "http://docs.aws.amazon.com/ses/latest/DeveloperGuide/remove-from-suppressionlist.html ",
)
_ACCOUNT_SUPPRESSED_BOUNCE: Final = (
    "5.1.1",
    "Amazon SES did not send the message to this address because it is on the suppression "
    "list for your account. For more information about removing addresses from the "
    "suppression list, see the Amazon SES Developer Guide at "
    "https://docs.aws.amazon.com/ses/latest/DeveloperGuide/sending-email-suppression-list.html",
)

Channel = Literal["event-publishing", "notification"]


def iso_timestamp(epoch: float) -> str:
    """SES's timestamp spelling: ISO 8601 UTC with milliseconds, ``2016-10-19T23:20:52.240Z``."""
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# Names the ids derived from a message id (uuid5), so they are stable across reads.
_ID_NAMESPACE: Final = uuid.UUID("7a0b5f4e-3c1d-4e8a-9b2f-6d5c4b3a2918")


def event_id(message_id: str, index: int) -> str:
    """The id of the ``index``-th event `generate` makes for message ``message_id``: a UUID
    derived from both, so a deferred event has the same id on every read."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{message_id}#{index}"))


def _feedback_id(now: float, key: str | None = None) -> str:
    # Shaped like a MessageId, as SES's feedback ids are [O]; derived from ``key`` (a generated
    # event's message and position) when given, so regenerating the event gives the same id.
    unique = uuid.uuid4() if key is None else uuid.uuid5(_ID_NAMESPACE, f"{key}/feedback")
    return f"0100{int(now * 1000) & 0xFFFFFFFFFFFF:012x}-{unique}-000000"


@dataclass(frozen=True, slots=True, kw_only=True)
class SesEvent:
    """One event for one message: its type, when, who it concerns, and its details object.

    ``detail`` is the type's object exactly as SES publishes it (``bounce{…}``,
    ``delivery{…}``…), without the surrounding ``mail`` object, which `event_payload` and
    `notification_payload` add from the message record.
    """

    type: EventType
    timestamp: float
    recipients: tuple[str, ...]
    detail: Mapping[str, Any]

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise ValueError(f"type: one of {', '.join(EVENT_TYPES)} (got {self.type!r})")


# --------------------------------------------------------------------------- generation


# The search for the EICAR string parses a message only when a part of it could decode to it.
#
# compat32's ``get_payload(decode=True)`` (what `_parsed_is_virus` calls) decodes a part whose
# Content-Transfer-Encoding header, less the blanks after its colon, is exactly ``base64``,
# ``quoted-printable`` or a uuencode spelling (in any case); any other part's payload is its own
# bytes, a slice of ``raw``, covered by the ``in raw`` search. A decoded payload is decoded from
# a slice of ``raw`` that starts at a line start, after a header naming its encoding, and from
# that follow the necessary conditions `_may_decode_to_eicar` checks on the whole message:
#
# - base64 (email._encoded_words.decode_b): the decoder keeps only the 64 letters of the
#   alphabet, in order, so the signature decodes only from one of `_EICAR_BASE64` (one per
#   position of the signature in a 3-byte group), found in ``raw`` without its other bytes.
#   When no decoding works, decode_b returns the payload without its line breaks, which holds
#   the signature only if ``raw`` without its CR and LF bytes does.
# - quoted-printable (binascii.a2b_qp): after an LF, decoding ``raw`` from its start is always
#   between two escapes, so decoding ``raw`` gives the bytes of a payload starting there (a cut
#   at the payload's end adds at most ``=`` and one byte, and the signature has no ``=``). A CR
#   without an LF also ends a line, and a ``=`` before one swallows all up to the next LF: with
#   one in the message, the parse decides.
# - uuencode: rare, so it is always parsed.
_TRANSFER_ENCODING: Final = b"content-transfer-encoding:"
_HEADER_VALUE: Final = re.compile(rb"[ \t]*([^\r\n]*)")
_UUENCODE: Final = frozenset((b"x-uuencode", b"uuencode", b"uue", b"x-uue"))
_BASE64_ALPHABET: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_NOT_BASE64: Final = bytes(sorted(set(range(256)) - set(_BASE64_ALPHABET)))
# The base64 letters that encode only bits of the signature, for each of its 3 alignments: with
# ``shift`` bytes before it, from the first letter starting in it to the last one ending in it.
_EICAR_BASE64: Final = tuple(
    base64.b64encode(bytes(shift) + EICAR_SIGNATURE)[
        -(-8 * shift // 6) : 8 * (shift + len(EICAR_SIGNATURE)) // 6
    ]
    for shift in range(3)
)
_BARE_CR: Final = re.compile(rb"\r(?!\n)")


def _is_virus(raw: bytes) -> bool:
    if EICAR_SIGNATURE in raw:  # an unencoded (7bit) part
        return True
    # An encoded attachment needs a multipart message; single-part mail (most of it) is never
    # looked into.
    header_end = raw.find(b"\r\n\r\n")
    if b"multipart/" not in raw[: header_end if header_end >= 0 else len(raw)].lower():
        return False
    # Only an encoded part can hide the signature; 7bit/8bit parts were covered by the search
    # above. Messages with no base64 or quoted-printable header are not looked into.
    lowered = raw.lower()
    announced = False
    decoded: set[bytes] = set()  # the encodings compat32 would decode (see above)
    at = lowered.find(_TRANSFER_ENCODING)
    while at >= 0:
        match = _HEADER_VALUE.match(lowered, at + len(_TRANSFER_ENCODING))
        value = match[1] if match is not None else b""
        announced = announced or value.startswith((b"base64", b"quoted-printable"))
        decoded.add(value)
        at = lowered.find(_TRANSFER_ENCODING, at + 1)
    if not announced:
        return False
    return _may_decode_to_eicar(raw, decoded) and _parsed_is_virus(raw)


def _may_decode_to_eicar(raw: bytes, encodings: set[bytes]) -> bool:
    """False only if no part of ``raw`` whose encoding (the lowered header value) is one of
    ``encodings`` can decode to `EICAR_SIGNATURE` (see above). ~100 µs for 100 KB of base64,
    where the parse takes ~1.5 ms."""
    if not _UUENCODE.isdisjoint(encodings):
        return True
    if b"base64" in encodings:
        letters = raw.translate(None, _NOT_BASE64)
        if any(encoded in letters for encoded in _EICAR_BASE64):
            return True
        # "^" and "}" are in the signature, and cheap to look for before joining the lines.
        if b"^" in raw and b"}" in raw and EICAR_SIGNATURE in raw.translate(None, b"\r\n"):
            return True
    if b"quoted-printable" in encodings:
        return _BARE_CR.search(raw) is not None or EICAR_SIGNATURE in binascii.a2b_qp(raw)
    return False


def _parsed_is_virus(raw: bytes) -> bool:
    # The legacy compat32 parser is ~20x cheaper than policy.default and decodes the same.
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes) and EICAR_SIGNATURE in payload:
            return True
    return False


def _bounce(
    recipients: Sequence[str],
    subtype: str,
    diagnostic: tuple[str, str],
    at: float,
    feedback_key: str | None = None,
) -> SesEvent:
    status, code = diagnostic
    detail: dict[str, Any] = {
        "bounceType": "Permanent",
        "bounceSubType": subtype,
        "bouncedRecipients": [
            {"emailAddress": r, "action": "failed", "status": status, "diagnosticCode": code}
            for r in recipients
        ],
        "timestamp": iso_timestamp(at),
        "feedbackId": _feedback_id(at, feedback_key),
    }
    if subtype == "General":
        detail["reportingMTA"] = f"dns; {_REPORTING_MTA}"
        detail["remoteMtaIp"] = _REMOTE_MTA_IP
    else:
        # A suppressed address is never attempted: SES itself reports it [D].
        detail["reportingMTA"] = "dns; amazonses.com"
    return SesEvent(type="Bounce", timestamp=at, recipients=tuple(recipients), detail=detail)


def _delivery(recipients: Sequence[str], sent: float) -> SesEvent:
    at = sent + _PROCESSING_MILLIS / 1000
    return SesEvent(
        type="Delivery",
        timestamp=at,
        recipients=tuple(recipients),
        detail={
            "timestamp": iso_timestamp(at),
            "processingTimeMillis": _PROCESSING_MILLIS,
            "recipients": list(recipients),
            "smtpResponse": _SMTP_OK,
            "reportingMTA": _REPORTING_MTA,
            "remoteMtaIp": _REMOTE_MTA_IP,
        },
    )


def _complaint(recipients: Sequence[str], sent: float, feedback_key: str | None = None) -> SesEvent:
    at = sent + 2 * _PROCESSING_MILLIS / 1000
    return SesEvent(
        type="Complaint",
        timestamp=at,
        recipients=tuple(recipients),
        detail={
            "complainedRecipients": [{"emailAddress": r} for r in recipients],
            "timestamp": iso_timestamp(at),
            "feedbackId": _feedback_id(at, feedback_key),
            "complaintSubType": None,
            "userAgent": _SIMULATOR_USER_AGENT,
            "complaintFeedbackType": "abuse",
            "arrivalDate": iso_timestamp(sent + _PROCESSING_MILLIS / 1000),
        },
    )


@dataclass(frozen=True, slots=True)
class _Outcomes:
    """A record's recipients grouped by what becomes of them, each group in recipient order."""

    delivered: list[str]  # a Delivery: delivered, ooto and complaint
    bounced: list[str]
    on_global: list[str]  # suppressed by SES's global list (the simulator's address)
    on_account: list[str]  # suppressed by the account's suppression list
    complained: list[str]
    out_of_office: list[str]

    @classmethod
    def of(cls, record: MessageRecord) -> _Outcomes:
        outcome = {r: record.outcomes.get(r, "delivered") for r in record.recipients}
        suppressed = [r for r, o in outcome.items() if o == "suppressed"]
        return cls(
            delivered=[r for r, o in outcome.items() if o in ("delivered", "ooto", "complaint")],
            bounced=[r for r, o in outcome.items() if o == "bounce"],
            on_global=[r for r in suppressed if simulator.is_simulator(r)],
            on_account=[r for r in suppressed if not simulator.is_simulator(r)],
            complained=[r for r, o in outcome.items() if o == "complaint"],
            out_of_office=[r for r, o in outcome.items() if o == "ooto"],
        )


def _count(record: MessageRecord, *, ooto_transient_bounce: bool, virus: Callable[[], bool]) -> int:
    """How many events `generate` makes for ``record``; ``virus`` (the costly EICAR check) is
    asked only when its answer changes the count."""
    if record.status == "rendering_failure":
        return 2  # Send, Rendering Failure
    groups = _Outcomes.of(record)
    count = 1 + sum(
        1
        for group in (
            groups.delivered,
            groups.bounced,
            groups.on_global,
            groups.on_account,
            groups.complained,
        )
        if group
    )
    if groups.out_of_office and ooto_transient_bounce:
        count += 1
    return 2 if count == 2 or virus() else count  # a virus: Send, Reject


def generate(
    record: MessageRecord, *, ooto_transient_bounce: bool = False, virus: bool | None = None
) -> list[SesEvent]:
    """The events SES generates for an accepted message, in the order it publishes them.

    ``ooto_transient_bounce`` (``--ooto-transient-bounce``) adds the Transient/General Bounce
    that SES once sent for ``ooto@simulator``'s auto-reply. ``virus``: whether the message
    holds the EICAR test string, when the caller already knows (else it is looked for). A pure
    function of its arguments: feedback ids derive from the message id and the event's position.
    """
    sent = record.timestamp
    everyone = tuple(record.recipients)
    events = [SesEvent(type="Send", timestamp=sent, recipients=everyone, detail={})]
    if record.status == "rendering_failure":
        events.append(
            SesEvent(
                type="Rendering Failure",
                timestamp=sent,
                recipients=everyone,
                detail={
                    "errorMessage": record.rendering_error or "",
                    "templateName": record.template or "",
                },
            )
        )
        return events
    if _is_virus(record.raw) if virus is None else virus:
        events.append(
            SesEvent(
                type="Reject", timestamp=sent, recipients=everyone, detail={"reason": "Bad content"}
            )
        )
        return events
    groups = _Outcomes.of(record)
    if groups.delivered:
        events.append(_delivery(groups.delivered, sent))
    if groups.bounced:
        key = f"{record.id}#{len(events)}"
        events.append(_bounce(groups.bounced, "General", _GENERAL_BOUNCE, sent, key))
    if groups.on_global:
        key = f"{record.id}#{len(events)}"
        events.append(_bounce(groups.on_global, "Suppressed", _SUPPRESSED_BOUNCE, sent, key))
    if groups.on_account:
        key = f"{record.id}#{len(events)}"
        subtype = "OnAccountSuppressionList"
        events.append(_bounce(groups.on_account, subtype, _ACCOUNT_SUPPRESSED_BOUNCE, sent, key))
    if groups.complained:
        events.append(_complaint(groups.complained, sent, f"{record.id}#{len(events)}"))
    out_of_office = groups.out_of_office
    if out_of_office and ooto_transient_bounce:
        at = sent + 2 * _PROCESSING_MILLIS / 1000
        # The 2013 notification listed only the addresses, without status or diagnostic [O].
        detail = {
            "bounceType": "Transient",
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": r} for r in out_of_office],
            "timestamp": iso_timestamp(at),
            "feedbackId": _feedback_id(at, f"{record.id}#{len(events)}"),
        }
        events.append(
            SesEvent(type="Bounce", timestamp=at, recipients=tuple(out_of_office), detail=detail)
        )
    return events


def on_request(
    record: MessageRecord,
    event_type: str,
    *,
    now: float,
    recipients: Sequence[str] | None = None,
    link: str | None = None,
    delay_type: str | None = None,
    user_agent: str | None = None,
    ip_address: str | None = None,
) -> SesEvent:
    """An event the control API asked for (``POST /_emulator/messages/{id}/events``).

    Raises ValueError, naming the field, for an unknown type, a recipient the message did not
    have, a Click without a link, or an unknown delay type.
    """
    if event_type not in REQUESTABLE_TYPES:
        raise ValueError(f"type: one of {', '.join(REQUESTABLE_TYPES)} (got {event_type!r})")
    chosen = tuple(record.recipients) if recipients is None else tuple(recipients)
    unknown = [r for r in chosen if r not in record.recipients]
    if unknown:
        raise ValueError(f"recipients: not recipients of message {record.id}: {unknown}")
    if not chosen:
        raise ValueError("recipients: at least one recipient")
    if link is not None and event_type != "Click":
        raise ValueError("link: only a Click has a link")
    if delay_type is not None and event_type != "DeliveryDelay":
        raise ValueError("delay_type: only a DeliveryDelay has a delay type")
    agent = user_agent or _OPEN_USER_AGENT
    ip = ip_address or _SOURCE_IP
    if event_type == "Open":
        detail: dict[str, Any] = {
            "timestamp": iso_timestamp(now),
            "userAgent": agent,
            "ipAddress": ip,
        }
        return SesEvent(type="Open", timestamp=now, recipients=chosen, detail=detail)
    if event_type == "Click":
        if not link:
            raise ValueError("link: a Click needs the link that was clicked")
        detail = {
            "timestamp": iso_timestamp(now),
            "userAgent": agent,
            "ipAddress": ip,
            "link": link,
            "linkTags": {},
        }
        return SesEvent(type="Click", timestamp=now, recipients=chosen, detail=detail)
    if event_type == "DeliveryDelay":
        kind = delay_type or "TransientCommunicationFailure"
        if kind not in DELAY_TYPES:
            raise ValueError(f"delay_type: one of {', '.join(DELAY_TYPES)} (got {kind!r})")
        detail = {
            "timestamp": iso_timestamp(now),
            "delayType": kind,
            "expirationTime": iso_timestamp(now + _DELAY_EXPIRATION_SECONDS),
            "delayedRecipients": [
                {
                    "emailAddress": r,
                    "status": "4.4.1",
                    "diagnosticCode": "smtp; 421 4.4.1 Unable to connect to remote host",
                }
                for r in chosen
            ],
            "reportingMTA": _REPORTING_MTA,
        }
        return SesEvent(type="DeliveryDelay", timestamp=now, recipients=chosen, detail=detail)
    if event_type == "Delivery":
        return _delivery(chosen, now - _PROCESSING_MILLIS / 1000)
    if event_type == "Bounce":
        return _bounce(chosen, "General", _GENERAL_BOUNCE, now)
    return _complaint(chosen, now - 2 * _PROCESSING_MILLIS / 1000)


# --------------------------------------------------------------------------- payloads


def sending_identity(state: AccountState | None, address: str) -> Identity | None:
    """The identity SES sends ``address``'s mail as: the address itself (without a ``+label``),
    else its domain or the nearest parent domain; None if none is stored.

    The most specific identity wins, so an address identity's notification topics override its
    domain's [I] (SES documents this for feedback forwarding).
    """
    if state is None or "@" not in address:
        return None
    local, _, domain = address.rpartition("@")
    candidates = [address, f"{local.split('+', 1)[0]}@{domain}"]
    labels = domain.lower().split(".")
    candidates += [".".join(labels[i:]) for i in range(len(labels) - 1)]
    for name in candidates:
        found = identities.find(state, name)
        if found is not None:
            return found
    return None


def _headers(raw: bytes) -> list[tuple[str, str]]:
    parsed = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(raw)
    assert isinstance(parsed, EmailMessage)
    return [(name, str(value)) for name, value in parsed.items()]


def _common_headers(record: MessageRecord, headers: Iterable[tuple[str, str]]) -> dict[str, Any]:
    lookup: dict[str, list[str]] = {}
    for name, value in headers:
        lookup.setdefault(name.lower(), []).append(value)
    common: dict[str, Any] = {}
    for header, key in (
        ("from", "from"),
        ("reply-to", "replyTo"),
        ("to", "to"),
        ("cc", "cc"),
        ("bcc", "bcc"),
    ):
        if header in lookup:
            common[key] = [
                f"{name} <{addr}>" if name else addr for name, addr in getaddresses(lookup[header])
            ]
    if "date" in lookup:
        common["date"] = lookup["date"][0]
    # SES reports its own MessageId here, not the Message-ID header's [D] (examples).
    common["messageId"] = record.id
    if "subject" in lookup:
        common["subject"] = lookup["subject"][0]
    return common


def mail_object(
    record: MessageRecord,
    *,
    identity: Identity | None,
    channel: Channel,
    include_headers: bool = True,
) -> dict[str, Any]:
    """The ``mail`` object both formats share, for ``channel``'s format.

    ``sourceArn`` names the sending identity (the domain of the sender when none is stored, as
    with ``--auto-verify``).
    """
    domain = record.envelope_from.rpartition("@")[2].lower()
    identity_name = identity.name if identity is not None else domain
    mail: dict[str, Any] = {
        "timestamp": iso_timestamp(record.timestamp),
        "source": record.source,
        "sourceArn": f"arn:aws:ses:{record.region}:{record.account}:identity/{identity_name}",
    }
    if channel == "notification":
        mail["sourceIp"] = _SOURCE_IP
        mail["callerIdentity"] = "root"
    mail["sendingAccountId"] = record.account
    mail["messageId"] = record.id
    mail["destination"] = list(record.recipients)
    if include_headers:
        headers = _headers(record.raw)
        mail["headersTruncated"] = False
        mail["headers"] = [{"name": n, "value": v} for n, v in headers]
        mail["commonHeaders"] = _common_headers(record, headers)
    if channel == "event-publishing":
        tags: dict[str, list[str]] = {}
        if record.configuration_set:
            tags["ses:configuration-set"] = [record.configuration_set]
        tags["ses:source-ip"] = [_SOURCE_IP]
        tags["ses:from-domain"] = [domain]
        tags["ses:caller-identity"] = ["root"]
        tags["ses:operation"] = [record.operation]
        for name, value in record.tags:
            tags.setdefault(name, []).append(value)
        mail["tags"] = tags
    return mail


def event_payload(
    event: SesEvent, record: MessageRecord, *, identity: Identity | None
) -> dict[str, Any]:
    """The event-publishing JSON object (configuration-set event destinations)."""
    return {
        "eventType": event.type,
        "mail": mail_object(record, identity=identity, channel="event-publishing"),
        DETAIL_KEYS[event.type]: dict(event.detail),
    }


def notification_payload(
    event: SesEvent, record: MessageRecord, *, identity: Identity | None, include_headers: bool
) -> dict[str, Any]:
    """The notification JSON object (identity notification topics): Bounce/Complaint/Delivery."""
    if event.type not in NOTIFICATION_TYPES:
        raise ValueError(f"{event.type} events have no notification format")
    return {
        "notificationType": event.type,
        "mail": mail_object(
            record, identity=identity, channel="notification", include_headers=include_headers
        ),
        DETAIL_KEYS[event.type]: dict(event.detail),
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """One place an event goes: an SNS topic, in one of the two formats."""

    channel: Channel
    topic_arn: str
    payload: dict[str, Any]
    configuration_set: str | None = None
    event_destination: str | None = None
    identity: str | None = None


def routable(record: MessageRecord, state: AccountState | None) -> bool:
    """Whether `routes` could find a route for any event of ``record``: its configuration set
    has an enabled SNS event destination, or its sending identity has a notification topic.

    When it has neither, the message's events go nowhere but the log, so the publisher defers
    generating them until they are read (`record_events`).
    """
    if state is None:
        return False
    if record.configuration_set:
        configuration_set = state.configuration_sets.get(record.configuration_set)
        if configuration_set is not None and any(
            destination.get("Enabled") and isinstance(destination.get("SnsDestination"), dict)
            for destination in configuration_set.event_destinations.values()
        ):
            return True
    identity = sending_identity(state, record.envelope_from)
    return identity is not None and any(identity.notification_topics.values())


def routes(event: SesEvent, record: MessageRecord, state: AccountState | None) -> list[Route]:
    """Where SES publishes ``event``: each enabled SNS event destination of the message's
    configuration set whose MatchingEventTypes has the type, then the sending identity's
    notification topic for the type (Bounce, Complaint, Delivery only).

    Destinations of other kinds (CloudWatch, Firehose, EventBridge, Pinpoint) are stored by the
    emulator but published nowhere.
    """
    identity = sending_identity(state, record.envelope_from)
    found: list[Route] = []
    configuration_set = (
        state.configuration_sets.get(record.configuration_set)
        if state is not None and record.configuration_set
        else None
    )
    if configuration_set is not None:
        wanted = MATCHING_EVENT_TYPES[event.type]
        for name, destination in configuration_set.event_destinations.items():
            sns = destination.get("SnsDestination")
            if not destination.get("Enabled") or not isinstance(sns, dict):
                continue
            if wanted not in destination.get("MatchingEventTypes", ()):
                continue
            found.append(
                Route(
                    channel="event-publishing",
                    topic_arn=str(sns["TopicArn"]),
                    payload=event_payload(event, record, identity=identity),
                    configuration_set=configuration_set.name,
                    event_destination=name,
                )
            )
    if identity is not None and event.type in NOTIFICATION_TYPES:
        topic = identity.notification_topics.get(event.type)
        if topic:
            include = identity.headers_in_notifications.get(event.type, False)
            found.append(
                Route(
                    channel="notification",
                    topic_arn=topic,
                    payload=notification_payload(
                        event, record, identity=identity, include_headers=include
                    ),
                    identity=identity.name,
                )
            )
    return found


# --------------------------------------------------------------------------- the log


@dataclass(slots=True, kw_only=True)
class LoggedEvent:
    """One generated event, where it was published, and each delivery's fate."""

    id: str
    message_id: str
    account: str
    region: str
    event: SesEvent
    # One entry per route: channel, topic_arn, configuration_set / event_destination /
    # identity, and "deliveries" (one per subscription, updated as attempts finish).
    published: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The event as ``GET /_emulator/events`` and `MessageRecord.events` show it."""
        return {
            "id": self.id,
            "message_id": self.message_id,
            "account": self.account,
            "region": self.region,
            "type": self.event.type,
            "timestamp": iso_timestamp(self.event.timestamp),
            "recipients": list(self.event.recipients),
            "detail": dict(self.event.detail),
            "published": [
                {**route, "deliveries": [dict(d) for d in route["deliveries"]]}
                for route in self.published
            ],
        }


_DEFERRED_MARKERS: Final = {
    flag: DeferredEvents(ooto_transient_bounce=flag) for flag in (False, True)
}


def deferred_marker(*, ooto_transient_bounce: bool) -> DeferredEvents:
    """The (shared) `DeferredEvents` to set on a record whose events are generated on read."""
    return _DEFERRED_MARKERS[ooto_transient_bounce]


def generated_events(
    record: MessageRecord, *, ooto_transient_bounce: bool, virus: bool | None = None
) -> list[LoggedEvent]:
    """`generate`'s events for ``record`` as logged entries, with ids from `event_id` and
    nothing published (what a message no route could take shows)."""
    return [
        LoggedEvent(
            id=event_id(record.id, index),
            message_id=record.id,
            account=record.account,
            region=record.region,
            event=event,
        )
        for index, event in enumerate(
            generate(record, ooto_transient_bounce=ooto_transient_bounce, virus=virus)
        )
    ]


def record_events(record: MessageRecord) -> list[dict[str, Any]]:
    """Every event of ``record``, oldest first, as the control API shows them: its deferred
    generated events, when it has some (`emulator.store.DeferredEvents`), then
    `MessageRecord.events`. A new list; the stored entries themselves are not copied."""
    deferred = record.deferred_events
    if deferred is None:
        return list(record.events)
    generated = generated_events(
        record, ooto_transient_bounce=deferred.ooto_transient_bounce, virus=_viewed_is_virus(record)
    )
    return [*(logged.to_json() for logged in generated), *record.events]


# Message views (the control API, the inbox's poll every second) generate a message's deferred
# events on every read; the virus scan is the costly part (a multipart message with encoded
# parts: ~0.1-0.4 ms), and its answer never changes, so it is kept per message. Keyed by message
# id, bounded by count.
_viewed_is_virus: PerMessage[bool] = PerMessage(
    lambda record: _is_virus(record.raw), max_entries=16_384
)


@dataclass(slots=True, eq=False)
class _Deferred:
    """A log entry standing for a record's deferred events (at least one: Send).

    When the record is deleted from the store, `release` generates its events once and keeps
    them instead, so the log no longer holds the record (and its MIME content).
    """

    record: MessageRecord | None  # None once released
    message_id: str
    account: str
    region: str
    ooto_transient_bounce: bool
    # Learnt on the first read, so later reads neither count nor parse again.
    count: int | None = None
    virus: bool | None = None
    dropped: int = 0  # the oldest events that fell out of the log (`EventLog.clear`)
    generated: list[LoggedEvent] | None = None  # every generated event, once released

    @classmethod
    def of(cls, record: MessageRecord, *, ooto_transient_bounce: bool) -> _Deferred:
        return cls(
            record=record,
            message_id=record.id,
            account=record.account,
            region=record.region,
            ooto_transient_bounce=ooto_transient_bounce,
        )

    # Readers do not take the log's lock. `release` sets ``count`` and ``generated`` before
    # it clears ``record``, so a reader that finds ``record`` gone finds both set.

    def expand(self) -> list[LoggedEvent]:
        record = self.record
        found = self.generated if record is None else self._generate(record)
        assert found is not None
        return found[self.dropped :]

    def size(self) -> int:
        record = self.record
        if self.count is None and record is not None:
            self.count = _count(
                record,
                ooto_transient_bounce=self.ooto_transient_bounce,
                virus=lambda: self._virus(record),
            )
        assert self.count is not None
        return self.count - self.dropped

    def release(self) -> None:
        """Keep the record's generated events instead of the record."""
        record = self.record
        if record is not None:
            self.generated = self._generate(record)
            self.record = None

    def _generate(self, record: MessageRecord) -> list[LoggedEvent]:
        found = generated_events(
            record, ooto_transient_bounce=self.ooto_transient_bounce, virus=self._virus(record)
        )
        self.count = len(found)
        return found

    def _virus(self, record: MessageRecord) -> bool:
        if self.virus is None:
            self.virus = _is_virus(record.raw)
        return self.virus


class EventLog:
    """Every generated event, oldest first, bounded to the newest `MAX_LOGGED_EVENTS`
    (thread-safe).

    An entry is one logged event or one record's deferred events (`add_deferred`), generated
    when the log is read. Each entry holds at least one event, so keeping the newest ``limit``
    entries keeps at least the newest ``limit`` events; reads trim to exactly those. When
    records are deleted from the store, `release_records` makes the log let go of them.
    """

    def __init__(self, limit: int = MAX_LOGGED_EVENTS) -> None:
        if limit <= 0:
            raise ValueError(f"limit: must be positive (got {limit})")
        self._limit = limit
        self._entries: deque[LoggedEvent | _Deferred] = deque(maxlen=limit)
        # The entries still holding a record, by message id (a record logged twice: twice).
        self._holding: dict[str, list[_Deferred]] = {}
        self._lock = threading.Lock()

    def add(self, record: MessageRecord, event: SesEvent, *, id: str | None = None) -> LoggedEvent:
        """Log ``event`` of ``record`` (under ``id``, else a random UUID); the caller fills in
        ``published``."""
        logged = LoggedEvent(
            id=str(uuid.uuid4()) if id is None else id,
            message_id=record.id,
            account=record.account,
            region=record.region,
            event=event,
        )
        with self._lock:
            self._append(logged)
        return logged

    def add_deferred(self, record: MessageRecord) -> None:
        """Log ``record``'s generated events without generating them: they are generated
        (`generated_events`) each time the log is read, until `release_records` is told the
        record was deleted. ``record.deferred_events`` must be set.
        """
        deferred = record.deferred_events
        if deferred is None:
            raise ValueError(f"record {record.id}: deferred_events is not set")
        entry = _Deferred.of(record, ooto_transient_bounce=deferred.ooto_transient_bounce)
        with self._lock:
            self._append(entry)
            self._holding.setdefault(record.id, []).append(entry)

    def _append(self, entry: LoggedEvent | _Deferred) -> None:
        # Called with the lock held. The deque drops its oldest entry when full: forget it here.
        if len(self._entries) == self._limit:
            self._unhold(self._entries[0])
        self._entries.append(entry)

    def _unhold(self, entry: LoggedEvent | _Deferred) -> None:
        if not isinstance(entry, _Deferred):
            return
        held = [e for e in self._holding.get(entry.message_id, ()) if e is not entry]
        if held:
            self._holding[entry.message_id] = held
        else:
            self._holding.pop(entry.message_id, None)

    def release_records(self, message_ids: Iterable[str] | None = None) -> None:
        """Let go of the records of ``message_ids`` (of every message, with None), which the
        store no longer keeps: their deferred events are generated now and kept as they are,
        so reads show the same events, and the records (with their MIME content) can be freed.

        Call it whenever records are deleted from the store. Costs a generation per entry
        released, and nothing for messages whose events were not deferred.
        """
        with self._lock:
            if message_ids is None:
                entries = [e for held in self._holding.values() for e in held]
                self._holding.clear()
            else:
                entries = [e for i in message_ids for e in self._holding.pop(i, ())]
        # Generated outside the lock: the EICAR check may parse the message.
        for entry in entries:
            entry.release()

    def _window(self) -> list[tuple[LoggedEvent | _Deferred, int]]:
        with self._lock:
            entries = list(self._entries)
        return self._window_of(entries)

    def _window_of(
        self, entries: Sequence[LoggedEvent | _Deferred]
    ) -> list[tuple[LoggedEvent | _Deferred, int]]:
        """The entries holding the newest ``limit`` events, oldest first, each with how many
        of its events are in the window (its newest ones)."""
        window: list[tuple[LoggedEvent | _Deferred, int]] = []
        room = self._limit
        for entry in reversed(entries):
            if room <= 0:
                break
            count = 1 if isinstance(entry, LoggedEvent) else entry.size()
            window.append((entry, min(count, room)))
            room -= count
        window.reverse()
        return window

    def select(
        self,
        *,
        message_id: str | None = None,
        event_type: str | None = None,
        account: str | None = None,
        region: str | None = None,
    ) -> list[LoggedEvent]:
        """Logged events matching every filter given, oldest first."""
        found: list[LoggedEvent] = []
        for entry, kept in self._window():
            if not (
                (message_id is None or entry.message_id == message_id)
                and (account is None or entry.account == account)
                and (region is None or entry.region == region)
            ):
                continue
            expanded = entry.expand() if isinstance(entry, _Deferred) else [entry]
            for logged in expanded[len(expanded) - kept :]:
                if event_type is None or logged.event.type == event_type:
                    found.append(logged)
        return found

    def clear(self, *, account: str | None = None, region: str | None = None) -> None:
        """Forget the events of one account and/or region, or all of them."""
        with self._lock:
            if account is None and region is None:
                self._entries.clear()
                self._holding.clear()
                return
            # Events already pushed out by newer ones stay out: only the window is kept.
            kept: list[LoggedEvent | _Deferred] = []
            for entry, in_window in self._window_of(list(self._entries)):
                if (account is None or entry.account == account) and (
                    region is None or entry.region == region
                ):
                    continue
                if isinstance(entry, _Deferred):
                    entry.dropped += entry.size() - in_window
                kept.append(entry)
            self._entries.clear()
            self._entries.extend(kept)
            self._holding.clear()
            for entry in kept:
                if isinstance(entry, _Deferred) and entry.record is not None:
                    self._holding.setdefault(entry.message_id, []).append(entry)

    def __len__(self) -> int:
        return sum(kept for _, kept in self._window())
