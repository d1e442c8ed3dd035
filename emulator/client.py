"""A small typed client for the emulator's control API (``/_emulator/``, API version 1).

Standard library only (``urllib``), synchronous, usable from any test suite::

    from emulator.client import EmulatorClient

    emu = EmulatorClient("http://127.0.0.1:4579")
    emu.reset()
    # ... code under test sends mail through boto3 ...
    [message] = emu.messages(recipient="ada@example.com")
    assert message.subject == "Welcome, Ada"
    assert message.template == "welcome"

The ``ses_emulator`` pytest fixture (`emulator.pytest_plugin`) wraps one of these.
"""

from __future__ import annotations

import base64
import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal, TypedDict, Unpack

__all__ = [
    "AccountChanges",
    "AccountSettings",
    "Attachment",
    "ClockControl",
    "ClockState",
    "Destination",
    "EmulatorClient",
    "EmulatorError",
    "Health",
    "IdentityInfo",
    "MessageFilters",
    "MessagePage",
    "SentMessage",
    "VerificationStatus",
]

# A generous bound for following next_token: 1,000 pages of up to 1,000 messages.
_MAX_PAGES: Final = 1000


class EmulatorError(Exception):
    """The control API refused a request: carries the HTTP status and the JSON error's parts."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def _strs(value: Any, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name}: expected a list of strings (got {value!r})")
    return tuple(value)


def _opt_str(value: Any, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name}: expected a string or null (got {value!r})")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Destination:
    """The addresses a message was sent to, as given (display names kept).

    ``bcc`` also lists envelope recipients no header names (how Bcc travels in raw mail).
    """

    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """A non-body MIME part of a sent message."""

    filename: str | None
    content_type: str
    size: int  # decoded bytes
    content_id: str | None = None
    disposition: str | None = None

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError(f"size: must be 0 or more (got {self.size})")


@dataclass(frozen=True, slots=True, kw_only=True)
class SentMessage:
    """One message the emulator accepted (one per bulk entry), as ``GET /_emulator/messages``
    describes it. ``text``, ``html``, ``headers`` and ``attachments`` are read from the MIME the
    emulator would have delivered; ``raw`` is present only when asked for (``include_raw``)."""

    id: str
    account: str
    region: str
    api: Literal["v1", "v2"]
    operation: str
    kind: Literal["simple", "raw", "template"]
    timestamp: float
    source: str
    envelope_from: str
    destination: Destination
    recipients: tuple[str, ...]
    reply_to: tuple[str, ...] = ()
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    attachments: tuple[Attachment, ...] = ()
    raw_url: str = ""
    raw_size: int = 0
    raw: bytes | None = None
    template: str | None = None
    template_data: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    configuration_set: str | None = None
    bulk_id: str | None = None
    outcomes: Mapping[str, str] = field(default_factory=dict)
    status: str = "accepted"
    rendering_error: str | None = None
    events: tuple[Mapping[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.api not in ("v1", "v2"):
            raise ValueError(f"api: 'v1' or 'v2' (got {self.api!r})")
        if self.kind not in ("simple", "raw", "template"):
            raise ValueError(f"kind: 'simple', 'raw' or 'template' (got {self.kind!r})")
        if not math.isfinite(self.timestamp):
            raise ValueError(f"timestamp: must be finite (got {self.timestamp!r})")

    @property
    def sent_at(self) -> datetime:
        """When the emulator accepted the message (its clock, UTC)."""
        return datetime.fromtimestamp(self.timestamp, UTC)

    @property
    def tag_map(self) -> dict[str, str]:
        """The message tags as a dict."""
        return dict(self.tags)

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (case-insensitive), or ``None``."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def template_values(self) -> Any:
        """``template_data`` parsed from JSON (``None`` for non-templated sends)."""
        return None if self.template_data is None else json.loads(self.template_data)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SentMessage:
        """Build from one record of ``GET /_emulator/messages``."""
        destination = data["destination"]
        raw: bytes | None = None
        if "raw" in data:
            text = data["raw"]
            if data.get("raw_encoding") == "base64":
                raw = base64.b64decode(text)
            else:
                raw = text.encode("utf-8")
        return cls(
            id=data["id"],
            account=data["account"],
            region=data["region"],
            api=data["api"],
            operation=data["operation"],
            kind=data["kind"],
            timestamp=float(data["timestamp"]),
            source=data["source"],
            envelope_from=data["envelope_from"],
            destination=Destination(
                to=_strs(destination["to"], "destination.to"),
                cc=_strs(destination["cc"], "destination.cc"),
                bcc=_strs(destination["bcc"], "destination.bcc"),
            ),
            recipients=_strs(data["recipients"], "recipients"),
            reply_to=_strs(data["reply_to"], "reply_to"),
            subject=_opt_str(data["subject"], "subject"),
            text=_opt_str(data["text"], "text"),
            html=_opt_str(data["html"], "html"),
            headers=tuple((h["name"], h["value"]) for h in data["headers"]),
            attachments=tuple(
                Attachment(
                    filename=a["filename"],
                    content_type=a["content_type"],
                    size=int(a["size"]),
                    content_id=a["content_id"],
                    disposition=a["disposition"],
                )
                for a in data["attachments"]
            ),
            raw_url=data["raw_url"],
            raw_size=int(data["raw_size"]),
            raw=raw,
            template=_opt_str(data["template"], "template"),
            template_data=_opt_str(data["template_data"], "template_data"),
            tags=tuple((t["name"], t["value"]) for t in data["tags"]),
            configuration_set=_opt_str(data["configuration_set"], "configuration_set"),
            bulk_id=_opt_str(data["bulk_id"], "bulk_id"),
            outcomes=dict(data["outcomes"]),
            status=data["status"],
            rendering_error=_opt_str(data["rendering_error"], "rendering_error"),
            events=tuple(dict(e) for e in data["events"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagePage:
    """One page of `EmulatorClient.messages_page`."""

    messages: tuple[SentMessage, ...]
    total: int
    next_token: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountSettings:
    """An (account, region)'s sending limits and state, as ``GET /_emulator/account`` reports.

    ``max_send_rate`` and ``max_24h_send`` use SES's convention: ``-1`` means unlimited.
    """

    account: str
    region: str
    sandbox: bool
    max_send_rate: float
    max_24h_send: float
    sending_enabled: bool
    review_status: str | None
    sent_last_24h: float
    profile: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AccountSettings:
        profile = data.get("profile")
        return cls(
            account=data["account"],
            region=data["region"],
            sandbox=bool(data["sandbox"]),
            max_send_rate=float(data["max_send_rate"]),
            max_24h_send=float(data["max_24h_send"]),
            sending_enabled=bool(data["sending_enabled"]),
            review_status=data["review_status"],
            sent_last_24h=float(data["sent_last_24h"]),
            profile=dict(profile) if isinstance(profile, Mapping) else {"name": profile},
        )


VerificationStatus = Literal["Success", "Pending", "Failed", "TemporaryFailure", "NotStarted"]


class AccountChanges(TypedDict, total=False):
    """Settings `EmulatorClient.update_account` can change; ``None`` restores the default."""

    sandbox: bool | None
    max_send_rate: float | None
    max_24h_send: float | None
    sending_enabled: bool | None
    review_status: Literal["PENDING", "GRANTED", "DENIED", "FAILED"] | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockState:
    """The emulator's time and whether it is virtual (moves only when told to)."""

    now: float
    virtual: bool

    @property
    def moment(self) -> datetime:
        """``now`` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now, UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentityInfo:
    """A verified (or verifying) identity in one account and region."""

    identity: str
    kind: Literal["EmailAddress", "Domain"]
    status: str
    account: str
    region: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Health:
    status: str
    version: str
    api_version: int


TimeLike = float | int | datetime | str


def _time_param(value: TimeLike) -> str:
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return moment.isoformat()
    return str(value)


class MessageFilters(TypedDict, total=False):
    """Filters for `EmulatorClient.messages`; every given one must match.

    ``recipient``/``sender`` are bare addresses compared case-insensitively (recipient: any
    envelope, To, Cc or Bcc address); ``subject`` is a case-insensitive substring; ``tag`` is
    ``"name"`` or ``"name:value"`` (or a list of them); ``since`` is epoch seconds, a datetime
    or ISO 8601; ``operation`` is the SES operation name, e.g. ``"SendBulkEmail"``.
    """

    recipient: str
    sender: str
    subject: str
    tag: str | Sequence[str]
    since: TimeLike
    account: str
    region: str
    operation: str


def _filter_params(filters: MessageFilters) -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = []
    for name, value in filters.items():
        if name == "since":
            params.append((name, _time_param(filters["since"])))
        elif name == "tag":
            tags = filters["tag"]
            params.extend(("tag", t) for t in ([tags] if isinstance(tags, str) else tags))
        elif isinstance(value, str):
            params.append((name, value))
        else:
            raise TypeError(f"{name}: expected a string (got {value!r})")
    return params


class ClockControl:
    """The emulator's clock: read it, freeze it, move it, or give it back to real time."""

    def __init__(self, client: EmulatorClient) -> None:
        self._client = client

    def state(self) -> ClockState:
        data = self._client._request("GET", "/_emulator/clock")
        return ClockState(now=float(data["now"]), virtual=bool(data["virtual"]))

    def now(self) -> float:
        """The emulator's current time in epoch seconds."""
        return self.state().now

    def advance(self, seconds: float) -> float:
        """Move time forward (freezing it first if it was real); returns the new time."""
        data = self._client._request("POST", "/_emulator/clock", body={"advance": seconds})
        return float(data["now"])

    def set(self, now: TimeLike) -> float:
        """Freeze time at ``now`` (epoch seconds, an aware datetime or ISO 8601)."""
        value: float | str = now if isinstance(now, float | int) else _time_param(now)
        data = self._client._request("POST", "/_emulator/clock", body={"now": value})
        return float(data["now"])

    def real(self) -> None:
        """Go back to wall-clock time."""
        self._client._request("POST", "/_emulator/clock", body={"real": True})


