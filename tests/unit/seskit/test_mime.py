"""MIME output parses back to the same message; its size is exact and costs no copy."""

from __future__ import annotations

import email.policy
import tracemalloc
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from hypothesis import given, settings

from seskit import Attachment, Email, SizeError, mime, rules, v1, v2
from tests.unit.seskit import strategies
from tests.unit.seskit.expect import invalid


def parse(data: bytes) -> EmailMessage:
    message = BytesParser(policy=email.policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


@settings(max_examples=100, deadline=None)
@given(strategies.emails())
def test_raw_message_parses_back_to_the_same_email(sent: Email) -> None:
    plan = mime.plan(sent)
    data = plan.to_bytes()
    assert plan.size == len(data)
    assert data.isascii()
    assert max(len(line) for line in data.split(b"\r\n")) <= rules.MAX_LINE_LENGTH
    assert b"\n" not in data.replace(b"\r\n", b"")
    got = parse(data)
    assert not got.defects
    assert got["From"].addresses[0].addr_spec == sent.sender.email
    assert got["From"].addresses[0].display_name == (sent.sender.name or "")
    for header, expected in (("To", sent.to), ("Cc", sent.cc), ("Reply-To", sent.reply_to)):
        if expected:
            parsed = got[header].addresses
            assert [(a.addr_spec, a.display_name) for a in parsed] == [
                (a.email, a.name or "") for a in expected
            ]
        else:
            assert header not in got
    assert "Bcc" not in got
    assert got["Subject"] == sent.subject
    for custom in sent.headers:
        # RFC 5322 unstructured values lose outer whitespace when read back (as in any parser).
        assert custom.value.strip() in [str(v).strip() for v in got.get_all(custom.name, [])]
    body_parts = [
        p for p in got.walk() if not p.is_multipart() and p.get_content_disposition() is None
    ]
    by_type = {p.get_content_type(): p.get_content() for p in body_parts}
    if sent.text is not None:
        assert crlf(by_type["text/plain"]) == crlf(sent.text)
    if sent.html is not None:
        assert crlf(by_type["text/html"]) == crlf(sent.html)
    attached = [
        (p.get_filename(), p.get_content_type(), p.get_payload(decode=True))
        for p in got.iter_attachments()
    ]
    assert attached == [(a.filename, a.content_type, a.content) for a in sent.attachments]


def test_inline_attachments_sit_with_the_html_in_multipart_related() -> None:
    logo = Attachment(filename="logo.png", content=b"\x89PNG", inline=True, content_id="logo")
    sent = Email(
        sender="s@example.com",
        to="a@example.com",
        subject="Hi",
        text="plain",
        html='<img src="cid:logo">',
        attachments=[logo, Attachment(filename="r.pdf", content=b"%PDF")],
    )
    got = parse(mime.to_bytes(sent))
    assert [p.get_content_type() for p in got.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
        "application/pdf",
    ]
    image = next(p for p in got.walk() if p.get_content_type() == "image/png")
    assert (image["Content-ID"], image.get_content_disposition()) == ("<logo>", "inline")


def test_output_is_deterministic_and_date_message_id_only_on_request() -> None:
    sent = Email(sender="s@example.com", to="a@example.com", subject="Hi", text="Hello")
    assert mime.to_bytes(sent) == mime.to_bytes(sent)
    assert mime.to_bytes(sent) == (
        b"From: s@example.com\r\nTo: a@example.com\r\nSubject: Hi\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\nHello"
    )
    import datetime

    when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    plan = mime.plan(sent, date=when, message_id="<1@example.com>")
    data = plan.to_bytes()
    assert b"Date: Fri, 02 Jan 2026 03:04:05 +0000\r\n" in data
    assert b"Message-ID: <1@example.com>\r\n" in data
    assert plan.size == len(data)


def test_boundary_changes_when_a_body_contains_it() -> None:
    sneaky = "--=_seskit_alternative\r\nnot a boundary"
    got = parse(
        mime.to_bytes(
            Email(sender="s@example.com", to="a@example.com", subject="s", text=sneaky, html="<p>")
        )
    )
    assert got.get_boundary() == "=_seskit_alternative_1"
    assert crlf(got.get_body(("plain",)).get_content()) == crlf(sneaky)  # type: ignore[union-attr]


def _with_attachment(size: int, *, text: str = "body") -> Email:
    return Email(
        sender="s@example.com",
        to="a@example.com",
        subject="Big",
        text=text,
        attachments=[Attachment(filename="big.bin", content=bytes(size))],
    )


def _attachment_size_reaching(limit: int) -> int:
    """The largest attachment whose message is at most ``limit`` bytes.

    Estimated from base64's 57 → 78 bytes per line, then stepped until ``encoded_size`` says so.
    """
    overhead = mime.encoded_size(_with_attachment(0))
    size = (limit - overhead) * 57 // 78
    while mime.encoded_size(_with_attachment(size + 1)) <= limit:
        size += 1
    while mime.encoded_size(_with_attachment(size)) > limit:
        size -= 1
    return size


@pytest.mark.parametrize(
    ("limit", "build"),
    [
        (rules.MAX_MESSAGE_BYTES_V1, lambda e: v1.send_raw_email(e)["RawMessage"]["Data"]),
        (
            rules.MAX_MESSAGE_BYTES_V2,
            lambda e: v2.send_email(e, raw=True)["Content"]["Raw"]["Data"],
        ),
    ],
    ids=["v1-10MiB", "v2-40MiB"],
)
def test_size_arithmetic_matches_len_around_the_limit(limit: int, build: object) -> None:
    fits = _attachment_size_reaching(limit)
    checked = 0
    for size in (fits - 57, fits - 1, fits, fits + 1, fits + 2, fits + 57):
        sent = _with_attachment(size)
        predicted = mime.encoded_size(sent)
        if predicted <= limit:
            data = build(sent)  # type: ignore[operator]
            assert len(data) == predicted
            checked += 1
        else:
            assert len(mime.to_bytes(sent)) == predicted
            with invalid(SizeError, "email", "max-message-bytes"):
                build(sent)  # type: ignore[operator]
    assert checked >= 3


def test_size_error_says_how_big_and_what_is_allowed() -> None:
    with pytest.raises(SizeError) as caught:
        v1.send_raw_email(_with_attachment(8_000_000))
    size = mime.encoded_size(_with_attachment(8_000_000))
    assert str(caught.value) == (
        f"email: the encoded message is {size} bytes; "
        "v1.send_raw_email accepts at most 10485760 bytes"
    )


def test_simple_send_size_counts_the_text_too() -> None:
    big_text = "x" * 1000 + "\n"
    sent = Email(sender="s@example.com", to="a@example.com", subject="s", text=big_text * 10_500)
    assert mime.encoded_size(sent) > rules.MAX_MESSAGE_BYTES_V1
    with invalid(SizeError, "email", "max-message-bytes"):
        v1.send_email(sent)
    assert v2.send_email(sent)["Content"]["Simple"]["Body"]["Text"]["Data"] == big_text * 10_500


def test_ten_megabyte_attachment_is_validated_without_a_copy() -> None:
    content = bytes(10 * 1024 * 1024)
    sent = Email(
        sender="s@example.com",
        to="a@example.com",
        subject="Big",
        text="see attachment",
        attachments=[Attachment(filename="big.bin", content=content)],
    )
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        size = mime.encoded_size(sent)
        with invalid(SizeError, "email", "max-message-bytes"):
            v1.send_raw_email(sent)  # 10 MiB of data is ~13.8 MB as base64 MIME
        payload = v2.send_email(sent)  # v2 passes the bytes through: no copy either
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > rules.MAX_MESSAGE_BYTES_V1
    assert payload["Content"]["Simple"]["Attachments"][0]["RawContent"] is content
    assert peak < 256 * 1024, f"validating allocated {peak} bytes"


@pytest.mark.parametrize(
    "subject",
    [
        "x" * 2000,  # longer than a line may be: folded as encoded-words
        "word " * 300,
        "=?utf-8?q?not_an_encoded_word?=",  # would be decoded if written verbatim
        " leading and trailing ",
        "Grüße " * 40,
        "tab\there",
    ],
)
def test_awkward_subjects_round_trip_within_998_character_lines(subject: str) -> None:
    sent = Email(sender="s@example.com", to="a@example.com", subject=subject, text="t")
    data = mime.to_bytes(sent)
    assert max(len(line) for line in data.split(b"\r\n")) <= rules.MAX_LINE_LENGTH
    assert parse(data)["Subject"] == subject


def test_long_text_lines_go_as_base64_and_come_back_whole() -> None:
    text = "a" * 998 + "\n" + "b" * 999 + "\r\nend"
    data = mime.to_bytes(Email(sender="s@example.com", to="a@example.com", subject="s", text=text))
    assert b"Content-Transfer-Encoding: base64" in data
    assert max(len(line) for line in data.split(b"\r\n")) <= 78
    assert crlf(parse(data).get_content()) == crlf(text)
