"""Delivering events to webhooks as SNS does: subscriptions, the handshake, envelopes, retries.

A small stdlib HTTP server on 127.0.0.1 plays the webhook: it records every request and answers
with the statuses a test scripts. Sends go through real boto3 clients; so do the SNS API calls
(Subscribe, ConfirmSubscription, Unsubscribe) a user's code would make against the emulator.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator.server import EmulatorServer
from emulator.sns import string_to_sign
from tests.integration.webhooks import WAIT, Webhook, recording_webhook

TOPIC = "arn:aws:sns:us-east-1:000000000000:webhook-events"
SIM = "simulator.amazonses.com"


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    with recording_webhook() as hook:
        yield hook


def _client(endpoint_url: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1}),
    )


def _prepare_sender(sesv2: Any) -> None:
    sesv2.create_email_identity(EmailIdentity="example.com")
    sesv2.create_configuration_set(ConfigurationSetName="hooks")
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName="hooks",
        EventDestinationName="sns",
        EventDestination={
            "Enabled": True,
            "MatchingEventTypes": ["BOUNCE"],
            "SnsDestination": {"TopicArn": TOPIC},
        },
    )


def _send_bounce(sesv2: Any) -> str:
    response = sesv2.send_email(
        FromEmailAddress="sender@example.com",
        Destination={"ToAddresses": [f"bounce@{SIM}"]},
        Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}},
        ConfigurationSetName="hooks",
    )
    return str(response["MessageId"])


def _subscribe(emulator_url: str, endpoint: str, **extra: Any) -> dict[str, Any]:
    response = requests.post(
        f"{emulator_url}/_emulator/sns/subscriptions",
        json={"topic_arn": TOPIC, "endpoint": endpoint, **extra},
        timeout=5,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _deliveries(emulator_url: str, message_id: str) -> list[dict[str, Any]]:
    """The message's deliveries once none is pending (bounded wait)."""
    deadline = time.monotonic() + WAIT
    while True:
        events = requests.get(
            f"{emulator_url}/_emulator/events", params={"message_id": message_id}, timeout=5
        ).json()["events"]
        found = [d for e in events for p in e["published"] for d in p["deliveries"]]
        if all(d["status"] != "pending" for d in found) or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def test_a_new_subscription_is_confirmed_by_getting_its_subscribe_url(
    emulator: EmulatorServer, webhook: Webhook, sesv2: Any
) -> None:
    _prepare_sender(sesv2)
    subscription = _subscribe(emulator.endpoint_url, webhook.url)
    assert subscription["status"] == "pending"

    headers, body = webhook.next()
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    assert headers["x-amz-sns-message-id"] == body["MessageId"]
    assert headers["x-amz-sns-topic-arn"] == TOPIC
    assert headers["content-type"] == "text/plain; charset=UTF-8"
    assert body["Type"] == "SubscriptionConfirmation"
    assert body["TopicArn"] == TOPIC
    assert body["Message"].startswith(f"You have chosen to subscribe to the topic {TOPIC}.")
    assert body["SubscribeURL"].startswith(f"{emulator.endpoint_url}/_emulator/sns/confirm?")
    assert body["Token"] in body["SubscribeURL"]

    # Before confirmation nothing is delivered; the log says why.
    unconfirmed = _send_bounce(sesv2)
    assert [d["status"] for d in _deliveries(emulator.endpoint_url, unconfirmed)] == ["unconfirmed"]
    assert webhook.received.empty()

    confirmed = requests.get(body["SubscribeURL"], timeout=5)
    assert confirmed.status_code == 200
    assert f"<SubscriptionArn>{subscription['arn']}</SubscriptionArn>" in confirmed.text

    message_id = _send_bounce(sesv2)
    headers, notification = webhook.next()
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert json.loads(notification["Message"])["mail"]["messageId"] == message_id


