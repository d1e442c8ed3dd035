"""The /_emulator control API over real HTTP: reset, clock, identities, health, settings, errors.

Each test drives the real emulator (the ``emulator`` fixture) through raw HTTP, to pin the exact
statuses and JSON, or through the typed `EmulatorClient`; effects are checked with real boto3.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from emulator.client import EmulatorClient, EmulatorError
from emulator.server import EmulatorServer
from emulator.store import MessageRecord


def call(
    emulator: EmulatorServer, method: str, path: str, body: Any = None, *, raw: bytes | None = None
) -> tuple[int, dict[str, str], Any]:
    """One request to the emulator: (status, headers, parsed JSON body or None)."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(emulator.endpoint_url + path, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, headers, payload = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        status, headers, payload = exc.code, dict(exc.headers), exc.read()
    return status, headers, json.loads(payload) if payload else None


def error_of(result: tuple[int, dict[str, str], Any]) -> tuple[int, str, str | None]:
    status, headers, body = result
    assert headers["Content-Type"].startswith("application/json")
    return status, body["error"]["code"], body["error"]["field"]


@pytest.fixture
def client(emulator: EmulatorServer) -> EmulatorClient:
    return EmulatorClient(emulator.endpoint_url)


def _record(
    message_id: str, *, account: str = "000000000000", region: str = "us-east-1"
) -> MessageRecord:
    return MessageRecord(
        id=message_id,
        account=account,
        region=region,
        api="v2",
        operation="SendEmail",
        kind="simple",
        timestamp=1_700_000_000.0,
        source="a@example.com",
        envelope_from="a@example.com",
        to=("b@example.com",),
        recipients=("b@example.com",),
        subject="s",
        raw=b"Subject: s\r\n\r\nbody\r\n",
    )


# ---- health and settings


def test_health_reports_ok_version_and_api_version(emulator: EmulatorServer) -> None:
    status, _, body = call(emulator, "GET", "/_emulator/health")
    assert status == 200
    assert body["status"] == "ok"
    assert body["api_version"] == 1
    assert body["version"] == EmulatorClient(emulator.endpoint_url).health().version


def test_settings_shows_the_effective_settings(emulator: EmulatorServer) -> None:
    status, _, body = call(emulator, "GET", "/_emulator/settings")
    assert status == 200
    assert body["region"] == emulator.settings.region
    assert body["port"] == emulator.port
    assert body["profile"] == emulator.settings.profile


# ---- errors


def test_unknown_control_path_is_a_json_404(emulator: EmulatorServer) -> None:
    assert error_of(call(emulator, "GET", "/_emulator/nonsense")) == (404, "NotFound", None)
    assert error_of(call(emulator, "POST", "/_emulator/messages/x/y/z")) == (404, "NotFound", None)


def test_wrong_method_is_a_json_405_with_allow(emulator: EmulatorServer) -> None:
    result = call(emulator, "PUT", "/_emulator/clock", {"advance": 1})
    assert error_of(result) == (405, "MethodNotAllowed", None)
    assert result[1]["Allow"] == "GET, POST"


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("GET", "/_emulator/messages?limit=0", None, "limit"),
        ("GET", "/_emulator/messages?since=tomorrow", None, "since"),
        ("GET", "/_emulator/messages?recipeint=a@b.c", None, "recipeint"),
        ("GET", "/_emulator/messages?account=42", None, "account"),
        ("DELETE", "/_emulator/messages?limit=5", None, "limit"),
        ("POST", "/_emulator/clock", {"advance": -3}, "advance"),
        ("POST", "/_emulator/clock", {"now": "later"}, "now"),
        ("POST", "/_emulator/clock", {"real": "yes"}, "real"),
        ("POST", "/_emulator/reset", {"acount": "000000000000"}, "acount"),
        ("POST", "/_emulator/reset", {"region": 5}, "region"),
        ("POST", "/_emulator/identities", {"status": "Success"}, "identity"),
        ("POST", "/_emulator/identities", {"identity": "a@b.c", "status": "Great"}, "status"),
        ("POST", "/_emulator/identities", {"identity": "not an identity!"}, "identity"),
        ("GET", "/_emulator/identities?kind=Phone", None, "kind"),
    ],
)
def test_bad_input_is_400_naming_the_field(
    emulator: EmulatorServer, method: str, path: str, body: Any, field: str
) -> None:
    assert error_of(call(emulator, method, path, body)) == (400, "InvalidParameter", field)


