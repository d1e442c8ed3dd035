"""v1/v2 builders: payloads botocore accepts, only the keys asked for, clear refusals."""

from __future__ import annotations

import functools
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator
from hypothesis import given, settings
from hypothesis import strategies as st

from seskit import (
    Attachment,
    BulkEntry,
    Email,
    HeaderError,
    RecipientError,
    SizeError,
    Template,
    TemplateDataError,
    UnsupportedFeatureError,
    ValidationError,
    _payload,
    mime,
    v1,
    v2,
)
from tests.unit.seskit import strategies
from tests.unit.seskit.expect import invalid


@functools.cache
def _input_shape(service: str, operation: str) -> Any:
    model = botocore.session.get_session().get_service_model(service)
    return model.operation_model(operation).input_shape


def assert_valid(service: str, operation: str, payload: object) -> None:
    report = ParamValidator().validate(payload, _input_shape(service, operation))
    assert not report.has_errors(), report.generate_report()


SIMPLE = Email(sender="s@example.com", to="a@example.com", subject="Hi", text="Hello")


def without_content(email: Email) -> Email:
    return Email(
        sender=email.sender,
        to=email.to,
        cc=email.cc,
        bcc=email.bcc,
        reply_to=email.reply_to,
        tags=email.tags,
        configuration_set=email.configuration_set,
        return_path=email.return_path,
    )


@settings(max_examples=60, deadline=None)
@given(strategies.emails())
def test_every_v1_payload_passes_botocore_validation(email: Email) -> None:
    if not email.attachments and not email.headers:
        assert_valid("ses", "SendEmail", v1.send_email(email))
    assert_valid("ses", "SendRawEmail", v1.send_raw_email(email))
    templated = without_content(email)
    assert_valid("ses", "SendTemplatedEmail", v1.send_templated_email(templated, "T1", {"a": 1}))


@settings(max_examples=60, deadline=None)
@given(strategies.emails())
def test_every_v2_payload_passes_botocore_validation(email: Email) -> None:
    assert_valid("sesv2", "SendEmail", v2.send_email(email))
    assert_valid("sesv2", "SendEmail", v2.send_email(email, raw=True))
    templated = Email(
        sender=email.sender,
        to=email.to,
        cc=email.cc,
        bcc=email.bcc,
        headers=email.headers,
        attachments=email.attachments,
        tags=email.tags,
    )
    inline = Template.inline(subject="Hi {{n}}", text="t {{n}}")
    assert_valid(
        "sesv2", "SendEmail", v2.send_email(templated, template=inline, template_data={"n": 1})
    )
    assert_valid("sesv2", "SendEmail", v2.send_email(templated, template="T1"))


@settings(max_examples=40, deadline=None)
@given(st.lists(strategies.bulk_entries, min_size=1, max_size=120), strategies.tags)
def test_bulk_payloads_pass_botocore_validation_in_batches_of_50(
    entries: list[BulkEntry], tags: list[Any]
) -> None:
    v1_payloads = v1.send_bulk_templated_email_batches(
        sender="s@example.com", template="T1", entries=entries, default_tags=tags
    )
    v2_payloads = v2.send_bulk_email_batches(
        sender="s@example.com", template="T1", entries=entries, default_data={"x": 1}
    )
    expected = [min(50, len(entries) - start) for start in range(0, len(entries), 50)]
    assert [len(p["Destinations"]) for p in v1_payloads] == expected
    assert [len(p["BulkEmailEntries"]) for p in v2_payloads] == expected
    for payload in v1_payloads:
        assert_valid("ses", "SendBulkTemplatedEmail", payload)
    for v2_payload in v2_payloads:
        assert_valid("sesv2", "SendBulkEmail", v2_payload)


def test_v1_send_email_emits_only_what_was_asked() -> None:
    assert v1.send_email(SIMPLE) == {
        "Source": "s@example.com",
        "Destination": {"ToAddresses": ["a@example.com"]},
        "Message": {"Subject": {"Data": "Hi"}, "Body": {"Text": {"Data": "Hello"}}},
    }


