"""The HTTP front of ``python -m emulator --split`` (started by `emulator.split`, not by users).

``python -m emulator.front SOCKET FD``: connect to the owner's operation socket, take the
settings from its hello, and serve the public listening socket inherited as file descriptor
``FD``. See `emulator.split` for the division of work and the wire.

For an SES request — ``POST /`` that is not an SNS action, any ``/v2/…`` route — the front
passes the same steps, in the same order, as the application's middlewares and endpoints
(`emulator.app`, `emulator.guards`): request id, body limit, ``Content-Encoding`` decoding,
SigV4 (``--auth verify``), parsing, model validation; then one operation call to the owner
(fault rules, handler, persistence) and the protocol's serialiser. Anything else is forwarded
to the owner's internal port and its answer passed back.

The front exits when the owner's socket closes (the owner has gone) or on SIGTERM (the owner
stopping it); it ignores SIGINT, which a terminal sends to both processes, so that the owner
alone decides when to stop it, after the requests in flight are answered.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import hdrs, web
from multidict import CIMultiDict
from yarl import URL

from emulator._contentcoding import decode_body
from emulator.config import Settings
from emulator.ids import random_uuid
from emulator.protocols import auth, models, query, restjson
from emulator.protocols.query import SNS_ACTIONS, is_sns_body
from emulator.protocols.validate import check_input
from emulator.protocols.wire import REQUEST_ID_HEADER, WireResponse
from emulator.serving import app_runner, debug_access_log
from emulator.ses.errors import Api, SesError, internal_failure, request_too_large
from emulator.sigv4 import SigningRequest, credentials_of, verify_request
from emulator.split import (
    DELAY,
    ERROR,
    Call,
    ErrorData,
    Reply,
    encode_frame,
    error_from,
    read_frame,
)

if TYPE_CHECKING:
    from emulator.ses.context import Params

__all__ = ["FRAME_CALLS", "Front", "OwnerLink", "is_sns_request", "main"]

log = logging.getLogger("emulator")


# RFC 9110 §7.6.1 connection-specific fields, and what the front itself sets on each message.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
        "content-length",
    }
)
_NOT_PASSED_BACK = _HOP_BY_HOP | {"date", "server"}


# A frame goes to the owner once it holds this many calls, else at the end of the loop turn.
# Many requests arrive in one turn under load: sending them in small frames lets the owner run
# the first ones while the front still parses the rest, instead of the two taking turns.
FRAME_CALLS = 4


def is_sns_request(raw_query: str, body: bytes) -> bool:
    """Whether ``POST /`` goes to the SNS API middleware rather than to SES v1 (query Action,
    or a form body that botocore starts with the Action): the owner, which holds the event
    publisher, answers those."""
    if raw_query and dict(parse_qsl(raw_query)).get("Action") in SNS_ACTIONS:
        return True
    return is_sns_body(body)


class OwnerLink:
    """The front's end of the operation socket: the calls made in one loop turn go in frames of
    up to `FRAME_CALLS` calls."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.closed = asyncio.Event()
        self._pending: dict[int, asyncio.Future[tuple[str, object]]] = {}
        self._queue: list[Call] = []
        self._next = 0
        self._flushing = False

    def call(
        self,
        api: Api,
        operation: str,
        params: Params | None,
        *,
        account_id: str,
        region: str,
        request_id: str,
        check_faults: bool,
    ) -> asyncio.Future[tuple[str, object]]:
        """Send one call (with the others of this loop turn); the future of ``(kind, value)``."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[str, object]] = loop.create_future()
        if self.closed.is_set():
            future.set_exception(ConnectionError("the owner process has gone"))
            return future
        self._next += 1
        self._pending[self._next] = future
        self._queue.append(
            (self._next, api, operation, params, account_id, region, request_id, check_faults)
        )
        if len(self._queue) >= FRAME_CALLS:
            self._flush()  # the owner starts on these while this loop turn parses the rest
        elif not self._flushing:
            self._flushing = True
            loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        self._flushing = False
        queue, self._queue = self._queue, []
        if not queue or self.closed.is_set():
            return
        try:
            self.writer.write(encode_frame(queue))
        except Exception as exc:  # a params value pickle cannot write: fail these calls
            log.exception("cannot send operation calls to the owner")
            for call in queue:
                future = self._pending.pop(call[0])
                if not future.done():
                    future.set_exception(exc)

    async def read_replies(self) -> None:
        """Deliver replies until the owner closes the socket, then fail what is pending."""
        try:
            while True:
                replies: list[Reply] = await read_frame(self.reader)
                for call_id, kind, value in replies:
                    future = self._pending.pop(call_id)
                    if not future.done():
                        future.set_result((kind, value))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.closed.set()
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError("the owner process has gone"))
            self._pending.clear()


class Front:
    """The front's HTTP endpoints (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        owner: OwnerLink,
        internal_url: str,
        session: aiohttp.ClientSession,
    ) -> None:
        self.settings = settings
        self.owner = owner
        self.internal_url = internal_url
        self.session = session
        self.v1 = models.load("v1")
        self.router = restjson.Router(models.load("v2"))
        self.credentials = credentials_of(settings)

    def app(self) -> web.Application:
        """The front's application: SES on "/" and "/v2/…", everything else forwarded."""
        app = web.Application(client_max_size=self.settings.max_request_bytes)
        app.router.add_route("*", "/", self.handle_v1)
        app.router.add_route("*", r"/v2/{tail:[\s\S]*}", self.handle_v2)
        app.router.add_route("*", r"/{tail:[\s\S]*}", self.forward)
        return app

    # ---- as emulator.app and emulator.guards, before the handler

    def _error(self, api: Api, error: SesError, request_id: str) -> web.Response:
        wire: WireResponse = (
            query.serialize_error(self.v1, error, request_id)
            if api == "v1"
            else restjson.serialize_error(error, request_id)
        )
        return _respond(wire, request_id)

    def _declared_too_large(self, request: web.Request, api: Api) -> web.Response | None:
        # As emulator.app's body_limit middleware (first on every path, in the SES shape of
        # "/" or else v2): a declared oversize body is refused before it is read. Called by
        # each endpoint rather than as a middleware, which costs every request a coroutine.
        limit = self.settings.max_request_bytes
        if request.content_length is not None and request.content_length > limit:
            return self._error(api, request_too_large(limit), random_uuid())
        return None

    def _readable(self, request: web.Request, raw: bytes, *, has_body: bool) -> bytes:
        """The body decoded per ``Content-Encoding``, then SigV4 checked (`SesError` if not).

        ``has_body``: ``request.can_read_body`` before the body was read (as the guard asks).
        """
        body = raw
        if has_body and hdrs.CONTENT_ENCODING in request.headers:
            body = decode_body(
                raw,
                request.headers.getall(hdrs.CONTENT_ENCODING),
                limit=self.settings.max_request_bytes,
            )
        if self.settings.auth == "verify":
            signing = SigningRequest.received(
                request.method, request.raw_path, request.headers.items(), raw
            )
            verify_request(signing, credentials=self.credentials, now=time.time())
        return body

    async def _run(
        self, request: web.Request, api: Api, name: str, params: Params | None, request_id: str
    ) -> Params | None:
        """The owner's answer to one operation (None for a call without params)."""
        who = auth.caller(request.headers, request.rel_url.raw_query_string, self.settings)

        def call(*, check_faults: bool) -> asyncio.Future[tuple[str, object]]:
            return self.owner.call(
                api,
                name,
                params,
                account_id=who.account_id,
                region=who.region,
                request_id=request_id,
                check_faults=check_faults,
            )

        kind, value = await call(check_faults=True)
        if kind == DELAY:
            latency_ms, error = cast("tuple[int, ErrorData | None]", value)
            await asyncio.sleep(latency_ms / 1000)
            if error is not None:
                raise error_from(error)
            kind, value = await call(check_faults=False)  # the handler runs after the wait
        if kind == ERROR:
            raise error_from(cast("ErrorData", value))
        return cast("Params | None", value)

    async def _parse_failed(
        self, request: web.Request, api: Api, name: str, error: SesError, request_id: str
    ) -> SesError:
        """The error to answer for a request naming ``name`` that failed before its handler:
        a fault rule's error when one hits it (in one process, faults come first too)."""
        if not name:
            return error  # a request naming no operation meets no fault rule
        try:
            await self._run(request, api, name, None, request_id)
        except SesError as fault:
            return fault
        return error

    async def handle_v1(self, request: web.Request) -> web.StreamResponse:
        too_large = self._declared_too_large(request, "v1")
        if too_large is not None:
            return too_large
        if request.method != "POST":
            return await self.forward(request)
        request_id = random_uuid()
        has_body = request.can_read_body
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self._error("v1", request_too_large(self.settings.max_request_bytes), request_id)
        if is_sns_request(request.rel_url.raw_query_string, raw):
            return await self.forward(request, raw)
        name = ""
        try:
            body = self._readable(request, raw, has_body=has_body)
            fields = query.parse_form(body, request.rel_url.raw_query_string)
            name = fields.get("Action", "")
            try:
                operation, params = query.parse_request(self.v1, fields)
                check_input(api="v1", operation=operation, params=params, settings=self.settings)
            except SesError as error:
                raise await self._parse_failed(request, "v1", name, error, request_id) from None
            output = await self._run(request, "v1", name, params, request_id)
            assert output is not None  # a call with params answers the handler's output
            wire = query.serialize_result(self.v1, operation, output, request_id)
        except SesError as error:
            wire = query.serialize_error(self.v1, error, request_id)
        except Exception:
            log.exception("SES v1 request %s failed inside the emulator", request_id)
            wire = query.serialize_error(self.v1, internal_failure(), request_id)
        return _respond(wire, request_id)

    async def handle_v2(self, request: web.Request) -> web.StreamResponse:
        too_large = self._declared_too_large(request, "v2")
        if too_large is not None:
            return too_large
        request_id = random_uuid()
        path, _, raw_query = request.raw_path.partition("?")
        has_body = request.can_read_body
        try:
            raw = await request.read() if has_body else b""
        except web.HTTPRequestEntityTooLarge:
            return self._error("v2", request_too_large(self.settings.max_request_bytes), request_id)
        try:
            body = self._readable(request, raw, has_body=has_body)
            binding, values = self.router.match(request.method, path)
            name = binding.operation.name
            try:
                operation, params = restjson.parse_request(binding, values, raw_query, body)
                check_input(api="v2", operation=operation, params=params, settings=self.settings)
            except SesError as error:
                raise await self._parse_failed(request, "v2", name, error, request_id) from None
            output = await self._run(request, "v2", name, params, request_id)
            assert output is not None  # a call with params answers the handler's output
            wire = restjson.serialize_result(operation, output, request_id)
        except SesError as error:
            wire = restjson.serialize_error(error, request_id)
        except Exception:
            log.exception("SES v2 request %s failed inside the emulator", request_id)
            wire = restjson.serialize_error(internal_failure(), request_id)
        return _respond(wire, request_id)

    # ---- everything else: the owner answers

    async def forward(self, request: web.Request, body: bytes | None = None) -> web.Response:
        """Send ``request`` to the owner's internal port as it came; its answer, as it came."""
        api: Api = "v1" if request.path == "/" else "v2"
        if body is None:
            too_large = self._declared_too_large(request, api)
            if too_large is not None:
                return too_large
        over_limit = False
        if body is None and request.can_read_body:
            # A body longer than the limit that did not declare its length (chunked) is passed
            # on cut after limit + 1 bytes, still chunked: the owner's handler then refuses it
            # as it does in one process (the control API in its own error shape).
            limit = self.settings.max_request_bytes
            body = await _read_at_most(request, limit + 1)
            over_limit = len(body) > limit
        headers = CIMultiDict(
            (name, value)
            for name, value in request.headers.items()
            if name.lower() not in _HOP_BY_HOP
        )
        url = URL(self.internal_url + request.raw_path, encoded=True)
        async with self.session.request(
            request.method,
            url,
            headers=headers,
            data=body if body is not None else None,
            chunked=over_limit or None,
            allow_redirects=False,
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        ) as answer:
            payload = await answer.read()
            passed = CIMultiDict(
                (name, value)
                for name, value in answer.headers.items()
                if name.lower() not in _NOT_PASSED_BACK
            )
            if request.method == hdrs.METH_HEAD and hdrs.CONTENT_LENGTH in answer.headers:
                # No body, but the length a GET would have: what the owner said.
                passed[hdrs.CONTENT_LENGTH] = answer.headers[hdrs.CONTENT_LENGTH]
                return web.Response(status=answer.status, reason=answer.reason, headers=passed)
            return web.Response(
                status=answer.status, reason=answer.reason, body=payload, headers=passed
            )


