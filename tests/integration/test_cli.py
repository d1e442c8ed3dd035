"""``python -m emulator``: the ready line, serving, clean exits, and flags vs. environment."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import boto3
import pytest
from botocore.config import Config

from emulator.__main__ import main, settings_from
from emulator.config import Settings, SettingsError

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
READY_PREFIX = "seskit emulator listening on http://127.0.0.1:"


def _lines(stream: IO[str], into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)


@contextmanager
def emulator_process(
    *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Start ``python -m emulator ARGS``; yield (process, endpoint URL) once it is ready."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SES_EMULATOR_")}
    environment.update(env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True).start()
    try:
        ready = lines.get(timeout=30)
        assert ready.startswith(READY_PREFIX), ready
        yield process, ready.removeprefix("seskit emulator listening on ").strip()
        assert lines.empty(), "the ready line must be the only line on stdout"
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()
        process.stdout.close()


def _settings(url: str) -> dict[str, object]:
    with urllib.request.urlopen(f"{url}/_emulator/settings", timeout=10) as response:
        document: dict[str, object] = json.load(response)
    return document


def test_port_zero_prints_the_ready_line_serves_and_exits_zero_on_sigterm() -> None:
    with emulator_process("--port", "0") as (process, url):
        port = int(url.rsplit(":", 1)[1])
        assert port not in (0, 4579)
        client = boto3.client(
            "ses",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret",
            config=Config(retries={"total_max_attempts": 1}),
        )
        response = client.list_identities()
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0


def test_environment_applies_flags_beat_it_and_sigint_exits_zero() -> None:
    env = {
        "SES_EMULATOR_PORT": "0",
        "SES_EMULATOR_PROFILE": "sandbox",
        "SES_EMULATOR_REGION": "eu-west-1",
        "SES_EMULATOR_VERIFIED_IDENTITIES": "a@example.com,example.org",
    }
    with emulator_process("--profile", "production", env=env) as (process, url):
        settings = _settings(url)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
    assert settings["profile"] == "production"
    assert settings["region"] == "eu-west-1"
    assert settings["verified_identities"] == ["a@example.com", "example.org"]


def test_settings_from_merges_environment_then_flags() -> None:
    environ = {
        "SES_EMULATOR_MAX_SEND_RATE": "14",
        "SES_EMULATOR_AUTO_VERIFY": "true",
        "SES_EMULATOR_MAX_MESSAGE_TAGS": "none",
        "SES_EMULATOR_VERIFIED_IDENTITIES": "x@example.com",
    }
    settings = settings_from(
        [
            "--max-send-rate",
            "2.5",
            "--no-auto-verify",
            "--verified-identity",
            "a@example.com",
            "--verified-identity",
            "example.com",
            "--log-level",
            "debug",
        ],
        environ,
    )
    assert settings == Settings(
        max_send_rate=2.5,
        auto_verify=False,
        max_message_tags=None,
        verified_identities=("a@example.com", "example.com"),
        log_level="DEBUG",
    )


def test_request_size_limit_and_rate_burst_are_flags_too() -> None:
    env = {"SES_EMULATOR_RATE_BURST_SECONDS": "2.5"}
    with emulator_process("--port", "0", "--max-request-bytes", "2000", env=env) as (_, url):
        settings = _settings(url)
        small = urllib.request.Request(
            f"{url}/", data=b"Action=ListIdentities", method="POST", headers=_FORM
        )
        with urllib.request.urlopen(small, timeout=10) as response:
            assert response.status == 200
        large = urllib.request.Request(
            f"{url}/", data=b"Action=ListIdentities&x=" + b"y" * 2000, method="POST", headers=_FORM
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(large, timeout=10)
        assert refused.value.code == 413
        assert b"<Code>RequestEntityTooLarge</Code>" in refused.value.read()
    assert (settings["max_request_bytes"], settings["rate_burst_seconds"]) == (2000, 2.5)


def test_a_rate_burst_that_is_not_a_positive_number_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for value in ("0", "-1", "inf", "nan"):
        assert main(["--rate-burst-seconds", value]) == 2
        assert capsys.readouterr().err == (
            "python -m emulator: error: rate_burst_seconds: must be a positive number of seconds\n"
        )


def test_invalid_environment_value_names_the_variable() -> None:
    with pytest.raises(SettingsError) as caught:
        settings_from([], {"SES_EMULATOR_VERIFICATION": "later"})
    assert str(caught.value) == "SES_EMULATOR_VERIFICATION: must be one of instant, pending"


def test_invalid_flag_value_exits_2_naming_the_setting(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", "70000"]) == 2
    assert capsys.readouterr().err == (
        "python -m emulator: error: port: must be 0..65535 (got 70000)\n"
    )


def test_non_loopback_host_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    # 192.0.2.1 (TEST-NET-1, RFC 5737) is never a local address, so the bind fails after the
    # warning and nothing listens beyond loopback.
    assert main(["--host", "192.0.2.1", "--port", "0"]) == 1
    messages = [r.getMessage() for r in caplog.records if r.name == "emulator"]
    assert messages[0] == (
        "listening on 192.0.2.1, which is not a loopback address: anyone who can reach this "
        "port can use the emulator"
    )
    assert messages[1].startswith("cannot listen on 192.0.2.1:0: ")
