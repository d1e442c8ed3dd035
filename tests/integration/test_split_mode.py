"""``python -m emulator --split``: the same emulator over HTTP, in two processes.

The core is differential: a single-process ``python -m emulator`` and a ``--split`` one are
started with the same flags, every test sends both the same raw requests (the bytes botocore
itself builds, or hand-made ones where botocore would refuse to send them) and compares what
comes back — status, every header but the transport ones, and the body — after replacing the
values that differ from run to run anyway (ids, dates, random tokens, MIME boundaries).
Each comparison also asserts what the answer must be, so two emulators failing alike fail the
test too. The lifecycle tests then check the two processes start, stop and die together.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from benchmarks.load_requests import (
    BENCH_ACCESS_KEY,
    BENCH_SECRET_KEY,
    SENDER,
    PreparedRequest,
    capture,
    raw_message,
)
from tests.integration.webhooks import recording_webhook

READY = re.compile(r"^seskit emulator listening on (http://127\.0\.0\.1:(\d+))$")
START_TIMEOUT_S = 60.0
EXIT_TIMEOUT_S = 20.0

DOMAIN = "example.org"
TO = "to@example.net"
TOPIC = "arn:aws:sns:us-east-1:000000000000:split-events"

# --------------------------------------------------------------------------- processes


def _children(pid: int) -> list[int]:
    """Live processes whose parent is ``pid`` (from /proc: no psutil needed)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # Field 2 (the command) may hold spaces; the fields after its ")" are fixed.
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it exited while we looked
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, already dead but not yet reaped, does not count)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return not _alive(pid)


def _drain(stream: Any, into: queue.Queue[str] | list[str]) -> None:
    # Read a pipe to its end, so a chatty child never blocks on a full pipe buffer.
    for line in stream:
        if isinstance(into, list):
            into.append(line)
        else:
            into.put(line)


@dataclass(slots=True)
class Emulator:
    """One ``python -m emulator`` child process (and, with --split, its front's pid)."""

    proc: subprocess.Popen[str]
    split: bool
    stdout: queue.Queue[str] = field(default_factory=queue.Queue)
    stderr: list[str] = field(default_factory=list)
    url: str = ""
    port: int = 0
    fronts: list[int] = field(default_factory=list)

    def wait_ready(self) -> None:
        try:
            line = self.stdout.get(timeout=START_TIMEOUT_S)
        except queue.Empty:
            raise AssertionError(
                f"no ready line within {START_TIMEOUT_S:.0f} s; stderr:\n{self.log()}"
            ) from None
        match = READY.match(line.rstrip("\n"))
        assert match is not None, f"unexpected first stdout line {line!r}; stderr:\n{self.log()}"
        self.url, self.port = match.group(1), int(match.group(2))
        self.fronts = _children(self.proc.pid)

    def log(self) -> str:
        time.sleep(0.2)  # let the drain thread catch up with a process that just failed
        return "".join(self.stderr[-40:])

    def stdout_lines(self) -> list[str]:
        lines = []
        while not self.stdout.empty():
            lines.append(self.stdout.get_nowait())
        return lines

    def stop(self) -> int:
        """SIGTERM and wait (SIGKILL after a bounded wait); the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=EXIT_TIMEOUT_S)
            raise AssertionError(f"the emulator ignored SIGTERM; stderr:\n{self.log()}") from None

    def orphans(self) -> list[int]:
        """Fronts still alive; each is killed (by pid) before being reported."""
        left = [pid for pid in self.fronts if not _wait_gone(pid, EXIT_TIMEOUT_S)]
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        return left


def _spawn(
    args: tuple[str, ...],
    *,
    split: bool,
    env: dict[str, str] | None = None,
    prelude: str = "",
) -> Emulator:
    """Start ``python -m emulator``; ``prelude`` is Python run in its process first."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SES_EMULATOR_")}
    environment.update(env or {}, PYTHONUNBUFFERED="1")
    flags = ["--port", "0", "--log-level", "WARNING", *args, *(["--split"] if split else [])]
    argv = [sys.executable, "-m", "emulator", *flags]
    if prelude:
        run = "import runpy\nrunpy.run_module('emulator', run_name='__main__', alter_sys=True)\n"
        argv = [
            sys.executable,
            "-c",
            f"import sys\nsys.argv = ['emulator', *{flags!r}]\n{prelude}\n{run}",
        ]
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=environment,
    )
    emulator = Emulator(proc, split)
    threading.Thread(target=_drain, args=(proc.stdout, emulator.stdout), daemon=True).start()
    threading.Thread(target=_drain, args=(proc.stderr, emulator.stderr), daemon=True).start()
    return emulator


def _cleanup(emulator: Emulator) -> None:
    if emulator.proc.poll() is None:
        emulator.proc.kill()
        emulator.proc.wait(timeout=EXIT_TIMEOUT_S)
    for pid in emulator.fronts:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


@contextmanager
def running(*args: str, split: bool, env: dict[str, str] | None = None) -> Iterator[Emulator]:
    """One emulator; killed (with any front left behind) on the way out, whatever happens."""
    emulator = _spawn(args, split=split, env=env)
    try:
        emulator.wait_ready()
        yield emulator
    finally:
        _cleanup(emulator)


@dataclass(slots=True)
class Pair:
    """A single-process emulator and a split one, started with the same flags."""

    single: Emulator
    split: Emulator

    def both(self) -> tuple[Emulator, Emulator]:
        return self.single, self.split


