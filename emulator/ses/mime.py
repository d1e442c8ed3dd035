"""MIME for the emulator: build the message SES would deliver, and read raw messages cheaply.

Simple and templated sends are assembled once with the standard library's ``email`` encoders
(CRLF line ends, RFC 2047 encoded words, 7-bit clean transfer encodings); the size check
measures those bytes. Raw sends are not re-encoded: `RawMessage` splits the
header section from the body, reads the headers it needs, and `RawMessage.rebuild` writes a new
header section in front of the untouched body bytes.

SES overwrites ``Message-ID`` and ``Date`` on every message [D] (ses-spec §2.1, §6.16): the
delivered ``Message-ID`` is ``<MessageId@email.amazonses.com>`` in us-east-1 and
``<MessageId@<region>.amazonses.com>`` elsewhere [O].
"""

from __future__ import annotations

import base64
import math
import os
import quopri
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import quoprimime
from email.header import Header, decode_header, make_header
from email.utils import encode_rfc2231, format_datetime, formataddr, getaddresses, parseaddr
from functools import lru_cache
from typing import Final, Literal

__all__ = [
    "Attachment",
    "RawMessage",
    "build_message",
    "date_header",
    "decode_subject",
    "message_id_header",
    "parse_address_header",
]

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
    second = math.floor(now)
    if now - second >= _LAST_MICROSECOND:
        # datetime rounds to the microsecond, which can carry into the next second.
        return format_datetime(datetime.fromtimestamp(now, UTC))
    return _date_of_second(second)


# A Date header has one-second resolution and every send writes one: format each second once.
_LAST_MICROSECOND: Final = 0.999999


