"""The events the emulator generates for accepted messages, read from its event log.

Sends go through real boto3 clients; ``GET /_emulator/events`` shows every generated event and
where it was published (no webhook is needed to see them: deliveries are tested in
test_events_sns.py).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

from emulator.events import EICAR_SIGNATURE
from emulator.server import EmulatorServer

TOPIC = "arn:aws:sns:us-east-1:000000000000:ses-events"
SIM = "simulator.amazonses.com"


def _events(emulator: EmulatorServer, **params: str) -> list[dict[str, Any]]:
    response = requests.get(f"{emulator.endpoint_url}/_emulator/events", params=params, timeout=5)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["events"])
    return list(body["events"])


def _client(endpoint_url: str) -> Any:
    return boto3.client(
        "sesv2",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1}),
    )


def _send(sesv2: Any, to: list[str], **extra: Any) -> str:
    response = sesv2.send_email(
        FromEmailAddress="sender@example.com",
        Destination={"ToAddresses": to},
        Content={"Simple": {"Subject": {"Data": "Hello"}, "Body": {"Text": {"Data": "Hi"}}}},
        **extra,
    )
    return str(response["MessageId"])


@pytest.fixture
def sesv2_sender(sesv2: Any) -> Any:
    sesv2.create_email_identity(EmailIdentity="example.com")
    return sesv2


def _destination(sesv2: Any, name: str, matching: list[str], *, enabled: bool = True) -> None:
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName="events",
        EventDestinationName=name,
        EventDestination={
            "Enabled": enabled,
            "MatchingEventTypes": matching,
            "SnsDestination": {"TopicArn": f"{TOPIC}-{name}"},
        },
    )


@pytest.mark.parametrize(
    ("local_part", "expected"),
    [
        ("success", [("Send", None), ("Delivery", None)]),
        # Out of office is a delivery; the auto-reply goes to the sender, not to an event.
        ("ooto", [("Send", None), ("Delivery", None)]),
        ("bounce+label", [("Send", None), ("Bounce", "Permanent/General")]),
        ("suppressionlist", [("Send", None), ("Bounce", "Permanent/Suppressed")]),
        ("complaint", [("Send", None), ("Delivery", None), ("Complaint", None)]),
    ],
)
def test_each_simulator_address_generates_the_events_ses_publishes(
    emulator: EmulatorServer,
    sesv2_sender: Any,
    local_part: str,
    expected: list[tuple[str, str | None]],
) -> None:
    address = f"{local_part}@{SIM}"
    message_id = _send(sesv2_sender, [address])

    logged = _events(emulator, message_id=message_id)

    def subtype(event: dict[str, Any]) -> str | None:
        if event["type"] != "Bounce":
            return None
        return f"{event['detail']['bounceType']}/{event['detail']['bounceSubType']}"

    assert [(e["type"], subtype(e)) for e in logged] == expected
    assert all(e["recipients"] == [address] for e in logged)
    assert all(e["published"] == [] for e in logged)  # no destination, no topic


def test_a_message_to_several_simulator_addresses_combines_outcomes_per_event(
    emulator: EmulatorServer, sesv2_sender: Any
) -> None:
    to = [f"success@{SIM}", f"bounce@{SIM}", f"bounce+2@{SIM}", f"complaint@{SIM}"]
    message_id = _send(sesv2_sender, to)

    logged = {e["type"]: e for e in _events(emulator, message_id=message_id)}

    assert logged["Send"]["recipients"] == to
    assert logged["Delivery"]["detail"]["recipients"] == [f"success@{SIM}", f"complaint@{SIM}"]
    # Several simulated bounces of one message are one bounce [D].
    assert [r["emailAddress"] for r in logged["Bounce"]["detail"]["bouncedRecipients"]] == [
        f"bounce@{SIM}",
        f"bounce+2@{SIM}",
    ]
    assert logged["Complaint"]["detail"]["complainedRecipients"] == [
        {"emailAddress": f"complaint@{SIM}"}
    ]
    assert logged["Complaint"]["detail"]["complaintFeedbackType"] == "abuse"


def test_an_address_on_the_account_suppression_list_bounces_as_on_account_suppression_list(
    emulator: EmulatorServer, sesv2_sender: Any
) -> None:
    sesv2_sender.put_suppressed_destination(EmailAddress="gone@example.net", Reason="COMPLAINT")

    message_id = _send(sesv2_sender, ["gone@example.net", "here@example.net"])

    logged = {e["type"]: e for e in _events(emulator, message_id=message_id)}
    assert logged["Bounce"]["detail"]["bounceSubType"] == "OnAccountSuppressionList"
    assert logged["Bounce"]["recipients"] == ["gone@example.net"]
    assert logged["Delivery"]["recipients"] == ["here@example.net"]


def test_a_rendering_failure_publishes_send_then_rendering_failure(
    emulator: EmulatorServer, sesv2_sender: Any
) -> None:
    sesv2_sender.create_email_template(
        TemplateName="welcome",
        TemplateContent={"Subject": "Hi {{name}}", "Text": "Your code: {{code.value}}"},
    )
    response = sesv2_sender.send_email(
        FromEmailAddress="sender@example.com",
        Destination={"ToAddresses": [f"success@{SIM}"]},
        Content={"Template": {"TemplateName": "welcome", "TemplateData": '{"code": 5}'}},
    )
    record = requests.get(
        f"{emulator.endpoint_url}/_emulator/messages/{response['MessageId']}", timeout=5
    ).json()
    assert record["status"] == "rendering_failure"

    logged = _events(emulator, message_id=response["MessageId"])

    assert [e["type"] for e in logged] == ["Send", "Rendering Failure"]
    assert logged[1]["detail"] == {
        "errorMessage": record["rendering_error"],
        "templateName": "welcome",
    }


def test_a_message_carrying_the_eicar_test_virus_is_rejected_after_acceptance(
    emulator: EmulatorServer, ses: Any
) -> None:
    ses.verify_email_identity(EmailAddress="sender@example.com")
    attachment = base64.b64encode(EICAR_SIGNATURE).decode("ascii")
    raw = (
        "From: sender@example.com\r\nTo: success@simulator.amazonses.com\r\n"
        "Subject: virus\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        "--b\r\nContent-Type: application/octet-stream\r\n"
        'Content-Disposition: attachment; filename="eicar.com"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{attachment}\r\n--b--\r\n"
    )

    sent = ses.send_raw_email(RawMessage={"Data": raw.encode()})

    logged = _events(emulator, message_id=sent["MessageId"])
    assert [(e["type"], e["detail"]) for e in logged] == [
        ("Send", {}),
        ("Reject", {"reason": "Bad content"}),
    ]


def test_event_destinations_receive_only_enabled_matching_event_types(
    emulator: EmulatorServer, sesv2_sender: Any
) -> None:
    sesv2_sender.create_configuration_set(ConfigurationSetName="events")
    _destination(sesv2_sender, "bounces", ["BOUNCE"])
    _destination(sesv2_sender, "everything", ["SEND", "DELIVERY", "BOUNCE"])
    _destination(sesv2_sender, "off", ["SEND", "DELIVERY", "BOUNCE"], enabled=False)

    message_id = _send(
        sesv2_sender, [f"bounce@{SIM}", f"success@{SIM}"], ConfigurationSetName="events"
    )

    published = {
        e["type"]: [p["event_destination"] for p in e["published"]]
        for e in _events(emulator, message_id=message_id)
    }
    assert published == {
        "Send": ["everything"],
        "Delivery": ["everything"],
        "Bounce": ["bounces", "everything"],
    }


def test_event_publishing_payload_has_ses_fields_tags_and_headers(
    emulator: EmulatorServer, sesv2_sender: Any
) -> None:
    sesv2_sender.create_configuration_set(ConfigurationSetName="events")
    _destination(sesv2_sender, "all", ["DELIVERY"])

    message_id = _send(
        sesv2_sender,
        [f"success@{SIM}"],
        ConfigurationSetName="events",
        EmailTags=[{"Name": "campaign", "Value": "spring"}],
    )

    (delivery,) = _events(emulator, message_id=message_id, type="Delivery")
    (route,) = delivery["published"]
    assert route["channel"] == "event-publishing"
    assert route["topic_arn"] == f"{TOPIC}-all"
    payload = route["message"]
    assert payload["eventType"] == "Delivery"
    mail = payload["mail"]
    assert mail["messageId"] == message_id
    assert mail["source"] == "sender@example.com"
    assert mail["sourceArn"] == "arn:aws:ses:us-east-1:000000000000:identity/example.com"
    assert mail["sendingAccountId"] == "000000000000"
    assert mail["destination"] == [f"success@{SIM}"]
    assert mail["headersTruncated"] is False
    assert {"name": "Subject", "value": "Hello"} in mail["headers"]
    assert mail["commonHeaders"]["from"] == ["sender@example.com"]
    assert mail["commonHeaders"]["messageId"] == message_id
    assert mail["tags"]["campaign"] == ["spring"]
    assert mail["tags"]["ses:configuration-set"] == ["events"]
    assert mail["tags"]["ses:from-domain"] == ["example.com"]
    assert mail["tags"]["ses:operation"] == ["SendEmail"]
    assert payload["delivery"]["recipients"] == [f"success@{SIM}"]
    assert payload["delivery"]["smtpResponse"] == "250 2.6.0 Message received"
    assert payload["delivery"]["processingTimeMillis"] == 500


def test_a_v1_sns_event_destination_is_honoured(emulator: EmulatorServer, ses: Any) -> None:
    ses.verify_domain_identity(Domain="example.com")
    ses.create_configuration_set(ConfigurationSet={"Name": "events"})
    ses.create_configuration_set_event_destination(
        ConfigurationSetName="events",
        EventDestination={
            "Name": "v1",
            "Enabled": True,
            "MatchingEventTypes": ["bounce"],
            "SNSDestination": {"TopicARN": TOPIC},
        },
    )

    sent = ses.send_email(
        Source="sender@example.com",
        Destination={"ToAddresses": [f"bounce@{SIM}"]},
        Message={"Subject": {"Data": "v1"}, "Body": {"Text": {"Data": "x"}}},
        ConfigurationSetName="events",
    )

    (bounce,) = _events(emulator, message_id=sent["MessageId"], type="Bounce")
    assert [(p["event_destination"], p["topic_arn"]) for p in bounce["published"]] == [
        ("v1", TOPIC)
    ]


def test_identity_notifications_use_the_notification_format_and_headers_only_when_enabled(
    emulator: EmulatorServer, ses: Any
) -> None:
    ses.verify_domain_identity(Domain="example.com")
    for kind in ("Bounce", "Delivery"):
        ses.set_identity_notification_topic(
            Identity="example.com", NotificationType=kind, SnsTopic=f"{TOPIC}-{kind}"
        )
    ses.set_identity_headers_in_notifications_enabled(
        Identity="example.com", NotificationType="Bounce", Enabled=True
    )

    sent = ses.send_email(
        Source="sender@example.com",
        Destination={"ToAddresses": [f"bounce@{SIM}", f"success@{SIM}"]},
        Message={"Subject": {"Data": "n"}, "Body": {"Text": {"Data": "x"}}},
    )

    logged = {e["type"]: e for e in _events(emulator, message_id=sent["MessageId"])}
    assert logged["Send"]["published"] == []  # notification topics carry no Send events
    bounce = logged["Bounce"]["published"][0]
    delivery = logged["Delivery"]["published"][0]
    assert (bounce["channel"], bounce["identity"], bounce["topic_arn"]) == (
        "notification",
        "example.com",
        f"{TOPIC}-Bounce",
    )
    assert bounce["message"]["notificationType"] == "Bounce"
    assert "eventType" not in bounce["message"]
    assert bounce["message"]["mail"]["sourceIp"] == "127.0.0.1"
    assert "tags" not in bounce["message"]["mail"]
    assert bounce["message"]["mail"]["commonHeaders"]["subject"] == "n"
    assert "headers" not in delivery["message"]["mail"]
    assert "commonHeaders" not in delivery["message"]["mail"]


def test_an_address_identity_topic_overrides_its_domain_topic(
    emulator: EmulatorServer, ses: Any
) -> None:
    ses.verify_domain_identity(Domain="example.com")
    ses.verify_email_identity(EmailAddress="sender@example.com")
    ses.set_identity_notification_topic(
        Identity="example.com", NotificationType="Bounce", SnsTopic=f"{TOPIC}-domain"
    )
    ses.set_identity_notification_topic(
        Identity="sender@example.com", NotificationType="Bounce", SnsTopic=f"{TOPIC}-address"
    )

    sent = ses.send_email(
        Source="sender+tag@example.com",
        Destination={"ToAddresses": [f"bounce@{SIM}"]},
        Message={"Subject": {"Data": "n"}, "Body": {"Text": {"Data": "x"}}},
    )

    (bounce,) = _events(emulator, message_id=sent["MessageId"], type="Bounce")
    assert [p["topic_arn"] for p in bounce["published"]] == [f"{TOPIC}-address"]


def test_events_appear_on_the_message_record(emulator: EmulatorServer, sesv2_sender: Any) -> None:
    message_id = _send(sesv2_sender, [f"complaint@{SIM}"])

    record = requests.get(f"{emulator.endpoint_url}/_emulator/messages/{message_id}", timeout=5)

    assert [e["type"] for e in record.json()["events"]] == ["Send", "Delivery", "Complaint"]
    assert record.json()["events"] == _events(emulator, message_id=message_id)


def test_open_click_and_delivery_delay_happen_on_request(
    emulator: EmulatorServer, sesv2_sender: Any
) -> None:
    sesv2_sender.create_configuration_set(ConfigurationSetName="events")
    _destination(sesv2_sender, "engagement", ["OPEN", "CLICK", "DELIVERY_DELAY"])
    message_id = _send(sesv2_sender, ["reader@example.net"], ConfigurationSetName="events")
    url = f"{emulator.endpoint_url}/_emulator/messages/{message_id}/events"

    opened = requests.post(url, json={"type": "Open"}, timeout=5)
    clicked = requests.post(url, json={"type": "Click", "link": "https://example.com/a"}, timeout=5)
    delayed = requests.post(
        url, json={"type": "DeliveryDelay", "delay_type": "MailboxFull"}, timeout=5
    )

    assert [r.status_code for r in (opened, clicked, delayed)] == [201, 201, 201]
    assert opened.json()["detail"]["userAgent"]
    assert clicked.json()["detail"]["link"] == "https://example.com/a"
    assert delayed.json()["detail"]["delayType"] == "MailboxFull"
    assert delayed.json()["detail"]["delayedRecipients"][0]["emailAddress"] == "reader@example.net"
    click_payload = clicked.json()["published"][0]["message"]
    assert click_payload["eventType"] == "Click"
    assert click_payload["click"]["link"] == "https://example.com/a"
    types = [e["type"] for e in _events(emulator, message_id=message_id)]
    assert types == ["Send", "Delivery", "Open", "Click", "DeliveryDelay"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"type": "Explode"}, "type", "type: one of Open, Click, DeliveryDelay"),
        ({"type": "Click"}, "link", "link: a Click needs the link that was clicked"),
        ({"type": "Open", "link": "https://x"}, "link", "link: only a Click has a link"),
        ({"type": "Open", "recipients": ["x@y.z"]}, "recipients", "recipients: not recipients"),
        ({"type": "DeliveryDelay", "delay_type": "Slow"}, "delay_type", "delay_type: one of"),
        ({"type": "Open", "colour": "red"}, "colour", "colour: unknown key"),
    ],
)
def test_requested_events_are_validated(
    emulator: EmulatorServer, sesv2_sender: Any, body: dict[str, Any], field: str, message: str
) -> None:
    message_id = _send(sesv2_sender, ["reader@example.net"])

    response = requests.post(
        f"{emulator.endpoint_url}/_emulator/messages/{message_id}/events", json=body, timeout=5
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == field
    assert error["message"].startswith(message)


def test_requesting_an_event_for_an_unknown_message_is_404(emulator: EmulatorServer) -> None:
    response = requests.post(
        f"{emulator.endpoint_url}/_emulator/messages/nope/events", json={"type": "Open"}, timeout=5
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NotFound"


def test_the_event_log_filters_by_type_and_rejects_unknown_filters(
    emulator: EmulatorServer, sesv2_sender: Any
) -> None:
    _send(sesv2_sender, [f"bounce@{SIM}"])
    _send(sesv2_sender, [f"success@{SIM}"])

    assert [e["type"] for e in _events(emulator, type="Bounce")] == ["Bounce"]
    assert len(_events(emulator, type="Send")) == 2
    assert _events(emulator, account="111111111111") == []
    bad_type = requests.get(
        f"{emulator.endpoint_url}/_emulator/events", params={"type": "bounce"}, timeout=5
    )
    bad_param = requests.get(
        f"{emulator.endpoint_url}/_emulator/events", params={"kind": "x"}, timeout=5
    )
    assert (bad_type.status_code, bad_type.json()["error"]["field"]) == (400, "type")
    assert (bad_param.status_code, bad_param.json()["error"]["field"]) == (400, "kind")


def test_reset_and_delete_empty_the_event_log(emulator: EmulatorServer, sesv2_sender: Any) -> None:
    _send(sesv2_sender, [f"success@{SIM}"])
    assert len(_events(emulator)) == 2

    deleted = requests.delete(f"{emulator.endpoint_url}/_emulator/events", timeout=5)
    assert deleted.status_code == 204
    assert _events(emulator) == []

    sesv2_sender.create_email_identity(EmailIdentity="example.org")
    _send(sesv2_sender, [f"success@{SIM}"])
    reset = requests.post(f"{emulator.endpoint_url}/_emulator/reset", timeout=5)
    assert reset.status_code == 204
    assert _events(emulator) == []


def test_event_json_is_what_sns_would_carry(emulator: EmulatorServer, sesv2_sender: Any) -> None:
    sesv2_sender.create_configuration_set(ConfigurationSetName="events")
    _destination(sesv2_sender, "d", ["SEND"])

    message_id = _send(sesv2_sender, [f"success@{SIM}"], ConfigurationSetName="events")

    (send,) = _events(emulator, message_id=message_id, type="Send")
    payload = send["published"][0]["message"]
    assert payload == json.loads(json.dumps(payload))
    assert list(payload) == ["eventType", "mail", "send"]
    assert payload["send"] == {}


def test_the_ooto_transient_bounce_switch_adds_the_old_bounce() -> None:
    with EmulatorServer(ooto_transient_bounce=True) as em:
        sesv2 = _client(em.endpoint_url)
        sesv2.create_email_identity(EmailIdentity="example.com")

        message_id = _send(sesv2, [f"ooto@{SIM}"])

        logged = _events(em, message_id=message_id)
    assert [(e["type"], e["detail"].get("bounceType")) for e in logged] == [
        ("Send", None),
        ("Delivery", None),
        ("Bounce", "Transient"),
    ]
