"""The send-rate bucket (with debt) and the rolling 24 h quota, driven by an injected clock."""

from __future__ import annotations

from collections import deque

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.config import AccountProfile
from emulator.ses import throttle
from emulator.ses.state import AccountState

T0 = 1_700_000_000.0


def account(rate: float = 1.0, daily: float = 200.0) -> AccountState:
    return AccountState(
        account_id="000000000000",
        region="us-east-1",
        profile=AccountProfile(sandbox=False, max_send_rate=rate, max_24h_send=daily),
    )


def send(state: AccountState, n: int, now: float, *, quota_n: int | None = None) -> str:
    """Judge and commit one n-recipient message, as the pipeline does."""
    budget = throttle.open_budget(state, burst_seconds=1.0, now=now)
    verdict = budget.admit(rate_recipients=n, quota_recipients=n if quota_n is None else quota_n)
    throttle.commit(state, budget, now=now)
    return verdict


def test_capacity_is_burst_seconds_of_rate_but_at_least_one() -> None:
    assert throttle.bucket_capacity(14.0, 1.0) == 14.0
    assert throttle.bucket_capacity(14.0, 2.0) == 28.0
    assert throttle.bucket_capacity(0.5, 1.0) == 1.0


def test_unused_bucket_is_full_and_refills_at_rate_up_to_capacity() -> None:
    assert throttle.bucket_level(None, 0.0, rate=2.0, capacity=2.0, now=T0) == 2.0
    assert throttle.bucket_level(-4.0, T0, rate=1.0, capacity=1.0, now=T0 + 2) == -2.0
    assert throttle.bucket_level(-4.0, T0, rate=1.0, capacity=1.0, now=T0 + 100) == 1.0


def test_five_recipient_message_goes_into_debt_then_throttles_about_five_seconds() -> None:
    state = account(rate=1.0)
    assert send(state, 5, T0) == "ok"
    assert state.bucket_tokens == -4.0
    for second in range(1, 5):
        assert send(state, 1, T0 + second) == "rate", second
    assert send(state, 1, T0 + 5) == "ok"


def test_burst_capacity_admits_that_many_single_recipient_messages_at_once() -> None:
    state = account(rate=3.0)
    assert [send(state, 1, T0) for _ in range(4)] == ["ok", "ok", "ok", "rate"]
    assert send(state, 1, T0 + 0.34) == "ok"


def test_refused_attempts_take_no_tokens() -> None:
    state = account(rate=1.0)
    assert send(state, 1, T0) == "ok"
    for _ in range(10):
        assert send(state, 1, T0 + 0.5) == "rate"
    assert send(state, 1, T0 + 1.0) == "ok"


def test_daily_quota_refuses_a_call_that_would_exceed_it_entirely() -> None:
    state = account(rate=-1.0, daily=10.0)
    assert send(state, 5, T0) == "ok"
    assert send(state, 6, T0 + 1) == "quota"
    assert throttle.sent_last_24h(state, T0 + 1) == 5
    assert send(state, 5, T0 + 2) == "ok"
    assert send(state, 1, T0 + 3) == "quota"


def test_quota_window_is_rolling_not_calendar() -> None:
    state = account(rate=-1.0, daily=10.0)
    send(state, 6, T0)
    send(state, 4, T0 + 3600)
    assert send(state, 1, T0 + 86_399) == "quota"
    assert send(state, 1, T0 + 86_400) == "ok"  # the first 6 expired
    assert throttle.sent_last_24h(state, T0 + 86_400) == 5
    assert throttle.sent_last_24h(state, T0 + 3600 + 86_400) == 1


def test_quota_is_checked_before_rate() -> None:
    state = account(rate=1.0, daily=1.0)
    assert send(state, 1, T0) == "ok"
    assert send(state, 1, T0) == "quota"


def test_simulator_recipients_take_rate_but_not_quota() -> None:
    state = account(rate=1.0, daily=1.0)
    assert send(state, 3, T0, quota_n=0) == "ok"
    assert throttle.sent_last_24h(state, T0) == 0
    assert send(state, 1, T0 + 1) == "rate"  # still paying the simulator debt


@pytest.mark.parametrize(("rate", "daily"), [(-1.0, -1.0)])
def test_minus_one_means_unlimited(rate: float, daily: float) -> None:
    state = account(rate=rate, daily=daily)
    assert all(send(state, 50, T0) == "ok" for _ in range(100))
    assert throttle.sent_last_24h(state, T0) == 5000


def test_expire_window_keeps_a_running_total() -> None:
    window: deque[tuple[float, int]] = deque([(T0, 2), (T0 + 10, 3)])
    assert throttle.expire_window(window, 5, T0 + 86_400) == 3
    assert list(window) == [(T0 + 10, 3)]


def test_sends_at_the_same_instant_share_one_window_entry() -> None:
    state = account(rate=-1.0, daily=100.0)
    for _ in range(3):
        send(state, 2, T0)
    send(state, 1, T0 + 1)
    assert list(state.sent_window) == [(T0, 6), (T0 + 1, 1)]
    assert throttle.sent_last_24h(state, T0 + 86_400) == 1


@given(
    rate=st.sampled_from([0.5, 1.0, 3.0, 14.0]),
    sends=st.lists(
        st.tuples(st.floats(min_value=0, max_value=5), st.integers(min_value=1, max_value=50)),
        max_size=60,
    ),
)
def test_accepted_recipients_never_outrun_rate_plus_burst_plus_one_message(
    rate: float, sends: list[tuple[float, int]]
) -> None:
    """Over any run, what the bucket admits is bounded by its capacity, the refill and one debt."""
    state = account(rate=rate, daily=-1.0)
    now = T0
    accepted = 0
    for gap, n in sends:
        now += gap
        before = (state.bucket_tokens, state.bucket_updated)
        if send(state, n, now) == "ok":
            accepted += n
        else:
            assert (state.bucket_tokens, state.bucket_updated) == before
    capacity = throttle.bucket_capacity(rate, 1.0)
    assert accepted <= capacity + rate * (now - T0) + 49 + 1e-9
