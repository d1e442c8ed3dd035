"""Tests for welcome.py, using only the ``ses_emulator`` fixture that ``pip install seskit``
provides (no conftest.py needed)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from emulator.pytest_plugin import SesEmulator
from welcome_email.welcome import create_welcome_template, send_welcome_email


@pytest.fixture
def app_ready(ses_emulator: SesEmulator) -> SesEmulator:
    """An emulator where the app's sender is verified and its template exists."""
    ses_emulator.verify_identity("hello@example.com")
    create_welcome_template(ses_emulator.sesv2)
    return ses_emulator


def test_welcome_email_is_rendered_for_the_new_user(app_ready: SesEmulator) -> None:
    message_id = send_welcome_email(app_ready.sesv2, to="ada@example.com", name="Ada", plan="pro")

    [message] = app_ready.messages(recipient="ada@example.com")
    assert message.id == message_id
    assert message.subject == "Welcome to Example App, Ada!"
    assert "Your pro plan is ready." in (message.text or "")
    assert "<b>pro</b>" in (message.html or "")
    assert message.template == "welcome"
    assert message.template_values() == {"name": "Ada", "plan": "pro"}
    assert message.tag_map == {"kind": "welcome"}


def test_each_test_starts_with_an_empty_outbox(app_ready: SesEmulator) -> None:
    assert app_ready.messages() == []


def test_in_the_sandbox_an_unverified_recipient_is_rejected(app_ready: SesEmulator) -> None:
    app_ready.update_account(sandbox=True)

    with pytest.raises(ClientError) as exc:
        send_welcome_email(app_ready.sesv2, to="ada@example.com", name="Ada")

    assert exc.value.response["Error"]["Code"] == "MessageRejected"
    assert app_ready.messages() == []
