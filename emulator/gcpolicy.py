"""Keep CPython's cyclic garbage collector from pausing the standalone emulator under load.

Every message the emulator accepts stays in its store until a test clears it, so the heap
grows with traffic. CPython's full (generation 2) collection walks every tracked object, and
it runs each time the long-lived heap has grown by a quarter: with a few thousand stored
messages that is a pause of 50–150 ms in the middle of a request, which was the emulator's
p99 latency (benchmarks/results: 2 ms p99 with the collector off, 50–150 ms with it on, at
one connection).

`GcFreezer` moves what has survived into CPython's permanent generation (`gc.freeze`) after
every ``every`` stored messages, first collecting the young generations so fresh garbage
cycles are not frozen with it. Frozen objects are still freed by reference counting (a
cleared message goes away at once); only cycles among them wait. Those are collected when
the server is idle: `GcFreezer.sweep`, called about once a second, unfreezes and runs a full
collection once no message has been stored since the previous call, so the pause lands
where no request waits for it.

Only ``python -m emulator`` installs it (`install`): an emulator embedded in a test process
(`emulator.server.EmulatorServer`, the pytest plugin) leaves that process's collector alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from emulator.store import MessageRecord

__all__ = ["DEFAULT_FREEZE_EVERY", "GcFreezer", "install"]

log = logging.getLogger("emulator")

DEFAULT_FREEZE_EVERY = 1000
"""Stored messages between two freezes: a young collection per thousand messages is cheap."""

_SWEEP_SECONDS = 1.0


class GcFreezer:
    """Freeze the heap every ``every`` stored messages; unfreeze and collect when idle."""

    def __init__(self, every: int = DEFAULT_FREEZE_EVERY) -> None:
        if every <= 0:
            raise ValueError(f"every: must be positive (got {every})")
        self.every = every
        self.pending = 0  # messages stored since the last freeze
        self.stored_since_sweep = 0
        self.freezes = 0
        self.sweeps = 0

    def on_record(self, _: MessageRecord) -> None:
        """`emulator.ses.state.Backend` record listener: count, and freeze every ``every``."""
        self.stored_since_sweep += 1
        self.pending += 1
        if self.pending >= self.every:
            self.pending = 0
            gc.collect(1)  # young garbage (and its cycles) is freed, not frozen
            gc.freeze()
            self.freezes += 1

    def sweep(self) -> bool:
        """If nothing was stored since the last call and objects are frozen, unfreeze them and
        run a full collection. Returns whether it collected."""
        busy = self.stored_since_sweep > 0
        self.stored_since_sweep = 0
        if busy or gc.get_freeze_count() == 0:
            return False
        gc.unfreeze()
        gc.collect()
        self.pending = 0
        self.sweeps += 1
        return True


def install(app: web.Application, freezer: GcFreezer | None = None) -> GcFreezer:
    """Attach a `GcFreezer` to ``app``'s backend and sweep once a second while it runs."""
    from emulator.app import BACKEND  # noqa: PLC0415 - emulator.app imports the whole server

    freezer = freezer or GcFreezer()
    backend = app[BACKEND]

    async def sweeper() -> None:
        while True:
            await asyncio.sleep(_SWEEP_SECONDS)
            if freezer.sweep():
                log.debug("idle: full garbage collection after %d freezes", freezer.freezes)

    async def run(_: web.Application) -> AsyncIterator[None]:
        backend.record_listeners.append(freezer.on_record)
        task = asyncio.get_running_loop().create_task(sweeper())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if freezer.on_record in backend.record_listeners:
            backend.record_listeners.remove(freezer.on_record)
        gc.unfreeze()

    app.cleanup_ctx.append(run)
    return freezer