@contextmanager
def pair(*args: str, prelude: str = "", tracebacks: bool = False) -> Iterator[Pair]:
    """Both emulators, started together; on exit both stop on SIGTERM, exit 0, no orphan.

    Neither may log a traceback (an emulator bug), unless ``tracebacks`` says the test
    provokes one on purpose.
    """
    with ExitStack() as stack:
        single = _spawn(args, split=False, prelude=prelude)
        split = _spawn(args, split=True, prelude=prelude)
        stack.callback(_cleanup, single)
        stack.callback(_cleanup, split)
        single.wait_ready()
        split.wait_ready()
        assert split.fronts, "--split started no front process"
        yield Pair(single, split)
        for emulator in (single, split):
            status = emulator.stop()
            assert status == 0, f"exit status {status}; stderr:\n{emulator.log()}"
        assert split.orphans() == [], "the front outlived the owner"
        if not tracebacks:
            logged = [e.log() for e in (single, split) if "Traceback" in "".join(e.stderr)]
            assert not logged, "an emulator logged a traceback:\n" + "\n".join(logged)


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """A hand-made HTTP request (any method: the control API has PATCH)."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


Sendable = Request | PreparedRequest


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-cased names, transport headers left out
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


# Headers that describe the connection or the moment rather than the answer.
_TRANSPORT = frozenset(
    {"date", "server", "content-length", "connection", "keep-alive", "transfer-encoding"}
)


def exchange(port: int, request: Sendable) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            request.method, request.path, body=request.body, headers=dict(request.headers)
        )
        response = connection.getresponse()
        body = response.read()
        headers: dict[str, str] = {}
        for name, value in response.getheaders():
            if name.lower() not in _TRANSPORT:
                key = name.lower()
                headers[key] = f"{headers[key]}, {value}" if key in headers else value
        return Reply(response.status, headers, body)
    finally:
        connection.close()


_VOLATILE = [
    # SES MessageIds: 0100 + epoch ms + uuid4 + -000000 (emulator/ses/sending.py)
    (
        re.compile(
            rb"0100[0-9a-f]{12}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-0{6}"
        ),
        b"<message-id>",
    ),
    (
        re.compile(rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"),
        b"<uuid>",
    ),
    (re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?"), b"<time>"),
    (re.compile(rb"\w{3}, \d\d? \w{3} \d{4} \d\d:\d\d:\d\d (?:[+-]\d{4}|GMT|UTC)"), b"<date>"),
    (re.compile(rb"\b1[6-9]\d{8}(?:\.\d+)?\b"), b"<epoch>"),
    (re.compile(rb"\b1[6-9]\d{11}\b"), b"<epoch-ms>"),
    (re.compile(rb"={15}\d+=="), b"<boundary>"),
    (re.compile(rb"127\.0\.0\.1:\d+"), b"<host>"),
    # DKIM tokens (32 of a-z0-9), random per identity
    (re.compile(rb"\b[a-z0-9]{32}\b"), b"<dkim-token>"),
    # v1 domain verification tokens (32 random bytes in base64)
    (re.compile(rb"[A-Za-z0-9+/]{43}="), b"<verification-token>"),
]


def normalised(reply: Reply) -> Reply:
    """``reply`` with the values that differ between any two runs replaced by placeholders."""

    def clean(data: bytes) -> bytes:
        for pattern, placeholder in _VOLATILE:
            data = pattern.sub(placeholder, data)
        return data

    headers = {k: clean(v.encode()).decode() for k, v in reply.headers.items()}
    return Reply(reply.status, headers, clean(reply.body))


Build = Callable[[Emulator], Sendable]


def _ids_agree(reply: Reply) -> bool:
    request_id = reply.headers.get("x-amzn-requestid", "")
    return not request_id or b"RequestId>" not in reply.body or request_id.encode() in reply.body


def same(p: Pair, build: Build | Sendable) -> Reply:
    """Send the request to both emulators; assert the answers match; the split one's answer."""
    replies = []
    for emulator in p.both():
        request = build if isinstance(build, Request | PreparedRequest) else build(emulator)
        replies.append(exchange(emulator.port, request))
    # Ids are normalised away below, so check here that each names one id in its header and
    # body exactly when the other does (SNS actions on "/" name two different ids today).
    agree = [_ids_agree(reply) for reply in replies]
    assert agree[1] == agree[0], "the request id in the header and the body do not match"
    single, split = (normalised(r) for r in replies)
    assert (split.status, split.headers, split.text) == (single.status, single.headers, single.text)
    return replies[1]


def botocore(service: str, operation: str, **params: Any) -> Build:
    """The request a boto3 client builds for ``operation(**params)`` against an emulator."""
    return lambda emulator: capture(service, emulator.url, operation, params)


def form(body: str, **headers: str) -> Request:
    return Request(
        method="POST",
        path="/",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", **headers},
        body=body.encode(),
    )


def v2(method: str, path: str, document: Any = None) -> Request:
    body = b"" if document is None else json.dumps(document).encode()
    return Request(
        method=method, path=path, headers={"Content-Type": "application/json"}, body=body
    )


def control(method: str, path: str, document: Any = None, **headers: str) -> Request:
    body = b"" if document is None else json.dumps(document).encode()
    return Request(
        method=method,
        path=path,
        headers={"Content-Type": "application/json", **headers},
        body=body,
    )


def error_code(reply: Reply) -> str:
    """The SES error code of a v1 (XML) or v2 (JSON) error answer."""
    if reply.headers.get("content-type", "").startswith("application/json"):
        document = reply.json()
        return str(document.get("__type") or reply.headers.get("x-amzn-errortype", "")).split(":")[
            0
        ]
    match = re.search(rb"<Code>([^<]+)</Code>", reply.body)
    return match.group(1).decode() if match else ""


MESSAGE = {"Subject": {"Data": "Hello"}, "Body": {"Text": {"Data": "Hi there"}}}
CONTENT = {"Simple": {"Subject": {"Data": "Hello"}, "Body": {"Text": {"Data": "Hi there"}}}}


def _v2_sends(emulator: Emulator, prefix: str, count: int) -> list[Sendable]:
    """``count`` v2 SendEmail requests from SENDER, each to its own recipient."""
    return [
        capture(
            "sesv2",
            emulator.url,
            "SendEmail",
            {
                "FromEmailAddress": SENDER,
                "Destination": {"ToAddresses": [f"{prefix}{i}@example.net"]},
                "Content": CONTENT,
            },
        )
        for i in range(count)
    ]