def test_advancing_the_clock_past_the_year_9999_is_400(emulator: EmulatorServer) -> None:
    result = call(emulator, "POST", "/_emulator/clock", {"advance": 1e300})
    assert error_of(result) == (400, "InvalidParameter", "advance")
    assert call(emulator, "GET", "/_emulator/clock")[2]["virtual"] is False  # unchanged


def test_body_that_is_not_a_json_object_is_400(emulator: EmulatorServer) -> None:
    for raw in (b"{not json", b"[1, 2]", b""):
        result = call(emulator, "POST", "/_emulator/clock", raw=raw)
        assert error_of(result) == (400, "InvalidParameter", "body")


def test_chunked_body_over_the_size_limit_is_a_json_413() -> None:
    with EmulatorServer(max_request_bytes=1024) as small:
        connection = http.client.HTTPConnection("127.0.0.1", small.port, timeout=10)
        body = iter([b'{"advance": 1, "pad": "' + b"x" * 4000 + b'"}'])
        connection.request("POST", "/_emulator/clock", body=body, encode_chunked=True)
        response = connection.getresponse()
        error = json.loads(response.read())["error"]
        connection.close()
    assert (response.status, error["code"], error["field"]) == (413, "RequestTooLarge", "body")


def test_client_raises_emulator_error_with_the_parts(client: EmulatorClient) -> None:
    with pytest.raises(EmulatorError) as exc:
        client.clock.advance(-1)
    assert (exc.value.status, exc.value.code, exc.value.field) == (
        400,
        "InvalidParameter",
        "advance",
    )
    assert "only moves forward" in exc.value.message


# ---- clock


def test_clock_reads_real_time_until_told_otherwise(emulator: EmulatorServer) -> None:
    status, _, body = call(emulator, "GET", "/_emulator/clock")
    assert status == 200
    assert body["virtual"] is False
    assert abs(body["now"] - emulator.backend.clock.now()) < 5


def test_clock_set_advance_and_back_to_real(emulator: EmulatorServer) -> None:
    status, _, body = call(emulator, "POST", "/_emulator/clock", {"now": "2030-01-01T00:00:00Z"})
    assert (status, body["now"], body["virtual"]) == (200, 1893456000.0, True)
    assert body["now_iso"] == "2030-01-01T00:00:00.000Z"
    assert emulator.backend.clock.now() == 1893456000.0

    _, _, body = call(emulator, "POST", "/_emulator/clock", {"advance": 90.5})
    assert body["now"] == 1893456090.5
    _, _, body = call(emulator, "GET", "/_emulator/clock")
    assert body["now"] == 1893456090.5  # frozen: reading does not move it

    _, _, body = call(emulator, "POST", "/_emulator/clock", {"real": True})
    assert body["virtual"] is False
    assert not emulator.backend.clock.is_virtual


def test_clock_through_the_client(client: EmulatorClient) -> None:
    assert client.clock.set(1_000_000) == 1_000_000.0
    assert client.clock.advance(5) == 1_000_005.0
    assert client.clock.state().virtual is True
    assert client.clock.now() == 1_000_005.0
    client.clock.real()
    assert client.clock.state().virtual is False


# ---- reset


def test_reset_forgets_messages_identities_and_virtual_time(
    emulator: EmulatorServer, client: EmulatorClient, ses: Any
) -> None:
    ses.verify_email_identity(EmailAddress="owner@example.com")
    emulator.backend.store.add(_record("m1"))
    client.clock.set(5_000)

    status, _, body = call(emulator, "POST", "/_emulator/reset")
    assert (status, body) == (204, None)
    assert ses.list_identities()["Identities"] == []
    assert len(emulator.backend.store) == 0
    assert not emulator.backend.clock.is_virtual


