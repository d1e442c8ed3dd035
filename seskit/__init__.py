"""seskit: typed, validating Amazon SES v1/v2 payload builders and senders.

The values, errors and builders load with the package and need only the standard library.
The senders (`Sender` on boto3, `AsyncSender` on aiobotocore) and their result types load on
first use, so ``import seskit`` (and the emulator, which reads `seskit.rules`) does not pay
for importing boto3.
"""

import importlib as _importlib
import typing as _typing

from seskit import batching, mime, rules, v1, v2
from seskit.errors import (
    AddressError,
    AttachmentError,
    ConfigurationSetNotFoundError,
    DailyQuotaExceededError,
    HeaderError,
    IdentityError,
    InvalidRequestError,
    MessageRejectedError,
    RecipientError,
    SendError,
    SendingPausedError,
    ServiceError,
    SesKitError,
    SizeError,
    TagError,
    TemplateDataError,
    TemplateNotFoundError,
    ThrottledError,
    UnsupportedFeatureError,
    ValidationError,
)
from seskit.message import Address, Attachment, BulkEntry, Email, Header, Tag, Template
from seskit.ratelimit import SendQuota, TokenBucket

if _typing.TYPE_CHECKING:
    from seskit.aio import AsyncSender
    from seskit.bulk import ItemResult, Progress, RunSummary, SendOptions, SendResult
    from seskit.sender import Sender

# name → the module that defines it, imported on first access (PEP 562).
_LAZY = {
    "AsyncSender": "seskit.aio",
    "ItemResult": "seskit.bulk",
    "Progress": "seskit.bulk",
    "RunSummary": "seskit.bulk",
    "SendOptions": "seskit.bulk",
    "SendResult": "seskit.bulk",
    "Sender": "seskit.sender",
}


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'seskit' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Address",
    "AddressError",
    "AsyncSender",
    "Attachment",
    "AttachmentError",
    "BulkEntry",
    "ConfigurationSetNotFoundError",
    "DailyQuotaExceededError",
    "Email",
    "Header",
    "HeaderError",
    "IdentityError",
    "InvalidRequestError",
    "ItemResult",
    "MessageRejectedError",
    "Progress",
    "RecipientError",
    "RunSummary",
    "SendError",
    "SendOptions",
    "SendQuota",
    "SendResult",
    "Sender",
    "SendingPausedError",
    "ServiceError",
    "SesKitError",
    "SizeError",
    "Tag",
    "TagError",
    "Template",
    "TemplateDataError",
    "TemplateNotFoundError",
    "ThrottledError",
    "TokenBucket",
    "UnsupportedFeatureError",
    "ValidationError",
    "batching",
    "mime",
    "rules",
    "v1",
    "v2",
]
