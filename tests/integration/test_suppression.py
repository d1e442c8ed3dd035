"""The account-level suppression list (v2) and what it does to sends."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.server import EmulatorServer
from emulator.ses import account

SENDER = "sender@example.com"
T0 = 1_800_000_000.0
MESSAGE = {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}


# Many short tests: one ses and one sesv2 client serve the whole module (conftest).
pytestmark = pytest.mark.shared_clients


@pytest.fixture(autouse=True)
def setup(emulator: EmulatorServer, ses: Any) -> None:
    emulator.backend.clock.set(T0)
    ses.verify_email_identity(EmailAddress=SENDER)


def test_put_get_delete_round_trip(sesv2: Any) -> None:
    sesv2.put_suppressed_destination(EmailAddress="a+x@example.net", Reason="BOUNCE")
    entry = sesv2.get_suppressed_destination(EmailAddress="a+x@example.net")[
        "SuppressedDestination"
    ]
    assert (entry["EmailAddress"], entry["Reason"]) == ("a+x@example.net", "BOUNCE")
    assert entry["LastUpdateTime"] == datetime.fromtimestamp(T0, UTC)
    sesv2.delete_suppressed_destination(EmailAddress="a+x@example.net")
    with pytest.raises(ClientError) as err:
        sesv2.get_suppressed_destination(EmailAddress="a+x@example.net")
    assert isinstance(err.value, sesv2.exceptions.NotFoundException)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_delete_of_an_absent_address_is_not_found(sesv2: Any) -> None:
    with pytest.raises(ClientError) as err:
        sesv2.delete_suppressed_destination(EmailAddress="nobody@example.net")
    assert err.value.response["Error"]["Code"] == "NotFoundException"


def test_put_is_refused_in_the_sandbox(emulator: EmulatorServer, sesv2: Any) -> None:
    account.apply_settings(emulator.backend.account(), {"sandbox": True}, now=T0)
    with pytest.raises(ClientError) as err:
        sesv2.put_suppressed_destination(EmailAddress="a@example.net", Reason="BOUNCE")
    assert err.value.response["Error"]["Code"] == "BadRequestException"
    assert err.value.response["Error"]["Message"] == (
        "PutSuppressedDestination is not available while your account is in the sandbox."
    )


def test_list_filters_by_reason_and_date_and_pages(emulator: EmulatorServer, sesv2: Any) -> None:
    for i in range(5):
        emulator.backend.clock.set(T0 + i * 60)
        sesv2.put_suppressed_destination(
            EmailAddress=f"s{i}@example.net", Reason="BOUNCE" if i % 2 == 0 else "COMPLAINT"
        )
    bounces = sesv2.list_suppressed_destinations(Reasons=["BOUNCE"])
    names = [s["EmailAddress"] for s in bounces["SuppressedDestinationSummaries"]]
    assert names == ["s0@example.net", "s2@example.net", "s4@example.net"]
    window = sesv2.list_suppressed_destinations(
        StartDate=datetime.fromtimestamp(T0 + 60, UTC),
        EndDate=datetime.fromtimestamp(T0 + 180, UTC),
    )
    names = [s["EmailAddress"] for s in window["SuppressedDestinationSummaries"]]
    assert names == ["s1@example.net", "s2@example.net", "s3@example.net"]
    first = sesv2.list_suppressed_destinations(PageSize=2)
    second = sesv2.list_suppressed_destinations(PageSize=2, NextToken=first["NextToken"])
    third = sesv2.list_suppressed_destinations(PageSize=2, NextToken=second["NextToken"])
    pages = [first, second, third]
    assert [len(p["SuppressedDestinationSummaries"]) for p in pages] == [2, 2, 1]
    assert "NextToken" not in third


def test_bad_next_token_is_invalid_next_token(sesv2: Any) -> None:
    with pytest.raises(ClientError) as err:
        sesv2.list_suppressed_destinations(NextToken="garbage!")
    assert isinstance(err.value, sesv2.exceptions.InvalidNextTokenException)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_send_to_suppressed_address_is_accepted_and_recorded_suppressed(
    emulator: EmulatorServer, ses: Any, sesv2: Any
) -> None:
    sesv2.put_suppressed_destination(EmailAddress="Gone@Example.net", Reason="COMPLAINT")
    response = ses.send_email(
        Source=SENDER,
        Destination={"ToAddresses": ["gone@example.net", "here@example.net"]},
        Message=MESSAGE,
    )
    record = emulator.backend.store.get(response["MessageId"])
    assert record is not None
    assert record.outcomes == {"gone@example.net": "suppressed", "here@example.net": "delivered"}
    (point,) = ses.get_send_statistics()["SendDataPoints"]
    assert (point["DeliveryAttempts"], point["Bounces"]) == (2, 1)


def test_account_suppression_attributes_choose_the_reasons(
    emulator: EmulatorServer, ses: Any, sesv2: Any
) -> None:
    sesv2.put_suppressed_destination(EmailAddress="gone@example.net", Reason="COMPLAINT")
    sesv2.put_account_suppression_attributes(SuppressedReasons=["BOUNCE"])
    assert sesv2.get_account()["SuppressionAttributes"]["SuppressedReasons"] == ["BOUNCE"]
    response = ses.send_email(
        Source=SENDER, Destination={"ToAddresses": ["gone@example.net"]}, Message=MESSAGE
    )
    record = emulator.backend.store.get(response["MessageId"])
    assert record is not None
    assert record.outcomes == {"gone@example.net": "delivered"}
