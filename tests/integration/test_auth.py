"""``--auth verify``: real boto3 / aiobotocore signatures verify; bad ones get AWS's errors.

One emulator per module, started with two credentials and a control token. Every error is
checked in both wire shapes: v1 XML through boto3's query parser, v2 JSON through its
rest-json parser, and raw HTTP where a client cannot produce the request (no signature).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from aiobotocore.session import get_session
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator.server import EmulatorServer
from tests.components import require_aws_cli
from tests.integration.client_errors import error_of
from tests.integration.sendmix import EmulatorProcess

KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
ACCOUNT_KEY, ACCOUNT_SECRET = "123456789012", "second-secret"
TOKEN = "control-s3cret"
NO_RETRIES = {"retries": {"total_max_attempts": 1}}
SIGNATURE_TEXT = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(
        auth="verify",
        credentials=((KEY, SECRET), (ACCOUNT_KEY, ACCOUNT_SECRET)),
        control_token=TOKEN,
    ) as running:
        yield running


def _client(
    server: EmulatorServer,
    service: str,
    *,
    key: str = KEY,
    secret: str = SECRET,
    token: str | None = None,
    **config: Any,
) -> Any:
    return boto3.session.Session().client(
        service,
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(**{**NO_RETRIES, **config}),
    )


def _raw(request: urllib.request.Request) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


# --- good signatures -----------------------------------------------------------------------


def test_boto3_v1_and_v2_header_signatures_verify(server: EmulatorServer) -> None:
    v1 = _client(server, "ses").list_identities()
    v2 = _client(server, "sesv2").list_email_identities()
    assert v1["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert v2["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_signed_post_with_a_form_body_verifies_and_acts(server: EmulatorServer) -> None:
    ses = _client(server, "ses")
    ses.verify_email_identity(EmailAddress="a+tag@example.com")
    assert "a+tag@example.com" in ses.list_identities()["Identities"]


def test_v2_path_with_encoded_characters_verifies(server: EmulatorServer) -> None:
    sesv2 = _client(server, "sesv2")
    sesv2.create_email_identity(EmailIdentity="x+y@example.com")
    got = sesv2.get_email_identity(EmailIdentity="x+y@example.com")
    assert got["IdentityType"] == "EMAIL_ADDRESS"


def test_temporary_credentials_with_a_session_token_verify(server: EmulatorServer) -> None:
    response = _client(server, "sesv2", token="FwoGZXIvYXdzE//session+token=").get_account()
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_second_credential_is_its_own_account(server: EmulatorServer) -> None:
    other = _client(server, "ses", key=ACCOUNT_KEY, secret=ACCOUNT_SECRET)
    other.verify_email_identity(EmailAddress="only-in-other@example.com")
    assert "only-in-other@example.com" in other.list_identities()["Identities"]
    assert "only-in-other@example.com" not in _client(server, "ses").list_identities()["Identities"]


async def test_aiobotocore_signatures_verify(server: EmulatorServer) -> None:
    session = get_session()
    common: dict[str, Any] = {
        "endpoint_url": server.endpoint_url,
        "region_name": "us-east-1",
        "aws_access_key_id": KEY,
        "aws_secret_access_key": SECRET,
        "config": Config(**NO_RETRIES),
    }
    async with session.create_client("ses", **common) as ses:
        v1 = await ses.list_identities()
    async with session.create_client("sesv2", **common) as sesv2:
        v2 = await sesv2.get_account()
    assert v1["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert v2["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_presigned_v1_url_verifies(server: EmulatorServer) -> None:
    url = _client(server, "ses").generate_presigned_url("list_identities", ExpiresIn=60)
    status, _, body = _raw(urllib.request.Request(url, method="POST", data=b""))
    assert status == 200, body
    assert b"<ListIdentitiesResponse" in body


def test_presigned_v2_url_verifies(server: EmulatorServer) -> None:
    url = _client(server, "sesv2").generate_presigned_url("get_account", ExpiresIn=60)
    status, _, body = _raw(urllib.request.Request(url, method="GET"))
    assert status == 200, body
    assert "SendQuota" in json.loads(body)


# --- bad signatures ------------------------------------------------------------------------


def test_wrong_secret_is_signature_does_not_match_in_both_apis(server: EmulatorServer) -> None:
    with pytest.raises(ClientError) as v1:
        _client(server, "ses", secret="wrong").list_identities()
    with pytest.raises(ClientError) as v2:
        _client(server, "sesv2", secret="wrong").list_email_identities()
    assert error_of(v1) == ("SignatureDoesNotMatch", 403, SIGNATURE_TEXT)
    assert error_of(v2) == ("InvalidSignatureException", 403, SIGNATURE_TEXT)
    assert v1.value.response["Error"]["Type"] == "Sender"


def test_wrong_secret_never_reaches_the_handler(server: EmulatorServer) -> None:
    with pytest.raises(ClientError):
        _client(server, "ses", secret="wrong").verify_email_identity(EmailAddress="no@example.com")
    assert "no@example.com" not in _client(server, "ses").list_identities()["Identities"]


def test_unknown_access_key_is_rejected_in_both_apis(server: EmulatorServer) -> None:
    text = "The security token included in the request is invalid."
    with pytest.raises(ClientError) as v1:
        _client(server, "ses", key="AKIDUNKNOWN").get_identity_verification_attributes(
            Identities=["a@example.com"]
        )
    with pytest.raises(ClientError) as v2:
        _client(server, "sesv2", key="AKIDUNKNOWN").get_account()
    assert error_of(v1) == ("InvalidClientTokenId", 403, text)
    assert error_of(v2) == ("UnrecognizedClientException", 403, text)


def test_unsigned_requests_are_missing_authentication_token(server: EmulatorServer) -> None:
    text = "Request is missing Authentication Token"
    with pytest.raises(ClientError) as v1:
        _client(server, "ses", signature_version=UNSIGNED).list_identities()
    with pytest.raises(ClientError) as v2:
        _client(server, "sesv2", signature_version=UNSIGNED).get_account()
    assert error_of(v1) == ("MissingAuthenticationToken", 403, text)
    assert error_of(v2) == ("MissingAuthenticationToken", 403, text)


def test_missing_signature_over_raw_http_has_both_wire_shapes(server: EmulatorServer) -> None:
    status, headers, body = _raw(
        urllib.request.Request(
            f"{server.endpoint_url}/",
            data=b"Action=ListIdentities&Version=2010-12-01",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    )
    assert status == 403
    assert b"<Code>MissingAuthenticationToken</Code>" in body
    assert b"<ErrorResponse" in body
    status, headers, body = _raw(urllib.request.Request(f"{server.endpoint_url}/v2/email/account"))
    assert status == 403
    assert headers["x-amzn-ErrorType"] == "MissingAuthenticationToken"
    assert json.loads(body) == {"message": "Request is missing Authentication Token"}


def _skewed(minutes: float) -> Any:
    real = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return mock.patch(
        "botocore.auth.get_current_datetime",
        return_value=real + dt.timedelta(minutes=minutes),
    )


def test_clock_skew_over_five_minutes_is_rejected(server: EmulatorServer) -> None:
    ses, sesv2 = _client(server, "ses"), _client(server, "sesv2")
    with _skewed(-6), pytest.raises(ClientError) as v1:
        ses.list_identities()
    with _skewed(+6), pytest.raises(ClientError) as v2:
        sesv2.get_account()
    code, status, message = error_of(v1)
    assert (code, status) == ("RequestExpired", 400)
    assert message.startswith("Signature expired: ")
    assert message.endswith(" - 5 min.)")
    code, status, message = error_of(v2)
    assert (code, status) == ("InvalidSignatureException", 403)
    assert message.startswith("Signature not yet current: ")


def test_clock_skew_within_five_minutes_is_accepted(server: EmulatorServer) -> None:
    with _skewed(-4):
        assert _client(server, "ses").list_identities()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_expired_presigned_url_is_request_expired(server: EmulatorServer) -> None:
    with _skewed(-2):
        url = _client(server, "ses").generate_presigned_url("list_identities", ExpiresIn=60)
    status, _, body = _raw(urllib.request.Request(url, method="POST", data=b""))
    assert status == 400
    assert b"<Code>RequestExpired</Code>" in body
    assert b"<Message>Request has expired.</Message>" in body


def test_virtual_clock_does_not_affect_signatures(server: EmulatorServer) -> None:
    server.backend.clock.set(0.0)  # 1970: SES time moved, the signature still verifies
    try:
        assert _client(server, "sesv2").get_account()["ResponseMetadata"]["HTTPStatusCode"] == 200
    finally:
        server.backend.clock.use_real_time()


# --- control API token ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Authorization": f"Bearer {TOKEN}"}, 200),
        ({"X-Emulator-Token": TOKEN}, 200),
    ],
)
def test_control_api_needs_the_token(
    server: EmulatorServer, headers: dict[str, str], status: int
) -> None:
    got, _, body = _raw(
        urllib.request.Request(f"{server.endpoint_url}/_emulator/health", headers=headers)
    )
    assert got == status
    if status == 401:
        assert json.loads(body)["error"]["code"] == "Unauthorized"


def test_localstack_retrieval_path_needs_the_token_too(server: EmulatorServer) -> None:
    status, _, _ = _raw(urllib.request.Request(f"{server.endpoint_url}/_aws/ses"))
    assert status == 401


# --- the default: auth off -----------------------------------------------------------------


def test_auth_off_accepts_any_signature(make_client: Any) -> None:
    # The shared fixtures run with the default --auth off and a made-up secret.
    assert make_client("ses").list_identities()["ResponseMetadata"]["HTTPStatusCode"] == 200


# --- the AWS CLI ---------------------------------------------------------------------------


def _aws_cli(server: EmulatorServer, secret: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ACCESS_KEY_ID": KEY,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_MAX_ATTEMPTS": "1",
    }
    return subprocess.run(
        [require_aws_cli(), *args, "--endpoint-url", server.endpoint_url, "--output", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_aws_cli_signatures_verify_and_wrong_ones_fail(server: EmulatorServer) -> None:
    v1 = _aws_cli(server, SECRET, "ses", "list-identities")
    v2 = _aws_cli(server, SECRET, "sesv2", "get-account")
    assert v1.returncode == 0, v1.stderr
    assert v2.returncode == 0, v2.stderr
    assert "Identities" in json.loads(v1.stdout)
    assert "SendQuota" in json.loads(v2.stdout)
    wrong = _aws_cli(server, "wrong", "ses", "list-identities")
    assert wrong.returncode != 0
    assert "SignatureDoesNotMatch" in wrong.stderr


# --- the command line ----------------------------------------------------------------------


def test_cli_verify_mode_reads_a_credentials_file(tmp_path: Path) -> None:
    creds = tmp_path / "credentials"
    creds.write_text(f"[default]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n")
    with EmulatorProcess(
        "--auth", "verify", "--credentials-file", str(creds), "--control-token", TOKEN
    ) as process:
        assert _url_client(process.endpoint_url, SECRET).list_identities()["Identities"] == []
        with pytest.raises(ClientError) as exc:
            _url_client(process.endpoint_url, "wrong").list_identities()
        assert error_of(exc)[:2] == ("SignatureDoesNotMatch", 403)
        status, _, _ = _raw(urllib.request.Request(f"{process.endpoint_url}/_emulator/health"))
        assert status == 401


def test_cli_verify_mode_without_credentials_refuses_to_start() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "emulator", "--port", "0", "--auth", "verify"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "--auth verify needs --credentials KEY:SECRET or --credentials-file" in proc.stderr


def _url_client(url: str, secret: str) -> Any:
    return boto3.session.Session().client(
        "ses",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=KEY,
        aws_secret_access_key=secret,
        config=Config(**NO_RETRIES),
    )
