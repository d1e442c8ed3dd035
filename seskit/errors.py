"""Every error seskit raises, in one tree.

```
SesKitError
├── ValidationError (ValueError)          a payload SES would reject; raised before any network call
│   ├── AddressError                      address syntax, charset, length
│   ├── RecipientError                    recipient counts (none, more than 50)
│   ├── TagError                          message tag names and values
│   ├── HeaderError                       v2 custom headers
│   ├── AttachmentError                   attachment names, types, dispositions
│   ├── TemplateDataError                 template data (JSON object, size)
│   ├── SizeError                         encoded message size (10 MB v1, 40 MB v2)
│   └── UnsupportedFeatureError           the chosen API cannot express the request
└── SendError                             SES (or the network) refused a call that was made
    ├── ThrottledError                    maximum send rate exceeded; retryable
    ├── DailyQuotaExceededError           rolling 24 h quota used up; final for hours
    ├── MessageRejectedError              content or identities refused
    │   └── IdentityError                 sender, MAIL FROM or sandbox recipient not verified
    ├── InvalidRequestError               SES's own parameter validation
    ├── SendingPausedError                account or configuration set sending paused
    ├── TemplateNotFoundError             template does not exist
    ├── ConfigurationSetNotFoundError     configuration set does not exist
    └── ServiceError                      5xx from SES or a transport failure; retryable
```

Validation errors are also `ValueError`s, and carry the `field` that is wrong (``to[3]``,
``tags['a b']``) and the `rule` it broke (``max-recipients``, ``tag-charset``).
Send errors carry what SES answered: `code`, `message`, `request_id` and `http_status`;
the botocore exception they came from is kept as ``__cause__``.
"""

from __future__ import annotations

__all__ = [
    "AddressError",
    "AttachmentError",
    "ConfigurationSetNotFoundError",
    "DailyQuotaExceededError",
    "HeaderError",
    "IdentityError",
    "InvalidRequestError",
    "MessageRejectedError",
    "RecipientError",
    "SendError",
    "SendingPausedError",
    "ServiceError",
    "SesKitError",
    "SizeError",
    "TagError",
    "TemplateDataError",
    "TemplateNotFoundError",
    "ThrottledError",
    "UnsupportedFeatureError",
    "ValidationError",
]


class SesKitError(Exception):
    """Base class of every error raised by seskit."""


class ValidationError(SesKitError, ValueError):
    """A value SES would reject, found before any network call.

    ``field`` names where the problem is (``to[3]``, ``tags['a b']``, ``attachments[0].filename``)
    and ``rule`` is a stable, machine-readable name of the broken rule (``max-recipients``).
    """

    def __init__(self, field: str, rule: str, message: str) -> None:
        self.field = field
        self.rule = rule
        self.message = message
        super().__init__(f"{field}: {message}")

    def __reduce__(self) -> tuple[type[ValidationError], tuple[str, str, str]]:
        return (type(self), (self.field, self.rule, self.message))


class AddressError(ValidationError):
    """An email address is malformed, too long, or not 7-bit where SES needs it to be."""


class RecipientError(ValidationError):
    """Too few or too many recipients for one call."""


class TagError(ValidationError):
    """A message tag name or value breaks SES's charset or length rules."""


class HeaderError(ValidationError):
    """A custom header breaks SES v2's name/value patterns, lengths or count."""


class AttachmentError(ValidationError):
    """An attachment's name, type, content id or disposition is not acceptable."""


class TemplateDataError(ValidationError):
    """Template data is not a JSON object, or is longer than SES accepts."""


class SizeError(ValidationError):
    """The encoded message is larger than the chosen API accepts."""


class UnsupportedFeatureError(ValidationError):
    """The chosen builder cannot express the request; the message names one that can."""


class SendError(SesKitError):
    """A call to SES failed. Carries what SES answered.

    ``retryable`` says whether sending the same request again later can succeed.
    """

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        request_id: str | None = None,
        http_status: int | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.request_id = request_id
        self.http_status = http_status
        super().__init__(f"{code}: {message}" if code else message)


class ThrottledError(SendError):
    """The account's maximum send rate was exceeded. Waiting a moment and retrying works."""

    retryable = True


class DailyQuotaExceededError(SendError):
    """The rolling 24-hour sending quota is used up. Retrying soon will not help."""


class MessageRejectedError(SendError):
    """SES refused the message (content, or an identity that is not verified)."""


class InvalidRequestError(SendError):
    """SES found a parameter invalid (``InvalidParameterValue``, ``BadRequestException``…)."""


class SendingPausedError(SendError):
    """Sending is paused for the account or for the configuration set."""


class IdentityError(MessageRejectedError):
    """An identity is not verified: the sender, MAIL FROM domain, or (sandbox) a recipient.

    A `MessageRejectedError`, so ``except MessageRejectedError`` still catches it.
    """


class TemplateNotFoundError(SendError):
    """The named template does not exist in this account and region."""


class ConfigurationSetNotFoundError(SendError):
    """The named configuration set does not exist in this account and region."""


class ServiceError(SendError):
    """SES failed on its side (5xx) or the connection failed. Retrying later can succeed."""

    retryable = True
