"""A recording webhook on 127.0.0.1 for event-delivery tests (a stdlib HTTP server)."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["WAIT", "Webhook", "recording_webhook"]

WAIT = 10.0  # seconds to wait for one webhook request


@dataclass
class Webhook:
    """A recording HTTP endpoint: each POST's headers (lower-case names) and JSON body, queued;
    ``statuses`` are answered in order, then 200."""

    url: str = ""
    received: queue.Queue[tuple[dict[str, str], dict[str, Any]]] = field(
        default_factory=queue.Queue
    )
    statuses: list[int] = field(default_factory=list)

    def next(self, timeout: float = WAIT) -> tuple[dict[str, str], dict[str, Any]]:
        return self.received.get(timeout=timeout)


@contextmanager
def recording_webhook() -> Iterator[Webhook]:
    """A `Webhook` served on a free loopback port until the block ends."""
    hook = Webhook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            status = hook.statuses.pop(0) if hook.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            hook.received.put(({k.lower(): v for k, v in self.headers.items()}, body))

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
