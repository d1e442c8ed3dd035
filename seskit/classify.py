"""Map what SES (or the network) answered to the seskit error tree.

Pure functions: they read a botocore exception or a bulk entry status and return a
`~seskit.errors.SendError` subclass; nothing here makes a call. The senders raise the result
``from`` the botocore exception, so the original stays reachable as ``__cause__``.

The mapping is keyed on the error code *and* the message, because SES uses one code for two
different situations (ses-spec §1.4, §5, §6.3):

=========================================================  ====================================
What SES answered                                          seskit error
=========================================================  ====================================
v1 ``Throttling`` "Maximum sending rate exceeded."          `ThrottledError` (retryable)
v1 ``Throttling`` "Daily message quota exceeded."           `DailyQuotaExceededError` (final)
v2 ``TooManyRequestsException`` (429)                       `ThrottledError`, or
                                                           `DailyQuotaExceededError` when the
                                                           message says "Daily message quota"
v2 ``LimitExceededException`` "Daily message quota…"        `DailyQuotaExceededError`
``MessageRejected`` "… is not verified …"                   `IdentityError`
``MessageRejected`` (anything else)                         `MessageRejectedError`
``MailFromDomainNotVerifiedException``,                     `IdentityError`
``FromEmailAddressNotVerified``
``AccountSendingPausedException``,                          `SendingPausedError`
``ConfigurationSetSendingPausedException``,
``SendingPausedException``, ``AccountSuspendedException``
v1 ``TemplateDoesNotExist``; v2 ``NotFoundException``       `TemplateNotFoundError`
naming a template
v1 ``ConfigurationSetDoesNotExist``; v2                     `ConfigurationSetNotFoundError`
``NotFoundException`` naming a configuration set
``InvalidParameterValue``, ``ValidationError``,             `InvalidRequestError`
``BadRequestException``, ``MissingParameter``, …;
botocore ``ParamValidationError``
HTTP ≥ 500, ``InternalFailure``, ``ServiceUnavailable``,    `ServiceError` (retryable)
``InternalServiceErrorException``; connection failures
anything else                                              `SendError`
=========================================================  ====================================

Why "not verified" is an `IdentityError`: SES reports an unverified sender (and, in the
sandbox, unverified recipients) as ``MessageRejected`` with the text "Email address is not
verified. The following identities failed the check in region …" (ses-spec §2.6). The fix is
to verify an identity, not to change the content, so seskit classifies it with the other
identity failures. The error keeps ``code == "MessageRejected"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from botocore.exceptions import (
    ClientError,
    ConnectionError,
    HTTPClientError,
    ParamValidationError,
)

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

__all__ = [
    "CLASSIFIABLE_ERRORS",
    "classify",
    "classify_bulk_status",
    "classify_code",
]

#: The botocore exceptions `classify` understands; the senders catch exactly these around a call.
#: Other botocore errors (no credentials, no region) are configuration mistakes and propagate.
CLASSIFIABLE_ERRORS: Final = (ClientError, ConnectionError, HTTPClientError, ParamValidationError)

# ses-spec Appendix A: exact texts, trailing period included.
_DAILY_QUOTA_TEXT: Final = "daily message quota exceeded"
_NOT_VERIFIED_TEXT: Final = "not verified"

_THROTTLE_CODES: Final = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException"}
)
_PAUSED_CODES: Final = frozenset(
    {
        "AccountSendingPausedException",  # v1, suffix kept on the wire (ses-spec §1.4)
        "ConfigurationSetSendingPausedException",  # v1
        "SendingPausedException",  # v2, account or configuration set (ses-spec §2.6)
        "AccountSuspendedException",  # v2; sending permanently restricted
        "AccountSuspended",
    }
)
_IDENTITY_CODES: Final = frozenset(
    {
        "MailFromDomainNotVerifiedException",  # both APIs (ses-spec §2.6)
        "FromEmailAddressNotVerified",  # v1 custom verification email
    }
)
_INVALID_CODES: Final = frozenset(
    {
        # v1 common query errors [D] and model errors about the request itself (ses-spec §1.4).
        "InvalidParameterValue",
        "InvalidParameterCombination",
        "MissingParameter",
        "ValidationError",
        "InvalidTemplate",
        "MissingRenderingAttribute",
        "InvalidRenderingParameter",
        "InvalidQueryParameter",
        "MalformedQueryString",
        # v2 (ses-spec §1.6).
        "BadRequestException",
        "InvalidNextTokenException",
    }
)
_SERVICE_CODES: Final = frozenset(
    {
        "InternalFailure",
        "ServiceUnavailable",
        "InternalServiceErrorException",
        "ConcurrentModificationException",
        "RequestTimeout",
    }
)


def classify_code(
    code: str,
    message: str,
    *,
    http_status: int | None = None,
    request_id: str | None = None,
) -> SendError:
    """The `SendError` for one SES error code, message and HTTP status.

    >>> type(classify_code("Throttling", "Daily message quota exceeded.", http_status=400))
    <class 'seskit.errors.DailyQuotaExceededError'>
    """
    kwargs: dict[str, Any] = {"code": code, "request_id": request_id, "http_status": http_status}
    text = message.lower()
    if _DAILY_QUOTA_TEXT in text and (
        code in _THROTTLE_CODES or code in {"LimitExceededException", "LimitExceeded"}
    ):
        return DailyQuotaExceededError(message, **kwargs)
    if code in _THROTTLE_CODES:
        return ThrottledError(message, **kwargs)
    if code == "MessageRejected":
        if _NOT_VERIFIED_TEXT in text:
            return IdentityError(message, **kwargs)
        return MessageRejectedError(message, **kwargs)
    if code in _IDENTITY_CODES:
        return IdentityError(message, **kwargs)
    if code in _PAUSED_CODES:
        return SendingPausedError(message, **kwargs)
    if code in {"TemplateDoesNotExist", "TemplateDoesNotExistException"}:
        return TemplateNotFoundError(message, **kwargs)
    if code in {"ConfigurationSetDoesNotExist", "ConfigurationSetDoesNotExistException"}:
        return ConfigurationSetNotFoundError(message, **kwargs)
    if code == "NotFoundException":
        # v2 reports every missing resource as NotFoundException 404; the message names it.
        if "template" in text:
            return TemplateNotFoundError(message, **kwargs)
        if "configuration set" in text or "configurationset" in text:
            return ConfigurationSetNotFoundError(message, **kwargs)
        return SendError(message, **kwargs)
    if code in _INVALID_CODES:
        return InvalidRequestError(message, **kwargs)
    if code in _SERVICE_CODES or (http_status is not None and http_status >= 500):
        return ServiceError(message, **kwargs)
    return SendError(message, **kwargs)


def classify(error: BaseException) -> SendError:
    """The `SendError` for a botocore exception raised by an SES v1 or v2 call.

    Raise it ``from`` the original so the botocore exception stays the ``__cause__``::

        try:
            client.send_email(**payload)
        except CLASSIFIABLE_ERRORS as err:
            raise classify(err) from err
    """
    if isinstance(error, ClientError):
        response: Mapping[str, Any] = error.response
        details: Mapping[str, Any] = response.get("Error", {})
        meta: Mapping[str, Any] = response.get("ResponseMetadata", {})
        status = meta.get("HTTPStatusCode")
        return classify_code(
            str(details.get("Code", "")),
            str(details.get("Message", "")),
            http_status=status if isinstance(status, int) else None,
            request_id=meta.get("RequestId") or None,
        )
    if isinstance(error, ParamValidationError):
        return InvalidRequestError(str(error), code="ParamValidationError")
    if isinstance(error, ConnectionError | HTTPClientError):
        return ServiceError(str(error), code=type(error).__name__)
    return SendError(str(error), code=type(error).__name__)


# Per-entry statuses of bulk sends: v1 SendBulkTemplatedEmail `BulkEmailStatus` and v2
# SendBulkEmail `BulkEmailStatus` (model enums, ses-spec §1.5), mapped to a wire-style code.
_BULK_STATUS_CODES: Final[Mapping[str, str]] = {
    # v1 spelling
    "MessageRejected": "MessageRejected",
    "MailFromDomainNotVerified": "MailFromDomainNotVerifiedException",
    "ConfigurationSetDoesNotExist": "ConfigurationSetDoesNotExist",
    "TemplateDoesNotExist": "TemplateDoesNotExist",
    "AccountSuspended": "AccountSuspended",
    "AccountThrottled": "Throttling",
    "AccountDailyQuotaExceeded": "Throttling",
    "InvalidSendingPoolName": "InvalidParameterValue",
    "AccountSendingPaused": "AccountSendingPausedException",
    "ConfigurationSetSendingPaused": "ConfigurationSetSendingPausedException",
    "InvalidParameterValue": "InvalidParameterValue",
    "TransientFailure": "InternalFailure",
    "Failed": "Failed",
    # v2 spelling
    "MESSAGE_REJECTED": "MessageRejected",
    "MAIL_FROM_DOMAIN_NOT_VERIFIED": "MailFromDomainNotVerifiedException",
    "CONFIGURATION_SET_NOT_FOUND": "ConfigurationSetDoesNotExist",
    "TEMPLATE_NOT_FOUND": "TemplateDoesNotExist",
    "ACCOUNT_SUSPENDED": "AccountSuspendedException",
    "ACCOUNT_THROTTLED": "TooManyRequestsException",
    "ACCOUNT_DAILY_QUOTA_EXCEEDED": "TooManyRequestsException",
    "INVALID_SENDING_POOL_NAME": "BadRequestException",
    "ACCOUNT_SENDING_PAUSED": "SendingPausedException",
    "CONFIGURATION_SET_SENDING_PAUSED": "SendingPausedException",
    "INVALID_PARAMETER": "BadRequestException",
    "TRANSIENT_FAILURE": "InternalServiceErrorException",
    "FAILED": "Failed",
}
_BULK_SUCCESS: Final = frozenset({"Success", "SUCCESS"})
_BULK_DAILY_QUOTA: Final = frozenset({"AccountDailyQuotaExceeded", "ACCOUNT_DAILY_QUOTA_EXCEEDED"})


def classify_bulk_status(
    status: str, error: str | None = None, *, request_id: str | None = None
) -> SendError | None:
    """The `SendError` for one bulk entry's status, or None when the entry was sent.

    ``status`` is the entry's ``Status`` (v1 ``AccountThrottled`` or v2 ``ACCOUNT_THROTTLED``
    spelling) and ``error`` its ``Error`` text. The error's ``code`` is the status itself.

    >>> type(classify_bulk_status("ACCOUNT_THROTTLED", "Maximum sending rate exceeded."))
    <class 'seskit.errors.ThrottledError'>
    >>> classify_bulk_status("SUCCESS") is None
    True
    """
    if status in _BULK_SUCCESS:
        return None
    message = error or status
    if status in _BULK_DAILY_QUOTA:
        return DailyQuotaExceededError(message, code=status, request_id=request_id)
    wire = _BULK_STATUS_CODES.get(status, status)
    found = classify_code(wire, message, request_id=request_id)
    # Keep the entry's own status as the code: it is what the response said.
    return type(found)(message, code=status, request_id=request_id)
