"""Sender, AsyncSender and the shared engine, driven by seskit.testing fakes and a fake clock."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Generator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from seskit.bulk import (
    Action,
    Call,
    Calls,
    Progress,
    ProgressBar,
    SendOptions,
    Sleep,
    client_api,
    count_recipients,
    operation_for,
    run_steps,
)
from seskit.errors import (
    DailyQuotaExceededError,
    IdentityError,
    MessageRejectedError,
    SendingPausedError,
    ThrottledError,
)
from seskit.sender import Sender
from seskit.testing import AsyncFakeClient, FakeClient


class FakeTime:
    """A clock that moves only when slept on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


def client_error(code: str, message: str, status: int, operation: str = "SendEmail") -> ClientError:
    """The error botocore raises for an SES error answer."""
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "r"},
        },
        operation,
    )


def simple(*to: str, sender: str = "shop@example.com") -> dict[str, Any]:
    return {
        "FromEmailAddress": sender,
        "Destination": {"ToAddresses": list(to)},
        "Content": {"Simple": {"Subject": {"Data": "Hi"}, "Body": {"Text": {"Data": "Hello"}}}},
    }


def bulk(n: int, *, per_entry: int = 1) -> dict[str, Any]:
    return {
        "FromEmailAddress": "shop@example.com",
        "DefaultContent": {"Template": {"TemplateName": "T1", "TemplateData": "{}"}},
        "BulkEmailEntries": [
            {"Destination": {"ToAddresses": [f"u{i}-{j}@example.com" for j in range(per_entry)]}}
            for i in range(n)
        ],
    }


def make_sender(
    fake: FakeClient, t: FakeTime, *, rate: float | None = 10.0, **options: Any
) -> Sender:
    return Sender(
        fake,
        options=SendOptions(max_send_rate=rate, safety=1.0, **options),
        progress_bar=False,
        clock=t.clock,
        sleep=t.sleep,
    )


# --- send -------------------------------------------------------------------------------------


def test_send_returns_the_message_id_and_request_id() -> None:
    fake = FakeClient("v2")
    result = make_sender(fake, FakeTime()).send(simple("a@example.com"))
    assert fake.calls[0].response is not None
    assert result.message_id == fake.calls[0].response["MessageId"]
    assert result.request_id == fake.calls[0].response["ResponseMetadata"]["RequestId"]


def test_send_raises_the_classified_error_from_the_client_error() -> None:
    fake = FakeClient("v1")
    fake.fail_next("MessageRejected", "Email address is not verified. The following ...")
    payload = {
        "Source": "shop@example.com",
        "Destination": {"ToAddresses": ["a@example.com"]},
        "Message": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}},
    }
    with pytest.raises(IdentityError) as caught:
        make_sender(fake, FakeTime()).send(payload)
    assert caught.value.code == "MessageRejected"
    assert caught.value.http_status == 400
    assert isinstance(caught.value.__cause__, ClientError)
    assert (
        caught.value.request_id == caught.value.__cause__.response["ResponseMetadata"]["RequestId"]
    )


def test_send_does_not_retry_throttles_itself() -> None:
    fake = FakeClient("v2")
    fake.throttle(times=1)
    with pytest.raises(ThrottledError):
        make_sender(fake, FakeTime()).send(simple("a@example.com"))
    assert len(fake.calls) == 1  # per-call retries are botocore's job, not seskit's


def test_send_refuses_a_bulk_payload() -> None:
    with pytest.raises(ValueError, match="send it with send_many"):
        make_sender(FakeClient("v2"), FakeTime()).send(bulk(2))


