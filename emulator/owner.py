"""The owner's side of ``python -m emulator --split`` (see `emulator.split`): the application
holding all state, and the operation calls the front makes of it.

`emulator.split.serve_split` imports this module only after it has started the front, since
it imports the whole emulator.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Sequence

from aiohttp import web

from emulator.app import BACKEND, run_handler
from emulator.config import Settings
from emulator.guards import GUARDS, Guards
from emulator.server import standalone_runner
from emulator.serving import bind_socket
from emulator.ses import v1_ops, v2_ops
from emulator.ses.context import Handler, RequestContext
from emulator.ses.errors import Api, SesError, internal_failure
from emulator.ses.state import Backend
from emulator.split import DELAY, ERROR, OK, Call, Reply, encode_frame, error_data

__all__ = ["OperationServer", "start"]

log = logging.getLogger("emulator")

_HANDLERS: dict[Api, dict[str, Handler]] = {"v1": v1_ops.HANDLERS, "v2": v2_ops.HANDLERS}


class OperationServer:
    """The owner's side of operation calls: faults, handler and persistence, as in one process.

    ``answer`` is synchronous. A handler's unexpected exception is logged and answered as
    ``InternalFailure`` 500, as in one process; `answer_frame` answers any other failure of
    one call the same way, so the next call (and the link to the front) is served as usual.
    """

    def __init__(self, backend: Backend, guards: Guards) -> None:
        self.backend = backend
        self.guards = guards

    @classmethod
    def of(cls, app: web.Application) -> OperationServer:
        """The operation server of an application built by `emulator.app.build_app`."""
        return cls(app[BACKEND], app[GUARDS])

    def answer(self, call: Call) -> Reply:
        """The reply to one call (see `Call` and `Reply`)."""
        call_id, api, operation, params, account_id, region, request_id, check_faults = call
        if check_faults:
            fault = self.guards.fault_for(api, operation)
            if fault is not None:
                error = None if fault.error is None else error_data(fault.error.to_ses_error())
                if fault.latency_ms:
                    return (call_id, DELAY, (fault.latency_ms, error))
                if error is not None:
                    return (call_id, ERROR, error)
        reply: Reply = (call_id, OK, None)
        if params is not None:
            context = RequestContext(
                api=api,
                operation=operation,
                account_id=account_id,
                region=region,
                request_id=request_id,
                backend=self.backend,
            )
            try:
                output = run_handler(
                    operation=operation, params=params, handlers=_HANDLERS[api], context=context
                )
                reply = (call_id, OK, output)
            except SesError as error:
                reply = (call_id, ERROR, error_data(error))
            except Exception:
                log.exception("SES %s request %s failed inside the emulator", api, request_id)
                reply = (call_id, ERROR, error_data(internal_failure()))
        if operation:
            save_error = self.guards.save_after(operation, account_id, region)
            if save_error is not None:
                reply = (call_id, ERROR, error_data(save_error))
        return reply

    def answer_frame(self, calls: Sequence[Call]) -> bytes:
        """The frame answering one frame of calls."""
        replies: list[Reply] = []
        for call in calls:
            try:
                replies.append(self.answer(call))
            except Exception:  # e.g. a data dir that fails other than answer() expects
                log.exception("operation call %s failed inside the emulator", call[2])
                replies.append((call[0], ERROR, error_data(internal_failure())))
        try:
            return encode_frame(replies)
        except Exception:
            # A handler returned something pickle cannot write: fail that call alone.
            log.exception("cannot send an operation's output to the front")
            return encode_frame([_picklable(reply) for reply in replies])


def _picklable(reply: Reply) -> Reply:
    try:
        pickle.dumps(reply, protocol=5)
    except Exception:
        return (reply[0], ERROR, error_data(internal_failure()))
    return reply


async def start(settings: Settings, port: int) -> tuple[web.AppRunner, OperationServer, str]:
    """Serve the owner's application (`emulator.server.standalone_runner`, for the public
    ``port``) on an internal loopback port: its runner, its operation server and the internal
    URL the front forwards other requests to."""
    app, runner = await standalone_runner(settings, port)
    internal = bind_socket("127.0.0.1", 0)
    await web.SockSite(runner, internal).start()
    return runner, OperationServer.of(app), f"http://127.0.0.1:{internal.getsockname()[1]}"
