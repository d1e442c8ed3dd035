"""Bulk sends: v1 SendBulkTemplatedEmail and v2 SendBulkEmail, per-destination data and statuses."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.server import EmulatorServer
from emulator.ses import account
from emulator.store import parse_parts

SENDER = "sender@example.com"


# Many short tests: one ses and one sesv2 client serve the whole module (conftest).
pytestmark = pytest.mark.shared_clients


@pytest.fixture(autouse=True)
def setup(ses: Any) -> None:
    ses.verify_email_identity(EmailAddress=SENDER)
    ses.create_template(
        Template={
            "TemplateName": "T",
            "SubjectPart": "Hi {{name}}",
            "TextPart": "{{name}} from {{town}}",
        }
    )


def test_v1_bulk_renders_each_destination_with_merged_data(
    emulator: EmulatorServer, ses: Any
) -> None:
    response = ses.send_bulk_templated_email(
        Source=SENDER,
        Template="T",
        DefaultTemplateData='{"name": "friend", "town": "Oslo"}',
        DefaultTags=[{"Name": "kind", "Value": "bulk"}],
        Destinations=[
            {
                "Destination": {"ToAddresses": ["a@example.net"], "CcAddresses": ["c@example.net"]},
                "ReplacementTemplateData": '{"name": "Ana"}',
                "ReplacementTags": [{"Name": "who", "Value": "ana"}],
            },
            {"Destination": {"ToAddresses": ["b@example.net"]}},
        ],
    )
    statuses = response["Status"]
    assert [s["Status"] for s in statuses] == ["Success", "Success"]
    first = emulator.backend.store.get(statuses[0]["MessageId"])
    second = emulator.backend.store.get(statuses[1]["MessageId"])
    assert first is not None
    assert second is not None
    assert first.recipients == ("a@example.net", "c@example.net")
    assert (first.subject, second.subject) == ("Hi Ana", "Hi friend")
    assert parse_parts(first.raw).text == "Ana from Oslo\r\n"
    assert first.tags == (("kind", "bulk"), ("who", "ana"))
    assert first.bulk_id == second.bulk_id
    assert first.operation == "SendBulkTemplatedEmail"


def test_v2_bulk_with_replacement_data_headers_and_tags(
    emulator: EmulatorServer, sesv2: Any
) -> None:
    response = sesv2.send_bulk_email(
        FromEmailAddress=SENDER,
        DefaultContent={
            "Template": {
                "TemplateName": "T",
                "TemplateData": '{"name": "friend", "town": "Rome"}',
                "Headers": [{"Name": "X-List", "Value": "news"}],
            }
        },
        DefaultEmailTags=[{"Name": "kind", "Value": "bulk"}],
        BulkEmailEntries=[
            {
                "Destination": {"ToAddresses": ["a@example.net"]},
                "ReplacementEmailContent": {
                    "ReplacementTemplate": {"ReplacementTemplateData": '{"name": "Bo"}'}
                },
                "ReplacementHeaders": [{"Name": "X-List", "Value": "vip"}],
                "ReplacementTags": [{"Name": "kind", "Value": "vip"}],
            },
            {"Destination": {"ToAddresses": ["b@example.net"]}},
        ],
    )
    results = response["BulkEmailEntryResults"]
    assert [r["Status"] for r in results] == ["SUCCESS", "SUCCESS"]
    first = emulator.backend.store.get(results[0]["MessageId"])
    second = emulator.backend.store.get(results[1]["MessageId"])
    assert first is not None
    assert second is not None
    assert (first.subject, second.subject) == ("Hi Bo", "Hi friend")
    assert dict(parse_parts(first.raw).headers)["X-List"] == "vip"
    assert dict(parse_parts(second.raw).headers)["X-List"] == "news"
    assert (first.tags, second.tags) == ((("kind", "vip"),), (("kind", "bulk"),))


def test_bulk_missing_template_fails_the_call(ses: Any, sesv2: Any) -> None:
    with pytest.raises(ClientError) as v1:
        ses.send_bulk_templated_email(
            Source=SENDER,
            Template="nope",
            DefaultTemplateData="{}",
            Destinations=[{"Destination": {"ToAddresses": ["a@example.net"]}}],
        )
    assert v1.value.response["Error"]["Code"] == "TemplateDoesNotExist"
    assert v1.value.response["Error"]["Message"] == "Template nope does not exist."
    with pytest.raises(ClientError) as v2:
        sesv2.send_bulk_email(
            FromEmailAddress=SENDER,
            DefaultContent={"Template": {"TemplateName": "nope", "TemplateData": "{}"}},
            BulkEmailEntries=[{"Destination": {"ToAddresses": ["a@example.net"]}}],
        )
    assert v2.value.response["Error"]["Code"] == "NotFoundException"


def test_bulk_more_than_50_destinations_or_recipients(ses: Any) -> None:
    too_many = [{"Destination": {"ToAddresses": [f"r{i}@example.net"]}} for i in range(51)]
    with pytest.raises(ClientError) as entries:
        ses.send_bulk_templated_email(
            Source=SENDER, Template="T", DefaultTemplateData="{}", Destinations=too_many
        )
    assert entries.value.response["Error"]["Message"] == "Number of destinations (51) exceeds 50."
    crowded = [{"Destination": {"ToAddresses": [f"r{i}@example.net" for i in range(51)]}}]
    with pytest.raises(ClientError) as recipients:
        ses.send_bulk_templated_email(
            Source=SENDER, Template="T", DefaultTemplateData="{}", Destinations=crowded
        )
    assert recipients.value.response["Error"]["Message"] == "Recipient count exceeds 50."


def test_bulk_sandbox_rejects_only_the_unverified_destination(
    emulator: EmulatorServer, ses: Any, sesv2: Any
) -> None:
    state = emulator.backend.account()
    account.apply_settings(
        state, {"sandbox": True, "max_send_rate": -1}, now=emulator.backend.clock.now()
    )
    ses.verify_email_identity(EmailAddress="ok@example.net")
    destinations = [
        {"Destination": {"ToAddresses": ["ok@example.net"]}},
        {"Destination": {"ToAddresses": ["Stranger <stranger@example.net>"]}},
        {"Destination": {"ToAddresses": ["success@simulator.amazonses.com"]}},
    ]
    response = ses.send_bulk_templated_email(
        Source=SENDER,
        Template="T",
        DefaultTemplateData='{"name": "n", "town": "t"}',
        Destinations=destinations,
    )
    statuses = response["Status"]
    assert [s["Status"] for s in statuses] == ["Success", "MessageRejected", "Success"]
    assert statuses[1]["Error"] == (
        "Email address is not verified. The following identities failed the check in region "
        "US-EAST-1: Stranger <stranger@example.net>"
    )
    assert "MessageId" not in statuses[1]
    v2 = sesv2.send_bulk_email(
        FromEmailAddress=SENDER,
        DefaultContent={
            "Template": {"TemplateName": "T", "TemplateData": '{"name": "n", "town": "t"}'}
        },
        BulkEmailEntries=destinations,
    )
    assert [r["Status"] for r in v2["BulkEmailEntryResults"]] == [
        "SUCCESS",
        "MESSAGE_REJECTED",
        "SUCCESS",
    ]
