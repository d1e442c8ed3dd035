"""The exact HTTP requests the emulator benchmark replays, built by botocore itself.

Each request is what a real boto3 client puts on the wire (signed, with botocore's own
serializer), captured just before it would be sent. Replaying the same bytes against every
server keeps the comparison fair: the load generator never parses or builds anything per
request, and every server sees the SDK's real framing.
"""

from __future__ import annotations

import email.policy
import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.awsrequest import AWSPreparedRequest
from botocore.config import Config

__all__ = [
    "BENCH_ACCESS_KEY",
    "BENCH_REGION",
    "BENCH_SECRET_KEY",
    "BULK_ENTRIES",
    "OPERATIONS",
    "RAW_MESSAGE_BYTES",
    "RECIPIENTS",
    "SENDER",
    "TEMPLATE_NAME",
    "OperationName",
    "PreparedRequest",
    "bulk_email_params",
    "capture",
    "memory_template_params",
    "raw_message",
    "request_for",
    "template_params",
]

BENCH_REGION = "us-east-1"
# botocore insists on credentials to sign; none of the servers under test checks them.
BENCH_ACCESS_KEY = "AKIABENCHMARK0000000"
BENCH_SECRET_KEY = "benchmark-secret-key-not-a-real-one-000000"

SENDER = "bench@example.com"
# The same "typical" send as the builder benchmark: three recipients, text + html, two tags.
RECIPIENTS = ("to@example.com", "cc@example.com", "bcc@example.com")
TEMPLATE_NAME = "bench-bulk"
# Issue 8: v1 SendRawEmail with a 100 KB message and v2 SendBulkEmail with 50 entries.
RAW_MESSAGE_BYTES = 100 * 1024
BULK_ENTRIES = 50

OperationName = str  # one of the keys of _BUILDERS: "v1 SendEmail", "v2 SendEmail", ...


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedRequest:
    """One HTTP request as botocore would send it (Host and Content-Length are the client's)."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"path must start with '/' (got {self.path!r})")
        if self.method not in {"GET", "POST", "PUT", "DELETE"}:
            raise ValueError(f"unexpected HTTP method {self.method!r}")


class _Captured(Exception):  # a control-flow signal out of botocore, not an error
    def __init__(self, request: AWSPreparedRequest) -> None:
        super().__init__("captured")
        self.request = request


def _raise_captured(request: AWSPreparedRequest, **_: Any) -> None:
    raise _Captured(request)


# Headers the load generator supplies itself for every request.
_CLIENT_HEADERS = frozenset({"host", "content-length"})


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@functools.cache
def _capturing_client(service: str, endpoint: str) -> Any:
    client = _session().create_client(
        service,
        region_name=BENCH_REGION,
        endpoint_url=endpoint,
        aws_access_key_id=BENCH_ACCESS_KEY,
        aws_secret_access_key=BENCH_SECRET_KEY,
        config=Config(retries={"total_max_attempts": 1}),
    )
    client.meta.events.register("before-send", _raise_captured)
    return client


def capture(
    service: str, endpoint: str, operation: str, params: Mapping[str, Any]
) -> PreparedRequest:
    """The signed request a boto3 ``service`` client sends for ``operation(**params)``."""
    client = _capturing_client(service, endpoint)
    method = getattr(client, xform_name(operation))
    try:
        method(**params)
    except _Captured as captured:
        request = captured.request
    else:  # pragma: no cover - before-send always fires
        raise AssertionError("botocore sent a request without emitting before-send")
    body = request.body
    if body is None:
        body_bytes = b""
    elif isinstance(body, bytes):
        body_bytes = body
    elif isinstance(body, str):
        body_bytes = body.encode()
    else:
        body_bytes = body.read()
    path = "/" + request.url.split("/", 3)[3] if request.url.count("/") >= 3 else "/"
    headers = {
        name: value.decode() if isinstance(value, bytes) else str(value)
        for name, value in request.headers.items()
        if name.lower() not in _CLIENT_HEADERS
    }
    return PreparedRequest(method=request.method, path=path, headers=headers, body=body_bytes)


@functools.cache
def raw_message(size: int = RAW_MESSAGE_BYTES) -> bytes:
    """A multipart message with a text part and a binary attachment, exactly ``size`` bytes."""
    text = "Hello from the seskit benchmark."
    if len(_raw(text, 0)) > size:
        raise ValueError(f"size must be at least {len(_raw(text, 0))} bytes (got {size})")
    # The serialised length grows monotonically with the attachment: find the largest
    # attachment that fits, then pad the 7bit text part (one byte per character) to the size.
    low, high = 0, size
    while low < high:
        mid = (low + high + 1) // 2
        if len(_raw(text, mid)) <= size:
            low = mid
        else:
            high = mid - 1
    message = _raw(text + "." * (size - len(_raw(text, low))), low)
    if len(message) != size:  # pragma: no cover - the arithmetic above is exact for 7bit text
        raise AssertionError(f"raw message is {len(message)} bytes, wanted {size}")
    return message


# 251 is prime, so the pattern does not line up with base64's 3-byte groups or 76-char lines.
_PATTERN = bytes((i * 7919 + 13) % 256 for i in range(251))


def _raw(text: str, attachment_len: int) -> bytes:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = SENDER
    msg["To"] = RECIPIENTS[0]
    msg["Cc"] = RECIPIENTS[1]
    msg["Subject"] = "seskit benchmark raw message"
    msg["Message-ID"] = "<bench@example.com>"
    msg["Date"] = "Sun, 22 Nov 2026 00:00:00 +0000"
    msg.set_content(text + "\n", cte="7bit")
    # A fixed pattern, not os.urandom, so every server (and every run) gets the identical body.
    payload = (_PATTERN * (attachment_len // len(_PATTERN) + 1))[:attachment_len]
    msg.add_attachment(payload, maintype="application", subtype="octet-stream", filename="data.bin")
    msg.set_boundary("seskit-bench-boundary")
    return msg.as_bytes()


def _message_content() -> dict[str, Any]:
    return {
        "Subject": {"Data": "Your order has shipped", "Charset": "UTF-8"},
        "Body": {
            "Text": {"Data": "Hello,\n\nyour order 12345 has shipped.\n", "Charset": "UTF-8"},
            "Html": {
                "Data": "<p>Hello,</p><p>your order <b>12345</b> has shipped.</p>",
                "Charset": "UTF-8",
            },
        },
    }


def _v1_send_email() -> dict[str, Any]:
    return {
        "Source": SENDER,
        "Destination": {
            "ToAddresses": [RECIPIENTS[0]],
            "CcAddresses": [RECIPIENTS[1]],
            "BccAddresses": [RECIPIENTS[2]],
        },
        "Message": _message_content(),
        "Tags": [{"Name": "campaign", "Value": "bench"}, {"Name": "kind", "Value": "order"}],
    }


def _v2_send_email() -> dict[str, Any]:
    return {
        "FromEmailAddress": SENDER,
        "Destination": {
            "ToAddresses": [RECIPIENTS[0]],
            "CcAddresses": [RECIPIENTS[1]],
            "BccAddresses": [RECIPIENTS[2]],
        },
        "Content": {"Simple": _message_content()},
        "EmailTags": [{"Name": "campaign", "Value": "bench"}, {"Name": "kind", "Value": "order"}],
    }


def _v1_send_raw_email() -> dict[str, Any]:
    return {
        "Source": SENDER,
        "Destinations": [RECIPIENTS[0], RECIPIENTS[1]],
        "RawMessage": {"Data": raw_message()},
    }


def template_params(name: str = TEMPLATE_NAME, text_padding: int = 0) -> dict[str, Any]:
    """v2 CreateEmailTemplate parameters for the bulk benchmark's template."""
    return {
        "TemplateName": name,
        "TemplateContent": {
            "Subject": "Hello {{name}}",
            "Text": "Dear {{name}},\n\nyour code is {{code}}.\n" + "x" * text_padding,
            "Html": "<p>Dear {{name}},</p><p>your code is <b>{{code}}</b>.</p>",
        },
    }


