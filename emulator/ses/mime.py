"""MIME for the emulator: build the message SES would deliver, and read raw messages cheaply.

Simple and templated sends are assembled with the standard library's ``email`` package under
``policy.SMTP`` (CRLF line ends, RFC 2047 encoded words, 7-bit clean transfer encodings), once;
the size check measures those bytes. Raw sends are not re-encoded: `RawMessage` splits the
header section from the body, reads the headers it needs, and `RawMessage.rebuild` writes a new
header section in front of the untouched body bytes.

SES overwrites ``Message-ID`` and ``Date`` on every message [D] (ses-spec §2.1, §6.16): the
delivered ``Message-ID`` is ``<MessageId@email.amazonses.com>`` in us-east-1 and
``<MessageId@<region>.amazonses.com>`` elsewhere [O].
"""

from __future__ import annotations

import email.policy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses
from typing import Any, Final, Literal

__all__ = [
    "Attachment",
    "RawMessage",
    "build_message",
    "date_header",
    "decode_subject",
    "message_id_header",
    "parse_address_header",
]

_SMTP: Final = email.policy.SMTP

TransferEncoding = Literal["BASE64", "QUOTED_PRINTABLE", "SEVEN_BIT"]
_CTE: Final[dict[str, str]] = {
    "BASE64": "base64",
    "QUOTED_PRINTABLE": "quoted-printable",
    "SEVEN_BIT": "7bit",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """A v2 ``Attachment`` (model shape ``Attachment``), decoded from the request."""

    content: bytes
    filename: str
    content_type: str | None = None
    disposition: Literal["ATTACHMENT", "INLINE"] | None = None
    content_id: str | None = None
    description: str | None = None
    transfer_encoding: TransferEncoding | None = None

    def __post_init__(self) -> None:
        if not self.filename:
            raise ValueError("an attachment needs a file name")

    @property
    def inline(self) -> bool:
        """Inline parts (``INLINE`` or referenced by Content-ID) go in multipart/related."""
        return self.disposition == "INLINE"


def message_id_header(message_id: str, region: str) -> str:
    """The ``Message-ID`` SES writes for ``message_id`` in ``region`` [O]."""
    host = "email.amazonses.com" if region == "us-east-1" else f"{region}.amazonses.com"
    return f"<{message_id}@{host}>"


def date_header(now: float) -> str:
    """An RFC 5322 ``Date`` for ``now`` (epoch seconds), in UTC."""
    return format_datetime(datetime.fromtimestamp(now, UTC))


def build_message(
    *,
    from_: str,
    to: Sequence[str],
    cc: Sequence[str],
    reply_to: Sequence[str],
    subject: str | None,
    text: str | None,
    html: str | None,
    message_id: str,
    date: str,
    headers: Sequence[tuple[str, str]] = (),
    attachments: Sequence[Attachment] = (),
) -> bytes:
    """The MIME message SES would deliver for a simple or templated send, as bytes.

    Text and HTML become ``multipart/alternative``; inline attachments wrap the body in
    ``multipart/related``; other attachments wrap everything in ``multipart/mixed``. Bcc never
    appears in the headers (it is envelope-only).
    """
    msg = EmailMessage(policy=_SMTP)
    msg["From"] = from_
    if to:
        msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    if reply_to:
        msg["Reply-To"] = ", ".join(reply_to)
    msg["Subject"] = subject or ""
    msg["Message-ID"] = message_id
    msg["Date"] = date
    for name, value in headers:
        msg[name] = value
    if text is not None or html is None:
        msg.set_content(text or "", charset="utf-8")
        if html is not None:
            msg.add_alternative(html, subtype="html", charset="utf-8")
    else:
        msg.set_content(html, subtype="html", charset="utf-8")
    for att in attachments:
        maintype, _, subtype = (att.content_type or "application/octet-stream").partition("/")
        kwargs: dict[str, Any] = {
            "maintype": maintype,
            "subtype": subtype or "octet-stream",
            "filename": att.filename,
            "disposition": "inline" if att.inline else "attachment",
        }
        if att.content_id:
            kwargs["cid"] = (
                att.content_id if att.content_id.startswith("<") else f"<{att.content_id}>"
            )
        if att.transfer_encoding:
            kwargs["cte"] = _CTE[att.transfer_encoding]
        if att.description:
            kwargs["headers"] = [f"Content-Description: {att.description}"]
        if att.inline:
            msg.add_related(att.content, **kwargs)
        else:
            msg.add_attachment(att.content, **kwargs)
    if msg.is_multipart():
        # The email package gives every part it creates its own MIME-Version header; only the
        # top level carries one in a message SES delivers.
        for part in msg.walk():
            if part is not msg and "MIME-Version" in part:
                del part["MIME-Version"]
    return msg.as_bytes()


def decode_subject(value: str) -> str:
    """A header value with RFC 2047 encoded words decoded (the value itself if undecodable)."""
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError):
        return value


