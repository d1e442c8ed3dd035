"""Run the emulator in the background of a test session or a script.

`EmulatorServer` starts `emulator.app.build_app` on its own event loop in a daemon thread,
bound to a loopback address on a free port, and stops it cleanly::

    from emulator.server import EmulatorServer

    with EmulatorServer(profile="sandbox") as server:
        ses = boto3.client("sesv2", endpoint_url=server.endpoint_url, region_name="us-east-1",
                           aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
        ...
        server.backend.reset()          # forget all state between tests

The integration tests' fixtures and the ``ses_emulator`` pytest fixture both use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import socket
import threading
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from emulator.app import build_app
from emulator.config import Settings
from emulator.ses.state import Backend

__all__ = [
    "EmulatorServer",
    "app_runner",
    "bind_socket",
    "debug_access_log",
    "http_url",
    "stop_on_signals",
]

# How long stop() lets in-flight requests finish before closing their connections.
_SHUTDOWN_SECONDS = 2.0
_START_TIMEOUT_SECONDS = 30.0


def app_runner(
    app: web.Application, *, access_log: logging.Logger | None, shutdown_timeout: float
) -> web.AppRunner:
    """The runner that serves an emulator app: ``EmulatorServer`` and ``python -m emulator``.

    It turns aiohttp's request decompression off (``auto_decompress=False``), so request
    bodies reach the app as sent and the emulator decodes them itself (`emulator.guards`):
    aiohttp decodes while it parses, where an unfinished ``deflate`` body failed outside every
    middleware (a plain-text 400, or no answer at all when the body came in a later packet)
    and a truncated ``gzip``, ``br`` or ``zstd`` body passed as its decoded prefix.
    """
    return web.AppRunner(
        app, access_log=access_log, shutdown_timeout=shutdown_timeout, auto_decompress=False
    )


def debug_access_log() -> logging.Logger | None:
    """aiohttp's access logger when the emulator logs at DEBUG, else None (no per-request
    log work): what a standalone server passes to `app_runner`."""
    if logging.getLogger("emulator").isEnabledFor(logging.DEBUG):
        return logging.getLogger("aiohttp.access")
    return None


def http_url(host: str, port: int) -> str:
    """``http://host:port``, an IPv6 address in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM set ``stop`` (the running loop's handlers)."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        yield
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port=0``: a free port the OS picks)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class EmulatorServer:
    """The emulator serving on a loopback port from a background thread.

    ``EmulatorServer(settings=None, **overrides)``: ``overrides`` are `Settings` fields applied
    on top of ``settings`` (or of the defaults). The server binds ``settings.host`` and a free
    port unless ``port=`` is among the overrides; afterwards ``settings.port`` is the bound port.

    Attributes: ``endpoint_url`` (``http://127.0.0.1:PORT``), ``port``, ``backend`` (the
    `emulator.ses.state.Backend`: state, clock, message store) and ``settings``.
    """

    def __init__(self, settings: Settings | None = None, **overrides: Any) -> None:
        base = settings if settings is not None else Settings()
        overrides.setdefault("port", 0)
        self.settings: Settings = dataclasses.replace(base, **overrides)
        self.backend = Backend(self.settings)
        self.port = 0
        self.endpoint_url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    def start(self) -> Self:
        """Bind, start serving, and return once requests are accepted."""
        if self._thread is not None:
            raise RuntimeError("the server is already running")
        sock = bind_socket(self.settings.host, self.settings.port)
        self.port = sock.getsockname()[1]
        host = self.settings.host
        self.endpoint_url = http_url(host, self.port)
        self.settings = dataclasses.replace(self.settings, port=self.port)
        self.backend.settings = self.settings

        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        async def serve() -> None:
            app = build_app(self.settings, backend=self.backend)
            runner = app_runner(app, access_log=None, shutdown_timeout=_SHUTDOWN_SECONDS)
            await runner.setup()
            await web.SockSite(runner, sock).start()
            self._runner = runner

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(serve())
            except BaseException as exc:  # reported to start()'s caller below
                failure.append(exc)
                sock.close()
                ready.set()
                return
            ready.set()
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run, name=f"ses-emulator:{self.port}", daemon=True)
        self._thread.start()
        if not ready.wait(_START_TIMEOUT_SECONDS):
            raise RuntimeError("the emulator did not start within 30 seconds")
        if failure:
            self._thread.join()
            self._thread = None
            loop.close()
            raise RuntimeError("the emulator failed to start") from failure[0]
        return self

    def stop(self) -> None:
        """Stop serving: finish in-flight requests, close the loop, join the thread."""
        loop, thread, runner = self._loop, self._thread, self._runner
        if loop is None or thread is None:
            return
        if runner is not None:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        self._loop = self._thread = self._runner = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._thread is not None else "stopped"
        return f"EmulatorServer({self.endpoint_url or 'unbound'}, {state})"
