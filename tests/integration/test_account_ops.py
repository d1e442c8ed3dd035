"""Account operations: quotas, statistics, sending switch, GetAccount and the review flow."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.server import EmulatorServer
from emulator.ses import account

SENDER = "sender@example.com"
T0 = 1_800_000_000.0  # a multiple of 900 s, so statistics buckets start here
MESSAGE = {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}
DETAILS = {"MailType": "TRANSACTIONAL", "WebsiteURL": "https://shop.example"}


# Many short tests: one ses and one sesv2 client serve the whole module (conftest).
pytestmark = pytest.mark.shared_clients


@pytest.fixture(autouse=True)
def setup(emulator: EmulatorServer, ses: Any) -> None:
    emulator.backend.clock.set(T0)
    ses.verify_email_identity(EmailAddress=SENDER)


def test_default_profile_is_unlimited_production(ses: Any, sesv2: Any) -> None:
    quota = ses.get_send_quota()
    assert (quota["Max24HourSend"], quota["MaxSendRate"], quota["SentLast24Hours"]) == (
        -1.0,
        -1.0,
        0.0,
    )
    view = sesv2.get_account()
    assert view["ProductionAccessEnabled"] is True
    assert view["SendingEnabled"] is True
    assert view["EnforcementStatus"] == "HEALTHY"
    assert view["SendQuota"] == {"Max24HourSend": -1.0, "MaxSendRate": -1.0, "SentLast24Hours": 0.0}
    assert view["SuppressionAttributes"] == {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]}
    assert view["DedicatedIpAutoWarmupEnabled"] is False
    assert "Details" not in view


def test_sending_switch_v1_and_v2(ses: Any, sesv2: Any) -> None:
    assert ses.get_account_sending_enabled()["Enabled"] is True
    ses.update_account_sending_enabled(Enabled=False)
    assert ses.get_account_sending_enabled()["Enabled"] is False
    assert sesv2.get_account()["SendingEnabled"] is False
    sesv2.put_account_sending_attributes(SendingEnabled=True)
    assert ses.get_account_sending_enabled()["Enabled"] is True
    ses.send_email(Source=SENDER, Destination={"ToAddresses": ["a@example.net"]}, Message=MESSAGE)


def test_statistics_are_15_minute_points_in_recipients(emulator: EmulatorServer, ses: Any) -> None:
    ses.send_email(
        Source=SENDER,
        Destination={"ToAddresses": ["a@example.net", "bounce@simulator.amazonses.com"]},
        Message=MESSAGE,
    )
    emulator.backend.clock.advance(900)
    ses.send_email(
        Source=SENDER,
        Destination={"ToAddresses": ["complaint@simulator.amazonses.com"]},
        Message=MESSAGE,
    )
    points = sorted(ses.get_send_statistics()["SendDataPoints"], key=lambda p: p["Timestamp"])
    summary = [
        (p["Timestamp"], p["DeliveryAttempts"], p["Bounces"], p["Complaints"], p["Rejects"])
        for p in points
    ]
    assert summary == [
        (datetime.fromtimestamp(T0, UTC), 2, 1, 0, 0),
        (datetime.fromtimestamp(T0 + 900, UTC), 1, 0, 1, 0),
    ]
    emulator.backend.clock.advance(15 * 86_400)
    assert ses.get_send_statistics()["SendDataPoints"] == []


def test_account_details_open_a_review_and_a_second_call_conflicts(
    sesv2: Any, emulator: EmulatorServer
) -> None:
    account.apply_settings(emulator.backend.account(), {"sandbox": True}, now=T0)
    sesv2.put_account_details(**DETAILS, ProductionAccessEnabled=True, ContactLanguage="EN")
    view = sesv2.get_account()
    assert view["ProductionAccessEnabled"] is False
    details = view["Details"]
    assert (details["MailType"], details["WebsiteURL"], details["ContactLanguage"]) == (
        "TRANSACTIONAL",
        "https://shop.example",
        "EN",
    )
    assert details["ReviewDetails"]["Status"] == "PENDING"
    assert details["ReviewDetails"]["CaseId"]
    with pytest.raises(ClientError) as err:
        sesv2.put_account_details(**DETAILS, ProductionAccessEnabled=True)
    assert isinstance(err.value, sesv2.exceptions.ConflictException)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409


def test_granting_the_review_gives_production_access(
    ses: Any, sesv2: Any, emulator: EmulatorServer
) -> None:
    state = emulator.backend.account()
    account.apply_settings(state, {"sandbox": True}, now=T0)
    sesv2.put_account_details(**DETAILS, ProductionAccessEnabled=True)
    account.apply_settings(state, {"review_status": "GRANTED"}, now=T0)
    view = sesv2.get_account()
    assert view["ProductionAccessEnabled"] is True
    assert view["Details"]["ReviewDetails"]["Status"] == "GRANTED"
    quota = ses.get_send_quota()
    assert (quota["Max24HourSend"], quota["MaxSendRate"]) == (50000.0, 14.0)
    sesv2.put_account_details(**DETAILS)  # no review pending any more: details may change


def test_warmup_and_suppression_attributes_are_stored(sesv2: Any) -> None:
    sesv2.put_account_dedicated_ip_warmup_attributes(AutoWarmupEnabled=True)
    sesv2.put_account_suppression_attributes(SuppressedReasons=[])
    view = sesv2.get_account()
    assert view["DedicatedIpAutoWarmupEnabled"] is True
    assert view["SuppressionAttributes"]["SuppressedReasons"] == []


def test_accounts_and_regions_have_separate_quotas(
    make_client: Any, ses: Any, emulator: EmulatorServer
) -> None:
    account.apply_settings(emulator.backend.account(), {"max_24h_send": 5}, now=T0)
    other = make_client("ses", account_key="111122223333")
    eu = make_client("ses", region="eu-west-1")
    assert ses.get_send_quota()["Max24HourSend"] == 5.0
    assert other.get_send_quota()["Max24HourSend"] == -1.0
    assert eu.get_send_quota()["Max24HourSend"] == -1.0
