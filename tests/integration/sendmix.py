"""A mixed send workload for the load and kill-restart tests, and the checks on its results.

`run_load` starts N client threads, each with its own boto3 ``ses`` and ``sesv2`` clients
(retries off: one call is one request), and has each send a rotation of eight kinds — v1
SendEmail / SendRawEmail / SendTemplatedEmail / SendBulkTemplatedEmail and v2 SendEmail
(simple, raw, template) / SendBulkEmail. Every send carries a unique token in its subject
and recipients, and every MessageId the emulator acknowledges with a 200 is recorded with
what the stored message must contain. `verify_messages` then fetches every stored message
through the control API and compares.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

__all__ = [
    "SENDER",
    "TEMPLATE",
    "EmulatorProcess",
    "Expected",
    "LoadResult",
    "fetch_messages",
    "prepare_account",
    "run_load",
    "verify_messages",
]

SENDER = "load@example.com"
TEMPLATE = "load-template"
KINDS = 8


@dataclass(frozen=True, slots=True)
class Expected:
    """What one acknowledged message must look like when fetched back."""

    subject: str
    recipients: tuple[str, ...]
    token: str


@dataclass(slots=True)
class LoadResult:
    acknowledged: dict[str, Expected] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    calls: int = 0
    elapsed: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def recipients(self) -> int:
        return sum(len(e.recipients) for e in self.acknowledged.values())


class EmulatorProcess:
    """``python -m emulator --port 0 ARGS`` as a child process, for tests that kill it.

    A separate process also keeps the server off the test's GIL, so 64 client threads
    measure the emulator rather than contention inside one interpreter.
    """

    def __init__(self, *args: str) -> None:
        self.args = ["--port", "0", "--log-level", "WARNING", *args]
        self.proc: subprocess.Popen[str] | None = None
        self.endpoint_url = ""

    def start(self, timeout: float = 60.0) -> EmulatorProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "emulator", *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.proc.stdout is not None
        line = _readline(self.proc, timeout)
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if match is None:
            self.proc.kill()
            _, err = self.proc.communicate(timeout=30)
            raise AssertionError(f"emulator did not start: {line!r} {err}")
        self.endpoint_url = match.group(1)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a crash."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        if self.proc is not None:
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream is not None:
                    stream.close()

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _readline(proc: subprocess.Popen[str], timeout: float) -> str:
    # A thread bounds the wait: a child that never prints must fail the test, not hang it.
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.append(proc.stdout.readline() if proc.stdout else ""), daemon=True
    )
    reader.start()
    reader.join(timeout)
    return lines[0] if lines else ""


def client(endpoint_url: str, service: str, session: Any = None) -> Any:
    """A boto3 client for the emulator, retries off (one call is one request)."""
    return (session or boto3.session.Session()).client(
        service,
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30),
    )


def prepare_account(endpoint_url: str) -> None:
    """Verify the sender's domain and create the template the templated sends use."""
    ses = client(endpoint_url, "ses")
    ses.verify_domain_identity(Domain="example.com")
    ses.create_template(
        Template={
            "TemplateName": TEMPLATE,
            "SubjectPart": "load {{tok}}",
            "TextPart": "templated body {{tok}}",
        }
    )


def _raw(token: str, to: str) -> bytes:
    return (
        f"From: {SENDER}\r\nTo: {to}\r\nSubject: load {token}\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nraw body {token}\r\n"
    ).encode()


def _send(kind: int, token: str, ses: Any, sesv2: Any) -> list[tuple[str, Expected]]:
    a, b = f"{token}-a@example.net", f"{token}-b@example.net"
    data = json.dumps({"tok": token})
    if kind == 0:
        r = ses.send_email(
            Source=SENDER,
            Destination={"ToAddresses": [a], "CcAddresses": [b]},
            Message={"Subject": {"Data": f"load {token}"}, "Body": {"Text": {"Data": token}}},
        )
        return [(r["MessageId"], Expected(f"load {token}", (a, b), token))]
    if kind == 1:
        r = ses.send_raw_email(RawMessage={"Data": _raw(token, a)})
        return [(r["MessageId"], Expected(f"load {token}", (a,), token))]
    if kind == 2:
        r = ses.send_templated_email(
            Source=SENDER, Destination={"ToAddresses": [a]}, Template=TEMPLATE, TemplateData=data
        )
        return [(r["MessageId"], Expected(f"load {token}", (a,), token))]
    if kind == 3:
        r = ses.send_bulk_templated_email(
            Source=SENDER,
            Template=TEMPLATE,
            DefaultTemplateData=json.dumps({"tok": "default"}),
            Destinations=[
                {
                    "Destination": {"ToAddresses": [f"{token}-{i}@example.net"]},
                    "ReplacementTemplateData": json.dumps({"tok": f"{token}-{i}"}),
                }
                for i in range(2)
            ],
        )
        return [
            (s["MessageId"], Expected(f"load {token}-{i}", (f"{token}-{i}@example.net",), token))
            for i, s in enumerate(r["Status"])
            if s["Status"] == "Success"
        ]
    if kind == 4:
        r = sesv2.send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": [a], "BccAddresses": [b]},
            Content={
                "Simple": {"Subject": {"Data": f"load {token}"}, "Body": {"Text": {"Data": token}}}
            },
        )
        return [(r["MessageId"], Expected(f"load {token}", (a, b), token))]
    if kind == 5:
        r = sesv2.send_email(Content={"Raw": {"Data": _raw(token, a)}})
        return [(r["MessageId"], Expected(f"load {token}", (a,), token))]
    if kind == 6:
        r = sesv2.send_email(
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": [a]},
            Content={"Template": {"TemplateName": TEMPLATE, "TemplateData": data}},
        )
        return [(r["MessageId"], Expected(f"load {token}", (a,), token))]
    r = sesv2.send_bulk_email(
        FromEmailAddress=SENDER,
        DefaultContent={
            "Template": {"TemplateName": TEMPLATE, "TemplateData": json.dumps({"tok": "d"})}
        },
        BulkEmailEntries=[
            {
                "Destination": {"ToAddresses": [f"{token}-{i}@example.net"]},
                "ReplacementEmailContent": {
                    "ReplacementTemplate": {
                        "ReplacementTemplateData": json.dumps({"tok": f"{token}-{i}"})
                    }
                },
            }
            for i in range(2)
        ],
    )
    return [
        (e["MessageId"], Expected(f"load {token}-{i}", (f"{token}-{i}@example.net",), token))
        for i, e in enumerate(r["BulkEmailEntryResults"])
        if e["Status"] == "SUCCESS"
    ]