# --- payload inspection -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api", "payload", "operation", "recipients"),
    [
        ("v2", simple("a@example.com", "b@example.com"), "send_email", 2),
        ("v2", bulk(3, per_entry=2), "send_bulk_email", 6),
        (
            "v2",
            {"Content": {"Raw": {"Data": b"To: a@x.com, B <b@x.com>\r\nCc: c@x.com\r\n\r\nhi"}}},
            "send_email",
            3,
        ),
        (
            "v1",
            {"RawMessage": {"Data": b"To: g: a@x.com, b@x.com;\r\n\r\nbody"}},
            "send_raw_email",
            2,
        ),
        (
            "v1",
            {"RawMessage": {"Data": b"To: a@x.com\r\n\r\n"}, "Destinations": ["z@x.com"] * 4},
            "send_raw_email",
            4,
        ),
        (
            "v1",
            {
                "Source": "s@x.com",
                "Destination": {"ToAddresses": ["a@x.com"], "BccAddresses": ["b@x.com"]},
                "Template": "T1",
                "TemplateData": "{}",
            },
            "send_templated_email",
            2,
        ),
        (
            "v1",
            {
                "Source": "s@x.com",
                "Template": "T1",
                "DefaultTemplateData": "{}",
                "Destinations": [{"Destination": {"ToAddresses": ["a@x.com", "b@x.com"]}}],
            },
            "send_bulk_templated_email",
            2,
        ),
        (
            "v1",
            {"Source": "s@x.com", "Destination": {"CcAddresses": ["a@x.com"]}, "Message": {}},
            "send_email",
            1,
        ),
    ],
)
def test_payloads_name_their_operation_and_count_every_recipient(
    api: Any, payload: dict[str, Any], operation: str, recipients: int
) -> None:
    assert operation_for(api, payload) == operation
    assert count_recipients(api, payload) == recipients


def test_client_api_rejects_other_services() -> None:
    with pytest.raises(TypeError, match="expected a boto3/aiobotocore 'ses' or 'sesv2' client"):
        client_api(object())


# --- send_many: pacing ---------------------------------------------------------------------------


def test_send_many_paces_recipients_at_the_configured_rate() -> None:
    t = FakeTime()
    fake = FakeClient("v2")
    summary = make_sender(fake, t, rate=10.0).send_many([simple("a@example.com")] * 30)
    assert summary.sent == 30
    assert summary.throttled == 0
    # 10 go out as the burst, the other 20 at 10/s: two seconds.
    assert t.now == pytest.approx(2.0)
    assert summary.elapsed == pytest.approx(2.0)
    assert summary.achieved_rate == pytest.approx(15.0)


def test_send_many_counts_recipients_not_messages() -> None:
    t = FakeTime()
    to = [f"r{i}@example.com" for i in range(5)]
    make_sender(FakeClient("v2"), t, rate=10.0).send_many([simple(*to)] * 6)
    # 30 recipients: burst of 10, then 20 more at 10/s.
    assert t.now == pytest.approx(2.0)


def test_safety_factor_slows_the_pace() -> None:
    t = FakeTime()
    sender = Sender(
        FakeClient("v2"),
        options=SendOptions(max_send_rate=10.0, safety=0.5, burst_seconds=0.0),
        progress_bar=False,
        clock=t.clock,
        sleep=t.sleep,
    )
    sender.send_many([simple("a@example.com")] * 11)
    assert t.now == pytest.approx(10 / 5.0)


def test_rate_is_asked_from_ses_once_and_the_bucket_outlives_a_run() -> None:
    t = FakeTime()
    fake = FakeClient("v1", max_send_rate=5.0)
    sender = make_sender(fake, t, rate=None)
    payload = {
        "Source": "s@example.com",
        "Destination": {"ToAddresses": ["a@example.com"]},
        "Message": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}},
    }
    sender.send_many([payload] * 5)
    assert t.now == 0.0  # the burst
    sender.send_many([payload] * 5)  # no second burst: the same bucket is still empty
    assert t.now == pytest.approx(1.0)
    assert [c.operation for c in fake.calls].count("get_send_quota") == 1


def test_unlimited_rate_from_get_account_never_sleeps() -> None:
    t = FakeTime()
    summary = make_sender(FakeClient("v2"), t, rate=None).send_many([simple("a@x.com")] * 200)
    assert summary.sent == 200
    assert t.sleeps == []


def test_a_failed_quota_lookup_stops_before_sending() -> None:
    fake = FakeClient("v2")
    # fail_next scripts send calls only; replace the quota lookup to make it fail.
    fake.__dict__["get_account"] = lambda: (_ for _ in ()).throw(
        client_error("InternalServiceErrorException", "boom", 500, "GetAccount")
    )
    summary = make_sender(fake, FakeTime(), rate=None).send_many([simple("a@x.com")] * 3)
    assert summary.unsent == 3
    assert summary.stopped_by is not None
    assert summary.stopped_by.code == "InternalServiceErrorException"
    assert fake.calls == []


# --- send_many: batching and results -------------------------------------------------------------


