"""The middlewares that guard the SES endpoints: SigV4, control token, faults, persistence.

`install` adds them to an application built by `emulator.app.build_app`, after its request-id
and body-limit middlewares, so a request passes, in order:

0. **readable body** — an SES request's body is read once up front and decoded per its
   ``Content-Encoding`` (`emulator._contentcoding`; the server turns aiohttp's own decoding
   off): a body that does not decode (a lying or truncated ``Content-Encoding``) is
   ``MalformedHttpRequestException`` 400, AWS-shaped, and one that decodes to more than
   ``Settings.max_request_bytes`` is ``RequestEntityTooLarge`` 413, like an oversize body.
   Endpoints read the decoded body from ``request[BODY]``; ``request.read()`` stays the body
   as sent, which is what SigV4 signs;
1. **control token** — with ``Settings.control_token`` set, ``/_emulator/*`` and ``/_aws/*``
   need ``Authorization: Bearer <token>`` or ``X-Emulator-Token: <token>`` (401 otherwise);
2. **SigV4** — with ``Settings.auth == "verify"``, SES requests (``/`` and ``/v2/…``) must be
   signed by a key in ``Settings.credentials`` (`emulator.sigv4`); failures answer in the
   API's own error shape (v1 XML, v2 JSON);
3. **faults** — rules under ``/_emulator/faults`` (`emulator.faults`) may delay a request or
   answer it with an error *instead of* running the handler, so a fault never touches state;
4. **persistence** — with ``Settings.data_dir``, after a request that may have changed state
   (any SES operation except ``Get*``/``List*``/``Describe*``/``TestRender*``, any non-GET
   control call) the caller's account state is saved (`emulator.persistence`) before the
   response leaves, so everything a client saw acknowledged is on disk.

Signatures are checked against the real wall clock, not the emulator's virtual clock: clients
sign with their own clock, and a test that moves SES time must not break authentication.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable

from aiohttp import hdrs, web
from aiohttp.http_exceptions import HttpProcessingError

from emulator._contentcoding import decode_body
from emulator.config import Settings
from emulator.faults import Fault, FaultRules, add_fault_routes
from emulator.persistence import StateStore, open_data_dir
from emulator.protocols import auth, models, query, restjson
from emulator.protocols.wire import WireResponse
from emulator.ses.errors import (
    Api,
    SesError,
    internal_failure,
    malformed_http_request,
    request_too_large,
)
from emulator.ses.state import Backend
from emulator.sigv4 import (
    SigningRequest,
    check_control_token,
    credentials_of,
    verify_request,
)

__all__ = [
    "BODY",
    "GUARDS",
    "STATE_STORE",
    "V1_FORM",
    "Guards",
    "body_of",
    "install",
    "is_read_only",
]

log = logging.getLogger("emulator")

STATE_STORE: web.AppKey[StateStore] = web.AppKey("state_store", StateStore)
"""The data dir's `StateStore` (present only when ``Settings.data_dir`` is set)."""

BODY: web.RequestKey[bytes] = web.RequestKey("body", bytes)
"""An SES request's body decoded per its ``Content-Encoding`` (``readable_body`` sets it).

Absent when the request has no body. ``await request.read()`` is the body as sent.
"""

GUARDS: web.AppKey[Guards] = web.AppKey("guards")
"""The application's `Guards` (``build_app`` always installs them)."""

V1_FORM: web.RequestKey[dict[str, str]] = web.RequestKey("v1_form", dict)
"""A v1 request's decoded form, when a guard had to decode it (the endpoint reuses it)."""

_Endpoint = Callable[[web.Request], Awaitable[web.StreamResponse]]
_READ_ONLY_PREFIXES = ("Get", "List", "Describe", "TestRender")
_CONTROL_PREFIXES = ("/_emulator", "/_aws")


async def body_of(request: web.Request) -> bytes:
    """An SES request's body as its endpoint reads it: decoded per ``Content-Encoding`` when
    ``readable_body`` has (`BODY`), else as read (no body, or an app without the guards)."""
    body = request.get(BODY)
    return body if body is not None else await request.read()


def is_read_only(operation: str) -> bool:
    """Whether an SES operation only reads state (so there is nothing to save after it)."""
    return operation.startswith(_READ_ONLY_PREFIXES)


def _api_of(path: str) -> Api | None:
    if path in ("", "/"):
        return "v1"
    if path.startswith("/v2/"):
        return "v2"
    return None


