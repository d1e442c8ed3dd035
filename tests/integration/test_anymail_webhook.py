"""django-anymail's Amazon SES tracking webhook, on a real Django server, fed by the emulator.

Django serves ``anymail.urls`` from a WSGI server thread on 127.0.0.1. The emulator subscribes
that webhook (with HTTP basic auth, as anymail requires) to an SNS topic; anymail answers the
SubscriptionConfirmation by calling SNS ``ConfirmSubscription`` through boto3 pointed at the
emulator; then mail sent through anymail's own SES backend to the mailbox simulator comes back
as anymail's normalized tracking signals: sent, delivered, bounced, complained.
"""

from __future__ import annotations

import importlib
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler

import pytest
import requests

from emulator.server import EmulatorServer
from tests.components import require_component

# Imported by name: Django and anymail ship no type information, and are optional components
# (scripts/components/events.sh), so mypy must not depend on whether they are installed.
try:
    anymail_signals: Any = importlib.import_module("anymail.signals")
    django: Any = importlib.import_module("django")
    django_conf: Any = importlib.import_module("django.conf")
    django_apps: Any = importlib.import_module("django.apps")
    django_functional: Any = importlib.import_module("django.utils.functional")
    django_mail: Any = importlib.import_module("django.core.mail")
    django_urls: Any = importlib.import_module("django.urls")
    WSGIHandler: Any = importlib.import_module("django.core.handlers.wsgi").WSGIHandler
    ThreadedWSGIServer: Any = importlib.import_module(
        "django.core.servers.basehttp"
    ).ThreadedWSGIServer
    override_settings: Any = importlib.import_module("django.test.utils").override_settings
    HAVE_ANYMAIL = True
    urlpatterns = [django_urls.path("anymail/", django_urls.include("anymail.urls"))]
except ImportError:  # the component check below reports it
    HAVE_ANYMAIL = False

TOPIC = "arn:aws:sns:us-east-1:000000000000:anymail-tracking"
SECRET = "hook:s3cret-token"
MESSAGE_TIMEOUT = 10.0  # seconds to wait for one webhook call


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep the server's per-request lines out of the test output."""


@pytest.fixture(scope="module")
def django_base_url() -> Iterator[str]:
    """anymail's URLs served by a real Django WSGI server thread on 127.0.0.1."""
    require_component(
        "django-anymail",
        HAVE_ANYMAIL,
        "Django and django-anymail are not installed (bash scripts/components/events.sh)",
    )
    # Other test modules may configure Django too (settings.configure works once per process):
    # configure it only if nobody has, and put it back as found afterwards.
    configured_here = not django_conf.settings.configured
    if configured_here:
        django_conf.settings.configure(
            SECRET_KEY="seskit-tests",
            ALLOWED_HOSTS=["127.0.0.1"],
            USE_TZ=True,
            MIDDLEWARE=[],
            INSTALLED_APPS=[],
        )
    if not django_apps.apps.ready:
        django.setup()
    server = ThreadedWSGIServer(("127.0.0.1", 0), _QuietHandler, allow_reuse_address=False)
    server.set_app(WSGIHandler())
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="django-anymail", daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        if configured_here:
            # Django has no public "unconfigure"; resetting the lazy object lets a later module
            # call settings.configure() with its own values.
            django_conf.settings._wrapped = django_functional.empty


@pytest.fixture
def tracked(django_base_url: str, emulator: EmulatorServer) -> Iterator[queue.Queue[Any]]:
    """anymail configured for the emulator; yields the tracking events it emits."""
    received: queue.Queue[Any] = queue.Queue()

    def on_tracking(sender: object, event: Any, esp_name: str, **kwargs: Any) -> None:
        received.put(event)

    anymail_settings = {
        "WEBHOOK_SECRET": SECRET,
        "AMAZON_SES_CONFIGURATION_SET_NAME": "tracking",
        "AMAZON_SES_CLIENT_PARAMS": {
            "endpoint_url": emulator.endpoint_url,
            "region_name": "us-east-1",
            "aws_access_key_id": "AKIDEXAMPLE",
            "aws_secret_access_key": "secret",
            "config": {"retries": {"total_max_attempts": 1}},
        },
    }
    with override_settings(
        ROOT_URLCONF=__name__, ALLOWED_HOSTS=["127.0.0.1"], ANYMAIL=anymail_settings
    ):
        anymail_signals.tracking.connect(on_tracking)
        try:
            yield received
        finally:
            anymail_signals.tracking.disconnect(on_tracking)