def parse_address_header(values: Iterable[str]) -> list[tuple[str, str]]:
    """``(as given, bare address)`` for each address in address-list header values.

    Group syntax (``team: a@x, b@x;``) yields its members; an empty group yields nothing.
    """
    found: list[tuple[str, str]] = []
    for name, addr in getaddresses(list(values)):
        if not addr:
            continue
        found.append((formataddr((name, addr)) if name else addr, addr))
    return found


@dataclass(slots=True)
class RawMessage:
    """A raw message's header section, read without parsing or re-encoding its body.

    ``headers`` holds ``(name as sent, unfolded value, original lines)`` in order.
    """

    headers: list[tuple[str, str, bytes]]
    header_size: int  # bytes of the header section, without the blank line
    body: bytes  # everything after the blank line that ends the header section
    newline: bytes = b"\r\n"
    _index: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: bytes) -> RawMessage:
        """Split ``data`` at the first blank line and collect its (unfolded) header fields."""
        newline = b"\r\n" if b"\r\n" in data[:2048] else b"\n"
        blank = newline + newline
        end = data.find(blank)
        if data.startswith(newline):
            head, body = b"", data[len(newline) :]
        elif end < 0:
            head, body = data, b""
        else:
            head, body = data[:end], data[end + len(blank) :]
        headers: list[tuple[str, str, bytes]] = []
        for line in head.split(newline) if head else []:
            if headers and line[:1] in (b" ", b"\t"):
                name, value, raw = headers[-1]
                headers[-1] = (name, value + " " + _text(line).strip(), raw + newline + line)
                continue
            name_b, colon, value_b = line.partition(b":")
            if not colon:
                continue  # not a header field; SES's parser ignores such lines as well [I]
            headers.append((_text(name_b).strip(), _text(value_b).strip(), line))
        msg = cls(headers=headers, header_size=len(head), body=body, newline=newline)
        for i, (name, _, _) in enumerate(headers):
            msg._index.setdefault(name.lower(), []).append(i)
        return msg

    def get_all(self, name: str) -> list[str]:
        """Every value of header ``name`` (case-insensitive), in order."""
        return [self.headers[i][1] for i in self._index.get(name.lower(), ())]

    def get(self, name: str) -> str | None:
        """The first value of header ``name``, or None."""
        positions = self._index.get(name.lower())
        return self.headers[positions[0]][1] if positions else None

    def names(self) -> list[str]:
        """Header names as sent, in order."""
        return [name for name, _, _ in self.headers]

    def rebuild(self, *, drop: frozenset[str], add: Sequence[tuple[str, str]]) -> bytes:
        """The message with headers named in ``drop`` (lower-case) removed and ``add`` appended.

        The body bytes are reused as they are; only the header section is written again.
        """
        nl = self.newline
        lines = [raw for name, _, raw in self.headers if name.lower() not in drop]
        lines.extend(f"{name}: {value}".encode("ascii", "replace") for name, value in add)
        return nl.join(lines) + nl + nl + self.body


def _text(raw: bytes) -> str:
    # Header bytes should be ASCII; anything else is kept readable rather than refused here
    # (the address and charset rules decide what is acceptable).
    return raw.decode("utf-8", "replace")
