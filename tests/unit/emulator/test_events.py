"""The pure pieces of event publishing: generation, formats, routing, the log, envelopes."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from emulator import events
from emulator.config import PROFILES, Settings, SettingsError
from emulator.events import EventLog, SesEvent
from emulator.ses.state import AccountState, ConfigurationSet, Identity
from emulator.sns import (
    _masked,
    _split_credentials,
    confirmation_envelope,
    envelope_headers,
    notification_envelope,
    string_to_sign,
)
from emulator.store import MessageRecord

SIM = "simulator.amazonses.com"
RAW = (
    b"From: Sender <sender@example.com>\r\nTo: a@example.net, B <b@example.net>\r\n"
    b"Subject: Hello\r\nMessage-ID: <x@email.amazonses.com>\r\n"
    b"Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n\r\nbody\r\n"
)


def _record(**overrides: Any) -> MessageRecord:
    values: dict[str, Any] = {
        "id": "0100abc-1-000000",
        "account": "123456789012",
        "region": "eu-west-1",
        "api": "v2",
        "operation": "SendEmail",
        "kind": "simple",
        "timestamp": 1_767_225_600.25,  # 2026-01-01T00:00:00.250Z
        "source": "Sender <sender@example.com>",
        "envelope_from": "sender@example.com",
        "recipients": ("a@example.net",),
        "raw": RAW,
    }
    values.update(overrides)
    return MessageRecord(**values)


def _state() -> AccountState:
    return AccountState(
        account_id="123456789012", region="eu-west-1", profile=PROFILES["unlimited"]
    )


def test_timestamps_are_iso_utc_with_milliseconds() -> None:
    assert events.iso_timestamp(1_767_225_600.25) == "2026-01-01T00:00:00.250Z"
    assert events.iso_timestamp(0) == "1970-01-01T00:00:00.000Z"


def test_an_event_type_must_be_one_ses_publishes() -> None:
    with pytest.raises(ValueError, match="type: one of Send"):
        SesEvent(type="Sent", timestamp=0, recipients=(), detail={})  # type: ignore[arg-type]  # the point of the test


def test_every_event_type_has_a_matching_name_and_a_detail_key() -> None:
    assert set(events.MATCHING_EVENT_TYPES) == set(events.EVENT_TYPES)
    assert set(events.DETAIL_KEYS) == set(events.EVENT_TYPES)
    assert events.DETAIL_KEYS["Rendering Failure"] == "failure"


def test_generate_orders_send_delivery_bounces_complaint() -> None:
    record = _record(
        recipients=(f"complaint@{SIM}", f"bounce@{SIM}", f"suppressionlist@{SIM}", "x@example.net"),
        outcomes={
            f"complaint@{SIM}": "complaint",
            f"bounce@{SIM}": "bounce",
            f"suppressionlist@{SIM}": "suppressed",
            "x@example.net": "suppressed",
        },
    )

    generated = events.generate(record)

    assert [(e.type, e.recipients) for e in generated] == [
        ("Send", tuple(record.recipients)),
        ("Delivery", (f"complaint@{SIM}",)),
        ("Bounce", (f"bounce@{SIM}",)),
        ("Bounce", (f"suppressionlist@{SIM}",)),
        ("Bounce", ("x@example.net",)),
        ("Complaint", (f"complaint@{SIM}",)),
    ]
    subtypes = [e.detail["bounceSubType"] for e in generated if e.type == "Bounce"]
    assert subtypes == ["General", "Suppressed", "OnAccountSuppressionList"]
    delivery = generated[1]
    assert delivery.timestamp == record.timestamp + 0.5
    assert delivery.detail["timestamp"] == "2026-01-01T00:00:00.750Z"


def test_a_bounce_names_the_recipient_status_and_diagnostic() -> None:
    (bounce,) = [
        e
        for e in events.generate(
            _record(recipients=(f"bounce@{SIM}",), outcomes={f"bounce@{SIM}": "bounce"})
        )
        if e.type == "Bounce"
    ]

    assert bounce.detail["bounceType"] == "Permanent"
    assert bounce.detail["bouncedRecipients"] == [
        {
            "emailAddress": f"bounce@{SIM}",
            "action": "failed",
            "status": "5.1.1",
            "diagnosticCode": "smtp; 550 5.1.1 user unknown",
        }
    ]
    assert bounce.detail["feedbackId"].endswith("-000000")


def test_a_recipient_without_a_recorded_outcome_is_delivered() -> None:
    generated = events.generate(_record(outcomes={}))

    assert [e.type for e in generated] == ["Send", "Delivery"]


def test_a_rendering_failure_stops_after_the_failure_event() -> None:
    record = _record(
        status="rendering_failure", rendering_error="Attribute 'name' is not present", template="t"
    )

    generated = events.generate(record)

    assert [e.type for e in generated] == ["Send", "Rendering Failure"]
    assert generated[1].detail == {
        "errorMessage": "Attribute 'name' is not present",
        "templateName": "t",
    }


def test_on_request_builds_open_click_delay_and_after_the_fact_outcomes() -> None:
    record = _record(recipients=("a@example.net", "b@example.net"))

    opened = events.on_request(record, "Open", now=100.0, ip_address="192.0.2.9")
    clicked = events.on_request(record, "Click", now=100.0, link="https://example.com/x")
    delayed = events.on_request(record, "DeliveryDelay", now=100.0, recipients=["b@example.net"])
    bounced = events.on_request(record, "Bounce", now=100.0, recipients=["a@example.net"])

    assert opened.detail["ipAddress"] == "192.0.2.9"
    assert opened.recipients == ("a@example.net", "b@example.net")
    assert clicked.detail["link"] == "https://example.com/x"
    assert clicked.detail["linkTags"] == {}
    assert delayed.detail["delayType"] == "TransientCommunicationFailure"
    assert delayed.detail["expirationTime"] == events.iso_timestamp(100.0 + 14 * 3600)
    assert [r["emailAddress"] for r in delayed.detail["delayedRecipients"]] == ["b@example.net"]
    assert bounced.detail["bouncedRecipients"][0]["emailAddress"] == "a@example.net"


@pytest.mark.parametrize(
    ("event_type", "options", "message"),
    [
        ("Send", {}, "type: one of"),
        ("Open", {"recipients": []}, "recipients: at least one"),
        ("Open", {"recipients": ["z@example.net"]}, "recipients: not recipients"),
        ("Click", {}, "link: a Click needs"),
        ("Delivery", {"delay_type": "General"}, "delay_type: only a DeliveryDelay"),
    ],
)
def test_on_request_rejects_what_ses_could_not_publish(
    event_type: str, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        events.on_request(_record(), event_type, now=0.0, **options)


def test_mail_object_for_event_publishing_has_tags_and_common_headers() -> None:
    record = _record(tags=(("campaign", "a"), ("campaign", "b")), configuration_set="cs")

    mail = events.mail_object(record, identity=None, channel="event-publishing")

    assert mail["timestamp"] == "2026-01-01T00:00:00.250Z"
    assert mail["sourceArn"] == "arn:aws:ses:eu-west-1:123456789012:identity/example.com"
    assert "sourceIp" not in mail
    assert mail["commonHeaders"] == {
        "from": ["Sender <sender@example.com>"],
        "to": ["a@example.net", "B <b@example.net>"],
        "date": "Thu, 01 Jan 2026 00:00:00 +0000",
        "messageId": record.id,
        "subject": "Hello",
    }
    assert mail["tags"]["campaign"] == ["a", "b"]
    assert mail["tags"]["ses:configuration-set"] == ["cs"]


def test_notification_mail_object_has_source_ip_and_no_tags_or_headers_unless_asked() -> None:
    mail = events.mail_object(
        _record(), identity=None, channel="notification", include_headers=False
    )

    assert mail["sourceIp"] == "127.0.0.1"
    assert mail["callerIdentity"] == "root"
    assert "tags" not in mail
    assert "headers" not in mail


def test_only_bounce_complaint_and_delivery_have_a_notification_format() -> None:
    send = SesEvent(type="Send", timestamp=0.0, recipients=(), detail={})

    with pytest.raises(ValueError, match="Send events have no notification format"):
        events.notification_payload(send, _record(), identity=None, include_headers=False)


def test_the_most_specific_identity_sends_the_mail() -> None:
    state = _state()
    for name, kind in (("example.com", "Domain"), ("sender@mail.example.com", "EmailAddress")):
        state.identities[name] = Identity(name=name, kind=kind)  # type: ignore[arg-type]  # literal from the loop

    def chosen(address: str) -> str | None:
        identity = events.sending_identity(state, address)
        return identity.name if identity is not None else None

    assert chosen("sender+x@mail.example.com") == "sender@mail.example.com"
    assert chosen("other@mail.example.com") == "example.com"
    assert chosen("a@example.org") is None
    assert events.sending_identity(None, "a@example.com") is None


def test_routes_follow_destinations_then_the_identity_topic() -> None:
    state = _state()
    state.configuration_sets["cs"] = ConfigurationSet(
        name="cs",
        event_destinations={
            "match": {
                "Enabled": True,
                "MatchingEventTypes": ["BOUNCE"],
                "SnsDestination": {"TopicArn": "arn:aws:sns:eu-west-1:123456789012:a"},
            },
            "cloudwatch": {
                "Enabled": True,
                "MatchingEventTypes": ["BOUNCE"],
                "CloudWatchDestination": {"DimensionConfigurations": []},
            },
        },
    )
    state.identities["example.com"] = Identity(
        name="example.com",
        kind="Domain",
        notification_topics={"Bounce": "arn:aws:sns:eu-west-1:123456789012:n"},
    )
    record = _record(configuration_set="cs", outcomes={"a@example.net": "bounce"})
    bounce = events.generate(record)[-1]

    found = events.routes(bounce, record, state)

    assert [(r.channel, r.topic_arn, r.event_destination, r.identity) for r in found] == [
        ("event-publishing", "arn:aws:sns:eu-west-1:123456789012:a", "match", None),
        ("notification", "arn:aws:sns:eu-west-1:123456789012:n", None, "example.com"),
    ]
    assert found[0].payload["eventType"] == "Bounce"
    assert found[1].payload["notificationType"] == "Bounce"


def test_the_event_log_filters_clears_by_scope_and_stays_bounded() -> None:
    log = EventLog(limit=3)
    first = _record(id="m1")
    other = _record(id="m2", account="210987654321")
    for record in (first, first, other, other):
        for event in events.generate(record)[:1]:
            log.add(record, event)

    assert len(log) == 3  # the oldest was dropped
    assert [e.message_id for e in log.select()] == ["m1", "m2", "m2"]
    assert [e.message_id for e in log.select(account="210987654321")] == ["m2", "m2"]
    log.clear(account="210987654321")
    assert [e.message_id for e in log.select()] == ["m1"]
    with pytest.raises(ValueError, match="limit: must be positive"):
        EventLog(limit=0)


def test_string_to_sign_follows_sns_key_order_per_type() -> None:
    notification = notification_envelope(
        topic_arn="arn:aws:sns:us-east-1:1:t",
        message='{"a":1}',
        message_id="m",
        timestamp="2026-01-01T00:00:00.000Z",
        subscription_arn="arn:aws:sns:us-east-1:1:t:s",
        base_url="http://127.0.0.1:1",
    )
    confirmation = confirmation_envelope(
        topic_arn="arn:aws:sns:us-east-1:1:t",
        token="tok",
        message_id="c",
        timestamp="2026-01-01T00:00:00.000Z",
        base_url="http://127.0.0.1:1",
    )

    assert string_to_sign(notification) == (
        'Message\n{"a":1}\nMessageId\nm\nTimestamp\n2026-01-01T00:00:00.000Z\n'
        "TopicArn\narn:aws:sns:us-east-1:1:t\nType\nNotification\n"
    )
    assert (
        string_to_sign(confirmation)
        == "".join(
            f"{key}\n{confirmation[key]}\n"
            for key in ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn")
        )
        + "Type\nSubscriptionConfirmation\n"
    )
    digest = hashlib.sha256(string_to_sign(confirmation).encode()).digest()
    assert confirmation["Signature"] == base64.b64encode(digest).decode()
    assert "x-amz-sns-subscription-arn" not in envelope_headers(confirmation, "s")
    assert envelope_headers(notification, "s")["x-amz-sns-subscription-arn"] == "s"


def test_endpoint_credentials_are_split_off_and_masked() -> None:
    url, authorization = _split_credentials("http://us%40r:p%3Aw@127.0.0.1:8000/hook?x=1")

    assert url == "http://127.0.0.1:8000/hook?x=1"
    assert authorization == "Basic " + base64.b64encode(b"us@r:p:w").decode()
    assert _split_credentials("http://127.0.0.1/h") == ("http://127.0.0.1/h", None)
    assert _masked("http://u:secret@127.0.0.1:8000/h") == "http://u:***@127.0.0.1:8000/h"
    assert _masked("http://127.0.0.1/h") == "http://127.0.0.1/h"


def test_sns_subscription_settings_are_validated() -> None:
    ok = Settings.from_env(
        {"SES_EMULATOR_SNS_SUBSCRIPTIONS": "arn:aws:sns:us-east-1:1:t=http://127.0.0.1:9/h"}
    )

    assert ok.sns_subscriptions == (("arn:aws:sns:us-east-1:1:t", "http://127.0.0.1:9/h"),)
    with pytest.raises(SettingsError, match="not a topic ARN"):
        Settings(sns_subscriptions=(("topic", "http://127.0.0.1/"),))
    with pytest.raises(SettingsError, match="not an http"):
        Settings(sns_subscriptions=(("arn:aws:sns:us-east-1:1:t", "mailto:a@b"),))
    with pytest.raises(SettingsError, match="SES_EMULATOR_SNS_SUBSCRIPTIONS"):
        Settings.from_env({"SES_EMULATOR_SNS_SUBSCRIPTIONS": "no-equals-sign"})
    with pytest.raises(SettingsError, match="sns_delivery_attempts"):
        Settings(sns_delivery_attempts=0)


def test_the_eicar_string_is_found_unencoded_or_in_an_encoded_attachment() -> None:
    plain = RAW.replace(b"body", events.EICAR_SIGNATURE)
    encoded = base64.b64encode(events.EICAR_SIGNATURE)
    multipart = (
        b'From: a@example.com\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded + b"\r\n--b--\r\n"
    )
    # The same base64 text in a single-part message is just text, not an attachment.
    single = RAW.replace(b"body", encoded)

    assert [e.type for e in events.generate(_record(raw=plain))] == ["Send", "Reject"]
    assert [e.type for e in events.generate(_record(raw=multipart))] == ["Send", "Reject"]
    assert [e.type for e in events.generate(_record(raw=single))] == ["Send", "Delivery"]


def test_the_settings_endpoint_masks_webhook_passwords() -> None:
    from emulator.inspect import settings_json

    settings = Settings(
        sns_subscriptions=(
            ("arn:aws:sns:us-east-1:1:t", "http://hook:s3cret@127.0.0.1:8000/h"),
            ("arn:aws:sns:us-east-1:1:t", "https://127.0.0.1/open"),
        )
    )

    assert settings_json(settings)["sns_subscriptions"] == [
        ["arn:aws:sns:us-east-1:1:t", "http://hook:***@127.0.0.1:8000/h"],
        ["arn:aws:sns:us-east-1:1:t", "https://127.0.0.1/open"],
    ]


def test_ooto_is_a_delivery_unless_the_old_transient_bounce_is_asked_for() -> None:
    record = _record(recipients=(f"ooto@{SIM}",), outcomes={f"ooto@{SIM}": "ooto"})

    today = events.generate(record)
    old = events.generate(record, ooto_transient_bounce=True)

    assert [e.type for e in today] == ["Send", "Delivery"]
    assert [e.type for e in old] == ["Send", "Delivery", "Bounce"]
    assert (old[2].detail["bounceType"], old[2].detail["bounceSubType"]) == ("Transient", "General")
    assert old[2].detail["bouncedRecipients"] == [{"emailAddress": f"ooto@{SIM}"}]