def reset(p: Pair) -> None:
    """Forget all state and fault rules (a failed test must not leave a rule behind)."""
    for emulator in p.both():
        assert exchange(emulator.port, control("POST", "/_emulator/reset")).status in (200, 204)
        assert exchange(emulator.port, control("DELETE", "/_emulator/faults")).status in (200, 204)


# --------------------------------------------------------------------------- differential


@pytest.fixture(scope="module")
def default_pair() -> Iterator[Pair]:
    with pair() as p:
        yield p


@pytest.fixture
def fresh(default_pair: Pair) -> Pair:
    reset(default_pair)
    return default_pair


@pytest.fixture
def verified(fresh: Pair) -> Pair:
    same(fresh, botocore("ses", "VerifyEmailIdentity", EmailAddress=SENDER))
    same(fresh, botocore("sesv2", "CreateEmailIdentity", EmailIdentity=DOMAIN))
    return fresh


def test_split_setting_is_reported_by_the_control_api(default_pair: Pair) -> None:
    single = exchange(default_pair.single.port, control("GET", "/_emulator/settings")).json()
    split = exchange(default_pair.split.port, control("GET", "/_emulator/settings")).json()
    assert single["split"] is False
    assert split["split"] is True
    # Everything else is the same configuration (the port is each one's own).
    for document in (single, split):
        del document["split"], document["port"]
    assert split == single


def test_v1_and_v2_sends_answer_alike_and_are_stored_alike(verified: Pair) -> None:
    sends = [
        botocore(
            "ses", "SendEmail", Source=SENDER, Destination={"ToAddresses": [TO]}, Message=MESSAGE
        ),
        botocore(
            "sesv2",
            "SendEmail",
            FromEmailAddress=f"news@{DOMAIN}",
            Destination={"ToAddresses": [TO], "CcAddresses": ["cc@example.net"]},
            Content=CONTENT,
            EmailTags=[{"Name": "campaign", "Value": "split"}],
        ),
        botocore("ses", "SendRawEmail", RawMessage={"Data": raw_message(4096)}),
        botocore("sesv2", "SendEmail", Content={"Raw": {"Data": raw_message(4096)}}),
    ]
    for build in sends:
        reply = same(verified, build)
        assert reply.status == 200, reply.text
        assert "x-amzn-requestid" in reply.headers
    # The stored messages are the same, listed alike by the control API and the LocalStack path.
    listed = same(verified, control("GET", "/_emulator/messages"))
    assert len(listed.json()["messages"]) == 4
    same(verified, control("GET", "/_emulator/messages?view=summary"))
    same(verified, control("GET", "/_aws/ses"))


def test_templated_and_bulk_sends_answer_alike(verified: Pair) -> None:
    template = {"TemplateName": "T", "SubjectPart": "Hi {{name}}", "TextPart": "Dear {{name}}"}
    assert same(verified, botocore("ses", "CreateTemplate", Template=template)).status == 200
    content = {"Subject": "Hi {{name}}", "Text": "Dear {{name}}"}
    created = botocore("sesv2", "CreateEmailTemplate", TemplateName="T2", TemplateContent=content)
    assert same(verified, created).status == 200
    data = json.dumps({"name": "Ada"})
    replies = [
        same(
            verified,
            botocore(
                "ses",
                "SendTemplatedEmail",
                Source=SENDER,
                Destination={"ToAddresses": [TO]},
                Template="T",
                TemplateData=data,
            ),
        ),
        same(
            verified,
            botocore(
                "ses",
                "SendBulkTemplatedEmail",
                Source=SENDER,
                Template="T",
                DefaultTemplateData=data,
                Destinations=[
                    {"Destination": {"ToAddresses": [f"r{i}@example.net"]}} for i in range(3)
                ],
            ),
        ),
        same(
            verified,
            botocore(
                "sesv2",
                "SendEmail",
                FromEmailAddress=SENDER,
                Destination={"ToAddresses": [TO]},
                Content={"Template": {"TemplateName": "T2", "TemplateData": data}},
            ),
        ),
        same(
            verified,
            botocore(
                "sesv2",
                "SendBulkEmail",
                FromEmailAddress=SENDER,
                DefaultContent={"Template": {"TemplateName": "T2", "TemplateData": data}},
                BulkEmailEntries=[
                    {"Destination": {"ToAddresses": [f"b{i}@example.net"]}} for i in range(3)
                ],
            ),
        ),
    ]
    assert [r.status for r in replies] == [200, 200, 200, 200]
    # A missing template is the same error from both.
    missing = same(
        verified,
        botocore(
            "ses",
            "SendTemplatedEmail",
            Source=SENDER,
            Destination={"ToAddresses": [TO]},
            Template="nope",
            TemplateData="{}",
        ),
    )
    assert (missing.status, error_code(missing)) == (400, "TemplateDoesNotExist")
    same(verified, control("GET", "/_emulator/messages"))


def test_identity_operations_answer_alike(verified: Pair) -> None:
    for build in [
        botocore("ses", "ListIdentities"),
        botocore("ses", "GetIdentityVerificationAttributes", Identities=[SENDER, DOMAIN]),
        botocore("ses", "GetSendQuota"),
        botocore("sesv2", "ListEmailIdentities"),
        botocore("sesv2", "GetEmailIdentity", EmailIdentity=DOMAIN),
        botocore("sesv2", "GetAccount"),
        botocore("ses", "DeleteIdentity", Identity=SENDER),
        botocore("ses", "ListIdentities"),
    ]:
        assert same(verified, build).status == 200
    gone = same(verified, botocore("sesv2", "GetEmailIdentity", EmailIdentity="nobody.test"))
    assert (gone.status, error_code(gone)) == (404, "NotFoundException")