async def _read_at_most(request: web.Request, size: int) -> bytes:
    """The request's body, or its first ``size`` bytes when it is longer."""
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = await request.content.read(remaining)
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def _respond(wire: WireResponse, request_id: str) -> web.Response:
    response = web.Response(status=wire.status, body=wire.body, headers=wire.headers)
    response.headers.setdefault(REQUEST_ID_HEADER, request_id)
    return response


async def run(path: str, fd: int) -> int:
    """Serve as the front until SIGTERM or the owner's socket closes; the exit status."""
    reader, writer = await asyncio.open_unix_connection(path)
    # Load the models (cached) while the owner builds its application and has no hello yet.
    models.load("v1")
    models.load("v2")
    _, settings, internal_url = await read_frame(reader)
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s (front): %(message)s",
        stream=sys.stderr,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    owner = OwnerLink(reader, writer)
    public = socket.socket(fileno=fd)
    public.setblocking(False)
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0),
        auto_decompress=False,
        timeout=aiohttp.ClientTimeout(total=None),
    )
    front = Front(settings, owner, internal_url, session)
    runner = app_runner(front.app(), access_log=debug_access_log(), shutdown_timeout=2.0)
    await runner.setup()
    replies = asyncio.ensure_future(owner.read_replies())
    try:
        await web.SockSite(runner, public).start()
        writer.write(encode_frame(("ready", os.getpid())))
        gone = asyncio.ensure_future(owner.closed.wait())
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait((gone, stopped), return_when=asyncio.FIRST_COMPLETED)
        gone.cancel()
        stopped.cancel()
        if owner.closed.is_set() and not stop.is_set():
            log.error("the owner process has gone; the front stops")
            return 1
        return 0
    finally:
        await runner.cleanup()  # answers the requests in flight (the owner still serves)
        await session.close()
        writer.close()
        replies.cancel()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m emulator.front SOCKET FD`` (run by `emulator.split.serve_split`)."""
    args = sys.argv[1:] if argv is None else list(argv)
    if len(args) != 2 or not args[1].isdigit():
        print("usage: python -m emulator.front SOCKET FD (started by --split)", file=sys.stderr)
        return 2
    # A terminal's Ctrl-C reaches both processes: the owner stops the front (SIGTERM).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return asyncio.run(run(args[0], int(args[1])))


if __name__ == "__main__":
    sys.exit(main())