def test_v1_send_email_full_payload() -> None:
    email = Email(
        sender="Shöp <shop@example.com>",
        to=["a@example.com", "B <b@example.com>"],
        bcc="c@example.com",
        reply_to="r@example.com",
        subject="Grüße",
        text="t",
        html="<b>h</b>",
        tags={"campaign": "x"},
        configuration_set="cs",
        return_path="bounce@example.com",
    )
    assert v1.send_email(email) == {
        "Source": "=?utf-8?b?U2jDtnA=?= <shop@example.com>",
        "Destination": {
            "ToAddresses": ["a@example.com", "B <b@example.com>"],
            "BccAddresses": ["c@example.com"],
        },
        "Message": {
            "Subject": {"Data": "Grüße", "Charset": "UTF-8"},
            "Body": {"Text": {"Data": "t"}, "Html": {"Data": "<b>h</b>"}},
        },
        "ReplyToAddresses": ["r@example.com"],
        "ReturnPath": "bounce@example.com",
        "Tags": [{"Name": "campaign", "Value": "x"}],
        "ConfigurationSetName": "cs",
    }
    assert v1.send_email(email, configuration_set="other")["ConfigurationSetName"] == "other"


def test_v2_send_email_simple_payload_with_headers_and_attachments() -> None:
    pdf = Attachment(filename="r.pdf", content=b"%PDF")
    logo = Attachment(
        filename="l.png", content=b"png", inline=True, content_id="logo", description="Logo"
    )
    email = Email(
        sender="s@example.com",
        to="a@example.com",
        subject="Hi",
        html='<img src="cid:logo">',
        headers={"List-Unsubscribe": "<https://x.example/u>"},
        attachments=[pdf, logo],
        return_path="fb@example.com",
    )
    assert v2.send_email(email) == {
        "FromEmailAddress": "s@example.com",
        "Destination": {"ToAddresses": ["a@example.com"]},
        "Content": {
            "Simple": {
                "Subject": {"Data": "Hi"},
                "Body": {"Html": {"Data": '<img src="cid:logo">'}},
                "Headers": [{"Name": "List-Unsubscribe", "Value": "<https://x.example/u>"}],
                "Attachments": [
                    {"RawContent": b"%PDF", "FileName": "r.pdf", "ContentType": "application/pdf"},
                    {
                        "RawContent": b"png",
                        "FileName": "l.png",
                        "ContentType": "image/png",
                        "ContentDisposition": "INLINE",
                        "ContentId": "logo",
                        "ContentDescription": "Logo",
                    },
                ],
            }
        },
        "FeedbackForwardingEmailAddress": "fb@example.com",
    }


def test_v2_templates_stored_and_inline() -> None:
    email = Email(sender="s@example.com", to="a@example.com", tags={"k": "v"})
    assert v2.send_email(email, template="T1", template_data='{"a":1}')["Content"] == {
        "Template": {"TemplateName": "T1", "TemplateData": '{"a":1}'}
    }
    inline = Template.inline(subject="S {{a}}", html="<p>{{a}}</p>")
    assert v2.send_email(email, template=inline)["Content"] == {
        "Template": {"TemplateContent": {"Subject": "S {{a}}", "Html": "<p>{{a}}</p>"}}
    }


def test_v1_raw_payload_carries_the_envelope_and_mime() -> None:
    email = Email(
        sender="s@example.com",
        to="a@example.com",
        bcc="hidden@example.com",
        subject="Hi",
        text="Hello",
        return_path="rp@example.com",
        tags={"k": "v"},
    )
    payload = v1.send_raw_email(email)
    assert payload["Destinations"] == ["a@example.com", "hidden@example.com"]
    assert payload["Tags"] == [{"Name": "k", "Value": "v"}]
    assert set(payload) == {"RawMessage", "Destinations", "Tags"}
    data = payload["RawMessage"]["Data"]
    assert isinstance(data, bytes)
    assert b"hidden@example.com" not in data
    assert b"Return-Path: <rp@example.com>\r\n" in data
    v2_payload = v2.send_email(email, raw=True)
    assert v2_payload["Destination"] == {
        "ToAddresses": ["a@example.com"],
        "BccAddresses": ["hidden@example.com"],
    }
    assert v2_payload["FeedbackForwardingEmailAddress"] == "rp@example.com"
    v2_data = v2_payload["Content"]["Raw"]["Data"]
    assert isinstance(v2_data, bytes)
    assert b"Return-Path" not in v2_data


