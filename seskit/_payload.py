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

# SES expands a simple send into MIME itself. Each character becomes at most 4 UTF-8 bytes and
# base64 makes 4 characters (plus CRLF per 76) of every 3 bytes, so 6 bytes per character bounds
# any part; 64 KiB more covers the headers and boundaries SES adds. Below that bound the exact
# (more expensive) size is not needed.
_BYTES_PER_CHAR_BOUND: Final = 6
_OVERHEAD_BOUND: Final = 64 * 1024


def wire(addresses: tuple[Address, ...]) -> list[str]:
    """Addresses as SES takes them in Destination/ReplyToAddresses (display names encoded)."""
    return [address.formatted for address in addresses]


def destination(
    to: tuple[Address, ...], cc: tuple[Address, ...], bcc: tuple[Address, ...]
) -> DestinationTypeDef:
    """A Destination with only the lists that have addresses in them."""
    result: DestinationTypeDef = {}
    if to:
        result["ToAddresses"] = [address.formatted for address in to]
    if cc:
        result["CcAddresses"] = [address.formatted for address in cc]
    if bcc:
        result["BccAddresses"] = [address.formatted for address in bcc]
    return result


def tags(values: tuple[Tag, ...]) -> list[MessageTagTypeDef]:
    """Tags as MessageTag dicts (the same shape in v1 and v2)."""
    return [{"Name": tag.name, "Value": tag.value} for tag in values]


def content(text: str) -> ContentTypeDef:
    """A Content value; ``Charset`` only when the text is not plain ASCII (SES's default)."""
    if text.isascii():
        return {"Data": text}
    return {"Data": text, "Charset": "UTF-8"}


def body(text: str | None, html: str | None) -> BodyTypeDef:
    """A simple send's Body: Text and/or Html, each a `content` (the same shape in v1 and v2)."""
    result: BodyTypeDef = {}
    if text is not None:
        result["Text"] = content(text)
    if html is not None:
        result["Html"] = content(html)
    return result


def configuration_set(email: Email, override: str | None) -> str | None:
    """The configuration set to send with: the builder's override, else the email's."""
    if override is None:
        return email.configuration_set
    rules.check_configuration_set_name(override)
    return override


def require_simple_content(email: Email, builder: str) -> tuple[str, str | None, str | None]:
    """Subject and body of a simple send, or a ValidationError naming what is missing."""
    if email.subject is None:
        raise ValidationError(
            "subject", "missing-subject", f"{builder} needs a subject (or use a template)"
        )
    if email.text is None and email.html is None:
        raise ValidationError(
            "text", "missing-body", f"{builder} needs a text and/or html body (or use a template)"
        )
    return email.subject, email.text, email.html


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


def check_simple_size(email: Email, *, limit: int, api: str) -> None:
    """Check the size SES's MIME assembly of a simple send will have, exactly when it matters."""
    chars = len(email.subject or "") + len(email.text or "") + len(email.html or "")
    attached = sum([len(a.content) for a in email.attachments]) if email.attachments else 0
    bound = _BYTES_PER_CHAR_BOUND * chars + 2 * attached + _OVERHEAD_BOUND
    if bound > limit:
        rules.check_message_size(mime.encoded_size(email), limit=limit, api=api)
