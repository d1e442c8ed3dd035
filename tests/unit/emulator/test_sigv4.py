"""SigV4 verification against signatures made by botocore itself (SigV4Auth, SigV4QueryAuth,
and real boto3 clients captured just before they hit the network)."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSPreparedRequest, AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.ses.errors import SesError
from emulator.sigv4 import (
    MAX_CLOCK_SKEW_SECONDS,
    SigningRequest,
    canonical_query_string,
    canonical_uri,
    check_control_token,
    constant_time_equal,
    derive_signing_key,
    verify_request,
)

ENDPOINT = "http://127.0.0.1:4579"
CREDS = {"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
GOOD = Credentials("AKIDEXAMPLE", CREDS["AKIDEXAMPLE"])


def _from_prepared(prepared: AWSPreparedRequest) -> SigningRequest:
    parts = urlsplit(prepared.url)
    headers = [
        (k, v.decode() if isinstance(v, bytes) else str(v)) for k, v in prepared.headers.items()
    ]
    # The HTTP client adds Host from the URL; botocore signs it from the URL too.
    if not any(k.lower() == "host" for k, _ in headers):
        headers.append(("Host", parts.netloc))
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    return SigningRequest(
        method=prepared.method,
        path=parts.path or "/",
        query=parts.query,
        headers=tuple(headers),
        body=body,
    )


def _signed_at(request: SigningRequest) -> float:
    stamp = request.header("x-amz-date")
    if stamp is None:
        stamp = dict(pair.split("=", 1) for pair in request.query.split("&") if "=" in pair)[
            "X-Amz-Date"
        ]
    return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()


def _sign(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    creds: Credentials = GOOD,
    region: str = "us-east-1",
) -> SigningRequest:
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    SigV4Auth(creds, "ses", region).add_auth(request)
    return _from_prepared(request.prepare())


def _verify(request: SigningRequest, *, at: float | None = None) -> Any:
    now = _signed_at(request) if at is None else at
    return verify_request(request, credentials=CREDS, now=now)


def _code(exc: pytest.ExceptionInfo[SesError]) -> tuple[str, int, str, int]:
    return (*_wire(exc.value, "v1"), *_wire(exc.value, "v2"))


def _wire(error: SesError, api: str) -> tuple[str, int]:
    wire = error.v1 if api == "v1" else error.v2
    return wire.code, wire.status


FORM = "application/x-www-form-urlencoded; charset=utf-8"


# --- header auth ---------------------------------------------------------------------------


def test_v1_form_post_signed_by_botocore_verifies() -> None:
    body = b"Action=SendEmail&Version=2010-12-01&Source=s%40example.com"
    request = _sign("POST", f"{ENDPOINT}/", body=body, headers={"Content-Type": FORM})
    principal = _verify(request)
    assert principal.access_key == "AKIDEXAMPLE"
    assert principal.region == "us-east-1"
    assert principal.service == "ses"
    assert principal.presigned is False


@pytest.mark.parametrize(
    "path",
    [
        "/v2/email/identities/a%40example.com",
        "/v2/email/identities/a%2Bb%40example.com",
        "/v2/email/suppression/addresses/a%20b%2Fc%40example.com",
        "/v2/email/templates/%E2%9C%93",
    ],
)
def test_v2_paths_with_encoded_segments_verify(path: str) -> None:
    request = _sign("GET", f"{ENDPOINT}{path}")
    assert _verify(request).access_key == "AKIDEXAMPLE"


def test_get_with_repeated_query_keys_verifies() -> None:
    url = f"{ENDPOINT}/v2/email/suppression/addresses?Reason=COMPLAINT&Reason=BOUNCE&PageSize=10"
    request = _sign("GET", url)
    assert _verify(request).access_key == "AKIDEXAMPLE"


def test_query_with_reserved_characters_verifies() -> None:
    url = f"{ENDPOINT}/v2/email/suppression/addresses?StartDate=2024-01-02T03%3A04%3A05Z"
    assert _verify(_sign("GET", url)).access_key == "AKIDEXAMPLE"


def test_temporary_credentials_with_security_token_verify() -> None:
    creds = Credentials("AKIDEXAMPLE", CREDS["AKIDEXAMPLE"], token="FQoGZXIvYXdzEJr//////////")
    request = _sign("POST", f"{ENDPOINT}/v2/email/outbound-emails", body=b"{}", creds=creds)
    assert "x-amz-security-token" in (request.header("authorization") or "")
    principal = _verify(request)
    assert principal.security_token == "FQoGZXIvYXdzEJr//////////"


def test_wrong_secret_is_signature_does_not_match() -> None:
    request = _sign(
        "POST",
        f"{ENDPOINT}/",
        body=b"Action=GetSendQuota",
        creds=Credentials("AKIDEXAMPLE", "not-the-secret"),
    )
    with pytest.raises(SesError) as exc:
        _verify(request)
    assert _code(exc) == ("SignatureDoesNotMatch", 403, "InvalidSignatureException", 403)
    assert exc.value.message == (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. "
        "Consult the service documentation for details."
    )


def test_tampered_body_is_signature_does_not_match() -> None:
    request = _sign("POST", f"{ENDPOINT}/", body=b"Action=GetSendQuota")
    tampered = SigningRequest(
        method=request.method,
        path=request.path,
        query=request.query,
        headers=request.headers,
        body=b"Action=DeleteIdentity",
    )
    with pytest.raises(SesError) as exc:
        _verify(tampered)
    assert _code(exc)[0] == "SignatureDoesNotMatch"


def test_tampered_path_is_signature_does_not_match() -> None:
    request = _sign("GET", f"{ENDPOINT}/v2/email/identities/a%40example.com")
    moved = SigningRequest(
        method="GET",
        path="/v2/email/identities/b%40example.com",
        query="",
        headers=request.headers,
    )
    with pytest.raises(SesError) as exc:
        _verify(moved)
    assert _code(exc)[0] == "SignatureDoesNotMatch"


def test_unknown_access_key_is_invalid_client_token_id() -> None:
    request = _sign("GET", f"{ENDPOINT}/v2/email/account", creds=Credentials("AKIDOTHER", "x"))
    with pytest.raises(SesError) as exc:
        _verify(request)
    assert _code(exc) == ("InvalidClientTokenId", 403, "UnrecognizedClientException", 403)
    assert exc.value.message == "The security token included in the request is invalid."


def test_missing_signature_is_missing_authentication_token() -> None:
    request = SigningRequest(
        method="POST", path="/", query="", headers=(("Host", "x"),), body=b"Action=GetSendQuota"
    )
    with pytest.raises(SesError) as exc:
        verify_request(request, credentials=CREDS, now=0.0)
    assert _code(exc) == (
        "MissingAuthenticationToken",
        403,
        "MissingAuthenticationToken",
        403,
    )
    assert exc.value.message == "Request is missing Authentication Token"


def test_signature_older_than_five_minutes_is_expired() -> None:
    request = _sign("GET", f"{ENDPOINT}/v2/email/account")
    signed = _signed_at(request)
    assert _verify(request, at=signed + MAX_CLOCK_SKEW_SECONDS).access_key == "AKIDEXAMPLE"
    with pytest.raises(SesError) as exc:
        _verify(request, at=signed + MAX_CLOCK_SKEW_SECONDS + 1)
    assert _code(exc) == ("RequestExpired", 400, "InvalidSignatureException", 403)
    assert exc.value.message.startswith("Signature expired: ")
    assert exc.value.message.endswith(" - 5 min.)")


def test_signature_more_than_five_minutes_ahead_is_not_yet_current() -> None:
    request = _sign("GET", f"{ENDPOINT}/v2/email/account")
    with pytest.raises(SesError) as exc:
        _verify(request, at=_signed_at(request) - MAX_CLOCK_SKEW_SECONDS - 1)
    assert _code(exc)[0] == "RequestExpired"
    assert exc.value.message.startswith("Signature not yet current: ")


@pytest.mark.parametrize(
    ("authorization", "fragment"),
    [
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/ses, "
            "SignedHeaders=host, Signature=00",
            "aws4_request",
        ),
        ("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00", "'Credential'"),
        ("AWS AKIDEXAMPLE:abc", "only AWS4-HMAC-SHA256"),
    ],
)
def test_malformed_authorization_is_incomplete_signature(authorization: str, fragment: str) -> None:
    request = SigningRequest(
        method="GET",
        path="/",
        query="",
        headers=(("Authorization", authorization), ("X-Amz-Date", "20261122T000000Z")),
    )
    with pytest.raises(SesError) as exc:
        verify_request(request, credentials=CREDS, now=0.0)
    assert _code(exc) == ("IncompleteSignature", 403, "IncompleteSignature", 403)
    assert fragment in exc.value.message


def test_declared_payload_hash_must_match_the_body() -> None:
    request = _sign(
        "POST",
        f"{ENDPOINT}/",
        body=b"Action=GetSendQuota",
        headers={"X-Amz-Content-SHA256": hashlib.sha256(b"other").hexdigest()},
    )
    with pytest.raises(SesError) as exc:
        _verify(request)
    assert _code(exc)[0] == "SignatureDoesNotMatch"


# --- presigned query auth ------------------------------------------------------------------


def _presign(method: str, url: str, *, expires: int = 3600, creds: Credentials = GOOD) -> Any:
    request = AWSRequest(method=method, url=url)
    SigV4QueryAuth(creds, "ses", "us-east-1", expires=expires).add_auth(request)
    return _from_prepared(request.prepare())


def test_presigned_get_verifies() -> None:
    request = _presign("GET", f"{ENDPOINT}/?Action=GetSendQuota&Version=2010-12-01")
    principal = _verify(request)
    assert principal.presigned is True
    assert principal.access_key == "AKIDEXAMPLE"


def test_presigned_url_expires_after_its_lifetime() -> None:
    request = _presign("GET", f"{ENDPOINT}/?Action=GetSendQuota", expires=60)
    signed = _signed_at(request)
    assert _verify(request, at=signed + 60).presigned
    with pytest.raises(SesError) as exc:
        _verify(request, at=signed + 61)
    assert _code(exc) == ("RequestExpired", 400, "InvalidSignatureException", 403)
    assert exc.value.message == "Request has expired."


def test_presigned_with_tampered_parameter_fails() -> None:
    request = _presign("GET", f"{ENDPOINT}/?Action=GetSendQuota&Version=2010-12-01")
    tampered = SigningRequest(
        method="GET",
        path="/",
        query=request.query.replace("GetSendQuota", "DeleteIdentity"),
        headers=request.headers,
    )
    with pytest.raises(SesError) as exc:
        _verify(tampered)
    assert _code(exc)[0] == "SignatureDoesNotMatch"


def test_presigned_with_unknown_key_is_invalid_client_token_id() -> None:
    request = _presign("GET", f"{ENDPOINT}/?Action=GetSendQuota", creds=Credentials("AKIDX", "s"))
    with pytest.raises(SesError) as exc:
        _verify(request)
    assert _code(exc)[0] == "InvalidClientTokenId"


def test_presigned_expires_out_of_range_is_incomplete_signature() -> None:
    request = _presign("GET", f"{ENDPOINT}/?Action=GetSendQuota", expires=604_801)
    with pytest.raises(SesError) as exc:
        _verify(request)
    assert _code(exc)[0] == "IncompleteSignature"


# --- real boto3 clients, captured just before the network ----------------------------------


class _Captured(Exception):
    def __init__(self, request: AWSPreparedRequest) -> None:
        super().__init__("captured")
        self.request = request


def _capture(service: str, operation: str, creds: Credentials = GOOD, **params: Any) -> Any:
    client = boto3.client(
        service,
        region_name="eu-west-1",
        endpoint_url=ENDPOINT,
        aws_access_key_id=creds.access_key,
        aws_secret_access_key=creds.secret_key,
        aws_session_token=creds.token,
        config=Config(retries={"total_max_attempts": 1}),
    )

    def stop(request: AWSPreparedRequest, **_: Any) -> None:
        raise _Captured(request)

    client.meta.events.register("before-send", stop)
    with pytest.raises(_Captured) as exc:
        getattr(client, operation)(**params)
    return _from_prepared(exc.value.request)


@pytest.fixture
def raw_message() -> bytes:
    return b"From: s@example.com\r\nTo: a@example.com\r\nSubject: x\r\n\r\nbody \xe2\x9c\x93"


def test_boto3_v1_send_raw_email_signature_verifies(raw_message: bytes) -> None:
    request = _capture(
        "ses",
        "send_raw_email",
        RawMessage={"Data": raw_message},
        Destinations=["a+tag@example.com"],
    )
    assert base64.b64encode(raw_message).decode()[:8] in request.body.decode()
    principal = _verify(request)
    assert (principal.region, principal.service) == ("eu-west-1", "ses")


def test_boto3_v2_delete_suppressed_destination_signature_verifies() -> None:
    request = _capture("sesv2", "delete_suppressed_destination", EmailAddress="a b/c+d@example.com")
    assert "%2F" in request.path
    assert _verify(request).access_key == "AKIDEXAMPLE"


def test_boto3_v2_list_with_query_list_signature_verifies() -> None:
    request = _capture(
        "sesv2", "list_suppressed_destinations", Reasons=["BOUNCE", "COMPLAINT"], PageSize=5
    )
    assert request.query.count("Reason=") == 2
    assert _verify(request).access_key == "AKIDEXAMPLE"


def test_boto3_session_token_signature_verifies() -> None:
    creds = Credentials("AKIDEXAMPLE", CREDS["AKIDEXAMPLE"], token="session/token+==")
    request = _capture("sesv2", "get_account", creds=creds)
    assert _verify(request).security_token == "session/token+=="


def test_boto3_presigned_url_verifies() -> None:
    client = boto3.client(
        "ses",
        region_name="us-east-1",
        endpoint_url=ENDPOINT,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key=CREDS["AKIDEXAMPLE"],
    )
    url = client.generate_presigned_url(
        "send_email",
        Params={
            "Source": "s@example.com",
            "Destination": {"ToAddresses": ["a@example.com"]},
            "Message": {"Subject": {"Data": "hi there"}, "Body": {"Text": {"Data": "t&x=1"}}},
        },
        HttpMethod="POST",
    )
    parts = urlsplit(url)
    request = SigningRequest(
        method="POST", path=parts.path, query=parts.query, headers=(("Host", parts.netloc),)
    )
    assert _verify(request).presigned


# --- pieces --------------------------------------------------------------------------------


def test_canonical_uri_double_encodes_the_wire_path() -> None:
    assert canonical_uri("/v2/email/identities/a%40b.com") == "/v2/email/identities/a%2540b.com"
    assert canonical_uri("") == "/"
    assert canonical_uri("/a/./b/../c//d/") == "/a/c/d/"


def test_canonical_query_sorts_and_reencodes() -> None:
    assert canonical_query_string("b=2&a=%7E&a=1&c") == "a=1&a=~&b=2&c="
    assert canonical_query_string("x=a b&X-Amz-Signature=1", exclude=["X-Amz-Signature"]) == (
        "x=a%20b"
    )


def test_signing_key_matches_the_aws_documented_example() -> None:
    # AWS General Reference, "Examples of how to derive a signing key for Signature Version 4".
    key = derive_signing_key(
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam"
    )
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"


@settings(max_examples=50, deadline=None)
@given(
    segment=st.text(min_size=1, max_size=20),
    query=st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda k: not k.startswith("X-Amz")),
        st.text(max_size=8),
        max_size=4,
    ),
    body=st.binary(max_size=64),
)
def test_any_botocore_signature_verifies(segment: str, query: dict[str, str], body: bytes) -> None:
    from urllib.parse import quote, urlencode

    url = f"{ENDPOINT}/v2/email/templates/{quote(segment, safe='')}"
    if query:
        url += "?" + urlencode(query, quote_via=quote, safe="-_.~")
    request = _sign("PUT", url, body=body)
    assert _verify(request).access_key == "AKIDEXAMPLE"


def test_constant_time_equal() -> None:
    assert constant_time_equal("abc", "abc")
    assert not constant_time_equal("abc", "abd")
    assert not constant_time_equal("abc", "ab")


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ([("Authorization", "Bearer s3cret")], True),
        ([("authorization", "bearer s3cret")], True),
        ([("X-Emulator-Token", "s3cret")], True),
        ([("Authorization", "Bearer wrong")], False),
        ([("Authorization", "s3cret")], False),
        ([], False),
    ],
)
def test_control_token_check(headers: list[tuple[str, str]], allowed: bool) -> None:
    assert check_control_token(headers, "s3cret") is allowed


def test_control_api_is_open_without_a_token() -> None:
    assert check_control_token([], None) is True


def test_signing_request_rejects_a_path_with_query() -> None:
    with pytest.raises(ValueError, match="path"):
        SigningRequest(method="GET", path="/?a=1", query="", headers=())


@pytest.mark.parametrize(
    "authorization",
    [
        "\udcff",  # how aiohttp hands over an undecodable header byte
        "AWS4-HMAC-SHA256 Credential=\udcff/20261122/us-east-1/ses, SignedHeaders=host, "
        "Signature=00",
        "AWS4-HMAC-SHA256 SignedHeaders=\udcff",
    ],
)
def test_error_messages_never_echo_unencodable_text(authorization: str) -> None:
    request = SigningRequest(
        method="GET",
        path="/",
        query="",
        headers=(("Authorization", authorization), ("X-Amz-Date", "2026\udcff")),
    )
    with pytest.raises(SesError) as exc:
        verify_request(request, credentials=CREDS, now=0.0)
    assert _code(exc)[0] == "IncompleteSignature"
    exc.value.message.encode("utf-8")  # would raise UnicodeEncodeError on a lone surrogate


def test_a_received_request_splits_its_raw_path_and_keeps_headers_and_body_as_sent() -> None:
    received = SigningRequest.received(
        "POST", "/v2/email/outbound-emails?a=%20b", [("Host", "h"), ("X-A", "1")], b"\x1f\x8b"
    )
    assert received == SigningRequest(
        method="POST",
        path="/v2/email/outbound-emails",
        query="a=%20b",
        headers=(("Host", "h"), ("X-A", "1")),
        body=b"\x1f\x8b",
    )
    assert SigningRequest.received("POST", "?Action=X", [], b"").path == "/"
