"""seskit.classify: every v1/v2 code and message maps to the right SendError, data kept."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from botocore import parsers
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from seskit.classify import CLASSIFIABLE_ERRORS, classify, classify_bulk_status, classify_code
from seskit.errors import (
    ConfigurationSetNotFoundError,
    DailyQuotaExceededError,
    IdentityError,
    InvalidRequestError,
    MessageRejectedError,
    SendError,
    SendingPausedError,
    ServiceError,
    TemplateNotFoundError,
    ThrottledError,
)

RATE = "Maximum sending rate exceeded."
DAILY = "Daily message quota exceeded."
NOT_VERIFIED = (
    "Email address is not verified. The following identities failed the check in region "
    "US-EAST-1: sender@example.com"
)

CASES: list[tuple[str, str, int, type[SendError]]] = [
    # v1 (ses-spec §1.4, §5, Appendix A)
    ("Throttling", RATE, 400, ThrottledError),
    ("Throttling", DAILY, 400, DailyQuotaExceededError),
    ("Throttling", "Rate exceeded", 400, ThrottledError),
    ("MessageRejected", "Address blacklisted.", 400, MessageRejectedError),
    ("MessageRejected", NOT_VERIFIED, 400, IdentityError),
    ("MailFromDomainNotVerifiedException", "MAIL FROM domain not verified", 400, IdentityError),
    ("FromEmailAddressNotVerified", "From address not verified", 400, IdentityError),
    ("AccountSendingPausedException", "Account sending paused.", 400, SendingPausedError),
    ("ConfigurationSetSendingPausedException", "cs paused", 400, SendingPausedError),
    ("TemplateDoesNotExist", "Template T1 does not exist.", 400, TemplateNotFoundError),
    (
        "ConfigurationSetDoesNotExist",
        "Configuration set <cs> does not exist.",
        400,
        ConfigurationSetNotFoundError,
    ),
    ("InvalidParameterValue", "Recipient count exceeds 50.", 400, InvalidRequestError),
    ("ValidationError", "1 validation error detected", 400, InvalidRequestError),
    ("MissingParameter", "Source is required", 400, InvalidRequestError),
    ("MissingRenderingAttribute", "Attribute 'x' is not present", 400, InvalidRequestError),
    ("InternalFailure", "internal", 500, ServiceError),
    ("ServiceUnavailable", "unavailable", 503, ServiceError),
    ("503", "Service Unavailable", 503, ServiceError),
    ("InvalidClientTokenId", "The security token is invalid.", 403, SendError),
    # v2 (ses-spec §1.6, §2.6, §5)
    ("TooManyRequestsException", RATE, 429, ThrottledError),
    ("TooManyRequestsException", DAILY, 429, DailyQuotaExceededError),
    ("LimitExceededException", DAILY, 400, DailyQuotaExceededError),
    ("LimitExceededException", "Too many templates.", 400, SendError),
    ("MessageRejected", NOT_VERIFIED, 400, IdentityError),
    ("MessageRejected", "Message contains a virus.", 400, MessageRejectedError),
    ("MailFromDomainNotVerifiedException", "not verified", 400, IdentityError),
    ("SendingPausedException", "Sending is paused for this account.", 400, SendingPausedError),
    ("AccountSuspendedException", "Account suspended.", 400, SendingPausedError),
    ("NotFoundException", "Template T1 does not exist.", 404, TemplateNotFoundError),
    (
        "NotFoundException",
        "Configuration set <cs> does not exist.",
        404,
        ConfigurationSetNotFoundError,
    ),
    ("NotFoundException", "Contact list <l> does not exist.", 404, SendError),
    ("BadRequestException", "1 validation error detected", 400, InvalidRequestError),
    ("InternalServiceErrorException", "internal", 500, ServiceError),
    ("ConcurrentModificationException", "busy", 500, ServiceError),
]


@pytest.mark.parametrize(("code", "message", "status", "expected"), CASES)
def test_code_and_message_pick_the_error_class(
    code: str, message: str, status: int, expected: type[SendError]
) -> None:
    error = classify_code(code, message, http_status=status, request_id="rid")
    assert type(error) is expected
    assert (error.code, error.message, error.http_status, error.request_id) == (
        code,
        message,
        status,
        "rid",
    )


def test_only_rate_throttles_and_service_errors_are_retryable() -> None:
    retryable = {expected for *_, expected in CASES if expected.retryable}
    assert retryable == {ThrottledError, ServiceError}


def _client_error(code: str, message: str, status: int) -> ClientError:
    response: dict[str, Any] = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"RequestId": "req-1", "HTTPStatusCode": status},
    }
    return ClientError(response, "SendEmail")


def test_client_error_keeps_code_message_request_id_and_status() -> None:
    error = classify(_client_error("Throttling", DAILY, 400))
    assert isinstance(error, DailyQuotaExceededError)
    assert not error.retryable
    assert error.code == "Throttling"
    assert error.message == DAILY
    assert error.request_id == "req-1"
    assert error.http_status == 400
    assert str(error) == "Throttling: Daily message quota exceeded."


def test_raised_from_the_original_the_client_error_is_the_cause() -> None:
    original = _client_error("MessageRejected", "Address blacklisted.", 400)

    def send() -> None:
        try:
            raise original
        except CLASSIFIABLE_ERRORS as err:
            raise classify(err) from err

    with pytest.raises(MessageRejectedError) as caught:
        send()
    assert caught.value.__cause__ is original


def _parsed(service: str, protocol: str, raw: dict[str, Any]) -> ClientError:
    # The exact path boto3 takes: botocore's parser turns the wire response into the dict.
    model = botocore.session.get_session().get_service_model(service)
    parsed = parsers.create_parser(protocol).parse(
        raw, model.operation_model("SendEmail").output_shape
    )
    return ClientError(parsed, "SendEmail")


def test_v1_throttling_xml_from_the_wire_is_a_rate_throttle() -> None:
    body = (
        b'<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error>'
        b"<Type>Sender</Type><Code>Throttling</Code><Message>Maximum sending rate exceeded."
        b"</Message></Error><RequestId>8f23e6e6-b4f2-4572-b426-343b370cb32c</RequestId>"
        b"</ErrorResponse>"
    )
    error = classify(_parsed("ses", "query", {"body": body, "headers": {}, "status_code": 400}))
    assert isinstance(error, ThrottledError)
    assert error.retryable
    assert error.request_id == "8f23e6e6-b4f2-4572-b426-343b370cb32c"
    assert error.http_status == 400


def test_v2_429_json_from_the_wire_is_a_rate_throttle() -> None:
    raw = {
        "body": b'{"message":"Maximum sending rate exceeded."}',
        "headers": {"x-amzn-errortype": "TooManyRequestsException", "x-amzn-requestid": "r-2"},
        "status_code": 429,
    }
    error = classify(_parsed("sesv2", "rest-json", raw))
    assert isinstance(error, ThrottledError)
    assert (error.code, error.message, error.http_status, error.request_id) == (
        "TooManyRequestsException",
        RATE,
        429,
        "r-2",
    )


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
        ConnectTimeoutError(endpoint_url="http://127.0.0.1:1"),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:1"),
    ],
)
def test_connection_failures_are_retryable_service_errors(error: Exception) -> None:
    classified = classify(error)
    assert type(classified) is ServiceError
    assert classified.code == type(error).__name__
    assert classified.http_status is None
    assert "127.0.0.1:1" in classified.message


def test_botocore_param_validation_is_an_invalid_request() -> None:
    classified = classify(ParamValidationError(report="Missing required parameter"))
    assert type(classified) is InvalidRequestError
    assert classified.code == "ParamValidationError"


def test_configuration_errors_are_not_classifiable() -> None:
    # No credentials fails every call the same way: it must reach the user unchanged.
    assert not isinstance(NoCredentialsError(), CLASSIFIABLE_ERRORS)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("MessageRejected", MessageRejectedError),
        ("MESSAGE_REJECTED", MessageRejectedError),
        ("MailFromDomainNotVerified", IdentityError),
        ("MAIL_FROM_DOMAIN_NOT_VERIFIED", IdentityError),
        ("ConfigurationSetDoesNotExist", ConfigurationSetNotFoundError),
        ("CONFIGURATION_SET_NOT_FOUND", ConfigurationSetNotFoundError),
        ("TemplateDoesNotExist", TemplateNotFoundError),
        ("TEMPLATE_NOT_FOUND", TemplateNotFoundError),
        ("AccountSuspended", SendingPausedError),
        ("ACCOUNT_SUSPENDED", SendingPausedError),
        ("AccountThrottled", ThrottledError),
        ("ACCOUNT_THROTTLED", ThrottledError),
        ("AccountDailyQuotaExceeded", DailyQuotaExceededError),
        ("ACCOUNT_DAILY_QUOTA_EXCEEDED", DailyQuotaExceededError),
        ("InvalidSendingPoolName", InvalidRequestError),
        ("INVALID_SENDING_POOL_NAME", InvalidRequestError),
        ("AccountSendingPaused", SendingPausedError),
        ("ACCOUNT_SENDING_PAUSED", SendingPausedError),
        ("ConfigurationSetSendingPaused", SendingPausedError),
        ("CONFIGURATION_SET_SENDING_PAUSED", SendingPausedError),
        ("InvalidParameterValue", InvalidRequestError),
        ("INVALID_PARAMETER", InvalidRequestError),
        ("TransientFailure", ServiceError),
        ("TRANSIENT_FAILURE", ServiceError),
        ("Failed", SendError),
        ("FAILED", SendError),
    ],
)
def test_bulk_entry_status_maps_to_the_error_class(status: str, expected: type[SendError]) -> None:
    error = classify_bulk_status(status, "entry text", request_id="rid")
    assert type(error) is expected
    assert error is not None
    assert (error.code, error.message, error.request_id) == (status, "entry text", "rid")


@pytest.mark.parametrize("status", ["Success", "SUCCESS"])
def test_bulk_entry_success_is_no_error(status: str) -> None:
    assert classify_bulk_status(status) is None


def test_bulk_entry_without_error_text_uses_the_status_as_message() -> None:
    error = classify_bulk_status("ACCOUNT_THROTTLED")
    assert isinstance(error, ThrottledError)
    assert error.message == "ACCOUNT_THROTTLED"
