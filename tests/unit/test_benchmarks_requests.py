"""The benchmark's requests are exactly what botocore sends, and the raw message has its size."""

from __future__ import annotations

import base64
import email
import email.policy
import json
from urllib.parse import parse_qs

import pytest

from benchmarks.load_requests import (
    OPERATIONS,
    RAW_MESSAGE_BYTES,
    PreparedRequest,
    raw_message,
    request_for,
)

ENDPOINT = "http://127.0.0.1:4579"


@pytest.mark.parametrize("size", [2048, 10_000, RAW_MESSAGE_BYTES])
def test_raw_message_is_exactly_the_requested_size_and_parses(size: int) -> None:
    data = raw_message(size)

    assert len(data) == size
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert parsed["Subject"] == "seskit benchmark raw message"
    kinds = [part.get_content_type() for part in parsed.iter_parts()]
    assert kinds == ["text/plain", "application/octet-stream"]


def test_raw_message_too_small_to_hold_the_headers_is_refused() -> None:
    with pytest.raises(ValueError, match="size must be at least"):
        raw_message(100)


def test_v1_send_email_request_is_a_signed_query_form() -> None:
    request = request_for("v1 SendEmail", ENDPOINT)

    assert (request.method, request.path) == ("POST", "/")
    form = parse_qs(request.body.decode())
    assert form["Action"] == ["SendEmail"]
    assert form["Destination.ToAddresses.member.1"] == ["to@example.com"]
    assert form["Tags.member.2.Name"] == ["kind"]
    assert request.headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
    assert "/ses/aws4_request" in request.headers["Authorization"]
    assert not {"host", "content-length"} & {name.lower() for name in request.headers}


def test_v2_bulk_request_carries_fifty_entries() -> None:
    request = request_for("v2 SendBulkEmail (50)", ENDPOINT)

    assert (request.method, request.path) == ("POST", "/v2/email/outbound-bulk-emails")
    document = json.loads(request.body)
    assert len(document["BulkEmailEntries"]) == 50
    assert document["DefaultContent"]["Template"]["TemplateName"] == "bench-bulk"


def test_v1_raw_request_carries_the_100_kb_message() -> None:
    request = request_for("v1 SendRawEmail (100 KB)", ENDPOINT)

    form = parse_qs(request.body.decode())
    assert form["Action"] == ["SendRawEmail"]
    assert len(base64.b64decode(form["RawMessage.Data"][0])) == RAW_MESSAGE_BYTES


def test_every_operation_builds_and_the_order_is_the_report_order() -> None:
    assert OPERATIONS == (
        "v1 SendEmail",
        "v2 SendEmail",
        "v1 SendRawEmail (100 KB)",
        "v2 SendBulkEmail (50)",
    )
    for operation in OPERATIONS:
        assert request_for(operation, ENDPOINT).method == "POST"


def test_prepared_request_rejects_a_relative_path() -> None:
    with pytest.raises(ValueError, match="path must start with '/'"):
        PreparedRequest(method="GET", path="v2/email")