def test_unsupported_features_name_the_builder_that_can() -> None:
    with_attachment = Email(
        sender="s@example.com",
        to="a@example.com",
        subject="s",
        text="t",
        attachments=[Attachment(filename="a.txt", content=b"")],
    )
    with pytest.raises(UnsupportedFeatureError) as caught:
        v1.send_email(with_attachment)
    assert (caught.value.field, caught.value.rule) == ("attachments", "unsupported-feature")
    assert str(caught.value) == (
        "attachments: v1.send_email cannot send attachments; use v1.send_raw_email or v2.send_email"
    )
    with invalid(UnsupportedFeatureError, "headers", "unsupported-feature"):
        v1.send_email(
            Email(
                sender="s@example.com",
                to="a@example.com",
                subject="s",
                text="t",
                headers={"X-A": "1"},
            )
        )
    with invalid(UnsupportedFeatureError, "template", "unsupported-feature"):
        v1.send_templated_email(
            Email(sender="s@example.com", to="a@example.com"),
            Template.inline(subject="s", text="t"),
        )
    with invalid(UnsupportedFeatureError, "subject", "unsupported-feature"):
        v1.send_templated_email(SIMPLE, "T1")
    with invalid(UnsupportedFeatureError, "text", "unsupported-feature"):
        v2.send_email(Email(sender="s@example.com", to="a@example.com", text="t"), template="T1")
    with invalid(UnsupportedFeatureError, "entries[1].headers", "unsupported-feature"):
        v1.send_bulk_templated_email(
            sender="s@example.com",
            template="T1",
            entries=[
                BulkEntry(to="a@example.com"),
                BulkEntry(to="b@example.com", headers={"X-A": "1"}),
            ],
        )
    with invalid(UnsupportedFeatureError, "template", "unsupported-feature"):
        v2.send_email(SIMPLE, raw=True, template="T1")
    with invalid(UnsupportedFeatureError, "template_data", "unsupported-feature"):
        v2.send_email(SIMPLE, template_data={})


def test_simple_sends_need_subject_and_body() -> None:
    no_content = Email(sender="s@example.com", to="a@example.com")
    with invalid(ValidationError, "subject", "missing-subject"):
        v1.send_email(no_content)
    with invalid(ValidationError, "text", "missing-body"):
        v2.send_email(Email(sender="s@example.com", to="a@example.com", subject="s"))


def test_v2_allows_at_most_15_headers() -> None:
    email = Email(
        sender="s@example.com",
        to="a@example.com",
        subject="s",
        text="t",
        headers=[(f"X-{i}", "v") for i in range(16)],
    )
    with invalid(HeaderError, "headers", "header-count"):
        v2.send_email(email)
    raw = v1.send_raw_email(email)["RawMessage"]["Data"]
    assert isinstance(raw, bytes)
    assert raw.count(b"\r\nX-") == 16  # raw MIME has no such limit


def test_bulk_entry_count_and_template_data_are_checked() -> None:
    entries = [BulkEntry(to=f"u{i}@example.com") for i in range(51)]
    with invalid(RecipientError, "entries", "max-bulk-entries"):
        v1.send_bulk_templated_email(sender="s@example.com", template="T1", entries=entries)
    with invalid(RecipientError, "entries", "min-bulk-entries"):
        v2.send_bulk_email(sender="s@example.com", template="T1", entries=[])
    with invalid(TemplateDataError, "default_data", "template-data-json"):
        v2.send_bulk_email(
            sender="s@example.com", template="T1", entries=entries[:1], default_data="1"
        )
    with invalid(TemplateDataError, "data", "template-data-length"):
        v1.send_templated_email(
            Email(sender="s@example.com", to="a@example.com"), "T1", {"x": "y" * 262_140}
        )
    with invalid(ValidationError, "template", "template-name"):
        v1.send_templated_email(Email(sender="s@example.com", to="a@example.com"), "no such/name")


