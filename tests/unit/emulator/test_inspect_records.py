"""Message records as the control API and the LocalStack-compatible route show them."""

from __future__ import annotations

import json
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from emulator import inspect as inspect_module
from emulator.client import SentMessage
from emulator.config import Settings
from emulator.inspect import localstack_json, message_json, settings_json
from emulator.store import MessageParts, MessageRecord, parse_parts


def _mime(*, subject: str, text: str | None, html: str | None, attach: bool = False) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Sender <sender@example.com>"
    msg["To"] = "to@example.com"
    msg["Subject"] = subject
    if text is not None:
        msg.set_content(text)
    if html is not None:
        if text is None:
            msg.set_content(html, subtype="html")
        else:
            msg.add_alternative(html, subtype="html")
    if attach:
        msg.add_attachment(b"%PDF-1.4 x", maintype="application", subtype="pdf", filename="a.pdf")
    return msg.as_bytes(policy=SMTP)


def _record(**overrides: object) -> MessageRecord:
    fields: dict[str, object] = {
        "id": "0100018c-1",
        "account": "000000000000",
        "region": "us-east-1",
        "api": "v2",
        "operation": "SendEmail",
        "kind": "simple",
        "timestamp": 1_700_000_000.25,
        "source": "Sender <sender@example.com>",
        "envelope_from": "sender@example.com",
        "to": ("To Person <to@example.com>",),
        "cc": ("cc@example.com",),
        "bcc": ("bcc@example.com",),
        "recipients": ("to@example.com", "cc@example.com", "bcc@example.com"),
        "subject": "Hello",
        "raw": _mime(subject="Hello", text="plain body", html="<p>html body</p>", attach=True),
        "tags": (("campaign", "spring"),),
    }
    fields.update(overrides)
    return MessageRecord(**fields)  # type: ignore[arg-type]  # test factory: keys checked at run time


def test_localstack_simple_send_has_subject_body_and_destination_object() -> None:
    out = localstack_json(_record())
    assert out == {
        "Id": "0100018c-1",
        "Region": "us-east-1",
        "Timestamp": "2023-11-14T22:13:20",
        "Source": "Sender <sender@example.com>",
        "Destination": {
            "ToAddresses": ["To Person <to@example.com>"],
            "CcAddresses": ["cc@example.com"],
            "BccAddresses": ["bcc@example.com"],
        },
        "Subject": "Hello",
        "Body": {"text_part": "plain body\r\n", "html_part": "<p>html body</p>\r\n"},
    }


def test_localstack_raw_send_keeps_raw_data_and_envelope_only_bcc() -> None:
    raw = _mime(subject="Raw", text="hi", html=None)
    record = _record(
        kind="raw",
        operation="SendRawEmail",
        to=("to@example.com",),
        cc=(),
        bcc=(),
        recipients=("to@example.com", "hidden@example.com"),
        raw=raw,
    )
    out = localstack_json(record)
    assert out["RawData"] == raw.decode()
    assert out["Destination"] == {
        "ToAddresses": ["to@example.com"],
        "CcAddresses": [],
        "BccAddresses": ["hidden@example.com"],
    }
    assert "Subject" not in out
    assert "Body" not in out


def test_localstack_templated_send_has_template_data_and_rendered_body() -> None:
    record = _record(
        kind="template",
        operation="SendBulkTemplatedEmail",
        template="welcome",
        template_data='{"name": "Ada"}',
        subject="Hi Ada",
        raw=_mime(subject="Hi Ada", text="Hello Ada", html=None),
        bulk_id="bulk-1",
    )
    out = localstack_json(record)
    assert out["Template"] == "welcome"
    assert out["TemplateData"] == '{"name": "Ada"}'
    assert out["Subject"] == "Hi Ada"
    assert out["Body"] == {"text_part": "Hello Ada\r\n", "html_part": None}