def test_reset_of_one_account_keeps_the_others(
    emulator: EmulatorServer, client: EmulatorClient, make_client: Any
) -> None:
    other = make_client("ses", account_key="123456789012")
    default = make_client("ses")
    other.verify_email_identity(EmailAddress="other@example.com")
    default.verify_email_identity(EmailAddress="default@example.com")
    emulator.backend.store.add(_record("mine", account="123456789012"))
    emulator.backend.store.add(_record("theirs"))
    client.clock.set(5_000)

    client.reset(account="123456789012")
    assert other.list_identities()["Identities"] == []
    assert default.list_identities()["Identities"] == ["default@example.com"]
    assert [r.id for r in emulator.backend.store.iter()] == ["theirs"]
    assert emulator.backend.clock.is_virtual  # a scoped reset leaves the clock alone


def test_reset_of_one_region(emulator: EmulatorServer, client: EmulatorClient) -> None:
    emulator.backend.store.add(_record("east"))
    emulator.backend.store.add(_record("west", region="eu-west-1"))
    client.reset(region="eu-west-1")
    assert [r.id for r in emulator.backend.store.iter()] == ["east"]


# ---- identities


def test_verify_identity_makes_it_visible_to_boto3(
    client: EmulatorClient, ses: Any, sesv2: Any
) -> None:
    info = client.verify_identity("sender@example.com")
    assert (info.identity, info.kind, info.status) == (
        "sender@example.com",
        "EmailAddress",
        "Success",
    )
    attrs = ses.get_identity_verification_attributes(Identities=["sender@example.com"])
    assert attrs["VerificationAttributes"]["sender@example.com"]["VerificationStatus"] == "Success"
    assert sesv2.get_email_identity(EmailIdentity="sender@example.com")["VerifiedForSendingStatus"]


def test_identity_status_can_be_set_pending_or_failed(client: EmulatorClient, ses: Any) -> None:
    client.verify_identity("example.org")
    info = client.verify_identity("example.org", status="Failed")
    assert (info.kind, info.status) == ("Domain", "Failed")
    attrs = ses.get_identity_verification_attributes(Identities=["example.org"])
    assert attrs["VerificationAttributes"]["example.org"]["VerificationStatus"] == "Failed"
    assert client.verify_identity("example.org", status="Pending").status == "Pending"


def test_identities_are_listed_per_account_and_region(client: EmulatorClient) -> None:
    client.verify_identity("a@example.com")
    client.verify_identity("example.net")
    client.verify_identity("b@example.com", account="123456789012", region="eu-west-1")

    names = sorted(i.identity for i in client.identities())
    assert names == ["a@example.com", "example.net"]
    assert [i.identity for i in client.identities(kind="Domain")] == ["example.net"]
    [other] = client.identities(account="123456789012", region="eu-west-1")
    assert (other.identity, other.account, other.region) == (
        "b@example.com",
        "123456789012",
        "eu-west-1",
    )


def test_delete_identity_and_404_when_absent(
    emulator: EmulatorServer, client: EmulatorClient, ses: Any
) -> None:
    client.verify_identity("gone@example.com")
    status, _, _ = call(emulator, "DELETE", "/_emulator/identities/gone%40example.com")
    assert status == 204
    assert ses.list_identities()["Identities"] == []
    result = call(emulator, "DELETE", "/_emulator/identities/gone%40example.com")
    assert error_of(result) == (404, "NotFound", "identity")


# ---- account settings


def test_account_defaults_follow_the_profile(emulator: EmulatorServer) -> None:
    status, _, body = call(emulator, "GET", "/_emulator/account")
    assert status == 200
    assert body == {
        "account": "000000000000",
        "region": "us-east-1",
        "sandbox": False,
        "max_send_rate": -1.0,
        "max_24h_send": -1.0,
        "sending_enabled": True,
        "review_status": None,
        "sent_last_24h": 0,
        "profile": {"sandbox": False, "max_send_rate": -1.0, "max_24h_send": -1.0},
    }


