"""Pace sends so SES never has to throttle them: a token bucket counted in recipients.

SES's maximum send rate counts *recipients* per second, not messages: a message to 10
addresses uses 10 (ses-spec §5, §6.1). SES tolerates short bursts above the rate and drops
sustained excess, which is a token bucket with a small capacity.

`TokenBucket` is sans-I/O: it never reads a clock and never sleeps. The caller passes ``now``
(any monotonic seconds) and receives how long to wait::

    bucket = TokenBucket(rate=14.0)
    wait = bucket.acquire(3, now=time.monotonic())   # 0.0 while the burst lasts
    time.sleep(wait)                                 # then send the 3-recipient message

`acquire` reserves the tokens at once, so the bucket may go into debt: the next caller waits
for that debt to be repaid too. A message with more recipients than the bucket holds waits for
a full bucket and then borrows the rest, which is how SES's own bucket treats it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["DEFAULT_BURST_SECONDS", "DEFAULT_SAFETY", "SendQuota", "TokenBucket"]

#: Fraction of SES's advertised rate a sender aims for. SES says the accepted rate "might be
#: less than the maximum send rate" (ses-spec §5), so pace a little below it.
DEFAULT_SAFETY: Final = 0.95
#: Bucket capacity in seconds of the rate. SES tolerates "short bursts" without a number
#: (ses-spec §5); one second's worth is what the emulator models (Settings.rate_burst_seconds).
DEFAULT_BURST_SECONDS: Final = 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class SendQuota:
    """An account's sending limits, as `GetSendQuota` (v1) or `GetAccount` (v2) report them.

    ``-1`` means unlimited (SES's own convention, ses-spec §3); the values are floats because
    SES sends doubles (``200.0``, ``1.0``; ses-spec §6.18).
    """

    max_send_rate: float
    max_24h_send: float
    sent_last_24h: float = 0.0

    def __post_init__(self) -> None:
        if not (self.max_send_rate == -1 or self.max_send_rate > 0):
            raise ValueError(
                f"max_send_rate: must be positive or -1 for unlimited (got {self.max_send_rate!r})"
            )
        # A quota of 0 is possible (nothing may be sent today); only negatives other than -1
        # are nonsense.
        if not (self.max_24h_send == -1 or self.max_24h_send >= 0):
            raise ValueError(
                "max_24h_send: must not be negative, or -1 for unlimited "
                f"(got {self.max_24h_send!r})"
            )
        if self.sent_last_24h < 0:
            raise ValueError(f"sent_last_24h: must not be negative (got {self.sent_last_24h!r})")

    @property
    def unlimited_rate(self) -> bool:
        """True when SES reports no maximum send rate."""
        return self.max_send_rate == -1

    @property
    def remaining_24h(self) -> float:
        """Recipients still allowed in the rolling 24 hours (``math.inf`` when unlimited)."""
        if self.max_24h_send == -1:
            return math.inf
        return max(0.0, self.max_24h_send - self.sent_last_24h)

    @classmethod
    def from_v1(cls, response: Mapping[str, Any]) -> SendQuota:
        """From a v1 ``GetSendQuota`` response (``Max24HourSend``, ``MaxSendRate``, …)."""
        return cls(
            max_send_rate=float(response["MaxSendRate"]),
            max_24h_send=float(response["Max24HourSend"]),
            sent_last_24h=float(response.get("SentLast24Hours", 0.0)),
        )

    @classmethod
    def from_v2(cls, response: Mapping[str, Any]) -> SendQuota:
        """From a v2 ``GetAccount`` response (its ``SendQuota`` member)."""
        return cls.from_v1(response["SendQuota"])


@dataclass(slots=True, kw_only=True)
class TokenBucket:
    """A token bucket in recipients: ``rate`` per second, ``capacity`` at most.

    ``rate=math.inf`` never waits. The bucket starts full at the first ``now`` it sees.

    >>> bucket = TokenBucket(rate=10.0, capacity=10.0)
    >>> bucket.acquire(10, now=0.0)
    0.0
    >>> bucket.acquire(5, now=0.0)     # the burst is spent: wait for 5 tokens at 10/s
    0.5
    >>> bucket.acquire(5, now=0.0)     # the previous reservation is debt: wait for it too
    1.0
    """

    rate: float
    capacity: float
    _tokens: float = field(init=False, default=0.0)
    _updated: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if not self.rate > 0:
            raise ValueError(f"rate: must be positive recipients per second (got {self.rate!r})")
        if not self.capacity > 0:
            raise ValueError(f"capacity: must be positive recipients (got {self.capacity!r})")
        self._tokens = self.capacity

    @classmethod
    def for_rate(
        cls,
        max_send_rate: float,
        *,
        safety: float = DEFAULT_SAFETY,
        burst_seconds: float = DEFAULT_BURST_SECONDS,
    ) -> TokenBucket:
        """A bucket pacing at ``safety × max_send_rate``; ``-1`` (unlimited) never waits.

        The capacity is ``burst_seconds`` of the paced rate, and at least one recipient.
        """
        if not 0 < safety <= 1:
            raise ValueError(f"safety: must be in (0, 1] (got {safety!r})")
        if burst_seconds < 0:
            raise ValueError(f"burst_seconds: must not be negative (got {burst_seconds!r})")
        if max_send_rate == -1:
            return cls(rate=math.inf, capacity=math.inf)
        if not max_send_rate > 0:
            raise ValueError(
                f"max_send_rate: must be positive or -1 for unlimited (got {max_send_rate!r})"
            )
        rate = max_send_rate * safety
        return cls(rate=rate, capacity=max(1.0, rate * burst_seconds))

    @classmethod
    def for_quota(
        cls,
        quota: SendQuota,
        *,
        safety: float = DEFAULT_SAFETY,
        burst_seconds: float = DEFAULT_BURST_SECONDS,
    ) -> TokenBucket:
        """A bucket for the ``MaxSendRate`` an account reports."""
        return cls.for_rate(quota.max_send_rate, safety=safety, burst_seconds=burst_seconds)

    @property
    def unlimited(self) -> bool:
        """True when the bucket never makes anyone wait."""
        return math.isinf(self.rate)

    def tokens(self, now: float) -> float:
        """Recipients that could be sent at ``now`` without waiting (negative while in debt)."""
        self._refill(now)
        return self._tokens

    def acquire(self, recipients: int, now: float) -> float:
        """Reserve ``recipients`` tokens; return the seconds to wait before sending them."""
        if recipients < 0:
            raise ValueError(f"recipients: must not be negative (got {recipients!r})")
        if self.unlimited:
            return 0.0
        self._refill(now)
        # Wait for the whole need, or for a full bucket when the need is larger than it.
        need = min(float(recipients), self.capacity)
        wait = max(0.0, (need - self._tokens) / self.rate)
        self._tokens -= recipients
        return wait

    def drain(self, now: float) -> None:
        """Forget the stored burst: SES has just throttled us, so its bucket is empty."""
        self._refill(now)
        self._tokens = min(self._tokens, 0.0)

    def _refill(self, now: float) -> None:
        if self._updated is None:
            self._updated = now
            return
        elapsed = now - self._updated
        if elapsed > 0:
            self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
            self._updated = now
