"""What every way of serving the emulator shares: ``python -m emulator`` (one process, or the
owner and the front of ``--split``) and `emulator.server.EmulatorServer`.

It imports nothing but the standard library (aiohttp only when `app_runner` is called), so
that ``--split``'s owner can bind its port and start its front before it imports the rest of
the emulator: the two interpreters then start on two cores at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["app_runner", "bind_socket", "debug_access_log", "http_url", "stop_on_signals"]


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
    from aiohttp import web  # noqa: PLC0415 - see the module docstring

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
