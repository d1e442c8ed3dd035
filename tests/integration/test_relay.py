"""The SMTP relay (``--smtp-relay``) against a real aiosmtpd server running as a separate process.

The server script below records every SMTP transaction (MAIL FROM, every RCPT TO, the data,
whether it was authenticated and encrypted) as one JSON line; the tests send through the
emulator with boto3 and compare what arrived with what the emulator recorded.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import io
import json
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosmtplib
import boto3
import pytest
from botocore.config import Config

from emulator.__main__ import settings_from
from emulator.config import Settings, SettingsError
from emulator.inspect import settings_json
from emulator.relay import (
    RelayOutcome,
    RelayTarget,
    envelope_for,
    is_retryable,
    relay_event,
    retry_delays,
)
from emulator.server import EmulatorServer
from emulator.store import MessageRecord
from tests.components import require_component

SENDER = "sender@example.com"

SMTP_SERVER = r"""
import asyncio, base64, json, ssl, sys
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

out_path, mode, cert, key, user, password = sys.argv[1:7]

class Recorder:
    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.startswith("refused"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        entry = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "data": base64.b64encode(envelope.original_content).decode(),
            "user": session.auth_data.login.decode() if session.authenticated else None,
            "tls": server.transport.get_extra_info("sslcontext") is not None,
        }
        with open(out_path, "a") as out:
            out.write(json.dumps(entry) + "\n")
        return "250 OK recorded"

def authenticate(server, session, envelope, mechanism, data):
    ok = (isinstance(data, LoginPassword) and data.login == user.encode()
          and data.password == password.encode())
    return AuthResult(success=ok, handled=False, auth_data=data)

async def main():
    context = None
    if mode != "plain":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
    starttls = context if mode == "starttls" else None
    def protocol():
        return SMTP(Recorder(), hostname="sink.test", tls_context=starttls,
                    require_starttls=starttls is not None,
                    authenticator=authenticate if user else None, auth_required=bool(user))
    server = await asyncio.get_running_loop().create_server(
        protocol, "127.0.0.1", 0, ssl=context if mode == "tls" else None)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


@dataclass
class SmtpSink:
    """A running aiosmtpd server process and the transactions it has recorded."""

    process: subprocess.Popen[str]
    port: int
    log: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def received(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        lines = self.log.read_text().splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]


SinkFactory = Callable[..., SmtpSink]


