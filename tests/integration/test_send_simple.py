"""Simple sends (v1 SendEmail, v2 SendEmail Content.Simple) through real boto3 clients."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.server import EmulatorServer
from emulator.store import parse_parts
from tests.integration.client_errors import error_of

SENDER = "sender@example.com"
NOT_VERIFIED = (
    "Email address is not verified. The following identities failed the check in region US-EAST-1: "
)
NAME_RULE = "only alphanumeric ASCII characters, '_',  '-' are allowed."
VALUE_RULE = "only alphanumeric ASCII characters, '_',  '-' , '.', '@' are allowed."
MESSAGE_ID = re.compile(r"0100[0-9a-f]{12}-[0-9a-f-]{36}-000000")


# Many short tests: one ses and one sesv2 client serve the whole module (conftest).
pytestmark = pytest.mark.shared_clients


@pytest.fixture(autouse=True)
def verified_sender(ses: Any) -> None:
    ses.verify_email_identity(EmailAddress=SENDER)


def test_v1_send_email_is_recorded_with_envelope_and_content(
    emulator: EmulatorServer, ses: Any
) -> None:
    response = ses.send_email(
        Source=f"Sender <{SENDER}>",
        Destination={
            "ToAddresses": ["A <a@example.net>"],
            "CcAddresses": [],
            "BccAddresses": ["hidden@example.net"],
        },
        Message={
            "Subject": {"Data": "Grüße", "Charset": "UTF-8"},
            "Body": {"Text": {"Data": "plain"}, "Html": {"Data": "<b>rich</b>"}},
        },
        ReplyToAddresses=["reply@example.net"],
        Tags=[{"Name": "campaign", "Value": "launch.v1@x"}],
    )
    message_id = response["MessageId"]
    assert MESSAGE_ID.fullmatch(message_id)
    record = emulator.backend.store.get(message_id)
    assert record is not None
    assert (record.api, record.operation, record.kind) == ("v1", "SendEmail", "simple")
    assert record.recipients == ("a@example.net", "hidden@example.net")
    assert record.bcc == ("hidden@example.net",)
    assert record.subject == "Grüße"
    assert record.tags == (("campaign", "launch.v1@x"),)
    parts = parse_parts(record.raw)
    headers = dict(parts.headers)
    assert headers["Message-ID"] == f"<{message_id}@email.amazonses.com>"
    assert headers["Reply-To"] == "reply@example.net"
    assert "Bcc" not in headers
    assert parts.text == "plain\r\n"
    assert parts.html == "<b>rich</b>\r\n"


def test_v2_simple_send_with_headers_and_attachment(emulator: EmulatorServer, sesv2: Any) -> None:
    response = sesv2.send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": ["a@example.net"]},
        Content={
            "Simple": {
                "Subject": {"Data": "Report"},
                "Body": {"Text": {"Data": "see attached"}},
                "Headers": [{"Name": "X-Campaign", "Value": "q3"}],
                "Attachments": [
                    {"FileName": "r.csv", "RawContent": b"a,b\n1,2\n", "ContentType": "text/csv"}
                ],
            }
        },
    )
    record = emulator.backend.store.get(response["MessageId"])
    assert record is not None
    parts = parse_parts(record.raw)
    assert dict(parts.headers)["X-Campaign"] == "q3"
    (attachment,) = parts.attachments
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "r.csv",
        "text/csv",
        8,
    )


def test_more_than_50_recipients_across_to_cc_bcc_is_refused(ses: Any, sesv2: Any) -> None:
    addresses = [f"r{i}@example.net" for i in range(51)]
    destination = {
        "ToAddresses": addresses[:20],
        "CcAddresses": addresses[20:40],
        "BccAddresses": addresses[40:],
    }
    with pytest.raises(ClientError) as v1:
        ses.send_email(
            Source=SENDER,
            Destination=destination,
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}},
        )
    assert error_of(v1) == ("InvalidParameterValue", 400, "Recipient count exceeds 50.")
    with pytest.raises(ClientError) as v2:
        sesv2.send_email(
            FromEmailAddress=SENDER,
            Destination=destination,
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}},
        )
    assert error_of(v2) == ("BadRequestException", 400, "Recipient count exceeds 50.")


def test_exactly_50_recipients_are_accepted(ses: Any) -> None:
    addresses = [f"r{i}@example.net" for i in range(50)]
    ses.send_email(
        Source=SENDER,
        Destination={"ToAddresses": addresses},
        Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}},
    )


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("no-at-sign", "Missing final '@domain'"),
        ("user@", "Missing domain"),
        ("@example.net", "Missing local name"),
        ("us er@example.net", "Local address contains control or whitespace"),
        ("user@exa mple.net", "Domain contains control or whitespace"),
        ("user@exa_mple.net", "Domain contains illegal character"),
    ],
)
def test_bad_recipient_address_rejects_the_call(
    ses: Any, sesv2: Any, address: str, message: str
) -> None:
    with pytest.raises(ClientError) as v1:
        ses.send_email(
            Source=SENDER,
            Destination={"ToAddresses": ["ok@example.net", address]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}},
        )
    assert error_of(v1) == ("InvalidParameterValue", 400, message)
    with pytest.raises(ClientError) as v2:
        sesv2.send_email(
            FromEmailAddress=SENDER,
            Destination={"CcAddresses": [address]},
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}},
        )
    assert error_of(v2) == ("BadRequestException", 400, message)


def test_empty_v1_lists_are_no_recipients(ses: Any) -> None:
    with pytest.raises(ClientError) as err:
        ses.send_email(
            Source=SENDER,
            Destination={"ToAddresses": [], "CcAddresses": []},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}},
        )
    assert error_of(err) == ("InvalidParameterValue", 400, "Missing required header 'To'.")


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        (
            {"Name": "bad name", "Value": "v"},
            "Invalid tag name <bad name>: " + NAME_RULE,
        ),
        (
            {"Name": "n", "Value": "a:b"},
            "Invalid tag value <a:b>: " + VALUE_RULE,
        ),
        ({"Name": "n" * 256, "Value": "v"}, "Tag name cannot exceed 255 characters."),
        ({"Name": "n", "Value": "v" * 256}, "Tag value cannot exceed 255 characters."),
        (
            {"Name": "ses:source-ip", "Value": "v"},
            "Invalid tag name <ses:source-ip>: " + NAME_RULE,
        ),
    ],
)
def test_tag_errors_come_before_identity_checks(
    ses: Any, sesv2: Any, tag: dict[str, str], message: str
) -> None:
    unverified = "stranger@elsewhere.example"
    with pytest.raises(ClientError) as v1:
        ses.send_email(
            Source=unverified,
            Destination={"ToAddresses": ["a@example.net"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}},
            Tags=[tag],
        )
    assert error_of(v1) == ("InvalidParameterValue", 400, message)
    with pytest.raises(ClientError) as v2:
        sesv2.send_email(
            FromEmailAddress=unverified,
            Destination={"ToAddresses": ["a@example.net"]},
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}},
            EmailTags=[tag],
        )
    assert error_of(v2) == ("BadRequestException", 400, message)


def test_v1_message_over_10_mib_is_refused_with_its_length(ses: Any) -> None:
    with pytest.raises(ClientError) as err:
        ses.send_email(
            Source=SENDER,
            Destination={"ToAddresses": ["a@example.net"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "x" * 10_500_000}}},
        )
    message = err.value.response["Error"]["Message"]
    match = re.fullmatch(r"Message length is more than 10485760 bytes long: '(\d+)'\.", message)
    assert match is not None
    assert int(match.group(1)) > 10_500_000
    assert err.value.response["Error"]["Code"] == "InvalidParameterValue"


def test_unverified_sender_is_rejected_outside_the_sandbox(ses: Any, sesv2: Any) -> None:
    text = NOT_VERIFIED + "Who <who@elsewhere.example>"
    with pytest.raises(ClientError) as v1:
        ses.send_email(
            Source="Who <who@elsewhere.example>",
            Destination={"ToAddresses": ["a@example.net"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}},
        )
    assert error_of(v1) == ("MessageRejected", 400, text)
    with pytest.raises(ClientError) as v2:
        sesv2.send_email(
            FromEmailAddress="Who <who@elsewhere.example>",
            Destination={"ToAddresses": ["a@example.net"]},
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}},
        )
    assert error_of(v2) == ("MessageRejected", 400, text)


def test_verified_domain_and_plus_label_cover_the_sender(ses: Any) -> None:
    ses.verify_domain_identity(Domain="corp.example")
    for source in ("x@mail.corp.example", "sender+news@example.com"):
        ses.send_email(
            Source=source,
            Destination={"ToAddresses": ["a@example.net"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}},
        )


def test_v1_return_path_must_be_verified(ses: Any) -> None:
    with pytest.raises(ClientError) as err:
        ses.send_email(
            Source=SENDER,
            ReturnPath="bounces@elsewhere.example",
            Destination={"ToAddresses": ["a@example.net"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}},
        )
    assert error_of(err) == ("MessageRejected", 400, NOT_VERIFIED + "bounces@elsewhere.example")


def test_account_sending_paused(ses: Any, sesv2: Any) -> None:
    ses.update_account_sending_enabled(Enabled=False)
    with pytest.raises(ClientError) as v1:
        ses.send_email(
            Source=SENDER,
            Destination={"ToAddresses": ["a@example.net"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}},
        )
    assert error_of(v1) == (
        "AccountSendingPausedException",
        400,
        "Sending is paused for this account.",
    )
    with pytest.raises(ClientError) as v2:
        sesv2.send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["a@example.net"]},
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}},
        )
    assert error_of(v2) == ("SendingPausedException", 400, "Sending is paused for this account.")


def test_configuration_set_missing_and_paused(ses: Any, sesv2: Any) -> None:
    message = {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}
    with pytest.raises(ClientError) as v1:
        ses.send_email(
            Source=SENDER,
            Destination={"ToAddresses": ["a@example.net"]},
            Message=message,
            ConfigurationSetName="nope",
        )
    assert error_of(v1) == (
        "ConfigurationSetDoesNotExist",
        400,
        "Configuration set <nope> does not exist.",
    )
    with pytest.raises(ClientError) as v2:
        sesv2.send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["a@example.net"]},
            Content={"Simple": message},
            ConfigurationSetName="nope",
        )
    assert v2.value.response["Error"]["Code"] == "NotFoundException"
    assert v2.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    ses.create_configuration_set(ConfigurationSet={"Name": "cs"})
    ses.update_configuration_set_sending_enabled(ConfigurationSetName="cs", Enabled=False)
    with pytest.raises(ClientError) as paused1:
        ses.send_email(
            Source=SENDER,
            Destination={"ToAddresses": ["a@example.net"]},
            Message=message,
            ConfigurationSetName="cs",
        )
    assert error_of(paused1) == (
        "ConfigurationSetSendingPausedException",
        400,
        "Sending is paused for configuration set cs.",
    )
    with pytest.raises(ClientError) as paused2:
        sesv2.send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["a@example.net"]},
            Content={"Simple": message},
            ConfigurationSetName="cs",
        )
    assert error_of(paused2) == (
        "SendingPausedException",
        400,
        "Sending is paused for configuration set cs.",
    )


def test_v2_content_must_hold_exactly_one_kind(sesv2: Any) -> None:
    with pytest.raises(ClientError) as err:
        sesv2.send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["a@example.net"]},
            Content={
                "Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}},
                "Raw": {"Data": b"From: x@y.z\r\n\r\nb"},
            },
        )
    assert error_of(err) == (
        "BadRequestException",
        400,
        "Content must contain exactly one of Simple, Raw or Template.",
    )


def test_v2_simple_send_needs_a_from_address(sesv2: Any) -> None:
    with pytest.raises(ClientError) as err:
        sesv2.send_email(
            Destination={"ToAddresses": ["a@example.net"]},
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}},
        )
    assert error_of(err) == (
        "BadRequestException",
        400,
        "Missing required parameter FromEmailAddress.",
    )


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            {"Name": "X-" + "n" * 100, "Value": "v" * 900},
            f"Header 'X-{'n' * 100}' is too long: a header's name and value together must be "
            "996 characters or fewer.",
        ),
        ({"Name": "Subject", "Value": "again"}, "Duplicate header 'Subject'."),
    ],
)
def test_v2_custom_header_rules(sesv2: Any, header: dict[str, str], message: str) -> None:
    with pytest.raises(ClientError) as err:
        sesv2.send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["a@example.net"]},
            Content={
                "Simple": {
                    "Subject": {"Data": "s"},
                    "Body": {"Text": {"Data": "t"}},
                    "Headers": [header],
                }
            },
        )
    assert error_of(err) == ("BadRequestException", 400, message)


def test_more_than_50_tags_on_one_message_are_refused(ses: Any) -> None:
    with pytest.raises(ClientError) as err:
        ses.send_email(
            Source=SENDER,
            Destination={"ToAddresses": ["a@example.net"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}},
            Tags=[{"Name": f"t{i}", "Value": "v"} for i in range(51)],
        )
    assert error_of(err) == ("InvalidParameterValue", 400, "Too many message tags: 51; at most 50.")