def memory_template_params() -> dict[str, Any]:
    """The template of the memory benchmark: each rendered message is about 2 KB of MIME."""
    return template_params(name="bench-memory", text_padding=1400)


def bulk_email_params(template: str = TEMPLATE_NAME, entries: int = BULK_ENTRIES) -> dict[str, Any]:
    """v2 SendBulkEmail parameters: ``entries`` destinations, each with its own data."""
    return {
        "FromEmailAddress": SENDER,
        "DefaultContent": {
            "Template": {
                "TemplateName": template,
                "TemplateData": json.dumps({"name": "friend", "code": "0"}),
            }
        },
        "BulkEmailEntries": [
            {
                "Destination": {"ToAddresses": [f"user{i}@example.com"]},
                "ReplacementEmailContent": {
                    "ReplacementTemplate": {
                        "ReplacementTemplateData": json.dumps({"name": f"User {i}", "code": str(i)})
                    }
                },
            }
            for i in range(entries)
        ],
    }


OPERATIONS: tuple[OperationName, ...]  # set below, in the order the report shows them

_BUILDERS: dict[OperationName, tuple[str, str, Callable[[], dict[str, Any]]]] = {
    "v1 SendEmail": ("ses", "SendEmail", _v1_send_email),
    "v2 SendEmail": ("sesv2", "SendEmail", _v2_send_email),
    "v1 SendRawEmail (100 KB)": ("ses", "SendRawEmail", _v1_send_raw_email),
    "v2 SendBulkEmail (50)": ("sesv2", "SendBulkEmail", bulk_email_params),
}


OPERATIONS = tuple(_BUILDERS)


def request_for(operation: OperationName, endpoint: str) -> PreparedRequest:
    """The benchmark request for one of the four measured operations."""
    service, api_name, build = _BUILDERS[operation]
    return capture(service, endpoint, api_name, build())