def test_bulk_payloads_are_split_into_calls_of_fifty_entries() -> None:
    fake = FakeClient("v2")
    summary = make_sender(fake, FakeTime(), rate=-1).send_many([bulk(120)])
    sizes = [len(c.params["BulkEmailEntries"]) for c in fake.calls]
    assert sizes == [50, 50, 20]
    assert summary.sent == 120
    assert [r.index for r in summary.results] == list(range(120))
    assert all(c.params["DefaultContent"] == bulk(1)["DefaultContent"] for c in fake.calls)


def test_v1_bulk_is_split_the_same_way() -> None:
    fake = FakeClient("v1")
    payload = {
        "Source": "s@example.com",
        "Template": "T1",
        "DefaultTemplateData": "{}",
        "Destinations": [{"Destination": {"ToAddresses": [f"u{i}@x.com"]}} for i in range(51)],
    }
    summary = make_sender(fake, FakeTime(), rate=-1).send_many([payload])
    assert [len(c.params["Destinations"]) for c in fake.calls] == [50, 1]
    assert summary.sent == 51


def test_a_rejected_address_does_not_stop_the_run() -> None:
    fake = FakeClient("v2")
    fake.reject("bad@example.com")
    payloads = [simple("a@example.com"), simple("bad@example.com"), simple("c@example.com")]
    summary = make_sender(fake, FakeTime()).send_many(payloads)
    assert [r.status for r in summary.results] == ["sent", "rejected", "sent"]
    error = summary.results[1].error
    assert isinstance(error, MessageRejectedError)
    assert error.message == "Address blacklisted."
    assert summary.complete
    assert (summary.sent, summary.rejected, summary.unsent) == (2, 1, 0)


def test_a_rejected_bulk_entry_is_reported_per_entry() -> None:
    fake = FakeClient("v2")
    fake.reject("u1-0@example.com")
    summary = make_sender(fake, FakeTime()).send_many([bulk(3)])
    assert [r.status for r in summary.results] == ["sent", "rejected", "sent"]
    error = summary.results[1].error
    assert isinstance(error, MessageRejectedError)
    assert error.code == "MESSAGE_REJECTED"


def test_daily_quota_stops_the_run_with_a_summary() -> None:
    fake = FakeClient("v2", max_24h_send=5)
    summary = make_sender(fake, FakeTime()).send_many([simple("a@x.com", "b@x.com")] * 4)
    assert [r.status for r in summary.results] == ["sent", "sent", "unsent", "unsent"]
    assert isinstance(summary.stopped_by, DailyQuotaExceededError)
    assert summary.results[2].error is summary.stopped_by
    assert summary.results[3].error is None  # never attempted
    assert summary.recipients_sent == 4
    assert not summary.complete
    assert len(fake.calls) == 3  # nothing after the quota error
    with pytest.raises(DailyQuotaExceededError):
        summary.raise_for_stop()
    assert "stopped by DailyQuotaExceededError" in str(summary)


def test_paused_sending_stops_the_run_and_stop_on_is_configurable() -> None:
    fake = FakeClient("v2")
    fake.fail_next("SendingPausedException", "Sending is paused.", times=3)
    summary = make_sender(fake, FakeTime()).send_many([simple("a@x.com")] * 3)
    assert isinstance(summary.stopped_by, SendingPausedError)
    assert summary.unsent == 3

    fake = FakeClient("v2")
    fake.fail_next("SendingPausedException", "Sending is paused.", times=3)
    summary = make_sender(fake, FakeTime(), stop_on=()).send_many([simple("a@x.com")] * 3)
    assert summary.stopped_by is None
    assert summary.rejected == 3


# --- send_many: throttling ------------------------------------------------------------------------


def test_a_throttle_pauses_and_retries_the_same_call() -> None:
    t = FakeTime()
    fake = FakeClient("v1")
    fake.throttle(times=2)
    payload = {
        "Source": "s@example.com",
        "Destination": {"ToAddresses": ["a@example.com"]},
        "Message": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}},
    }
    summary = make_sender(fake, t, rate=10.0, throttle_pause=2.0).send_many([payload])
    assert summary.sent == 1
    assert summary.throttled == 2
    assert len(fake.calls) == 3
    assert t.sleeps == [2.0, 2.0]


def test_after_a_throttle_the_burst_is_forgotten() -> None:
    t = FakeTime()
    fake = FakeClient("v2")
    fake.throttle(times=1)
    summary = make_sender(fake, t, rate=10.0, throttle_pause=0.0).send_many([simple("a@x.com")])
    assert summary.sent == 1
    # The bucket still held 9 tokens, but SES said it had none: the retry waits for one.
    assert t.sleeps == pytest.approx([0.0, 0.1])


