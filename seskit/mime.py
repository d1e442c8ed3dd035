"""`Email` → RFC 5322 bytes for raw sends, and its exact size without building it.

The message is laid out once as a `MimePlan`: a list of small byte strings (headers, boundaries)
and body parts whose encoded length is known by arithmetic (base64: ``4⌈n/3⌉`` plus a CRLF per
76-character line; 7-bit text: its length with line breaks made CRLF). `MimePlan.size` adds those
numbers up; `MimePlan.to_bytes` writes the same pieces. Both read one plan, so they cannot
disagree, and checking the size of a message with a 10 MB attachment allocates no copy of it.

Layout: ``text/plain`` and/or ``text/html`` (``multipart/alternative`` when both), inside
``multipart/related`` with the inline attachments, inside ``multipart/mixed`` with the others.
Everything is 7-bit clean: ASCII text with lines ≤ 998 characters goes as ``7bit``, any other text
and every attachment as ``base64``; non-ASCII subjects and display names become RFC 2047
encoded-words, non-ASCII file names RFC 2231 parameters. Boundaries are fixed strings (changed
only if a 7-bit body contains them), and ``Date``/``Message-ID`` are written only when asked for
(SES sets both), so the same `Email` always gives the same bytes.

>>> from seskit import Email, mime
>>> email = Email(sender="a@example.com", to="b@example.com", subject="Hi", text="Hello")
>>> plan = mime.plan(email)
>>> plan.size == len(plan.to_bytes())
True
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime
from email.header import Header as _EncodedHeader
from email.utils import encode_rfc2231, format_datetime
from typing import Final

from seskit.message import Address, Attachment, Email

__all__ = ["MimePlan", "encoded_size", "plan", "to_bytes"]

_CRLF: Final = b"\r\n"
# base64 lines of 76 characters (RFC 2045 §6.8) come from 57 input bytes; encode in blocks of
# whole lines so every line but the last is full.
_B64_LINE_BYTES: Final = 57
_B64_BLOCK_BYTES: Final = _B64_LINE_BYTES * 1024
# What may go as 7bit: no NUL, no line longer than 998 characters (RFC 5322 §2.1.1).
_NOT_7BIT_RE: Final = re.compile(r"[\x00]|[^\r\n]{999}")
_LINE_BREAK_RE: Final = re.compile(r"\r\n|\r|\n")
_PLAIN_SUBJECT_RE: Final = re.compile(r"[!-~](?:[ -~]{0,987}[!-~])?")
# A quoted parameter the parsers give back unchanged: no quotes, backslashes or outer spaces.
_PLAIN_PARAM_RE: Final = re.compile(r"[!#-\[\]-~](?:[ !#-\[\]-~]{0,198}[!#-\[\]-~])?")
_BOUNDARY_BASE: Final = "=_seskit_"


def _base64_size(length: int) -> int:
    chars = 4 * -(-length // 3)
    return chars + 2 * -(-chars // 76)


@dataclass(frozen=True, slots=True)
class _Base64Body:
    """Bytes written as base64 in 76-character CRLF lines; the size needs only ``len``."""

    data: bytes

    @property
    def size(self) -> int:
        return _base64_size(len(self.data))

    def write(self, out: list[bytes]) -> None:
        view = memoryview(self.data)
        for start in range(0, len(view), _B64_BLOCK_BYTES):
            # encodebytes ends its 76-character lines with LF; the wire needs CRLF.
            block = base64.encodebytes(view[start : start + _B64_BLOCK_BYTES])
            out.append(block.replace(b"\n", b"\r\n"))


Piece = bytes | _Base64Body


def _text_part(text: str, boundaries: list[str]) -> tuple[bytes, Piece]:
    """The part headers and body for a text; 7bit when it can be, base64 of UTF-8 otherwise."""
    if text.isascii() and _NOT_7BIT_RE.search(text) is None:
        boundaries.append(text)
        body = _LINE_BREAK_RE.sub("\r\n", text).encode("ascii")
        return b"Content-Transfer-Encoding: 7bit\r\n", body
    data = _LINE_BREAK_RE.sub("\r\n", text).encode("utf-8")
    return b"Content-Transfer-Encoding: base64\r\n", _Base64Body(data)


def _param(name: str, value: str) -> str:
    """A MIME parameter: quoted when plain ASCII, RFC 2231 (with continuations) otherwise."""
    if _PLAIN_PARAM_RE.fullmatch(value) is not None:
        return f'; {name}="{value}"'
    encoded = encode_rfc2231(value, "utf-8")
    # Split into segments of at most 60 characters, never inside a %XX escape.
    segments: list[str] = []
    start = 0
    while start < len(encoded):
        end = min(start + 60, len(encoded))
        percent = encoded.rfind("%", max(start, end - 2), end)
        if percent >= 0 and end < len(encoded):
            end = percent
        segments.append(encoded[start:end])
        start = end
    return "".join(f";\r\n {name}*{index}*={segment}" for index, segment in enumerate(segments))


def _encoded_text(text: str, header_name: str) -> str:
    if _PLAIN_SUBJECT_RE.fullmatch(text) is not None and "=?" not in text:
        return text
    return _EncodedHeader(text, "utf-8", header_name=header_name).encode(linesep="\r\n")


def _address_header(name: str, addresses: tuple[Address, ...]) -> str:
    # One address per line: each is at most 320 characters, so no line nears 998.
    return f"{name}: " + ",\r\n ".join(address.formatted for address in addresses) + "\r\n"


@dataclass(frozen=True, slots=True)
class MimePlan:
    """A laid-out message: its exact encoded `size`, and `to_bytes` to write it."""

    pieces: tuple[Piece, ...]

    @property
    def size(self) -> int:
        """The exact length of `to_bytes`, by arithmetic on the pieces' lengths."""
        return sum(len(p) if isinstance(p, bytes) else p.size for p in self.pieces)

    def to_bytes(self) -> bytes:
        """Write the message (CRLF line endings, 7-bit clean)."""
        out: list[bytes] = []
        for piece in self.pieces:
            if isinstance(piece, bytes):
                out.append(piece)
            else:
                piece.write(out)
        return b"".join(out)