@pytest.mark.parametrize("token", ["0" * 32, "tök\u00e9n", ""])
def test_an_unknown_token_is_refused_like_sns(emulator: EmulatorServer, token: str) -> None:
    _subscribe(emulator.endpoint_url, "http://127.0.0.1:9/never-confirmed")

    response = requests.get(
        f"{emulator.endpoint_url}/_emulator/sns/confirm",
        params={"TopicArn": TOPIC, "Token": token},
        timeout=5,
    )

    assert response.status_code == 400
    assert "<Code>InvalidParameter</Code><Message>Invalid token</Message>" in response.text


def test_notification_envelope_has_sns_fields_headers_and_a_digest_signature(
    emulator: EmulatorServer, webhook: Webhook, sesv2: Any
) -> None:
    _prepare_sender(sesv2)
    subscription = _subscribe(emulator.endpoint_url, webhook.url, confirmed=True)

    message_id = _send_bounce(sesv2)

    headers, envelope = webhook.next()
    assert list(envelope) == [
        "Type",
        "MessageId",
        "TopicArn",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
        "UnsubscribeURL",
    ]
    assert headers["x-amz-sns-message-id"] == envelope["MessageId"]
    assert headers["x-amz-sns-topic-arn"] == TOPIC
    assert headers["x-amz-sns-subscription-arn"] == subscription["arn"]
    assert headers["user-agent"] == "Amazon Simple Notification Service Agent"
    assert envelope["SignatureVersion"] == "1"
    digest = hashlib.sha256(string_to_sign(envelope).encode()).digest()
    assert base64.b64decode(envelope["Signature"]) == digest
    assert string_to_sign(envelope).startswith(f"Message\n{envelope['Message']}\nMessageId\n")
    message = json.loads(envelope["Message"])
    assert (message["eventType"], message["mail"]["messageId"]) == ("Bounce", message_id)
    # The UnsubscribeURL works, and then nothing more arrives.
    gone = requests.get(envelope["UnsubscribeURL"], timeout=5)
    assert gone.status_code == 200
    assert "<UnsubscribeResponse" in gone.text
    listed = requests.get(f"{emulator.endpoint_url}/_emulator/sns/subscriptions", timeout=5)
    assert listed.json()["subscriptions"] == []


def test_boto3_sns_subscribe_confirm_and_unsubscribe_against_the_emulator(
    emulator: EmulatorServer, webhook: Webhook
) -> None:
    sns = _client(emulator.endpoint_url, "sns")

    pending = sns.subscribe(TopicArn=TOPIC, Protocol="http", Endpoint=webhook.url)
    assert pending["SubscriptionArn"] == "pending confirmation"
    _, confirmation = webhook.next()
    with pytest.raises(ClientError) as bad:
        sns.confirm_subscription(TopicArn=TOPIC, Token="not-the-token")
    confirmed = sns.confirm_subscription(TopicArn=TOPIC, Token=confirmation["Token"])
    sns.unsubscribe(SubscriptionArn=confirmed["SubscriptionArn"])
    with pytest.raises(ClientError) as missing:
        sns.unsubscribe(SubscriptionArn=confirmed["SubscriptionArn"])
    with pytest.raises(ClientError) as email_protocol:
        sns.subscribe(TopicArn=TOPIC, Protocol="email", Endpoint="a@example.com")

    assert confirmed["SubscriptionArn"].startswith(f"{TOPIC}:")
    for answer in (pending, confirmed, bad.value.response):  # one id, in the body and header
        metadata = answer["ResponseMetadata"]
        assert metadata["RequestId"] == metadata["HTTPHeaders"]["x-amzn-requestid"]
    error = bad.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
        "InvalidParameter",
        400,
    )
    assert error["Error"]["Message"] == "Invalid token"
    assert missing.value.response["Error"]["Code"] == "NotFound"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert email_protocol.value.response["Error"]["Code"] == "InvalidParameter"


