"""The maximum send rate: token bucket in recipients, debt, recovery, bulk statuses, retries."""

from __future__ import annotations

from typing import Any

import boto3
import botocore.endpoint
import pytest
from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator.server import EmulatorServer
from emulator.ses import account

SENDER = "sender@example.com"
T0 = 1_800_000_000.0
MESSAGE = {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}
RATE_TEXT = "Maximum sending rate exceeded."


# Many short tests: one ses and one sesv2 client serve the whole module (conftest).
pytestmark = pytest.mark.shared_clients


@pytest.fixture(autouse=True)
def setup(emulator: EmulatorServer, ses: Any) -> None:
    emulator.backend.clock.set(T0)
    ses.verify_email_identity(EmailAddress=SENDER)
    ses.create_template(Template={"TemplateName": "T", "SubjectPart": "s", "TextPart": "t"})


def limits(emulator: EmulatorServer, **changes: object) -> None:
    account.apply_settings(emulator.backend.account(), changes, now=emulator.backend.clock.now())


def send(ses: Any, recipients: int = 1) -> str:
    to = [f"r{i}@example.net" for i in range(recipients)]
    response = ses.send_email(Source=SENDER, Destination={"ToAddresses": to}, Message=MESSAGE)
    return str(response["MessageId"])


def test_rate_limit_v1_throttling_400_and_v2_429(
    emulator: EmulatorServer, ses: Any, sesv2: Any
) -> None:
    limits(emulator, max_send_rate=2)
    send(ses)
    send(ses)
    with pytest.raises(ClientError) as v1:
        send(ses)
    assert v1.value.response["Error"] == {
        "Type": "Sender",
        "Code": "Throttling",
        "Message": RATE_TEXT,
    }
    assert v1.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as v2:
        sesv2.send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["a@example.net"]},
            Content={"Simple": MESSAGE},
        )
    assert isinstance(v2.value, sesv2.exceptions.TooManyRequestsException)
    assert v2.value.response["Error"]["Message"] == RATE_TEXT
    assert v2.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_rate_counts_recipients_and_allows_debt(emulator: EmulatorServer, ses: Any) -> None:
    limits(emulator, max_send_rate=1)
    send(ses, recipients=5)  # one token is enough to start; the bucket goes to -4
    for _ in range(4):
        emulator.backend.clock.advance(1)
        with pytest.raises(ClientError) as err:
            send(ses)
        assert err.value.response["Error"]["Message"] == RATE_TEXT
    emulator.backend.clock.advance(1)
    send(ses)


def test_throttled_sender_recovers_after_waiting(emulator: EmulatorServer, ses: Any) -> None:
    limits(emulator, max_send_rate=10)
    for _ in range(10):
        send(ses)
    with pytest.raises(ClientError):
        send(ses)
    emulator.backend.clock.advance(0.5)
    for _ in range(5):
        send(ses)
    with pytest.raises(ClientError):
        send(ses)


def test_rejected_attempts_do_not_count(emulator: EmulatorServer, ses: Any) -> None:
    limits(emulator, max_send_rate=1, max_24h_send=100)
    send(ses, recipients=2)
    for _ in range(5):
        with pytest.raises(ClientError):
            send(ses)
    assert ses.get_send_quota()["SentLast24Hours"] == 2.0
    assert len(emulator.backend.store) == 1
    (point,) = ses.get_send_statistics()["SendDataPoints"]
    assert (point["DeliveryAttempts"], point["Rejects"]) == (2, 0)
    emulator.backend.clock.advance(2)  # debt of 1 paid, one token back: refused calls took nothing
    send(ses)


def bulk_v1(ses: Any, *sizes: int) -> list[dict[str, Any]]:
    destinations = [
        {"Destination": {"ToAddresses": [f"e{n}r{i}@example.net" for i in range(size)]}}
        for n, size in enumerate(sizes)
    ]
    response = ses.send_bulk_templated_email(
        Source=SENDER, Template="T", DefaultTemplateData="{}", Destinations=destinations
    )
    return list(response["Status"])


