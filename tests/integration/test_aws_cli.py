"""The AWS CLI (``awscli`` from PyPI, with its own botocore) against the emulator.

The CLI lives in its own venv, ``.components/awscli`` (``scripts/components/clients.sh``),
because it pins a different botocore than the project's: these tests are the "second botocore"
check. Each runs ``aws`` as a user would: ``--endpoint-url``, ``--region``, dummy credentials in
the environment, and nothing read from the user's own AWS configuration.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from emulator.client import EmulatorClient
from emulator.server import EmulatorServer
from tests.components import require_aws_cli

SHOP = "shop@example.com"
ANA = "ana@example.net"


@pytest.fixture
def aws(emulator: EmulatorServer, tmp_path: Path) -> Any:
    cli = require_aws_cli()
    EmulatorClient(emulator.endpoint_url, token=emulator.settings.control_token).verify_identity(
        SHOP
    )
    # iso8601: the CLI prints timestamps as its botocore parsed them (v1's default, "none",
    # echoes the wire value).
    config = tmp_path / "config"
    config.write_text("[default]\ncli_timestamp_format = iso8601\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
        AWS_SECRET_ACCESS_KEY="secret",
        # Nothing from ~/.aws: a developer's profile must not change what the CLI sends.
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        AWS_MAX_ATTEMPTS="1",
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [cli, "--endpoint-url", emulator.endpoint_url, "--region", "us-east-1", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )

    return run


@pytest.fixture
def emu(emulator: EmulatorServer) -> EmulatorClient:
    return EmulatorClient(emulator.endpoint_url, token=emulator.settings.control_token)


def ok(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, f"aws failed ({done.returncode}):\n{done.stderr}"
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_cli_runs_its_own_botocore(aws: Any) -> None:
    done = aws("--version")
    assert done.returncode == 0
    version = (done.stdout + done.stderr).strip()
    assert version.startswith("aws-cli/1.")
    assert " botocore/" in version


def test_ses_send_email_v1_is_recorded(aws: Any, emu: EmulatorClient) -> None:
    answer = ok(
        aws(
            "ses",
            "send-email",
            "--from",
            f"Shop <{SHOP}>",
            "--destination",
            f"ToAddresses={ANA},BccAddresses=audit@example.net",
            "--message",
            "Subject={Data=From the CLI},Body={Text={Data=Sent with aws ses}}",
            "--tags",
            "Name=client,Value=aws-cli",
        )
    )

    [message] = emu.messages()
    assert answer == {"MessageId": message.id}
    assert (message.api, message.operation, message.kind) == ("v1", "SendEmail", "simple")
    assert message.source == f"Shop <{SHOP}>"
    assert message.subject == "From the CLI"
    assert message.recipients == (ANA, "audit@example.net")
    assert message.tag_map == {"client": "aws-cli"}


def test_sesv2_send_email_is_recorded(aws: Any, emu: EmulatorClient) -> None:
    content = {
        "Simple": {
            "Subject": {"Data": "v2 from the CLI"},
            "Body": {"Text": {"Data": "text"}, "Html": {"Data": "<b>html</b>"}},
        }
    }
    answer = ok(
        aws(
            "sesv2",
            "send-email",
            "--from-email-address",
            SHOP,
            "--destination",
            json.dumps({"ToAddresses": [ANA]}),
            "--content",
            json.dumps(content),
            "--email-tags",
            "Name=client,Value=aws-cli-v2",
        )
    )

    [message] = emu.messages()
    assert answer == {"MessageId": message.id}
    assert (message.api, message.operation, message.kind) == ("v2", "SendEmail", "simple")
    assert message.subject == "v2 from the CLI"
    assert message.html is not None
    assert "<b>html</b>" in message.html
    assert message.tag_map == {"client": "aws-cli-v2"}


RAW = f"From: {SHOP}\r\nTo: {ANA}\r\nSubject: Raw from the CLI\r\n\r\nRaw body\r\n"


@pytest.mark.parametrize(
    ("args", "api", "operation"),
    [
        (
            ("ses", "send-raw-email", "--raw-message", json.dumps({"Data": RAW})),
            "v1",
            "SendRawEmail",
        ),
        (
            ("sesv2", "send-email", "--content", json.dumps({"Raw": {"Data": RAW}})),
            "v2",
            "SendEmail",
        ),
    ],
)
def test_raw_message_blob_is_base64_encoded_by_the_cli_and_decoded_intact(
    aws: Any, emu: EmulatorClient, args: tuple[str, ...], api: str, operation: str
) -> None:
    answer = ok(aws(*args))

    [message] = emu.messages()
    assert answer == {"MessageId": message.id}
    assert (message.api, message.operation, message.kind) == (api, operation, "raw")
    assert message.subject == "Raw from the CLI"
    assert message.recipients == (ANA,)  # from the To header: the call names no destination
    assert emu.raw(message.id).endswith(b"\r\n\r\nRaw body\r\n")


def test_sesv2_templates_round_trip_with_parseable_timestamps(aws: Any, sesv2: Any) -> None:
    before = time.time()
    ok(
        aws(
            "sesv2",
            "create-email-template",
            "--template-name",
            "CliTemplate",
            "--template-content",
            json.dumps({"Subject": "Hi {{name}}", "Text": "Hello {{name}}"}),
        )
    )

    listed = ok(aws("sesv2", "list-email-templates"))

    [template] = listed["TemplatesMetadata"]
    assert template["TemplateName"] == "CliTemplate"
    # The CLI's botocore parses the epoch number; it prints it as ISO 8601 with an offset.
    created = datetime.fromisoformat(template["CreatedTimestamp"])
    assert created.utcoffset() is not None
    assert before - 1 <= created.timestamp() <= time.time()
    # And boto3 (the project's botocore) reads the same template.
    assert sesv2.get_email_template(TemplateName="CliTemplate")["TemplateContent"] == {
        "Subject": "Hi {{name}}",
        "Text": "Hello {{name}}",
    }


def test_sesv2_templated_send_is_rendered(aws: Any, emu: EmulatorClient, sesv2: Any) -> None:
    sesv2.create_email_template(
        TemplateName="Welcome", TemplateContent={"Subject": "Welcome {{name}}", "Text": "Hi"}
    )
    template = {"Template": {"TemplateName": "Welcome", "TemplateData": '{"name": "CLI"}'}}
    ok(
        aws(
            "sesv2",
            "send-email",
            "--from-email-address",
            SHOP,
            "--destination",
            json.dumps({"ToAddresses": [ANA]}),
            "--content",
            json.dumps(template),
        )
    )

    [message] = emu.messages()
    assert (message.kind, message.template, message.subject) == (
        "template",
        "Welcome",
        "Welcome CLI",
    )


def test_sesv2_missing_template_exits_255_with_the_error_code(
    aws: Any, emu: EmulatorClient
) -> None:
    template = {"Template": {"TemplateName": "NoSuchTemplate", "TemplateData": "{}"}}
    done = aws(
        "sesv2",
        "send-email",
        "--from-email-address",
        SHOP,
        "--destination",
        json.dumps({"ToAddresses": [ANA]}),
        "--content",
        json.dumps(template),
    )

    assert done.returncode == 255  # AWS CLI v1: 255 for a service error (v2 says 254)
    assert done.stderr.strip() == (
        "An error occurred (NotFoundException) when calling the SendEmail operation: "
        "Template NoSuchTemplate does not exist."
    )
    assert emu.messages() == []


def test_ses_unverified_sender_exits_255_with_message_rejected(
    aws: Any, emu: EmulatorClient
) -> None:
    done = aws(
        "ses",
        "send-email",
        "--from",
        "nobody@unverified.example",
        "--destination",
        f"ToAddresses={ANA}",
        "--message",
        "Subject={Data=x},Body={Text={Data=x}}",
    )

    assert done.returncode == 255  # AWS CLI v1: 255 for a service error (v2 says 254)
    assert done.stderr.strip() == (
        "An error occurred (MessageRejected) when calling the SendEmail operation: "
        "Email address is not verified. The following identities failed the check in region "
        "US-EAST-1: nobody@unverified.example"
    )
    assert emu.messages() == []


def test_missing_argument_is_a_usage_error_exiting_2(aws: Any, emu: EmulatorClient) -> None:
    # The CLI's own argument check (no request made): a usage error, not an SES error.
    done = aws("sesv2", "send-email", "--from-email-address", SHOP)

    assert done.returncode == 2
    assert emu.messages() == []
    assert "--content" in done.stderr
