"""The value types validate on construction and normalise plain inputs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from seskit import (
    Address,
    AddressError,
    Attachment,
    AttachmentError,
    BulkEntry,
    Email,
    Header,
    HeaderError,
    RecipientError,
    Tag,
    TagError,
    Template,
    TemplateDataError,
    ValidationError,
)
from tests.unit.seskit.expect import invalid


def test_address_parse_accepts_bare_and_display_name_forms() -> None:
    assert Address.parse("a@example.com") == Address(email="a@example.com")
    parsed = Address.parse("  Ana Lima <ana@example.com> ")
    assert (parsed.email, parsed.name, parsed.formatted) == (
        "ana@example.com",
        "Ana Lima",
        "Ana Lima <ana@example.com>",
    )
    quoted = Address.parse('"Lima, Ana \\"AL\\"" <ana@example.com>')
    assert quoted.name == 'Lima, Ana "AL"'
    assert quoted.formatted == '"Lima, Ana \\"AL\\"" <ana@example.com>'
    assert Address.parse("<ana@example.com>").formatted == "ana@example.com"


def test_address_encodes_non_ascii_display_name_per_rfc2047() -> None:
    address = Address(email="zoe@example.com", name="Zoë")
    assert address.formatted == "=?utf-8?q?Zo=C3=AB?= <zoe@example.com>"
    assert str(address) == address.formatted
    assert Address.parse(address.formatted).name == "Zoë"


def test_address_converts_unicode_domain_to_punycode() -> None:
    assert Address.parse("info@bücher.example").email == "info@xn--bcher-kva.example"
    # IDNA 2008 keeps ß (IDNA 2003 would send this to strasse.de, another domain).
    assert Address.parse("info@straße.de").email == "info@xn--strae-oqa.de"
    with invalid(AddressError, "address", "address-charset"):
        Address.parse("info@x☃.com")


def test_without_the_idna_package_the_stdlib_codec_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from seskit import rules

    monkeypatch.setattr(rules, "_idna_encode", None)
    assert rules.normalize_addr_spec("info@straße.de", field="to") == "info@strasse.de"


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("no-at-sign", "address-syntax"),
        ("@example.com", "address-syntax"),
        ("a@", "address-syntax"),
        ("jö@example.com", "address-charset"),
        ("a b@example.com", "address-syntax"),
        (".a@example.com", "address-syntax"),
        ("a..b@example.com", "address-syntax"),
        ("a(b@example.com", "address-syntax"),
        ("a@exa mple.com", "address-syntax"),
        ("a@example..com", "address-syntax"),
        ("a@exa!mple.com", "address-syntax"),
        (f"a@{'x' * 64}.com", "address-length"),
        (f"a@{'.'.join(['x' * 60] * 5)}", "address-length"),
        ("Name <a@example.com", "address-syntax"),
        ("Name a@example.com>", "address-syntax"),
    ],
)
def test_address_rejects_what_ses_rejects(text: str, rule: str) -> None:
    with invalid(AddressError, "to[0]", rule):
        Address.parse(text, field="to[0]")


def test_address_longer_than_320_characters_as_sent_is_rejected() -> None:
    local = "x" * 60
    fine = Address(email=f"{local}@example.com", name="n" * 200)
    assert len(fine.formatted) <= 320
    with invalid(AddressError, "address", "address-length"):
        Address(email=f"{local}@example.com", name="n" * 260)


def test_display_name_with_line_break_is_rejected() -> None:
    with invalid(AddressError, "address", "address-syntax"):
        Address(email="a@example.com", name="Evil\r\nBcc: x@example.com")


def test_quoted_local_part_is_accepted() -> None:
    assert Address.parse('"a b"@example.com').email == '"a b"@example.com'


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("campaign", "spring-2026"),
        ("a_b-C9", "v.a@l_u-e"),
        ("ses:feedback-id-a", "x"),
        ("n" * 255, "v" * 255),
    ],
)
def test_tags_ses_accepts(name: str, value: str) -> None:
    assert Tag(name=name, value=value).name == name


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("", "v", "tag-empty"),
        ("n", "", "tag-empty"),
        ("n" * 256, "v", "tag-length"),
        ("a b", "v", "tag-charset"),
        ("a:b", "v", "tag-charset"),
        ("a.b", "v", "tag-charset"),
        ("ses:configuration-set", "v", "tag-charset"),
        ("n", "v" * 256, "tag-length"),
        ("n", "a:b", "tag-charset"),
        ("n", "a b", "tag-charset"),
        ("", "", "tag-empty"),
        ("a b", "v" * 300, "tag-charset"),
    ],
)
def test_tags_ses_rejects(name: str, value: str, rule: str) -> None:
    with invalid(TagError, f"tags[{name!r}]", rule):
        Tag(name=name, value=value)


def test_tag_error_message_says_what_is_allowed() -> None:
    with pytest.raises(TagError) as caught:
        Tag(name="a b", value="v")
    assert str(caught.value) == (
        "tags['a b']: tag names may contain only A-Z a-z 0-9 _ - "
        "(and the names ses:feedback-id-a, ses:feedback-id-b) (got ' ')"
    )


@pytest.mark.parametrize(
    ("name", "value", "rule", "part"),
    [
        ("X:Y", "v", "header-name", "name"),
        ("X Y", "v", "header-name", "name"),
        ("", "v", "header-name", "name"),
        ("X" * 127, "v", "header-name", "name"),
        ("Subject", "v", "header-name", "name"),
        ("content-type", "v", "header-name", "name"),
        ("X-A", "", "header-value", "value"),
        ("X-A", "é", "header-value", "value"),
        ("X-A", "a\r\nb", "header-value", "value"),
        ("X-A", "v" * 996, "header-value", "value"),
        ("X" * 100, "v" * 897, "header-value", "value"),
    ],
)
def test_headers_checked_against_the_v2_shape(name: str, value: str, rule: str, part: str) -> None:
    with invalid(HeaderError, f"headers[2].{part}", rule):
        Email(
            sender="s@example.com",
            to="a@example.com",
            headers=[("X-1", "1"), ("X-2", "2"), (name, value)],
        )


def test_header_at_the_limits_is_accepted() -> None:
    assert Header(name="X" * 126, value="v" * 870).value == "v" * 870
    assert Header(name="List-Unsubscribe", value="<https://x.example/u?id=1>").name


def test_attachment_guesses_content_type_and_strips_content_id_brackets() -> None:
    attachment = Attachment(
        filename="logo.png", content=b"\x89PNG", inline=True, content_id="<logo>"
    )
    assert (attachment.content_type, attachment.content_id) == ("image/png", "logo")
    assert Attachment(filename="blob", content=b"").content_type == "application/octet-stream"
    with pytest.raises(TypeError, match="content must be bytes, got str"):
        Attachment(filename="x.csv", content="a,b")  # type: ignore[arg-type]


def test_attachment_from_path_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(b"%PDF-1.7")
    attachment = Attachment.from_path(path)
    assert (attachment.filename, attachment.content, attachment.content_type) == (
        "report.pdf",
        b"%PDF-1.7",
        "application/pdf",
    )
    assert Attachment.from_path(path, filename="r.pdf").filename == "r.pdf"


@pytest.mark.parametrize(
    ("kwargs", "field", "rule"),
    [
        ({"filename": ""}, "attachment.filename", "attachment-filename"),
        ({"filename": "x" * 256}, "attachment.filename", "attachment-filename"),
        ({"filename": "a/b.txt"}, "attachment.filename", "attachment-filename"),
        ({"filename": "tab\there.txt"}, "attachment.filename", "attachment-filename"),
        ({"filename": " lead.txt"}, "attachment.filename", "attachment-filename"),
        ({"filename": "setup.EXE"}, "attachment.filename", "attachment-type"),
        ({"filename": "x.js"}, "attachment.filename", "attachment-type"),
        ({"content_type": "text"}, "attachment.content_type", "attachment-content-type"),
        (
            {"content_type": "text/plain; charset=x"},
            "attachment.content_type",
            "attachment-content-type",
        ),
        ({"inline": True}, "attachment.content_id", "attachment-content-id"),
        ({"content_id": "a b"}, "attachment.content_id", "attachment-content-id"),
        ({"content_id": "x" * 79}, "attachment.content_id", "attachment-content-id"),
        ({"description": "d" * 1001}, "attachment.description", "attachment-description"),
    ],
)
def test_attachment_rejects(kwargs: dict[str, object], field: str, rule: str) -> None:
    arguments: dict[str, object] = {"filename": "a.txt", "content": b"x", **kwargs}
    with invalid(AttachmentError, field, rule):
        Attachment(**arguments)  # type: ignore[arg-type]  # the parametrized values are right


def test_email_normalises_plain_inputs() -> None:
    email = Email(
        sender="Shop <shop@example.com>",
        to="a@example.com",
        cc=["b@example.com", Address(email="c@example.com")],
        reply_to="r@example.com",
        tags={"campaign": "x", "n": "1"},
        headers={"X-Entity": "42"},
        return_path="bounces@example.com",
    )
    assert email.sender == Address(email="shop@example.com", name="Shop")
    assert [a.email for a in email.recipients] == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
    ]
    assert email.tags == (Tag(name="campaign", value="x"), Tag(name="n", value="1"))
    assert email.headers == (Header(name="X-Entity", value="42"),)
    assert email.return_path == Address(email="bounces@example.com")
    assert (
        Email(sender="s@example.com", to="a@example.com", tags=[Tag(name="a", value="b")])
        .tags[0]
        .value
        == "b"
    )


def test_email_is_frozen_and_replace_revalidates() -> None:
    email = Email(sender="s@example.com", to="a@example.com")
    with pytest.raises(dataclasses.FrozenInstanceError):
        email.subject = "x"  # type: ignore[misc]
    changed = dataclasses.replace(email, subject="New")
    assert changed.subject == "New"
    with invalid(RecipientError, "to", "min-recipients"):
        dataclasses.replace(email, to=())


def test_email_reports_an_invalid_recipient_by_position() -> None:
    with invalid(AddressError, "cc[1]", "address-syntax"):
        Email(sender="s@example.com", to="a@example.com", cc=["b@example.com", "broken"])
    with invalid(AddressError, "sender", "address-syntax"):
        Email(sender="nobody", to="a@example.com")
    with invalid(AddressError, "to[0]", "address-syntax"):
        Email(sender="s@example.com", to="", cc="a@example.com")


def test_email_needs_one_to_fifty_recipients_across_to_cc_bcc() -> None:
    fifty = Email(
        sender="s@example.com",
        to=[f"t{i}@example.com" for i in range(20)],
        cc=[f"c{i}@example.com" for i in range(20)],
        bcc=[f"b{i}@example.com" for i in range(10)],
    )
    assert len(fifty.recipients) == 50
    with invalid(RecipientError, "to", "min-recipients"):
        Email(sender="s@example.com")
    with invalid(RecipientError, "bcc[10]", "max-recipients"):
        Email(
            sender="s@example.com",
            to=[f"t{i}@example.com" for i in range(20)],
            cc=[f"c{i}@example.com" for i in range(20)],
            bcc=[f"b{i}@example.com" for i in range(11)],
        )
    with invalid(RecipientError, "to[50]", "max-recipients"):
        Email(sender="s@example.com", to=[f"t{i}@example.com" for i in range(51)])


def test_email_rejects_line_breaks_in_subject_and_bad_configuration_set() -> None:
    with invalid(ValidationError, "subject", "subject-syntax"):
        Email(sender="s@example.com", to="a@example.com", subject="Hi\nBcc: x@example.com")
    with invalid(ValidationError, "configuration_set", "configuration-set-name"):
        Email(sender="s@example.com", to="a@example.com", configuration_set="has space")
    with invalid(ValidationError, "configuration_set", "configuration-set-name"):
        Email(sender="s@example.com", to="a@example.com", configuration_set="x" * 65)


def test_inline_attachment_needs_an_html_body() -> None:
    logo = Attachment(filename="logo.png", content=b"x", inline=True, content_id="logo")
    with invalid(AttachmentError, "attachments[0].inline", "attachment-inline"):
        Email(sender="s@example.com", to="a@example.com", text="t", attachments=[logo])


def test_template_is_stored_or_inline() -> None:
    assert Template.stored("welcome_v2").name == "welcome_v2"
    assert Template.inline(subject="s", html="<p>h</p>").html == "<p>h</p>"
    with invalid(ValidationError, "template.name", "template-name"):
        Template.stored("bad name")
    with invalid(ValidationError, "template", "template-content"):
        Template(name="t", subject="s")
    with invalid(ValidationError, "template", "template-content"):
        Template(subject="s")
    with invalid(ValidationError, "template", "template-size"):
        Template.inline(subject="s", text="x" * (500 * 1024))


def test_bulk_entry_normalises_and_validates() -> None:
    entry = BulkEntry(to="a@example.com", replacement_data={"name": "Zoë"}, tags={"k": "v"})
    assert entry.replacement_data == '{"name":"Zoë"}'
    assert BulkEntry(to="a@example.com", replacement_data='{"a": 1}').replacement_data == '{"a": 1}'
    with invalid(RecipientError, "to", "min-recipients"):
        BulkEntry(replacement_data={})
    with invalid(TemplateDataError, "replacement_data", "template-data-json"):
        BulkEntry(to="a@example.com", replacement_data="[1, 2]")
    with invalid(TemplateDataError, "replacement_data", "template-data-json"):
        BulkEntry(to="a@example.com", replacement_data="{nope")
    with invalid(TemplateDataError, "replacement_data", "template-data-length"):
        BulkEntry(to="a@example.com", replacement_data={"x": "y" * 262_144})
    with invalid(HeaderError, "headers", "header-count"):
        BulkEntry(to="a@example.com", headers=[(f"X-{i}", "v") for i in range(16)])


def test_wrong_input_types_raise_type_error() -> None:
    with pytest.raises(TypeError, match=r"to\[0\]: expected an Address or str, got int"):
        Email(sender="s@example.com", to=[1])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"tags\[0\]: expected a Tag"):
        Email(sender="s@example.com", to="a@example.com", tags=[("a", "b")])  # type: ignore[list-item]