def test_unverified_sender_is_rejected_alike(fresh: Pair) -> None:
    v1 = same(
        fresh,
        botocore(
            "ses", "SendEmail", Source=SENDER, Destination={"ToAddresses": [TO]}, Message=MESSAGE
        ),
    )
    assert (v1.status, error_code(v1)) == (400, "MessageRejected")
    assert b"Email address is not verified" in v1.body
    v2_reply = same(
        fresh,
        botocore(
            "sesv2",
            "SendEmail",
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": [TO]},
            Content=CONTENT,
        ),
    )
    assert (v2_reply.status, error_code(v2_reply)) == (400, "MessageRejected")


def test_validation_errors_answer_alike(verified: Pair) -> None:
    # botocore validates parameters before sending, so these are built by hand.
    missing = same(verified, form("Action=SendEmail&Version=2010-12-01&Source=" + SENDER))
    assert (missing.status, error_code(missing)) == (400, "MissingParameter")
    empty = same(verified, v2("POST", "/v2/email/outbound-emails", {}))
    assert empty.status == 400
    assert error_code(empty) in {"BadRequestException", "ValidationException"}
    bad_json = same(
        verified,
        Request(
            method="POST",
            path="/v2/email/outbound-emails",
            headers={"Content-Type": "application/json"},
            body=b"{not json",
        ),
    )
    assert bad_json.status == 400
    unknown_action = same(verified, form("Action=FlyToTheMoon&Version=2010-12-01"))
    assert unknown_action.status == 400
    no_action = same(verified, form("Version=2010-12-01"))
    assert no_action.status == 400
    bad_tag_name = same(
        verified,
        v2(
            "POST",
            "/v2/email/outbound-emails",
            {
                "FromEmailAddress": SENDER,
                "Destination": {"ToAddresses": [TO]},
                "Content": CONTENT,
                "EmailTags": [{"Name": "bad name!", "Value": "v"}],
            },
        ),
    )
    assert bad_tag_name.status == 400


def test_request_bodies_are_decoded_alike(verified: Pair) -> None:
    body = (
        f"Action=SendEmail&Version=2010-12-01&Source={urllib.parse.quote(SENDER)}"
        f"&Destination.ToAddresses.member.1={urllib.parse.quote(TO)}"
        "&Message.Subject.Data=s&Message.Body.Text.Data=t"
    )
    gzip_header = {"Content-Encoding": "gzip"}
    gzipped = replace(form(body, **gzip_header), body=gzip.compress(body.encode()))
    assert same(verified, gzipped).status == 200
    # A body that says gzip and is not: AWS's MalformedHttpRequestException, from both.
    lying = form(body, **gzip_header)
    lie = same(verified, lying)
    assert lie.status == 400
    assert error_code(lie) == "MalformedHttpRequestException"
    lying_v2 = Request(
        method="POST",
        path="/v2/email/outbound-emails",
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        body=b'{"FromEmailAddress": "x"}',
    )
    assert same(verified, lying_v2).status == 400
    unknown_coding = form(body, **{"Content-Encoding": "br-but-not"})
    same(verified, unknown_coding)


def test_unknown_paths_and_wrong_methods_answer_alike(fresh: Pair) -> None:
    unknown_v2 = same(fresh, v2("GET", "/v2/email/no-such-thing"))
    assert unknown_v2.status == 404
    wrong_method = same(fresh, v2("DELETE", "/v2/email/outbound-emails"))
    assert wrong_method.status in (404, 405)
    v1_get = same(fresh, Request(method="GET", path="/?Action=ListIdentities"))
    assert v1_get.status in (200, 400, 405)
    for request in [
        Request(method="GET", path="/no/such/path"),
        Request(method="PUT", path="/"),
        control("GET", "/_emulator/no-such-endpoint"),
        control("GET", "/_emulator/reset"),  # a known path, the wrong method: JSON 405
        Request(method="GET", path="/_emulator/messages/%0A"),
    ]:
        assert same(fresh, request).status >= 400


def test_control_api_answers_alike(verified: Pair) -> None:
    send = botocore(
        "ses", "SendEmail", Source=SENDER, Destination={"ToAddresses": [TO]}, Message=MESSAGE
    )
    same(verified, send)
    same(verified, send)
    for request in [
        control("GET", "/_emulator/health"),
        control("GET", "/_emulator/messages"),
        control("GET", "/_emulator/identities"),
        control("GET", "/_emulator/account"),
        control("GET", "/_emulator/events"),
        control("GET", "/_aws/ses"),
        control("PATCH", "/_emulator/account", {"sandbox": True}),
        control("PATCH", "/_emulator/account", {"nonsense": 1}),
    ]:
        same(verified, request)

    def latest(emulator: Emulator) -> str:
        listed = exchange(emulator.port, control("GET", "/_emulator/messages")).json()
        return str(listed["messages"][0]["id"])

    one = same(verified, lambda e: control("GET", f"/_emulator/messages/{latest(e)}"))
    assert one.status == 200
    raw = same(verified, lambda e: control("GET", f"/_emulator/messages/{latest(e)}/raw"))
    assert raw.status == 200
    deleted = same(verified, lambda e: control("DELETE", f"/_emulator/messages/{latest(e)}"))
    assert deleted.status in (200, 204)
    assert same(verified, control("DELETE", "/_aws/ses")).status in (200, 204)
    assert same(verified, control("POST", "/_emulator/reset")).status in (200, 204)
    empty = same(verified, control("GET", "/_emulator/messages"))
    assert empty.json()["messages"] == []


def test_inbox_page_and_attachments_answer_alike(verified: Pair) -> None:
    page = same(verified, Request(method="GET", path="/_emulator/ui"))
    assert page.status == 200
    assert page.headers["content-type"].startswith("text/html")
    same(verified, botocore("ses", "SendRawEmail", RawMessage={"Data": raw_message(8192)}))

    def attachment(emulator: Emulator) -> Request:
        listed = exchange(emulator.port, control("GET", "/_emulator/messages")).json()
        message_id = listed["messages"][0]["id"]
        return Request(method="GET", path=f"/_emulator/messages/{message_id}/attachments/0")

    got = same(verified, attachment)
    assert got.status == 200
    assert len(got.body) > 1000


