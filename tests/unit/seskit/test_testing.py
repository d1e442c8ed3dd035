"""seskit.testing: the fake client validates like boto3, records, and fails like SES."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from seskit.classify import classify
from seskit.errors import DailyQuotaExceededError, MessageRejectedError, ThrottledError
from seskit.testing import AsyncFakeClient, FakeClient


def v2_payload(*to: str) -> dict[str, Any]:
    return {
        "FromEmailAddress": "shop@example.com",
        "Destination": {"ToAddresses": list(to)},
        "Content": {"Simple": {"Subject": {"Data": "Hi"}, "Body": {"Text": {"Data": "Hello"}}}},
    }


def v1_payload(*to: str) -> dict[str, Any]:
    return {
        "Source": "shop@example.com",
        "Destination": {"ToAddresses": list(to)},
        "Message": {"Subject": {"Data": "Hi"}, "Body": {"Text": {"Data": "Hello"}}},
    }


def test_calls_are_recorded_with_params_and_response() -> None:
    fake = FakeClient("v2")
    response = fake.send_email(**v2_payload("a@example.com"))
    assert response["MessageId"].endswith("-000000")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    [call] = fake.calls
    assert call.operation == "send_email"
    assert call.params == v2_payload("a@example.com")
    assert call.response == response
    assert call.succeeded
    assert fake.sent_recipients == 1


def test_payloads_are_validated_against_the_real_service_model() -> None:
    fake = FakeClient("v1")
    with pytest.raises(ParamValidationError, match='Missing required parameter in input: "Source"'):
        fake.send_email(Destination={}, Message={"Subject": {"Data": "s"}, "Body": {}})
    with pytest.raises(
        ParamValidationError, match='Unknown parameter in input: "FromEmailAddress"'
    ):
        fake.send_email(**v2_payload("a@example.com"))
    assert fake.calls == []


def test_a_v2_payload_is_not_a_v1_payload_and_vice_versa() -> None:
    with pytest.raises(ParamValidationError, match="Unknown parameter"):
        FakeClient("v2").send_email(**v1_payload("a@example.com"))


def test_only_send_and_quota_operations_exist() -> None:
    with pytest.raises(
        AttributeError, match="FakeClient\\('v2'\\) has no operation 'create_email_identity'"
    ):
        getattr(FakeClient("v2"), "create_email_identity")  # noqa: B009  # the missing attribute is the point
    with pytest.raises(AttributeError):
        getattr(FakeClient("v2"), "send_raw_email")  # noqa: B009  # v1 only


def test_v1_throttle_is_a_400_throttling_client_error() -> None:
    fake = FakeClient("v1")
    fake.throttle()
    with pytest.raises(ClientError) as caught:
        fake.send_email(**v1_payload("a@example.com"))
    error = caught.value.response
    assert error["Error"] == {
        "Code": "Throttling",
        "Message": "Maximum sending rate exceeded.",
        "Type": "Sender",
    }
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert caught.value.operation_name == "SendEmail"
    assert isinstance(classify(caught.value), ThrottledError)
    assert not fake.calls[0].succeeded
    fake.send_email(**v1_payload("a@example.com"))  # the script is used up


def test_v2_throttle_is_a_429_too_many_requests() -> None:
    fake = FakeClient("v2")
    fake.throttle(times=2)
    for _ in range(2):
        with pytest.raises(ClientError) as caught:
            fake.send_email(**v2_payload("a@example.com"))
        assert caught.value.response["Error"]["Code"] == "TooManyRequestsException"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert fake.send_email(**v2_payload("a@example.com"))["MessageId"]


@pytest.mark.parametrize(("api", "code"), [("v1", "Throttling"), ("v2", "LimitExceededException")])
def test_daily_quota_refuses_a_call_that_would_exceed_it(api: Any, code: str) -> None:
    fake = FakeClient(api, max_24h_send=3)
    payload = v1_payload if api == "v1" else v2_payload
    fake.send_email(**payload("a@x.com", "b@x.com"))
    with pytest.raises(ClientError) as caught:
        fake.send_email(**payload("a@x.com", "b@x.com"))
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["Error"]["Message"] == "Daily message quota exceeded."
    assert isinstance(classify(caught.value), DailyQuotaExceededError)
    fake.send_email(**payload("a@x.com"))  # one more still fits
    assert fake.sent_recipients == 3


def test_rejected_address_fails_single_sends_and_marks_bulk_entries() -> None:
    fake = FakeClient("v2")
    fake.reject("bad@example.com", "Message rejected for testing.")
    with pytest.raises(ClientError) as caught:
        fake.send_email(**v2_payload("ok@example.com", "bad@example.com"))
    assert isinstance(classify(caught.value), MessageRejectedError)
    response = fake.send_bulk_email(
        FromEmailAddress="s@example.com",
        DefaultContent={"Template": {"TemplateName": "T1", "TemplateData": "{}"}},
        BulkEmailEntries=[
            {"Destination": {"ToAddresses": ["bad@example.com"]}},
            {"Destination": {"ToAddresses": ["ok@example.com"]}},
        ],
    )
    statuses = response["BulkEmailEntryResults"]
    assert statuses[0] == {"Status": "MESSAGE_REJECTED", "Error": "Message rejected for testing."}
    assert statuses[1]["Status"] == "SUCCESS"


def test_v1_bulk_uses_v1_status_spelling() -> None:
    fake = FakeClient("v1")
    fake.reject("bad@example.com")
    response = fake.send_bulk_templated_email(
        Source="s@example.com",
        Template="T1",
        DefaultTemplateData="{}",
        Destinations=[
            {"Destination": {"ToAddresses": ["bad@example.com"]}},
            {"Destination": {"ToAddresses": ["ok@example.com"]}},
        ],
    )
    assert [s["Status"] for s in response["Status"]] == ["MessageRejected", "Success"]


def test_quota_lookups_report_the_configured_limits() -> None:
    v1 = FakeClient("v1", max_send_rate=14.0, max_24h_send=50000.0)
    v1.send_email(**v1_payload("a@x.com", "b@x.com"))
    quota = v1.get_send_quota()
    assert (quota["MaxSendRate"], quota["Max24HourSend"], quota["SentLast24Hours"]) == (
        14.0,
        50000.0,
        2.0,
    )
    account = FakeClient("v2").get_account()
    assert account["SendQuota"] == {
        "Max24HourSend": -1.0,
        "MaxSendRate": -1.0,
        "SentLast24Hours": 0.0,
    }


def test_fail_next_scripts_any_error() -> None:
    fake = FakeClient("v2")
    fake.fail_next("InternalServiceErrorException", "boom", status=500)
    with pytest.raises(ClientError) as caught:
        fake.send_email(**v2_payload("a@x.com"))
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "Type" not in caught.value.response["Error"]  # v2 errors have no <Type>


def test_unknown_api_is_refused() -> None:
    with pytest.raises(ValueError, match="api: must be 'v1' or 'v2'"):
        FakeClient("v3")  # type: ignore[arg-type]  # the point of the test


async def test_async_fake_awaits_and_shares_the_recording() -> None:
    async with AsyncFakeClient("v2") as fake:
        fake.throttle()
        with pytest.raises(ClientError):
            await fake.send_email(**v2_payload("a@x.com"))
        response = await fake.send_email(**v2_payload("a@x.com"))
    assert [c.succeeded for c in fake.calls] == [False, True]
    assert fake.calls[1].response == response