def test_subscriptions_from_settings_with_auto_confirm_deliver_at_once(webhook: Webhook) -> None:
    with EmulatorServer(sns_subscriptions=((TOPIC, webhook.url),), sns_auto_confirm=True) as em:
        sesv2 = _client(em.endpoint_url, "sesv2")
        _prepare_sender(sesv2)

        message_id = _send_bounce(sesv2)

        headers, envelope = webhook.next()
        listed = requests.get(f"{em.endpoint_url}/_emulator/sns/subscriptions", timeout=5)
        # A full reset keeps the configured subscription.
        em.backend.reset()
        kept = requests.get(f"{em.endpoint_url}/_emulator/sns/subscriptions", timeout=5)
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert json.loads(envelope["Message"])["mail"]["messageId"] == message_id
    (subscription,) = listed.json()["subscriptions"]
    assert (subscription["status"], subscription["origin"]) == ("confirmed", "settings")
    assert kept.json()["subscriptions"] == listed.json()["subscriptions"]


def test_server_errors_are_retried_with_backoff_until_delivered(webhook: Webhook) -> None:
    webhook.statuses = [500, 503]
    with EmulatorServer(
        sns_subscriptions=((TOPIC, webhook.url),), sns_auto_confirm=True, sns_retry_delay=0.01
    ) as em:
        sesv2 = _client(em.endpoint_url, "sesv2")
        _prepare_sender(sesv2)

        message_id = _send_bounce(sesv2)

        bodies = [webhook.next()[1] for _ in range(3)]
        (delivery,) = _deliveries(em.endpoint_url, message_id)
    # The same SNS message each time: a receiver can deduplicate on MessageId.
    assert len({b["MessageId"] for b in bodies}) == 1
    assert (delivery["status"], delivery["attempts"], delivery["http_status"]) == (
        "delivered",
        3,
        200,
    )
    assert delivery["error"] is None


def test_a_client_error_answer_is_final(webhook: Webhook) -> None:
    webhook.statuses = [400]
    with EmulatorServer(
        sns_subscriptions=((TOPIC, webhook.url),), sns_auto_confirm=True, sns_retry_delay=0.01
    ) as em:
        sesv2 = _client(em.endpoint_url, "sesv2")
        _prepare_sender(sesv2)

        message_id = _send_bounce(sesv2)

        webhook.next()
        (delivery,) = _deliveries(em.endpoint_url, message_id)
    assert (delivery["status"], delivery["attempts"], delivery["error"]) == (
        "failed",
        1,
        "HTTP 400",
    )
    assert webhook.received.empty()


def test_an_unreachable_webhook_fails_after_the_configured_attempts_and_the_send_succeeds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A port that was just free: nothing listens there.
    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    dead_url = f"http://127.0.0.1:{closed.server_address[1]}/hook"
    closed.server_close()
    with EmulatorServer(
        sns_subscriptions=((TOPIC, dead_url),),
        sns_auto_confirm=True,
        sns_retry_delay=0.01,
        sns_delivery_attempts=3,
    ) as em:
        sesv2 = _client(em.endpoint_url, "sesv2")
        _prepare_sender(sesv2)

        message_id = _send_bounce(sesv2)

        (delivery,) = _deliveries(em.endpoint_url, message_id)
        record = requests.get(f"{em.endpoint_url}/_emulator/messages/{message_id}", timeout=5)
    assert (delivery["status"], delivery["attempts"], delivery["http_status"]) == (
        "failed",
        3,
        None,
    )
    assert delivery["error"].startswith("ClientConnectorError")
    # The record shows the same outcome, and the failure was logged.
    bounce = next(e for e in record.json()["events"] if e["type"] == "Bounce")
    assert bounce["published"][0]["deliveries"][0]["status"] == "failed"
    assert any("failed after 3 attempt(s)" in r.getMessage() for r in caplog.records)


