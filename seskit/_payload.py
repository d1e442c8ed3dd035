"""Pieces shared by the v1 and v2 builders: wire forms of addresses, tags, content, sizes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from seskit import mime, rules
from seskit.errors import UnsupportedFeatureError, ValidationError
from seskit.message import Address, Email, Tag

if TYPE_CHECKING:
    from mypy_boto3_ses.type_defs import (
        BodyTypeDef,
        ContentTypeDef,
        DestinationTypeDef,
        MessageTagTypeDef,
    )

__all__: list[str] = []

# SES expands a simple send into MIME itself. A body character becomes at most 4 UTF-8 bytes,
# and base64 makes 4 characters (plus CRLF per 76) of every 3 bytes: under 6 bytes a character.
# A non-ASCII subject is written as RFC 2047 encoded words of at most 12 such characters (64
# base64 characters, 12 of "=?utf-8?b?...?=" and a 3-byte fold): under 7 bytes a character; 8
# bounds both. Each Reply-To address is at most 320 characters as sent, plus separator and fold.
# 64 KiB covers the other headers (50 recipients of 320, at most 15 custom headers of 998) and
# the boundaries. Below the bound the exact (much more expensive) size is not needed.
_BYTES_PER_CHAR_BOUND: Final = 8
_BYTES_PER_REPLY_TO_BOUND: Final = 330
_OVERHEAD_BOUND: Final = 64 * 1024
# The most characters (subject + text + html) a simple send without reply-to addresses or
# attachments can have and still be under the bound, for a one-comparison check.
SIMPLE_CHARS_V1: Final = (rules.MAX_MESSAGE_BYTES_V1 - _OVERHEAD_BOUND) // _BYTES_PER_CHAR_BOUND
SIMPLE_CHARS_V2: Final = (rules.MAX_MESSAGE_BYTES_V2 - _OVERHEAD_BOUND) // _BYTES_PER_CHAR_BOUND


# Lists are built with plain loops here and in the builders: for the few items of a message
# that costs less than a comprehension (which is a function call of its own in Python 3.11).


def wire(addresses: tuple[Address, ...]) -> list[str]:
    """Addresses as SES takes them in Destination/ReplyToAddresses (display names encoded)."""
    result = []
    for address in addresses:
        result.append(address.formatted)
    return result


def destination(
    to: tuple[Address, ...], cc: tuple[Address, ...], bcc: tuple[Address, ...]
) -> DestinationTypeDef:
    """A Destination with only the lists that have addresses in them."""
    result: DestinationTypeDef = {}
    if to:
        result["ToAddresses"] = addresses = []
        for address in to:
            addresses.append(address.formatted)
    if cc:
        result["CcAddresses"] = wire(cc)
    if bcc:
        result["BccAddresses"] = wire(bcc)
    return result


def tags(values: tuple[Tag, ...]) -> list[MessageTagTypeDef]:
    """Tags as MessageTag dicts (the same shape in v1 and v2)."""
    result: list[MessageTagTypeDef] = []
    for tag in values:
        result.append({"Name": tag.name, "Value": tag.value})
    return result


def configuration_set(email: Email, override: str | None) -> str | None:
    """The configuration set to send with: the builder's override, else the email's."""
    if override is None:
        return email.configuration_set
    rules.check_configuration_set_name(override)
    return override


def content(data: str) -> ContentTypeDef:
    """A Subject, Text or Html member: ``Charset`` only when the text is not ASCII."""
    return {"Data": data} if data.isascii() else {"Data": data, "Charset": "UTF-8"}


def simple_parts(email: Email, builder: str) -> tuple[ContentTypeDef, BodyTypeDef, int]:
    """A simple send's Subject and Body (the same shapes in v1 and v2), and their character
    count for the size shortcut; `missing_content` when the email has no subject or body."""
    subject, text, html = email.subject, email.text, email.html
    if subject is None or (text is None and html is None):
        raise missing_content(email, builder)
    chars = len(subject)
    body: BodyTypeDef = {}
    if text is not None:
        body["Text"] = content(text)
        chars += len(text)
    if html is not None:
        body["Html"] = content(html)
        chars += len(html)
    return content(subject), body, chars


def missing_content(email: Email, builder: str) -> ValidationError:
    """The error for a simple send without a subject, or without a text and html body."""
    if email.subject is None:
        return ValidationError(
            "subject", "missing-subject", f"{builder} needs a subject (or use a template)"
        )
    return ValidationError(
        "text", "missing-body", f"{builder} needs a text and/or html body (or use a template)"
    )


def refuse_content_for_template(email: Email, builder: str) -> None:
    """Templated sends take subject and body from the template; refuse them on the email."""
    for name in ("subject", "text", "html"):
        if getattr(email, name) is not None:
            raise UnsupportedFeatureError(
                name,
                "unsupported-feature",
                f"{builder} takes the {name} from the template; leave Email.{name} unset "
                "(or send without a template)",
            )


def refuse(email_field: str, what: str, builder: str, alternative: str) -> UnsupportedFeatureError:
    """The error for a feature ``builder`` cannot express, naming the one that can."""
    return UnsupportedFeatureError(
        email_field,
        "unsupported-feature",
        f"{builder} cannot send {what}; use {alternative}",
    )


def simple_size_bound(email: Email) -> int:
    """An upper bound on the MIME size of ``email`` sent as a simple message (see above)."""
    chars = len(email.subject or "") + len(email.text or "") + len(email.html or "")
    attached = sum([len(a.content) for a in email.attachments]) if email.attachments else 0
    return (
        _BYTES_PER_CHAR_BOUND * chars
        + _BYTES_PER_REPLY_TO_BOUND * len(email.reply_to)
        + 2 * attached  # base64: 4 bytes (plus CRLF per 76) for every 3
        + _OVERHEAD_BOUND
    )


def check_simple_size(email: Email, *, limit: int, api: str) -> None:
    """Check the size SES's MIME assembly of a simple send will have, exactly when it matters.

    The builders call this only when the send has more than `SIMPLE_CHARS_V1` (or ``_V2``)
    characters, reply-to addresses or attachments; everything else is under the bound.
    """
    if simple_size_bound(email) > limit:
        rules.check_message_size(mime.encoded_size(email), limit=limit, api=api)
