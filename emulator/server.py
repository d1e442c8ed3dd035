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
import dataclasses
import logging
import threading
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from emulator import gcpolicy
from emulator.app import build_app
from emulator.config import Settings
from emulator.serving import app_runner, bind_socket, debug_access_log, http_url, stop_on_signals
from emulator.ses.state import Backend

# `app_runner` is documented here for users who serve `build_app` themselves.
__all__ = ["EmulatorServer", "app_runner", "serve", "standalone_runner"]

log = logging.getLogger("emulator")

# How long stop() lets in-flight requests finish before closing their connections.
_SHUTDOWN_SECONDS = 2.0
_START_TIMEOUT_SECONDS = 30.0


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


async def serve(settings: Settings, *, ready_line: str, stop: asyncio.Event | None = None) -> int:
    """``python -m emulator``: serve until ``stop`` is set (or SIGINT/SIGTERM arrives), then
    shut down cleanly; the exit status (0). ``ready_line`` (with ``{url}``) is printed once
    requests are accepted."""
    stop = stop or asyncio.Event()
    with stop_on_signals(stop):
        sock = bind_socket(settings.host, settings.port)
        port = sock.getsockname()[1]
        _, runner = await standalone_runner(settings, port)
        try:
            await web.SockSite(runner, sock).start()
            print(ready_line.format(url=http_url(settings.host, port)), flush=True)
            await stop.wait()
            log.info("stopping")
        finally:
            await runner.cleanup()
    return 0


async def standalone_runner(settings: Settings, port: int) -> tuple[web.Application, web.AppRunner]:
    """The application a standalone emulator serves (``python -m emulator``, and the owner of
    ``--split``) and its runner, set up: built for ``port``, the public port (not 0: URLs the
    emulator hands out, such as an SNS SubscribeURL, must reach it), with the GC policy
    (`emulator.gcpolicy`: no collector pauses under load)."""
    app = build_app(dataclasses.replace(settings, port=port))
    gcpolicy.install(app)
    runner = app_runner(app, access_log=debug_access_log(), shutdown_timeout=_SHUTDOWN_SECONDS)
    await runner.setup()
    return app, runner
