"""Server-side validation against the model: Coral's messages, v1 and v2 error codes."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.protocols import models
from emulator.protocols.validate import HANDLER_CHECKED_ENUMS, find_violations, violation_error
from emulator.ses.errors import Wire

V1 = models.load("v1")
V2 = models.load("v2")


def v2_error(operation: str, params: dict[str, Any]) -> tuple[Wire, str]:
    shape = V2.operations[operation].input
    assert shape is not None
    error = violation_error(find_violations(shape, params), api="v2", v1_code="ValidationError")
    return error.for_api("v2"), error.message


def v1_error(operation: str, params: dict[str, Any], code: str = "ValidationError") -> Any:
    shape = V1.operations[operation].input
    assert shape is not None
    error = violation_error(find_violations(shape, params), api="v1", v1_code=code)
    return error.for_api("v1"), error.message


SIMPLE = {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}


def test_valid_request_has_no_violations() -> None:
    shape = V2.operations["SendEmail"].input
    assert shape is not None
    assert find_violations(shape, {"Content": {"Simple": SIMPLE}}) == []


def test_list_longer_than_max_is_reported_in_coral_form() -> None:
    headers = [{"Name": f"X-{i}", "Value": "v"} for i in range(16)]
    wire, message = v2_error("SendEmail", {"Content": {"Simple": {**SIMPLE, "Headers": headers}}})
    assert wire == Wire("BadRequestException", 400)
    shown = ", ".join(str(h) for h in headers)
    assert message == (
        f"1 validation error detected: Value '[{shown}]' at 'content.simple.headers' failed "
        "to satisfy constraint: Member must have length less than or equal to 15"
    )


def test_pattern_and_list_positions_use_coral_paths() -> None:
    headers = [{"Name": "X-A", "Value": "ok"}, {"Name": "Bad Name", "Value": "ok"}]
    _, message = v2_error("SendEmail", {"Content": {"Simple": {**SIMPLE, "Headers": headers}}})
    assert message == (
        "1 validation error detected: Value 'Bad Name' at 'content.simple.headers.2.member.name'"
        " failed to satisfy constraint: Member must satisfy regular expression pattern: "
        "^[!-9;-@A-~]+$"
    )


def test_numeric_range_is_checked() -> None:
    _, message = v2_error("ListMultiRegionEndpoints", {"PageSize": 0})
    assert message == (
        "1 validation error detected: Value '0' at 'pageSize' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )


def test_several_violations_are_counted_and_joined() -> None:
    _, message = v2_error("CreateMultiRegionEndpoint", {"EndpointName": "bad name!", "Details": {}})
    assert message == (
        "2 validation errors detected: Value 'bad name!' at 'endpointName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: ^[\\w\\-_]+$; Value null "
        "at 'details.routesDetails' failed to satisfy constraint: Member must not be null"
    )


def test_enum_violation_lists_the_allowed_values_in_model_order() -> None:
    wire, message = v1_error("ListIdentities", {"IdentityType": "Address"})
    assert wire == Wire("ValidationError", 400)
    assert message == (
        "1 validation error detected: Value 'Address' at 'identityType' failed to satisfy "
        "constraint: Member must satisfy enum value set: [EmailAddress, Domain]"
    )


@pytest.mark.parametrize(("api", "operation", "member"), sorted(HANDLER_CHECKED_ENUMS))
def test_handler_checked_enums_are_left_to_the_handler(
    api: str, operation: str, member: str
) -> None:
    spec = V1 if api == "v1" else V2
    shape = spec.operations[operation].input
    assert shape is not None
    assert shape.members[member].shape.enum is not None  # the table names a real enum member
    # Only the enum is skipped: the operation's other constraints (its required members)
    # are still reported.
    violations = find_violations(shape, {member: "InvalidType"})
    assert [v.path for v in violations] == [(name,) for name in shape.required if name != member]
    assert all(v.missing for v in violations)


def test_an_enum_shape_left_to_one_handler_is_still_checked_elsewhere() -> None:
    # NotificationType is checked by its handlers; the compiled check of the shape itself
    # (which another operation could reuse) keeps the enum.
    shape = V1.operations["SetIdentityNotificationTopic"].input
    assert shape is not None
    violations = find_violations(shape.members["NotificationType"].shape, "InvalidType")
    assert [v.constraint for v in violations] == [
        "Member must satisfy enum value set: [Bounce, Complaint, Delivery]"
    ]


def test_v1_code_for_constraint_violations_is_configurable() -> None:
    wire, _ = v1_error("ListIdentities", {"IdentityType": "Address"}, "InvalidParameterValue")
    assert wire == Wire("InvalidParameterValue", 400)


def test_v1_missing_required_member_is_missing_parameter_with_the_form_field_name() -> None:
    params = {
        "Source": "s@example.com",
        "Template": "T",
        "DefaultTemplateData": "{}",
        "Destinations": [{"Destination": {}}, {}],
    }
    wire, message = v1_error("SendBulkTemplatedEmail", params)
    assert wire == Wire("MissingParameter", 400)
    assert message == "The request must contain the parameter Destinations.member.2.Destination"


def test_v2_missing_required_member_is_bad_request_must_not_be_null() -> None:
    wire, message = v2_error("SendEmail", {})
    assert wire == Wire("BadRequestException", 400)
    assert message == (
        "1 validation error detected: Value null at 'content' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_sensitive_values_are_redacted() -> None:
    _, message = v2_error(
        "PutAccountDetails",
        {
            "MailType": "MARKETING",
            "WebsiteURL": "https://example.com",
            "UseCaseDescription": "u" * 5001,
        },
    )
    assert message == (
        "1 validation error detected: Value '*** Sensitive Data Redacted ***' at "
        "'useCaseDescription' failed to satisfy constraint: Member must have length less than "
        "or equal to 5000"
    )


def test_union_with_two_members_set_is_a_violation() -> None:
    scheme = {"DefaultScheme": {}, "SmimeScheme": {"SignatureFormat": "DETACHED"}}
    _, message = v2_error(
        "CreateConfigurationSet",
        {"ConfigurationSetName": "cs", "MessageSecurityOptions": {"SigningScheme": scheme}},
    )
    assert message == (
        "1 validation error detected: Value null at 'messageSecurityOptions.signingScheme' "
        "failed to satisfy constraint: Member must have exactly one of its members set"
    )