@pytest.fixture
def smtp_sink(tmp_path: Path) -> Iterator[SinkFactory]:
    """Start aiosmtpd server processes: ``smtp_sink(tls="plain"|"starttls"|"tls", user=...)``."""
    require_component(
        "aiosmtpd",
        importlib.util.find_spec("aiosmtpd") is not None,
        "the aiosmtpd package is missing; run scripts/components/inbox.sh",
    )
    started: list[subprocess.Popen[str]] = []

    def start(*, tls: str = "plain", user: str = "", password: str = "") -> SmtpSink:
        cert = key = ""
        if tls != "plain":
            openssl = shutil.which("openssl")
            require_component("openssl", openssl is not None, "openssl makes the test certificate")
            assert openssl is not None
            cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
            subprocess.run(
                [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                 "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
                check=True, capture_output=True, timeout=60,
            )  # fmt: skip
        log = tmp_path / f"sink-{len(started)}.jsonl"
        process = subprocess.Popen(
            [sys.executable, "-c", SMTP_SERVER, str(log), tls, cert, key, user, password],
            stdout=subprocess.PIPE,
            text=True,
        )
        started.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()  # the bound port, or EOF if the server died
        assert line.strip().isdigit(), f"the SMTP server did not start (exit {process.poll()})"
        return SmtpSink(process=process, port=int(line), log=log)

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def emulator_for(address: str, **overrides: Any) -> EmulatorServer:
    settings: dict[str, Any] = {
        "auto_verify": True,
        "smtp_relay": address,
        "smtp_relay_retry_delay": 0.01,
        "smtp_relay_timeout": 5.0,
        **overrides,
    }
    return EmulatorServer(**settings)


def client(server: EmulatorServer, service: str) -> Any:
    return boto3.session.Session().client(
        service,
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1}),
    )


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """Poll ``predicate`` until it returns something truthy (bounded; the relay is async)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def relay_events(server: EmulatorServer, message_id: str) -> list[dict[str, Any]]:
    record = server.backend.store.get(message_id)
    assert record is not None
    return [event for event in record.events if event.get("type") == "relay"]


def stored(server: EmulatorServer, message_id: str) -> MessageRecord:
    record = server.backend.store.get(message_id)
    assert record is not None
    return record


def test_simple_send_arrives_with_its_envelope_and_exact_mime(smtp_sink: SinkFactory) -> None:
    sink = smtp_sink()
    with emulator_for(sink.address) as server:
        response = client(server, "sesv2").send_email(
            FromEmailAddress=f"Sender <{SENDER}>",
            Destination={"ToAddresses": ["to@example.com"], "CcAddresses": ["cc@example.com"]},
            Content={
                "Simple": {
                    "Subject": {"Data": "Relayed hello"},
                    "Body": {"Text": {"Data": "plain body"}, "Html": {"Data": "<b>html</b>"}},
                }
            },
        )
        message_id = response["MessageId"]
        [arrived] = wait_for(sink.received, "the message at the SMTP server")
        [event] = wait_for(lambda: relay_events(server, message_id), "the relay event")
        record = stored(server, message_id)
    assert arrived["mail_from"] == SENDER
    assert arrived["rcpt_tos"] == ["to@example.com", "cc@example.com"]
    assert base64.b64decode(arrived["data"]) == record.raw
    assert event["status"] == "sent"
    assert event["relay"] == sink.address
    assert event["attempts"] == 1
    assert event["recipients"] == ["to@example.com", "cc@example.com"]
    assert event["error"] is None
    assert event["refused"] == {}


def test_raw_send_relays_bcc_recipients_but_not_simulator_addresses(
    smtp_sink: SinkFactory,
) -> None:
    sink = smtp_sink()
    raw = (
        f"From: {SENDER}\r\nTo: to@example.com\r\nSubject: raw with bcc\r\n"
        "Content-Type: text/plain\r\n\r\nsecret copy\r\n"
    ).encode()
    with emulator_for(sink.address) as server:
        response = client(server, "ses").send_raw_email(
            Source=SENDER,
            Destinations=[
                "to@example.com",
                "hidden@example.com",
                "success@simulator.amazonses.com",
            ],
            RawMessage={"Data": raw},
        )
        message_id = response["MessageId"]
        [arrived] = wait_for(sink.received, "the raw message at the SMTP server")
        [event] = wait_for(lambda: relay_events(server, message_id), "the relay event")
    assert arrived["rcpt_tos"] == ["to@example.com", "hidden@example.com"]
    data = base64.b64decode(arrived["data"])
    assert b"hidden@example.com" not in data  # a Bcc travels in the envelope only
    assert b"secret copy" in data
    assert event["recipients"] == ["to@example.com", "hidden@example.com"]


def test_templated_send_arrives_rendered(smtp_sink: SinkFactory) -> None:
    sink = smtp_sink()
    with emulator_for(sink.address) as server:
        sesv2 = client(server, "sesv2")
        sesv2.create_email_template(
            TemplateName="welcome",
            TemplateContent={"Subject": "Hi {{name}}", "Text": "Welcome, {{name}}!"},
        )
        sesv2.send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["ana@example.com"], "BccAddresses": ["audit@example.com"]},
            Content={"Template": {"TemplateName": "welcome", "TemplateData": '{"name": "Ana"}'}},
        )
        [arrived] = wait_for(sink.received, "the templated message at the SMTP server")
    assert arrived["rcpt_tos"] == ["ana@example.com", "audit@example.com"]
    data = base64.b64decode(arrived["data"])
    assert b"Subject: Hi Ana" in data
    assert b"Welcome, Ana!" in data


def test_message_to_simulator_only_is_not_relayed(smtp_sink: SinkFactory) -> None:
    sink = smtp_sink()
    with emulator_for(sink.address) as server:
        sesv2 = client(server, "sesv2")
        simple = {"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}}
        simulated = sesv2.send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["bounce@simulator.amazonses.com"]},
            Content=simple,
        )["MessageId"]
        real = sesv2.send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["real@example.com"]},
            Content=simple,
        )["MessageId"]
        wait_for(lambda: relay_events(server, real), "the real message's relay event")
        assert relay_events(server, simulated) == []
    assert [m["rcpt_tos"] for m in sink.received()] == [["real@example.com"]]


def test_recipients_the_server_refuses_are_listed_on_the_event(smtp_sink: SinkFactory) -> None:
    sink = smtp_sink()
    with emulator_for(sink.address) as server:
        sesv2 = client(server, "sesv2")
        simple = {"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}}
        some = sesv2.send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["ok@example.com", "refused@example.com"]},
            Content=simple,
        )["MessageId"]
        [partly] = wait_for(lambda: relay_events(server, some), "the partial event")
        everyone = sesv2.send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["refused@example.com", "refused2@example.com"]},
            Content=simple,
        )["MessageId"]
        [failed] = wait_for(lambda: relay_events(server, everyone), "the failure event")
    assert partly["status"] == "sent"
    assert partly["refused"] == {"refused@example.com": "550 5.1.1 no such user"}
    assert [m["rcpt_tos"] for m in sink.received()] == [["ok@example.com"]]
    assert failed["status"] == "failed"
    assert failed["attempts"] == 1  # 550 is permanent
    assert failed["error"] == (
        "every recipient was refused: refused@example.com: 550 5.1.1 no such user; "
        "refused2@example.com: 550 5.1.1 no such user"
    )


def test_a_message_recorded_from_another_thread_is_relayed_too(smtp_sink: SinkFactory) -> None:
    sink = smtp_sink()
    with emulator_for(sink.address) as server:
        record = _record(id="from-a-thread", recipients=("t@example.com",), outcomes={})
        server.backend.store.add(record)
        for listener in server.backend.record_listeners:  # as the send pipeline does
            listener(record)
        [event] = wait_for(lambda: relay_events(server, "from-a-thread"), "the relay event")
    assert event["status"] == "sent"
    assert [m["rcpt_tos"] for m in sink.received()] == [["t@example.com"]]


def test_dead_relay_never_fails_the_send_and_records_the_failure() -> None:
    # Nothing listens on the port of a socket we bound and closed.
    with EmulatorServer(port=0) as probe:
        dead = f"127.0.0.1:{probe.port}"
    with emulator_for(dead, smtp_relay_attempts=3) as server:
        response = client(server, "ses").send_email(
            Source=SENDER,
            Destination={"ToAddresses": ["to@example.com"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}},
        )
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
        message_id = response["MessageId"]
        [event] = wait_for(lambda: relay_events(server, message_id), "the failure event")
        listed = server.backend.store.get(message_id)
    assert event["status"] == "failed"
    assert event["attempts"] == 3  # a refused connection is retried
    assert event["relay"] == dead
    assert "Connect" in event["error"] or "connect" in event["error"]
    assert listed is not None


def test_starttls_and_auth_reach_a_server_that_requires_both(smtp_sink: SinkFactory) -> None:
    sink = smtp_sink(tls="starttls", user="relay-user", password="s3cret")
    with emulator_for(
        sink.address,
        smtp_relay_tls="starttls",
        smtp_relay_user="relay-user",
        smtp_relay_password="s3cret",
        smtp_relay_verify_tls=False,  # the sink's certificate is self-signed
    ) as server:
        client(server, "sesv2").send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["to@example.com"]},
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}},
        )
        [arrived] = wait_for(sink.received, "the message at the TLS server")
    assert arrived["tls"] is True
    assert arrived["user"] == "relay-user"


def test_rejected_credentials_fail_once_without_retrying(smtp_sink: SinkFactory) -> None:
    sink = smtp_sink(tls="starttls", user="relay-user", password="s3cret")
    with emulator_for(
        sink.address,
        smtp_relay_tls="starttls",
        smtp_relay_user="relay-user",
        smtp_relay_password="wrong",
        smtp_relay_verify_tls=False,
        smtp_relay_attempts=3,
    ) as server:
        message_id = client(server, "sesv2").send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["to@example.com"]},
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}},
        )["MessageId"]
        [event] = wait_for(lambda: relay_events(server, message_id), "the failure event")
    assert event["status"] == "failed"
    assert event["attempts"] == 1  # 535 is permanent: retrying cannot help
    assert event["error"] == (
        "SMTPAuthenticationError: (535, '5.7.8 Authentication credentials invalid')"
    )
    assert sink.received() == []


def test_implicit_tls_reaches_a_tls_only_server(smtp_sink: SinkFactory) -> None:
    sink = smtp_sink(tls="tls")
    with emulator_for(sink.address, smtp_relay_tls="tls", smtp_relay_verify_tls=False) as server:
        client(server, "sesv2").send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["to@example.com"]},
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}},
        )
        [arrived] = wait_for(sink.received, "the message at the implicit-TLS server")
    assert arrived["tls"] is True
    assert arrived["rcpt_tos"] == ["to@example.com"]


def test_certificate_checks_are_on_by_default(smtp_sink: SinkFactory) -> None:
    sink = smtp_sink(tls="tls")
    with emulator_for(sink.address, smtp_relay_tls="tls", smtp_relay_attempts=3) as server:
        message_id = client(server, "sesv2").send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["to@example.com"]},
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}},
        )["MessageId"]
        [event] = wait_for(lambda: relay_events(server, message_id), "the failure event")
    assert event["status"] == "failed"
    assert "CERTIFICATE_VERIFY_FAILED" in event["error"]
    assert event["attempts"] == 1  # the same certificate would fail again
    assert sink.received() == []


def test_a_server_that_never_answers_times_out_and_is_recorded() -> None:
    # A listening socket nobody accepts on: the connection opens, no greeting ever comes.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        with emulator_for(address, smtp_relay_attempts=1, smtp_relay_timeout=0.3) as server:
            message_id = client(server, "ses").send_email(
                Source=SENDER,
                Destination={"ToAddresses": ["to@example.com"]},
                Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}},
            )["MessageId"]
            [event] = wait_for(lambda: relay_events(server, message_id), "the timeout event")
    assert event["status"] == "failed"
    assert event["attempts"] == 1
    assert "imed out" in event["error"]


def test_stopping_the_emulator_records_messages_still_in_flight() -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        # Each attempt times out after 0.5 s and the retry waits 30 s: at shutdown the message
        # is still in flight, and the relay gives it up after waiting smtp_relay_timeout.
        server = emulator_for(
            address, smtp_relay_attempts=2, smtp_relay_timeout=0.5, smtp_relay_retry_delay=30
        )
        with server:
            message_id = client(server, "sesv2").send_email(
                FromEmailAddress=SENDER,
                Destination={"ToAddresses": ["to@example.com"]},
                Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}},
            )["MessageId"]
        [event] = relay_events(server, message_id)
    assert event["status"] == "failed"
    assert event["error"] == "the emulator stopped before the message could be relayed"


def test_relay_outcome_is_persisted_with_the_message(
    smtp_sink: SinkFactory, tmp_path: Path
) -> None:
    sink = smtp_sink()
    data_dir = str(tmp_path / "state")
    with emulator_for(sink.address, data_dir=data_dir) as server:
        message_id = client(server, "sesv2").send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["to@example.com"]},
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}},
        )["MessageId"]
        wait_for(lambda: relay_events(server, message_id), "the relay event")
    with EmulatorServer(data_dir=data_dir) as restarted:
        [event] = relay_events(restarted, message_id)
    assert event["status"] == "sent"


def test_the_inbox_page_example_runs_and_prints_what_it_says(smtp_sink: SinkFactory) -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "inbox.md"
    [(code, expected)] = re.findall(
        r"```python\n(.*?)```\n\n```text\n(.*?)```", page.read_text(), re.S
    )
    # The page uses port 2525; a free one keeps parallel runs apart.
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    assert code.count("2525") == 2
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(code.replace("2525", str(port)), "docs/inbox.md", "exec"), {})
    assert output.getvalue() == expected


# ---- the pure pieces


def _record(**changes: Any) -> MessageRecord:
    values: dict[str, Any] = {
        "id": "m-1",
        "account": "000000000000",
        "region": "us-east-1",
        "api": "v2",
        "operation": "SendEmail",
        "kind": "simple",
        "timestamp": 0.0,
        "source": SENDER,
        "envelope_from": SENDER,
        "recipients": ("a@example.com", "gone@example.com", "ooto@simulator.amazonses.com"),
        "outcomes": {"a@example.com": "delivered", "gone@example.com": "suppressed"},
        "raw": b"Subject: x\r\n\r\nbody\r\n",
    }
    values.update(changes)
    return MessageRecord(**values)


def test_envelope_leaves_out_suppressed_and_simulator_recipients() -> None:
    envelope = envelope_for(_record())
    assert envelope is not None
    assert envelope.recipients == ("a@example.com",)
    assert envelope.sender == SENDER
    assert envelope.data == b"Subject: x\r\n\r\nbody\r\n"


def test_nothing_is_relayed_for_a_rendering_failure() -> None:
    assert envelope_for(_record(status="rendering_failure")) is None


def test_retry_delays_double_and_stop_after_the_last_attempt() -> None:
    assert list(retry_delays(4, 0.5)) == [0.5, 1.0, 2.0]
    assert list(retry_delays(1, 0.5)) == []


def test_only_transient_smtp_failures_are_retried() -> None:
    assert is_retryable(ConnectionRefusedError())
    assert is_retryable(aiosmtplib.SMTPResponseException(421, "try later"))
    assert not is_retryable(aiosmtplib.SMTPResponseException(550, "no such user"))
    assert not is_retryable(ValueError("a bug, not a network failure"))
    assert not is_retryable(aiosmtplib.SMTPNotSupported("STARTTLS extension not supported"))
    assert not is_retryable(ssl.SSLCertVerificationError("certificate verify failed"))


def test_relay_event_names_status_relay_and_time() -> None:
    outcome = RelayOutcome(status="failed", attempts=2, recipients=("a@x.test",), refused={})
    event = relay_event(outcome, relay="mail:25", now=0.0)
    assert event == {
        "type": "relay",
        "status": "failed",
        "relay": "mail:25",
        "attempts": 2,
        "recipients": ["a@x.test"],
        "refused": {},
        "error": None,
        "timestamp": "1970-01-01T00:00:00.000Z",
    }


def test_cli_flags_and_environment_configure_the_relay() -> None:
    settings = settings_from(
        ["--smtp-relay", "[::1]:2525", "--smtp-relay-tls", "tls", "--smtp-relay-user", "u"],
        {"SES_EMULATOR_SMTP_RELAY_PASSWORD": "p", "SES_EMULATOR_SMTP_RELAY_ATTEMPTS": "5"},
    )
    target = RelayTarget.from_settings(settings)
    assert target is not None
    assert (target.host, target.port, target.tls) == ("::1", 2525, "tls")
    assert (target.username, target.password, target.attempts) == ("u", "p", 5)
    assert target.address == "[::1]:2525"


def test_settings_endpoint_masks_the_relay_password() -> None:
    settings = Settings(smtp_relay="h:25", smtp_relay_user="me", smtp_relay_password="secret")
    shown = settings_json(settings)
    assert shown["smtp_relay_password"] == "***"
    assert shown["smtp_relay_user"] == "me"


def test_bad_relay_settings_are_refused_with_the_field() -> None:
    with pytest.raises(SettingsError, match=r"^smtp_relay: expected HOST:PORT"):
        settings_from(["--smtp-relay", "mail.example.com"], {})
    with pytest.raises(SettingsError, match=r"^smtp_relay_user: .* go together"):
        settings_from(["--smtp-relay", "h:25", "--smtp-relay-user", "u"], {})