def run_load(
    endpoint_url: str,
    *,
    clients: int,
    sends_per_client: int,
    stop: threading.Event | None = None,
    on_call: Callable[[int], None] | None = None,
) -> LoadResult:
    """Run the workload; returns every acknowledged MessageId and every failure.

    A client thread stops early when ``stop`` is set or the server stops answering (the
    kill-restart test kills it on purpose); everything acknowledged before is in the result.
    """
    result = LoadResult()
    # Clients are made up front from one session (a Session is not thread-safe, its clients
    # are; one session loads the service models once), so the timing measures sending.
    session = boto3.session.Session()
    pairs = [
        (client(endpoint_url, "ses", session), client(endpoint_url, "sesv2", session))
        for _ in range(clients)
    ]
    barrier = threading.Barrier(clients + 1)

    def worker(index: int) -> None:
        ses, sesv2 = pairs[index]
        barrier.wait(timeout=120)  # start together: real contention
        for n in range(sends_per_client):
            if stop is not None and stop.is_set():
                return
            token = f"c{index:02d}s{n:04d}"
            kind = (index + n) % KINDS
            try:
                sent = _send(kind, token, ses, sesv2)
            except ClientError as exc:
                with result.lock:
                    result.calls += 1
                    result.failures.append(f"{token} kind {kind}: {exc}")
                continue
            except BotoCoreError as exc:  # connection refused/reset: the server is gone
                with result.lock:
                    result.failures.append(f"{token} kind {kind}: {exc}")
                return
            with result.lock:
                result.calls += 1
                calls = result.calls
                for message_id, expected in sent:
                    if message_id in result.acknowledged:
                        result.failures.append(f"{token}: MessageId {message_id} returned twice")
                    result.acknowledged[message_id] = expected
            if on_call is not None:
                on_call(calls)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=120)
    started = time.monotonic()
    for thread in threads:
        thread.join(timeout=600)
    result.elapsed = time.monotonic() - started
    return result


def fetch_messages(
    endpoint_url: str, headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Every stored message, through ``GET /_emulator/messages`` with paging."""
    messages: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(100_000):  # bounded: far more pages than any test stores
        url = f"{endpoint_url}/_emulator/messages?limit=1000"
        if token:
            url += f"&next_token={quote(token)}"
        request = urllib.request.Request(url, headers=headers or {})
        with urllib.request.urlopen(request, timeout=60) as response:
            page = json.load(response)
        messages.extend(page["messages"])
        token = page["next_token"]
        if not token:
            return messages
    raise AssertionError("paging did not end")


def verify_messages(acknowledged: dict[str, Expected], stored: list[dict[str, Any]]) -> list[str]:
    """Problems: an acknowledged message missing, duplicated, or with the wrong content."""
    problems: list[str] = []
    by_id: dict[str, dict[str, Any]] = {}
    for record in stored:
        if record["id"] in by_id:
            problems.append(f"{record['id']}: stored twice")
        by_id[record["id"]] = record
    for message_id, expected in acknowledged.items():
        found = by_id.get(message_id)
        if found is None:
            problems.append(f"{message_id} ({expected.token}): acknowledged but not stored")
            continue
        record = found
        if record["subject"] != expected.subject:
            problems.append(f"{message_id}: subject {record['subject']!r} != {expected.subject!r}")
        if sorted(record["recipients"]) != sorted(expected.recipients):
            problems.append(
                f"{message_id}: recipients {record['recipients']} != {list(expected.recipients)}"
            )
        if expected.token not in (record["text"] or ""):
            problems.append(f"{message_id}: text does not contain {expected.token!r}")
    return problems
