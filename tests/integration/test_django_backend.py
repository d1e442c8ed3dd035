"""`seskit.django.EmailBackend` sending real Django messages through the real emulator.

Django's settings are configured for this module only (and put back afterwards, so another
module may configure its own); each test points the backend at the session's emulator with
``override_settings``, the way a project's test settings would.

Django is imported inside the tests, after the component check; it ships no type information
and django-stubs may or may not be installed, hence ``ignore[import-untyped, unused-ignore]``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config

from emulator.client import EmulatorClient, SentMessage
from emulator.server import EmulatorServer
from seskit.errors import (
    IdentityError,
    SendError,
    TagError,
    TemplateNotFoundError,
    UnsupportedFeatureError,
)
from tests.components import require_component

HAVE_DJANGO = importlib.util.find_spec("django") is not None
SHOP = "shop@example.com"
BACKEND = "seskit.django.EmailBackend"


@pytest.fixture(scope="module")
def django_settings() -> Iterator[None]:
    require_component("django", HAVE_DJANGO, "pip install Django (the 'dev' extra has it)")
    from django.conf import settings  # type: ignore[import-untyped, unused-ignore]
    from django.utils.functional import empty  # type: ignore[import-untyped, unused-ignore]

    configured_here = not settings.configured
    if configured_here:
        settings.configure(DEFAULT_FROM_EMAIL=SHOP, EMAIL_BACKEND=BACKEND)
    yield
    if configured_here:
        # Django has no public "unconfigure"; resetting the lazy object is what lets a later
        # module call settings.configure() with its own values.
        settings._wrapped = empty


@pytest.fixture
def emu(emulator: EmulatorServer, sesv2: Any, django_settings: None) -> Iterator[EmulatorClient]:
    from django.test import override_settings  # type: ignore[import-untyped, unused-ignore]

    sesv2.create_email_identity(EmailIdentity=SHOP)
    with override_settings(
        EMAIL_BACKEND=BACKEND,
        DEFAULT_FROM_EMAIL=SHOP,
        SESKIT_REGION="us-east-1",
        SESKIT_ENDPOINT_URL=emulator.endpoint_url,
        SESKIT_CLIENT_PARAMS={
            "aws_access_key_id": "AKIDEXAMPLE",
            "aws_secret_access_key": "secret",
            "config": Config(retries={"total_max_attempts": 1}),
        },
    ):
        yield EmulatorClient(emulator.endpoint_url, token=emulator.settings.control_token)


def only_message(emu: EmulatorClient) -> SentMessage:
    [message] = emu.messages()
    return message


def test_send_mail_sends_a_plain_v2_message_and_returns_one(emu: EmulatorClient) -> None:
    from django.core.mail import send_mail  # type: ignore[import-untyped, unused-ignore]

    sent = send_mail(
        "Your order", "It has shipped.", "Shop <shop@example.com>", ["ana@example.net"]
    )

    assert sent == 1
    message = only_message(emu)
    assert (message.api, message.operation, message.kind) == ("v2", "SendEmail", "simple")
    assert message.source == "Shop <shop@example.com>"
    assert message.recipients == ("ana@example.net",)
    assert message.subject == "Your order"
    assert message.text is not None
    assert message.text.strip() == "It has shipped."
    assert message.html is None


def test_message_ids_and_per_recipient_status_are_stored_on_the_message(
    emu: EmulatorClient,
) -> None:
    from django.core.mail import EmailMessage  # type: ignore[import-untyped, unused-ignore]

    email = EmailMessage(
        "Hi", "Hello", to=["ana@example.net"], cc=["Bo <bo@example.net>"], bcc=["c@example.net"]
    )
    assert email.send() == 1

    message = only_message(emu)
    assert email.seskit_message_ids == [message.id]
    assert email.seskit_status.message_ids == (message.id,)
    assert {k: (v.status, v.message_id) for k, v in email.seskit_status.recipients.items()} == {
        "ana@example.net": ("sent", message.id),
        "bo@example.net": ("sent", message.id),
        "c@example.net": ("sent", message.id),
    }
    assert sorted(message.recipients) == ["ana@example.net", "bo@example.net", "c@example.net"]
    assert message.header("Bcc") is None


def test_html_alternative_goes_as_simple_content_with_both_parts(emu: EmulatorClient) -> None:
    from django.core.mail import EmailMultiAlternatives  # type: ignore[import-untyped, unused-ignore]

    email = EmailMultiAlternatives(
        "Newsletter", "Plain text", to=["ana@example.net"], reply_to=["help@example.com"]
    )
    email.attach_alternative("<p>Rich <b>text</b></p>", "text/html")
    assert email.send() == 1

    message = only_message(emu)
    assert (message.operation, message.kind) == ("SendEmail", "simple")
    assert message.html is not None
    assert "<p>Rich <b>text</b></p>" in message.html
    assert message.text is not None
    assert message.text.strip() == "Plain text"
    assert message.reply_to == ("help@example.com",)


def test_html_only_body_sends_no_text_part(emu: EmulatorClient) -> None:
    from django.core.mail import EmailMessage  # type: ignore[import-untyped, unused-ignore]

    email = EmailMessage("Hi", "<h1>Hello</h1>", to=["ana@example.net"])
    email.content_subtype = "html"
    assert email.send() == 1

    message = only_message(emu)
    assert message.text is None
    assert message.html is not None
    assert "<h1>Hello</h1>" in message.html


def test_attachment_is_sent_as_raw_mime_written_by_seskit(emu: EmulatorClient) -> None:
    from django.core.mail import EmailMessage  # type: ignore[import-untyped, unused-ignore]

    email = EmailMessage("Report", "Attached.", to=["ana@example.net"], bcc=["audit@example.net"])
    email.attach("report.csv", "a,b\n1,2\n", "text/csv")
    email.attach("logo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "image/png")
    assert email.send() == 1

    message = emu.message(only_message(emu).id, include_raw=True)
    assert (message.operation, message.kind) == ("SendEmail", "raw")
    assert [(a.filename, a.content_type, a.size) for a in message.attachments] == [
        ("report.csv", "text/csv", len(b"a,b\n1,2\n")),
        ("logo.png", "image/png", 8 + 256),
    ]
    assert sorted(message.recipients) == ["ana@example.net", "audit@example.net"]
    assert message.header("Bcc") is None
    assert message.raw is not None
    assert b"X-Mailer" not in message.raw  # seskit's MIME, not Django's


def test_alternative_seskit_cannot_express_sends_djangos_own_mime(emu: EmulatorClient) -> None:
    from django.core.mail import EmailMultiAlternatives  # type: ignore[import-untyped, unused-ignore]

    email = EmailMultiAlternatives(
        "Meeting", "See the invite.", to=["ana@example.net"], headers={"To": "team@example.net"}
    )
    email.attach_alternative("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")
    assert email.send() == 1

    message = emu.message(only_message(emu).id, include_raw=True)
    assert (message.operation, message.kind) == ("SendEmail", "raw")
    assert message.raw is not None
    assert b"Content-Type: text/calendar" in message.raw
    # Django's semantics: the To header as given, the envelope from message.to.
    assert message.header("To") == "team@example.net"
    assert message.recipients == ("ana@example.net",)


def test_custom_headers_go_along_as_v2_headers(emu: EmulatorClient) -> None:
    from django.core.mail import EmailMessage  # type: ignore[import-untyped, unused-ignore]

    email = EmailMessage(
        "Hi", "Hello", to=["ana@example.net"], headers={"X-Campaign": "spring", "List-Id": "news"}
    )
    assert email.send() == 1

    message = only_message(emu)
    assert message.kind == "simple"
    assert message.header("X-Campaign") == "spring"
    assert message.header("List-Id") == "news"


def test_tags_and_metadata_become_ses_tags(emu: EmulatorClient) -> None:
    from django.core.mail import EmailMessage  # type: ignore[import-untyped, unused-ignore]

    email = EmailMessage("Hi", "Hello", to=["ana@example.net"])
    email.tags = {"campaign": "spring-sale"}
    email.metadata = {"user-id": "42"}
    assert email.send() == 1

    assert only_message(emu).tag_map == {"campaign": "spring-sale", "user-id": "42"}


def test_bad_tag_raises_tag_error_naming_the_field_and_sends_nothing(emu: EmulatorClient) -> None:
    from django.core.mail import EmailMessage  # type: ignore[import-untyped, unused-ignore]

    email = EmailMessage("Hi", "Hello", to=["ana@example.net"])
    email.tags = {"bad tag": "x"}
    with pytest.raises(TagError) as caught:
        email.send()
    assert caught.value.field == "tags['bad tag']"
    assert caught.value.rule == "tag-charset"

    email.tags = {}
    email.metadata = {"order": "a" * 256}
    with pytest.raises(TagError) as caught:
        email.send()
    assert caught.value.field == "metadata['order']"
    assert caught.value.rule == "tag-length"
    assert emu.messages() == []


def test_tag_given_in_both_tags_and_metadata_is_refused(emu: EmulatorClient) -> None:
    from django.core.mail import EmailMessage  # type: ignore[import-untyped, unused-ignore]

    email = EmailMessage("Hi", "Hello", to=["ana@example.net"])
    email.metadata = {"campaign": "a"}
    email.tags = {"campaign": "b"}
    with pytest.raises(TagError) as caught:
        email.send()
    assert (caught.value.field, caught.value.rule) == ("tags['campaign']", "tag-duplicate")


def test_unverified_sender_raises_seskits_classified_identity_error(emu: EmulatorClient) -> None:
    from django.core.mail import send_mail  # type: ignore[import-untyped, unused-ignore]

    with pytest.raises(IdentityError) as caught:
        send_mail("Hi", "Hello", "nobody@unverified.example", ["ana@example.net"])

    assert caught.value.code == "MessageRejected"
    assert caught.value.http_status == 400
    assert caught.value.message.startswith("Email address is not verified.")
    assert "nobody@unverified.example" in caught.value.message
    assert emu.messages() == []


def test_fail_silently_returns_zero_and_records_the_rejection(emu: EmulatorClient) -> None:
    from django.core.mail import EmailMessage, get_connection  # type: ignore[import-untyped, unused-ignore]

    bad = EmailMessage("Hi", "Hello", "nobody@unverified.example", ["ana@example.net"])
    good = EmailMessage("Hi", "Hello", to=["bo@example.net"])
    connection = get_connection(fail_silently=True)

    assert connection.send_messages([bad, good]) == 1

    [status] = bad.seskit_status.recipients.values()
    assert status.status == "rejected"
    assert isinstance(status.error, IdentityError)
    assert bad.seskit_message_ids == []
    assert [m.recipients for m in emu.messages()] == [("bo@example.net",)]


def test_configuration_set_setting_and_per_message_override(
    emu: EmulatorClient, sesv2: Any
) -> None:
    from django.core.mail import EmailMessage  # type: ignore[import-untyped, unused-ignore]
    from django.test import override_settings  # type: ignore[import-untyped, unused-ignore]

    for name in ("transactional", "marketing"):
        sesv2.create_configuration_set(ConfigurationSetName=name)
    with override_settings(SESKIT_CONFIGURATION_SET="transactional"):
        assert EmailMessage("A", "a", to=["ana@example.net"]).send() == 1
        override = EmailMessage("B", "b", to=["ana@example.net"])
        override.configuration_set = "marketing"
        assert override.send() == 1

    by_subject = {m.subject: m.configuration_set for m in emu.messages()}
    assert by_subject == {"A": "transactional", "B": "marketing"}


def test_template_with_global_data_is_one_templated_send(emu: EmulatorClient, sesv2: Any) -> None:
    from django.core.mail import EmailMessage  # type: ignore[import-untyped, unused-ignore]

    sesv2.create_email_template(
        TemplateName="Receipt",
        TemplateContent={"Subject": "Receipt from {{shop}}", "Text": "Thanks from {{shop}}."},
    )
    email = EmailMessage(to=["ana@example.net", "bo@example.net"])
    email.template_id = "Receipt"
    email.merge_global_data = {"shop": "Acme"}
    assert email.send() == 1

    message = only_message(emu)
    assert (message.operation, message.kind, message.template) == (
        "SendEmail",
        "template",
        "Receipt",
    )
    assert message.subject == "Receipt from Acme"
    assert sorted(message.recipients) == ["ana@example.net", "bo@example.net"]


def test_template_with_merge_data_sends_one_message_per_recipient(
    emu: EmulatorClient, sesv2: Any
) -> None:
    from django.core.mail import EmailMessage  # type: ignore[import-untyped, unused-ignore]

    sesv2.create_email_template(
        TemplateName="Welcome",
        TemplateContent={"Subject": "Welcome, {{name}}", "Text": "{{name}}, {{shop}} says hi."},
    )
    email = EmailMessage(to=["Ana <ana@example.net>", "bo@example.net", "cy@example.net"])
    email.template_id = "Welcome"
    email.merge_global_data = {"shop": "Acme", "name": "friend"}
    email.merge_data = {"ana@example.net": {"name": "Ana"}, "BO@example.net": {"name": "Bo"}}
    email.tags = {"flow": "welcome"}
    assert email.send() == 1

    messages = emu.messages()
    by_recipient = {m.recipients[0]: m for m in messages}
    assert {r: m.subject for r, m in by_recipient.items()} == {
        "ana@example.net": "Welcome, Ana",
        "bo@example.net": "Welcome, Bo",
        "cy@example.net": "Welcome, friend",
    }
    assert {m.operation for m in messages} == {"SendBulkEmail"}
    assert {m.tag_map["flow"] for m in messages} == {"welcome"}
    assert json.loads(by_recipient["cy@example.net"].template_data or "") == {
        "shop": "Acme",
        "name": "friend",
    }
    assert sorted(email.seskit_message_ids) == sorted(m.id for m in messages)
    assert {r: s.message_id for r, s in email.seskit_status.recipients.items()} == {
        r: m.id for r, m in by_recipient.items()
    }


def test_merge_data_with_cc_is_refused_before_any_call(emu: EmulatorClient) -> None:
    from django.core.mail import EmailMessage  # type: ignore[import-untyped, unused-ignore]

    email = EmailMessage(to=["ana@example.net"], cc=["boss@example.net"])
    email.template_id = "Welcome"
    email.merge_data = {"ana@example.net": {"name": "Ana"}}
    with pytest.raises(UnsupportedFeatureError) as caught:
        email.send()
    assert caught.value.field == "cc"
    assert emu.messages() == []


def test_template_with_a_body_is_refused(emu: EmulatorClient) -> None:
    from django.core.mail import EmailMessage  # type: ignore[import-untyped, unused-ignore]

    email = EmailMessage(body="ignored?", to=["ana@example.net"])
    email.template_id = "Welcome"
    with pytest.raises(UnsupportedFeatureError) as caught:
        email.send()
    assert caught.value.field == "body"


def test_missing_template_raises_template_not_found(emu: EmulatorClient) -> None:
    from django.core.mail import EmailMessage  # type: ignore[import-untyped, unused-ignore]

    email = EmailMessage(to=["ana@example.net"])
    email.template_id = "Nope"
    with pytest.raises(TemplateNotFoundError) as caught:
        email.send()
    assert caught.value.code == "NotFoundException"


def test_v1_setting_sends_through_the_v1_api(emu: EmulatorClient) -> None:
    from django.core.mail import EmailMessage  # type: ignore[import-untyped, unused-ignore]
    from django.test import override_settings  # type: ignore[import-untyped, unused-ignore]

    with override_settings(SESKIT_API="v1"):
        assert EmailMessage("Plain", "Hello", to=["ana@example.net"]).send() == 1
        with_file = EmailMessage("File", "See file", to=["ana@example.net"])
        with_file.attach("notes.txt", "note", "text/plain")
        assert with_file.send() == 1

    by_subject = {m.subject: (m.api, m.operation, m.kind) for m in emu.messages()}
    assert by_subject == {
        "Plain": ("v1", "SendEmail", "simple"),
        "File": ("v1", "SendRawEmail", "raw"),
    }


def test_v1_template_with_merge_data_uses_bulk_templated_email(
    emu: EmulatorClient, sesv2: Any
) -> None:
    from django.core.mail import EmailMessage  # type: ignore[import-untyped, unused-ignore]
    from django.test import override_settings  # type: ignore[import-untyped, unused-ignore]

    sesv2.create_email_template(
        TemplateName="Hello", TemplateContent={"Subject": "Hello {{name}}", "Text": "Hi"}
    )
    email = EmailMessage(to=["ana@example.net", "bo@example.net"])
    email.template_id = "Hello"
    email.merge_data = {"ana@example.net": {"name": "Ana"}, "bo@example.net": {"name": "Bo"}}
    with override_settings(SESKIT_API="v1"):
        assert email.send() == 1

    subjects = sorted((m.operation, m.subject) for m in emu.messages())
    assert subjects == [
        ("SendBulkTemplatedEmail", "Hello Ana"),
        ("SendBulkTemplatedEmail", "Hello Bo"),
    ]


def test_bad_api_setting_is_improperly_configured(emu: EmulatorClient) -> None:
    from django.core.exceptions import ImproperlyConfigured  # type: ignore[import-untyped, unused-ignore]
    from django.core.mail import get_connection  # type: ignore[import-untyped, unused-ignore]

    with pytest.raises(ImproperlyConfigured, match="SESKIT_API must be 'v1' or 'v2'"):
        get_connection(api="v3")


DOCS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "django.md"
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def test_docs_page_examples_run_against_the_emulator_and_print_what_they_say(
    emulator: EmulatorServer, django_settings: None, ses_emulator: Any
) -> None:
    from django.test import override_settings  # type: ignore[import-untyped, unused-ignore]

    # The page's examples talk to the emulator on its default port; here, to this test's one.
    blocks = [
        block.replace("http://127.0.0.1:4579", emulator.endpoint_url)
        for block in PYTHON_BLOCK.findall(DOCS_PAGE.read_text())
    ]
    settings_blocks = [b for b in blocks if b.startswith("# settings.py")]
    assert len(settings_blocks) == 2
    page_settings: dict[str, Any] = {}
    for block in settings_blocks:
        exec(block, {}, page_settings)
    assert page_settings["SESKIT_ENDPOINT_URL"] == emulator.endpoint_url

    namespace: dict[str, Any] = {}
    checked = 0
    with override_settings(**page_settings):
        for block in blocks:
            if block in settings_blocks:
                continue
            lines = block.rstrip("\n").splitlines()
            expected: list[str] = []
            while lines and lines[-1].startswith("# "):
                expected.insert(0, lines.pop()[2:])
            output = io.StringIO()
            with contextlib.redirect_stdout(output):
                exec(block, namespace)
            if expected:
                assert output.getvalue().splitlines() == expected, block
                checked += 1
    assert checked == 6

    # The page's own test, run with the ses_emulator fixture as pytest would run it.
    page_tests = [value for name, value in namespace.items() if name.startswith("test_")]
    assert len(page_tests) == 1
    page_tests[0](ses_emulator)


def test_bulk_pacing_asks_ses_for_the_rate_unless_max_send_rate_is_set(
    emu: EmulatorClient, sesv2: Any
) -> None:
    from django.core.exceptions import ImproperlyConfigured  # type: ignore[import-untyped, unused-ignore]
    from django.core.mail import EmailMessage, get_connection  # type: ignore[import-untyped, unused-ignore]

    sesv2.create_email_template(
        TemplateName="Hello", TemplateContent={"Subject": "Hello {{name}}", "Text": "Hi"}
    )
    calls: list[str] = []
    sesv2.meta.events.register("before-call.sesv2", lambda model, **_: calls.append(model.name))

    def batch() -> Any:
        email = EmailMessage(to=["ana@example.net", "bo@example.net"])
        email.template_id = "Hello"
        email.merge_data = {"ana@example.net": {"name": "Ana"}}
        return email

    # A ready client (here with a hook that lists its calls) is used as given.
    assert get_connection(client=sesv2).send_messages([batch()]) == 1
    assert calls == ["GetAccount", "SendBulkEmail"]

    # A fixed rate (-1: no pacing) needs no GetAccount, e.g. for send-only IAM permissions.
    calls.clear()
    assert get_connection(client=sesv2, max_send_rate=-1).send_messages([batch()]) == 1
    assert calls == ["SendBulkEmail"]

    with pytest.raises(ImproperlyConfigured, match="SESKIT_MAX_SEND_RATE: max_send_rate"):
        get_connection(max_send_rate=0)


def test_lazy_strings_reply_to_header_and_empty_recipients_are_read_as_django_does(
    emu: EmulatorClient,
) -> None:
    from django.core.mail import EmailMessage  # type: ignore[import-untyped, unused-ignore]
    from django.utils.functional import lazy  # type: ignore[import-untyped, unused-ignore]

    def text(value: str) -> Any:
        return lazy(lambda: value, str)()  # like gettext_lazy, without translations

    email = EmailMessage(
        text("Lazy subject"),
        text("Lazy body"),
        to=["", "ana@example.net"],
        headers={"Reply-To": '"Help, Shop" <help@example.com>, sales@example.com'},
    )
    assert email.send() == 1

    message = only_message(emu)
    assert message.subject == "Lazy subject"
    assert message.text is not None
    assert message.text.strip() == "Lazy body"
    assert message.recipients == ("ana@example.net",)
    assert message.reply_to == ('"Help, Shop" <help@example.com>', "sales@example.com")


def test_no_region_anywhere_is_a_classified_error_or_silence(
    django_settings: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from django.core.mail import EmailMessage, get_connection  # type: ignore[import-untyped, unused-ignore]

    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    email = EmailMessage("Hi", "Hello", SHOP, ["ana@example.net"])

    with pytest.raises(SendError) as caught:
        get_connection(BACKEND).send_messages([email])
    assert caught.value.code == "NoRegionError"

    assert get_connection(BACKEND, fail_silently=True).send_messages([email]) == 0


def test_v1_sends_djangos_own_mime_and_single_templated_sends(
    emu: EmulatorClient, sesv2: Any
) -> None:
    from django.core.mail import EmailMessage, EmailMultiAlternatives  # type: ignore[import-untyped, unused-ignore]
    from django.test import override_settings  # type: ignore[import-untyped, unused-ignore]

    sesv2.create_email_template(
        TemplateName="Note", TemplateContent={"Subject": "Note for {{who}}", "Text": "Hi"}
    )
    invite = EmailMultiAlternatives("Invite", "See the invite.", to=["ana@example.net"])
    invite.attach_alternative("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")
    note = EmailMessage(to=["ana@example.net"], bcc=["audit@example.net"])
    note.template_id = "Note"
    note.merge_global_data = {"who": "Ana"}
    with override_settings(SESKIT_API="v1"):
        assert send_on_one_connection([invite, note]) == 2

    by_subject = {m.subject: m for m in emu.messages()}
    assert (by_subject["Invite"].operation, by_subject["Invite"].kind) == ("SendRawEmail", "raw")
    assert (by_subject["Note for Ana"].operation, by_subject["Note for Ana"].kind) == (
        "SendTemplatedEmail",
        "template",
    )
    assert sorted(by_subject["Note for Ana"].recipients) == ["ana@example.net", "audit@example.net"]


def send_on_one_connection(messages: list[Any]) -> int:
    from django.core.mail import get_connection  # type: ignore[import-untyped, unused-ignore]

    with get_connection() as connection:
        sent: int = connection.send_messages(messages)
    return sent