def test_bulk_payload_shapes() -> None:
    entries = [
        BulkEntry(
            to="a@example.com", replacement_data={"n": 1}, tags={"t": "1"}, headers={"X-N": "1"}
        ),
        BulkEntry(to="b@example.com", cc="c@example.com"),
    ]
    assert v2.send_bulk_email(
        sender="s@example.com",
        template="T1",
        entries=entries,
        default_data={},
        configuration_set="cs",
    ) == {
        "FromEmailAddress": "s@example.com",
        "DefaultContent": {"Template": {"TemplateName": "T1", "TemplateData": "{}"}},
        "BulkEmailEntries": [
            {
                "Destination": {"ToAddresses": ["a@example.com"]},
                "ReplacementTags": [{"Name": "t", "Value": "1"}],
                "ReplacementEmailContent": {
                    "ReplacementTemplate": {"ReplacementTemplateData": '{"n":1}'}
                },
                "ReplacementHeaders": [{"Name": "X-N", "Value": "1"}],
            },
            {"Destination": {"ToAddresses": ["b@example.com"], "CcAddresses": ["c@example.com"]}},
        ],
        "ConfigurationSetName": "cs",
    }
    assert v1.send_bulk_templated_email(
        sender="s@example.com",
        template=Template.stored("T1"),
        entries=entries[1:],
        default_tags={"d": "1"},
    ) == {
        "Source": "s@example.com",
        "Template": "T1",
        "DefaultTemplateData": "{}",
        "Destinations": [
            {"Destination": {"ToAddresses": ["b@example.com"], "CcAddresses": ["c@example.com"]}}
        ],
        "DefaultTags": [{"Name": "d", "Value": "1"}],
    }


def _bound_holds(email: Email) -> None:
    assert _payload.simple_size_bound(email) >= mime.encoded_size(email)


@settings(max_examples=60, deadline=None)
@given(strategies.emails(simple=False))
def test_simple_size_bound_is_never_below_the_exact_size(email: Email) -> None:
    _bound_holds(email)


@pytest.mark.parametrize(
    "subject",
    ["😀" * 20_000, "中" * 20_000, "é" * 20_000, "a😀 " * 5_000, " ".join(["x" * 77] * 500)],
)
def test_simple_size_bound_holds_for_the_costliest_subjects_and_reply_tos(subject: str) -> None:
    reply_to = [f"Zoë Ångström Øster <reply{i}@example.com>" for i in range(200)]
    _bound_holds(
        Email(sender="s@example.com", to="a@example.com", subject=subject, text="😀\n" * 10_000)
    )
    _bound_holds(
        Email(sender="s@example.com", to="a@example.com", reply_to=reply_to, subject="s", html="h")
    )


def test_simple_size_shortcut_still_rejects_what_is_too_big() -> None:
    # Just over the character shortcut: the exact size decides, and it is under the limit.
    text = "a" * (_payload.SIMPLE_CHARS_V1 + 1)
    assert v1.send_email(Email(sender="s@example.com", to="a@example.com", subject="s", text=text))
    too_big = Email(sender="s@example.com", to="a@example.com", subject="s", text="😀" * 2_000_000)
    with invalid(SizeError, "email", "max-message-bytes"):
        v1.send_email(too_big)
    v2.send_email(too_big)  # 40 MB in v2
    with invalid(SizeError, "email", "max-message-bytes"):
        v2.send_email(
            Email(sender="s@example.com", to="a@example.com", subject="s", html="😀" * 8_000_000)
        )


def test_simple_size_shortcut_counts_reply_to_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    exact_sizes: list[int] = []

    def encoded_size(email: Email) -> int:
        exact_sizes.append(size := mime.plan(email).size)
        return size

    monkeypatch.setattr(mime, "encoded_size", encoded_size)
    text = "😀" * (_payload.SIMPLE_CHARS_V1 - 10)  # under the character shortcut on its own
    alone = Email(sender="s@example.com", to="a@example.com", subject="s", text=text)
    v1.send_email(alone)
    assert exact_sizes == []
    replies = [f"{'r' * 60}{i}@{'d' * 60}.example.com" for i in range(50)]
    v1.send_email(
        Email(sender="s@example.com", to="a@example.com", reply_to=replies, subject="s", text=text)
    )
    assert len(exact_sizes) == 1  # the bound no longer clears it, so the exact size was taken
    assert exact_sizes[0] < 10_485_760
