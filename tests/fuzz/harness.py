"""Raw HTTP to the emulator and the property every response must satisfy.

Requests go over a plain socket so the fuzzer controls every byte a client could send (paths
with odd escapes, duplicate headers, bodies that lie about their encoding); each request is
bounded by a timeout, so a hang is a failure, not a stuck test run.
"""

from __future__ import annotations

import json
import socket
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

__all__ = ["Exchange", "FuzzRequest", "Response", "Stats", "Target", "problems"]

TIMEOUT_SECONDS = 15.0
_V1_NS = "{http://ses.amazonaws.com/doc/2010-12-01/}"


@dataclass(frozen=True, slots=True, kw_only=True)
class FuzzRequest:
    """One request as bytes on the wire (header values already encoded)."""

    method: str
    target: str  # path and query exactly as sent on the request line
    headers: tuple[tuple[str, bytes], ...] = ()
    body: bytes = b""

    def wire(self, host: str) -> bytes:
        lines = [
            f"{self.method} {self.target} HTTP/1.1".encode("latin-1"),
            f"Host: {host}".encode(),
        ]
        names = {name.lower() for name, _ in self.headers}
        for name, value in self.headers:
            lines.append(name.encode("latin-1") + b": " + value)
        if "content-length" not in names and "transfer-encoding" not in names:
            lines.append(f"Content-Length: {len(self.body)}".encode())
        lines.append(b"Connection: close")
        return b"\r\n".join(lines) + b"\r\n\r\n" + self.body

    def __repr__(self) -> str:
        body = self.body if len(self.body) <= 300 else self.body[:300] + b"..."
        return f"FuzzRequest({self.method} {self.target!r} headers={self.headers!r} body={body!r})"


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class Stats:
    """Counts across a run (thread-safe enough for one fuzzing thread plus readers)."""

    requests: int = 0
    server_errors: int = 0  # 5xx other than the documented 501 NotImplemented
    not_implemented: int = 0  # 501 NotImplemented: an operation without a handler
    by_status: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, exchange: Exchange) -> None:
        status = exchange.response.status
        with self.lock:
            self.requests += 1
            self.by_status[status] = self.by_status.get(status, 0) + 1
            if _not_implemented(exchange):
                self.not_implemented += 1
            elif status >= 500:
                self.server_errors += 1


@dataclass(frozen=True, slots=True)
class Exchange:
    request: FuzzRequest
    response: Response


class Target:
    """The emulator at ``host:port``; `send` performs one request over a fresh connection."""

    def __init__(self, host: str, port: int, stats: Stats | None = None) -> None:
        self.host = host
        self.port = port
        self.stats = stats if stats is not None else Stats()

    def send(self, request: FuzzRequest) -> Exchange:
        with socket.create_connection((self.host, self.port), timeout=TIMEOUT_SECONDS) as sock:
            sock.sendall(request.wire(f"{self.host}:{self.port}"))
            chunks = []
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        exchange = Exchange(request, _parse(b"".join(chunks)))
        self.stats.record(exchange)
        return exchange


def _parse(raw: bytes) -> Response:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise AssertionError(f"no complete HTTP response (got {raw[:200]!r})")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    return Response(status, headers, body)


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return bytes(out)


def _path_of(target: str) -> str:
    return target.split("?", 1)[0]


def problems(exchange: Exchange) -> list[str]:
    """Everything wrong with one response; empty when it is an AWS-shaped 4xx or a 2xx."""
    response = exchange.response
    path = _path_of(exchange.request.target)
    found: list[str] = []
    status = response.status
    if b"Traceback (most recent call last)" in response.body:
        found.append("traceback in the response body")
    if status >= 500 and not _not_implemented(exchange):
        found.append(f"server error {status}")
    if not (200 <= status < 300 or 400 <= status < 600):
        found.append(f"unexpected status {status}")
    if exchange.request.method == "HEAD":
        return found
    if path in ("", "/"):
        found += _v1_shape(response)
    elif path.startswith(("/_emulator", "/_aws")):
        found += _json_shape(response, control=True)
    else:
        found += _json_shape(response, control=False)
    return found


def _not_implemented(exchange: Exchange) -> bool:
    path = _path_of(exchange.request.target)
    return exchange.response.status == 501 and _code(exchange.response, path) == "NotImplemented"


def _code(response: Response, path: str) -> str | None:
    if path in ("", "/"):
        try:
            root = ET.fromstring(response.body)
        except ET.ParseError:
            return None
        return root.findtext(f"{_V1_NS}Error/{_V1_NS}Code")
    return response.headers.get("x-amzn-errortype")


def _v1_shape(response: Response) -> list[str]:
    if response.status == 413 and not response.body:
        return ["413 without an AWS error body"]
    try:
        root = ET.fromstring(response.body)
    except ET.ParseError as exc:
        return [f"v1 body is not XML ({exc}): {response.body[:120]!r}"]
    if response.status >= 400:
        missing = [
            part
            for part in ("Error/Type", "Error/Code", "Error/Message", "RequestId")
            if root.find("/".join(f"{_V1_NS}{p}" for p in part.split("/"))) is None
        ]
        if root.tag != f"{_V1_NS}ErrorResponse" or missing:
            return [f"v1 error is not an ErrorResponse (root {root.tag}, missing {missing})"]
        return []
    if not root.tag.endswith("Response") or root.find(f"{_V1_NS}ResponseMetadata") is None:
        return [f"v1 success without <ResponseMetadata> (root {root.tag})"]
    return []


def _json_shape(response: Response, *, control: bool) -> list[str]:
    if control and response.headers.get("content-type", "").startswith(("message/rfc822", "text/")):
        return []  # /_emulator/messages/{id}/raw serves the .eml; the dashboard may serve text
    try:
        document = json.loads(response.body) if response.body else None
    except ValueError as exc:
        return [f"body is not JSON ({exc}): {response.body[:120]!r}"]
    if response.status < 400:
        if not control and not isinstance(document, dict):
            return ["v2 success body is not a JSON object"]
        return []
    if control:
        if not (isinstance(document, dict) and isinstance(document.get("error"), dict)):
            return [f"control-API error without an error object: {document!r:.120}"]
        return []
    found = []
    if "x-amzn-errortype" not in response.headers:
        found.append("v2 error without an x-amzn-ErrorType header")
    if not (isinstance(document, dict) and isinstance(document.get("message"), str)):
        found.append(f"v2 error body is not {{'message': ...}}: {document!r:.120}")
    return found
