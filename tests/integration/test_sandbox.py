"""The sandbox: who may receive, what the simulator does, and the quotas a sandbox gets."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.server import EmulatorServer
from emulator.ses import account

SENDER = "sender@example.com"
NOT_VERIFIED = "Email address is not verified. The following identities failed the check in region "
T0 = 1_800_000_000.0
MESSAGE = {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}


# Many short tests: one ses and one sesv2 client serve the whole module (conftest).
pytestmark = pytest.mark.shared_clients


@pytest.fixture(autouse=True)
def sandbox(emulator: EmulatorServer, ses: Any) -> None:
    """A sandboxed account on a virtual clock, with a verified sender."""
    emulator.backend.clock.set(T0)
    account.apply_settings(emulator.backend.account(), {"sandbox": True}, now=T0)
    ses.verify_email_identity(EmailAddress=SENDER)


def tick(emulator: EmulatorServer) -> None:
    """Let the 1 recipient/s sandbox bucket refill."""
    emulator.backend.clock.advance(5)


def test_sandbox_quota_is_200_per_day_and_1_per_second(ses: Any, sesv2: Any) -> None:
    quota = ses.get_send_quota()
    assert (quota["Max24HourSend"], quota["MaxSendRate"], quota["SentLast24Hours"]) == (
        200.0,
        1.0,
        0.0,
    )
    assert sesv2.get_account()["ProductionAccessEnabled"] is False


def test_unverified_recipients_are_listed_as_given(
    ses: Any, sesv2: Any, emulator: EmulatorServer
) -> None:
    ses.verify_email_identity(EmailAddress="ok@example.net")
    destination = {
        "ToAddresses": ["ok@example.net", "Ann <ann@example.org>"],
        "BccAddresses": ["bob@example.org", "bounce@simulator.amazonses.com"],
    }
    expected = NOT_VERIFIED + "US-EAST-1: Ann <ann@example.org>, bob@example.org"
    with pytest.raises(ClientError) as v1:
        ses.send_email(Source=SENDER, Destination=destination, Message=MESSAGE)
    assert v1.value.response["Error"]["Code"] == "MessageRejected"
    assert v1.value.response["Error"]["Message"] == expected
    with pytest.raises(ClientError) as v2:
        sesv2.send_email(
            FromEmailAddress=SENDER, Destination=destination, Content={"Simple": MESSAGE}
        )
    assert v2.value.response["Error"]["Code"] == "MessageRejected"
    assert v2.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert v2.value.response["Error"]["Message"] == expected
    assert len(emulator.backend.store) == 0


def test_unverified_sender_and_recipient_are_listed_together(ses: Any) -> None:
    with pytest.raises(ClientError) as err:
        ses.send_email(
            Source="Boss <boss@else.example>",
            Destination={"ToAddresses": ["ann@example.org"]},
            Message=MESSAGE,
        )
    assert err.value.response["Error"]["Message"] == (
        NOT_VERIFIED + "US-EAST-1: Boss <boss@else.example>, ann@example.org"
    )


def test_region_is_upper_cased_in_the_message(make_client: Any, emulator: EmulatorServer) -> None:
    ses_eu = make_client("ses", region="eu-west-1")
    ses_eu.verify_email_identity(EmailAddress=SENDER)
    account.apply_settings(emulator.backend.account(region="eu-west-1"), {"sandbox": True}, now=T0)
    with pytest.raises(ClientError) as err:
        ses_eu.send_email(
            Source=SENDER, Destination={"ToAddresses": ["x@example.org"]}, Message=MESSAGE
        )
    assert err.value.response["Error"]["Message"] == NOT_VERIFIED + "EU-WEST-1: x@example.org"


def test_verified_recipients_and_domains_may_receive(ses: Any, emulator: EmulatorServer) -> None:
    ses.verify_email_identity(EmailAddress="ok@example.net")
    ses.verify_domain_identity(Domain="partner.example")
    for recipient in ("ok@example.net", "ok+tag@example.net", "anyone@mail.partner.example"):
        tick(emulator)
        ses.send_email(Source=SENDER, Destination={"ToAddresses": [recipient]}, Message=MESSAGE)


def test_address_identities_are_case_sensitive(ses: Any) -> None:
    ses.verify_email_identity(EmailAddress="Ok@example.net")
    with pytest.raises(ClientError) as err:
        ses.send_email(
            Source=SENDER, Destination={"ToAddresses": ["ok@example.net"]}, Message=MESSAGE
        )
    assert err.value.response["Error"]["Message"] == NOT_VERIFIED + "US-EAST-1: ok@example.net"


@pytest.mark.parametrize(
    ("address", "outcome"),
    [
        ("success@simulator.amazonses.com", "delivered"),
        ("bounce+run7@simulator.amazonses.com", "bounce"),
        ("ooto@simulator.amazonses.com", "ooto"),
        ("complaint@SIMULATOR.amazonses.com", "complaint"),
        ("suppressionlist@simulator.amazonses.com", "suppressed"),
    ],
)
def test_simulator_addresses_need_no_verification(
    emulator: EmulatorServer, ses: Any, sesv2: Any, address: str, outcome: str
) -> None:
    response = sesv2.send_email(
        FromEmailAddress=SENDER, Destination={"ToAddresses": [address]}, Content={"Simple": MESSAGE}
    )
    record = emulator.backend.store.get(response["MessageId"])
    assert record is not None
    assert record.outcomes == {address: outcome}
    assert ses.get_send_quota()["SentLast24Hours"] == 0.0  # simulator sends are not counted


def test_simulator_sends_count_toward_the_rate(ses: Any) -> None:
    simulator = {"ToAddresses": ["success@simulator.amazonses.com"]}
    ses.send_email(Source=SENDER, Destination=simulator, Message=MESSAGE)
    with pytest.raises(ClientError) as err:
        ses.send_email(Source=SENDER, Destination=simulator, Message=MESSAGE)
    assert err.value.response["Error"]["Message"] == "Maximum sending rate exceeded."


def test_leaving_the_sandbox_lets_anyone_receive(emulator: EmulatorServer, ses: Any) -> None:
    account.apply_settings(emulator.backend.account(), {"sandbox": False}, now=T0)
    ses.send_email(Source=SENDER, Destination={"ToAddresses": ["ann@example.org"]}, Message=MESSAGE)
