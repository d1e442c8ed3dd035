"""``python -m emulator --split``: the emulator as two processes, and the wire between them.

One Python process spends about 185 us of CPU on an SES send, most of it in HTTP, parsing,
validation and serialisation, none of which needs the emulator's state. Split mode runs that
part in a second process so a two-core machine serves more requests:

* the **owner** (the process ``python -m emulator --split`` starts, `serve_split`) holds all
  state: it builds the normal application (`emulator.app.build_app`: backend, store, quotas,
  guards, SNS publisher, relay, control API) and serves it on an internal loopback port, and
  answers *operation calls* on a Unix socket in a private (0700) temporary directory;
* the **front** (`emulator.front`, a child process) serves the public port. For an SES
  request it does what the application would before the handler — body limit,
  ``Content-Encoding`` decoding, SigV4, parsing, model validation — then makes one operation
  call and serialises the answer. Every other request (control API, inbox, SNS, GET on "/")
  it forwards to the owner's internal port as it came.

An operation call runs, in the owner (`emulator.owner.OperationServer`), the steps that read
or change state, in the order the application's middlewares run them (`emulator.guards`): the
fault rules, the handler (`emulator.app.run_handler`), then saving the caller's state with
``--data-dir``.

Start-up: this module imports little. The owner binds the public port and starts the front
first, and only then imports the emulator (`emulator.owner`) and builds its application, so
the two interpreters load on two cores at once.

The wire
--------
A *frame* is a 4-byte big-endian length and a pickle (protocol 5). The front sends the calls
made in one event-loop turn in frames (a list of `Call`) of up to `emulator.front.FRAME_CALLS`
calls: a full frame at once, so the owner runs it while the front parses the next requests,
the rest at the end of the turn. The owner answers each frame with one frame holding a
`Reply` per call, in order. Pickle runs arbitrary code when it loads, which is acceptable
only because nothing but the two processes of one emulator can reach the socket: it lives in
a directory only the emulator's user can enter.

The first frame on a connection is the owner's hello, ``("hello", settings, internal_url)``;
the front answers ``("ready", pid)`` once it accepts requests on the public port.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import shutil
import site
import socket
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import emulator
from emulator.config import Settings, SettingsError
from emulator.serving import bind_socket, http_url, stop_on_signals
from emulator.ses.errors import Api, SesError, Wire

if TYPE_CHECKING:
    from aiohttp import web

    from emulator.owner import OperationServer

__all__ = [
    "DELAY",
    "ERROR",
    "OK",
    "Call",
    "ErrorData",
    "Reply",
    "encode_frame",
    "error_data",
    "error_from",
    "read_frame",
    "serve_split",
]

log = logging.getLogger("emulator")

Call = tuple[int, Api, str, dict[str, Any] | None, str, str, str, bool]
"""One operation call: ``(call id, api, operation, params, account id, region, request id,
check faults)``. ``params`` are the parsed input (`emulator.ses.context.Params`), or None when
the front could not parse or validate the request: the owner then applies only the fault
rules and persistence, and the front answers its own error (as the application does: a
fault is decided before the handler parses anything)."""

ErrorData = tuple[str, str, int, str, int]
"""A `SesError` as data: ``(message, v1 code, v1 status, v2 code, v2 status)``."""

Reply = tuple[int, str, Any]
"""``(call id, kind, value)``: ``OK`` with the output (None for a call without params),
``ERROR`` with `ErrorData`, or ``DELAY`` with ``(latency_ms, ErrorData | None)``: a fault rule
asks the front to wait, then to answer that error or, without one, to call again with the
fault check off (so the handler runs after the wait, as in one process)."""

OK: Final = "ok"
ERROR: Final = "error"
DELAY: Final = "delay"

_HEADER_BYTES = 4
_MAX_FRAME = 2 ** (8 * _HEADER_BYTES) - 1
_FRONT_START_SECONDS = 30.0  # the front imports aiohttp and the models: ~0.3 s when idle
_FRONT_STOP_SECONDS = 10.0  # it finishes in-flight requests first (up to 2 s, as one process)


def encode_frame(value: object) -> bytes:
    """``value`` as one frame: its length, then its pickle."""
    data = pickle.dumps(value, protocol=5)
    if len(data) > _MAX_FRAME:
        raise ValueError(f"a frame holds at most {_MAX_FRAME} bytes (got {len(data)})")
    return len(data).to_bytes(_HEADER_BYTES, "big") + data


async def read_frame(reader: asyncio.StreamReader) -> Any:
    """The next frame's value; `asyncio.IncompleteReadError` when the peer has gone."""
    header = await reader.readexactly(_HEADER_BYTES)
    return pickle.loads(await reader.readexactly(int.from_bytes(header, "big")))


def error_data(error: SesError) -> ErrorData:
    """A `SesError` as plain data (an exception with keyword arguments does not unpickle)."""
    return (error.message, error.v1.code, error.v1.status, error.v2.code, error.v2.status)


def error_from(data: ErrorData) -> SesError:
    """The `SesError` that `error_data` made ``data`` from."""
    message, v1_code, v1_status, v2_code, v2_status = data
    return SesError(message, v1=Wire(v1_code, v1_status), v2=Wire(v2_code, v2_status))