def test_message_json_exposes_rendered_parts_headers_attachments_and_raw_link() -> None:
    out = message_json(_record())
    assert out["text"] == "plain body\r\n"
    assert out["html"] == "<p>html body</p>\r\n"
    assert {"name": "Subject", "value": "Hello"} in out["headers"]
    assert out["attachments"] == [
        {
            "filename": "a.pdf",
            "content_type": "application/pdf",
            "size": 10,
            "content_id": None,
            "disposition": "attachment",
        }
    ]
    assert out["raw_url"] == "/_emulator/messages/0100018c-1/raw"
    assert out["timestamp"] == 1_700_000_000.25
    assert out["timestamp_iso"] == "2023-11-14T22:13:20.250Z"
    assert out["destination"] == {
        "to": ["To Person <to@example.com>"],
        "cc": ["cc@example.com"],
        "bcc": ["bcc@example.com"],
    }
    assert out["tags"] == [{"name": "campaign", "value": "spring"}]
    assert "raw" not in out


def test_message_json_inlines_raw_as_text_or_base64() -> None:
    utf8 = message_json(_record(raw=b"Subject: x\r\n\r\nbody\r\n"), include_raw=True)
    assert (utf8["raw"], utf8["raw_encoding"]) == ("Subject: x\r\n\r\nbody\r\n", "utf-8")
    binary = message_json(_record(raw=b"Subject: x\r\n\r\n\xff\r\n"), include_raw=True)
    assert (binary["raw"], binary["raw_encoding"]) == ("U3ViamVjdDogeA0KDQr/DQo=", "base64")


def test_message_json_survives_json_and_parses_back_into_the_typed_record() -> None:
    record = _record(
        events=({"type": "Delivery", "recipients": ["to@example.com"]},),
        outcomes={"to@example.com": "delivered"},
        raw=_mime(subject="Hello", text="body", html=None) + b"\xff",
    )
    data = json.loads(json.dumps(message_json(record, include_raw=True)))
    message = SentMessage.from_json(data)
    assert message.id == record.id
    assert message.raw == record.raw
    assert message.destination.bcc == ("bcc@example.com",)
    assert message.header("subject") == "Hello"
    assert message.tag_map == {"campaign": "spring"}
    assert message.outcomes == {"to@example.com": "delivered"}
    assert message.events == ({"type": "Delivery", "recipients": ["to@example.com"]},)
    assert message.sent_at.isoformat() == "2023-11-14T22:13:20.250000+00:00"


def test_sent_message_rejects_an_unknown_kind() -> None:
    data = message_json(_record())
    data["kind"] = "carrier-pigeon"
    with pytest.raises(ValueError, match="kind: 'simple', 'raw' or 'template'"):
        SentMessage.from_json(data)


def test_settings_json_masks_secrets_and_lists_tuples() -> None:
    settings = Settings(
        credentials=(("AKIDEXAMPLE", "very-secret"),),
        control_token="token-123",
        verified_identities=("a@example.com",),
    )
    out = settings_json(settings)
    assert out["credentials"] == [{"access_key_id": "AKIDEXAMPLE", "secret_access_key": "***"}]
    assert out["control_token"] == "***"
    assert out["verified_identities"] == ["a@example.com"]
    assert "very-secret" not in json.dumps(out)
    assert out["profile_values"] == {"sandbox": False, "max_send_rate": -1.0, "max_24h_send": -1.0}


def test_parts_cache_parses_each_message_once_and_stays_within_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: list[bytes] = []
    real_parse = parse_parts

    def counting_parse(raw: bytes) -> MessageParts:
        parsed.append(raw)
        return real_parse(raw)

    monkeypatch.setattr(inspect_module, "parse_parts", counting_parse)
    cache = inspect_module._PartsCache(budget_bytes=8_000)
    small = [b"Subject: %d\r\n\r\n" % n + b"x" * 100 for n in range(3)]
    for raw in small + small:
        assert cache.parts(raw).headers == [("Subject", raw[9:10].decode())]
    assert parsed == small  # the second round came from the cache

    big = b"Subject: big\r\n\r\n" + b"x" * 2_000  # over an eighth of the budget: not kept
    cache.parts(big)
    cache.parts(big)
    assert parsed[-2:] == [big, big]

    many = [b"Subject: m\r\n\r\n" + bytes([65 + n % 26]) * 400 + b"%d" % n for n in range(20)]
    for raw in many:
        cache.parts(raw)
    parsed.clear()
    cache.parts(many[-1])  # recent: still cached
    cache.parts(many[0])  # oldest: evicted to stay within 8,000 bytes
    assert parsed == [many[0]]
