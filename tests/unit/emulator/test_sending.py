"""The send pipeline's records: MessageIds, raw rewriting, bulk merging, outcomes, statistics."""

from __future__ import annotations

import email
import email.policy
import re
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.config import Settings
from emulator.ses import mime, sending
from emulator.ses.context import RequestContext
from emulator.ses.errors import SesError
from emulator.ses.state import Backend, ConfigurationSet, Identity, SuppressedDestination, Template
from emulator.store import MessageRecord, parse_parts

T0 = 1_700_000_000.0
SENDER = "sender@example.com"


@pytest.fixture
def backend() -> Backend:
    b = Backend(Settings())
    b.clock.set(T0)
    state = b.account()
    state.identities[SENDER] = Identity(name=SENDER, kind="EmailAddress")
    state.templates["T"] = Template(
        name="T", subject="Hi {{name}}", text="Dear {{name}} of {{town}}"
    )
    return b


def run(
    backend: Backend, request: sending.SendRequest, region: str = "us-east-1"
) -> list[MessageRecord]:
    ctx = RequestContext(
        api=request.api,
        operation=request.operation,
        account_id="000000000000",
        region=region,
        request_id="r",
        backend=backend,
    )
    records = []
    for result in sending.send(ctx, request):
        assert result.message_id is not None
        record = backend.store.get(result.message_id)
        assert record is not None
        records.append(record)
    return records


def test_message_id_has_ses_shape_with_the_send_time() -> None:
    message_id = sending.new_message_id(T0)
    match = re.fullmatch(
        r"0100([0-9a-f]{12})-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}-000000",
        message_id,
    )
    assert match is not None
    assert int(match.group(1), 16) == int(T0 * 1000)


def test_simple_send_record_carries_envelope_and_ses_headers(backend: Backend) -> None:
    request = sending.SendRequest(
        api="v1",
        operation="SendEmail",
        kind="simple",
        source="Sender <sender@example.com>",
        destination=sending.Destination(to=("A <a@x.com>",), cc=("c@x.com",), bcc=("b@x.com",)),
        reply_to=("r@x.com",),
        subject="Grüße",
        text="text",
        html="<p>html</p>",
        tags=(("k", "v"),),
    )
    (record,) = run(backend, request)
    assert record.recipients == ("a@x.com", "c@x.com", "b@x.com")
    assert (record.to, record.cc, record.bcc) == (("A <a@x.com>",), ("c@x.com",), ("b@x.com",))
    assert record.envelope_from == SENDER
    assert record.subject == "Grüße"
    assert record.tags == (("k", "v"),)
    assert record.outcomes == dict.fromkeys(record.recipients, "delivered")
    parts = parse_parts(record.raw)
    headers = dict(parts.headers)
    assert headers["Message-ID"] == f"<{record.id}@email.amazonses.com>"
    assert "Bcc" not in headers
    assert (parts.text, parts.html) == ("text\r\n", "<p>html</p>\r\n")
    assert all(b < 128 for b in record.raw)  # 7-bit clean


def test_message_id_header_names_the_region_outside_us_east_1(backend: Backend) -> None:
    backend.account("000000000000", "eu-west-1").identities[SENDER] = Identity(
        name=SENDER, kind="EmailAddress"
    )
    request = sending.SendRequest(
        api="v2",
        operation="SendEmail",
        kind="simple",
        source=SENDER,
        destination=sending.Destination(to=("a@x.com",)),
        subject="s",
        text="t",
    )
    (record,) = run(backend, request, region="eu-west-1")
    assert f"Message-ID: <{record.id}@eu-west-1.amazonses.com>".encode() in record.raw


def test_raw_send_keeps_body_bytes_and_strips_ses_headers(backend: Backend) -> None:
    backend.account().configuration_sets["cs"] = ConfigurationSet(name="cs")
    body = b"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b--\r\n"
    data = (
        b"From: sender@example.com\r\nTo: a@x.com\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n"
        b"Message-ID: <mine@x>\r\nDate: Mon, 1 Jan 2001 00:00:00 +0000\r\n"
        b"X-SES-CONFIGURATION-SET: cs\r\nX-SES-MESSAGE-TAGS: a=1, b=2\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + body
    )
    request = sending.SendRequest(
        api="v1",
        operation="SendRawEmail",
        kind="raw",
        raw=data,
        destination=sending.Destination(to=("a@x.com", "hidden@x.com")),
    )
    (record,) = run(backend, request)
    assert record.raw.endswith(b"\r\n\r\n" + body)
    assert b"X-SES-" not in record.raw
    assert b"<mine@x>" not in record.raw
    assert f"Message-ID: <{record.id}@email.amazonses.com>".encode() in record.raw
    assert record.recipients == ("a@x.com", "hidden@x.com")
    assert record.to == ("a@x.com",)
    assert record.bcc == ()
    assert record.configuration_set == "cs"
    assert record.tags == (("a", "1"), ("b", "2"))
    assert record.subject == "café"