def test_sns_actions_on_the_root_path_answer_alike(fresh: Pair) -> None:
    wrong_protocol = same(
        fresh,
        form(
            "Action=Subscribe&Version=2010-03-31"
            f"&TopicArn={urllib.parse.quote(TOPIC)}&Protocol=email&Endpoint=a%40example.com"
        ),
    )
    assert (wrong_protocol.status, error_code(wrong_protocol)) == (400, "InvalidParameter")
    missing = same(
        fresh,
        form(
            "Action=Unsubscribe&Version=2010-03-31&SubscriptionArn="
            + urllib.parse.quote(TOPIC + ":0f0e0d0c-0b0a-4908-8706-050403020100")
        ),
    )
    assert (missing.status, error_code(missing)) == (404, "NotFound")
    subscribed = same(
        fresh,
        form(
            "Action=Subscribe&Version=2010-03-31"
            f"&TopicArn={urllib.parse.quote(TOPIC)}&Protocol=http"
            "&Endpoint=http%3A%2F%2F127.0.0.1%3A9%2Fhook&ReturnSubscriptionArn=true"
        ),
    )
    assert subscribed.status == 200
    same(fresh, control("GET", "/_emulator/sns/subscriptions"))
    bad_token = same(
        fresh,
        Request(
            method="GET",
            path=f"/_emulator/sns/confirm?TopicArn={urllib.parse.quote(TOPIC)}&Token=nope",
        ),
    )
    assert bad_token.status == 400


def test_injected_faults_answer_alike_and_change_nothing(verified: Pair) -> None:
    rule = {
        "operation": "SendEmail",
        "api": "v2",
        "count": 1,
        "error": {
            "code": "TooManyRequestsException",
            "status": 429,
            "message": "Maximum sending rate exceeded.",
        },
    }
    v1_rule = {
        "operation": "SendEmail",
        "api": "v1",
        "count": 1,
        "error": {"code": "Throttling", "status": 400, "message": "Rate exceeded"},
    }
    assert same(verified, control("POST", "/_emulator/faults", rule)).status == 201
    assert same(verified, control("POST", "/_emulator/faults", v1_rule)).status == 201
    same(verified, control("GET", "/_emulator/faults"))
    send_v2 = botocore(
        "sesv2",
        "SendEmail",
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": [TO]},
        Content=CONTENT,
    )
    send_v1 = botocore(
        "ses", "SendEmail", Source=SENDER, Destination={"ToAddresses": [TO]}, Message=MESSAGE
    )
    injected = same(verified, send_v2)
    assert (injected.status, error_code(injected)) == (429, "TooManyRequestsException")
    injected_v1 = same(verified, send_v1)
    assert (injected_v1.status, error_code(injected_v1)) == (400, "Throttling")
    # An injected error stores nothing; the rules are used up, so the next sends go through.
    assert same(verified, control("GET", "/_emulator/messages")).json()["messages"] == []
    assert same(verified, send_v2).status == 200
    assert same(verified, send_v1).status == 200
    assert same(verified, control("DELETE", "/_emulator/faults")).status in (200, 204)


def test_many_concurrent_sends_through_the_front_are_all_stored(verified: Pair) -> None:
    # Concurrent requests are batched into shared frames to the owner: each still gets its own
    # answer and message.
    split = verified.split
    sends = _v2_sends(split, "c", 64)
    with ThreadPoolExecutor(max_workers=16) as pool:
        replies = list(pool.map(lambda r: exchange(split.port, r), sends))
    assert [r.status for r in replies] == [200] * 64
    ids = {r.json()["MessageId"] for r in replies}
    request_ids = {r.headers["x-amzn-requestid"] for r in replies}
    assert len(ids) == len(request_ids) == 64
    stored = exchange(split.port, control("GET", "/_emulator/messages")).json()["messages"]
    assert {m["id"] for m in stored} == ids


def test_sandbox_profile_rejects_unverified_recipients_alike() -> None:
    with pair("--profile", "sandbox", "--verified-identity", SENDER) as p:
        for build in [
            botocore(
                "ses",
                "SendEmail",
                Source=SENDER,
                Destination={"ToAddresses": [TO]},
                Message=MESSAGE,
            ),
            botocore(
                "sesv2",
                "SendEmail",
                FromEmailAddress=SENDER,
                Destination={"ToAddresses": [TO]},
                Content=CONTENT,
            ),
        ]:
            reply = same(p, build)
            assert (reply.status, error_code(reply)) == (400, "MessageRejected")
            assert b"Email address is not verified" in reply.body
        to_self = same(
            p,
            botocore(
                "ses",
                "SendEmail",
                Source=SENDER,
                Destination={"ToAddresses": [SENDER]},
                Message=MESSAGE,
            ),
        )
        assert to_self.status == 200
        same(p, botocore("ses", "GetSendQuota"))


def test_throttling_answers_alike() -> None:
    # MaxSendRate 0.2: a bucket of one recipient (emulator/ses/throttle.py: at least one
    # message), refilled over 5 s. The first send passes and the next ones are throttled
    # however loaded the machine is, as long as one comparison takes under 5 s.
    with pair("--max-send-rate", "0.2", "--verified-identity", SENDER) as p:
        send_v1 = botocore(
            "ses", "SendEmail", Source=SENDER, Destination={"ToAddresses": [TO]}, Message=MESSAGE
        )
        send_v2 = botocore(
            "sesv2",
            "SendEmail",
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": [TO]},
            Content=CONTENT,
        )
        assert same(p, send_v1).status == 200
        throttled = same(p, send_v1)
        assert (throttled.status, error_code(throttled)) == (400, "Throttling")
        assert b"Maximum sending rate exceeded." in throttled.body
        throttled_v2 = same(p, send_v2)
        assert (throttled_v2.status, error_code(throttled_v2)) == (429, "TooManyRequestsException")
        same(p, botocore("ses", "GetSendQuota"))


