"""The web inbox (``/_emulator/ui``) end to end: real headless Chromium driven by playwright.

Mail is sent through the emulator with boto3; the tests watch it appear in the page without a
reload, search it, open it (HTML in a sandboxed iframe, text, headers, raw, events), download
an attachment and reset. One test saves a screenshot to ``.components/artifacts/inbox.png``.

Chromium is Debian's (``/usr/bin/chromium``, installed by ``scripts/components/inbox.sh``);
playwright's own browser download is never used.
"""

from __future__ import annotations

import importlib.util
import json
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config

from emulator.server import EmulatorServer
from tests.components import require_component

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / ".components" / "artifacts"
SENDER = "shop@example.com"
# A 2x3 PNG (valid, tiny) for the inline-image test.
PNG_2X3 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000002000000030802000000368849d6"
    "0000001049444154789c63f8cfc000440c28140044d005fba4cfde800000000049"
    "454e44ae426082"
)
# Long enough for a 1 s poll to land a few times over; every wait ends as soon as it can.
WAIT_MS = 10_000

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(auto_verify=True) as running:
        yield running


@pytest.fixture(scope="module")
def browser(server: EmulatorServer) -> Iterator[BrowserContext]:
    # Needs `server` so that the server stops after the browser: EmulatorServer.stop runs an
    # event loop on this thread, which it cannot while the sync playwright driver's one runs.
    require_component(
        "chromium",
        CHROMIUM.exists(),
        f"{CHROMIUM} is missing; run scripts/components/inbox.sh (apt install chromium)",
    )
    require_component(
        "playwright",
        importlib.util.find_spec("playwright") is not None,
        "the playwright package is missing; run scripts/components/inbox.sh",
    )
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as driver, tempfile.TemporaryDirectory() as profile:
        context = driver.chromium.launch_persistent_context(
            profile,  # a fresh --user-data-dir for every run
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            accept_downloads=True,
            viewport={"width": 1280, "height": 760},
        )
        context.set_default_timeout(WAIT_MS)
        expect.set_options(timeout=WAIT_MS)
        yield context
        context.close()


@pytest.fixture
def sesv2(server: EmulatorServer) -> Any:
    server.backend.reset()
    return client(server, "sesv2")


@pytest.fixture
def page(browser: BrowserContext, server: EmulatorServer, sesv2: Any) -> Iterator[Page]:
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}")
            if message.type == "error" and "sandboxed" not in message.text
            else None
        ),
    )
    page.goto(server.endpoint_url + "/_emulator/ui")
    yield page
    page.close()
    # A script error or a failed request in the page is a bug, even when the test passed.
    assert problems == []


def client(server: EmulatorServer, service: str) -> Any:
    return boto3.session.Session().client(
        service,
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1}),
    )


def send(sesv2: Any, to: str, subject: str, html: str | None = None, text: str = "hi") -> str:
    body: dict[str, Any] = {"Text": {"Data": text}}
    if html is not None:
        body["Html"] = {"Data": html}
    response = sesv2.send_email(
        FromEmailAddress=f"Shop <{SENDER}>",
        Destination={"ToAddresses": [to]},
        Content={"Simple": {"Subject": {"Data": subject}, "Body": body}},
    )
    message_id: str = response["MessageId"]
    return message_id


def subjects(page: Page) -> list[str]:
    return page.locator("#messages .message .subject").all_inner_texts()


def expect_subjects(page: Page, expected: list[str]) -> None:
    # Locator assertions retry until WAIT_MS; they run in playwright's own isolated world, so
    # the page's Content-Security-Policy (no eval) does not get in their way.
    from playwright.sync_api import expect

    expect(page.locator("#messages .message .subject")).to_have_text(expected)
    assert subjects(page) == expected


def test_new_messages_appear_live_newest_first(page: Page, sesv2: Any) -> None:
    page.wait_for_selector("#empty:not([hidden])")
    assert page.locator("#count").inner_text() == "0 of 0 messages"
    send(sesv2, "ana@example.com", "First")
    expect_subjects(page, ["First"])
    send(sesv2, "bob@example.com", "Second")
    expect_subjects(page, ["Second", "First"])  # no reload: the page polls
    assert page.locator("#count").inner_text() == "2 of 2 messages"
    assert page.locator("#messages .message .to").first.inner_text() == "To: bob@example.com"


