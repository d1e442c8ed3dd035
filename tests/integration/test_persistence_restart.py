"""``--data-dir``: SIGKILL the emulator in the middle of a load run, restart it on the same
directory, and find every acknowledged message and every resource; refuse foreign files.

The server runs as ``python -m emulator --data-dir D --port 0`` in a child process. The kill
comes from inside the load (after a set number of acknowledged calls), so requests are in
flight when the process dies. The heavy variant raises ``SESKIT_KILL_CLIENTS`` /
``SESKIT_KILL_SENDS`` / ``SESKIT_KILL_AFTER`` and prints its figures with ``-s``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from emulator.server import EmulatorServer
from tests.integration.sendmix import (
    TEMPLATE,
    EmulatorProcess,
    client,
    fetch_messages,
    prepare_account,
    run_load,
    verify_messages,
)

CLIENTS = int(os.environ.get("SESKIT_KILL_CLIENTS", "32"))
SENDS = int(os.environ.get("SESKIT_KILL_SENDS", "12"))
KILL_AFTER = int(os.environ.get("SESKIT_KILL_AFTER", "120"))  # acknowledged calls


def _other_account(url: str) -> Any:
    return boto3.session.Session().client(
        "sesv2",
        endpoint_url=url,
        region_name="eu-west-1",
        aws_access_key_id="123456789012",
        aws_secret_access_key="x",
        config=Config(retries={"total_max_attempts": 1}),
    )


def _create_resources(url: str) -> None:
    ses, sesv2 = client(url, "ses"), client(url, "sesv2")
    prepare_account(url)
    ses.verify_email_identity(EmailAddress="Person@Example.org")
    ses.create_configuration_set(ConfigurationSet={"Name": "kept-set"})
    sesv2.put_suppressed_destination(EmailAddress="gone@example.net", Reason="COMPLAINT")
    sesv2.put_account_suppression_attributes(SuppressedReasons=["BOUNCE"])
    # A second account (12-digit key) in another region: partitions survive too.
    other = client(url, "sesv2")
    other = (
        __import__("boto3")
        .session.Session()
        .client(
            "sesv2",
            endpoint_url=url,
            region_name="eu-west-1",
            aws_access_key_id="123456789012",
            aws_secret_access_key="x",
        )
    )
    other.create_email_template(
        TemplateName="other-account", TemplateContent={"Subject": "s", "Text": "t"}
    )


def _check_resources(url: str) -> None:
    ses, sesv2 = client(url, "ses"), client(url, "sesv2")
    identities = ses.list_identities()["Identities"]
    assert {"example.com", "Person@Example.org"} <= set(identities)
    assert ses.get_template(TemplateName=TEMPLATE)["Template"]["SubjectPart"] == "load {{tok}}"
    assert ses.describe_configuration_set(ConfigurationSetName="kept-set")["ConfigurationSet"]
    suppressed = sesv2.get_suppressed_destination(EmailAddress="gone@example.net")
    assert suppressed["SuppressedDestination"]["Reason"] == "COMPLAINT"
    account = sesv2.get_account()
    assert account["SuppressionAttributes"]["SuppressedReasons"] == ["BOUNCE"]
    other = (
        __import__("boto3")
        .session.Session()
        .client(
            "sesv2",
            endpoint_url=url,
            region_name="eu-west-1",
            aws_access_key_id="123456789012",
            aws_secret_access_key="x",
        )
    )
    assert other.get_email_template(TemplateName="other-account")["TemplateName"] == (
        "other-account"
    )


def test_sigkill_mid_load_loses_no_acknowledged_message_or_resource(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    server = EmulatorProcess("--data-dir", data).start()
    try:
        _create_resources(server.endpoint_url)
        killed = threading.Event()

        def maybe_kill(calls: int) -> None:
            if calls >= KILL_AFTER and not killed.is_set():
                killed.set()
                server.kill()

        result = run_load(
            server.endpoint_url, clients=CLIENTS, sends_per_client=SENDS, on_call=maybe_kill
        )
    finally:
        server.stop()
    assert killed.is_set(), "the load ended before the kill"
    assert len(result.acknowledged) >= KILL_AFTER

    with EmulatorProcess("--data-dir", data) as restarted:
        url = restarted.endpoint_url
        stored = fetch_messages(url)
        problems = verify_messages(result.acknowledged, stored)
        lost = sum("acknowledged but not stored" in p for p in problems)
        print(
            f"\nkill-restart: {CLIENTS} clients, killed after {KILL_AFTER} calls; "
            f"{len(result.acknowledged)} acknowledged messages, lost {lost}, "
            f"{len(stored) - len(result.acknowledged)} stored but unanswered (in flight)"
        )
        assert problems == []
        _check_resources(url)

        # The quota window survived: every acknowledged recipient still counts. Sends that
        # were in flight at the kill may be stored (and counted) without having been answered.
        stored_recipients = sum(len(m["recipients"]) for m in stored)
        sent = client(url, "ses").get_send_quota()["SentLast24Hours"]
        assert result.recipients <= sent <= stored_recipients

        # And the restarted emulator keeps working on the same data.
        after = client(url, "sesv2").send_email(
            FromEmailAddress="load@example.com",
            Destination={"ToAddresses": ["after@example.net"]},
            Content={"Simple": {"Subject": {"Data": "after"}, "Body": {"Text": {"Data": "x"}}}},
        )
        assert after["MessageId"] in {m["id"] for m in fetch_messages(url)}


def _start_failure(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_corrupt_database_stops_startup_naming_the_path(tmp_path: Path) -> None:
    db = tmp_path / "emulator.sqlite3"
    db.write_bytes(b"this is not a database" * 50)
    proc = _start_failure("--data-dir", str(tmp_path))
    assert proc.returncode == 2
    assert "listening" not in proc.stdout
    assert str(db) in proc.stderr
    assert "not an SQLite database" in proc.stderr
    assert db.read_bytes() == b"this is not a database" * 50


def test_a_file_given_as_data_dir_stops_startup(tmp_path: Path) -> None:
    target = tmp_path / "a-file"
    target.write_text("keep me")
    proc = _start_failure("--data-dir", str(target))
    assert proc.returncode == 2
    assert str(target) in proc.stderr
    assert "not a directory" in proc.stderr
    assert target.read_text() == "keep me"


@pytest.mark.parametrize("line", ["KEY-ONLY", "# only a comment"])
def test_bad_credentials_file_stops_startup(tmp_path: Path, line: str) -> None:
    path = tmp_path / "creds"
    path.write_text(line + "\n")
    proc = _start_failure("--auth", "verify", "--credentials-file", str(path))
    assert proc.returncode == 2
    assert str(path) in proc.stderr


def _post(url: str, path: str, body: dict[str, str]) -> int:
    request = urllib.request.Request(
        f"{url}{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def test_control_api_reset_is_saved_too(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    with EmulatorServer(data_dir=data) as server:
        ses = client(server.endpoint_url, "ses")
        ses.verify_email_identity(EmailAddress="before@example.com")
        assert _post(server.endpoint_url, "/_emulator/reset", {}) == 204
        ses.verify_email_identity(EmailAddress="after@example.com")
    with EmulatorServer(data_dir=data) as server:
        identities = client(server.endpoint_url, "ses").list_identities()["Identities"]
        assert identities == ["after@example.com"]


def test_a_direct_backend_reset_is_saved_too(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    with EmulatorServer(data_dir=data) as server:
        client(server.endpoint_url, "ses").verify_email_identity(EmailAddress="a@example.com")
        server.backend.reset()  # what the pytest fixtures do between tests
    with EmulatorServer(data_dir=data) as server:
        assert client(server.endpoint_url, "ses").list_identities()["Identities"] == []
        assert len(server.backend.store) == 0
