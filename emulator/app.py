"""The aiohttp application: SES v1 on ``/``, SES v2 on ``/v2/email/…``, control API beside them.

A request flows one way (design.md): middlewares (request id → body-size limit) → protocol
parser (`emulator.protocols.query` or `.restjson`) → model validation → the handler registered
in `emulator.ses.v1_ops.HANDLERS` / `v2_ops.HANDLERS` → protocol serializer.

* An operation of either model with no handler answers ``NotImplemented`` 501 in the API's
  error shape, naming the operation — never a 404 or 500.
* A `SesError` from anywhere becomes the API's error shape with its code and status.
* Any other exception is a bug in the emulator: it is logged with its traceback and answered
  as ``InternalFailure`` (v1) / ``InternalServiceErrorException`` (v2) 500.

Embed it with `build_app` (``aiohttp.web.run_app(build_app(Settings()), auto_decompress=False)``,
or `emulator.server.app_runner`) or, for tests, use `emulator.server.EmulatorServer`. With
``auto_decompress=False`` the emulator decodes compressed request bodies itself
(`emulator.guards`); served with aiohttp's default, aiohttp decodes them, and a truncated
or oversize-when-decoded body is then answered as aiohttp decides.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from emulator import guards, inspect, relay, sns, ui
from emulator.config import Settings
from emulator.ids import random_uuid
from emulator.protocols import auth, models, query, restjson
from emulator.protocols.models import Operation
from emulator.protocols.validate import check_input
from emulator.protocols.wire import REQUEST_ID_HEADER, WireResponse
from emulator.ses import v1_ops, v2_ops
from emulator.ses.context import Handler, Params, RequestContext
from emulator.ses.errors import (
    Api,
    SesError,
    internal_failure,
    not_implemented,
    request_too_large,
)
from emulator.ses.state import Backend

__all__ = ["BACKEND", "REQUEST_ID", "build_app", "dispatch", "run_handler"]

log = logging.getLogger("emulator")

BACKEND = web.AppKey("backend", Backend)
"""Where `build_app` keeps the `Backend`: ``app[BACKEND]``."""

REQUEST_ID = web.RequestKey("request_id", str)
"""The request's id (``request[REQUEST_ID]``), also sent as ``x-amzn-RequestId``."""

_Endpoint = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _respond(wire: WireResponse) -> web.Response:
    return web.Response(status=wire.status, body=wire.body, headers=wire.headers)


def _api_of(path: str) -> Api:
    return "v1" if path in ("", "/") else "v2"


def dispatch(
    *,
    api: Api,
    operation: Operation,
    params: Params,
    handlers: dict[str, Handler],
    context: RequestContext,
    settings: Settings,
) -> Params:
    """Validate ``params`` against the model, then run the operation's handler.

    Raises `SesError`: a constraint violation (before the handler runs), ``NotImplemented``
    501 for an operation without a handler, or whatever the handler raises.
    """
    check_input(api=api, operation=operation, params=params, settings=settings)
    return run_handler(operation=operation.name, params=params, handlers=handlers, context=context)


def run_handler(
    *, operation: str, params: Params, handlers: dict[str, Handler], context: RequestContext
) -> Params:
    """Run the handler of validated ``params``: ``NotImplemented`` 501 when there is none."""
    handler = handlers.get(operation)
    if handler is None:
        raise not_implemented(operation)
    return handler(context, params)