def test_a_throttle_outlasting_the_deadline_stops_the_run() -> None:
    t = FakeTime()
    fake = FakeClient("v2")
    fake.throttle(times=100)
    sender = make_sender(fake, t, throttle_deadline=5.0, throttle_pause=1.0)
    summary = sender.send_many([simple("a@x.com"), simple("b@x.com")])
    assert isinstance(summary.stopped_by, ThrottledError)
    assert [r.status for r in summary.results] == ["unsent", "unsent"]
    assert summary.throttled == len(fake.calls)
    assert 5.0 <= t.now < 7.5


def _drive(
    steps: Generator[Action, object, Any],
    answer: Callable[[Call], object],
    now: list[float] | None = None,
) -> tuple[list[Action], Any]:
    """Run engine steps, answering each Call (or each call of a Calls) with ``answer(call)``.

    A Sleep moves ``now[0]`` on when ``now`` is given (the clock the steps read). Returns the
    actions in order and the steps' result.
    """
    actions: list[Action] = []
    reply: object = None
    try:
        while True:
            action = steps.send(reply)
            actions.append(action)
            if isinstance(action, Call):
                reply = answer(action)
            elif isinstance(action, Calls):
                reply = tuple(answer(c) for c in action.calls)
            else:
                if isinstance(action, Sleep) and now is not None:
                    now[0] += action.seconds
                reply = None
    except StopIteration as done:
        return actions, done.value


def _scripted(*replies: object) -> Callable[[Call], object]:
    """An ``answer`` for `_drive` that gives these replies, in order, to successive calls."""
    queue = list(replies)
    return lambda call: queue.pop(0)


def test_only_the_throttled_bulk_entries_are_sent_again() -> None:
    now = [0.0]
    steps = run_steps(
        "v2",
        [bulk(3)],
        options=SendOptions(max_send_rate=100.0, throttle_pause=1.0),
        clock=lambda: now[0],
    )
    first = {
        "BulkEmailEntryResults": [
            {"Status": "SUCCESS", "MessageId": "m0"},
            {"Status": "ACCOUNT_THROTTLED", "Error": "Maximum sending rate exceeded."},
            {"Status": "SUCCESS", "MessageId": "m2"},
        ]
    }
    second = {"BulkEmailEntryResults": [{"Status": "SUCCESS", "MessageId": "m1"}]}
    actions, summary = _drive(steps, _scripted(first, second))
    calls = [a for a in actions if isinstance(a, Call)]
    assert [len(c.params["BulkEmailEntries"]) for c in calls] == [3, 1]
    assert calls[1].params["BulkEmailEntries"][0]["Destination"]["ToAddresses"] == [
        "u1-0@example.com"
    ]
    assert [r.message_id for r in summary.results] == ["m0", "m1", "m2"]
    assert summary.throttled == 1
    assert Sleep(seconds=1.0) in actions


def test_a_daily_quota_bulk_entry_stops_the_run_after_recording_the_rest() -> None:
    steps = run_steps(
        "v1",
        [
            {
                "Source": "s@x.com",
                "Template": "T",
                "DefaultTemplateData": "{}",
                "Destinations": [
                    {"Destination": {"ToAddresses": [f"{i}@x.com"]}} for i in range(53)
                ],
            }
        ],
        options=SendOptions(max_send_rate=-1),
        clock=lambda: 0.0,
    )
    reply = {
        "Status": [{"Status": "Success", "MessageId": f"m{i}"} for i in range(49)]
        + [{"Status": "AccountDailyQuotaExceeded", "Error": "Daily message quota exceeded."}]
    }
    actions, summary = _drive(steps, _scripted(reply))
    assert sum(isinstance(a, Call) for a in actions) == 1
    assert (summary.sent, summary.unsent) == (49, 4)
    assert isinstance(summary.stopped_by, DailyQuotaExceededError)
    assert summary.results[49].error is summary.stopped_by


def test_a_driver_reply_of_the_wrong_kind_is_a_type_error() -> None:
    steps = run_steps(
        "v2", [simple("a@x.com")], options=SendOptions(max_send_rate=-1), clock=lambda: 0.0
    )
    with pytest.raises(TypeError, match="must send back a response dict or a botocore error"):
        _drive(steps, _scripted("not a response"))


