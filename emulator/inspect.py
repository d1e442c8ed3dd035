"""See and steer the emulator over HTTP: ``/_aws/ses`` and the ``/_emulator/`` control API.

Two families of routes, mounted on the emulator's own port by `add_routes`:

- ``GET``/``DELETE /_aws/ses`` — LocalStack-compatible retrieval of sent mail, so existing
  viewers and helpers work unchanged. Every kind of send is listed (simple, raw, templated and
  each bulk entry), and ``Destination`` is always an object (LocalStack returned ``[]`` for raw
  sends, localstack/localstack#7236).
- ``/_emulator/...`` — the emulator's own JSON API, **API version 1** (`API_VERSION`): rich
  message records with filters and paging, the raw ``.eml``, reset, account settings, the clock,
  identities, health and the effective settings. Errors are
  ``{"error": {"code", "message", "field"}}``; unknown ``/_emulator/`` paths are a JSON 404.

The pure pieces — turning a `MessageRecord` into JSON, parsing and applying filters, paging —
are plain functions (`message_json`, `localstack_json`, `MessageQuery`, `page_messages`) that the
unit tests call without a server; the aiohttp handlers only read requests and write responses.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import importlib.metadata
import json
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import getaddresses
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web
from multidict import MultiMapping

from emulator.config import Settings
from emulator.events import record_events
from emulator.faults import FAULT_RULES
from emulator.ses import account as account_ops
from emulator.ses import identities as identity_ops
from emulator.ses.errors import SesError
from emulator.ses.identities import IdentityKind
from emulator.ses.state import Backend, Identity
from emulator.store import AttachmentInfo, MessageParts, MessageRecord, PerMessage, parse_parts

__all__ = [
    "API_VERSION",
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "AdvanceClock",
    "ClockChange",
    "ControlError",
    "MessagePage",
    "MessageQuery",
    "PageRequest",
    "RealClock",
    "SetClock",
    "add_routes",
    "clock_json",
    "json_body",
    "localstack_json",
    "message_json",
    "page_messages",
    "parse_clock_change",
    "settings_json",
]

API_VERSION: Final = 1
DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 1000

# LocalStack writes `Timestamp` with `localstack.utils.time.timestamp()`: UTC, seconds, no zone.
_LOCALSTACK_TIMESTAMP = "%Y-%m-%dT%H:%M:%S"

# The ?kind= values of GET /_emulator/identities, mapped to the typed kind.
_IDENTITY_KINDS: Final[dict[str, IdentityKind]] = {
    "EmailAddress": "EmailAddress",
    "Domain": "Domain",
}
# An AWS account id is 12 digits; regions are lower-case words joined by dashes ("us-east-1").
_ACCOUNT_RE = re.compile(r"\d{12}")
_REGION_RE = re.compile(r"[a-z]{2}(-[a-z0-9]+){1,4}")

# 9999-12-31T23:59:59Z: the last moment `datetime` (and so every ISO timestamp here) can show.
_MAX_EPOCH: Final = 253_402_300_799.0

_FILTER_PARAMS: Final = (
    "recipient",
    "sender",
    "subject",
    "tag",
    "since",
    "account",
    "region",
    "operation",
)
_PAGE_PARAMS: Final = ("limit", "next_token", "offset", "include", "view")


class ControlError(Exception):
    """A request to the control API that cannot be served; becomes a JSON error response.

    ``field`` names the query parameter or body key that was wrong (``None`` when the request
    as a whole is at fault, as for an unknown path).
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str = "InvalidParameter",
        status: int = 400,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
        self.status = status

    def to_json(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


# --------------------------------------------------------------------------- records → JSON


class _PartsCache:
    """Parsed MIME parts of recently shown messages, bounded by the bytes they stand for.

    Parsing a stored message with the ``email`` package's modern policy costs milliseconds, and
    viewers poll ``/_aws/ses`` for the whole outbox; a stored message's MIME never changes, so
    each is parsed once while it stays in the cache. Keyed by the raw bytes themselves (their
    hash is cached by Python), so a reset or a deleted message can never serve stale parts.
    """

    def __init__(self, budget_bytes: int) -> None:
        self._budget = budget_bytes
        self._used = 0
        self._entries: OrderedDict[bytes, MessageParts] = OrderedDict()
        self._lock = threading.Lock()

    def parts(self, raw: bytes) -> MessageParts:
        with self._lock:
            cached = self._entries.get(raw)
            if cached is not None:
                self._entries.move_to_end(raw)
                return cached
        parts = parse_parts(raw)
        # A message counts twice: its bytes, and the decoded text and HTML kept alongside.
        cost = 2 * len(raw)
        if cost <= self._budget // 8:  # a giant message would evict everything for one hit
            with self._lock:
                if raw not in self._entries:
                    self._entries[raw] = parts
                    self._used += cost
                while self._used > self._budget:
                    evicted, _ = self._entries.popitem(last=False)
                    self._used -= 2 * len(evicted)
        return parts


_PARTS = _PartsCache(budget_bytes=64 * 1024 * 1024)

# The summary view (the inbox polls it every second for up to 500 messages) shows each
# message's attachments but not its bodies. Their list is kept per message, so a message is
# parsed for it once, not once per poll as the byte-bounded parts cache above would for a page
# of large messages.
_attachments: PerMessage[list[AttachmentInfo]] = PerMessage(
    lambda record: _PARTS.parts(record.raw).attachments, max_entries=4 * MAX_LIMIT
)


def _iso(timestamp: float) -> str:
    """Epoch seconds → ISO 8601 in UTC with milliseconds and a ``Z``."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _bare(addresses: Iterable[str]) -> list[str]:
    """The bare addresses in ``"Name" <a@b>``-style strings, in order."""
    return [addr for _, addr in getaddresses(list(addresses)) if addr]


def _destination_lists(record: MessageRecord) -> tuple[list[str], list[str], list[str]]:
    """To, Cc and Bcc as given, plus any envelope recipient the headers do not name as Bcc.

    A raw send's envelope (``Destinations``) may reach addresses that no header shows — that is
    how Bcc travels in raw mail — so every envelope recipient appears somewhere in the result.
    """
    named = {addr.lower() for addr in _bare([*record.to, *record.cc, *record.bcc])}
    bcc = list(record.bcc)
    for recipient in record.recipients:
        if recipient.lower() not in named:
            bcc.append(recipient)
            named.add(recipient.lower())
    return list(record.to), list(record.cc), bcc


def localstack_json(record: MessageRecord) -> dict[str, Any]:
    """One record in LocalStack's ``/_aws/ses`` schema (its ``SentEmail`` keys).

    Simple sends carry ``Subject`` and ``Body``; templated sends (bulk entries included)
    ``Template`` and ``TemplateData`` — and, beyond LocalStack, the rendered ``Subject`` and
    ``Body`` too; raw sends ``RawData``. ``Destination`` is always an object.
    """
    to, cc, bcc = _destination_lists(record)
    out: dict[str, Any] = {
        "Id": record.id,
        "Region": record.region,
        "Timestamp": datetime.fromtimestamp(record.timestamp, UTC).strftime(_LOCALSTACK_TIMESTAMP),
        "Source": record.source,
        "Destination": {"ToAddresses": to, "CcAddresses": cc, "BccAddresses": bcc},
    }
    if record.kind == "raw":
        out["RawData"] = record.raw.decode("utf-8", "replace")
        return out
    if record.kind == "template":
        out["Template"] = record.template
        out["TemplateData"] = record.template_data
    parts = _PARTS.parts(record.raw)
    out["Subject"] = record.subject
    out["Body"] = {"text_part": parts.text, "html_part": parts.html}
    return out


def _raw_inline(raw: bytes) -> tuple[str, str]:
    """The raw message as JSON text: UTF-8 when it decodes, else base64 (``(text, encoding)``)."""
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), "base64"


def _bodies_json(parts: MessageParts) -> dict[str, Any]:
    """What only the full view shows: ``text``, ``html`` and ``headers``."""
    return {
        "text": parts.text,
        "html": parts.html,
        "headers": [{"name": name, "value": value} for name, value in parts.headers],
    }


def message_json(
    record: MessageRecord, *, include_raw: bool = False, summary: bool = False
) -> dict[str, Any]:
    """The control API's rich record for one message (API version 1).

    Rendered text, HTML, headers and attachments are read from the stored MIME, so they are
    exactly what SES would have delivered. A ``summary`` leaves out ``text``, ``html`` and
    ``headers`` (`_bodies_json`) and is otherwise the same record.
    """
    parts = None if summary else _PARTS.parts(record.raw)
    attachments = _attachments(record) if parts is None else parts.attachments
    to, cc, bcc = _destination_lists(record)
    out: dict[str, Any] = {
        "id": record.id,
        "account": record.account,
        "region": record.region,
        "api": record.api,
        "operation": record.operation,
        "kind": record.kind,
        "timestamp": record.timestamp,
        "timestamp_iso": _iso(record.timestamp),
        "source": record.source,
        "envelope_from": record.envelope_from,
        "destination": {"to": to, "cc": cc, "bcc": bcc},
        "recipients": list(record.recipients),
        "reply_to": list(record.reply_to),
        "subject": record.subject,
        **({} if parts is None else _bodies_json(parts)),
        "attachments": [
            {
                "filename": att.filename,
                "content_type": att.content_type,
                "size": att.size,
                "content_id": att.content_id,
                "disposition": att.disposition,
            }
            for att in attachments
        ],
        "raw_url": f"/_emulator/messages/{record.id}/raw",
        "raw_size": len(record.raw),
        "template": record.template,
        "template_data": record.template_data,
        "tags": [{"name": name, "value": value} for name, value in record.tags],
        "configuration_set": record.configuration_set,
        "bulk_id": record.bulk_id,
        "outcomes": dict(record.outcomes),
        "status": record.status,
        "rendering_error": record.rendering_error,
        "events": [dict(event) for event in record_events(record)],
    }
    if include_raw:
        out["raw"], out["raw_encoding"] = _raw_inline(record.raw)
    return out


def clock_json(backend: Backend) -> dict[str, Any]:
    """``{"now", "now_iso", "virtual"}`` for the backend's clock."""
    now = backend.clock.now()
    return {"now": now, "now_iso": _iso(now), "virtual": backend.clock.is_virtual}


def settings_json(settings: Settings) -> dict[str, Any]:
    """The effective settings as JSON, with secrets (credentials, control token) masked."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if f.name == "credentials":
            # Access key ids help a user see which keys are accepted; secrets never leave.
            value = [{"access_key_id": key, "secret_access_key": "***"} for key, _ in value]
        elif f.name in ("control_token", "smtp_relay_password"):
            value = None if value is None else "***"
        elif f.name == "sns_subscriptions":
            # A webhook URL may carry basic-auth credentials (user:password@host).
            value = [[topic, _mask_url_password(url)] for topic, url in value]
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    out["profile_values"] = dataclasses.asdict(settings.profile_values())
    return out


def _mask_url_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{userinfo.split(':', 1)[0]}:***@{hostport}"))


def _identity_json(identity: Identity, account: str, region: str) -> dict[str, Any]:
    return {
        "identity": identity.name,
        "kind": identity.kind,
        "status": identity.status,
        "account": account,
        "region": region,
    }


# --------------------------------------------------------------------------- filters and paging


def _single(query: MultiMapping[str], name: str) -> str | None:
    values = query.getall(name, [])
    if not values:
        return None
    if len(values) > 1:
        raise ControlError(f"{name}: give this parameter at most once", field=name)
    return values[0]


def _nonempty(query: MultiMapping[str], name: str) -> str | None:
    value = _single(query, name)
    if value is not None and not value.strip():
        raise ControlError(f"{name}: must not be empty", field=name)
    return value


def _parse_time(value: str | float, field: str) -> float:
    """Epoch seconds (number or numeric string) or an ISO 8601 date-time (UTC if no offset)."""
    if isinstance(value, bool):
        raise ControlError(
            f"{field}: expected epoch seconds or ISO 8601 (got a boolean)", field=field
        )
    if isinstance(value, int | float):
        epoch = float(value)
    else:
        try:
            epoch = float(value)
        except ValueError:
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise ControlError(
                    f"{field}: expected epoch seconds or ISO 8601, e.g. "
                    f"2026-01-31T12:00:00Z (got {value!r})",
                    field=field,
                ) from None
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            epoch = moment.timestamp()
    if not math.isfinite(epoch) or not 0 <= epoch <= _MAX_EPOCH:
        raise ControlError(
            f"{field}: must be a time from 1970 to 9999 (got {value!r})", field=field
        )
    return epoch


def _check_tag(value: str) -> str:
    if not value or value.startswith(":"):
        raise ControlError(f"tag: must be 'name' or 'name:value' (got {value!r})", field="tag")
    return value


def _has_tag(record: MessageRecord, wanted: str) -> bool:
    # Matching both spellings against each tag, rather than splitting the filter at a ':',
    # keeps names that contain one ("ses:feedback-id-a") unambiguous.
    return any(wanted in (name, f"{name}:{value}") for name, value in record.tags)


def _check_account(value: str | None, field: str = "account") -> str | None:
    if value is not None and not _ACCOUNT_RE.fullmatch(value):
        raise ControlError(
            f"{field}: must be a 12-digit AWS account id (got {value!r})", field=field
        )
    return value


def _check_region(value: str | None, field: str = "region") -> str | None:
    if value is not None and not _REGION_RE.fullmatch(value):
        raise ControlError(
            f"{field}: must be an AWS region name such as 'us-east-1' (got {value!r})", field=field
        )
    return value


def _reject_unknown(query: MultiMapping[str], allowed: Sequence[str]) -> None:
    for name in query:
        if name not in allowed:
            raise ControlError(
                f"{name}: unknown parameter; allowed: {', '.join(allowed)}", field=name
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageQuery:
    """Which messages a request is about. Every given filter must match (AND).

    ``recipient`` and ``sender`` compare bare addresses case-insensitively; ``subject`` is a
    case-insensitive substring; each ``tags`` item is ``"name"`` (has that tag) or
    ``"name:value"``; ``since`` keeps messages sent at or after that epoch second.
    """

    recipient: str | None = None
    sender: str | None = None
    subject: str | None = None
    tags: tuple[str, ...] = ()
    since: float | None = None
    account: str | None = None
    region: str | None = None
    operation: str | None = None

    @classmethod
    def from_query(cls, query: MultiMapping[str]) -> MessageQuery:
        """Read the filters from a query string (other parameters are the caller's business)."""
        since = _nonempty(query, "since")
        return cls(
            recipient=_nonempty(query, "recipient"),
            sender=_nonempty(query, "sender"),
            subject=_single(query, "subject"),
            tags=tuple(_check_tag(v) for v in query.getall("tag", [])),
            since=None if since is None else _parse_time(since, "since"),
            account=_check_account(_nonempty(query, "account")),
            region=_check_region(_nonempty(query, "region")),
            operation=_nonempty(query, "operation"),
        )

    def matches(self, record: MessageRecord) -> bool:
        if self.account is not None and record.account != self.account:
            return False
        if self.region is not None and record.region != self.region:
            return False
        if self.operation is not None and record.operation.lower() != self.operation.lower():
            return False
        if self.since is not None and record.timestamp < self.since:
            return False
        if self.subject is not None and self.subject.lower() not in (record.subject or "").lower():
            return False
        if self.sender is not None:
            wanted = self.sender.strip().lower()
            senders = {record.envelope_from.lower(), *(a.lower() for a in _bare([record.source]))}
            if wanted not in senders:
                return False
        if self.recipient is not None:
            wanted = self.recipient.strip().lower()
            everyone = [*record.recipients, *_bare([*record.to, *record.cc, *record.bcc])]
            if wanted not in {addr.lower() for addr in everyone}:
                return False
        return all(_has_tag(record, wanted) for wanted in self.tags)

    def select(self, records: Iterable[MessageRecord]) -> list[MessageRecord]:
        """The matching records, most recently sent first."""
        matched = [record for record in records if self.matches(record)]
        matched.reverse()
        return matched


@dataclass(frozen=True, slots=True, kw_only=True)
class PageRequest:
    """Which slice of the matching messages to return."""

    limit: int = DEFAULT_LIMIT
    offset: int | None = None
    next_token: str | None = None
    include_raw: bool = False
    summary: bool = False  # ``view=summary``: records without bodies and headers

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ControlError(
                f"limit: must be between 1 and {MAX_LIMIT} (got {self.limit})", field="limit"
            )
        if self.offset is not None and self.offset < 0:
            raise ControlError(f"offset: must be 0 or more (got {self.offset})", field="offset")
        if self.offset is not None and self.next_token is not None:
            raise ControlError("offset: give either offset or next_token, not both", field="offset")
        if self.summary and self.include_raw:
            raise ControlError(
                "include: 'raw' needs the full view, not view=summary", field="include"
            )

    @classmethod
    def from_query(cls, query: MultiMapping[str]) -> PageRequest:
        limit = _int_param(query, "limit")
        include = _single(query, "include")
        if include not in (None, "raw"):
            raise ControlError(
                f"include: the only value is 'raw' (got {include!r})", field="include"
            )
        view = _single(query, "view")
        if view not in (None, "full", "summary"):
            raise ControlError(
                f"view: 'full' (the default) or 'summary' (got {view!r})", field="view"
            )
        return cls(
            limit=DEFAULT_LIMIT if limit is None else limit,
            offset=_int_param(query, "offset"),
            next_token=_nonempty(query, "next_token"),
            include_raw=include == "raw",
            summary=view == "summary",
        )


def _int_param(query: MultiMapping[str], name: str) -> int | None:
    value = _single(query, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ControlError(f"{name}: expected an integer (got {value!r})", field=name) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagePage:
    """One page of matching messages and the token for the next (``None`` on the last page)."""

    records: list[MessageRecord]
    total: int
    next_token: str | None


def _encode_token(message_id: str) -> str:
    return base64.urlsafe_b64encode(message_id.encode("utf-8")).decode("ascii")


def _decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise ControlError(
            "next_token: not a token this API returned", field="next_token"
        ) from None


def page_messages(matched: Sequence[MessageRecord], page: PageRequest) -> MessagePage:
    """Slice ``matched`` (already in newest-first order).

    A ``next_token`` names the last message of the previous page, so messages sent between two
    page requests do not shift the pages (they appear at the front, on no later page).
    """
    start = page.offset or 0
    if page.next_token is not None:
        after = _decode_token(page.next_token)
        for index, record in enumerate(matched):
            if record.id == after:
                start = index + 1
                break
        else:
            raise ControlError(
                "next_token: the message it points after no longer matches (deleted or reset); "
                "start again without next_token",
                field="next_token",
            )
    chunk = list(matched[start : start + page.limit])
    more = start + page.limit < len(matched)
    token = _encode_token(chunk[-1].id) if more and chunk else None
    return MessagePage(records=chunk, total=len(matched), next_token=token)


# --------------------------------------------------------------------------- clock changes


@dataclass(frozen=True, slots=True)
class AdvanceClock:
    """Move virtual time forward by ``seconds``."""

    seconds: float


@dataclass(frozen=True, slots=True)
class SetClock:
    """Freeze time at ``now`` (epoch seconds)."""

    now: float


@dataclass(frozen=True, slots=True)
class RealClock:
    """Go back to wall-clock time."""


# What a valid ``POST /_emulator/clock`` body asks for.
ClockChange = AdvanceClock | SetClock | RealClock


def parse_clock_change(body: Mapping[str, Any]) -> ClockChange:
    """Validate a ``POST /_emulator/clock`` body: exactly one of ``advance``, ``now``, ``real``."""
    allowed = ("advance", "now", "real")
    for key in body:
        if key not in allowed:
            raise ControlError(f"{key}: unknown key; give one of advance, now, real", field=key)
    given = [key for key in allowed if key in body]
    if len(given) != 1:
        raise ControlError(
            "body: give exactly one of advance (seconds), now (epoch or ISO 8601) or real (true)",
            field=given[1] if len(given) > 1 else "advance",
        )
    key = given[0]
    value = body[key]
    if key == "real":
        if value is not True:
            raise ControlError(f"real: the only value is true (got {value!r})", field="real")
        return RealClock()
    if key == "now":
        if not isinstance(value, int | float | str):
            raise ControlError(
                f"now: expected epoch seconds or ISO 8601 (got {value!r})", field="now"
            )
        return SetClock(_parse_time(value, "now"))
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlError(
            f"advance: expected a number of seconds (got {value!r})", field="advance"
        )
    if not math.isfinite(value) or value < 0:
        raise ControlError(
            f"advance: the clock only moves forward; give 0 or more seconds (got {value!r})",
            field="advance",
        )
    return AdvanceClock(float(value))


# --------------------------------------------------------------------------- HTTP handlers

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(data: Any, *, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def _dumps(data: Any) -> str:
    return json.dumps(data, default=_json_default)


def _json_default(value: Any) -> Any:
    # Event payloads may hold datetimes or bytes from the core; JSON gets their usual spellings.
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, set | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _errors_as_json(handler: _Handler) -> _Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ControlError as exc:
            return _json(exc.to_json(), status=exc.status)

    return wrapped


async def json_body(request: web.Request, *, allow_empty: bool = True) -> dict[str, Any]:
    """A control request's JSON object body; `ControlError` (the control API's 400, or 413 over
    the size limit) when it is not one. ``allow_empty``: an empty body reads as ``{}``."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        # aiohttp's text names the limit and the actual size.
        raise ControlError(
            f"body: {exc.text}", field="body", code="RequestTooLarge", status=413
        ) from None
    if not raw.strip():
        if allow_empty:
            return {}
        raise ControlError("body: expected a JSON object", field="body")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ControlError(f"body: not valid JSON ({exc})", field="body") from None
    if not isinstance(data, dict):
        raise ControlError("body: expected a JSON object", field="body")
    return data


def _body_str(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ControlError(f"{key}: expected a non-empty string (got {value!r})", field=key)
    return value


def _scope_from_query(query: MultiMapping[str], settings: Settings) -> tuple[str, str]:
    account = _check_account(_nonempty(query, "account")) or settings.default_account
    region = _check_region(_nonempty(query, "region")) or settings.region
    return account, region


def _scope_from_body(body: Mapping[str, Any], settings: Settings) -> tuple[str, str]:
    account = _check_account(_body_str(body, "account")) or settings.default_account
    region = _check_region(_body_str(body, "region")) or settings.region
    return account, region


def _version() -> str:
    try:
        return importlib.metadata.version("seskit")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
        return "0+unknown"


def _release_records(app: web.Application, message_ids: Sequence[str] | None) -> None:
    """Tell the event log of ``app`` (if it has one) that the store deleted the records of
    ``message_ids`` (all of them: None), so it stops holding them (`EventLog.release_records`).

    `Backend.reset` needs no call: its listener drops the reset scope's events from the log.
    """
    # emulator.sns imports this module, so its key is imported when first needed.
    from emulator.sns import PUBLISHER  # noqa: PLC0415

    publisher = app.get(PUBLISHER)
    if publisher is not None:
        publisher.log.release_records(message_ids)


class _ControlApi:
    """The route handlers, bound to one backend."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.version = _version()

    # ---- LocalStack-compatible retrieval

    # LocalStack ignores query parameters it does not know; so do these two routes, so that
    # tools written for it (viewers adding cache-busters, say) keep working.

    async def aws_ses_get(self, request: web.Request) -> web.StreamResponse:
        wanted_id = _single(request.query, "id") or None
        email = _single(request.query, "email") or None
        messages = []
        for record in self.backend.store.iter():
            if wanted_id is not None and record.id != wanted_id:
                continue
            if email is not None and email not in (record.source, record.envelope_from):
                continue
            messages.append(localstack_json(record))
        return _json({"messages": messages})

    async def aws_ses_delete(self, request: web.Request) -> web.StreamResponse:
        wanted_id = _single(request.query, "id") or None
        if wanted_id is None:
            self.backend.store.clear()
            _release_records(request.app, None)
        else:
            self.backend.store.delete(wanted_id)
            _release_records(request.app, [wanted_id])
        return web.Response(status=204)

    # ---- messages

    async def messages_get(self, request: web.Request) -> web.StreamResponse:
        _reject_unknown(request.query, (*_FILTER_PARAMS, *_PAGE_PARAMS))
        query = MessageQuery.from_query(request.query)
        page_request = PageRequest.from_query(request.query)
        page = page_messages(query.select(self.backend.store.iter()), page_request)
        return _json(
            {
                "messages": [
                    message_json(
                        r, include_raw=page_request.include_raw, summary=page_request.summary
                    )
                    for r in page.records
                ],
                "count": len(page.records),
                "total": page.total,
                "next_token": page.next_token,
            }
        )

    async def messages_delete(self, request: web.Request) -> web.StreamResponse:
        _reject_unknown(request.query, _FILTER_PARAMS)
        query = MessageQuery.from_query(request.query)
        doomed = query.select(self.backend.store.iter())
        for record in doomed:
            self.backend.store.delete(record.id)
        _release_records(request.app, [record.id for record in doomed])
        return web.Response(status=204, headers={"X-Deleted-Count": str(len(doomed))})

    def _record(self, request: web.Request) -> MessageRecord:
        message_id = request.match_info["message_id"]
        record = self.backend.store.get(message_id)
        if record is None:
            raise ControlError(
                f"no message with id {message_id!r}", field="id", code="NotFound", status=404
            )
        return record

    async def message_get(self, request: web.Request) -> web.StreamResponse:
        _reject_unknown(request.query, ("include",))
        include = _single(request.query, "include")
        if include not in (None, "raw"):
            raise ControlError(
                f"include: the only value is 'raw' (got {include!r})", field="include"
            )
        return _json(message_json(self._record(request), include_raw=include == "raw"))

    async def message_raw(self, request: web.Request) -> web.StreamResponse:
        record = self._record(request)
        return web.Response(
            body=record.raw,
            content_type="message/rfc822",
            headers={"Content-Disposition": f'attachment; filename="{record.id}.eml"'},
        )

    async def message_delete(self, request: web.Request) -> web.StreamResponse:
        message_id = self._record(request).id
        self.backend.store.delete(message_id)
        _release_records(request.app, [message_id])
        return web.Response(status=204)

    # ---- state

    async def reset(self, request: web.Request) -> web.StreamResponse:
        body = await json_body(request)
        for key in body:
            if key not in ("account", "region"):
                raise ControlError(f"{key}: unknown key; allowed: account, region", field=key)
        account = _check_account(_body_str(body, "account"))
        region = _check_region(_body_str(body, "region"))
        self.backend.reset(account, region)
        if account is None and region is None:
            # "All state" includes time and injected faults: a test that froze the clock or
            # armed a fault must not leak it into the next one.
            self.backend.clock.use_real_time()
            faults = request.app.get(FAULT_RULES)
            if faults is not None:
                faults.clear()
        return web.Response(status=204)

    async def account_get(self, request: web.Request) -> web.StreamResponse:
        _reject_unknown(request.query, ("account", "region"))
        account, region = _scope_from_query(request.query, self.backend.settings)
        return _json(self._account_view(account, region))

    async def account_patch(self, request: web.Request) -> web.StreamResponse:
        _reject_unknown(request.query, ("account", "region"))
        account, region = _scope_from_query(request.query, self.backend.settings)
        changes = await json_body(request, allow_empty=False)
        state = self.backend.account(account, region)
        try:
            account_ops.apply_settings(state, changes, now=self.backend.clock.now())
        except ValueError as exc:
            raise ControlError(str(exc), field=_field_named(exc, changes)) from exc
        return _json(self._account_view(account, region))

    def _account_view(self, account: str, region: str) -> dict[str, Any]:
        state = self.backend.account(account, region)
        view = account_ops.describe(state, now=self.backend.clock.now())
        view["account"] = account
        view["region"] = region
        return view

    async def clock_get(self, request: web.Request) -> web.StreamResponse:
        _reject_unknown(request.query, ())
        return _json(clock_json(self.backend))

    async def clock_post(self, request: web.Request) -> web.StreamResponse:
        change = parse_clock_change(await json_body(request, allow_empty=False))
        clock = self.backend.clock
        if isinstance(change, AdvanceClock):
            if clock.now() + change.seconds > _MAX_EPOCH:
                raise ControlError(
                    f"advance: would move the clock past the year 9999 (got {change.seconds!r})",
                    field="advance",
                )
            clock.advance(change.seconds)
        elif isinstance(change, SetClock):
            clock.set(change.now)
        else:
            clock.use_real_time()
        return _json(clock_json(self.backend))

    # ---- identities

    async def identities_get(self, request: web.Request) -> web.StreamResponse:
        _reject_unknown(request.query, ("account", "region", "kind"))
        account, region = _scope_from_query(request.query, self.backend.settings)
        kind_name = _single(request.query, "kind")
        kind = None if kind_name is None else _IDENTITY_KINDS.get(kind_name)
        if kind_name is not None and kind is None:
            raise ControlError(
                f"kind: one of {', '.join(_IDENTITY_KINDS)} (got {kind_name!r})", field="kind"
            )
        state = self.backend.account(account, region)
        found = identity_ops.list_identities(state, kind)
        return _json({"identities": [_identity_json(i, account, region) for i in found]})

    async def identities_post(self, request: web.Request) -> web.StreamResponse:
        body = await json_body(request, allow_empty=False)
        for key in body:
            if key not in ("identity", "status", "account", "region"):
                raise ControlError(
                    f"{key}: unknown key; allowed: identity, status, account, region", field=key
                )
        name = _body_str(body, "identity")
        if name is None:
            raise ControlError(
                "identity: required (an email address or a domain)", field="identity"
            )
        status = body.get("status")
        if status is not None and status not in identity_ops.IDENTITY_STATUSES:
            raise ControlError(
                f"status: one of {', '.join(identity_ops.IDENTITY_STATUSES)} (got {status!r})",
                field="status",
            )
        account, region = _scope_from_body(body, self.backend.settings)
        state = self.backend.account(account, region)
        try:
            identity = identity_ops.verify(
                state,
                name,
                now=self.backend.clock.now(),
                status=status,
                settings=self.backend.settings,
            )
        except SesError as exc:
            raise ControlError(f"identity: {exc.message}", field="identity") from exc
        return _json(_identity_json(identity, account, region))

    async def identity_delete(self, request: web.Request) -> web.StreamResponse:
        _reject_unknown(request.query, ("account", "region"))
        account, region = _scope_from_query(request.query, self.backend.settings)
        name = request.match_info["identity"]
        if not identity_ops.delete(self.backend.account(account, region), name):
            raise ControlError(
                f"no identity {name!r} in account {account} region {region}",
                field="identity",
                code="NotFound",
                status=404,
            )
        return web.Response(status=204)

    # ---- about the emulator

    async def health(self, request: web.Request) -> web.StreamResponse:
        return _json({"status": "ok", "version": self.version, "api_version": API_VERSION})

    async def settings(self, request: web.Request) -> web.StreamResponse:
        return _json(settings_json(self.backend.settings))

    async def unknown_path(self, request: web.Request) -> web.StreamResponse:
        raise ControlError(
            f"no such endpoint: {request.method} {request.path} (control API version "
            f"{API_VERSION}; see docs/testing.md)",
            code="NotFound",
            status=404,
        )


def _field_named(exc: ValueError, changes: Mapping[str, Any]) -> str | None:
    """The body key a ValueError from `apply_settings` names (its message starts ``key:``)."""
    text = str(exc)
    return next((key for key in changes if text.startswith(f"{key}:")), None)


def _method_not_allowed(allowed: Sequence[str]) -> _Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        error = ControlError(
            f"{request.method} is not allowed on {request.path}; use {', '.join(allowed)}",
            code="MethodNotAllowed",
            status=405,
        )
        return web.json_response(error.to_json(), status=405, headers={"Allow": ", ".join(allowed)})

    return handler


def add_routes(app: web.Application, backend: Backend) -> None:
    """Mount ``/_aws/ses`` and ``/_emulator/*`` on ``app``, serving ``backend``'s state."""
    api = _ControlApi(backend)
    routes: list[tuple[str, dict[str, _Handler]]] = [
        ("/_aws/ses", {"GET": api.aws_ses_get, "DELETE": api.aws_ses_delete}),
        ("/_emulator/messages", {"GET": api.messages_get, "DELETE": api.messages_delete}),
        (
            "/_emulator/messages/{message_id}",
            {"GET": api.message_get, "DELETE": api.message_delete},
        ),
        ("/_emulator/messages/{message_id}/raw", {"GET": api.message_raw}),
        ("/_emulator/reset", {"POST": api.reset}),
        ("/_emulator/account", {"GET": api.account_get, "PATCH": api.account_patch}),
        ("/_emulator/clock", {"GET": api.clock_get, "POST": api.clock_post}),
        ("/_emulator/identities", {"GET": api.identities_get, "POST": api.identities_post}),
        ("/_emulator/identities/{identity}", {"DELETE": api.identity_delete}),
        ("/_emulator/health", {"GET": api.health}),
        ("/_emulator/settings", {"GET": api.settings}),
    ]
    for path, methods in routes:
        resource = app.router.add_resource(path)
        for method, handler in methods.items():
            resource.add_route(method, _errors_as_json(handler))
        # A known path with the wrong method is a JSON 405, not aiohttp's plain-text page.
        resource.add_route("*", _method_not_allowed(list(methods)))
    # [\s\S]*, not .*: a path with %0A (a decoded newline) must get the JSON 404 too.
    app.router.add_route("*", r"/_emulator/{tail:[\s\S]*}", _errors_as_json(api.unknown_path))
