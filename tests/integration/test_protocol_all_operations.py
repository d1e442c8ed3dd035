"""Every operation of both models, called by real boto3 clients with a minimal valid request.

Whatever the handlers do (or whether they exist yet), no operation may answer with a 404 route
miss or a 5xx other than the documented ``NotImplemented`` 501, and botocore must parse every
response and error (a `ResponseParserError` or any non-`ClientError` fails the test).
Errors must be modeled for the operation (with the model's HTTP status) or common AWS errors.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import botocore.session
import pytest
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator.protocols import models
from emulator.protocols.models import Shape
from emulator.server import EmulatorServer

# Values tried, in order, for a string member with a pattern; the first that fits is used.
_PATTERNED = (
    "example.com",
    "sender@example.com",
    "name",
    "abc=",
    "QUJD",
    "s3://bucket/key",
    "https://example.com/",
    "arn:aws:iam::123456789012:role/ses-role",
    "arn:aws:connect:us-east-1:123456789012:instance/00000000-0000-0000-0000-000000000000",
    "arn:aws:ses:us-east-1:123456789012:mailmanager-archive/a-" + "0" * 24,
    "arn:aws:acm:us-east-1:123456789012:certificate/abc",
)

# Common AWS errors any operation may return (AWS Common Errors, ses-spec §1.4 and §1.6), and
# SES's own v1 MessageRejected for identity-attribute setters (ses-spec Appendix A).
_COMMON = {
    "v1": {
        "InvalidParameterValue",
        "InvalidParameterCombination",
        "MissingParameter",
        "ValidationError",
        "Throttling",
        "MessageRejected",
    },
    "v2": {"BadRequestException", "TooManyRequestsException", "LimitExceededException"},
}


def _string(shape: Shape) -> str:
    if shape.enum is not None:
        return sorted(shape.enum)[0]
    low = int(shape.min or 1)
    high = int(shape.max) if shape.max is not None else 10**6
    if shape.pattern is None:
        return "x" * max(low, 4) if high >= 4 else "x" * low
    for candidate in _PATTERNED:
        if low <= len(candidate) <= high and shape.pattern.fullmatch(candidate):
            return candidate
    raise AssertionError(f"no sample value for {shape.name} /{shape.pattern.pattern}/")


def minimal(shape: Shape) -> Any:
    """The smallest value of ``shape`` that satisfies every model constraint."""
    kind = shape.type
    if kind == "structure":
        names = list(shape.required)
        if shape.union and not names:
            names = [next(iter(shape.members))]
        return {name: minimal(shape.members[name].shape) for name in names}
    if kind == "list":
        assert shape.member is not None
        return [minimal(shape.member) for _ in range(max(int(shape.min or 0), 1))]
    if kind == "map":
        assert shape.key is not None
        assert shape.value is not None
        count = max(int(shape.min or 0), 1)
        if shape.key.enum is not None:
            keys = sorted(shape.key.enum)[:count]
        else:
            keys = [f"{_string(shape.key)}{i}" if i else _string(shape.key) for i in range(count)]
        return {key: minimal(shape.value) for key in keys}
    if kind == "string":
        return _string(shape)
    if kind in ("integer", "long"):
        return int(shape.min) if shape.min is not None else 1
    if kind in ("double", "float"):
        return float(shape.min) if shape.min is not None else 1.0
    if kind == "boolean":
        return True
    if kind == "timestamp":
        return datetime(2026, 1, 1, tzinfo=UTC)
    return b"data"


_BOTOCORE = botocore.session.get_session()


def _modeled(service: str, operation: str) -> dict[str, int]:
    model = _BOTOCORE.get_service_model(service)
    errors: dict[str, int] = {}
    for shape in model.operation_model(operation).error_shapes:
        error = shape.metadata.get("error", {})
        errors[error.get("code", shape.name)] = error.get("httpStatusCode", 400)
    return errors


CASES = [("v1", name) for name in sorted(models.load("v1").operations)] + [
    ("v2", name) for name in sorted(models.load("v2").operations)
]


@pytest.fixture(scope="module")
def clients(emulator_server: EmulatorServer, boto_session: Any) -> dict[str, Any]:
    # Two clients for the 187 cases: creating one per case would dominate the run time.
    return {
        service: boto_session.client(
            service,
            endpoint_url=emulator_server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret",
            config=Config(retries={"total_max_attempts": 1}),
        )
        for service in ("ses", "sesv2")
    }


@pytest.mark.parametrize(("api", "name"), CASES, ids=[f"{a}-{n}" for a, n in CASES])
def test_operation_answers_in_its_api_shape(
    api: str, name: str, emulator: EmulatorServer, clients: dict[str, Any]
) -> None:
    service = "ses" if api == "v1" else "sesv2"
    operation = models.load("v1" if api == "v1" else "v2").operations[name]
    params = minimal(operation.input) if operation.input is not None else {}
    client = clients[service]
    try:
        response = getattr(client, xform_name(name))(**params)
    except ClientError as error:
        response = error.response
    status = response["ResponseMetadata"]["HTTPStatusCode"]
    assert response["ResponseMetadata"]["RequestId"]
    if status == 200:
        assert "Error" not in response
        return
    code = response["Error"]["Code"]
    if status == 501:
        assert code == "NotImplemented"
        assert name in response["Error"]["Message"]
        return
    modeled = _modeled(service, name)
    assert code in modeled or code in _COMMON[api], (status, response["Error"])
    if code in modeled:
        assert status == modeled[code], (code, status)
    else:
        assert 400 <= status < 500, (code, status)