def test_a_webhook_asking_for_basic_auth_gets_the_url_credentials(
    emulator: EmulatorServer, webhook: Webhook, sesv2: Any
) -> None:
    webhook.statuses = [401]  # no WWW-Authenticate challenge: a plain refusal, final
    _prepare_sender(sesv2)
    endpoint = webhook.url.replace("http://", "http://user:pa%3Ass@")
    _subscribe(emulator.endpoint_url, endpoint, confirmed=True)

    message_id = _send_bounce(sesv2)

    headers, _ = webhook.next()
    (delivery,) = _deliveries(emulator.endpoint_url, message_id)
    assert "authorization" not in headers  # SNS sends credentials only when challenged
    assert (delivery["status"], delivery["http_status"]) == ("failed", 401)
    assert delivery["endpoint"].startswith("http://user:***@127.0.0.1:")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"topic_arn": "not-an-arn", "endpoint": "http://127.0.0.1:1/"}, "topic_arn"),
        ({"topic_arn": TOPIC, "endpoint": "ftp://127.0.0.1/"}, "endpoint"),
        ({"topic_arn": TOPIC, "endpoint": "http://127.0.0.1:1/", "confirmed": "yes"}, "confirmed"),
        ({"topic_arn": TOPIC, "endpoint": "http://127.0.0.1:1/", "protocol": "http"}, "protocol"),
    ],
)
def test_the_subscription_control_api_validates_its_input(
    emulator: EmulatorServer, body: dict[str, Any], field: str
) -> None:
    response = requests.post(
        f"{emulator.endpoint_url}/_emulator/sns/subscriptions", json=body, timeout=5
    )

    assert response.status_code == 400
    assert response.json()["error"]["field"] == field


def test_subscriptions_are_listed_by_topic_and_deleted(emulator: EmulatorServer) -> None:
    url = f"{emulator.endpoint_url}/_emulator/sns/subscriptions"
    first = _subscribe(emulator.endpoint_url, "http://127.0.0.1:9/a", confirmed=True)
    again = _subscribe(emulator.endpoint_url, "http://127.0.0.1:9/a", confirmed=True)
    other = requests.post(
        url,
        json={"topic_arn": f"{TOPIC}-2", "endpoint": "http://127.0.0.1:9/b", "confirmed": True},
        timeout=5,
    ).json()

    assert again["arn"] == first["arn"]  # subscribing twice is one subscription, as in SNS
    by_topic = requests.get(url, params={"topic_arn": TOPIC}, timeout=5).json()
    assert [s["arn"] for s in by_topic["subscriptions"]] == [first["arn"]]
    assert requests.delete(url, params={"arn": first["arn"]}, timeout=5).status_code == 204
    missing = requests.delete(url, params={"arn": first["arn"]}, timeout=5)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "NotFound")
    remaining = requests.get(url, timeout=5).json()["subscriptions"]
    assert [s["arn"] for s in remaining] == [other["arn"]]
    assert requests.delete(url, timeout=5).status_code == 204
    assert requests.get(url, timeout=5).json()["subscriptions"] == []


def test_the_cli_subscribes_webhooks_and_hands_out_urls_with_its_bound_port(
    webhook: Webhook,
) -> None:
    from tests.integration.test_cli import emulator_process

    with emulator_process("--port", "0", "--sns-subscription", f"{TOPIC}={webhook.url}") as (
        _,
        endpoint_url,
    ):
        _, confirmation = webhook.next()
        confirmed = requests.get(confirmation["SubscribeURL"], timeout=5)
        listed = requests.get(f"{endpoint_url}/_emulator/sns/subscriptions", timeout=5)

    assert confirmation["SubscribeURL"].startswith(f"{endpoint_url}/_emulator/sns/confirm?")
    assert confirmed.status_code == 200
    (subscription,) = listed.json()["subscriptions"]
    assert (subscription["topic_arn"], subscription["status"]) == (TOPIC, "confirmed")


def test_retries_stop_when_the_subscription_is_removed(webhook: Webhook) -> None:
    webhook.statuses = [500] * 10
    with EmulatorServer(
        sns_subscriptions=((TOPIC, webhook.url),), sns_auto_confirm=True, sns_retry_delay=0.3
    ) as em:
        sesv2 = _client(em.endpoint_url, "sesv2")
        _prepare_sender(sesv2)
        message_id = _send_bounce(sesv2)
        webhook.next()  # the first attempt arrived; the retry waits 0.3 s

        removed = requests.delete(f"{em.endpoint_url}/_emulator/sns/subscriptions", timeout=5)
        (delivery,) = _deliveries(em.endpoint_url, message_id)

    assert removed.status_code == 204
    assert (delivery["status"], delivery["attempts"], delivery["error"]) == (
        "failed",
        1,
        "unsubscribed before delivery",
    )
    assert webhook.received.empty()