def test_patch_account_changes_what_boto3_sees(
    emulator: EmulatorServer, ses: Any, sesv2: Any
) -> None:
    status, _, body = call(
        emulator, "PATCH", "/_emulator/account", {"max_send_rate": 5, "max_24h_send": 1000}
    )
    assert (status, body["max_send_rate"], body["max_24h_send"]) == (200, 5.0, 1000.0)
    quota = ses.get_send_quota()
    assert (quota["MaxSendRate"], quota["Max24HourSend"]) == (5.0, 1000.0)

    call(emulator, "PATCH", "/_emulator/account", {"sending_enabled": False})
    assert ses.get_account_sending_enabled()["Enabled"] is False
    assert sesv2.get_account()["SendingEnabled"] is False


def test_turning_the_sandbox_on_applies_sandbox_quotas_and_null_restores(
    client: EmulatorClient, sesv2: Any
) -> None:
    settings = client.update_account(sandbox=True)
    assert (settings.sandbox, settings.max_send_rate, settings.max_24h_send) == (True, 1.0, 200.0)
    assert sesv2.get_account()["ProductionAccessEnabled"] is False

    restored = client.update_account(sandbox=None, max_send_rate=None, max_24h_send=None)
    assert (restored.sandbox, restored.max_send_rate, restored.max_24h_send) == (False, -1.0, -1.0)
    assert sesv2.get_account()["ProductionAccessEnabled"] is True


def test_account_settings_are_per_account_and_region(
    client: EmulatorClient, make_client: Any
) -> None:
    client.update_account(account="123456789012", region="eu-west-1", max_send_rate=3)
    other = make_client("ses", account_key="123456789012", region="eu-west-1")
    assert other.get_send_quota()["MaxSendRate"] == 3.0
    assert client.account().max_send_rate == -1.0
    assert client.account(account="123456789012", region="eu-west-1").max_send_rate == 3.0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sandbox": "yes"}, "sandbox"),
        ({"max_send_rate": 0}, "max_send_rate"),
        ({"max_24h_send": "lots"}, "max_24h_send"),
        ({"review_status": "MAYBE"}, "review_status"),
        ({"sandbx": True}, "sandbx"),
    ],
)
def test_bad_account_changes_are_400_naming_the_key(
    emulator: EmulatorServer, body: dict[str, Any], field: str
) -> None:
    result = call(emulator, "PATCH", "/_emulator/account", body)
    assert error_of(result) == (400, "InvalidParameter", field)
    assert call(emulator, "GET", "/_emulator/account")[2]["sandbox"] is False  # nothing changed


def test_account_query_is_validated(emulator: EmulatorServer) -> None:
    assert error_of(call(emulator, "GET", "/_emulator/account?region=nowhere")) == (
        400,
        "InvalidParameter",
        "region",
    )
    assert error_of(call(emulator, "PATCH", "/_emulator/account", raw=b"")) == (
        400,
        "InvalidParameter",
        "body",
    )


def test_virtual_clock_and_account_limits_drive_throttling_over_http(
    emulator: EmulatorServer, sesv2: Any
) -> None:
    sesv2.create_email_identity(EmailIdentity="hello@example.com")
    call(emulator, "POST", "/_emulator/clock", {"now": 1_700_000_000})
    call(emulator, "PATCH", "/_emulator/account", {"max_send_rate": 1})

    def send() -> None:
        sesv2.send_email(
            FromEmailAddress="hello@example.com",
            Destination={"ToAddresses": ["ada@example.com"]},
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}},
        )

    send()
    with pytest.raises(sesv2.exceptions.TooManyRequestsException):
        send()
    call(emulator, "POST", "/_emulator/clock", {"advance": 0.5})
    with pytest.raises(sesv2.exceptions.TooManyRequestsException):
        send()
    call(emulator, "POST", "/_emulator/clock", {"advance": 0.5})
    send()
    assert call(emulator, "GET", "/_emulator/account")[2]["sent_last_24h"] == 2


def test_client_sends_the_control_token_when_the_api_is_guarded() -> None:
    with EmulatorServer(control_token="s3cret") as guarded:
        with pytest.raises(EmulatorError) as exc:
            EmulatorClient(guarded.endpoint_url).health()
        assert exc.value.status == 401
        assert EmulatorClient(guarded.endpoint_url, token="s3cret").health().status == "ok"
