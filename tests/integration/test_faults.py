"""Fault injection over HTTP: rules under /_emulator/faults make real boto3 calls fail the way
the user asked, for exactly as long as asked, without ever changing emulator state."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.server import EmulatorServer
from tests.integration.client_errors import error_of

ClientFactory = Any


def _control(
    server: EmulatorServer, method: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{server.endpoint_url}/_emulator/faults",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture
def faults(emulator: EmulatorServer) -> Iterator[EmulatorServer]:
    _control(emulator, "DELETE")
    yield emulator
    _control(emulator, "DELETE")


def _send_v2(sesv2: Any, to: str = "a@example.net") -> Any:
    return sesv2.send_email(
        FromEmailAddress="s@example.com",
        Destination={"ToAddresses": [to]},
        Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}},
    )


@pytest.fixture
def verified(ses: Any) -> None:
    ses.verify_domain_identity(Domain="example.com")


@pytest.mark.usefixtures("verified")
def test_count_fault_fails_the_next_n_matching_calls_then_stops(
    faults: EmulatorServer, sesv2: Any, ses: Any
) -> None:
    status, added = _control(
        faults,
        "POST",
        {
            "operation": "SendEmail",
            "api": "v2",
            "count": 2,
            "error": {
                "code": "TooManyRequestsException",
                "status": 429,
                "message": "Maximum sending rate exceeded.",
            },
        },
    )
    assert status == 201
    for _ in range(2):
        with pytest.raises(ClientError) as exc:
            _send_v2(sesv2)
        assert error_of(exc) == ("TooManyRequestsException", 429, "Maximum sending rate exceeded.")
    # The v1 API and other operations were never matched; the third v2 send goes through.
    assert ses.get_send_quota()["SentLast24Hours"] == 0
    assert _send_v2(sesv2)["MessageId"]
    _, listed = _control(faults, "GET")
    assert listed["rules"][0]["remaining"] == 0
    assert listed["rules"][0]["id"] == added["rules"][0]["id"]


@pytest.mark.usefixtures("verified")
def test_v1_fault_uses_the_xml_error_shape(faults: EmulatorServer, ses: Any) -> None:
    _control(
        faults,
        "POST",
        {
            "operation": "SendEmail",
            "api": "v1",
            "count": 1,
            "error": {"code": "Throttling", "status": 400, "message": "Rate exceeded"},
        },
    )
    with pytest.raises(ClientError) as exc:
        ses.send_email(
            Source="s@example.com",
            Destination={"ToAddresses": ["a@example.net"]},
            Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}},
        )
    assert error_of(exc) == ("Throttling", 400, "Rate exceeded")
    assert exc.value.response["Error"]["Type"] == "Sender"


@pytest.mark.usefixtures("verified")
def test_a_faulted_send_changes_no_state(faults: EmulatorServer, sesv2: Any, ses: Any) -> None:
    _control(
        faults,
        "POST",
        {"error": {"code": "InternalFailure", "status": 500, "message": "injected"}},
    )
    for _ in range(3):
        with pytest.raises(ClientError) as exc:
            _send_v2(sesv2)
        assert error_of(exc)[:2] == ("InternalFailure", 500)
    _control(faults, "DELETE")
    assert len(faults.backend.store) == 0
    assert ses.get_send_quota()["SentLast24Hours"] == 0
    assert ses.get_send_statistics()["SendDataPoints"] == []


@pytest.mark.usefixtures("verified")
def test_boto3_standard_retries_ride_over_a_transient_fault(
    faults: EmulatorServer, make_client: ClientFactory
) -> None:
    _control(
        faults,
        "POST",
        {
            "operation": "SendEmail",
            "count": 2,
            "error": {"code": "TooManyRequestsException", "status": 429, "message": "slow down"},
        },
    )
    retrying = make_client("sesv2", retries={"mode": "standard", "total_max_attempts": 3})
    response = _send_v2(retrying)
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert [r.id for r in faults.backend.store.iter()] == [response["MessageId"]]


@pytest.mark.usefixtures("verified")
def test_latency_fault_delays_then_runs_the_call(faults: EmulatorServer, sesv2: Any) -> None:
    _control(faults, "POST", {"operation": "SendEmail", "count": 1, "latency_ms": 300})
    started = time.monotonic()
    message_id = _send_v2(sesv2)["MessageId"]
    assert time.monotonic() - started >= 0.3
    assert faults.backend.store.get(message_id) is not None


def test_probability_fault_with_p1_hits_every_call(faults: EmulatorServer, sesv2: Any) -> None:
    _control(
        faults,
        "POST",
        {
            "operation": "GetAccount",
            "probability": 1,
            "error": {"code": "ServiceUnavailable", "status": 503, "message": "try later"},
        },
    )
    for _ in range(3):
        with pytest.raises(ClientError) as exc:
            sesv2.get_account()
        assert error_of(exc) == ("ServiceUnavailable", 503, "try later")


def test_invalid_rule_is_refused_with_the_field(faults: EmulatorServer) -> None:
    status, body = _control(faults, "POST", {"operation": "SendMail", "count": 1, "latency_ms": 5})
    assert status == 400
    assert body["error"]["field"] == "operation"
    assert body["error"]["message"] == "operation: 'SendMail' is not an operation of either SES API"
    assert _control(faults, "GET") == (200, {"rules": []})


def test_faults_route_obeys_the_control_token() -> None:
    with EmulatorServer(control_token="t0k") as server:
        assert _control(server, "GET")[0] == 401
        status, body = _control(server, "GET", headers={"Authorization": "Bearer t0k"})
        assert (status, body) == (200, {"rules": []})
