"""Account and region of a request, from its SigV4 credential scope."""

from __future__ import annotations

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from emulator.config import Settings
from emulator.protocols import auth
from emulator.protocols.auth import Caller, caller, credential_scope

SETTINGS = Settings(region="eu-west-1")


def signed_headers(access_key: str, region: str) -> dict[str, str]:
    request = AWSRequest(method="POST", url="http://127.0.0.1:1/", data=b"Action=GetSendQuota")
    SigV4Auth(Credentials(access_key, "secret"), "ses", region).add_auth(request)
    return dict(request.headers.items())


def test_twelve_digit_access_key_is_the_account_and_scope_gives_the_region() -> None:
    headers = signed_headers("123456789012", "ap-south-1")
    assert caller(headers, "", SETTINGS) == Caller(
        access_key="123456789012", account_id="123456789012", region="ap-south-1"
    )


@pytest.mark.parametrize("key", ["AKIDEXAMPLE", "12345678901", "1234567890123", "12345678901a"])
def test_any_other_access_key_uses_the_default_account(key: str) -> None:
    assert caller(signed_headers(key, "us-west-2"), "", SETTINGS) == Caller(
        access_key=key, account_id="000000000000", region="us-west-2"
    )


def test_unsigned_request_uses_default_account_and_region() -> None:
    assert caller({}, "", SETTINGS) == Caller(
        access_key=None, account_id="000000000000", region="eu-west-1"
    )


def test_presigned_url_credential_is_read_from_the_query_string() -> None:
    request = AWSRequest(method="GET", url="http://127.0.0.1:1/v2/email/account")
    SigV4QueryAuth(Credentials("210987654321", "secret"), "ses", "sa-east-1").add_auth(request)
    raw_query = request.url.split("?", 1)[1]
    assert caller({}, raw_query, SETTINGS) == Caller(
        access_key="210987654321", account_id="210987654321", region="sa-east-1"
    )


def test_sigv4a_scope_has_no_region_so_the_default_region_applies() -> None:
    header = (
        "AWS4-ECDSA-P256-SHA256 Credential=123456789012/20261122/ses/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc"
    )
    assert credential_scope(header) == ("123456789012", None)
    assert caller({"Authorization": header}, "", SETTINGS).region == "eu-west-1"


def test_malformed_authorization_header_falls_back_to_defaults() -> None:
    assert credential_scope("Bearer token") == ("", None)
    assert credential_scope("AWS4-HMAC-SHA256 Credential=, Signature=x") == ("", None)


def test_caller_of_a_credential_follows_the_settings_it_is_asked_with() -> None:
    headers = signed_headers("AKIAEXAMPLE", "ap-south-1")
    first = caller(headers, "", SETTINGS)
    other = caller(headers, "", Settings(region="eu-west-1", default_account="111122223333"))
    assert first.account_id == "000000000000"
    assert other.account_id == "111122223333"
    assert caller(headers, "", SETTINGS) == first  # the second answer comes from the cache


def test_credential_longer_than_the_cache_bound_is_still_read() -> None:
    key = "123456789012"
    header = f"AWS4-HMAC-SHA256 Credential={key}/{'x' * 300}/us-west-2/ses/aws4_request, S=x"
    before = auth._cached_caller.cache_info().currsize
    assert caller({"Authorization": header}, "", SETTINGS) == Caller(
        access_key=key, account_id=key, region="us-west-2"
    )
    assert auth._cached_caller.cache_info().currsize == before
