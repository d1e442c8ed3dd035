"""The standalone emulator's garbage-collector policy (emulator/gcpolicy.py)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from aiohttp.test_utils import TestServer

from emulator.app import BACKEND, build_app
from emulator.config import Settings
from emulator.gcpolicy import GcFreezer, install
from emulator.store import MessageRecord


class _Node:
    """An object that can sit in a reference cycle and be watched through a weakref."""

    def __init__(self) -> None:
        self.other: _Node | None = None


def _record(n: int) -> MessageRecord:
    return MessageRecord(
        id=f"m{n}",
        account="000000000000",
        region="us-east-1",
        api="v2",
        operation="SendEmail",
        kind="simple",
        timestamp=0.0,
        source="a@example.com",
        envelope_from="a@example.com",
    )


def _cycle() -> weakref.ref[_Node]:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


@pytest.fixture(autouse=True)
def _leave_gc_as_found() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_freezes_after_every_n_stored_messages() -> None:
    freezer = GcFreezer(every=3)
    freezer.on_record(_record(1))
    freezer.on_record(_record(2))
    assert gc.get_freeze_count() == 0
    freezer.on_record(_record(3))
    assert freezer.freezes == 1
    assert gc.get_freeze_count() > 0


def test_young_garbage_cycles_are_collected_before_freezing() -> None:
    freezer = GcFreezer(every=1)
    dead = _cycle()
    freezer.on_record(_record(1))
    assert dead() is None


def test_idle_sweep_unfreezes_and_collects_frozen_cycles() -> None:
    freezer = GcFreezer(every=1)
    keep = _Node()
    keep.other = _Node()
    keep.other.other = keep
    watched = weakref.ref(keep)
    freezer.on_record(_record(1))  # the live cycle is frozen with everything else
    del keep
    assert watched() is not None  # frozen: the collector does not look at it
    freezer.sweep()  # a message was stored since the last sweep: busy, nothing happens
    assert gc.get_freeze_count() > 0
    assert freezer.sweep() is True  # idle now
    assert gc.get_freeze_count() == 0
    assert watched() is None
    assert freezer.sweeps == 1


def test_sweep_does_nothing_when_nothing_is_frozen() -> None:
    freezer = GcFreezer(every=10)
    freezer.on_record(_record(1))
    assert freezer.sweep() is False
    assert freezer.sweep() is False
    assert freezer.sweeps == 0


def test_every_must_be_positive() -> None:
    with pytest.raises(ValueError, match="every: must be positive"):
        GcFreezer(every=0)


async def test_install_listens_while_the_app_runs_and_unfreezes_at_shutdown() -> None:
    app = build_app(Settings())
    freezer = install(app, GcFreezer(every=1))
    backend = app[BACKEND]
    async with TestServer(app, host="127.0.0.1"):
        assert freezer.on_record in backend.record_listeners
        freezer.on_record(_record(1))
        assert gc.get_freeze_count() > 0
    assert freezer.on_record not in backend.record_listeners
    assert gc.get_freeze_count() == 0