# --- progress -----------------------------------------------------------------------------------


def test_progress_is_reported_after_every_call_and_at_the_end() -> None:
    seen: list[Progress] = []
    t = FakeTime()
    sender = Sender(
        FakeClient("v2"),
        options=SendOptions(max_send_rate=-1),
        on_progress=seen.append,
        progress_bar=False,
        clock=t.clock,
        sleep=t.sleep,
    )
    sender.send_many([simple("a@x.com")] * 3)
    assert [p.done for p in seen] == [0, 1, 2, 3, 3]
    assert [p.finished for p in seen] == [False, False, False, False, True]
    assert seen[-1].total == 3
    assert seen[-1].recipients == 3


def test_progress_bar_draws_one_line_and_ends_it() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream, width=10)
    bar(
        Progress(
            done=5,
            total=10,
            sent=4,
            rejected=1,
            throttled=0,
            recipients=4,
            elapsed=2.0,
            finished=True,
        )
    )
    assert stream.getvalue() == ("\r[#####-----] 5/10 sent 4 rejected 1 throttled 0 2.0 rcpt/s\n")


def test_progress_bar_can_be_forced_on() -> None:
    sender = Sender(FakeClient("v2"), options=SendOptions(max_send_rate=-1), progress_bar=True)
    assert isinstance(sender._report, ProgressBar)


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match=r"safety: must be in \(0, 1\] \(got 0\)"):
        SendOptions(safety=0)
    with pytest.raises(ValueError, match="max_send_rate: must be positive or -1"):
        SendOptions(max_send_rate=0)
    with pytest.raises(ValueError, match="throttle_deadline: must not be negative"):
        SendOptions(throttle_deadline=-1)


# --- async ---------------------------------------------------------------------------------------


async def test_async_sender_makes_the_same_calls_and_results_as_the_sync_one() -> None:
    from seskit.aio import AsyncSender

    def script(fake: FakeClient) -> None:
        fake.reject("bad@example.com")
        fake.throttle(times=1)

    payloads = [simple("a@example.com"), simple("bad@example.com"), bulk(60), simple("c@x.com")]

    sync_time, async_time = FakeTime(), FakeTime()
    sync_fake, async_fake = (
        FakeClient("v2", max_send_rate=20.0),
        AsyncFakeClient("v2", max_send_rate=20.0),
    )
    script(sync_fake)
    script(async_fake)
    sync_summary = Sender(
        sync_fake, progress_bar=False, clock=sync_time.clock, sleep=sync_time.sleep
    ).send_many(payloads)
    async_summary = await AsyncSender(
        async_fake, progress_bar=False, clock=async_time.clock, sleep=async_time.async_sleep
    ).send_many(payloads)

    def shape(summary: Any) -> list[tuple[Any, ...]]:
        return [(r.index, r.status, r.recipients, type(r.error)) for r in summary.results]

    assert shape(async_summary) == shape(sync_summary)
    assert [(c.operation, c.params) for c in async_fake.calls] == [
        (c.operation, c.params) for c in sync_fake.calls
    ]
    assert async_time.sleeps == sync_time.sleeps
    assert (async_summary.throttled, async_summary.elapsed) == (1, sync_summary.elapsed)


async def test_async_send_raises_the_classified_error() -> None:
    from seskit.aio import AsyncSender

    fake = AsyncFakeClient("v2")
    fake.fail_next("LimitExceededException", "Daily message quota exceeded.")
    with pytest.raises(DailyQuotaExceededError) as caught:
        await AsyncSender(fake, progress_bar=False).send(simple("a@x.com"))
    assert isinstance(caught.value.__cause__, ClientError)


# --- Email values and builder output ----------------------------------------------------------


def test_an_email_is_built_into_a_v2_send_email() -> None:
    from seskit.message import Email

    fake = FakeClient("v2")
    email = Email(sender="shop@example.com", to=["a@x.com"], bcc=["b@x.com"], subject="S", text="T")
    make_sender(fake, FakeTime()).send(email)
    [call] = fake.calls
    assert call.operation == "send_email"
    assert call.params["Destination"] == {"ToAddresses": ["a@x.com"], "BccAddresses": ["b@x.com"]}
    assert call.params["Content"]["Simple"]["Subject"]["Data"] == "S"


