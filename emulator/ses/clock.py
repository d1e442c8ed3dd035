"""The emulator's clock: real time by default, a virtual one that tests set and advance.

Everything in ``emulator/ses`` that depends on time (send-rate buckets, the rolling 24-hour
quota, timestamps on records, statistics buckets) reads `Clock.now()`; nothing calls
``time.time()`` directly, so a test can move time instead of sleeping.
"""

from __future__ import annotations

import threading
import time

__all__ = ["Clock"]


class Clock:
    """Wall-clock seconds since the epoch, or a virtual time that only moves when told to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._virtual: float | None = None

    @property
    def is_virtual(self) -> bool:
        return self._virtual is not None

    def now(self) -> float:
        virtual = self._virtual
        return time.time() if virtual is None else virtual

    def set(self, now: float) -> None:
        """Switch to virtual time, frozen at ``now`` (epoch seconds)."""
        with self._lock:
            self._virtual = float(now)

    def advance(self, seconds: float) -> float:
        """Move virtual time forward (switching to virtual time at the current moment first)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            base = time.time() if self._virtual is None else self._virtual
            self._virtual = base + seconds
            return self._virtual

    def use_real_time(self) -> None:
        with self._lock:
            self._virtual = None