def test_raw_api_tags_replace_header_tags(backend: Backend) -> None:
    data = b"From: sender@example.com\r\nTo: a@x.com\r\nX-SES-MESSAGE-TAGS: a=1\r\n\r\nb"
    request = sending.SendRequest(
        api="v1", operation="SendRawEmail", kind="raw", raw=data, tags=(("api", "2"),)
    )
    assert run(backend, request)[0].tags == (("api", "2"),)


def test_raw_recipients_from_headers_include_group_members(backend: Backend) -> None:
    data = (
        b"From: sender@example.com\r\nTo: team: a@x.com, B <b@x.com>;\r\n"
        b"Cc: c@x.com\r\nBcc: d@x.com\r\n\r\nbody"
    )
    request = sending.SendRequest(api="v2", operation="SendEmail", kind="raw", raw=data)
    (record,) = run(backend, request)
    assert record.recipients == ("a@x.com", "b@x.com", "c@x.com", "d@x.com")


def test_bulk_entries_merge_data_and_tags_and_share_a_bulk_id(backend: Backend) -> None:
    request = sending.SendRequest(
        api="v1",
        operation="SendBulkTemplatedEmail",
        kind="template",
        source=SENDER,
        template_name="T",
        template_data='{"name": "Default", "town": "Oslo"}',
        tags=(("a", "1"), ("b", "1")),
        bulk=(
            sending.BulkEntry(
                destination=sending.Destination(to=("x@x.com",)),
                template_data='{"name": "Xi"}',
                tags=(("b", "2"),),
            ),
            sending.BulkEntry(destination=sending.Destination(to=("y@x.com", "z@x.com"))),
        ),
    )
    first, second = run(backend, request)
    assert (first.subject, second.subject) == ("Hi Xi", "Hi Default")
    assert parse_parts(first.raw).text == "Dear Xi of Oslo\r\n"
    assert first.tags == (("a", "1"), ("b", "2"))
    assert second.tags == (("a", "1"), ("b", "1"))
    assert first.bulk_id is not None
    assert first.bulk_id == second.bulk_id
    assert second.recipients == ("y@x.com", "z@x.com")


def test_records_share_their_immutable_address_tuples_instead_of_copying(
    backend: Backend,
) -> None:
    # 100,000 stored messages cost what each keeps of its own (issue 8): an absent field is the
    # empty tuple, a call's Reply-To is one tuple, and To is also the envelope when it has no
    # display names and there is no Cc or Bcc.
    request = sending.SendRequest(
        api="v2",
        operation="SendBulkEmail",
        kind="template",
        source=SENDER,
        template_name="T",
        template_data='{"name": "N", "town": "T"}',
        reply_to=("R <r@x.com>",),
        bulk=(
            sending.BulkEntry(destination=sending.Destination(to=("x@x.com",))),
            sending.BulkEntry(destination=sending.Destination(to=("Y <y@x.com>",))),
        ),
    )
    plain, named = run(backend, request)
    assert plain.reply_to is named.reply_to
    assert plain.reply_to == ("R <r@x.com>",)
    assert plain.recipients is plain.to
    assert (named.to, named.recipients) == (("Y <y@x.com>",), ("y@x.com",))
    assert (plain.cc, plain.bcc, plain.tags, plain.events) == ((), (), (), ())  # no lists


def test_rendering_failure_is_accepted_and_recorded(backend: Backend) -> None:
    request = sending.SendRequest(
        api="v1",
        operation="SendTemplatedEmail",
        kind="template",
        source=SENDER,
        destination=sending.Destination(to=("a@x.com",)),
        template_name="T",
        template_data='{"name": "A"}',
    )
    (record,) = run(backend, request)
    assert record.status == "rendering_failure"
    assert record.rendering_error is not None
    assert "town" in record.rendering_error
    state = backend.account()
    assert state.sent_window_total == 1
    (point,) = state.statistics.values()
    assert point == {"DeliveryAttempts": 0, "Bounces": 0, "Complaints": 0, "Rejects": 1}