def test_search_by_recipient_sender_and_subject(page: Page, sesv2: Any) -> None:
    send(sesv2, "ana@example.com", "Invoice 1")
    send(sesv2, "bob@example.com", "Receipt 2")
    send(sesv2, "ana@example.com", "Newsletter")
    expect_subjects(page, ["Newsletter", "Receipt 2", "Invoice 1"])

    page.fill("#search", "ana@")  # anywhere: a substring of an address
    expect_subjects(page, ["Newsletter", "Invoice 1"])

    page.select_option("#search-field", "subject")
    page.fill("#search", "receipt")
    expect_subjects(page, ["Receipt 2"])

    page.select_option("#search-field", "recipient")
    page.fill("#search", "BOB@example.com")  # the API's filter: whole address, any case
    expect_subjects(page, ["Receipt 2"])

    page.select_option("#search-field", "sender")
    page.fill("#search", "nobody@example.com")
    expect_subjects(page, [])
    assert page.locator("#count").inner_text() == "0 of 0 messages"

    page.fill("#search", SENDER)
    expect_subjects(page, ["Newsletter", "Receipt 2", "Invoice 1"])


def test_message_html_is_shown_in_a_sandbox_that_runs_no_script(page: Page, sesv2: Any) -> None:
    html = (
        "<h1 id='greeting'>Thanks, Ana</h1><p>Your order ships soon.</p>"
        "<script>parent.document.title = 'pwned'; document.body.dataset.ran = 'yes'</script>"
    )
    message_id = send(sesv2, "ana@example.com", "Order shipped", html=html, text="Plain Ana")
    page.click("#messages .message")
    frame = page.locator("#detail iframe.html-body")
    assert frame.get_attribute("sandbox") == ""  # every restriction on: no scripts, no origin
    assert page.frame_locator("#detail iframe").locator("#greeting").inner_text() == "Thanks, Ana"
    ran = page.frame_locator("#detail iframe").locator("body").get_attribute("data-ran")
    assert ran is None
    assert page.title() == "seskit inbox"
    assert page.locator("#detail .subject").inner_text() == "Order shipped"

    page.click('.tabs [data-tab="text"]')
    assert page.locator(".text-body").inner_text().rstrip() == "Plain Ana"  # as sent, CRLF

    page.click('.tabs [data-tab="headers"]')
    header_names = page.locator(".headers th").all_inner_texts()
    assert {"From", "To", "Subject", "MIME-Version"} <= set(header_names)

    page.click('.tabs [data-tab="raw"]')
    from playwright.sync_api import expect

    expect(page.locator(".raw-body")).not_to_be_empty()
    raw = page.locator(".raw-body").inner_text()
    assert "Subject: Order shipped" in raw
    assert page.locator(".raw-link").get_attribute("href") == (
        f"/_emulator/messages/{message_id}/raw"
    )

    page.click('.tabs [data-tab="events"]')
    events = page.locator(".events summary strong").all_inner_texts()
    assert any(summary.startswith("Send") for summary in events)


