"""Builders for the SES v2 API (``boto3.client("sesv2")``): pure functions returning request dicts.

Each returns the mypy-boto3-sesv2 TypedDict of its operation, so ``client.send_email(**payload)``
is checked by ``mypy --strict``; none imports boto3. Only keys the caller asked for are emitted.

`send_email` builds all three kinds of v2 content: ``Simple`` (the default; custom headers and
attachments included), ``Raw`` (``raw=True``: seskit writes the MIME) and ``Template``
(``template=``: stored by name or inline).

>>> from seskit import Email, v2
>>> payload = v2.send_email(
...     Email(sender="shop@example.com", to="ana@example.com", subject="Hi", text="Hello")
... )
>>> payload["Content"]
{'Simple': {'Subject': {'Data': 'Hi'}, 'Body': {'Text': {'Data': 'Hello'}}}}
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
    Attachment,
    BulkEntry,
    Email,
    Header,
    TagsInput,
    Template,
    TemplateDataInput,
    _address,
    _addresses,
    _tags,
)

if TYPE_CHECKING:
    from mypy_boto3_sesv2.type_defs import (
        AttachmentTypeDef,
        BulkEmailEntryTypeDef,
        EmailContentTypeDef,
        EmailTemplateContentTypeDef,
        MessageHeaderTypeDef,
        MessageTypeDef,
        SendBulkEmailRequestTypeDef,
        SendEmailRequestTypeDef,
        TemplateTypeDef,
    )

__all__ = ["send_bulk_email", "send_bulk_email_batches", "send_email"]


def _headers(headers: tuple[Header, ...]) -> list[MessageHeaderTypeDef]:
    rules.check_header_count(len(headers))
    return [{"Name": header.name, "Value": header.value} for header in headers]


def _attachment(attachment: Attachment) -> AttachmentTypeDef:
    result: AttachmentTypeDef = {
        "RawContent": attachment.content,
        "FileName": attachment.filename,
        "ContentType": attachment.content_type,
    }
    if attachment.inline:
        result["ContentDisposition"] = "INLINE"
    if attachment.content_id is not None:
        result["ContentId"] = attachment.content_id
    if attachment.description is not None:
        result["ContentDescription"] = attachment.description
    return result


def _template(
    template: Template,
    data: TemplateDataInput | None,
    headers: tuple[Header, ...],
    attachments: tuple[Attachment, ...],
    *,
    data_field: str,
) -> TemplateTypeDef:
    result: TemplateTypeDef = {}
    if template.name is not None:
        result["TemplateName"] = template.name
    else:
        inline: EmailTemplateContentTypeDef = {}
        if template.subject is not None:
            inline["Subject"] = template.subject
        if template.text is not None:
            inline["Text"] = template.text
        if template.html is not None:
            inline["Html"] = template.html
        result["TemplateContent"] = inline
    if data is not None:
        result["TemplateData"] = rules.template_data_json(data, field=data_field)
    if headers:
        result["Headers"] = _headers(headers)
    if attachments:
        result["Attachments"] = [_attachment(a) for a in attachments]
    return result


def send_email(
    email: Email,
    *,
    raw: bool = False,
    template: Template | str | None = None,
    template_data: TemplateDataInput | None = None,
    configuration_set: str | None = None,
) -> SendEmailRequestTypeDef:
    """A v2 ``SendEmail`` request.

    - default: ``Content.Simple`` with subject, text and/or html, up to 15 custom headers and
      attachments (SES writes the MIME);
    - ``raw=True``: ``Content.Raw`` with the MIME written by `seskit.mime` (``Destination`` is
      the envelope, so Bcc works);
    - ``template=``: ``Content.Template``, stored (a name or `Template.stored`) or inline
      (`Template.inline`), with ``template_data`` (a JSON object, text or mapping); the email's
      headers and attachments go along, its subject and bodies must be unset.

    The encoded message must fit in 40 MB (`SizeError`).
    """
    if raw and template is not None:
        raise UnsupportedFeatureError(
            "template",
            "unsupported-feature",
            "a raw message cannot also use a template; choose raw=True or template=",
        )
    content: EmailContentTypeDef
    simple = template is None and template_data is None and not raw
    chars = 0
    if simple:
        subject, body, chars = _payload.simple_parts(email, "v2.send_email")
        message: MessageTypeDef = {"Subject": subject, "Body": body}
        if email.headers:
            message["Headers"] = _headers(email.headers)
        if email.attachments:
            message["Attachments"] = [_attachment(a) for a in email.attachments]
        content = {"Simple": message}
    elif template is not None:
        chosen = Template.stored(template) if isinstance(template, str) else template
        _payload.refuse_content_for_template(email, "v2.send_email(template=...)")
        content = {
            "Template": _template(
                chosen, template_data, email.headers, email.attachments, data_field="template_data"
            )
        }
    elif template_data is not None:
        raise UnsupportedFeatureError(
            "template_data",
            "unsupported-feature",
            "template_data needs template=; without a template there is nothing to fill in",
        )
    else:
        plan = mime.plan(email)
        rules.check_message_size(
            plan.size, limit=rules.MAX_MESSAGE_BYTES_V2, api="v2.send_email(raw=True)"
        )
        content = {"Raw": {"Data": plan.to_bytes()}}

    payload: SendEmailRequestTypeDef = {
        "FromEmailAddress": email.sender.formatted,
        "Destination": _payload.destination(email.to, email.cc, email.bcc),
        "Content": content,
    }
    if email.reply_to:
        payload["ReplyToAddresses"] = _payload.wire(email.reply_to)
    if email.return_path is not None:
        payload["FeedbackForwardingEmailAddress"] = email.return_path.email
    if email.tags:
        payload["EmailTags"] = _payload.tags(email.tags)
    chosen_set = _payload.configuration_set(email, configuration_set)
    if chosen_set is not None:
        payload["ConfigurationSetName"] = chosen_set
    if simple and (chars > _payload.SIMPLE_CHARS_V2 or email.reply_to or email.attachments):
        _payload.check_simple_size(email, limit=rules.MAX_MESSAGE_BYTES_V2, api="v2.send_email")
    return payload


def _entry(entry: BulkEntry) -> BulkEmailEntryTypeDef:
    result: BulkEmailEntryTypeDef = {
        "Destination": _payload.destination(entry.to, entry.cc, entry.bcc)
    }
    if entry.tags:
        result["ReplacementTags"] = _payload.tags(entry.tags)
    if entry.replacement_data is not None:
        result["ReplacementEmailContent"] = {
            "ReplacementTemplate": {"ReplacementTemplateData": entry.replacement_data}
        }
    if entry.headers:
        result["ReplacementHeaders"] = _headers(entry.headers)
    return result


def send_bulk_email(
    *,
    sender: AddressInput,
    template: Template | str,
    entries: Sequence[BulkEntry],
    default_data: TemplateDataInput | None = None,
    default_tags: TagsInput = (),
    reply_to: AddressesInput = (),
    return_path: AddressInput | None = None,
    configuration_set: str | None = None,
) -> SendBulkEmailRequestTypeDef:
    """A v2 ``SendBulkEmail`` request: one template (stored or inline) to 1-50 entries.

    Each `BulkEntry` has its own recipients (≤ 50), replacement data, tags and headers. For more
    than 50 entries use `send_bulk_email_batches`.
    """
    rules.check_bulk_entry_count(len(entries))
    chosen = Template.stored(template) if isinstance(template, str) else template
    payload: SendBulkEmailRequestTypeDef = {
        "FromEmailAddress": _address(sender, "sender").formatted,
        "DefaultContent": {
            "Template": _template(chosen, default_data, (), (), data_field="default_data")
        },
        "BulkEmailEntries": [_entry(entry) for entry in entries],
    }
    replies: tuple[Address, ...] = _addresses(reply_to, "reply_to")
    if replies:
        payload["ReplyToAddresses"] = _payload.wire(replies)
    if return_path is not None:
        payload["FeedbackForwardingEmailAddress"] = _address(return_path, "return_path").email
    if default_tags:
        payload["DefaultEmailTags"] = _payload.tags(_tags(default_tags))
    if configuration_set is not None:
        rules.check_configuration_set_name(configuration_set)
        payload["ConfigurationSetName"] = configuration_set
    return payload


def send_bulk_email_batches(
    *,
    sender: AddressInput,
    template: Template | str,
    entries: Iterable[BulkEntry],
    default_data: TemplateDataInput | None = None,
    default_tags: TagsInput = (),
    reply_to: AddressesInput = (),
    return_path: AddressInput | None = None,
    configuration_set: str | None = None,
) -> list[SendBulkEmailRequestTypeDef]:
    """`send_bulk_email` for any number of entries: one request per 50 of them."""
    return [
        send_bulk_email(
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