def _subscribe_webhook(emulator: EmulatorServer, django_base_url: str) -> dict[str, Any]:
    """Subscribe anymail's tracking URL through the control API; wait for anymail to confirm."""
    user, password = SECRET.split(":")
    port = django_base_url.rsplit(":", 1)[1]
    endpoint = f"http://{user}:{password}@127.0.0.1:{port}/anymail/amazon_ses/tracking/"
    created = requests.post(
        f"{emulator.endpoint_url}/_emulator/sns/subscriptions",
        json={"topic_arn": TOPIC, "endpoint": endpoint},
        timeout=5,
    )
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "pending"
    deadline = time.monotonic() + MESSAGE_TIMEOUT
    while time.monotonic() < deadline:
        listed = requests.get(
            f"{emulator.endpoint_url}/_emulator/sns/subscriptions",
            params={"topic_arn": TOPIC},
            timeout=5,
        ).json()["subscriptions"]
        # Confirmed inside anymail's handler; the attempt is counted once its 200 arrives.
        if listed[0]["status"] == "confirmed" and listed[0]["confirmation_attempts"]:
            return dict(listed[0])
        time.sleep(0.02)
    raise AssertionError(f"anymail never confirmed the subscription: {listed}")


def _settled_events(emulator: EmulatorServer, message_id: str) -> list[dict[str, Any]]:
    """The message's logged events once no delivery is pending (the webhook's signal fires
    before its HTTP answer reaches the emulator)."""
    deadline = time.monotonic() + MESSAGE_TIMEOUT
    while True:
        logged: list[dict[str, Any]] = requests.get(
            f"{emulator.endpoint_url}/_emulator/events",
            params={"message_id": message_id},
            timeout=5,
        ).json()["events"]
        statuses = [d["status"] for e in logged for p in e["published"] for d in p["deliveries"]]
        if "pending" not in statuses or time.monotonic() > deadline:
            return logged
        time.sleep(0.02)


def _events(received: queue.Queue[Any], count: int) -> list[Any]:
    found = []
    for _ in range(count):
        found.append(received.get(timeout=MESSAGE_TIMEOUT))
    return found


def _setup_sending(sesv2: Any, matching: list[str]) -> None:
    sesv2.create_email_identity(EmailIdentity="example.com")
    sesv2.create_configuration_set(ConfigurationSetName="tracking")
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName="tracking",
        EventDestinationName="to-anymail",
        EventDestination={
            "Enabled": True,
            "MatchingEventTypes": matching,
            "SnsDestination": {"TopicArn": TOPIC},
        },
    )


def _send_with_anymail(to: list[str]) -> str:
    connection = django_mail.get_connection("anymail.backends.amazon_ses.EmailBackend")
    message = django_mail.EmailMessage(
        subject="Tracking test",
        body="Hello from anymail",
        from_email="app@example.com",
        to=to,
        connection=connection,
    )
    message.send()
    status = message.anymail_status  # set by anymail's backend
    assert status.status == {"queued"}
    return str(status.message_id)


def test_anymail_confirms_the_subscription_through_the_emulator_sns_api(
    tracked: queue.Queue[Any], emulator: EmulatorServer, django_base_url: str
) -> None:
    subscription = _subscribe_webhook(emulator, django_base_url)

    assert subscription["topic_arn"] == TOPIC
    assert subscription["confirmation_attempts"] == 1
    # The password never shows in the control API.
    assert subscription["endpoint"].startswith("http://hook:***@127.0.0.1:")
    assert tracked.empty()