def _boundary(kind: str, texts: list[str]) -> str:
    boundary = _BOUNDARY_BASE + kind
    suffix = 0
    while any(boundary in text for text in texts):
        suffix += 1
        boundary = f"{_BOUNDARY_BASE}{kind}_{suffix}"
    return boundary


def _multipart(
    subtype: str, parts: list[list[Piece]], texts: list[str]
) -> tuple[bytes, list[Piece]]:
    boundary = _boundary(subtype, texts)
    body: list[Piece] = [b"This is a multi-part message in MIME format.\r\n"]
    for part in parts:
        body.append(f"--{boundary}\r\n".encode())
        body.extend(part)
        body.append(_CRLF)
    body.append(f"--{boundary}--\r\n".encode())
    header = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n'.encode()
    return header, body


def _attachment_part(attachment: Attachment) -> list[Piece]:
    disposition = "inline" if attachment.inline else "attachment"
    lines = [
        f"Content-Type: {attachment.content_type}\r\n",
        f"Content-Disposition: {disposition}{_param('filename', attachment.filename)}\r\n",
        "Content-Transfer-Encoding: base64\r\n",
    ]
    if attachment.content_id is not None:
        lines.append(f"Content-ID: <{attachment.content_id}>\r\n")
    if attachment.description is not None:
        description = _encoded_text(attachment.description, "Content-Description")
        lines.append(f"Content-Description: {description}\r\n")
    lines.append("\r\n")
    return ["".join(lines).encode("ascii"), _Base64Body(attachment.content)]


def _leaf(content_type: str, text: str, texts: list[str]) -> list[Piece]:
    encoding, body = _text_part(text, texts)
    header = f"Content-Type: {content_type}; charset=utf-8\r\n".encode() + encoding + _CRLF
    return [header, body]


def plan(
    email: Email,
    *,
    return_path_header: bool = False,
    date: datetime | None = None,
    message_id: str | None = None,
) -> MimePlan:
    """Lay out ``email`` as a MIME message without encoding any body yet.

    ``return_path_header`` writes ``Return-Path`` from ``email.return_path`` (how v1 raw sends
    name the feedback address); ``date`` and ``message_id`` add those headers (SES replaces both,
    so by default they are left out and the bytes are reproducible).
    """
    texts: list[str] = []  # 7-bit bodies, which boundaries must not appear in
    alternatives: list[list[Piece]] = []
    if email.text is not None:
        alternatives.append(_leaf("text/plain", email.text, texts))
    if email.html is not None:
        alternatives.append(_leaf("text/html", email.html, texts))
    if not alternatives and not email.attachments:
        alternatives.append(_leaf("text/plain", "", texts))
    inline = [a for a in email.attachments if a.inline]
    attached = [a for a in email.attachments if not a.inline]

    # Build inside out: each level is (its Content-Type header bytes, its body pieces).
    level: tuple[bytes, list[Piece]] | None = None
    if inline:
        html = alternatives.pop()  # inline parts belong with the HTML (RFC 2387)
        related_parts = [html, *(_attachment_part(a) for a in inline)]
        header, body = _multipart("related", related_parts, texts)
        alternatives.append([header, _CRLF, *body])
    if len(alternatives) > 1:
        level = _multipart("alternative", alternatives, texts)
    elif alternatives:
        only = alternatives[0]
        level = (b"", only)  # a leaf brings its own headers
    if attached:
        parts: list[list[Piece]] = []
        if level is not None:
            header, body = level
            parts.append([header, _CRLF, *body] if header else body)
        parts.extend(_attachment_part(a) for a in attached)
        level = _multipart("mixed", parts, texts)
    assert level is not None  # the empty message got an empty text part above

    lines = [_address_header("From", (email.sender,))]
    if email.reply_to:
        lines.append(_address_header("Reply-To", email.reply_to))
    if email.to:
        lines.append(_address_header("To", email.to))
    if email.cc:
        lines.append(_address_header("Cc", email.cc))
    if email.subject is not None:
        lines.append(f"Subject: {_encoded_text(email.subject, 'Subject')}\r\n")
    if return_path_header and email.return_path is not None:
        lines.append(f"Return-Path: <{email.return_path.email}>\r\n")
    if date is not None:
        lines.append(f"Date: {format_datetime(date)}\r\n")
    if message_id is not None:
        lines.append(f"Message-ID: {message_id}\r\n")
    lines.extend(f"{header.name}: {header.value}\r\n" for header in email.headers)
    lines.append("MIME-Version: 1.0\r\n")
    head = "".join(lines).encode("ascii")
    header, body = level
    if header:
        return MimePlan((head, header, _CRLF, *body))
    return MimePlan((head, *body))


def encoded_size(email: Email, *, return_path_header: bool = False) -> int:
    """The exact byte length of `to_bytes` for ``email``, without encoding any body."""
    return plan(email, return_path_header=return_path_header).size


def to_bytes(email: Email, *, return_path_header: bool = False) -> bytes:
    """``email`` as RFC 5322 bytes (CRLF line endings, 7-bit clean, lines ≤ 998)."""
    return plan(email, return_path_header=return_path_header).to_bytes()