class Guards:
    """The guards of one application; `fault_for` and `save_after` are their state-holding steps.

    ``python -m emulator --split`` (`emulator.split`) runs those two steps for the operations
    its front process parses, so an operation passes the same fault rules and is saved the
    same way as one the application answers itself.
    """

    def __init__(
        self,
        settings: Settings,
        backend: Backend,
        rules: FaultRules,
        request_id: web.RequestKey[str],
    ) -> None:
        self.request_id = request_id
        self.settings = settings
        self.backend = backend
        self.rules = rules
        self.rng = random.Random()
        self.credentials = credentials_of(settings)
        self.states: StateStore | None = None
        self.v1 = models.load("v1")
        self.router = restjson.Router(models.load("v2"))

    def _error(self, api: Api, error: SesError, request: web.Request) -> web.Response:
        request_id = request.get(self.request_id, "")
        wire: WireResponse = (
            query.serialize_error(self.v1, error, request_id)
            if api == "v1"
            else restjson.serialize_error(error, request_id)
        )
        return web.Response(status=wire.status, body=wire.body, headers=wire.headers)

    async def _operation(self, request: web.Request, api: Api, path: str, raw_query: str) -> str:
        """The SES operation a request names, or "" when it names none (the handler reports)."""
        try:
            if api == "v1":
                fields = request.get(V1_FORM)
                if fields is None:
                    fields = query.parse_form(await body_of(request), raw_query)
                    request[V1_FORM] = fields
                return fields.get("Action", "")
            binding, _ = self.router.match(request.method, path)
            return binding.operation.name
        except (SesError, ValueError, web.HTTPRequestEntityTooLarge):
            return ""

    def fault_for(self, api: Api, operation: str) -> Fault | None:
        """The fault rule's verdict for one request naming ``operation`` ("" names none)."""
        return self.rules.match(api, operation, self.rng) if operation else None

    def save_after(self, operation: str, account_id: str, region: str) -> SesError | None:
        """With a data dir, save the caller's state after a state-changing ``operation``.

        Returns the error to answer instead of the operation's result when saving failed
        (None otherwise, and always None without a data dir or after a read-only operation).
        """
        states = self.states
        if states is None or is_read_only(operation):
            return None
        try:
            states.save(self.backend.account(account_id, region))
        except (sqlite3.Error, RuntimeError, TypeError) as exc:
            # Not on disk, so not acknowledged: the client sees a failure and retries.
            log.exception("saving state after %s failed", operation)
            return internal_failure(f"State not saved: {exc}")
        return None

    @web.middleware
    async def control_token(self, request: web.Request, handler: _Endpoint) -> web.StreamResponse:
        token = self.settings.control_token
        guarded = token is not None and request.path.startswith(_CONTROL_PREFIXES)
        if guarded and not check_control_token(request.headers.items(), token):
            body = {
                "error": {
                    "code": "Unauthorized",
                    "message": "The control API needs 'Authorization: Bearer <token>' or "
                    "'X-Emulator-Token: <token>' (the emulator's --control-token).",
                    "field": None,
                }
            }
            return web.json_response(
                body, status=401, headers={"WWW-Authenticate": 'Bearer realm="emulator"'}
            )
        return await handler(request)

    @web.middleware
    async def readable_body(self, request: web.Request, handler: _Endpoint) -> web.StreamResponse:
        # Read an SES request's body once, up front, and decode it here: a body that cannot be
        # decoded is AWS's MalformedHttpRequestException 400 — "we can't decompress the body
        # according to the decompression algorithm specified by the content-encoding" (AWS
        # Common Errors) — not an error inside a handler.
        path = request.raw_path.partition("?")[0]
        api = _api_of(path)
        if api is None or not request.can_read_body:
            return await handler(request)
        limit = self.settings.max_request_bytes
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            # Answer here: the body is half-read, so the endpoint could not read it again.
            return self._error(api, request_too_large(limit), request)
        except (web.RequestPayloadError, HttpProcessingError) as exc:
            # Only when aiohttp decodes bodies itself (an app served without the emulator's
            # runner, whose auto_decompress=False leaves every byte to the code below).
            response = self._error(api, malformed_http_request(exc), request)
            # The rest of the body is unreadable: close the connection after answering
            # and mark the stream finished, so aiohttp neither parses leftover bytes as
            # a next request nor logs the same error again while draining it.
            response.force_close()
            request.content.feed_eof()
            return response
        # total_compressed_bytes is set only when aiohttp's parser decoded the body already.
        if (
            hdrs.CONTENT_ENCODING in request.headers
            and request.content.total_compressed_bytes is None
        ):
            try:
                body = decode_body(body, request.headers.getall(hdrs.CONTENT_ENCODING), limit=limit)
            except SesError as error:
                return self._error(api, error, request)
        request[BODY] = body
        return await handler(request)

    @web.middleware
    async def sigv4(self, request: web.Request, handler: _Endpoint) -> web.StreamResponse:
        api = _api_of(request.raw_path.partition("?")[0])
        if api is None or self.settings.auth != "verify":
            return await handler(request)
        # The body as sent (cached: readable_body has read it), not as decoded.
        body = await request.read()
        signing = SigningRequest.received(
            request.method, request.raw_path, request.headers.items(), body
        )
        try:
            verify_request(signing, credentials=self.credentials, now=time.time())
        except SesError as error:
            return self._error(api, error, request)
        return await handler(request)

    @web.middleware
    async def faults(self, request: web.Request, handler: _Endpoint) -> web.StreamResponse:
        if not len(self.rules):
            return await handler(request)
        path, _, raw_query = request.raw_path.partition("?")
        api = _api_of(path)
        if api is None:
            return await handler(request)
        operation = await self._operation(request, api, path, raw_query)
        fault = self.fault_for(api, operation)
        if fault is None:
            return await handler(request)
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)
        if fault.error is None:
            return await handler(request)
        return self._error(api, fault.error.to_ses_error(), request)

    @web.middleware
    async def persist(self, request: web.Request, handler: _Endpoint) -> web.StreamResponse:
        states = self.states
        if states is None:
            return await handler(request)
        path, _, raw_query = request.raw_path.partition("?")
        api = _api_of(path)
        if api is not None:
            operation = await self._operation(request, api, path, raw_query)
            response = await handler(request)
            if operation:
                caller = auth.caller(request.headers, raw_query, self.settings)
                error = self.save_after(operation, caller.account_id, caller.region)
                if error is not None:
                    return self._error(api, error, request)
            return response
        response = await handler(request)
        if request.method != "GET" and path.startswith(_CONTROL_PREFIXES):
            states.save_all(self.backend)  # reset, identities, account settings, clock…
        return response


