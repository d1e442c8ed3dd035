"""Raw sends (v1 SendRawEmail, v2 SendEmail Content.Raw): envelope, headers, raw rules."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.server import EmulatorServer
from tests.integration.client_errors import error_of

SENDER = "sender@example.com"
NOT_VERIFIED = (
    "Email address is not verified. The following identities failed the check in region US-EAST-1: "
)


# Many short tests: one ses and one sesv2 client serve the whole module (conftest).
pytestmark = pytest.mark.shared_clients


@pytest.fixture(autouse=True)
def verified_sender(ses: Any) -> None:
    ses.verify_email_identity(EmailAddress=SENDER)


def mail(*headers: str, body: str = "hello") -> bytes:
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode()


def test_bcc_only_in_the_envelope_is_delivered_but_not_shown(
    emulator: EmulatorServer, ses: Any
) -> None:
    data = mail(f"From: {SENDER}", "To: a@example.net", "Subject: hi")
    response = ses.send_raw_email(
        Source=SENDER,
        Destinations=["a@example.net", "secret@example.net"],
        RawMessage={"Data": data},
    )
    record = emulator.backend.store.get(response["MessageId"])
    assert record is not None
    assert record.recipients == ("a@example.net", "secret@example.net")
    assert record.to == ("a@example.net",)
    assert b"secret@example.net" not in record.raw
    assert record.raw.endswith(b"\r\n\r\nhello")
    assert f"Message-ID: <{response['MessageId']}@email.amazonses.com>".encode() in record.raw


def test_without_destinations_recipients_come_from_headers(
    emulator: EmulatorServer, sesv2: Any
) -> None:
    data = mail(
        f"From: {SENDER}",
        "To: list: a@example.net, B <b@example.net>;",
        "Cc: c@example.net",
        "Bcc: d@example.net",
    )
    response = sesv2.send_email(Content={"Raw": {"Data": data}})
    record = emulator.backend.store.get(response["MessageId"])
    assert record is not None
    assert record.recipients == ("a@example.net", "b@example.net", "c@example.net", "d@example.net")
    assert record.envelope_from == SENDER


def test_raw_missing_to_header(ses: Any, sesv2: Any) -> None:
    data = mail(f"From: {SENDER}", "Subject: none")
    with pytest.raises(ClientError) as v1:
        ses.send_raw_email(RawMessage={"Data": data})
    assert error_of(v1) == ("InvalidParameterValue", 400, "Missing required header 'To'.")
    with pytest.raises(ClientError) as v2:
        sesv2.send_email(Content={"Raw": {"Data": data}})
    assert error_of(v2) == ("BadRequestException", 400, "Missing required header 'To'.")


def test_raw_duplicate_single_occurrence_header(ses: Any) -> None:
    data = mail(f"From: {SENDER}", "To: a@example.net", "Message-ID: <1@x>", "Message-ID: <2@x>")
    with pytest.raises(ClientError) as err:
        ses.send_raw_email(RawMessage={"Data": data})
    assert error_of(err) == ("InvalidParameterValue", 400, "Duplicate header 'Message-ID'.")


def test_raw_header_section_too_long(ses: Any) -> None:
    pad = [f"X-Pad-{i}: {'p' * 900}" for i in range(1200)]
    data = mail(f"From: {SENDER}", "To: a@example.net", *pad)
    with pytest.raises(ClientError) as err:
        ses.send_raw_email(RawMessage={"Data": data})
    assert error_of(err) == ("InvalidParameterValue", 400, "Header section too long.")


def test_raw_over_10_mib_is_refused_v1_but_not_v2(ses: Any, sesv2: Any) -> None:
    data = mail(f"From: {SENDER}", "To: a@example.net", body="x" * 10_485_760)
    with pytest.raises(ClientError) as err:
        ses.send_raw_email(RawMessage={"Data": data})
    assert error_of(err) == (
        "InvalidParameterValue",
        400,
        f"Message length is more than 10485760 bytes long: '{len(data)}'.",
    )
    assert sesv2.send_email(Content={"Raw": {"Data": data}})["MessageId"]


def test_source_wins_but_from_header_must_be_verified_too(ses: Any) -> None:
    data = mail("From: Boss <boss@elsewhere.example>", "To: a@example.net")
    with pytest.raises(ClientError) as err:
        ses.send_raw_email(Source=SENDER, RawMessage={"Data": data})
    assert error_of(err) == ("MessageRejected", 400, NOT_VERIFIED + "Boss <boss@elsewhere.example>")


def test_ses_headers_are_honoured_and_stripped(emulator: EmulatorServer, ses: Any) -> None:
    ses.create_configuration_set(ConfigurationSet={"Name": "tracking"})
    data = mail(
        f"From: {SENDER}",
        "To: a@example.net",
        "X-SES-CONFIGURATION-SET: tracking",
        "X-SES-MESSAGE-TAGS: team=ops, run=7",
    )
    response = ses.send_raw_email(RawMessage={"Data": data})
    record = emulator.backend.store.get(response["MessageId"])
    assert record is not None
    assert record.configuration_set == "tracking"
    assert record.tags == (("team", "ops"), ("run", "7"))
    assert b"X-SES-" not in record.raw


def test_ses_configuration_set_header_naming_a_missing_set_fails(ses: Any) -> None:
    data = mail(f"From: {SENDER}", "To: a@example.net", "X-SES-CONFIGURATION-SET: ghost")
    with pytest.raises(ClientError) as err:
        ses.send_raw_email(RawMessage={"Data": data})
    assert error_of(err) == (
        "ConfigurationSetDoesNotExist",
        400,
        "Configuration set <ghost> does not exist.",
    )
