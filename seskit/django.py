"""A Django email backend that sends through Amazon SES with seskit's builders and `Sender`.

Point Django at it and every ``send_mail`` / ``EmailMessage.send()`` goes through SES::

    # settings.py
    EMAIL_BACKEND = "seskit.django.EmailBackend"
    SESKIT_REGION = "eu-west-1"
    SESKIT_CONFIGURATION_SET = "transactional"      # optional

Each Django message becomes the SES request that can carry it (docs/django.md has the details):

- text and/or one HTML alternative: v2 ``SendEmail`` ``Simple`` content (v1 ``SendEmail``);
- attachments: raw MIME written by `seskit.mime` (v2 ``Raw`` content, v1 ``SendRawEmail``);
- what seskit's `Email` cannot express (other alternative types, ``MIMEBase`` attachments,
  headers such as ``Message-ID`` or a ``To`` header that differs from the envelope): Django's
  own MIME, sent raw;
- ``message.template_id`` (a stored SES template) with ``merge_global_data``: one templated
  send; adding ``merge_data`` (per-recipient data) makes it a bulk send, one message per
  ``to`` address, like django-anymail's batch sends;
- ``message.tags`` and ``message.metadata`` (``{name: value}``) become SES message tags,
  checked on the way (a bad one raises `seskit.TagError` naming ``tags['…']`` or
  ``metadata['…']``); ``message.configuration_set`` overrides ``SESKIT_CONFIGURATION_SET``.

After a send, ``message.seskit_message_ids`` holds the SES message ids and
``message.seskit_status`` a `SendStatus` with one `RecipientStatus` per recipient. Errors are
seskit's: `seskit.ValidationError` before any call, a classified `seskit.SendError` (such as
`seskit.IdentityError` for an unverified sender) when SES refuses; ``fail_silently=True``
swallows both and the message does not count as sent.

This module is imported as ``seskit.django`` (it needs Django; seskit itself does not).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.mime.base import MIMEBase
from email.utils import getaddresses
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError

# Django ships no type information; django-stubs may or may not be installed next to it, so the
# ignore also tolerates being unneeded.
from django.conf import settings  # type: ignore[import-untyped, unused-ignore]
from django.core.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    ImproperlyConfigured,
)
from django.core.mail.backends.base import (  # type: ignore[import-untyped, unused-ignore]
    BaseEmailBackend,
)

from seskit import rules, v1, v2
from seskit.bulk import Api, ItemStatus, RunSummary, SendOptions, SendResult, client_api
from seskit.classify import classify
from seskit.errors import (
    SendError,
    SesKitError,
    TagError,
    UnsupportedFeatureError,
    ValidationError,
)
from seskit.message import Address, AddressInput, Attachment, BulkEntry, Email, Header, Tag
from seskit.sender import Sender, default_client

if TYPE_CHECKING:
    from mypy_boto3_ses.type_defs import SendRawEmailRequestTypeDef
    from mypy_boto3_sesv2.type_defs import DestinationTypeDef, SendEmailRequestTypeDef

__all__ = ["EmailBackend", "RecipientStatus", "SendStatus"]

# Of the headers a seskit `Email` writes from its own fields (rules.RESERVED_HEADER_NAMES),
# Django lets ``extra_headers`` set any. Reply-To and From map onto the Email's fields; the others
# make the backend send Django's own MIME, which writes them as the user asked.
_REPLY_TO: Final = "reply-to"
_FROM: Final = "from"


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipientStatus:
    """What happened to one recipient of a Django message.

    ``status`` is ``"sent"`` (SES accepted the message for this recipient; ``message_id`` is
    set), ``"rejected"`` (SES or seskit refused it; ``error`` says why) or ``"unsent"`` (never
    tried, because the bulk run stopped first, e.g. on a daily quota).
    """

    status: ItemStatus
    message_id: str | None = None
    error: SesKitError | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SendStatus:
    """The outcome of one Django message, stored on it as ``message.seskit_status``.

    ``message_ids`` are the SES message ids, in send order: one for a plain or templated send,
    one per ``to`` address for a send with ``merge_data``. ``recipients`` maps each bare
    recipient address (To, Cc and Bcc) to its `RecipientStatus`.
    """

    message_ids: tuple[str, ...]
    recipients: Mapping[str, RecipientStatus]

    @property
    def sent(self) -> bool:
        """True when SES accepted the message for at least one recipient."""
        return any(r.status == "sent" for r in self.recipients.values())


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def _text(value: str | bytes, encoding: str) -> str:
    return value.decode(encoding) if isinstance(value, bytes) else value


def _bytes(value: str | bytes, encoding: str) -> bytes:
    return value.encode(encoding) if isinstance(value, str) else value


def _listed(addresses: Iterable[object] | None) -> list[AddressInput]:
    # As Django's EmailMessage.recipients(): empty entries are skipped; str() for lazy strings.
    return [str(address) for address in addresses or () if address]


def _tag_items(value: object, name: str) -> Iterable[tuple[str, str]]:
    if value is None:
        return ()
    if isinstance(value, Mapping):
        return value.items()
    if isinstance(value, Iterable) and not isinstance(value, str | bytes):
        items = list(value)
        if all(isinstance(item, Tag) for item in items):
            return [(tag.name, tag.value) for tag in items]
    raise TypeError(
        f"message.{name}: SES message tags are name/value pairs; give a mapping "
        f"{{name: value}} (got {type(value).__name__})"
    )


def _message_tags(message: Any) -> tuple[Tag, ...]:
    """``message.metadata`` and ``message.tags`` as SES tags, errors naming the attribute."""
    tags: list[Tag] = []
    seen: dict[str, str] = {}
    for attribute in ("metadata", "tags"):
        for name, value in _tag_items(getattr(message, attribute, None), attribute):
            field = f"{attribute}[{name!r}]"
            if not isinstance(name, str) or not isinstance(value, str):
                raise TypeError(f"message.{field}: tag names and values must be str")
            if name in seen:
                raise TagError(
                    field,
                    "tag-duplicate",
                    f"tag {name!r} is set twice (message.{seen[name]} and message.{attribute})",
                )
            try:
                tags.append(Tag(name=name, value=value))
            except TagError as err:
                raise TagError(field, err.rule, err.message) from err
            seen[name] = attribute
    return tuple(tags)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Parts:
    """A Django message read into seskit values, before choosing the request."""

    email: Email  # addresses, tags, configuration set; content only when `simple`
    text: str | None
    html: str | None
    attachments: tuple[Attachment, ...]
    headers: tuple[Header, ...]
    # Django must write the MIME itself (something seskit's Email cannot say).
    django_mime: bool


class EmailBackend(BaseEmailBackend):  # type: ignore[misc, unused-ignore]  # Django is untyped
    """Django's email backend over SES: ``EMAIL_BACKEND = "seskit.django.EmailBackend"``.

    Settings (each overridable by the keyword of the same meaning, e.g.
    ``get_connection("seskit.django.EmailBackend", region_name="eu-west-1")``):

    - ``SESKIT_API`` / ``api``: ``"v2"`` (default) or ``"v1"``;
    - ``SESKIT_REGION`` / ``region_name``: the client's region;
    - ``SESKIT_ENDPOINT_URL`` / ``endpoint_url``: e.g. the emulator, ``http://127.0.0.1:4579``;
    - ``SESKIT_CLIENT_PARAMS`` / ``client_params``: more ``boto3.client`` keywords
      (credentials, ``config``);
    - ``SESKIT_CONFIGURATION_SET`` / ``configuration_set``: the default configuration set;
    - ``SESKIT_MAX_SEND_RATE`` / ``max_send_rate``: recipients per second for bulk sends; None
      (default) asks SES once (``GetAccount`` / ``GetSendQuota``), -1 does not pace.

    ``client=`` takes a ready boto3 ``ses`` / ``sesv2`` client instead (its service decides
    the API). `send_messages` returns how many messages SES accepted.
    """

    def __init__(
        self,
        fail_silently: bool = False,
        *,
        api: Api | None = None,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        client_params: Mapping[str, Any] | None = None,
        configuration_set: str | None = None,
        max_send_rate: float | None = None,
        client: object | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        chosen_api = api if api is not None else _setting("SESKIT_API", "v2")
        if chosen_api not in ("v1", "v2"):
            raise ImproperlyConfigured(f"SESKIT_API must be 'v1' or 'v2' (got {chosen_api!r})")
        params: dict[str, Any] = dict(_setting("SESKIT_CLIENT_PARAMS", None) or {})
        if client_params is not None:
            params.update(client_params)
        region = region_name if region_name is not None else _setting("SESKIT_REGION", None)
        if region is not None:
            params["region_name"] = region
        endpoint = (
            endpoint_url if endpoint_url is not None else _setting("SESKIT_ENDPOINT_URL", None)
        )
        if endpoint is not None:
            params["endpoint_url"] = endpoint
        chosen_set = (
            configuration_set
            if configuration_set is not None
            else _setting("SESKIT_CONFIGURATION_SET", None)
        )
        if chosen_set is not None:
            rules.check_configuration_set_name(chosen_set)
        self.configuration_set: str | None = chosen_set
        rate = (
            max_send_rate if max_send_rate is not None else _setting("SESKIT_MAX_SEND_RATE", None)
        )
        try:
            self._options = SendOptions(max_send_rate=rate)
        except ValueError as err:
            raise ImproperlyConfigured(f"SESKIT_MAX_SEND_RATE: {err}") from err
        self.api: Api = client_api(client) if client is not None else chosen_api
        self._client_params = params
        self._given_client = client
        self._sender: Sender | None = None
        self._lock = threading.RLock()

    # --- connection -------------------------------------------------------------------------

    def open(self) -> bool:
        """Create the boto3 client (once); True when this call created it."""
        with self._lock:
            if self._sender is not None:
                return False
            client = self._given_client
            if client is None:
                try:
                    client = default_client(self.api, **self._client_params)
                except BotoCoreError as err:  # e.g. NoRegionError: no region anywhere
                    if self.fail_silently:
                        return False
                    raise classify(err) from err
            self._sender = Sender(client, options=self._options, progress_bar=False)
            return True

    def close(self) -> None:
        """Forget the client this backend created (a given ``client=`` is the caller's)."""
        with self._lock:
            self._sender = None

    # --- sending ----------------------------------------------------------------------------

    def send_messages(self, email_messages: Sequence[Any]) -> int:
        """Send Django messages through SES; return how many SES accepted.

        A message SES accepted for at least one recipient counts. Each message gets
        ``seskit_status`` and ``seskit_message_ids``. Without ``fail_silently``, the first
        error is raised (messages before it are sent).
        """
        if not email_messages:
            return 0
        with self._lock:
            created = self.open()
            if self._sender is None:  # the client could not be made, and fail_silently is on
                return 0
            try:
                sent = 0
                for message in email_messages:
                    if not message.recipients():
                        continue
                    status = self._send_one(self._sender, message)
                    message.seskit_status = status
                    message.seskit_message_ids = list(status.message_ids)
                    if status.sent:
                        sent += 1
                return sent
            finally:
                if created:
                    self.close()

    def _send_one(self, sender: Sender, message: Any) -> SendStatus:
        recipients = _recipient_keys(message)
        try:
            if getattr(message, "template_id", None) is not None:
                return self._send_template(sender, message)
            result = sender.send(self._payload(message))
        except SesKitError as err:
            if not self.fail_silently:
                raise
            return SendStatus(
                message_ids=(),
                recipients={r: RecipientStatus(status="rejected", error=err) for r in recipients},
            )
        return SendStatus(
            message_ids=(result.message_id,),
            recipients={
                r: RecipientStatus(status="sent", message_id=result.message_id) for r in recipients
            },
        )

    # --- message → payload ------------------------------------------------------------------

    def _parts(self, message: Any) -> _Parts:
        encoding = message.encoding or settings.DEFAULT_CHARSET
        django_mime = False
        reply_to: list[AddressInput] = _listed(message.reply_to)
        sender = str(message.from_email)
        headers: list[Header] = []
        for index, (name, value) in enumerate((message.extra_headers or {}).items()):
            lowered = name.lower()
            if lowered == _REPLY_TO:
                # One header value, possibly several addresses (quoted names may hold commas).
                reply_to = [
                    Address(email=addr, name=name or None)
                    for name, addr in getaddresses([str(value)])
                    if addr
                ]
            elif lowered == _FROM:
                sender = str(value)
            elif lowered in rules.RESERVED_HEADER_NAMES:
                django_mime = True
            else:
                rules.check_header(name, str(value), field=f"extra_headers[{index}]")
                headers.append(Header(name=name, value=str(value)))

        body = _text(message.body or "", encoding)
        if not isinstance(body, str):  # a lazy translation string
            body = str(body)
        text: str | None = body
        html: str | None = None
        if message.content_subtype == "html":
            text, html = None, body
        for alternative in getattr(message, "alternatives", None) or ():
            content, mimetype = alternative
            if mimetype == "text/html" and html is None:
                html = _text(content, encoding)
            else:
                django_mime = True

        attachments: list[Attachment] = []
        for attachment in message.attachments or ():
            if isinstance(attachment, MIMEBase):
                django_mime = True
                continue
            filename, content, mimetype = attachment
            if not filename or mimetype.startswith("message/"):
                # No name, or a message Django re-encodes specially (RFC 2046 §5.2.1).
                django_mime = True
                continue
            attachments.append(
                Attachment(
                    filename=filename, content=_bytes(content, encoding), content_type=mimetype
                )
            )

        configuration_set = getattr(message, "configuration_set", None) or self.configuration_set
        email = Email(
            sender=sender,
            to=_listed(message.to),
            cc=_listed(message.cc),
            bcc=_listed(message.bcc),
            reply_to=reply_to,
            tags=_message_tags(message),
            configuration_set=configuration_set,
        )
        return _Parts(
            email=email,
            text=text,
            html=html,
            attachments=tuple(attachments),
            headers=tuple(headers),
            django_mime=django_mime,
        )

    def _payload(self, message: Any) -> Any:
        parts = self._parts(message)
        if parts.django_mime:
            return self._django_raw(message, parts.email)
        base = parts.email
        email = Email(
            sender=base.sender,
            to=base.to,
            cc=base.cc,
            bcc=base.bcc,
            reply_to=base.reply_to,
            subject=str(message.subject or ""),  # str(): it may be a lazy translation
            # SES needs a body part; an empty message still has an (empty) text part.
            text=parts.text if parts.text or parts.html is None else None,
            html=parts.html,
            headers=parts.headers,
            attachments=parts.attachments,
            tags=base.tags,
            configuration_set=base.configuration_set,
        )
        if self.api == "v2":
            return v2.send_email(email, raw=bool(email.attachments))
        if email.attachments or email.headers:
            return v1.send_raw_email(email)
        return v1.send_email(email)

    def _django_raw(
        self, message: Any, email: Email
    ) -> SendEmailRequestTypeDef | SendRawEmailRequestTypeDef:
        """Django's own MIME for the message, as a raw send to its envelope."""
        data: bytes = message.message().as_bytes(linesep="\r\n")
        if self.api == "v2":
            rules.check_message_size(
                len(data), limit=rules.MAX_MESSAGE_BYTES_V2, api="v2.send_email(raw=True)"
            )
            destination: DestinationTypeDef = {}
            if email.to:
                destination["ToAddresses"] = [a.email for a in email.to]
            if email.cc:
                destination["CcAddresses"] = [a.email for a in email.cc]
            if email.bcc:
                destination["BccAddresses"] = [a.email for a in email.bcc]
            payload: SendEmailRequestTypeDef = {
                "FromEmailAddress": email.sender.formatted,
                # Destination is the envelope of a raw send; Django wrote no Bcc header.
                "Destination": destination,
                "Content": {"Raw": {"Data": data}},
            }
            if email.tags:
                payload["EmailTags"] = [{"Name": t.name, "Value": t.value} for t in email.tags]
            if email.configuration_set is not None:
                payload["ConfigurationSetName"] = email.configuration_set
            return payload
        rules.check_message_size(
            len(data), limit=rules.MAX_MESSAGE_BYTES_V1, api="v1.send_raw_email"
        )
        raw: SendRawEmailRequestTypeDef = {
            "Source": email.sender.formatted,
            "Destinations": [address.email for address in email.recipients],
            "RawMessage": {"Data": data},
        }
        if email.tags:
            raw["Tags"] = [{"Name": t.name, "Value": t.value} for t in email.tags]
        if email.configuration_set is not None:
            raw["ConfigurationSetName"] = email.configuration_set
        return raw

    # --- templates --------------------------------------------------------------------------

    def _send_template(self, sender: Sender, message: Any) -> SendStatus:
        template: str = message.template_id
        rules.check_template_name(template, field="template_id")
        for name, value in (
            ("subject", message.subject),
            ("body", message.body),
            ("alternatives", getattr(message, "alternatives", None)),
        ):
            if value:
                raise UnsupportedFeatureError(
                    name,
                    "unsupported-feature",
                    f"a templated send takes its content from template {template!r}; "
                    f"leave message.{name} empty",
                )
        parts = self._parts(message)
        if parts.django_mime:
            raise UnsupportedFeatureError(
                "template_id",
                "unsupported-feature",
                "a templated send cannot carry MIMEBase attachments, unnamed attachments or "
                "headers seskit writes itself",
            )
        email = Email(
            sender=parts.email.sender,
            to=parts.email.to,
            cc=parts.email.cc,
            bcc=parts.email.bcc,
            reply_to=parts.email.reply_to,
            headers=parts.headers,
            attachments=parts.attachments,
            tags=parts.email.tags,
            configuration_set=parts.email.configuration_set,
        )
        global_data: Mapping[str, object] = getattr(message, "merge_global_data", None) or {}
        merge_data: Mapping[str, Mapping[str, object]] | None = getattr(message, "merge_data", None)
        if merge_data is None:
            payload: Any = (
                v2.send_email(email, template=template, template_data=global_data)
                if self.api == "v2"
                else v1.send_templated_email(email, template, global_data)
            )
            result: SendResult = sender.send(payload)
            return SendStatus(
                message_ids=(result.message_id,),
                recipients={
                    a.email: RecipientStatus(status="sent", message_id=result.message_id)
                    for a in email.recipients
                },
            )
        return self._send_batch(sender, email, template, global_data, merge_data)

    def _send_batch(
        self,
        sender: Sender,
        email: Email,
        template: str,
        global_data: Mapping[str, object],
        merge_data: Mapping[str, Mapping[str, object]],
    ) -> SendStatus:
        """One bulk send: a message per ``to`` address, each with its ``merge_data``."""
        for name in ("cc", "bcc", "attachments", "headers"):
            if getattr(email, name):
                raise UnsupportedFeatureError(
                    name,
                    "unsupported-feature",
                    f"a send with merge_data gives each 'to' address its own message; "
                    f"{name} cannot go with it (send without merge_data)",
                )
        data = _merge_data_by_address(merge_data)
        entries = [
            BulkEntry(to=[address], replacement_data=data.get(address.email.lower()))
            for address in email.to
        ]
        common: dict[str, Any] = {
            "sender": email.sender,
            "template": template,
            "entries": entries,
            "default_data": global_data,
            "default_tags": email.tags,
            "reply_to": email.reply_to,
            "configuration_set": email.configuration_set,
        }
        payloads: list[Any] = (
            list(v2.send_bulk_email_batches(**common))
            if self.api == "v2"
            else list(v1.send_bulk_templated_email_batches(**common))
        )
        summary: RunSummary = sender.send_many(payloads)
        statuses: dict[str, RecipientStatus] = {}
        for address, item in zip(email.to, summary.results, strict=True):
            statuses[address.email] = RecipientStatus(
                status=item.status, message_id=item.message_id, error=item.error
            )
        status = SendStatus(
            message_ids=tuple(r.message_id for r in summary.results if r.message_id is not None),
            recipients=statuses,
        )
        if not status.sent or summary.stopped_by is not None:
            error = summary.stopped_by or _first_error(statuses.values())
            if error is not None:
                if not self.fail_silently:
                    raise error
                return status
        return status


def _merge_data_by_address(
    merge_data: Mapping[str, Mapping[str, object]],
) -> dict[str, Mapping[str, object]]:
    # Keys are recipient addresses as the user wrote them (anymail's convention): bare or with
    # a display name; matched case-insensitively on the bare address.
    return {
        Address.parse(key, field=f"merge_data[{key!r}]").email.lower(): value
        for key, value in merge_data.items()
    }


def _recipient_keys(message: Any) -> list[str]:
    """Bare recipient addresses of a Django message; text seskit cannot parse stays as is."""
    keys: list[str] = []
    for text in message.recipients():
        try:
            keys.append(Address.parse(text).email)
        except ValidationError:
            keys.append(text)
    return keys


def _first_error(statuses: Iterable[RecipientStatus]) -> SendError | None:
    for status in statuses:
        if isinstance(status.error, SendError):
            return status.error
    return None
