"""Account settings (the control API's contract), quotas, statistics and the review flow."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from emulator.config import PROFILES
from emulator.ses import account
from emulator.ses.errors import SesError
from emulator.ses.state import AccountState

T0 = 1_700_000_000.0


def state(profile: str = "unlimited") -> AccountState:
    return AccountState(account_id="1", region="us-east-1", profile=PROFILES[profile])


def test_describe_reports_the_contract_keys() -> None:
    s = state("production")
    s.sent_window.append((T0, 3))
    s.sent_window_total = 3
    view = account.describe(s, now=T0 + 10)
    assert view == {
        "sandbox": False,
        "max_send_rate": 14.0,
        "max_24h_send": 50000.0,
        "sending_enabled": True,
        "review_status": None,
        "sent_last_24h": 3,
        "profile": {"sandbox": False, "max_send_rate": 14.0, "max_24h_send": 50000.0},
    }
    assert account.describe(s, now=T0 + 86_400)["sent_last_24h"] == 0


def test_turning_sandbox_on_applies_sandbox_quotas() -> None:
    s = state()
    account.apply_settings(s, {"sandbox": True}, now=T0)
    assert (s.sandbox, s.max_send_rate, s.max_24h_send) == (True, 1.0, 200.0)


def test_sandbox_with_rates_in_the_same_call_keeps_the_given_rates() -> None:
    s = state()
    account.apply_settings(s, {"sandbox": True, "max_send_rate": 5}, now=T0)
    assert (s.max_send_rate, s.max_24h_send) == (5.0, 200.0)


def test_none_restores_the_profile_value() -> None:
    s = state("sandbox")
    account.apply_settings(s, {"max_send_rate": 10, "sandbox": False}, now=T0)
    account.apply_settings(s, {"max_send_rate": None, "sandbox": None}, now=T0)
    assert (s.sandbox, s.max_send_rate) == (True, 1.0)


def test_granted_review_gives_production_access_and_quotas() -> None:
    s = state("sandbox")
    account.apply_settings(s, {"review_status": "GRANTED"}, now=T0)
    assert (s.sandbox, s.max_send_rate, s.max_24h_send, s.review_status) == (
        False,
        14.0,
        50000.0,
        "GRANTED",
    )


def test_denied_review_keeps_the_sandbox() -> None:
    s = state("sandbox")
    account.apply_settings(s, {"review_status": "DENIED"}, now=T0)
    assert (s.sandbox, s.review_status) == (True, "DENIED")


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"sandbox": "yes"}, "sandbox"),
        ({"max_send_rate": True}, "max_send_rate"),
        ({"max_24h_send": 0}, "max_24h_send"),
        ({"review_status": "MAYBE"}, "review_status"),
        ({"colour": 1}, "colour"),
    ],
)
def test_bad_settings_raise_value_error_naming_the_key(
    changes: dict[str, object], key: str
) -> None:
    s = state()
    with pytest.raises(ValueError, match=f"^{key}:"):
        account.apply_settings(s, changes, now=T0)
    assert s.sandbox_override is None
    assert s.max_send_rate_override is None


def test_send_quota_reports_doubles_with_minus_one_for_unlimited() -> None:
    assert account.send_quota(state(), now=T0) == {
        "Max24HourSend": -1.0,
        "MaxSendRate": -1.0,
        "SentLast24Hours": 0.0,
    }


def test_statistics_cover_two_weeks_in_15_minute_points() -> None:
    s = state()
    old = int(T0 - 15 * 86_400) // 900 * 900
    recent = int(T0) // 900 * 900
    for key in (old, recent):
        s.statistics[key] = {"DeliveryAttempts": 1, "Bounces": 0, "Complaints": 0, "Rejects": 0}
    (point,) = account.send_statistics(s, now=T0)
    assert point["Timestamp"] == datetime.fromtimestamp(recent, UTC)


def test_account_details_open_a_review_and_block_a_second_call() -> None:
    s = state("sandbox")
    details = {"MailType": "TRANSACTIONAL", "WebsiteURL": "https://x.example"}
    account.put_account_details(s, {**details, "ProductionAccessEnabled": True})
    assert s.review_status == "PENDING"
    assert s.review_case_id
    with pytest.raises(SesError) as info:
        account.put_account_details(s, details)
    assert (info.value.v2.code, info.value.v2.status) == ("ConflictException", 409)
    view = account.get_account(s, now=T0)
    assert view["ProductionAccessEnabled"] is False
    assert view["Details"]["ReviewDetails"]["Status"] == "PENDING"
    assert view["Details"]["MailType"] == "TRANSACTIONAL"