class _Service:
    """The two SES endpoints of one application."""

    def __init__(self, settings: Settings, backend: Backend) -> None:
        self.settings = settings
        self.backend = backend
        self.v1 = models.load("v1")
        self.v2 = models.load("v2")
        self.router = restjson.Router(self.v2)

    def _context(self, request: web.Request, api: Api, operation: Operation) -> RequestContext:
        who = auth.caller(request.headers, request.rel_url.raw_query_string, self.settings)
        return RequestContext(
            api=api,
            operation=operation.name,
            account_id=who.account_id,
            region=who.region,
            request_id=request[REQUEST_ID],
            backend=self.backend,
        )

    def _run(self, request: web.Request, api: Api, operation: Operation, params: Params) -> Params:
        return dispatch(
            api=api,
            operation=operation,
            params=params,
            handlers=v1_ops.HANDLERS if api == "v1" else v2_ops.HANDLERS,
            context=self._context(request, api, operation),
            settings=self.settings,
        )

    async def handle_v1(self, request: web.Request) -> web.Response:
        request_id: str = request[REQUEST_ID]
        try:
            body = await guards.body_of(request)
            fields = request.get(guards.V1_FORM)  # decoded already by a fault or state guard
            if fields is None:
                fields = query.parse_form(body, request.rel_url.raw_query_string)
            operation, params = query.parse_request(self.v1, fields)
            output = self._run(request, "v1", operation, params)
            wire = query.serialize_result(self.v1, operation, output, request_id)
        except SesError as error:
            wire = query.serialize_error(self.v1, error, request_id)
        except web.HTTPRequestEntityTooLarge:
            too_large = request_too_large(self.settings.max_request_bytes)
            wire = query.serialize_error(self.v1, too_large, request_id)
        except Exception:
            log.exception("SES v1 request %s failed inside the emulator", request_id)
            wire = query.serialize_error(self.v1, internal_failure(), request_id)
        return _respond(wire)

    async def handle_v2(self, request: web.Request) -> web.Response:
        request_id: str = request[REQUEST_ID]
        path, _, raw_query = request.raw_path.partition("?")
        try:
            binding, values = self.router.match(request.method, path)
            body = await guards.body_of(request)
            operation, params = restjson.parse_request(binding, values, raw_query, body)
            output = self._run(request, "v2", operation, params)
            wire = restjson.serialize_result(operation, output, request_id)
        except SesError as error:
            wire = restjson.serialize_error(error, request_id)
        except web.HTTPRequestEntityTooLarge:
            too_large = request_too_large(self.settings.max_request_bytes)
            wire = restjson.serialize_error(too_large, request_id)
        except Exception:
            log.exception("SES v2 request %s failed inside the emulator", request_id)
            wire = restjson.serialize_error(internal_failure(), request_id)
        return _respond(wire)

    async def handle_unknown(self, request: web.Request) -> web.Response:
        path = request.raw_path.partition("?")[0]
        return _respond(restjson.unknown_path(path, request[REQUEST_ID]))

    @web.middleware
    async def request_id(self, request: web.Request, handler: _Endpoint) -> web.StreamResponse:
        request_id = random_uuid()
        request[REQUEST_ID] = request_id
        response = await handler(request)
        response.headers.setdefault(REQUEST_ID_HEADER, request_id)
        return response

    @web.middleware
    async def body_limit(self, request: web.Request, handler: _Endpoint) -> web.StreamResponse:
        # Refuse a declared oversize body before reading it; a chunked one is stopped by
        # aiohttp's client_max_size while reading (caught in the endpoints above).
        limit = self.settings.max_request_bytes
        if request.content_length is not None and request.content_length > limit:
            error = request_too_large(limit)
            request_id: str = request[REQUEST_ID]
            path = request.raw_path.partition("?")[0]
            if _api_of(path) == "v1":
                return _respond(query.serialize_error(self.v1, error, request_id))
            return _respond(restjson.serialize_error(error, request_id))
        return await handler(request)


def build_app(settings: Settings, *, backend: Backend | None = None) -> web.Application:
    """The emulator as an aiohttp `web.Application` (state in ``app[BACKEND]``)."""
    backend = backend if backend is not None else Backend(settings)
    service = _Service(settings, backend)
    app = web.Application(
        middlewares=[service.request_id, service.body_limit],
        client_max_size=settings.max_request_bytes,
    )
    app[BACKEND] = backend
    # Reliability guards (SigV4, control token, faults, --data-dir): emulator/guards.py.
    # Before the control API, whose /_emulator catch-all would shadow /_emulator/faults.
    guards.install(app, settings, backend, request_id=REQUEST_ID)
    # Event publishing to SNS webhooks (its /_emulator routes go before the control API's
    # catch-all; its middleware answers SNS API actions sent to "/").
    sns.install(app, backend)
    # --smtp-relay: forward each accepted message to an SMTP server (emulator/relay.py).
    relay.install(app, settings, backend)
    # The web inbox (/_emulator/ui) and its attachment endpoint, before the catch-all below.
    ui.add_routes(app, backend)
    # The /_aws/ses and /_emulator control API first: the catch-all below must not shadow it.
    inspect.add_routes(app, backend)
    app.router.add_route("*", "/", service.handle_v1)
    # [\s\S]*, not .*: a path with %0A (a decoded newline) must reach these handlers too.
    app.router.add_route("*", r"/v2/{tail:[\s\S]*}", service.handle_v2)
    app.router.add_route("*", r"/{tail:[\s\S]*}", service.handle_unknown)
    return app