def test_control_token_is_checked_alike() -> None:
    token = "split-secret"
    with pair("--control-token", token, "--verified-identity", SENDER) as p:
        for path in ("/_emulator/health", "/_emulator/messages", "/_aws/ses", "/_emulator/ui"):
            refused = same(p, Request(method="GET", path=path))
            assert refused.status == 401
        assert (
            same(p, control("GET", "/_emulator/health", **{"X-Emulator-Token": token})).status
            == 200
        )
        bearer = control("GET", "/_emulator/messages", Authorization=f"Bearer {token}")
        assert same(p, bearer).status == 200
        assert same(p, control("GET", "/_emulator/health", Authorization="Bearer no")).status == 401
        # SES requests need no control token.
        send = botocore(
            "ses", "SendEmail", Source=SENDER, Destination={"ToAddresses": [TO]}, Message=MESSAGE
        )
        assert same(p, send).status == 200


def test_signature_verification_answers_alike() -> None:
    flags = ("--auth", "verify", "--credentials", f"{BENCH_ACCESS_KEY}:{BENCH_SECRET_KEY}")
    with pair(*flags) as p:
        assert same(p, botocore("ses", "ListIdentities")).status == 200
        assert same(p, botocore("sesv2", "GetAccount")).status == 200

        def tampered(service: str, operation: str) -> Build:
            def build(emulator: Emulator) -> Request:
                request = capture(service, emulator.url, operation, {})
                headers = dict(request.headers)
                headers["Authorization"] = re.sub(
                    r"Signature=[0-9a-f]+", "Signature=" + "0" * 64, headers["Authorization"]
                )
                return Request(
                    method=request.method, path=request.path, headers=headers, body=request.body
                )

            return build

        wrong = same(p, tampered("ses", "ListIdentities"))
        assert (wrong.status, error_code(wrong)) == (403, "SignatureDoesNotMatch")
        wrong_v2 = same(p, tampered("sesv2", "GetAccount"))
        assert wrong_v2.status == 403
        unsigned = same(p, form("Action=ListIdentities&Version=2010-12-01"))
        assert unsigned.status == 403
        assert error_code(unsigned) == "MissingAuthenticationToken"


# --------------------------------------------------------------------------- lifecycle


def _settings(emulator: Emulator) -> dict[str, Any]:
    reply = exchange(emulator.port, control("GET", "/_emulator/settings"))
    assert reply.status == 200, reply.text
    document: dict[str, Any] = reply.json()
    return document


def test_ready_line_is_printed_once_and_sigterm_stops_both_processes() -> None:
    with running(split=True) as emulator:
        assert emulator.port not in (0, 4579)
        assert len(emulator.fronts) == 1, emulator.fronts
        front = emulator.fronts[0]
        with open(f"/proc/{front}/cmdline", "rb") as cmdline:
            assert b"emulator" in cmdline.read()
        assert exchange(emulator.port, control("GET", "/_emulator/health")).status == 200
        assert emulator.stop() == 0, emulator.log()
        assert emulator.orphans() == []
        time.sleep(0.2)  # let the stdout reader reach the end of the pipe
        assert emulator.stdout_lines() == [], "the ready line must be the only line on stdout"


def test_sigint_stops_both_processes_and_the_environment_variable_turns_split_on() -> None:
    with running(split=False, env={"SES_EMULATOR_SPLIT": "1"}) as emulator:
        # _spawn(split=False) leaves the flag out: only the variable asks for two processes.
        assert _settings(emulator)["split"] is True
        assert len(emulator.fronts) == 1
        emulator.proc.send_signal(signal.SIGINT)
        assert emulator.proc.wait(timeout=EXIT_TIMEOUT_S) == 0, emulator.log()
        assert emulator.orphans() == []


def test_a_dead_front_makes_the_owner_exit_non_zero_with_an_error() -> None:
    with running(split=True) as emulator:
        (front,) = emulator.fronts
        os.kill(front, signal.SIGKILL)
        try:
            status = emulator.proc.wait(timeout=EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise AssertionError("the owner kept running without its front") from None
        assert status != 0
        log = emulator.log()
        assert re.search(r"ERROR .*front process", log), log


def test_a_killed_owner_takes_the_front_down_with_it() -> None:
    with running(split=True) as emulator:
        (front,) = emulator.fronts
        emulator.proc.kill()
        emulator.proc.wait(timeout=EXIT_TIMEOUT_S)
        assert _wait_gone(front, EXIT_TIMEOUT_S), "the front outlived a SIGKILLed owner"


def test_state_persists_across_restarts_in_split_mode() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        with running("--data-dir", data_dir, split=True) as first:
            verify = capture("ses", first.url, "VerifyEmailIdentity", {"EmailAddress": SENDER})
            assert exchange(first.port, verify).status == 200
            send = capture(
                "sesv2",
                first.url,
                "SendEmail",
                {
                    "FromEmailAddress": SENDER,
                    "Destination": {"ToAddresses": [TO]},
                    "Content": CONTENT,
                },
            )
            assert exchange(first.port, send).status == 200
            assert first.stop() == 0, first.log()
            assert first.orphans() == []
        with running("--data-dir", data_dir, split=True) as second:
            listed = capture("ses", second.url, "ListIdentities", {})
            reply = exchange(second.port, listed)
            assert reply.status == 200
            assert f"<member>{SENDER}</member>".encode() in reply.body
            assert second.stop() == 0, second.log()
            assert second.orphans() == []
        assert any(Path(data_dir).iterdir())


# --------------------------------------------------------------------------- transport edges


def _send_form() -> str:
    return (
        f"Action=SendEmail&Version=2010-12-01&Source={urllib.parse.quote(SENDER)}"
        f"&Destination.ToAddresses.member.1={urllib.parse.quote(TO)}"
        "&Message.Subject.Data=s&Message.Body.Text.Data=t"
    )


def _chunked(port: int, method: str, path: str, chunks: list[bytes], content_type: str) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            method,
            path,
            body=iter(chunks),
            headers={"Content-Type": content_type},
            encode_chunked=True,
        )
        response = connection.getresponse()
        headers = {k.lower(): v for k, v in response.getheaders() if k.lower() not in _TRANSPORT}
        return Reply(response.status, headers, response.read())
    finally:
        connection.close()