def install(
    app: web.Application,
    settings: Settings,
    backend: Backend,
    *,
    request_id: web.RequestKey[str],
) -> FaultRules:
    """Add the guards to ``app`` and mount ``/_emulator/faults``; open the data dir if set.

    Call it in `build_app` before `emulator.inspect.add_routes` (whose catch-all would shadow
    ``/_emulator/faults``). With ``settings.data_dir`` the backend's message store becomes the
    SQLite store and the saved account states are loaded; a data dir that is not the
    emulator's raises `emulator.persistence.DataDirError` here, before the server listens.
    ``request_id`` is the key under which the app's first middleware stores the request id
    (error bodies quote it).
    """
    rules = FaultRules()
    guards = Guards(settings, backend, rules, request_id)
    app[GUARDS] = guards
    if settings.data_dir is not None:
        messages, states = open_data_dir(settings.data_dir)
        backend.store = messages
        loaded = states.load(backend)
        guards.states = states
        app[STATE_STORE] = states

        def forget_saved(account: str | None, region: str | None) -> None:
            # Backend.reset() called directly (the pytest fixtures do) must not leave saved
            # states behind to come back at the next start.
            states.delete(account, region)

        backend.reset_listeners.append(forget_saved)
        log.info(
            "data dir %s: %d stored messages, %d account states",
            settings.data_dir,
            len(messages),
            loaded,
        )

        async def close_store(_: web.Application) -> None:
            # The backend may outlive the app (EmulatorServer keeps it): stop listening to it.
            if forget_saved in backend.reset_listeners:
                backend.reset_listeners.remove(forget_saved)
            messages.close()

        app.on_cleanup.append(close_store)
    # A guard whose setting is off is not installed at all: every middleware is a coroutine
    # call on every request. (Faults are added at run time, so that guard is always there.)
    middlewares = [
        guards.control_token if settings.control_token is not None else None,
        guards.readable_body,
        guards.sigv4 if settings.auth == "verify" else None,
        guards.faults,
        guards.persist if guards.states is not None else None,
    ]
    app.middlewares.extend(m for m in middlewares if m is not None)
    add_fault_routes(app, rules)
    return rules