def test_a_v1_email_with_an_attachment_goes_raw_and_counts_its_envelope() -> None:
    from seskit.message import Attachment, Email

    t = FakeTime()
    fake = FakeClient("v1")
    with_file = Email(
        sender="shop@example.com",
        to=["a@x.com"],
        cc=["c@x.com"],
        subject="Invoice",
        text="Attached.",
        attachments=[Attachment(filename="invoice.pdf", content=b"%PDF-1.4")],
    )
    plain = Email(sender="shop@example.com", to=["a@x.com"], subject="Hi", text="Hello")
    summary = make_sender(fake, t, rate=1.0, burst_seconds=0.0).send_many([with_file, plain])
    assert [c.operation for c in fake.calls] == ["send_raw_email", "send_email"]
    assert [r.recipients for r in summary.results] == [2, 1]
    assert t.now == pytest.approx(2.0)  # capacity 1: the 2-recipient call's debt is repaid first


def test_builder_batches_go_straight_to_send_many() -> None:
    from seskit import v2
    from seskit.message import BulkEntry

    entries = [BulkEntry(to=[f"u{i}@x.com"], replacement_data={"n": i}) for i in range(70)]
    payloads = v2.send_bulk_email_batches(sender="shop@example.com", template="T1", entries=entries)
    fake = FakeClient("v2")
    summary = make_sender(fake, FakeTime(), rate=-1).send_many(payloads)
    assert [len(c.params["BulkEmailEntries"]) for c in fake.calls] == [50, 20]
    assert summary.sent == 70


# --- concurrency ---------------------------------------------------------------------------


def _ok(call: Call) -> dict[str, Any]:
    return {"MessageId": "m-" + call.params["Destination"]["ToAddresses"][0]}


def test_concurrency_groups_calls_without_changing_the_pace() -> None:
    now = [0.0]

    def clock() -> float:
        return now[0]

    steps = run_steps(
        "v2",
        [simple(f"u{i}@x.com") for i in range(30)],
        options=SendOptions(max_send_rate=10.0, safety=1.0, concurrency=4),
        clock=clock,
    )
    actions, summary = _drive(steps, _ok, now)
    groups = [len(a.calls) for a in actions if isinstance(a, Calls)]
    assert groups == [4] * 7 + [2]
    assert summary.sent == 30
    # The same 10/s pace as one call at a time: burst of 10, then 20 more at 10/s.
    assert now[0] == pytest.approx(2.0)


def test_throttles_in_one_group_cost_one_pause_and_keep_their_order() -> None:
    throttled = {"b@x.com", "c@x.com"}
    seen: list[str] = []

    def answer(call: Call) -> object:
        to = call.params["Destination"]["ToAddresses"][0]
        seen.append(to)
        if to in throttled:
            throttled.discard(to)
            return client_error("TooManyRequestsException", "Maximum sending rate exceeded.", 429)
        return _ok(call)

    steps = run_steps(
        "v2",
        [simple(t) for t in ["a@x.com", "b@x.com", "c@x.com", "d@x.com"]],
        options=SendOptions(max_send_rate=-1, concurrency=4, throttle_pause=3.0),
        clock=lambda: 0.0,
    )
    actions, summary = _drive(steps, answer)
    assert [a for a in actions if isinstance(a, Sleep)] == [Sleep(seconds=3.0)]
    assert seen == ["a@x.com", "b@x.com", "c@x.com", "d@x.com", "b@x.com", "c@x.com"]
    assert summary.throttled == 2
    assert summary.sent == 4


def test_a_stop_inside_a_group_still_records_the_calls_that_were_made() -> None:
    def answer(call: Call) -> object:
        if call.params["Destination"]["ToAddresses"][0] == "b@x.com":
            return client_error("LimitExceededException", "Daily message quota exceeded.", 400)
        return _ok(call)

    steps = run_steps(
        "v2",
        [simple(t) for t in ["a@x.com", "b@x.com", "c@x.com", "d@x.com", "e@x.com"]],
        options=SendOptions(max_send_rate=-1, concurrency=3),
        clock=lambda: 0.0,
    )
    actions, summary = _drive(steps, answer)
    assert sum(isinstance(a, Calls) for a in actions) == 1
    assert [r.status for r in summary.results] == ["sent", "unsent", "sent", "unsent", "unsent"]
    assert isinstance(summary.stopped_by, DailyQuotaExceededError)