@lru_cache(maxsize=64)
def _date_of_second(second: int) -> str:
    return format_datetime(datetime.fromtimestamp(second, UTC))


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
    appears in the headers (it is envelope-only). Raises `ValueError` for a ``SEVEN_BIT``
    attachment that is not 7-bit.

    Written directly with the ``email`` package's encoders (RFC 2047 words, quoted-printable,
    base64) rather than through ``EmailMessage``, whose header objects cost milliseconds per
    message; the output is the same shape: CRLF line ends, 7-bit clean.
    """
    # One string for the header section, encoded once (ASCII, "?" for anything else).
    out = [f"From: {_addresses((from_,))}"]
    if to:
        out.append(f"To: {_addresses(to)}")
    if cc:
        out.append(f"Cc: {_addresses(cc)}")
    if reply_to:
        out.append(f"Reply-To: {_addresses(reply_to)}")
    out.append(f"Subject: {_unstructured('Subject', subject or '')}")
    out.append(f"Message-ID: {message_id}")
    out.append(f"Date: {date}")
    out.extend(f"{name}: {value}" for name, value in headers)
    out.append("MIME-Version: 1.0\r\n")
    if not attachments:
        simple = _simple_body(text, html)
        if simple is not None:  # the whole message is one string, encoded once
            return ("\r\n".join(out) + simple).encode("ascii", "replace")
    head = "\r\n".join(out).encode("ascii", "replace")
    body = _body(text, html)
    if attachments:
        inline = [a for a in attachments if a.inline]
        regular = [a for a in attachments if not a.inline]
        if inline:
            body = _multipart("related", [body, *(_attachment(a) for a in inline)])
        if regular:
            body = _multipart("mixed", [body, *(_attachment(a) for a in regular)])
    return head + body


_CRLF: Final = b"\r\n"


def _is_ascii(value: str) -> bool:
    return value.isascii()


def _unstructured(name: str, value: str) -> str:
    """An unstructured header value: as is when ASCII, else RFC 2047 encoded words."""
    if _is_ascii(value) and "\n" not in value and "\r" not in value:
        return value
    encoded = Header(value, "utf-8", header_name=name).encode(linesep="\r\n")
    return encoded


def _addresses(values: Sequence[str]) -> str:
    """An address-list value; display names that are not ASCII become RFC 2047 words."""
    joined = ", ".join(values)
    if joined.isascii():
        return joined
    encoded = []
    for value in values:
        if _is_ascii(value):
            encoded.append(value)
            continue
        name, addr = parseaddr(value)
        encoded.append(formataddr((name, addr), charset="utf-8"))
    return ", ".join(encoded)


def _boundary() -> str:
    # 128 random bits, so no content can be written to contain it.
    return f"=_{os.urandom(16).hex()}"


def _multipart(subtype: str, parts: Sequence[bytes]) -> bytes:
    boundary = _boundary()
    head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n'.encode()
    # Each part follows a CRLF and the delimiter line; the close delimiter ends the body.
    delimiter = f"\r\n--{boundary}\r\n".encode()
    return head + delimiter.join([b"", *parts]) + f"\r\n--{boundary}--\r\n".encode()


# Line breaks `str.splitlines` knows in ASCII text besides LF; text without them splits on LF.
_OTHER_LINE_BREAKS: Final = re.compile(r"[\r\v\f\x1c-\x1e]")


def _seven_bit(content: str) -> str | None:
    """The common case of a text part: LF-separated ASCII lines, as CRLF text; else None.

    The same lines `_text_part` writes (``splitlines`` splits such text on LF alone), when all
    of them fit in 998 characters (RFC 5322 §2.1.1).
    """
    if content.isascii() and not _OTHER_LINE_BREAKS.search(content):
        body = content[:-1] if content.endswith("\n") else content
        if len(body) <= 998 or max(map(len, body.split("\n"))) <= 998:
            return body.replace("\n", "\r\n")
    return None


def _simple_body(text: str | None, html: str | None) -> str | None:
    """`_body` as a string, when every part is `_seven_bit` text; else None."""
    if text is not None and html is not None:
        plain, rich = _seven_bit(text), _seven_bit(html)
        if plain is None or rich is None:
            return None
        # `_multipart("alternative", ...)` of the two `_text_part`s, written out.
        b = _boundary()
        return (
            f'Content-Type: multipart/alternative; boundary="{b}"\r\n\r\n--{b}\r\n'
            f"{_TEXT_HEAD_PLAIN}{plain}\r\n\r\n--{b}\r\n"
            f"{_TEXT_HEAD_HTML}{rich}\r\n\r\n--{b}--\r\n"
        )
    if html is not None:
        rich = _seven_bit(html)
        return None if rich is None else f"{_TEXT_HEAD_HTML}{rich}\r\n"
    plain = _seven_bit(text or "")
    return None if plain is None else f"{_TEXT_HEAD_PLAIN}{plain}\r\n"


def _text_part(content: str, subtype: str) -> bytes:
    seven_bit = _seven_bit(content)
    if seven_bit is not None:
        return _TEXT_HEADS_7BIT[subtype] + seven_bit.encode("ascii") + _CRLF
    lines = content.splitlines()
    if _is_ascii(content) and all(len(line) <= 998 for line in lines):  # RFC 5322 §2.1.1
        encoding = "7bit"
        payload = _CRLF.join(line.encode("ascii") for line in lines)
    else:
        encoding = "quoted-printable"
        payload = quoprimime.body_encode(
            "\n".join(lines).encode("utf-8").decode("latin-1"), eol="\r\n"
        ).encode("ascii")
    return _TEXT_HEADS[subtype, encoding] + payload + _CRLF


_TEXT_HEADS: Final = {
    (subtype, encoding): (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
    ).encode()
    for subtype in ("plain", "html")
    for encoding in ("7bit", "quoted-printable")
}
_TEXT_HEADS_7BIT: Final = {subtype: _TEXT_HEADS[subtype, "7bit"] for subtype in ("plain", "html")}
_TEXT_HEAD_PLAIN: Final = _TEXT_HEADS_7BIT["plain"].decode()
_TEXT_HEAD_HTML: Final = _TEXT_HEADS_7BIT["html"].decode()


def _body(text: str | None, html: str | None) -> bytes:
    if text is not None and html is not None:
        return _multipart("alternative", [_text_part(text, "plain"), _text_part(html, "html")])
    if html is not None:
        return _text_part(html, "html")
    return _text_part(text or "", "plain")


def _one_line(value: str) -> str:
    # Request values go into header lines; a control character must not start a new header.
    return "".join(c if c.isprintable() else " " for c in value)


def _attachment(att: Attachment) -> bytes:
    content_type = _one_line(att.content_type or "application/octet-stream")
    disposition = "inline" if att.inline else "attachment"
    if _is_ascii(att.filename) and att.filename.isprintable() and '"' not in att.filename:
        filename = f'filename="{att.filename}"'
    else:
        filename = f"filename*={encode_rfc2231(att.filename, 'utf-8')}"
    lines = [
        f"Content-Type: {content_type}",
        f"Content-Disposition: {disposition}; {filename}",
    ]
    if att.content_id:
        content_id = _one_line(att.content_id)
        cid = content_id if content_id.startswith("<") else f"<{content_id}>"
        lines.append(f"Content-ID: {cid}")
    if att.description:
        lines.append(
            f"Content-Description: {_unstructured('Content-Description', att.description)}"
        )
    encoding = att.transfer_encoding or "BASE64"
    if encoding == "SEVEN_BIT":
        if not att.content.isascii():
            raise ValueError(f"attachment {att.filename} is not 7-bit")
        payload = att.content.replace(b"\r\n", b"\n").replace(b"\n", _CRLF)
    elif encoding == "QUOTED_PRINTABLE":
        payload = quopri.encodestring(att.content).replace(b"\n", _CRLF)
    else:
        payload = base64.encodebytes(att.content).replace(b"\n", _CRLF)
    lines.append(f"Content-Transfer-Encoding: {_CTE[encoding]}")
    head = "\r\n".join(lines).encode("ascii", "replace")
    # The CRLF before the next boundary belongs to the boundary (RFC 2046 §5.1.1), so the
    # payload ends without one and decodes to exactly the attachment's bytes.
    return head + _CRLF + _CRLF + payload.rstrip(_CRLF)


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
    given = tuple(values)
    if not given:
        return []
    if sum(map(len, given)) > _CACHED_HEADER_LENGTH:
        return list(_parse_addresses(given))
    return list(_cached_parse_addresses(given))


def _parse_addresses(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for name, addr in getaddresses(list(values)):
        if not addr:
            continue
        found.append((formataddr((name, addr)) if name else addr, addr))
    return tuple(found)


# `getaddresses` is a character-by-character parser, and a raw send reads To, Cc, Bcc and
# Reply-To every time; the same header values come back call after call. The answers depend
# on the values alone, so they are kept in a bounded cache, for header values up to 2,048
# characters in all (longer ones are parsed each time, so no request can fill it with big keys).
_CACHED_HEADER_LENGTH: Final = 2048
_cached_parse_addresses: Final = lru_cache(maxsize=4096)(_parse_addresses)


@dataclass(slots=True)
class RawMessage:
    """A raw message's header section, read without parsing or re-encoding its body.

    ``headers`` holds ``(name as sent, unfolded value, original lines)`` in order.
    """

    headers: list[tuple[str, str, bytes]]
    header_size: int  # bytes of the header section, without the blank line
    data: bytes  # the message as sent
    body_start: int  # where the body (everything after the blank line) begins in ``data``
    newline: bytes = b"\r\n"
    _index: dict[str, list[int]] = field(default_factory=dict)

    @property
    def body(self) -> bytes:
        """Everything after the blank line that ends the header section."""
        return self.data[self.body_start :]

    @classmethod
    def parse(cls, data: bytes) -> RawMessage:
        """Split ``data`` at the first blank line and collect its (unfolded) header fields."""
        newline = b"\r\n" if data.find(b"\r\n", 0, 2048) >= 0 else b"\n"
        blank = newline + newline
        end = data.find(blank)
        # The body is not copied out: `rebuild` writes it straight from ``data``.
        if data.startswith(newline):
            head, body_start = b"", len(newline)
        elif end < 0:
            head, body_start = data, len(data)
        else:
            head, body_start = data[:end], end + len(blank)
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
        msg = cls(
            headers=headers,
            header_size=len(head),
            data=data,
            body_start=body_start,
            newline=newline,
        )
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
        return b"".join((nl.join(lines), nl, nl, memoryview(self.data)[self.body_start :]))


def _text(raw: bytes) -> str:
    # Header bytes should be ASCII; anything else is kept readable rather than refused here
    # (the address and charset rules decide what is acceptable).
    return raw.decode("utf-8", "replace")
