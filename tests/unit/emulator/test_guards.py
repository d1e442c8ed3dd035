"""The guard helpers: credentials files, read-only operations, the error constructors."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.config import Settings, SettingsError
from emulator.guards import is_read_only
from emulator.ses.errors import malformed_http_request, request_too_large
from emulator.sigv4 import load_credentials_file


def test_credentials_file_of_key_secret_lines(tmp_path: Path) -> None:
    path = tmp_path / "creds"
    path.write_text(
        "# keys for the tests\nAKIDEXAMPLE:wJalr/K7+MDENG\n\n123456789012 : s2:with:colons\n"
    )
    assert load_credentials_file(str(path)) == {
        "AKIDEXAMPLE": "wJalr/K7+MDENG",
        "123456789012": "s2:with:colons",
    }


def test_credentials_file_in_the_aws_cli_format(tmp_path: Path) -> None:
    path = tmp_path / "credentials"
    path.write_text(
        "[default]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = one\n\n"
        "[other]\naws_access_key_id=AKIDOTHER\naws_secret_access_key=two\nregion=eu-west-1\n"
    )
    assert load_credentials_file(str(path)) == {"AKIDEXAMPLE": "one", "AKIDOTHER": "two"}


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("AKIDEXAMPLE\n", "line 1: expected KEY:SECRET"),
        ("# nothing\n", "holds no credentials"),
        ("[default]\naws_access_key_id = AKID\n", "holds no credentials"),
    ],
)
def test_bad_credentials_file_names_the_file(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "creds"
    path.write_text(content)
    with pytest.raises(SettingsError) as exc:
        load_credentials_file(str(path))
    assert exc.value.name == "credentials_file"
    assert str(path) in str(exc.value)
    assert fragment in str(exc.value)


def test_missing_credentials_file_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read"):
        load_credentials_file(str(tmp_path / "absent"))


def test_verify_mode_needs_credentials() -> None:
    with pytest.raises(SettingsError) as exc:
        Settings(auth="verify")
    assert exc.value.name == "credentials"
    assert Settings(auth="verify", credentials_file="/x").credentials_file == "/x"


@pytest.mark.parametrize(
    ("operation", "read_only"),
    [
        ("GetSendQuota", True),
        ("ListIdentities", True),
        ("DescribeConfigurationSet", True),
        ("TestRenderTemplate", True),
        ("SendEmail", False),
        ("VerifyEmailIdentity", False),
        ("PutAccountDetails", False),
        ("DeleteTemplate", False),
    ],
)
def test_read_only_operations_are_not_saved_after(operation: str, read_only: bool) -> None:
    assert is_read_only(operation) is read_only


def test_error_constructors_use_one_wire_form_for_both_apis() -> None:
    too_large = request_too_large(10)
    assert (too_large.v1.code, too_large.v1.status) == ("RequestEntityTooLarge", 413)
    assert too_large.v2 == too_large.v1
    malformed = malformed_http_request(
        ValueError("400, message:\n  Can not decode content-encoding: gzip")
    )
    assert (malformed.v2.code, malformed.v2.status) == ("MalformedHttpRequestException", 400)
    assert malformed.message == (
        "The request body cannot be decoded: Can not decode content-encoding: gzip"
    )
