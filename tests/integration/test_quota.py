"""The rolling 24-hour sending quota, counted in recipients, on the virtual clock."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.server import EmulatorServer
from emulator.ses import account

SENDER = "sender@example.com"
T0 = 1_800_000_000.0
DAY = 86_400.0
MESSAGE = {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}
QUOTA_TEXT = "Daily message quota exceeded."


# Many short tests: one ses and one sesv2 client serve the whole module (conftest).
pytestmark = pytest.mark.shared_clients


@pytest.fixture(autouse=True)
def setup(emulator: EmulatorServer, ses: Any) -> None:
    emulator.backend.clock.set(T0)
    account.apply_settings(emulator.backend.account(), {"max_24h_send": 10}, now=T0)
    ses.verify_email_identity(EmailAddress=SENDER)


def send(ses: Any, recipients: int, prefix: str = "r") -> None:
    to = [f"{prefix}{i}@example.net" for i in range(recipients)]
    ses.send_email(Source=SENDER, Destination={"ToAddresses": to}, Message=MESSAGE)


def sent(ses: Any) -> float:
    return float(ses.get_send_quota()["SentLast24Hours"])


def test_quota_counts_recipients_and_refuses_a_call_that_would_exceed_it(
    ses: Any, sesv2: Any
) -> None:
    send(ses, 5)
    with pytest.raises(ClientError) as v1:
        send(ses, 6)
    assert v1.value.response["Error"] == {
        "Type": "Sender",
        "Code": "Throttling",
        "Message": QUOTA_TEXT,
    }
    assert v1.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as v2:
        sesv2.send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": [f"r{i}@example.net" for i in range(6)]},
            Content={"Simple": MESSAGE},
        )
    assert isinstance(v2.value, sesv2.exceptions.LimitExceededException)
    assert v2.value.response["Error"]["Message"] == QUOTA_TEXT
    assert v2.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert sent(ses) == 5.0
    send(ses, 5)  # exactly reaching the quota is allowed
    assert sent(ses) == 10.0


def test_window_is_rolling(emulator: EmulatorServer, ses: Any) -> None:
    send(ses, 6)
    emulator.backend.clock.advance(12 * 3600)
    send(ses, 4)
    emulator.backend.clock.advance(12 * 3600 - 1)
    with pytest.raises(ClientError):
        send(ses, 1)
    emulator.backend.clock.advance(1)  # the first 6 are now 24 h old
    assert sent(ses) == 4.0
    send(ses, 6)
    with pytest.raises(ClientError):
        send(ses, 1)


def test_simulator_recipients_do_not_count_but_suppressed_ones_do(
    emulator: EmulatorServer, ses: Any, sesv2: Any
) -> None:
    sesv2.put_suppressed_destination(EmailAddress="gone@example.net", Reason="BOUNCE")
    ses.send_email(
        Source=SENDER,
        Destination={"ToAddresses": ["success@simulator.amazonses.com", "gone@example.net"]},
        Message=MESSAGE,
    )
    assert sent(ses) == 1.0


def test_unlimited_quota_is_reported_as_minus_one(emulator: EmulatorServer, ses: Any) -> None:
    account.apply_settings(emulator.backend.account(), {"max_24h_send": -1}, now=T0)
    send(ses, 50)
    quota = ses.get_send_quota()
    assert (quota["Max24HourSend"], quota["SentLast24Hours"]) == (-1.0, 50.0)


def test_bulk_entries_over_quota_get_their_own_status(
    emulator: EmulatorServer, ses: Any, sesv2: Any
) -> None:
    ses.create_template(Template={"TemplateName": "T", "SubjectPart": "s", "TextPart": "t"})
    send(ses, 8)
    sizes = [1, 2, 1]
    destinations = [
        {"Destination": {"ToAddresses": [f"b{n}x{i}@example.net" for i in range(size)]}}
        for n, size in enumerate(sizes)
    ]
    statuses = ses.send_bulk_templated_email(
        Source=SENDER, Template="T", DefaultTemplateData="{}", Destinations=destinations
    )["Status"]
    assert [s["Status"] for s in statuses] == ["Success", "AccountDailyQuotaExceeded", "Success"]
    assert statuses[1]["Error"] == QUOTA_TEXT
    assert sent(ses) == 10.0
    with pytest.raises(ClientError) as whole:
        sesv2.send_bulk_email(
            FromEmailAddress=SENDER,
            DefaultContent={"Template": {"TemplateName": "T", "TemplateData": "{}"}},
            BulkEmailEntries=destinations,
        )
    assert whole.value.response["Error"]["Code"] == "LimitExceededException"
    emulator.backend.clock.advance(DAY)
    results = sesv2.send_bulk_email(
        FromEmailAddress=SENDER,
        DefaultContent={"Template": {"TemplateName": "T", "TemplateData": "{}"}},
        BulkEmailEntries=destinations,
    )["BulkEmailEntryResults"]
    assert [r["Status"] for r in results] == ["SUCCESS", "SUCCESS", "SUCCESS"]


def test_quota_refusals_do_not_count(emulator: EmulatorServer, ses: Any) -> None:
    send(ses, 10)
    for _ in range(3):
        with pytest.raises(ClientError):
            send(ses, 1)
    assert sent(ses) == 10.0
    assert len(emulator.backend.store) == 1
    assert emulator.backend.account().throttled_calls == 3
