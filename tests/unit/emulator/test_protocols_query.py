"""SES v1 (Query/XML): parsing form fields and writing responses, on captured wire bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest

from emulator.protocols import models, query
from emulator.ses.errors import SesError, Wire

V1 = models.load("v1")
NS = "{http://ses.amazonaws.com/doc/2010-12-01/}"


def parse(body: str, raw_query: str = "") -> tuple[str, dict[str, object]]:
    operation, params = query.parse_request(V1, query.parse_form(body.encode(), raw_query))
    return operation.name, params


def error_of(body: str) -> SesError:
    with pytest.raises(SesError) as caught:
        parse(body)
    return caught.value


def test_captured_send_email_body_parses_with_empty_list_and_ordered_members() -> None:
    body = (
        "Action=SendEmail&Version=2010-12-01&Source=Sender+%3Cs%40example.com%3E"
        "&Destination.ToAddresses.member.2=b%40example.com"
        "&Destination.ToAddresses.member.1=a%40example.com"
        "&Destination.CcAddresses="
        "&Message.Subject.Data=Hi&Message.Subject.Charset=UTF-8&Message.Body.Text.Data=t"
        "&Tags.member.1.Name=k1&Tags.member.1.Value=v1&ConfigurationSetName=cs"
    )
    assert parse(body) == (
        "SendEmail",
        {
            "Source": "Sender <s@example.com>",
            "Destination": {
                "ToAddresses": ["a@example.com", "b@example.com"],
                "CcAddresses": [],
            },
            "Message": {
                "Subject": {"Data": "Hi", "Charset": "UTF-8"},
                "Body": {"Text": {"Data": "t"}},
            },
            "Tags": [{"Name": "k1", "Value": "v1"}],
            "ConfigurationSetName": "cs",
        },
    )


def test_list_positions_order_numerically_not_as_text() -> None:
    fields = "&".join(f"Identities.member.{n}=i{n}" for n in (10, 2, 1))
    _, params = parse(f"Action=GetIdentityVerificationAttributes&{fields}")
    assert params == {"Identities": ["i1", "i2", "i10"]}


def test_raw_message_blob_is_base64_decoded() -> None:
    _, params = parse("Action=SendRawEmail&RawMessage.Data=aGVsbG8%3D")
    assert params == {"RawMessage": {"Data": b"hello"}}


def test_params_in_the_url_query_string_are_accepted() -> None:
    assert parse("", "Action=ListIdentities&IdentityType=Domain&MaxItems=5") == (
        "ListIdentities",
        {"IdentityType": "Domain", "MaxItems": 5},
    )


def test_booleans_and_nested_structures_parse_to_python_types() -> None:
    body = (
        "Action=SetIdentityDkimEnabled&Identity=example.com&DkimEnabled=false"
        "&Unknown.Parameter=ignored"
    )
    assert parse(body) == (
        "SetIdentityDkimEnabled",
        {"Identity": "example.com", "DkimEnabled": False},
    )


def test_bad_base64_is_invalid_parameter_value_naming_the_field() -> None:
    error = error_of("Action=SendRawEmail&RawMessage.Data=not*base64")
    assert error.for_api("v1") == Wire("InvalidParameterValue", 400)
    assert error.message == "Invalid value for parameter RawMessage.Data: not valid base64"


def test_non_integer_is_invalid_parameter_value() -> None:
    error = error_of("Action=ListIdentities&MaxItems=ten")
    assert error.for_api("v1") == Wire("InvalidParameterValue", 400)
    assert error.message == "Invalid value for parameter MaxItems: 'ten' is not an integer"


def test_non_numeric_list_position_is_rejected() -> None:
    error = error_of("Action=SendRawEmail&Destinations.member.x=a%40example.com")
    assert error.message == (
        "Invalid value for parameter Destinations.member: list positions must be numbers"
    )


def test_missing_action_is_missing_action() -> None:
    error = error_of('{"Action": "SendEmail"}')
    assert error.for_api("v1") == Wire("MissingAction", 400)
    assert error.message == "The request must contain the parameter Action."


def test_unknown_action_is_invalid_action() -> None:
    error = error_of("Action=SendEmails&Version=2010-12-01")
    assert error.for_api("v1") == Wire("InvalidAction", 400)
    assert error.message == "Could not find operation SendEmails for version 2010-12-01"


def test_other_api_version_is_invalid_action() -> None:
    error = error_of("Action=SendEmail&Version=2019-09-27")
    assert error.message == "Could not find operation SendEmail for version 2019-09-27"


def test_non_utf8_body_is_invalid_parameter_value() -> None:
    with pytest.raises(SesError) as caught:
        query.parse_form(b"Action=SendEmail&Source=\xff")
    assert caught.value.for_api("v1") == Wire("InvalidParameterValue", 400)


def _result(name: str, output: dict[str, object]) -> bytes:
    return query.serialize_result(V1, V1.operations[name], output, "rid-1").body


def test_result_element_is_present_and_empty_when_output_has_no_members() -> None:
    body = _result("VerifyEmailIdentity", {})
    assert body == (
        b'<VerifyEmailIdentityResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/">'
        b"<VerifyEmailIdentityResult></VerifyEmailIdentityResult>"
        b"<ResponseMetadata><RequestId>rid-1</RequestId></ResponseMetadata>"
        b"</VerifyEmailIdentityResponse>"
    )


def test_operation_without_output_has_no_result_element() -> None:
    body = _result("VerifyEmailAddress", {})
    assert b"VerifyEmailAddressResult" not in body
    assert b"<ResponseMetadata><RequestId>rid-1</RequestId></ResponseMetadata>" in body


def test_doubles_print_like_ses_and_timestamps_are_iso8601() -> None:
    quota = _result("GetSendQuota", {"Max24HourSend": 200, "MaxSendRate": 1.0})
    assert b"<Max24HourSend>200.0</Max24HourSend><MaxSendRate>1.0</MaxSendRate>" in quota
    stats = _result(
        "GetSendStatistics",
        {"SendDataPoints": [{"Timestamp": datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)}]},
    )
    assert b"<Timestamp>2024-01-02T03:04:05.123Z</Timestamp>" in stats


def test_lists_and_maps_use_member_and_entry_elements() -> None:
    body = _result(
        "GetIdentityVerificationAttributes",
        {"VerificationAttributes": {"example.com": {"VerificationStatus": "Pending"}}},
    )
    assert (
        b"<VerificationAttributes><entry><key>example.com</key><value>"
        b"<VerificationStatus>Pending</VerificationStatus></value></entry>"
        b"</VerificationAttributes>"
    ) in body
    listed = _result("ListIdentities", {"Identities": ["a@example.com", "b&c"]})
    assert b"<Identities><member>a@example.com</member><member>b&amp;c</member></Identities>" in (
        listed
    )


def test_text_is_escaped_and_cr_survives_xml_parsing() -> None:
    body = _result("GetTemplate", {"Template": {"TemplateName": "t", "TextPart": "a<b>&\r\nc\x01"}})
    root = ElementTree.fromstring(body)
    text = root.find(f"{NS}GetTemplateResult/{NS}Template/{NS}TextPart")
    assert text is not None
    assert text.text == "a<b>&\r\nc\ufffd"  # C0 controls cannot exist in XML 1.0


def test_error_response_has_type_code_message_and_request_id_beside_error() -> None:
    error = SesError(
        "Template <T> does not exist.",
        v1=Wire("TemplateDoesNotExist", 400),
        v2=Wire("NotFoundException", 404),
    )
    wire = query.serialize_error(V1, error, "rid-2")
    assert wire.status == 400
    assert wire.headers == {"Content-Type": "text/xml", "x-amzn-RequestId": "rid-2"}
    assert wire.body == (
        b'<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error>'
        b"<Type>Sender</Type><Code>TemplateDoesNotExist</Code>"
        b"<Message>Template &lt;T&gt; does not exist.</Message></Error>"
        b"<RequestId>rid-2</RequestId></ErrorResponse>"
    )


def test_server_faults_are_receiver_errors() -> None:
    error = SesError("boom", v1=Wire("InternalFailure", 500), v2=Wire("X", 500))
    assert b"<Type>Receiver</Type>" in query.serialize_error(V1, error, "r").body


# The SES v1 model has no map or nested-list inputs today; the parser supports both, as the
# Query protocol defines them, so a newer model cannot silently lose them.
_SYNTHETIC = models.compile_service(
    {
        "metadata": {"apiVersion": "2010-12-01", "xmlNamespace": "urn:test"},
        "operations": {
            "Put": {
                "name": "Put",
                "http": {"method": "POST", "requestUri": "/"},
                "input": {"shape": "PutRequest"},
            },
        },
        "shapes": {
            "PutRequest": {
                "type": "structure",
                "members": {"Labels": {"shape": "Labels"}, "Grid": {"shape": "Grid"}},
            },
            "Labels": {"type": "map", "key": {"shape": "S"}, "value": {"shape": "N"}},
            "Grid": {"type": "list", "member": {"shape": "Row"}},
            "Row": {"type": "list", "member": {"shape": "S"}},
            "S": {"type": "string"},
            "N": {"type": "integer"},
        },
    },
    service="synthetic",
    api="v1",
)


def test_maps_parse_from_entry_key_value_fields() -> None:
    fields = query.parse_form(
        b"Action=Put&Labels.entry.2.key=b&Labels.entry.2.value=2"
        b"&Labels.entry.1.key=a&Labels.entry.1.value=1"
        b"&Grid.member.1.member.1=x&Grid.member.1.member.2=y&Grid.member.2="
    )
    operation, params = query.parse_request(_SYNTHETIC, fields)
    assert operation.name == "Put"
    assert params == {"Labels": {"a": 1, "b": 2}, "Grid": [["x", "y"], []]}


def test_map_entry_without_key_is_rejected() -> None:
    fields = query.parse_form(b"Action=Put&Labels.entry.1.value=1")
    with pytest.raises(SesError) as caught:
        query.parse_request(_SYNTHETIC, fields)
    assert caught.value.message == (
        "Invalid value for parameter Labels.entry.1: an entry needs a key"
    )