def test_chunked_request_bodies_answer_alike(verified: Pair) -> None:
    replies = []
    for emulator in verified.both():
        body = _send_form().encode()
        ses = _chunked(
            emulator.port,
            "POST",
            "/",
            [body[:20], body[20:]],
            "application/x-www-form-urlencoded",
        )
        patch = _chunked(
            emulator.port,
            "PATCH",
            "/_emulator/account",
            [b'{"sandbox":', b" true}"],
            "application/json",
        )
        replies.append((normalised(ses), normalised(patch)))
    (single_ses, single_patch), (split_ses, split_patch) = replies
    assert split_ses == single_ses
    assert split_ses.status == 200, split_ses.text
    assert split_patch == single_patch
    assert split_patch.status == 200, split_patch.text


def test_one_keep_alive_connection_serves_ses_and_control_requests_alike(verified: Pair) -> None:
    sequence = [
        form(_send_form()),
        control("GET", "/_emulator/messages?view=summary"),
        v2("GET", "/v2/email/account"),
        Request(method="GET", path="/_emulator/ui"),
        form(_send_form()),
        control("GET", "/_emulator/health"),
    ]
    answers = []
    for emulator in verified.both():
        connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=30)
        got = []
        try:
            for request in sequence:
                connection.request(
                    request.method, request.path, body=request.body, headers=request.headers
                )
                response = connection.getresponse()
                headers = {
                    k.lower(): v for k, v in response.getheaders() if k.lower() not in _TRANSPORT
                }
                got.append(normalised(Reply(response.status, headers, response.read())))
        finally:
            connection.close()
        answers.append(got)
    assert answers[1] == answers[0]
    assert [reply.status for reply in answers[1]] == [200] * len(sequence)


def test_head_requests_query_strings_and_odd_paths_answer_alike(verified: Pair) -> None:
    for request in [
        Request(method="HEAD", path="/_emulator/health"),
        Request(method="HEAD", path="/v2/email/account"),
        control("GET", "/_emulator/messages?view=summary&limit=%31"),
        control("GET", "/_emulator/messages?view=nonsense"),
        control("GET", "/_emulator/messages/no%20such%20id"),
        v2("GET", "/v2/email/identities/" + urllib.parse.quote(SENDER, safe="")),
        v2("GET", "/v2/email/identities?PageSize=1"),
        v2("GET", "/v2/email/identities?PageSize=nope"),
        Request(method="OPTIONS", path="/v2/email/account"),
    ]:
        same(verified, request)


def test_a_forwarded_head_request_declares_the_length_a_get_would_have(verified: Pair) -> None:
    # Content-Length is transport for the comparisons above; for HEAD it is the answer.
    for path in ("/_emulator/health", "/_emulator/ui", "/_emulator/messages"):
        lengths = []
        for emulator in verified.both():
            connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=30)
            try:
                connection.request("HEAD", path)
                head = connection.getresponse()
                assert head.read() == b""
                connection.request("GET", path)
                get = connection.getresponse()
                body = get.read()
            finally:
                connection.close()
            if head.status == get.status == 200:
                assert head.getheader("Content-Length") == str(len(body)), path
            lengths.append((head.status, head.getheader("Content-Length")))
        assert lengths[1] == lengths[0], path
        assert lengths[0][1] is not None, path


def test_sns_actions_by_query_string_and_late_action_fields_answer_alike(fresh: Pair) -> None:
    arn = urllib.parse.quote(TOPIC + ":0f0e0d0c-0b0a-4908-8706-050403020100")
    by_query = same(
        fresh, Request(method="POST", path=f"/?Action=Unsubscribe&SubscriptionArn={arn}")
    )
    assert (by_query.status, error_code(by_query)) == (404, "NotFound")
    by_get = same(fresh, Request(method="GET", path=f"/?Action=Unsubscribe&SubscriptionArn={arn}"))
    assert by_get.status == 404
    # Not first in the form: the SNS middleware does not see it, so SES v1 answers, alike.
    late = same(fresh, form(f"Version=2010-03-31&Action=Unsubscribe&SubscriptionArn={arn}"))
    assert late.status == 400


def test_latency_faults_and_large_bodies_answer_alike(verified: Pair) -> None:
    rule = {"operation": "GetAccount", "api": "v2", "count": 1, "latency_ms": 50}
    assert same(verified, control("POST", "/_emulator/faults", rule)).status == 201
    assert same(verified, botocore("sesv2", "GetAccount")).status == 200
    assert same(verified, control("DELETE", "/_emulator/faults")).status in (200, 204)
    big = same(
        verified, botocore("ses", "SendRawEmail", RawMessage={"Data": raw_message(2_000_000)})
    )
    assert big.status == 200
    bigger = same(
        verified, botocore("sesv2", "SendEmail", Content={"Raw": {"Data": raw_message(12_000_000)}})
    )
    assert bigger.status == 200  # v2 takes messages up to 40 MB [D]
    listed = same(verified, control("GET", "/_emulator/messages?view=summary"))
    assert listed.status == 200


def test_a_front_that_cannot_start_makes_the_owner_exit_non_zero_without_a_ready_line() -> None:
    # The owner starts the front as `sys.executable -m emulator.front ...`; an interpreter that
    # fails at once stands in for a front that crashes while starting.
    code = (
        "import runpy, sys\n"
        "sys.executable = '/bin/false'\n"
        "sys.argv = ['emulator', '--port', '0', '--split']\n"
        "runpy.run_module('emulator', run_name='__main__', alter_sys=True)\n"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SES_EMULATOR_")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=environment,
        timeout=START_TIMEOUT_S,
        check=False,
    )
    assert result.returncode != 0, result.stderr
    assert result.stdout == ""
    assert re.search(r"ERROR .*front process", result.stderr), result.stderr