def test_anymail_normalizes_sent_delivered_bounced_and_complained_events(
    tracked: queue.Queue[Any], emulator: EmulatorServer, django_base_url: str, sesv2: Any
) -> None:
    _subscribe_webhook(emulator, django_base_url)
    _setup_sending(sesv2, ["SEND", "DELIVERY", "BOUNCE", "COMPLAINT"])
    success = "success@simulator.amazonses.com"
    bounce = "bounce@simulator.amazonses.com"
    complaint = "complaint@simulator.amazonses.com"

    message_id = _send_with_anymail([success, bounce, complaint])

    # Send: one "sent" per recipient; Delivery: success and complaint; Bounce; Complaint.
    got = _events(tracked, 7)
    assert sorted((e.event_type, e.recipient) for e in got) == sorted(
        [
            ("sent", success),
            ("sent", bounce),
            ("sent", complaint),
            ("delivered", success),
            ("delivered", complaint),
            ("bounced", bounce),
            ("complained", complaint),
        ]
    )
    assert {e.message_id for e in got} == {message_id}
    by_type = {e.event_type: e for e in got}
    assert by_type["bounced"].description == "Permanent: General"
    assert by_type["bounced"].reject_reason == "bounced"
    assert by_type["bounced"].mta_response == "smtp; 550 5.1.1 user unknown"
    assert by_type["delivered"].mta_response == "250 2.6.0 Message received"
    assert by_type["complained"].description == "abuse"
    assert by_type["complained"].user_agent == "Amazon SES Mailbox Simulator"
    assert by_type["sent"].esp_event["mail"]["tags"]["ses:configuration-set"] == ["tracking"]
    assert tracked.empty()

    # Every delivery is logged as delivered, on the first attempt after the 401 challenge.
    logged = _settled_events(emulator, message_id)
    assert [e["type"] for e in logged] == ["Send", "Delivery", "Bounce", "Complaint"]
    deliveries = [d for e in logged for p in e["published"] for d in p["deliveries"]]
    assert [(d["status"], d["http_status"], d["attempts"]) for d in deliveries] == [
        ("delivered", 200, 1)
    ] * 4


def test_anymail_reports_a_suppressed_address_as_a_permanent_suppressed_bounce(
    tracked: queue.Queue[Any], emulator: EmulatorServer, django_base_url: str, sesv2: Any
) -> None:
    _subscribe_webhook(emulator, django_base_url)
    _setup_sending(sesv2, ["BOUNCE"])
    sesv2.put_suppressed_destination(EmailAddress="gone@example.net", Reason="BOUNCE")

    message_id = _send_with_anymail(["suppressionlist@simulator.amazonses.com", "gone@example.net"])

    got = sorted(_events(tracked, 2), key=lambda e: e.recipient)
    assert [(e.event_type, e.recipient, e.description) for e in got] == [
        ("bounced", "gone@example.net", "Permanent: OnAccountSuppressionList"),
        ("bounced", "suppressionlist@simulator.amazonses.com", "Permanent: Suppressed"),
    ]
    assert {e.message_id for e in got} == {message_id}


def test_anymail_handles_identity_notifications_as_well_as_event_publishing(
    tracked: queue.Queue[Any], emulator: EmulatorServer, django_base_url: str, ses: Any
) -> None:
    _subscribe_webhook(emulator, django_base_url)
    ses.verify_domain_identity(Domain="example.com")
    ses.set_identity_notification_topic(
        Identity="example.com", NotificationType="Bounce", SnsTopic=TOPIC
    )
    ses.set_identity_headers_in_notifications_enabled(
        Identity="example.com", NotificationType="Bounce", Enabled=True
    )
    sent = ses.send_email(
        Source="app@example.com",
        Destination={"ToAddresses": ["bounce+n1@simulator.amazonses.com"]},
        Message={"Subject": {"Data": "v1"}, "Body": {"Text": {"Data": "x"}}},
    )

    (event,) = _events(tracked, 1)
    assert event.event_type == "bounced"
    assert event.recipient == "bounce+n1@simulator.amazonses.com"
    assert event.message_id == sent["MessageId"]
    assert event.esp_event["notificationType"] == "Bounce"
    assert event.esp_event["mail"]["commonHeaders"]["subject"] == "v1"


def test_anymail_sees_opens_and_clicks_requested_through_the_control_api(
    tracked: queue.Queue[Any], emulator: EmulatorServer, django_base_url: str, sesv2: Any
) -> None:
    _subscribe_webhook(emulator, django_base_url)
    _setup_sending(sesv2, ["OPEN", "CLICK"])
    message_id = _send_with_anymail(["reader@example.net"])
    url = f"{emulator.endpoint_url}/_emulator/messages/{message_id}/events"

    opened = requests.post(url, json={"type": "Open", "user_agent": "TestMail/1.0"}, timeout=5)
    (open_event,) = _events(tracked, 1)
    clicked = requests.post(url, json={"type": "Click", "link": "https://example.com/x"}, timeout=5)
    (click_event,) = _events(tracked, 1)

    assert (opened.status_code, clicked.status_code) == (201, 201)
    assert (open_event.event_type, open_event.recipient, open_event.user_agent) == (
        "opened",
        "reader@example.net",
        "TestMail/1.0",
    )
    assert (click_event.event_type, click_event.click_url) == ("clicked", "https://example.com/x")
    assert {open_event.message_id, click_event.message_id} == {message_id}