def test_bulk_entries_beyond_the_rate_are_account_throttled(
    emulator: EmulatorServer, ses: Any, sesv2: Any
) -> None:
    limits(emulator, max_send_rate=2)
    statuses = bulk_v1(ses, 1, 1, 1)
    assert [s["Status"] for s in statuses] == ["Success", "Success", "AccountThrottled"]
    assert statuses[2]["Error"] == RATE_TEXT
    emulator.backend.clock.advance(1)
    response = sesv2.send_bulk_email(
        FromEmailAddress=SENDER,
        DefaultContent={"Template": {"TemplateName": "T", "TemplateData": "{}"}},
        BulkEmailEntries=[
            {"Destination": {"ToAddresses": [f"x{i}@example.net"]}} for i in range(3)
        ],
    )
    results = response["BulkEmailEntryResults"]
    assert [r["Status"] for r in results] == ["SUCCESS", "SUCCESS", "ACCOUNT_THROTTLED"]
    assert ses.get_send_quota()["SentLast24Hours"] == 4.0


def test_bulk_call_with_nothing_sendable_fails_as_a_whole(
    emulator: EmulatorServer, ses: Any
) -> None:
    limits(emulator, max_send_rate=1)
    bulk_v1(ses, 1)
    with pytest.raises(ClientError) as err:
        bulk_v1(ses, 1, 1)
    assert err.value.response["Error"]["Code"] == "Throttling"
    assert err.value.response["Error"]["Message"] == RATE_TEXT


class _NoSleep:
    """Stands in for the ``time`` module botocore's endpoint sleeps with between retries."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.mark.parametrize(
    ("service", "mode", "attempts"),
    [
        ("ses", "legacy", 5),
        ("ses", "standard", 3),
        ("sesv2", "legacy", 5),
        ("sesv2", "standard", 3),
    ],
)
def test_boto3_default_retries_multiply_throttled_requests(
    emulator: EmulatorServer,
    ses: Any,
    monkeypatch: pytest.MonkeyPatch,
    *,
    service: str,
    mode: str,
    attempts: int,
) -> None:
    """What a client with default retries does against a throttled emulator.

    Every retry is a real request that is throttled again (the virtual clock does not move), and
    none of them counts as a send. Tests should pass
    ``Config(retries={"total_max_attempts": 1})`` to see exactly one request per call.
    """
    limits(emulator, max_send_rate=1)
    send(ses)
    no_sleep = _NoSleep()
    monkeypatch.setattr(botocore.endpoint, "time", no_sleep)
    client = boto3.session.Session().client(
        service,
        endpoint_url=emulator.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"mode": mode}),
    )
    seen: list[str] = []
    client.meta.events.register(
        "before-send", lambda request, **_: seen.append(request.headers["amz-sdk-request"].decode())
    )
    before = emulator.backend.account().throttled_calls

    def call() -> None:
        if service == "ses":
            send(client)
            return
        client.send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["a@example.net"]},
            Content={"Simple": MESSAGE},
        )

    with pytest.raises(ClientError) as err:
        call()
    assert err.value.response["ResponseMetadata"]["RetryAttempts"] == attempts - 1
    assert emulator.backend.account().throttled_calls - before == attempts
    assert len(seen) == attempts
    assert seen[0] == "attempt=1"
    assert seen[-1].endswith(f"attempt={attempts}; max={attempts}")
    assert len(no_sleep.delays) == attempts - 1
    assert ses.get_send_quota()["SentLast24Hours"] == 1.0


async def test_aiobotocore_sees_the_same_throttling(emulator: EmulatorServer, ses: Any) -> None:
    """The async SDK gets the same codes: v1 Throttling 400, v2 TooManyRequestsException 429."""
    limits(emulator, max_send_rate=1)
    common: dict[str, Any] = {
        "endpoint_url": emulator.endpoint_url,
        "region_name": "us-east-1",
        "aws_access_key_id": "AKIDEXAMPLE",
        "aws_secret_access_key": "secret",
        "config": Config(retries={"total_max_attempts": 1}),
    }
    session = get_session()
    async with session.create_client("sesv2", **common) as sesv2:
        content = {"Simple": MESSAGE}
        destination = {"ToAddresses": ["a@example.net", "b@example.net"]}
        first = await sesv2.send_email(
            FromEmailAddress=SENDER, Destination=destination, Content=content
        )
        assert first["MessageId"]
        with pytest.raises(ClientError) as v2:
            await sesv2.send_email(
                FromEmailAddress=SENDER, Destination=destination, Content=content
            )
    assert v2.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert v2.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    async with session.create_client("ses", **common) as aio_ses:
        with pytest.raises(ClientError) as v1:
            await aio_ses.send_email(Source=SENDER, Destination=destination, Message=MESSAGE)
    assert v1.value.response["Error"] == {
        "Type": "Sender",
        "Code": "Throttling",
        "Message": RATE_TEXT,
    }
    emulator.backend.clock.advance(2)  # the 2-recipient debt is paid; refused calls took nothing
    send(ses)