class _FrontLink:
    """The owner's end of the operation socket: one front, hello, ready, then calls.

    The front starts before the owner's application is built (its imports overlap the
    build), so `open` gives the server and the hello once they exist.
    """

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[tuple[OperationServer, tuple[str, Settings, str]]]
        self.opened = loop.create_future()
        self.ready: asyncio.Future[int] = loop.create_future()
        self.connected = False

    def open(self, server: OperationServer, hello: tuple[str, Settings, str]) -> None:
        self.opened.set_result((server, hello))

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.connected:  # only the front this owner started talks here
            writer.close()
            return
        self.connected = True
        try:
            server, hello = await self.opened
            writer.write(encode_frame(hello))
            ready = await read_frame(reader)
            if not self.ready.done():
                self.ready.set_result(int(ready[1]))
            while True:
                calls = await read_frame(reader)
                writer.write(server.answer_frame(calls))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the front has gone: the owner notices its exit and stops
        finally:
            writer.close()


def _front_environment() -> dict[str, str]:
    # The front must import this very emulator package, wherever the owner found it (a
    # checkout, a PYTHONPATH entry). An installed package needs nothing: the same interpreter
    # finds it, and site-packages must not move ahead of the standard library.
    root = str(Path(emulator.__file__).resolve().parent.parent)
    env = dict(os.environ)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    installed = {str(Path(p).resolve()) for p in site.getsitepackages()}
    if root not in installed and root not in {str(Path(p).resolve()) for p in paths}:
        env["PYTHONPATH"] = os.pathsep.join([root, *paths])
    return env


async def _start_front(path: str, public: socket.socket) -> asyncio.subprocess.Process:
    fd = public.fileno()
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "emulator.front",
        path,
        str(fd),
        pass_fds=(fd,),
        stdin=asyncio.subprocess.DEVNULL,
        # The owner's stdout carries exactly one line (the ready line): the front writes none.
        stdout=sys.stderr.fileno(),
        env=_front_environment(),
    )


async def _stop_front(front: asyncio.subprocess.Process) -> None:
    if front.returncode is not None:
        return
    front.terminate()
    try:
        await asyncio.wait_for(front.wait(), _FRONT_STOP_SECONDS)
    except TimeoutError:
        log.error("the front process (pid %d) did not stop; killing it", front.pid)
        front.kill()
        await front.wait()


async def serve_split(
    settings: Settings, *, ready_line: str, stop: asyncio.Event | None = None
) -> int:
    """Serve as owner and front until ``stop`` (or SIGINT/SIGTERM); the exit status.

    ``ready_line`` (with ``{url}``) is printed once both processes accept requests. The status
    is 1 when the front fails to start or exits by itself, 0 after a requested stop. Raises
    `SettingsError` where there are no Unix domain sockets (Windows), and what `build_app`
    raises for a bad data dir or credentials file.
    """
    if not hasattr(socket, "AF_UNIX"):
        raise SettingsError("split", "needs Unix domain sockets (Linux, macOS)")
    stop = stop or asyncio.Event()
    with stop_on_signals(stop):
        public = bind_socket(settings.host, settings.port)
        port = public.getsockname()[1]
        workdir = tempfile.mkdtemp(prefix="seskit-emulator-")  # mode 0700: the socket's guard
        front: asyncio.subprocess.Process | None = None
        runner: web.AppRunner | None = None
        calls: asyncio.Server | None = None
        try:
            link = _FrontLink()
            path = os.path.join(workdir, "operations.sock")
            calls = await asyncio.start_unix_server(link.serve, path)
            front = await _start_front(path, public)
            public.close()  # the front serves it now; the owner never accepts on it
            # Only now the emulator itself: the front imports its half meanwhile, on the other
            # core, and connects; it gets the hello once the application below is serving.
            from emulator import owner  # noqa: PLC0415 - see above

            runner, operations, internal_url = await owner.start(settings, port)
            link.open(operations, ("hello", settings, internal_url))
            status = await _wait_ready(front, link.ready, stop)
            if status is not None:
                return status
            print(ready_line.format(url=http_url(settings.host, port)), flush=True)
            exited = asyncio.ensure_future(front.wait())
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait((exited, stopped), return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            if exited.done():
                log.error(
                    "the front process (pid %d) exited with status %s; stopping the emulator",
                    front.pid,
                    front.returncode,
                )
                return 1
            log.info("stopping")
            return 0
        finally:
            public.close()
            if front is not None:
                await _stop_front(front)
            if calls is not None:
                calls.close()
            if runner is not None:
                await runner.cleanup()
            shutil.rmtree(workdir, ignore_errors=True)


async def _wait_ready(
    front: asyncio.subprocess.Process, ready: asyncio.Future[int], stop: asyncio.Event
) -> int | None:
    """None once the front is ready; else the exit status (1: it failed, 0: stop requested)."""
    exited = asyncio.ensure_future(front.wait())
    stopped = asyncio.ensure_future(stop.wait())
    try:
        done, _ = await asyncio.wait(
            (ready, exited, stopped),
            timeout=_FRONT_START_SECONDS,
            return_when=asyncio.FIRST_COMPLETED,
        )
    finally:
        stopped.cancel()
        if not exited.done():
            exited.cancel()
    if ready in done:
        return None
    if stopped in done:
        return 0
    if exited in done:
        log.error("the front process exited with status %s before serving", front.returncode)
    else:
        log.error("the front process did not start within %d seconds", _FRONT_START_SECONDS)
    with contextlib.suppress(ProcessLookupError):
        front.kill()
    return 1
