"""The web inbox at ``/_emulator/ui``: every accepted message, in a browser.

A static page (``emulator/static/``: HTML, plain JavaScript and CSS; no build step, nothing
fetched from elsewhere) that reads the control API (`emulator.inspect`):

- the list, newest first, polling ``GET /_emulator/messages`` for live updates;
- search by recipient, sender or subject (the API's filters) or across all three;
- one message: its HTML in an ``<iframe sandbox="" srcdoc=…>`` (no scripts, no forms, no
  same-origin access, under the page's Content-Security-Policy, which also keeps remote images
  from loading), its text, headers, raw source, attachments and events;
- a reset button (``POST /_emulator/reset``).

This module serves the page and adds the one endpoint the control API lacked:
``GET /_emulator/messages/{id}/attachments/{index}`` — the decoded bytes of the message's
``index``-th attachment, in the order ``attachments`` lists them in the message JSON.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Final
from urllib.parse import quote

from aiohttp import web

from emulator.inspect import ControlError
from emulator.ses.state import Backend

__all__ = ["PAGE_HEADERS", "UI_PATH", "Attachment", "add_routes", "attachments"]

UI_PATH: Final = "/_emulator/ui"

# The only files the page is made of (name → content type); nothing else is served.
_STATIC: Final[dict[str, str]] = {
    "index.html": "text/html",
    "app.js": "text/javascript",
    "app.css": "text/css",
}

# Mail HTML is shown in a srcdoc iframe, which inherits this policy: no script runs anywhere
# but the page's own file, mail may style itself inline, and images load only from data: URLs
# and the emulator (never from the internet: opening a message must not "open" it remotely).
PAGE_HEADERS: Final[dict[str, str]] = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-src 'self' about:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """One attachment's decoded bytes and what the message says about it."""

    filename: str | None
    content_type: str
    data: bytes


def attachments(raw: bytes) -> list[Attachment]:
    """The attachments of a MIME message, in `emulator.store.parse_parts` order.

    Every leaf part is an attachment except the first ``text/plain`` and the first
    ``text/html`` part without a Content-Disposition (those are the bodies), exactly as
    `parse_parts` decides, so index ``i`` here is ``attachments[i]`` in the message JSON.
    """
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    found: list[Attachment] = []
    seen_text = seen_html = False
    for part in msg.walk():
        if part.is_multipart():
            continue
        assert isinstance(part, EmailMessage)
        ctype = part.get_content_type()
        if part.get_content_disposition() is None:
            if ctype == "text/plain" and not seen_text:
                seen_text = True
                continue
            if ctype == "text/html" and not seen_html:
                seen_html = True
                continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        found.append(Attachment(filename=part.get_filename(), content_type=ctype, data=data))
    return found


def _disposition(filename: str | None, fallback: str) -> str:
    name = filename or fallback
    # RFC 6266: an ASCII fallback plus the exact name in RFC 5987 encoding.
    ascii_name = name.encode("ascii", "replace").decode("ascii").replace('"', "'")
    ascii_name = "".join(c if c.isprintable() and c not in "\\\r\n" else "_" for c in ascii_name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def _error(error: ControlError) -> web.Response:
    return web.json_response(error.to_json(), status=error.status)


class _Inbox:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        folder = Path(__file__).with_name("static")  # shipped as package data (pyproject)
        self.files = {name: (folder / name).read_bytes() for name in _STATIC}

    async def page(self, request: web.Request) -> web.StreamResponse:
        return self._file("index.html")

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in _STATIC:
            return _error(
                ControlError(f"no inbox file {name!r}", field="name", code="NotFound", status=404)
            )
        return self._file(name)

    def _file(self, name: str) -> web.Response:
        return web.Response(
            body=self.files[name],
            content_type=_STATIC[name],
            charset="utf-8",
            headers=PAGE_HEADERS,
        )

    async def attachment(self, request: web.Request) -> web.StreamResponse:
        message_id = request.match_info["message_id"]
        record = self.backend.store.get(message_id)
        if record is None:
            return _error(
                ControlError(
                    f"no message with id {message_id!r}", field="id", code="NotFound", status=404
                )
            )
        found = attachments(record.raw)
        text = request.match_info["index"]
        index = int(text) if text.isdigit() else -1
        if not 0 <= index < len(found):
            return _error(
                ControlError(
                    f"message {message_id} has {len(found)} attachment(s); no index {text!r}",
                    field="index",
                    code="NotFound",
                    status=404,
                )
            )
        item = found[index]
        return web.Response(
            body=item.data,
            headers={
                "Content-Type": item.content_type,
                "Content-Disposition": _disposition(item.filename, f"attachment-{index}"),
                "X-Content-Type-Options": "nosniff",
                # An attachment is never rendered in the emulator's origin.
                "Content-Security-Policy": "sandbox; default-src 'none'",
            },
        )


def add_routes(app: web.Application, backend: Backend) -> None:
    """Mount the inbox and the attachment endpoint (before `emulator.inspect.add_routes`,
    whose ``/_emulator/`` catch-all would otherwise answer them with a 404)."""
    inbox = _Inbox(backend)
    app.router.add_get(UI_PATH, inbox.page)
    app.router.add_get(UI_PATH + "/", inbox.page)
    app.router.add_get(UI_PATH + "/static/{name}", inbox.static)
    app.router.add_get("/_emulator/messages/{message_id}/attachments/{index}", inbox.attachment)
