"""A calibration server: aiohttp doing nothing but read the body and answer a constant.

It runs on the same Python, aiohttp and event loop as the emulator, so its throughput is the
ceiling any aiohttp server reaches on this machine under the same load generator. The report
shows the emulator as a fraction of it, which separates "our SES logic costs this much" from
"the framework and the machine allow this much".

``python -m benchmarks.peers_floor --port PORT``
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from aiohttp import web

__all__ = ["build_app", "main"]

# Shaped like a v1 SendEmail answer so the bytes on the wire are comparable.
_BODY = (
    b'<SendEmailResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><SendEmailResult>'
    b"<MessageId>0100000000000000-00000000-0000-0000-0000-000000000000-000000</MessageId>"
    b"</SendEmailResult><ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000"
    b"</RequestId></ResponseMetadata></SendEmailResponse>"
)


async def _answer(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(body=_BODY, content_type="text/xml")


def build_app() -> web.Application:
    """Every path and method answers 200 with a fixed body, after reading the request."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", _answer)
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Serve on 127.0.0.1 until terminated."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peers_floor")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    web.run_app(build_app(), host="127.0.0.1", port=args.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