def test_an_open_message_shows_new_events_and_keeps_its_body(
    page: Page, server: EmulatorServer, sesv2: Any
) -> None:
    # The list is polled in its summary view (no bodies); an event added to the open message
    # must show up in it without losing the bodies read when it was opened.
    from playwright.sync_api import expect

    message_id = send(sesv2, "ana@example.com", "Opened later", html="<p id='b'>Body</p>")
    page.click("#messages .message")
    expect(page.locator('.tabs [data-tab="events"]')).to_have_text("Events (2)")
    request = urllib.request.Request(
        f"{server.endpoint_url}/_emulator/messages/{message_id}/events",
        data=json.dumps({"type": "Open"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
    expect(page.locator('.tabs [data-tab="events"]')).to_have_text("Events (3)")
    page.click('.tabs [data-tab="events"]')
    events = page.locator(".events summary strong").all_inner_texts()
    assert [summary.split(" ")[0] for summary in events] == ["Send", "Delivery", "Open"]
    page.click('.tabs [data-tab="html"]')
    assert page.frame_locator("#detail iframe").locator("#b").inner_text() == "Body"
    page.click('.tabs [data-tab="text"]')
    assert page.locator(".text-body").inner_text().rstrip() == "hi"


def test_attachment_downloads_with_its_name_and_exact_bytes(
    page: Page, server: EmulatorServer, tmp_path: Path
) -> None:
    mail = EmailMessage()
    mail["From"] = SENDER
    mail["To"] = "ana@example.com"
    mail["Subject"] = "Your invoice"
    mail.set_content("The invoice is attached.")
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 8
    mail.add_attachment(pdf, maintype="application", subtype="pdf", filename="invoice 42.pdf")
    client(server, "ses").send_raw_email(RawMessage={"Data": mail.as_bytes()})

    page.click("#messages .message")
    page.click('.tabs [data-tab="attachments"]')
    assert page.locator('.tabs [data-tab="attachments"]').inner_text() == "Attachments (1)"
    with page.expect_download() as download_info:
        page.click(".attachments a.attachment")
    download = download_info.value
    assert download.suggested_filename == "invoice 42.pdf"
    saved = tmp_path / "download.pdf"
    download.save_as(saved)
    assert saved.read_bytes() == pdf


def test_inline_images_show_and_a_link_reopens_the_message(
    page: Page, server: EmulatorServer
) -> None:
    mail = EmailMessage()
    mail["From"] = SENDER
    mail["To"] = "ana@example.com"
    mail["Subject"] = "With a logo"
    mail.set_content("Logo inside.")
    mail.add_alternative('<p>Our logo:</p><img id="logo" src="cid:logo@example.com">', "html")
    html_part = mail.get_body(("html",))
    assert html_part is not None
    html_part.add_related(PNG_2X3, maintype="image", subtype="png", cid="<logo@example.com>")
    message_id = client(server, "ses").send_raw_email(RawMessage={"Data": mail.as_bytes()})[
        "MessageId"
    ]

    from playwright.sync_api import expect

    page.click("#messages .message")
    logo = page.frame_locator("#detail iframe").locator("#logo")
    assert logo.get_attribute("src") == f"/_emulator/messages/{message_id}/attachments/0"
    # Loaded from the emulator inside the sandbox, it has its real size (a broken one has 0).
    expect(logo).to_have_js_property("naturalWidth", 2)
    assert page.url.endswith(f"#{message_id}")

    again = page.context.new_page()
    again.goto(page.url)  # the address names the open message
    expect(again.locator("#detail .subject")).to_have_text("With a logo")
    again.close()


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    """GET with the standard library (the sync playwright driver owns this thread's loop)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_attachment_endpoint_answers_json_404_for_unknown_message_or_index(
    server: EmulatorServer, sesv2: Any
) -> None:
    message_id = send(sesv2, "ana@example.com", "No attachments")
    base = server.endpoint_url
    status, _, body = fetch(f"{base}/_emulator/messages/nope/attachments/0")
    assert status == 404
    assert json.loads(body)["error"] == {
        "code": "NotFound",
        "message": "no message with id 'nope'",
        "field": "id",
    }
    status, _, body = fetch(f"{base}/_emulator/messages/{message_id}/attachments/0")
    assert status == 404
    error = json.loads(body)["error"]
    assert error["field"] == "index"
    assert error["message"] == f"message {message_id} has 0 attachment(s); no index '0'"
    status, headers, _ = fetch(f"{base}/_emulator/ui")
    assert status == 200
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "img-src 'self' data:" in headers["Content-Security-Policy"]  # no remote images
    status, _, _ = fetch(f"{base}/_emulator/ui/static/secrets.txt")
    assert status == 404


def test_reset_button_empties_the_inbox(page: Page, server: EmulatorServer, sesv2: Any) -> None:
    send(sesv2, "ana@example.com", "Soon gone")
    expect_subjects(page, ["Soon gone"])
    page.click("#messages .message")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#reset")
    expect_subjects(page, [])
    page.wait_for_selector("#empty:not([hidden])")
    assert page.locator("#detail").inner_text() == "Select a message."
    assert len(server.backend.store) == 0


def test_dismissing_the_reset_dialog_keeps_everything(
    page: Page, server: EmulatorServer, sesv2: Any
) -> None:
    send(sesv2, "ana@example.com", "Kept")
    expect_subjects(page, ["Kept"])
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("#reset")
    # A message sent after the dialog shows up only on a later poll, by which time a reset
    # would have emptied the list.
    send(sesv2, "bob@example.com", "Later")
    expect_subjects(page, ["Later", "Kept"])
    assert len(server.backend.store) == 2


def test_screenshot_of_a_busy_inbox(page: Page, server: EmulatorServer, sesv2: Any) -> None:
    invoice = EmailMessage()
    invoice["From"] = f"Billing <{SENDER}>"
    invoice["To"] = "erin@example.com"
    invoice["Subject"] = "Invoice INV-2026-118"
    invoice.set_content("Your invoice is attached.")
    invoice.add_attachment(b"%PDF-1.4\n", maintype="application", subtype="pdf", filename="a.pdf")
    client(server, "ses").send_raw_email(RawMessage={"Data": invoice.as_bytes()})
    orders = [
        ("bob@example.com", "Password reset requested"),
        ("carla@example.com", "Welcome to Example Shop"),
        ("dev@example.com", "Weekly report: 3 new signups"),
        ("ana@example.com", "Your order #1042 has shipped"),
    ]
    for to, subject in orders:
        html = (
            "<div style='font-family:sans-serif;max-width:520px'>"
            "<h2 style='color:#2563eb'>Example Shop</h2>"
            f"<p>Hello {to.split('@')[0].title()},</p><p>{subject}.</p>"
            "<p style='color:#666'>Thanks for shopping with us.</p></div>"
        )
        send(sesv2, to, subject, html=html)
    newest_first = [subject for _, subject in reversed(orders)]
    expect_subjects(page, [*newest_first, "Invoice INV-2026-118"])
    page.click("#messages .message >> nth=0")
    page.frame_locator("#detail iframe").locator("h2").wait_for()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "inbox.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank one
