"""Builders for the SES v1 API (``boto3.client("ses")``): pure functions returning request dicts.

Each returns the mypy-boto3-ses TypedDict of its operation, so ``client.send_email(**payload)``
is checked by ``mypy --strict``; none imports boto3. Only keys the caller asked for are emitted.

>>> from seskit import Email, v1
>>> payload = v1.send_email(
...     Email(sender="shop@example.com", to="ana@example.com", subject="Hi", text="Hello")
... )
>>> payload["Destination"]
{'ToAddresses': ['ana@example.com']}
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from seskit import _payload, batching, mime, rules
from seskit.errors import UnsupportedFeatureError
from seskit.message import (
    Address,
    AddressesInput,
    AddressInput,
    BulkEntry,
    Email,
    TagsInput,
    Template,
    TemplateDataInput,
    _address,
    _addresses,
    _tags,
)

if TYPE_CHECKING:
    from mypy_boto3_ses.type_defs import (
        BulkEmailDestinationTypeDef,
        SendBulkTemplatedEmailRequestTypeDef,
        SendEmailRequestTypeDef,
        SendRawEmailRequestTypeDef,
        SendTemplatedEmailRequestTypeDef,
    )

__all__ = [
    "send_bulk_templated_email",
    "send_bulk_templated_email_batches",
    "send_email",
    "send_raw_email",
    "send_templated_email",
]


def _refuse_mime_features(email: Email, builder: str, alternative: str) -> None:
    # The v1 model gives SendEmail's Message only Subject and Body, and SendTemplatedEmail no
    # content at all [M]: attachments and custom headers need a raw message (or v2).
    if email.attachments:
        raise _payload.refuse("attachments", "attachments", builder, alternative)
    if email.headers:
        raise _payload.refuse("headers", "custom headers", builder, alternative)


def _add_envelope(
    payload: SendEmailRequestTypeDef | SendTemplatedEmailRequestTypeDef,
    email: Email,
    configuration_set: str | None,
) -> None:
    """The optional members SendEmail and SendTemplatedEmail share, only those asked for."""
    if email.reply_to:
        payload["ReplyToAddresses"] = _payload.wire(email.reply_to)
    if email.return_path is not None:
        payload["ReturnPath"] = email.return_path.email
    if email.tags:
        payload["Tags"] = _payload.tags(email.tags)
    chosen_set = _payload.configuration_set(email, configuration_set)
    if chosen_set is not None:
        payload["ConfigurationSetName"] = chosen_set


def send_email(email: Email, *, configuration_set: str | None = None) -> SendEmailRequestTypeDef:
    """A ``SendEmail`` request: subject, text and/or html, to up to 50 recipients.

    v1 ``SendEmail`` has no custom headers or attachments: those raise `UnsupportedFeatureError`
    pointing to `send_raw_email` or `seskit.v2.send_email`. The assembled MIME message must fit
    in 10,485,760 bytes (`SizeError`).
    """
    if email.attachments or email.headers:
        _refuse_mime_features(email, "v1.send_email", "v1.send_raw_email or v2.send_email")
    subject, body, chars = _payload.simple_parts(email, "v1.send_email")
    payload: SendEmailRequestTypeDef = {
        "Source": email.sender.formatted,
        "Destination": _payload.destination(email.to, email.cc, email.bcc),
        "Message": {"Subject": subject, "Body": body},
    }
    _add_envelope(payload, email, configuration_set)
    if chars > _payload.SIMPLE_CHARS_V1 or email.reply_to:
        _payload.check_simple_size(email, limit=rules.MAX_MESSAGE_BYTES_V1, api="v1.send_email")
    return payload


def send_raw_email(
    email: Email, *, configuration_set: str | None = None
) -> SendRawEmailRequestTypeDef:
    """A ``SendRawEmail`` request: the email as MIME, with custom headers and attachments.

    ``Destinations`` is the envelope (To, Cc and Bcc; Bcc is not written into the headers);
    ``return_path`` becomes a ``Return-Path`` header. The size (≤ 10,485,760 bytes, on the MIME
    text) is checked before the message is encoded.
    """
    plan = mime.plan(email, return_path_header=True)
    rules.check_message_size(plan.size, limit=rules.MAX_MESSAGE_BYTES_V1, api="v1.send_raw_email")
    payload: SendRawEmailRequestTypeDef = {
        "RawMessage": {"Data": plan.to_bytes()},
        "Destinations": [address.email for address in email.recipients],
    }
    if email.tags:
        payload["Tags"] = _payload.tags(email.tags)
    chosen_set = _payload.configuration_set(email, configuration_set)
    if chosen_set is not None:
        payload["ConfigurationSetName"] = chosen_set
    return payload


def _stored_name(template: Template | str, builder: str) -> str:
    if isinstance(template, str):
        rules.check_template_name(template, field="template")
        return template
    if template.name is None:
        raise UnsupportedFeatureError(
            "template",
            "unsupported-feature",
            f"{builder} needs a stored template; send inline template content with "
            "v2.send_email(email, template=Template.inline(...))",
        )
    return template.name


def send_templated_email(
    email: Email,
    template: Template | str,
    data: TemplateDataInput = "{}",
    *,
    configuration_set: str | None = None,
) -> SendTemplatedEmailRequestTypeDef:
    """A ``SendTemplatedEmail`` request for a stored template and its data.

    The email gives sender, recipients, reply-to, return path and tags; its subject and bodies
    must be unset (they come from the template). ``data`` is a JSON object (text or mapping).
    """
    name = _stored_name(template, "v1.send_templated_email")
    _payload.refuse_content_for_template(email, "v1.send_templated_email")
    _refuse_mime_features(email, "v1.send_templated_email", "v2.send_email(template=...)")
    payload: SendTemplatedEmailRequestTypeDef = {
        "Source": email.sender.formatted,
        "Destination": _payload.destination(email.to, email.cc, email.bcc),
        "Template": name,
        "TemplateData": rules.template_data_json(data, field="data"),
    }
    _add_envelope(payload, email, configuration_set)
    return payload


def _bulk_destination(entry: BulkEntry, index: int) -> BulkEmailDestinationTypeDef:
    if entry.headers:
        raise _payload.refuse(
            f"entries[{index}].headers",
            "per-destination headers",
            "v1.send_bulk_templated_email",
            "v2.send_bulk_email",
        )
    destination: BulkEmailDestinationTypeDef = {
        "Destination": _payload.destination(entry.to, entry.cc, entry.bcc)
    }
    if entry.tags:
        destination["ReplacementTags"] = _payload.tags(entry.tags)
    if entry.replacement_data is not None:
        destination["ReplacementTemplateData"] = entry.replacement_data
    return destination


def send_bulk_templated_email(
    *,
    sender: AddressInput,
    template: Template | str,
    entries: Sequence[BulkEntry],
    default_data: TemplateDataInput = "{}",
    default_tags: TagsInput = (),
    reply_to: AddressesInput = (),
    return_path: AddressInput | None = None,
    configuration_set: str | None = None,
) -> SendBulkTemplatedEmailRequestTypeDef:
    """A ``SendBulkTemplatedEmail`` request: one stored template to 1-50 destinations.

    Each `BulkEntry` has its own recipients (≤ 50), replacement data and tags; v1 has no
    per-destination headers (use `seskit.v2.send_bulk_email`). For more than 50 entries use
    `send_bulk_templated_email_batches`.
    """
    rules.check_bulk_entry_count(len(entries))
    name = _stored_name(template, "v1.send_bulk_templated_email")
    payload: SendBulkTemplatedEmailRequestTypeDef = {
        "Source": _address(sender, "sender").formatted,
        "Template": name,
        "DefaultTemplateData": rules.template_data_json(default_data, field="default_data"),
        "Destinations": [_bulk_destination(entry, i) for i, entry in enumerate(entries)],
    }
    replies: tuple[Address, ...] = _addresses(reply_to, "reply_to")
    if replies:
        payload["ReplyToAddresses"] = _payload.wire(replies)
    if return_path is not None:
        payload["ReturnPath"] = _address(return_path, "return_path").email
    if configuration_set is not None:
        rules.check_configuration_set_name(configuration_set)
        payload["ConfigurationSetName"] = configuration_set
    if default_tags:
        payload["DefaultTags"] = _payload.tags(_tags(default_tags))
    return payload


def send_bulk_templated_email_batches(
    *,
    sender: AddressInput,
    template: Template | str,
    entries: Iterable[BulkEntry],
    default_data: TemplateDataInput = "{}",
    default_tags: TagsInput = (),
    reply_to: AddressesInput = (),
    return_path: AddressInput | None = None,
    configuration_set: str | None = None,
) -> list[SendBulkTemplatedEmailRequestTypeDef]:
    """`send_bulk_templated_email` for any number of entries: one request per 50 of them."""
    return [
        send_bulk_templated_email(
            sender=sender,
            template=template,
            entries=batch,
            default_data=default_data,
            default_tags=default_tags,
            reply_to=reply_to,
            return_path=return_path,
            configuration_set=configuration_set,
        )
        for batch in batching.entry_batches(entries)
    ]