def test_outcomes_and_statistics_per_recipient(backend: Backend) -> None:
    state = backend.account()
    state.suppressed["gone@x.com"] = SuppressedDestination(
        email="gone@x.com", reason="BOUNCE", last_update=T0
    )
    request = sending.SendRequest(
        api="v2",
        operation="SendEmail",
        kind="simple",
        source=SENDER,
        destination=sending.Destination(
            to=(
                "bounce+1@simulator.amazonses.com",
                "complaint@simulator.amazonses.com",
                "gone@x.com",
                "ok@x.com",
            )
        ),
        subject="s",
        text="t",
    )
    (record,) = run(backend, request)
    assert list(record.outcomes.values()) == ["bounce", "complaint", "suppressed", "delivered"]
    assert state.sent_window_total == 2  # simulator recipients are not counted; suppressed are
    (point,) = state.statistics.values()
    assert point == {"DeliveryAttempts": 4, "Bounces": 2, "Complaints": 1, "Rejects": 0}


def test_v2_custom_header_clashing_with_ses_header_is_a_duplicate(backend: Backend) -> None:
    request = sending.SendRequest(
        api="v2",
        operation="SendEmail",
        kind="simple",
        source=SENDER,
        destination=sending.Destination(to=("a@x.com",)),
        subject="s",
        text="t",
        headers=(("Subject", "again"),),
    )
    with pytest.raises(SesError) as info:
        run(backend, request)
    assert info.value.message == "Duplicate header 'Subject'."


def test_send_request_validates_its_shape() -> None:
    with pytest.raises(ValueError, match="raw message bytes"):
        sending.SendRequest(api="v1", operation="SendRawEmail", kind="raw")
    with pytest.raises(ValueError, match="exactly one"):
        sending.SendRequest(
            api="v1",
            operation="SendTemplatedEmail",
            kind="template",
            destination=sending.Destination(),
        )


def test_built_mime_is_7bit_and_decodes_back_exactly() -> None:
    attachments = [
        mime.Attachment(content=bytes(range(256)), filename="all.bin"),
        mime.Attachment(
            content="qp é".encode(),
            filename="ü.txt",
            content_type="text/plain",
            transfer_encoding="QUOTED_PRINTABLE",
        ),
        mime.Attachment(
            content=b"logo",
            filename="logo.png",
            content_type="image/png",
            disposition="INLINE",
            content_id="logo",
        ),
    ]
    raw = mime.build_message(
        from_="Jörg <j@x.com>",
        to=["Ånna <a@x.com>", "b@x.com"],
        cc=[],
        reply_to=[],
        subject="Grüße ✓",
        text="héllo",
        html="<p>hi</p>",
        message_id="<m@x>",
        date=mime.date_header(T0),
        attachments=attachments,
    )
    assert raw.isascii()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert all(not part.defects for part in msg.walk())
    assert (str(msg["Subject"]), str(msg["From"])) == ("Grüße ✓", "Jörg <j@x.com>")
    types = [part.get_content_type() for part in msg.walk()]
    assert types[:5] == [
        "multipart/mixed",
        "multipart/related",
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]
    payloads = {
        part.get_filename(): part.get_payload(decode=True)
        for part in msg.walk()
        if part.get_filename()
    }
    assert payloads == {"all.bin": bytes(range(256)), "ü.txt": "qp é".encode(), "logo.png": b"logo"}
    assert parse_parts(raw).text == "héllo\r\n"


def test_seven_bit_attachment_must_be_7bit() -> None:
    with pytest.raises(ValueError, match="not 7-bit"):
        mime.build_message(
            from_="j@x.com",
            to=["a@x.com"],
            cc=[],
            reply_to=[],
            subject="s",
            text="t",
            html=None,
            message_id="<m@x>",
            date="d",
            attachments=[
                mime.Attachment(content="é".encode(), filename="x", transfer_encoding="SEVEN_BIT")
            ],
        )


def test_request_values_cannot_inject_headers() -> None:
    raw = mime.build_message(
        from_="j@x.com",
        to=["a@x.com"],
        cc=[],
        reply_to=[],
        subject="hi\r\nBcc: evil@x.com",
        text="t",
        html=None,
        message_id="<m@x>",
        date="d",
        attachments=[
            mime.Attachment(
                content=b"x",
                filename="a\r\nX-Evil: 1",
                content_type="text/plain\r\nX-Evil: 2",
                content_id="c\r\nX-Evil: 3",
            )
        ],
    )
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert all("Bcc" not in part and "X-Evil" not in part for part in msg.walk())


def test_message_ids_carry_distinct_version_4_uuids() -> None:
    ids = [sending.new_message_id(T0) for _ in range(200)]
    assert len(set(ids)) == len(ids)
    for message_id in ids:
        parsed = uuid.UUID(message_id[17:-7])
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == message_id[17:-7]