_BROKEN_HANDLERS = """
from emulator.ses import v1_ops, v2_ops

def broken(context, params):
    raise RuntimeError("handler bug")

v1_ops.HANDLERS["ListIdentities"] = broken
v2_ops.HANDLERS["ListEmailTemplates"] = broken
"""


def test_a_handler_bug_is_the_same_internal_failure_and_the_owner_keeps_serving() -> None:
    with pair(prelude=_BROKEN_HANDLERS, tracebacks=True) as p:
        v1 = same(p, botocore("ses", "ListIdentities"))
        assert (v1.status, error_code(v1)) == (500, "InternalFailure")
        v2_reply = same(p, botocore("sesv2", "ListEmailTemplates"))
        assert v2_reply.status == 500
        assert v2_reply.json()["message"] == "An internal error occurred."
        # The bug is logged with its traceback, and the next request is served as usual.
        assert same(p, botocore("sesv2", "GetAccount")).status == 200
        assert same(p, botocore("ses", "ListIdentities")).status == 500
        for emulator in p.both():
            assert "RuntimeError: handler bug" in emulator.log(), emulator.log()


def test_events_reach_an_sns_webhook_alike(verified: Pair) -> None:
    with recording_webhook() as for_single, recording_webhook() as for_split:
        hooks = {False: for_single, True: for_split}  # by Emulator.split
        subscribe = same(
            verified,
            lambda e: control(
                "POST",
                "/_emulator/sns/subscriptions",
                {"topic_arn": TOPIC, "endpoint": hooks[e.split].url, "confirmed": True},
            ),
        )
        assert subscribe.status == 201, subscribe.text
        same(verified, botocore("sesv2", "CreateConfigurationSet", ConfigurationSetName="hooks"))
        destination = botocore(
            "sesv2",
            "CreateConfigurationSetEventDestination",
            ConfigurationSetName="hooks",
            EventDestinationName="sns",
            EventDestination={
                "Enabled": True,
                "MatchingEventTypes": ["SEND", "DELIVERY"],
                "SnsDestination": {"TopicArn": TOPIC},
            },
        )
        assert same(verified, destination).status == 200
        send = botocore(
            "sesv2",
            "SendEmail",
            FromEmailAddress=SENDER,
            Destination={"ToAddresses": ["success@simulator.amazonses.com"]},
            Content=CONTENT,
            ConfigurationSetName="hooks",
        )
        assert same(verified, send).status == 200
        seen: dict[bool, list[str]] = {}
        for split, hook in hooks.items():
            seen[split] = []
            for _ in range(2):  # the Send event and the Delivery event (bounded waits)
                headers, body = hook.next(timeout=15)
                body = {k: v for k, v in body.items() if k != "Signature"}  # per-process key
                message = json.loads(body.pop("Message"))
                text = json.dumps([headers.get("x-amz-sns-message-type"), body, message])
                seen[split].append(normalised(Reply(200, {}, text.encode())).text)
        assert sorted(seen[True]) == sorted(seen[False])
        kinds = sorted(json.loads(text)[2]["eventType"] for text in seen[True])
        assert kinds == ["Delivery", "Send"]


def test_bodies_over_the_limit_are_refused_alike(fresh: Pair) -> None:
    # The default limit is 60 MiB (Settings.max_request_bytes); the front enforces it on SES
    # requests and on the requests it forwards.
    oversized = b"x" * (60 * 1024 * 1024 + 1)
    ses = same(
        fresh,
        Request(
            method="POST",
            path="/",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            body=b"Action=SendRawEmail&RawMessage.Data=" + oversized,
        ),
    )
    assert (ses.status, error_code(ses)) == (413, "RequestEntityTooLarge")
    v2_reply = same(fresh, replace(v2("POST", "/v2/email/outbound-emails"), body=oversized))
    assert v2_reply.status == 413
    forwarded = same(fresh, replace(control("PATCH", "/_emulator/account"), body=oversized))
    assert forwarded.status == 413


def test_chunked_bodies_over_the_limit_get_the_control_api_error_alike(fresh: Pair) -> None:
    # Without a declared length nothing refuses the body before the handler reads it: the
    # control API answers in its own error shape, in both modes and on every route.
    chunks = [b"x" * (1024 * 1024)] * 60 + [b"x"]  # 60 MiB + 1: one byte over the limit
    for method, path in (("PATCH", "/_emulator/account"), ("POST", "/_emulator/faults")):
        single, split = (
            normalised(_chunked(emulator.port, method, path, chunks, "application/json"))
            for emulator in fresh.both()
        )
        assert split == single, path
        assert split.status == 413, path
        assert split.json()["error"]["code"] == "RequestTooLarge", path


def test_a_counted_fault_fails_exactly_that_many_of_many_concurrent_sends(verified: Pair) -> None:
    # Sends that reach the owner in one batch still pass the fault rules one by one.
    rule = {
        "operation": "SendEmail",
        "api": "v2",
        "count": 5,
        "error": {"code": "TooManyRequestsException", "status": 429, "message": "Slow down"},
    }
    split = verified.split
    assert exchange(split.port, control("POST", "/_emulator/faults", rule)).status == 201
    sends = _v2_sends(split, "f", 40)
    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(lambda r: exchange(split.port, r), sends))
    statuses = sorted(r.status for r in replies)
    assert statuses == [200] * 35 + [429] * 5
    assert {error_code(r) for r in replies if r.status == 429} == {"TooManyRequestsException"}
    stored = exchange(split.port, control("GET", "/_emulator/messages")).json()["messages"]
    assert len(stored) == 35
    assert exchange(split.port, control("DELETE", "/_emulator/faults")).status in (200, 204)
