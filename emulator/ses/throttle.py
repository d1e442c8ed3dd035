"""The maximum send rate and the rolling 24-hour quota, both counted in recipients.

Pure: every function takes ``now`` (epoch seconds from the emulator's `Clock`), so tests move
time instead of sleeping.

**Send rate** (ses-spec §5 [D]): a token bucket filled at ``MaxSendRate`` recipients per second,
holding at most ``capacity = max(1, rate_burst_seconds × rate)`` tokens. A message is admitted
when the bucket holds at least one token, and then takes *all* its recipients, so the bucket can
go into **debt**: at 1/s, a 5-recipient message sent with a full bucket leaves -4 tokens and the
next message is refused until about 5 s have passed (the behaviour the SES blog describes for
"short bursts").

**Daily quota** (ses-spec §5 [D]): the recipients accepted in the previous 24 hours (a rolling
window, not a calendar day). A call is refused if accepting it *would exceed* the quota, so a
10-recipient call with 5 left is refused entirely. Mailbox-simulator recipients count toward the
rate but not the quota; suppressed recipients count toward both [D].

``-1`` means unlimited for either limit (SES reports an unlimited daily quota as -1).
Refused attempts take nothing: a `Budget` is worked out first and committed only for what was
accepted.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Final, Literal

from emulator.ses.state import AccountState

__all__ = [
    "DAY_SECONDS",
    "UNLIMITED",
    "Budget",
    "Verdict",
    "bucket_capacity",
    "bucket_level",
    "commit",
    "expire_window",
    "open_budget",
    "sent_last_24h",
]

DAY_SECONDS: Final = 86_400.0  # the quota's rolling window [D]
UNLIMITED: Final = -1.0  # SES's "no limit" value in GetSendQuota [D]

Verdict = Literal["ok", "quota", "rate"]


def bucket_capacity(rate: float, burst_seconds: float) -> float:
    """How many tokens a full bucket holds: ``burst_seconds`` of the rate, at least one message."""
    return max(1.0, rate * burst_seconds)


def bucket_level(
    tokens: float | None, updated: float, *, rate: float, capacity: float, now: float
) -> float:
    """Tokens in the bucket at ``now``; ``tokens=None`` is a bucket never used (full)."""
    if tokens is None:
        return capacity
    return min(capacity, tokens + max(0.0, now - updated) * rate)


def expire_window(window: deque[tuple[float, int]], total: int, now: float) -> int:
    """Drop entries older than 24 h from ``window`` (oldest first) and return the new total."""
    horizon = now - DAY_SECONDS
    while window and window[0][0] <= horizon:
        total -= window.popleft()[1]
    return total


def sent_last_24h(state: AccountState, now: float) -> int:
    """Recipients counted toward the quota in the 24 h before ``now`` (expires old entries)."""
    state.sent_window_total = expire_window(state.sent_window, state.sent_window_total, now)
    return state.sent_window_total


@dataclass(slots=True, kw_only=True)
class Budget:
    """What one send call may still take: the bucket level and the quota used, before commit.

    `admit` is called once per message (once per bulk entry) in request order; each admitted
    message reduces the budget for the next, and `commit` writes the result back to the state.
    """

    rate: float
    max_24h: float
    level: float
    used: int
    rate_taken: int = 0
    quota_taken: int = 0

    def admit(self, *, rate_recipients: int, quota_recipients: int) -> Verdict:
        """Would a message with these counts be accepted now? If so, take them from the budget.

        The quota is checked first, as SES does: a call that would exceed the daily quota is
        refused with the quota error even when the rate would also refuse it.
        """
        if (
            self.max_24h != UNLIMITED
            and quota_recipients > 0
            and self.used + quota_recipients > self.max_24h
        ):
            return "quota"
        if self.rate != UNLIMITED and rate_recipients > 0 and self.level < 1.0:
            return "rate"
        self.level -= rate_recipients
        self.used += quota_recipients
        self.rate_taken += rate_recipients
        self.quota_taken += quota_recipients
        return "ok"


def open_budget(state: AccountState, *, burst_seconds: float, now: float) -> Budget:
    """The budget of ``state`` at ``now`` (expires the quota window as a side effect)."""
    rate = state.max_send_rate
    level = (
        0.0
        if rate == UNLIMITED
        else bucket_level(
            state.bucket_tokens,
            state.bucket_updated,
            rate=rate,
            capacity=bucket_capacity(rate, burst_seconds),
            now=now,
        )
    )
    return Budget(
        rate=rate, max_24h=state.max_24h_send, level=level, used=sent_last_24h(state, now)
    )


def commit(state: AccountState, budget: Budget, *, now: float) -> None:
    """Record what ``budget`` admitted: tokens taken from the bucket, recipients in the window."""
    if budget.rate != UNLIMITED and budget.rate_taken:
        state.bucket_tokens = budget.level
        state.bucket_updated = now
    if budget.quota_taken:
        window = state.sent_window
        if window and window[-1][0] == now:
            # Same instant (a frozen virtual clock, a busy second): one entry, same expiry.
            window[-1] = (now, window[-1][1] + budget.quota_taken)
        else:
            window.append((now, budget.quota_taken))
        state.sent_window_total += budget.quota_taken