class EmulatorClient:
    """Talks to one emulator's control API. Errors raise `EmulatorError`.

    ``token`` is the emulator's control token, if it was started with one.

    ``account``/``region`` arguments default, on the server, to the emulator's default account
    and region.
    """

    def __init__(
        self, endpoint_url: str, *, timeout: float = 10.0, token: str | None = None
    ) -> None:
        parsed = urllib.parse.urlsplit(endpoint_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"endpoint_url: expected http(s)://host:port (got {endpoint_url!r})")
        self.endpoint_url = endpoint_url.rstrip("/")
        self.timeout = timeout
        # Sent as a bearer token when the emulator guards its control API (--control-token).
        self.token = token
        self.clock = ClockControl(self)

    # ---- transport

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        body: Mapping[str, Any] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        url = self.endpoint_url + path
        if params:
            url += "?" + urllib.parse.urlencode(list(params))
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token is not None:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            payload = exc.read()
            try:
                error = json.loads(payload)["error"]
            except (ValueError, KeyError, TypeError):
                text = payload.decode("utf-8", "replace")
                raise EmulatorError(exc.code, "HTTPError", text or str(exc.reason)) from exc
            raise EmulatorError(
                exc.code, error["code"], error["message"], error.get("field")
            ) from exc

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        _, _, payload = self._call(method, path, params=params, body=body)
        return json.loads(payload) if payload else None

    # ---- messages

    def messages_page(
        self,
        *,
        limit: int | None = None,
        offset: int | None = None,
        next_token: str | None = None,
        include_raw: bool = False,
        **filters: Unpack[MessageFilters],
    ) -> MessagePage:
        """One page of matching messages, most recently sent first."""
        params = _filter_params(filters)
        for name, value in (("limit", limit), ("offset", offset), ("next_token", next_token)):
            if value is not None:
                params.append((name, str(value)))
        if include_raw:
            params.append(("include", "raw"))
        data = self._request("GET", "/_emulator/messages", params=params)
        return MessagePage(
            messages=tuple(SentMessage.from_json(m) for m in data["messages"]),
            total=int(data["total"]),
            next_token=data["next_token"],
        )

    def messages(
        self, *, include_raw: bool = False, **filters: Unpack[MessageFilters]
    ) -> list[SentMessage]:
        """Every matching message, most recently sent first (all pages).

        Filters combine with AND (see `MessageFilters`); with none, every message is returned.
        """
        found: list[SentMessage] = []
        token: str | None = None
        for _ in range(_MAX_PAGES):
            page = self.messages_page(
                limit=1000, next_token=token, include_raw=include_raw, **filters
            )
            found.extend(page.messages)
            token = page.next_token
            if token is None:
                break
        return found

    def message(self, message_id: str, *, include_raw: bool = False) -> SentMessage:
        """One message by its SES MessageId (`EmulatorError` 404 if there is none)."""
        params = [("include", "raw")] if include_raw else []
        path = "/_emulator/messages/" + urllib.parse.quote(message_id, safe="")
        return SentMessage.from_json(self._request("GET", path, params=params))

    def raw(self, message_id: str) -> bytes:
        """The message as delivered: the ``.eml`` bytes."""
        path = "/_emulator/messages/" + urllib.parse.quote(message_id, safe="") + "/raw"
        return self._call("GET", path)[2]

    def delete_messages(self, **filters: Unpack[MessageFilters]) -> int:
        """Forget matching messages (all of them with no filter); returns how many."""
        params = _filter_params(filters)
        _, headers, _ = self._call("DELETE", "/_emulator/messages", params=params)
        return int(headers.get("X-Deleted-Count", "0"))

    # ---- LocalStack-compatible retrieval

    def aws_ses(
        self, *, message_id: str | None = None, email: str | None = None
    ) -> list[dict[str, Any]]:
        """``GET /_aws/ses`` (``?id=``, ``?email=``): LocalStack-shaped records."""
        params = [(k, v) for k, v in (("id", message_id), ("email", email)) if v is not None]
        messages: list[dict[str, Any]] = self._request("GET", "/_aws/ses", params=params)[
            "messages"
        ]
        return messages

    def delete_aws_ses(self, *, message_id: str | None = None) -> None:
        """``DELETE /_aws/ses``: one message or all."""
        params = [("id", message_id)] if message_id is not None else []
        self._call("DELETE", "/_aws/ses", params=params)

    # ---- state

    def reset(self, *, account: str | None = None, region: str | None = None) -> None:
        """Forget state: everything (and back to real time), or one account and/or region."""
        body = {k: v for k, v in (("account", account), ("region", region)) if v is not None}
        self._call("POST", "/_emulator/reset", body=body)

    def account(self, *, account: str | None = None, region: str | None = None) -> AccountSettings:
        """The sending limits and state of one account and region."""
        params = [(k, v) for k, v in (("account", account), ("region", region)) if v is not None]
        return AccountSettings.from_json(self._request("GET", "/_emulator/account", params=params))

    def update_account(
        self,
        *,
        account: str | None = None,
        region: str | None = None,
        **changes: Unpack[AccountChanges],
    ) -> AccountSettings:
        """Change an account's settings; a setting given as ``None`` goes back to the profile's
        default. Turning the sandbox on applies the sandbox quotas unless rates are given too,
        as AWS does."""
        if not changes:
            raise ValueError("update_account: give at least one setting to change")
        params = [(k, v) for k, v in (("account", account), ("region", region)) if v is not None]
        data = self._request("PATCH", "/_emulator/account", params=params, body=changes)
        return AccountSettings.from_json(data)

    # ---- identities

    def verify_identity(
        self,
        identity: str,
        *,
        status: VerificationStatus | None = None,
        account: str | None = None,
        region: str | None = None,
    ) -> IdentityInfo:
        """Create an identity (or set an existing one's status); new ones default to verified
        unless the emulator runs with ``--verification pending``."""
        body: dict[str, Any] = {"identity": identity}
        for key, value in (("status", status), ("account", account), ("region", region)):
            if value is not None:
                body[key] = value
        return _identity(self._request("POST", "/_emulator/identities", body=body))

    def identities(
        self,
        *,
        account: str | None = None,
        region: str | None = None,
        kind: Literal["EmailAddress", "Domain"] | None = None,
    ) -> list[IdentityInfo]:
        params = [
            (k, v)
            for k, v in (("account", account), ("region", region), ("kind", kind))
            if v is not None
        ]
        data = self._request("GET", "/_emulator/identities", params=params)
        return [_identity(item) for item in data["identities"]]

    def delete_identity(
        self, identity: str, *, account: str | None = None, region: str | None = None
    ) -> None:
        params = [(k, v) for k, v in (("account", account), ("region", region)) if v is not None]
        path = "/_emulator/identities/" + urllib.parse.quote(identity, safe="")
        self._call("DELETE", path, params=params)

    # ---- about the emulator

    def health(self) -> Health:
        data = self._request("GET", "/_emulator/health")
        return Health(
            status=data["status"], version=data["version"], api_version=int(data["api_version"])
        )

    def settings(self) -> dict[str, Any]:
        """The emulator's effective settings (secrets masked)."""
        data: dict[str, Any] = self._request("GET", "/_emulator/settings")
        return data


def _identity(data: Mapping[str, Any]) -> IdentityInfo:
    return IdentityInfo(
        identity=data["identity"],
        kind=data["kind"],
        status=data["status"],
        account=data["account"],
        region=data["region"],
    )