@pytest.mark.parametrize(
    "now",
    [T0, T0 + 0.5, T0 + 0.9999994, T0 + 0.9999995, T0 + 0.9999996, T0 - 0.25, 0.0, 86_399.99],
)
def test_date_header_is_the_rfc_5322_date_of_the_send_time(now: float) -> None:
    expected = format_datetime(datetime.fromtimestamp(now, UTC))
    assert mime.date_header(now) == expected
    assert mime.date_header(now) == expected  # the second answer comes from the per-second cache


def test_a_bulk_call_with_every_entry_refused_counts_no_statistics(backend: Backend) -> None:
    state = backend.account()
    state.sandbox_override = True  # the unverified recipients are refused, entry by entry
    request = sending.SendRequest(
        api="v2",
        operation="SendBulkEmail",
        kind="template",
        source=SENDER,
        template_name="T",
        template_data='{"name": "N", "town": "T"}',
        bulk=tuple(
            sending.BulkEntry(destination=sending.Destination(to=(f"r{i}@x.com",)))
            for i in range(3)
        ),
    )
    ctx = RequestContext(
        api="v2",
        operation="SendBulkEmail",
        account_id="000000000000",
        region="us-east-1",
        request_id="r",
        backend=backend,
    )
    results = sending.send(ctx, request)
    assert [r.refusal.status if r.refusal else None for r in results] == [
        ("MessageRejected", "MESSAGE_REJECTED")
    ] * 3
    assert state.statistics == {}
    assert len(backend.store) == 0


def test_raw_records_take_subject_and_reply_to_from_the_headers(backend: Backend) -> None:
    data = (
        b"From: sender@example.com\r\nTo: a@x.com\r\nReply-To: R <r@x.com>\r\n"
        b"Subject: =?utf-8?q?caf=C3=A9?=\r\n\r\nbody"
    )
    request = sending.SendRequest(api="v1", operation="SendRawEmail", kind="raw", raw=data)
    (first,) = run(backend, request)
    (second,) = run(backend, request)
    assert (first.subject, first.reply_to) == ("café", ("R <r@x.com>",))
    assert (second.subject, second.reply_to) == (first.subject, first.reply_to)


def test_address_header_answers_are_fresh_lists() -> None:
    first = mime.parse_address_header(["A <a@x.com>, b@x.com"])
    first.clear()
    assert mime.parse_address_header(["A <a@x.com>, b@x.com"]) == [
        ("A <a@x.com>", "a@x.com"),
        ("b@x.com", "b@x.com"),
    ]
    assert mime.parse_address_header([]) == []


def test_address_header_longer_than_the_cache_bound_is_parsed() -> None:
    name = "N" * 3000
    assert mime.parse_address_header([f"{name} <a@x.com>"]) == [(f"{name} <a@x.com>", "a@x.com")]


@pytest.mark.parametrize(
    ("data", "body"),
    [
        (b"From: a@x.com\r\n\r\nbody\r\n\r\nmore", b"body\r\n\r\nmore"),
        (b"From: a@x.com\n\nbody", b"body"),
        (b"\r\nbody only", b"body only"),
        (b"From: a@x.com", b""),
    ],
)
def test_raw_message_body_is_everything_after_the_blank_line(data: bytes, body: bytes) -> None:
    raw = mime.RawMessage.parse(data)
    assert raw.body == body
    rebuilt = raw.rebuild(drop=frozenset({"from"}), add=(("X", "y"),))
    assert rebuilt.endswith(raw.newline * 2 + body)
    assert rebuilt.startswith(b"X: y")


_PART_TEXT = st.text(alphabet=st.sampled_from(list("ab <&\n\r\t\x0bé")), max_size=20) | st.builds(
    lambda head, n: head + "x" * n,
    st.text(alphabet=st.sampled_from(list("ab\n")), max_size=3),
    st.integers(995, 1001),
)


@given(st.none() | _PART_TEXT, st.none() | _PART_TEXT)
def test_one_string_body_is_byte_equal_to_the_part_by_part_body(
    text: str | None, html: str | None
) -> None:
    simple = mime._simple_body(text, html)
    if simple is None:
        return  # not 7-bit LF text: only the part-by-part path writes it
    boundary = re.search(r'boundary="([^"]+)"', simple)
    original = mime._boundary
    try:
        if boundary is not None:
            mime._boundary = lambda: boundary.group(1)  # replay the same boundary
        assert simple.encode("ascii") == mime._body(text, html)
    finally:
        mime._boundary = original
