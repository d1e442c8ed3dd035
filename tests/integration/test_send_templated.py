"""Templated sends: v1 SendTemplatedEmail, v2 SendEmail Content.Template (name, ARN, inline)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.server import EmulatorServer
from emulator.store import parse_parts

SENDER = "sender@example.com"


# Many short tests: one ses and one sesv2 client serve the whole module (conftest).
pytestmark = pytest.mark.shared_clients


@pytest.fixture(autouse=True)
def setup(ses: Any) -> None:
    ses.verify_email_identity(EmailAddress=SENDER)
    ses.create_template(
        Template={
            "TemplateName": "welcome",
            "SubjectPart": "Welcome {{name}}",
            "TextPart": "Hello {{name}}",
            "HtmlPart": "<p>Hello {{name}}</p>",
        }
    )


def test_v1_templated_send_records_rendered_content(emulator: EmulatorServer, ses: Any) -> None:
    response = ses.send_templated_email(
        Source=SENDER,
        Destination={"ToAddresses": ["a@example.net"]},
        Template="welcome",
        TemplateData='{"name": "Ana"}',
    )
    record = emulator.backend.store.get(response["MessageId"])
    assert record is not None
    assert (record.kind, record.template, record.template_data) == (
        "template",
        "welcome",
        '{"name": "Ana"}',
    )
    assert record.subject == "Welcome Ana"
    parts = parse_parts(record.raw)
    assert parts.text == "Hello Ana\r\n"
    assert parts.html == "<p>Hello Ana</p>\r\n"
    assert record.status == "accepted"


def test_v2_template_by_name_arn_and_inline(emulator: EmulatorServer, sesv2: Any) -> None:
    subjects = []
    for template in (
        {"TemplateName": "welcome", "TemplateData": '{"name": "N"}'},
        {
            "TemplateArn": "arn:aws:ses:us-east-1:000000000000:template/welcome",
            "TemplateData": '{"name": "A"}',
        },
        {"TemplateContent": {"Subject": "Inline {{x}}", "Text": "t"}, "TemplateData": '{"x": "I"}'},
    ):
        response = sesv2.send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["a@example.net"]},
            Content={"Template": template},
        )
        record = emulator.backend.store.get(response["MessageId"])
        assert record is not None
        subjects.append((record.template, record.subject))
    assert subjects == [
        ("welcome", "Welcome N"),
        ("welcome", "Welcome A"),
        ("<inline>", "Inline I"),
    ]


def test_missing_template_v1_and_v2(ses: Any, sesv2: Any) -> None:
    with pytest.raises(ClientError) as v1:
        ses.send_templated_email(
            Source=SENDER,
            Destination={"ToAddresses": ["a@example.net"]},
            Template="T1",
            TemplateData="{}",
        )
    assert v1.value.response["Error"] == {
        "Type": "Sender",
        "Code": "TemplateDoesNotExist",
        "Message": "Template T1 does not exist.",
    }
    assert isinstance(v1.value, ses.exceptions.TemplateDoesNotExistException)
    with pytest.raises(ClientError) as v2:
        sesv2.send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["a@example.net"]},
            Content={"Template": {"TemplateName": "T1", "TemplateData": "{}"}},
        )
    assert isinstance(v2.value, sesv2.exceptions.NotFoundException)
    assert v2.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


@pytest.mark.parametrize("data", ['{"other": 1}', "not json", "[1]"])
def test_rendering_failure_is_accepted_and_recorded(
    emulator: EmulatorServer, ses: Any, data: str
) -> None:
    response = ses.send_templated_email(
        Source=SENDER,
        Destination={"ToAddresses": ["a@example.net"]},
        Template="welcome",
        TemplateData=data,
    )
    record = emulator.backend.store.get(response["MessageId"])
    assert record is not None
    assert record.status == "rendering_failure"
    assert record.rendering_error
    assert ses.get_send_quota()["SentLast24Hours"] == 1.0


def test_v2_template_must_name_exactly_one_source(sesv2: Any) -> None:
    with pytest.raises(ClientError) as err:
        sesv2.send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["a@example.net"]},
            Content={"Template": {"TemplateName": "welcome", "TemplateContent": {"Subject": "x"}}},
        )
    assert err.value.response["Error"]["Code"] == "BadRequestException"
    assert err.value.response["Error"]["Message"] == (
        "Template must specify exactly one of TemplateName, TemplateArn or TemplateContent."
    )
