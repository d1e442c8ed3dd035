"""seskit.ratelimit: the recipient token bucket (debt, bursts, injected clock) and quotas."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seskit.ratelimit import SendQuota, TokenBucket


def test_a_full_bucket_sends_its_burst_without_waiting() -> None:
    bucket = TokenBucket(rate=10.0, capacity=10.0)
    assert [bucket.acquire(1, now=0.0) for _ in range(10)] == [0.0] * 10
    assert bucket.acquire(1, now=0.0) == pytest.approx(0.1)


def test_reservations_go_into_debt_and_later_callers_wait_for_it() -> None:
    bucket = TokenBucket(rate=10.0, capacity=10.0)
    assert bucket.acquire(10, now=0.0) == 0.0
    assert bucket.acquire(5, now=0.0) == pytest.approx(0.5)
    assert bucket.acquire(5, now=0.0) == pytest.approx(1.0)
    assert bucket.tokens(0.0) == pytest.approx(-10.0)
    assert bucket.tokens(1.0) == pytest.approx(0.0)


def test_recipients_not_messages_are_counted() -> None:
    bucket = TokenBucket(rate=14.0, capacity=14.0)
    assert bucket.acquire(10, now=0.0) == 0.0
    # A second 10-recipient message needs 6 more tokens than are left: 6 / 14 s.
    assert bucket.acquire(10, now=0.0) == pytest.approx(6 / 14)


def test_a_message_larger_than_the_bucket_waits_for_a_full_bucket_then_borrows() -> None:
    bucket = TokenBucket(rate=1.0, capacity=1.0)
    assert bucket.acquire(1, now=0.0) == 0.0
    # 50 recipients at 1/s: wait until the bucket is full again (1 s), not 50 s.
    assert bucket.acquire(50, now=0.0) == pytest.approx(1.0)
    # ...and the 50 borrowed tokens are repaid before anyone else goes: 49 s after that.
    assert bucket.acquire(1, now=1.0) == pytest.approx(50.0)


def test_refill_stops_at_capacity() -> None:
    bucket = TokenBucket(rate=10.0, capacity=5.0)
    bucket.acquire(5, now=0.0)
    assert bucket.tokens(100.0) == pytest.approx(5.0)
    assert bucket.acquire(6, now=100.0) == pytest.approx(0.0)  # need capped at capacity
    assert bucket.acquire(1, now=100.0) == pytest.approx(0.2)


def test_the_bucket_starts_full_at_the_first_time_it_sees() -> None:
    bucket = TokenBucket(rate=2.0, capacity=4.0)
    assert bucket.tokens(1000.0) == pytest.approx(4.0)


def test_time_going_backwards_never_adds_tokens() -> None:
    bucket = TokenBucket(rate=10.0, capacity=10.0)
    bucket.acquire(10, now=5.0)
    assert bucket.tokens(4.0) == pytest.approx(0.0)


def test_drain_forgets_the_burst_but_keeps_debt() -> None:
    bucket = TokenBucket(rate=10.0, capacity=10.0)
    bucket.drain(0.0)
    assert bucket.acquire(1, now=0.0) == pytest.approx(0.1)
    bucket.drain(0.0)
    assert bucket.tokens(0.0) == pytest.approx(-1.0)


def test_for_rate_applies_the_safety_factor_and_burst_seconds() -> None:
    bucket = TokenBucket.for_rate(200.0)
    assert bucket.rate == pytest.approx(190.0)
    assert bucket.capacity == pytest.approx(190.0)
    small = TokenBucket.for_rate(1.0, safety=0.5, burst_seconds=0.0)
    assert (small.rate, small.capacity) == (0.5, 1.0)  # at least one recipient fits


def test_unlimited_rate_never_waits() -> None:
    bucket = TokenBucket.for_rate(-1.0)
    assert bucket.unlimited
    assert [bucket.acquire(50, now=0.0) for _ in range(1000)] == [0.0] * 1000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_send_rate": 0.0}, "max_send_rate: must be positive or -1 for unlimited (got 0.0)"),
        ({"max_send_rate": 1.0, "safety": 1.5}, "safety: must be in (0, 1] (got 1.5)"),
        ({"max_send_rate": 1.0, "burst_seconds": -1.0}, "burst_seconds: must not be negative"),
    ],
)
def test_for_rate_rejects_bad_settings(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        TokenBucket.for_rate(**kwargs)


def test_negative_recipients_are_refused() -> None:
    with pytest.raises(ValueError, match="recipients: must not be negative"):
        TokenBucket(rate=1.0, capacity=1.0).acquire(-1, now=0.0)


def test_quota_from_get_send_quota_v1() -> None:
    quota = SendQuota.from_v1({"Max24HourSend": 200.0, "MaxSendRate": 1.0, "SentLast24Hours": 3.0})
    assert quota == SendQuota(max_send_rate=1.0, max_24h_send=200.0, sent_last_24h=3.0)
    assert quota.remaining_24h == 197.0
    bucket = TokenBucket.for_quota(quota)
    assert bucket.rate == pytest.approx(0.95)


def test_quota_from_get_account_v2_with_unlimited_values() -> None:
    quota = SendQuota.from_v2(
        {"SendQuota": {"Max24HourSend": -1.0, "MaxSendRate": -1.0, "SentLast24Hours": 0.0}}
    )
    assert quota.unlimited_rate
    assert quota.remaining_24h == math.inf
    assert TokenBucket.for_quota(quota).unlimited


def test_quota_rejects_impossible_values() -> None:
    with pytest.raises(ValueError, match="max_send_rate: must be positive or -1"):
        SendQuota(max_send_rate=0.0, max_24h_send=1.0)
    with pytest.raises(ValueError, match="max_24h_send: must not be negative, or -1"):
        SendQuota(max_send_rate=1.0, max_24h_send=float("nan"))
    with pytest.raises(ValueError, match="max_24h_send: must not be negative, or -1"):
        SendQuota(max_send_rate=1.0, max_24h_send=-2.0)
    assert SendQuota(max_send_rate=1.0, max_24h_send=0.0).remaining_24h == 0.0


@settings(max_examples=200, deadline=None)
@given(
    rate=st.floats(min_value=0.5, max_value=500.0),
    burst=st.floats(min_value=0.0, max_value=3.0),
    sends=st.lists(
        st.tuples(st.integers(min_value=1, max_value=50), st.floats(min_value=0.0, max_value=2.0)),
        min_size=1,
        max_size=60,
    ),
)
def test_paced_sends_never_outrun_a_server_bucket_with_the_same_rate(
    rate: float, burst: float, sends: list[tuple[int, float]]
) -> None:
    """Whoever sleeps as told never sends faster than an SES bucket of the same rate allows.

    The server's bucket (rate ``rate``, capacity ``max(1, rate * burst)``, allowed into debt
    once full enough, as SES's is) must have enough tokens for every send when it arrives.
    """
    client = TokenBucket.for_rate(rate, safety=1.0, burst_seconds=burst)
    server_tokens, server_time = client.capacity, 0.0
    now = 0.0
    for recipients, idle in sends:
        now += idle
        now += client.acquire(recipients, now)
        server_tokens = min(client.capacity, server_tokens + (now - server_time) * rate)
        server_time = now
        assert server_tokens >= min(recipients, client.capacity) - 1e-6
        server_tokens -= recipients
