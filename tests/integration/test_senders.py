"""Sender and AsyncSender against the real emulator, with real boto3 and aiobotocore clients.

The account's quotas are set low through the emulator's account functions; the test clients
have botocore's retries off, so every throttle SES-side reaches seskit's own counter.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

from emulator.server import EmulatorServer
from emulator.ses.account import apply_settings
from seskit.aio import AsyncSender
from seskit.bulk import RunSummary, SendOptions
from seskit.errors import DailyQuotaExceededError, IdentityError, TemplateNotFoundError
from seskit.sender import Sender
from tests.integration.conftest import ClientFactory

SENDER = "shop@example.com"


def set_quota(emulator: EmulatorServer, *, rate: float, daily: float) -> None:
    apply_settings(
        emulator.backend.account(),
        {"max_send_rate": rate, "max_24h_send": daily},
        now=emulator.backend.clock.now(),
    )


def v2_email(i: int, *, sender: str = SENDER, recipients: int = 1) -> dict[str, Any]:
    return {
        "FromEmailAddress": sender,
        "Destination": {"ToAddresses": [f"user{i}-{j}@example.net" for j in range(recipients)]},
        "Content": {"Simple": {"Subject": {"Data": "Hello"}, "Body": {"Text": {"Data": "Hi"}}}},
    }


def v1_email(i: int) -> dict[str, Any]:
    return {
        "Source": SENDER,
        "Destination": {"ToAddresses": [f"user{i}@example.net"]},
        "Message": {"Subject": {"Data": "Hello"}, "Body": {"Text": {"Data": "Hi"}}},
    }


def v2_bulk(n: int, *, template: str = "Welcome") -> dict[str, Any]:
    return {
        "FromEmailAddress": SENDER,
        "DefaultContent": {
            "Template": {"TemplateName": template, "TemplateData": '{"name":"you"}'}
        },
        "BulkEmailEntries": [
            {"Destination": {"ToAddresses": [f"bulk{i}@example.net"]}} for i in range(n)
        ],
    }


@pytest.fixture
def sesv2_ready(sesv2: Any) -> Any:
    sesv2.create_email_identity(EmailIdentity=SENDER)
    sesv2.create_email_template(
        TemplateName="Welcome",
        TemplateContent={"Subject": "Hi {{name}}", "Text": "Welcome, {{name}}."},
    )
    return sesv2


@pytest.fixture
async def aio_sesv2(emulator: EmulatorServer) -> AsyncIterator[Any]:
    async with get_session().create_client(
        "sesv2",
        endpoint_url=emulator.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=AioConfig(retries={"total_max_attempts": 1}),
    ) as client:
        yield client


def virtual_time_sender(emulator: EmulatorServer, client: Any, **options: Any) -> Sender:
    """A sender whose clock is the emulator's virtual clock: its sleeps move the emulator's time.

    The run is then exact and independent of machine load: the emulator's bucket sees precisely
    the timing the sender chose, and no real time passes.
    """
    clock = emulator.backend.clock
    clock.set(time.time())
    # throttle_deadline=0: a single throttle would end the run, so "complete" means none.
    return Sender(
        client,
        options=SendOptions(throttle_deadline=0, **options),
        progress_bar=False,
        clock=clock.now,
        sleep=clock.advance,
    )


def test_bulk_run_at_the_configured_rate_is_never_throttled(
    emulator: EmulatorServer, sesv2_ready: Any
) -> None:
    set_quota(emulator, rate=200, daily=10_000)
    sender = virtual_time_sender(emulator, sesv2_ready)
    payloads = [v2_email(i) for i in range(80)] + [v2_bulk(200)] + [v2_email(0, recipients=20)]
    summary = sender.send_many(payloads)

    assert summary.complete, summary
    assert summary.throttled == 0
    assert summary.sent == 281
    assert summary.recipients_sent == 300
    assert sesv2_ready.get_account()["SendQuota"]["SentLast24Hours"] == 300.0
    # The rate came from GetAccount: paced at 0.95 x 200 = 190/s after a burst of 190.
    assert summary.achieved_rate >= 0.95 * 200
    assert summary.elapsed == pytest.approx((300 - 190) / 190, abs=0.05)


def test_concurrent_calls_keep_the_pace_and_are_never_throttled(
    emulator: EmulatorServer, make_client: ClientFactory
) -> None:
    sesv2 = make_client("sesv2", max_pool_connections=4)
    sesv2.create_email_identity(EmailIdentity=SENDER)
    set_quota(emulator, rate=40, daily=10_000)
    sender = virtual_time_sender(emulator, sesv2, concurrency=4)
    summary = sender.send_many([v2_email(i) for i in range(120)])
    assert summary.complete, summary
    assert summary.throttled == 0
    assert summary.recipients_sent == 120
    assert summary.achieved_rate >= 0.95 * 40
    assert sesv2.get_account()["SendQuota"]["SentLast24Hours"] == 120.0


def test_real_time_bulk_run_at_the_configured_rate_is_never_throttled(
    emulator: EmulatorServer, sesv2_ready: Any
) -> None:
    set_quota(emulator, rate=150, daily=10_000)
    sender = Sender(sesv2_ready, options=SendOptions(throttle_deadline=0), progress_bar=False)
    # 50 and 10 recipients per call: the pace, not one call's round trip, limits the run.
    payloads = [v2_email(i, recipients=10) for i in range(10)] + [v2_bulk(250)]
    started = time.monotonic()
    summary = sender.send_many(payloads)
    wall = time.monotonic() - started

    assert summary.complete, summary
    assert summary.throttled == 0
    assert summary.recipients_sent == 350
    assert summary.achieved_rate >= 0.95 * 150
    # ...and never faster than SES's own bucket (150/s, 150 burst) would admit.
    assert summary.recipients_sent <= 150 + 150 * summary.elapsed
    assert wall < 15


def test_multi_recipient_messages_are_paced_by_recipients(
    emulator: EmulatorServer, sesv2_ready: Any
) -> None:
    set_quota(emulator, rate=100, daily=10_000)
    sender = Sender(sesv2_ready, options=SendOptions(throttle_deadline=0), progress_bar=False)
    summary = sender.send_many([v2_email(i, recipients=10) for i in range(20)])
    assert summary.complete, summary
    assert summary.recipients_sent == 200
    # 95 recipients of burst, the other 105 at 95/s: paced by recipients, not by messages.
    assert summary.elapsed >= (200 - 95 - 10) / 95


def test_v1_daily_quota_stops_the_run_with_a_summary(
    emulator: EmulatorServer, make_client: ClientFactory
) -> None:
    ses = make_client("ses")
    ses.verify_email_identity(EmailAddress=SENDER)
    set_quota(emulator, rate=-1, daily=40)
    summary = Sender(ses, progress_bar=False).send_many([v1_email(i) for i in range(60)])

    assert isinstance(summary.stopped_by, DailyQuotaExceededError)
    assert summary.stopped_by.code == "Throttling"
    assert summary.stopped_by.message == "Daily message quota exceeded."
    assert summary.stopped_by.http_status == 400
    assert (summary.sent, summary.rejected, summary.unsent) == (40, 0, 20)
    assert [r.status for r in summary.results] == ["sent"] * 40 + ["unsent"] * 20
    assert summary.results[40].error is summary.stopped_by
    assert not summary.complete
    assert ses.get_send_quota()["SentLast24Hours"] == 40.0
    with pytest.raises(DailyQuotaExceededError):
        summary.raise_for_stop()


def test_v2_daily_quota_in_a_bulk_run_stops_it(emulator: EmulatorServer, sesv2_ready: Any) -> None:
    set_quota(emulator, rate=-1, daily=75)
    summary = Sender(sesv2_ready, progress_bar=False).send_many([v2_bulk(120)])
    assert isinstance(summary.stopped_by, DailyQuotaExceededError)
    # The emulator refuses bulk entries one by one (ACCOUNT_DAILY_QUOTA_EXCEEDED) once 75
    # recipients are used; the run records the rest of that call and stops.
    assert summary.stopped_by.code == "ACCOUNT_DAILY_QUOTA_EXCEEDED"
    assert summary.stopped_by.message == "Daily message quota exceeded."
    assert (summary.sent, summary.unsent) == (75, 45)
    assert [r.status for r in summary.results] == ["sent"] * 75 + ["unsent"] * 45
    assert sesv2_ready.get_account()["SendQuota"]["SentLast24Hours"] == 75.0


def test_rejections_are_per_message_and_do_not_stop_the_run(
    emulator: EmulatorServer, sesv2_ready: Any
) -> None:
    payloads = [
        v2_email(0),
        v2_email(1, sender="stranger@unverified.example"),
        v2_bulk(2, template="Missing"),
        v2_email(2),
    ]
    summary = Sender(sesv2_ready, progress_bar=False).send_many(payloads)
    assert [r.status for r in summary.results] == [
        "sent",
        "rejected",
        "rejected",
        "rejected",
        "sent",
    ]
    not_verified = summary.results[1].error
    assert isinstance(not_verified, IdentityError)
    assert not_verified.code == "MessageRejected"
    assert not_verified.message.startswith("Email address is not verified.")
    missing = summary.results[2].error
    assert isinstance(missing, TemplateNotFoundError)
    assert summary.complete


def summary_shape(summary: RunSummary) -> list[tuple[Any, ...]]:
    return [
        (r.index, r.status, r.recipients, type(r.error), r.error and r.error.code)
        for r in summary.results
    ]


async def test_sync_and_async_senders_give_identical_results(
    emulator: EmulatorServer, sesv2_ready: Any, aio_sesv2: Any
) -> None:
    set_quota(emulator, rate=300, daily=10_000)
    payloads = [
        v2_email(0),
        v2_email(1, sender="stranger@unverified.example"),
        v2_bulk(60),
        v2_email(2, recipients=3),
        v2_bulk(2, template="Missing"),
    ]
    options = SendOptions(throttle_deadline=0)
    sync_summary = Sender(sesv2_ready, options=options, progress_bar=False).send_many(payloads)
    emulator.backend.reset()
    sesv2_ready.create_email_identity(EmailIdentity=SENDER)
    sesv2_ready.create_email_template(
        TemplateName="Welcome",
        TemplateContent={"Subject": "Hi {{name}}", "Text": "Welcome, {{name}}."},
    )
    set_quota(emulator, rate=300, daily=10_000)
    async_sender = AsyncSender(aio_sesv2, options=options, progress_bar=False)
    async_summary = await async_sender.send_many(payloads)

    assert summary_shape(async_summary) == summary_shape(sync_summary)
    assert (async_summary.sent, async_summary.rejected, async_summary.throttled) == (62, 3, 0)
    assert all(r.message_id for r in async_summary.results if r.status == "sent")


async def test_async_send_returns_the_emulators_message_id(
    emulator: EmulatorServer, sesv2_ready: Any, aio_sesv2: Any
) -> None:
    result = await AsyncSender(aio_sesv2, progress_bar=False).send(v2_email(0))
    assert result.message_id.endswith("-000000")
    assert result.request_id


async def test_async_sender_open_creates_and_closes_its_own_client(
    emulator: EmulatorServer, sesv2_ready: Any
) -> None:
    async with AsyncSender.open(
        "v2",
        endpoint_url=emulator.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        options=SendOptions(max_send_rate=-1),
        progress_bar=False,
    ) as sender:
        assert sender.client.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}
        summary = await sender.send_many([v2_email(0), v2_email(1)])
    assert summary.sent == 2
    assert sesv2_ready.get_account()["SendQuota"]["SentLast24Hours"] == 2.0


def test_v1_bulk_templated_send_is_split_and_reported_per_destination(
    emulator: EmulatorServer, make_client: ClientFactory
) -> None:
    ses = make_client("ses")
    ses.verify_email_identity(EmailAddress=SENDER)
    ses.create_template(
        Template={"TemplateName": "Welcome", "SubjectPart": "Hi {{name}}", "TextPart": "Hello"}
    )
    payload = {
        "Source": SENDER,
        "Template": "Welcome",
        "DefaultTemplateData": '{"name":"you"}',
        "Destinations": [
            {"Destination": {"ToAddresses": [f"d{i}@example.net", f"e{i}@example.net"]}}
            for i in range(60)
        ],
    }
    summary = Sender(ses, options=SendOptions(max_send_rate=-1), progress_bar=False).send_many(
        [payload, {**payload, "Template": "Missing", "Destinations": payload["Destinations"][:2]}]
    )
    assert (summary.sent, summary.rejected) == (60, 2)
    assert summary.recipients_sent == 120
    assert all(r.message_id for r in summary.results[:60])
    missing = summary.results[60].error
    assert isinstance(missing, TemplateNotFoundError)
    assert (missing.code, missing.message) == (
        "TemplateDoesNotExist",
        "Template Missing does not exist.",
    )
    assert ses.get_send_quota()["SentLast24Hours"] == 120.0
