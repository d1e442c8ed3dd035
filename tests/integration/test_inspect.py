"""Sent mail is visible through /_aws/ses (LocalStack's schema) and /_emulator/messages.

Real boto3 clients send every kind of message the emulator accepts; the tests then read them back
over HTTP and check recipients and rendered content. Filters, paging and deletion are checked on
records the test puts in the store itself, so their timestamps and tags are exactly known.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from email import message_from_bytes
from email.policy import default as default_policy
from typing import Any

import pytest

from emulator.client import EmulatorClient, EmulatorError, SentMessage
from emulator.server import EmulatorServer
from emulator.store import MessageRecord

SENDER = "sender@example.com"


def get_json(emulator: EmulatorServer, path: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(emulator.endpoint_url + path, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def delete(emulator: EmulatorServer, path: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(emulator.endpoint_url + path, method="DELETE")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


@pytest.fixture
def client(emulator: EmulatorServer) -> EmulatorClient:
    return EmulatorClient(emulator.endpoint_url)


@pytest.fixture
def verified(ses: Any) -> None:
    ses.verify_email_identity(EmailAddress=SENDER)


def aws_ses_record(emulator: EmulatorServer, message_id: str) -> dict[str, Any]:
    status, body = get_json(emulator, f"/_aws/ses?id={message_id}")
    assert status == 200
    [record] = body["messages"]
    return dict(record)


# ---------------------------------------------------------------- every kind of send


@pytest.mark.usefixtures("verified")
def test_simple_send_is_recorded_with_subject_body_and_all_recipients(
    emulator: EmulatorServer, client: EmulatorClient, ses: Any
) -> None:
    message_id = ses.send_email(
        Source=f"Shop <{SENDER}>",
        Destination={
            "ToAddresses": ["Ada <ada@example.com>"],
            "CcAddresses": ["cc@example.com"],
            "BccAddresses": ["bcc@example.com"],
        },
        Message={
            "Subject": {"Data": "Your order"},
            "Body": {"Text": {"Data": "It shipped."}, "Html": {"Data": "<b>It shipped.</b>"}},
        },
    )["MessageId"]

    record = aws_ses_record(emulator, message_id)
    assert record["Source"] == f"Shop <{SENDER}>"
    assert record["Region"] == "us-east-1"
    assert record["Destination"] == {
        "ToAddresses": ["Ada <ada@example.com>"],
        "CcAddresses": ["cc@example.com"],
        "BccAddresses": ["bcc@example.com"],
    }
    assert record["Subject"] == "Your order"
    assert record["Body"]["text_part"].strip() == "It shipped."
    assert record["Body"]["html_part"].strip() == "<b>It shipped.</b>"

    message = client.message(message_id)
    assert (message.api, message.operation, message.kind) == ("v1", "SendEmail", "simple")
    assert sorted(message.recipients) == ["ada@example.com", "bcc@example.com", "cc@example.com"]
    assert message.envelope_from == SENDER
    assert message.subject == "Your order"
    assert (message.text or "").strip() == "It shipped."
    assert message.header("Bcc") is None  # Bcc never travels in the headers
    assert message.outcomes == {
        "ada@example.com": "delivered",
        "cc@example.com": "delivered",
        "bcc@example.com": "delivered",
    }


@pytest.mark.usefixtures("verified")
def test_raw_send_with_bcc_only_in_the_envelope(
    emulator: EmulatorServer, client: EmulatorClient, ses: Any
) -> None:
    raw = (
        f"From: {SENDER}\r\nTo: to@example.com\r\nSubject: Raw hello\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nRaw body\r\n"
    ).encode()
    message_id = ses.send_raw_email(
        RawMessage={"Data": raw}, Destinations=["to@example.com", "hidden@example.com"]
    )["MessageId"]

    record = aws_ses_record(emulator, message_id)
    assert "Raw body" in record["RawData"]
    assert "hidden@example.com" not in record["RawData"]
    assert record["Destination"]["ToAddresses"] == ["to@example.com"]
    assert "hidden@example.com" in record["Destination"]["BccAddresses"]
    assert "Subject" not in record

    message = client.message(message_id)
    assert message.kind == "raw"
    assert sorted(message.recipients) == ["hidden@example.com", "to@example.com"]
    assert message.subject == "Raw hello"
    assert "hidden@example.com" in message.destination.bcc
    assert client.messages(recipient="hidden@example.com")[0].id == message_id


@pytest.mark.usefixtures("verified")
def test_templated_send_records_template_data_and_rendered_content(
    emulator: EmulatorServer, client: EmulatorClient, ses: Any
) -> None:
    ses.create_template(
        Template={
            "TemplateName": "welcome",
            "SubjectPart": "Welcome, {{name}}",
            "TextPart": "Hello {{name}}, your plan is {{plan}}.",
        }
    )
    data = json.dumps({"name": "Ada", "plan": "pro"})
    message_id = ses.send_templated_email(
        Source=SENDER,
        Destination={"ToAddresses": ["ada@example.com"]},
        Template="welcome",
        TemplateData=data,
    )["MessageId"]

    record = aws_ses_record(emulator, message_id)
    assert (record["Template"], record["TemplateData"]) == ("welcome", data)
    assert record["Subject"] == "Welcome, Ada"
    assert record["Body"]["text_part"].strip() == "Hello Ada, your plan is pro."

    message = client.message(message_id)
    assert (message.kind, message.template) == ("template", "welcome")
    assert message.template_values() == {"name": "Ada", "plan": "pro"}
    assert message.subject == "Welcome, Ada"


@pytest.mark.usefixtures("verified")
def test_v1_bulk_send_records_one_message_per_destination_with_its_own_data(
    emulator: EmulatorServer, client: EmulatorClient, ses: Any
) -> None:
    ses.create_template(
        Template={
            "TemplateName": "digest",
            "SubjectPart": "{{count}} news for {{name}}",
            "TextPart": "Hi {{name}}",
        }
    )
    result = ses.send_bulk_templated_email(
        Source=SENDER,
        Template="digest",
        DefaultTemplateData=json.dumps({"name": "friend", "count": 3}),
        Destinations=[
            {
                "Destination": {"ToAddresses": ["ada@example.com"]},
                "ReplacementTemplateData": json.dumps({"name": "Ada"}),
            },
            {"Destination": {"ToAddresses": ["bob@example.com"]}},
        ],
    )
    ids = [status["MessageId"] for status in result["Status"]]
    assert [status["Status"] for status in result["Status"]] == ["Success", "Success"]

    subjects = {aws_ses_record(emulator, i)["Subject"] for i in ids}
    assert subjects == {"3 news for Ada", "3 news for friend"}
    ada = aws_ses_record(emulator, ids[0])
    assert ada["Template"] == "digest"
    assert json.loads(ada["TemplateData"]) == {"name": "Ada", "count": 3}
    assert ada["Destination"]["ToAddresses"] == ["ada@example.com"]

    messages = client.messages(operation="SendBulkTemplatedEmail")
    assert sorted(m.id for m in messages) == sorted(ids)
    assert len({m.bulk_id for m in messages}) == 1
    assert messages[0].bulk_id is not None
    [bob] = client.messages(recipient="bob@example.com")
    assert (bob.recipients, (bob.text or "").strip()) == (("bob@example.com",), "Hi friend")


@pytest.mark.usefixtures("verified")
def test_v2_bulk_send_records_each_entry(
    emulator: EmulatorServer, client: EmulatorClient, sesv2: Any
) -> None:
    sesv2.create_email_template(
        TemplateName="promo",
        TemplateContent={"Subject": "Deal for {{name}}", "Text": "{{name}}: {{deal}}"},
    )
    result = sesv2.send_bulk_email(
        FromEmailAddress=SENDER,
        DefaultContent={
            "Template": {
                "TemplateName": "promo",
                "TemplateData": json.dumps({"name": "you", "deal": "10%"}),
            }
        },
        BulkEmailEntries=[
            {
                "Destination": {"ToAddresses": ["ada@example.com"]},
                "ReplacementEmailContent": {
                    "ReplacementTemplate": {"ReplacementTemplateData": json.dumps({"name": "Ada"})}
                },
            },
            {"Destination": {"ToAddresses": ["bob@example.com"]}},
        ],
    )
    ids = [entry["MessageId"] for entry in result["BulkEmailEntryResults"]]
    records = {aws_ses_record(emulator, i)["Subject"]: i for i in ids}
    assert sorted(records) == ["Deal for Ada", "Deal for you"]
    ada = client.message(records["Deal for Ada"])
    assert (ada.api, ada.operation, ada.template) == ("v2", "SendBulkEmail", "promo")
    assert (ada.text or "").strip() == "Ada: 10%"


@pytest.mark.usefixtures("verified")
def test_v2_simple_send_with_attachment_tags_and_configuration_set(
    emulator: EmulatorServer, client: EmulatorClient, sesv2: Any
) -> None:
    sesv2.create_configuration_set(ConfigurationSetName="marketing")
    message_id = sesv2.send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": ["ada@example.com"]},
        ReplyToAddresses=["help@example.com"],
        ConfigurationSetName="marketing",
        EmailTags=[{"Name": "campaign", "Value": "spring"}],
        Content={
            "Simple": {
                "Subject": {"Data": "Invoice"},
                "Body": {"Text": {"Data": "Attached."}},
                "Attachments": [
                    {
                        "RawContent": b"%PDF-1.4 fake",
                        "FileName": "invoice.pdf",
                        "ContentType": "application/pdf",
                    }
                ],
            }
        },
    )["MessageId"]

    [message] = client.messages(tag="campaign:spring")
    assert message.id == message_id
    assert message.configuration_set == "marketing"
    assert message.reply_to == ("help@example.com",)
    assert message.tag_map["campaign"] == "spring"
    [attachment] = message.attachments
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "invoice.pdf",
        "application/pdf",
        13,
    )
    record = aws_ses_record(emulator, message_id)
    assert record["Body"]["text_part"].strip() == "Attached."


@pytest.mark.usefixtures("verified")
def test_raw_endpoint_serves_the_eml(client: EmulatorClient, sesv2: Any) -> None:
    message_id = sesv2.send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": ["ada@example.com"]},
        Content={"Simple": {"Subject": {"Data": "Eml"}, "Body": {"Text": {"Data": "x"}}}},
    )["MessageId"]
    url = f"{client.endpoint_url}/_emulator/messages/{message_id}/raw"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.headers["Content-Type"] == "message/rfc822"
        eml = response.read()
    assert eml == client.raw(message_id)
    parsed = message_from_bytes(eml, policy=default_policy)
    assert parsed["Subject"] == "Eml"
    assert message_id in str(parsed["Message-ID"])
    assert client.message(message_id, include_raw=True).raw == eml


@pytest.mark.usefixtures("verified")
def test_summary_view_is_the_full_record_without_bodies_and_headers(
    emulator: EmulatorServer, sesv2: Any
) -> None:
    sesv2.send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": ["ada@example.com"]},
        Content={
            "Simple": {
                "Subject": {"Data": "Report"},
                "Body": {"Text": {"Data": "See attached."}, "Html": {"Data": "<p>See</p>"}},
                "Attachments": [{"RawContent": b"a,b\n1,2\n", "FileName": "r.csv"}],
            }
        },
    )
    status, full = get_json(emulator, "/_emulator/messages")
    assert status == 200
    for _ in range(2):  # the second read comes from the per-message caches
        status, summary = get_json(emulator, "/_emulator/messages?view=summary")
        assert status == 200
        [record] = summary["messages"]
        [expected] = full["messages"]
        assert {"text", "html", "headers"} & set(expected) == {"text", "html", "headers"}
        assert record == {
            key: value for key, value in expected.items() if key not in {"text", "html", "headers"}
        }
        assert [a["filename"] for a in record["attachments"]] == ["r.csv"]
        assert [e["type"] for e in record["events"]] == ["Send", "Delivery"]
    assert get_json(emulator, "/_emulator/messages?view=full")[1] == full


@pytest.mark.parametrize(
    ("query", "field", "text"),
    [
        ("view=brief", "view", "view: 'full' (the default) or 'summary' (got 'brief')"),
        ("view=summary&include=raw", "include", "include: 'raw' needs the full view"),
    ],
)
def test_summary_view_refuses_what_it_cannot_show(
    emulator: EmulatorServer, query: str, field: str, text: str
) -> None:
    status, body = get_json(emulator, f"/_emulator/messages?{query}")
    assert status == 400
    assert body["error"]["field"] == field
    assert body["error"]["message"].startswith(text)


# ---------------------------------------------------------------- filters, paging, deletion


def _record(n: int, **overrides: Any) -> MessageRecord:
    fields: dict[str, Any] = {
        "id": f"m{n}",
        "account": "000000000000",
        "region": "us-east-1",
        "api": "v2",
        "operation": "SendEmail",
        "kind": "simple",
        "timestamp": 1_700_000_000.0 + n,
        "source": SENDER,
        "envelope_from": SENDER,
        "to": (f"user{n}@example.com",),
        "recipients": (f"user{n}@example.com",),
        "subject": f"Message {n}",
        "raw": f"Subject: Message {n}\r\n\r\nbody {n}\r\n".encode(),
    }
    fields.update(overrides)
    return MessageRecord(**fields)


@pytest.fixture
def stored(emulator: EmulatorServer) -> list[MessageRecord]:
    records = [
        _record(0, tags=(("campaign", "spring"),)),
        _record(
            1,
            subject="Password reset",
            source="Other <other@example.com>",
            envelope_from="other@example.com",
        ),
        _record(2, region="eu-west-1", operation="SendBulkEmail", tags=(("campaign", "autumn"),)),
        _record(3, account="123456789012"),
        _record(
            4,
            cc=("Carol <carol@example.com>",),
            recipients=("user4@example.com", "carol@example.com"),
        ),
    ]
    for record in records:
        emulator.backend.store.add(record)
    return records


def _ids(messages: list[SentMessage]) -> list[str]:
    return [m.id for m in messages]


@pytest.mark.usefixtures("stored")
def test_messages_are_newest_first_and_filter_by_each_field(client: EmulatorClient) -> None:
    assert _ids(client.messages()) == ["m4", "m3", "m2", "m1", "m0"]
    assert _ids(client.messages(recipient="CAROL@example.com")) == ["m4"]
    assert _ids(client.messages(sender="other@example.com")) == ["m1"]
    assert _ids(client.messages(subject="password")) == ["m1"]
    assert _ids(client.messages(tag="campaign")) == ["m2", "m0"]
    assert _ids(client.messages(tag="campaign:spring")) == ["m0"]
    assert _ids(client.messages(since=1_700_000_003)) == ["m4", "m3"]
    assert _ids(client.messages(since="2023-11-14T22:13:23Z")) == ["m4", "m3"]
    assert _ids(client.messages(account="123456789012")) == ["m3"]
    assert _ids(client.messages(region="eu-west-1")) == ["m2"]
    assert _ids(client.messages(operation="SendBulkEmail")) == ["m2"]
    assert _ids(client.messages(region="us-east-1", tag="campaign")) == ["m0"]


@pytest.mark.usefixtures("stored")
def test_paging_with_limit_next_token_and_offset(
    emulator: EmulatorServer, client: EmulatorClient
) -> None:
    status, body = get_json(emulator, "/_emulator/messages?limit=2")
    assert status == 200
    assert ([m["id"] for m in body["messages"]], body["count"], body["total"]) == (
        ["m4", "m3"],
        2,
        5,
    )
    page = client.messages_page(limit=2, next_token=body["next_token"])
    assert [m.id for m in page.messages] == ["m2", "m1"]
    last = client.messages_page(limit=2, next_token=page.next_token)
    assert ([m.id for m in last.messages], last.next_token) == (["m0"], None)
    assert [m.id for m in client.messages_page(limit=2, offset=3).messages] == ["m1", "m0"]


@pytest.mark.usefixtures("stored")
def test_one_message_by_id_and_404_json_when_absent(
    emulator: EmulatorServer, client: EmulatorClient
) -> None:
    assert client.message("m1").subject == "Password reset"
    status, body = get_json(emulator, "/_emulator/messages/nope")
    assert (status, body["error"]["code"], body["error"]["field"]) == (404, "NotFound", "id")
    with pytest.raises(EmulatorError) as exc:
        client.raw("nope")
    assert exc.value.status == 404


@pytest.mark.usefixtures("stored")
def test_delete_messages_by_filter_or_all(emulator: EmulatorServer, client: EmulatorClient) -> None:
    status, headers, body = delete(emulator, "/_emulator/messages?tag=campaign")
    assert (status, headers["X-Deleted-Count"], body) == (204, "2", b"")
    assert _ids(client.messages()) == ["m4", "m3", "m1"]
    assert client.delete_messages(account="123456789012") == 1
    assert client.delete_messages() == 2
    assert client.messages() == []


@pytest.mark.usefixtures("stored")
def test_aws_ses_filters_by_id_and_source_and_deletes(
    emulator: EmulatorServer, client: EmulatorClient
) -> None:
    assert [m["Id"] for m in client.aws_ses()] == ["m0", "m1", "m2", "m3", "m4"]
    assert [m["Id"] for m in client.aws_ses(message_id="m2")] == ["m2"]
    assert [m["Id"] for m in client.aws_ses(email="Other <other@example.com>")] == ["m1"]
    assert [m["Id"] for m in client.aws_ses(email="other@example.com")] == ["m1"]
    assert client.aws_ses(message_id="m1", email=SENDER) == []
    # Like LocalStack, unknown parameters (a viewer's cache-buster, say) are ignored.
    status, body = get_json(emulator, "/_aws/ses?_=1700000000")
    assert (status, len(body["messages"])) == (200, 5)

    status, _, body = delete(emulator, "/_aws/ses?id=m1")
    assert (status, body) == (204, b"")
    assert "m1" not in [m["Id"] for m in client.aws_ses()]
    client.delete_aws_ses()
    assert client.aws_ses() == []


@pytest.mark.usefixtures("stored")
def test_aws_ses_record_shape_for_a_stored_simple_send(client: EmulatorClient) -> None:
    [record] = client.aws_ses(message_id="m4")
    assert record == {
        "Id": "m4",
        "Region": "us-east-1",
        "Timestamp": "2023-11-14T22:13:24",
        "Source": SENDER,
        "Destination": {
            "ToAddresses": ["user4@example.com"],
            "CcAddresses": ["Carol <carol@example.com>"],
            "BccAddresses": [],
        },
        "Subject": "Message 4",
        "Body": {"text_part": "body 4\r\n", "html_part": None},
    }


@pytest.mark.usefixtures("verified")
async def test_send_through_aiobotocore_is_recorded(
    emulator: EmulatorServer, client: EmulatorClient
) -> None:
    from aiobotocore.session import get_session
    from botocore.config import Config

    session = get_session()
    async with session.create_client(
        "sesv2",
        endpoint_url=emulator.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1}),
    ) as sesv2:
        response = await sesv2.send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["async@example.com"]},
            Content={"Simple": {"Subject": {"Data": "Async"}, "Body": {"Text": {"Data": "ok"}}}},
        )
    [message] = client.messages(recipient="async@example.com")
    assert (message.id, message.api, message.subject) == (response["MessageId"], "v2", "Async")


@pytest.mark.usefixtures("verified")
def test_a_template_that_fails_to_render_is_listed_with_its_error(
    emulator: EmulatorServer, client: EmulatorClient, ses: Any
) -> None:
    ses.create_template(
        Template={"TemplateName": "strict", "SubjectPart": "Hi {{name}}", "TextPart": "x"}
    )
    # SES accepts the call (200 + MessageId) and drops the message when rendering fails.
    message_id = ses.send_templated_email(
        Source=SENDER,
        Destination={"ToAddresses": ["ada@example.com"]},
        Template="strict",
        TemplateData="{}",
    )["MessageId"]

    message = client.message(message_id)
    assert message.status == "rendering_failure"
    assert message.rendering_error
    assert "name" in message.rendering_error
    assert aws_ses_record(emulator, message_id)["Template"] == "strict"
