"""SES v2 (REST-JSON): routing on the raw path, parameter binding, JSON in and out."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.loaders import create_loader

from emulator.protocols import models, restjson
from emulator.ses.errors import SesError, Wire

V2 = models.load("v2")
ROUTER = restjson.Router(V2)


def request(method: str, target: str, body: bytes = b"") -> tuple[str, dict[str, Any]]:
    path, _, raw_query = target.partition("?")
    binding, values = ROUTER.match(method, path)
    operation, params = restjson.parse_request(binding, values, raw_query, body)
    return operation.name, params


def error_of(method: str, target: str, body: bytes = b"") -> SesError:
    with pytest.raises(SesError) as caught:
        request(method, target, body)
    return caught.value


def test_path_segments_are_decoded_after_matching_so_2f_stays_in_the_value() -> None:
    assert request("GET", "/v2/email/identities/a%2Fb%2Bc%40example.com") == (
        "GetEmailIdentity",
        {"EmailIdentity": "a/b+c@example.com"},
    )
    assert request("DELETE", "/v2/email/suppression/addresses/a%20b%2Fc%40example.com") == (
        "DeleteSuppressedDestination",
        {"EmailAddress": "a b/c@example.com"},
    )


def test_query_members_bind_by_location_name_with_repeated_keys_for_lists() -> None:
    target = (
        "/v2/email/suppression/addresses?Reason=BOUNCE&Reason=COMPLAINT"
        "&StartDate=2024-01-02T03%3A04%3A05Z&PageSize=10&Other=ignored"
    )
    assert request("GET", target) == (
        "ListSuppressedDestinations",
        {
            "Reasons": ["BOUNCE", "COMPLAINT"],
            "StartDate": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            "PageSize": 10,
        },
    )


def test_body_members_blobs_and_timestamps_parse_from_json() -> None:
    body = json.dumps(
        {
            "Content": {"Raw": {"Data": "aGVsbG8="}},
            "FromEmailAddress": "s@example.com",
        }
    ).encode()
    assert request("POST", "/v2/email/outbound-emails", body) == (
        "SendEmail",
        {"Content": {"Raw": {"Data": b"hello"}}, "FromEmailAddress": "s@example.com"},
    )


def test_trailing_slash_routes_match_with_and_without_the_slash() -> None:
    assert request("GET", "/v2/email/insights/m-1/")[0] == "GetMessageInsights"
    assert request("GET", "/v2/email/insights/m-1")[0] == "GetMessageInsights"


def test_unknown_path_is_404_unknown_operation() -> None:
    error = error_of("GET", "/v2/email/nothing-here")
    assert error.for_api("v2") == Wire("UnknownOperationException", 404)
    assert error.message == "No operation matches the request path /v2/email/nothing-here."


def test_wrong_method_on_a_known_path_is_405() -> None:
    error = error_of("DELETE", "/v2/email/outbound-emails")
    assert error.for_api("v2") == Wire("MethodNotAllowedException", 405)
    assert error.message == (
        "The method DELETE is not allowed on /v2/email/outbound-emails (allowed: POST)."
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b"{",
            "Could not parse request body into json: Expecting property name enclosed in "
            "double quotes: line 1 column 2 (char 1)",
        ),
        (b"[1]", "The request body must be a JSON object, got a list."),
        (
            b'{"FromEmailAddress": 5}',
            "Invalid value at 'fromEmailAddress': expected a string, got a number.",
        ),
        (
            b'{"Destination": {"ToAddresses": "a@example.com"}}',
            "Invalid value at 'destination.toAddresses': expected a list, got a string.",
        ),
        (
            b'{"Destination": {"ToAddresses": ["a@example.com", 7]}}',
            "Invalid value at 'destination.toAddresses.2.member': expected a string, got a number.",
        ),
        (
            b'{"Content": {"Raw": {"Data": "***"}}}',
            "Invalid value at 'content.raw.data': expected a base64 string.",
        ),
        (
            b'{"EmailTags": [{"Name": true}]}',
            "Invalid value at 'emailTags.1.member.name': expected a string, got a boolean.",
        ),
    ],
)
def test_malformed_json_is_bad_request_naming_the_member(body: bytes, message: str) -> None:
    error = error_of("POST", "/v2/email/outbound-emails", body)
    assert error.for_api("v2") == Wire("BadRequestException", 400)
    assert error.message == message


def test_body_that_is_not_utf8_json_is_bad_request() -> None:
    error = error_of("POST", "/v2/email/outbound-emails", b"\xc3\x28")
    assert error.for_api("v2") == Wire("BadRequestException", 400)
    assert error.message.startswith("Could not parse request body into json: ")


def test_non_integer_query_value_is_bad_request() -> None:
    error = error_of("GET", "/v2/email/templates?PageSize=ten")
    assert error.message == "Invalid value at 'pageSize': 'ten' is not an integer."


def test_bad_percent_escape_in_a_path_is_bad_request() -> None:
    error = error_of("GET", "/v2/email/identities/%ff")
    assert error.for_api("v2") == Wire("BadRequestException", 400)
    assert error.message == "Invalid value at 'emailIdentity': not UTF-8 after percent-decoding."


def test_json_null_members_are_treated_as_absent() -> None:
    body = b'{"FromEmailAddress": null, "Content": {"Raw": {"Data": "YQ=="}}}'
    assert request("POST", "/v2/email/outbound-emails", body)[1] == {
        "Content": {"Raw": {"Data": b"a"}}
    }


def test_both_list_route_generations_reach_the_same_operation() -> None:
    """ses-spec Appendix C: 1.43.11 listed with GET, newer models with POST."""
    assert request("GET", "/v2/email/identities?NextToken=t&PageSize=5") == (
        "ListEmailIdentities",
        {"NextToken": "t", "PageSize": 5},
    )
    assert request("POST", "/v2/email/list-identities", b'{"NextToken": "t", "PageSize": 5}') == (
        "ListEmailIdentities",
        {"NextToken": "t", "PageSize": 5},
    )
    assert request("GET", "/v2/email/configuration-sets?PageSize=2") == (
        "ListConfigurationSets",
        {"PageSize": 2},
    )
    assert request("POST", "/v2/email/list-configuration-sets", b"{}") == (
        "ListConfigurationSets",
        {},
    )
    assert request("POST", "/v2/email/identities", b'{"EmailIdentity": "example.com"}') == (
        "CreateEmailIdentity",
        {"EmailIdentity": "example.com"},
    )


def _old_model() -> dict[str, Any]:
    """The bundled sesv2 model with the list routes as botocore 1.43.11 shipped them."""
    model: dict[str, Any] = copy.deepcopy(create_loader().load_service_model("sesv2", "service-2"))
    for operation, uri, request_shape in (
        ("ListEmailIdentities", "/v2/email/identities", "ListEmailIdentitiesRequest"),
        ("ListConfigurationSets", "/v2/email/configuration-sets", "ListConfigurationSetsRequest"),
    ):
        model["operations"][operation]["http"] = {"method": "GET", "requestUri": uri}
        members = model["shapes"][request_shape]["members"]
        members.pop("Filter", None)
        for name in ("NextToken", "PageSize"):
            members[name].update(location="querystring", locationName=name)
    return model


def test_a_server_built_on_the_old_model_also_serves_the_new_routes() -> None:
    old = models.compile_service(_old_model(), service="sesv2", api="v2")
    router = restjson.Router(old)
    binding, values = router.match("POST", "/v2/email/list-identities")
    operation, params = restjson.parse_request(binding, values, "", b'{"PageSize": 3}')
    assert (operation.name, params) == ("ListEmailIdentities", {"PageSize": 3})
    binding, values = router.match("GET", "/v2/email/identities")
    operation, params = restjson.parse_request(binding, values, "PageSize=4", b"")
    assert (operation.name, params) == ("ListEmailIdentities", {"PageSize": 4})
    routes = {(b.method, b.uri) for b in router.bindings}
    assert ("POST", "/v2/email/list-configuration-sets") in routes


def test_alternate_routes_never_shadow_a_route_of_the_model() -> None:
    methods_on_identities = [
        b.operation.name for b in ROUTER.bindings if b.uri == "/v2/email/identities"
    ]
    assert sorted(methods_on_identities) == ["CreateEmailIdentity", "ListEmailIdentities"]
    assert len({(b.method, b.uri) for b in ROUTER.bindings}) == len(ROUTER.bindings)


def _result(name: str, output: dict[str, Any]) -> Any:
    wire = restjson.serialize_result(V2.operations[name], output, "rid")
    assert wire.status == 200
    assert wire.headers == {"Content-Type": "application/json", "x-amzn-RequestId": "rid"}
    return json.loads(wire.body)


def test_empty_output_is_an_empty_object() -> None:
    assert _result("DeleteEmailIdentity", {}) == {}


def test_timestamps_are_epoch_seconds_numbers_and_blobs_base64() -> None:
    stamp = datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)
    document = _result(
        "GetSuppressedDestination",
        {
            "SuppressedDestination": {
                "EmailAddress": "a@example.com",
                "Reason": "BOUNCE",
                "LastUpdateTime": stamp,
            }
        },
    )
    assert document["SuppressedDestination"]["LastUpdateTime"] == 1704164645.123
    raw = _result(
        "CreateDeliverabilityTestReport",
        {"ReportId": "r", "DeliverabilityTestStatus": "IN_PROGRESS"},
    )
    assert raw == {"ReportId": "r", "DeliverabilityTestStatus": "IN_PROGRESS"}


def test_error_has_error_type_header_and_lowercase_message_body() -> None:
    error = SesError(
        "Template T does not exist.",
        v1=Wire("TemplateDoesNotExist", 400),
        v2=Wire("NotFoundException", 404),
    )
    wire = restjson.serialize_error(error, "rid-9")
    assert wire.status == 404
    assert wire.headers == {
        "Content-Type": "application/json",
        "x-amzn-ErrorType": "NotFoundException",
        "x-amzn-RequestId": "rid-9",
    }
    assert json.loads(wire.body) == {"message": "Template T does not exist."}


def test_string_members_and_string_lists_come_through_as_given() -> None:
    body = (
        b'{"FromEmailAddress": "a@example.com", "Destination": {"ToAddresses": ["b@x.com"],'
        b' "CcAddresses": [], "BccAddresses": null}, "Unknown": "ignored"}'
    )
    assert request("POST", "/v2/email/outbound-emails", body)[1] == {
        "FromEmailAddress": "a@example.com",
        "Destination": {"ToAddresses": ["b@x.com"], "CcAddresses": []},
    }


@pytest.mark.parametrize(
    "body",
    [
        b'{"FromEmailAddress": "\xff"}',  # not UTF-8
        b'{"FromEmailAddress": ',  # cut short
        b'{"FromEmailAddress": "a"} x',  # extra data
        '{"FromEmailAddress": 5}'.encode("utf-16"),  # another encoding, sniffed by json.loads
    ],
)
def test_body_errors_read_as_json_loads_reports_them(body: bytes) -> None:
    try:
        json.loads(body)
    except ValueError as exc:
        expected = f"Could not parse request body into json: {exc}"
    else:
        expected = "Invalid value at 'fromEmailAddress': expected a string, got a number."
    assert error_of("POST", "/v2/email/outbound-emails", body).message == expected