def test_concurrent_sync_and_async_senders_match_the_sequential_one() -> None:
    from seskit.aio import AsyncSender

    payloads = [simple(f"u{i}@x.com") for i in range(9)] + [simple("bad@x.com"), bulk(70)]

    def run_sync(concurrency: int) -> Any:
        fake = FakeClient("v2")
        fake.reject("bad@x.com")
        options = SendOptions(max_send_rate=-1, concurrency=concurrency)
        return Sender(fake, options=options, progress_bar=False).send_many(payloads), fake

    async def run_async() -> Any:
        fake = AsyncFakeClient("v2")
        fake.reject("bad@x.com")
        options = SendOptions(max_send_rate=-1, concurrency=4)
        return await AsyncSender(fake, options=options, progress_bar=False).send_many(payloads)

    def shape(summary: Any) -> list[tuple[Any, ...]]:
        return [(r.index, r.status, r.recipients, type(r.error)) for r in summary.results]

    sequential, _ = run_sync(1)
    threaded, fake = run_sync(4)
    assert shape(threaded) == shape(sequential)
    assert len(fake.calls) == 9 + 1 + 2
    assert shape(asyncio.run(run_async())) == shape(sequential)


def test_concurrency_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="concurrency: must be at least 1"):
        SendOptions(concurrency=0)


def test_default_client_uses_standard_retries_and_merges_a_config() -> None:
    from botocore.config import Config

    from seskit.sender import default_client

    client = default_client(
        "v1",
        region_name="eu-west-1",
        endpoint_url="http://127.0.0.1:1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(connect_timeout=2),
    )
    assert client_api(client) == "v1"
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert client.meta.config.connect_timeout == 2


# --- properties of whole runs ---------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    kinds=st.lists(
        st.tuples(st.sampled_from(["single", "bulk"]), st.integers(min_value=1, max_value=70)),
        min_size=1,
        max_size=8,
    ),
    rejected=st.sets(st.integers(min_value=0, max_value=80), max_size=10),
    throttles=st.integers(min_value=0, max_value=3),
    daily=st.one_of(st.just(-1.0), st.floats(min_value=1.0, max_value=300.0)),
    concurrency=st.integers(min_value=1, max_value=4),
)
def test_every_item_gets_exactly_one_consistent_outcome(
    kinds: list[tuple[str, int]],
    rejected: set[int],
    throttles: int,
    daily: float,
    concurrency: int,
) -> None:
    payloads: list[dict[str, Any]] = []
    counter = 0
    for kind, size in kinds:
        if kind == "single":
            payloads.append(simple(*[f"u{counter + j}@x.com" for j in range(min(size, 50))]))
            counter += min(size, 50)
        else:
            payload = bulk(size)
            for i, entry in enumerate(payload["BulkEmailEntries"]):
                entry["Destination"]["ToAddresses"] = [f"u{counter + i}@x.com"]
            payloads.append(payload)
            counter += size
    fake = FakeClient("v2", max_24h_send=daily)
    for n in rejected:
        fake.reject(f"u{n}@x.com")
    fake.throttle(times=throttles)
    t = FakeTime()
    summary = Sender(
        fake,
        options=SendOptions(max_send_rate=25.0, concurrency=concurrency, throttle_pause=0.5),
        progress_bar=False,
        clock=t.clock,
        sleep=t.sleep,
    ).send_many(payloads)

    expected_items = sum(1 if k == "single" else n for k, n in kinds)
    assert [r.index for r in summary.results] == list(range(expected_items))
    assert summary.sent + summary.rejected + summary.unsent == expected_items
    # What the run says was sent is exactly what the fake accepted.
    assert summary.recipients_sent == fake.sent_recipients
    assert all(r.message_id for r in summary.results if r.status == "sent")
    assert all(r.error is not None for r in summary.results if r.status == "rejected")
    assert summary.throttled == throttles
    if summary.stopped_by is None:
        assert summary.unsent == 0
    else:
        assert isinstance(summary.stopped_by, DailyQuotaExceededError)
    # Never faster than the paced rate allows (burst of 25 at safety 1.0 x 0.95 = 23.75).
    assert summary.recipients_sent <= 23.75 + 23.75 * t.now + 50


def test_an_empty_run_asks_nothing() -> None:
    fake = FakeClient("v2")
    summary = make_sender(fake, FakeTime(), rate=None).send_many([])
    assert summary.results == ()
    assert summary.complete
    assert fake.calls == []
