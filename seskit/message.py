"""Transport-neutral values for one email: who it is from and to, what it says, how it is tagged.

Every value here is a frozen, slotted, keyword-only dataclass that checks SES's rules when it is
made, so an invalid one cannot exist. Constructors accept plain strings and dicts and normalise
them to typed values::

    >>> from seskit import Email
    >>> email = Email(
    ...     sender="Shop <shop@example.com>",
    ...     to=["ana@example.com"],
    ...     subject="Your order",
    ...     text="It has shipped.",
    ...     tags={"campaign": "orders"},
    ... )
    >>> email.to[0].email, email.tags[0].name
    ('ana@example.com', 'campaign')

Errors are `seskit.ValidationError` subclasses whose ``field`` is relative to the value being made
(``to[3]``, ``tags['a b']``, ``headers[2].name``, ``attachments[0].filename``).
"""

from __future__ import annotations

import mimetypes
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.utils import formataddr
from pathlib import Path
from typing import Any, Final, TypeAlias, TypeVar

from seskit import rules
from seskit.errors import (
    AddressError,
    AttachmentError,
    ValidationError,
)

__all__ = [
    "Address",
    "AddressInput",
    "AddressesInput",
    "Attachment",
    "BulkEntry",
    "Email",
    "Header",
    "HeadersInput",
    "Tag",
    "TagsInput",
    "Template",
    "TemplateDataInput",
]

# The common shape of an address, checked with one regex before the detailed checks run:
# dot-atom local part, LDH(+_) labels. Anything else takes the slow path in rules. The
# quantifiers are possessive (no backtracking; a fifth faster): no class matches '.' or '@',
# so giving characters back could never turn a failed match into a match.
_SIMPLE_ADDR_RE: Final = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]++(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]++)*+"
    r"@(?:[A-Za-z0-9_-]{1,63}+\.)*+[A-Za-z0-9_-]{1,63}+"
)


_Value = TypeVar("_Value")
_new_slots = object.__new__
_EMPTY: Final[tuple[()]] = ()  # the constructors' defaults: one identity test says "left unset"


def _remake(cls: type[_Value], fields: dict[str, Any]) -> _Value:
    """Unpickle (or copy) a value through its constructor, which checks it again."""
    return cls(**fields)


# Frozen dataclasses set every field with object.__setattr__, about 90 ns each here: for an
# Email's 13 fields, twice the cost of the whole payload dict. So each value class below keeps
# its fields in a plain slotted base (_EmailSlots, _BulkEntrySlots...); its __new__ fills
# an instance of that base with ordinary attribute stores (a few ns each), runs every check,
# and only then gives it the frozen class, whose __setattr__ refuses any change. The classes
# share their slots, so the class can change; nothing else ever sees a half-made value.


def _become(storage: Any, cls: type[_Value], fields: tuple[str, ...]) -> _Value:
    """Give filled, checked ``storage`` its frozen class ``cls``."""
    try:
        storage.__class__ = cls
    except TypeError:  # a subclass with a layout of its own (a __dict__, more slots): copy
        value = _new_slots(cls)
        for name in fields:
            object.__setattr__(value, name, getattr(storage, name))
        return value
    return storage  # type: ignore[no-any-return]  # now a cls


class _AddressSlots:
    """The storage of an `Address` (see `_become`)."""

    __slots__ = ("email", "formatted", "name")

    email: str
    name: str | None
    formatted: str


_ADDRESS_FIELDS: Final = ("email", "name", "formatted")


def _new_address(
    email: str, name: str | None, formatted: str, cls: type[Address] | None = None
) -> Address:
    # Values already checked by _checked.
    address = _new_slots(_AddressSlots)
    address.email = email
    address.name = name
    address.formatted = formatted
    if cls is None or cls is Address:  # (_become, written out for the most common case)
        address.__class__ = Address
        return address  # type: ignore[return-value]  # now an Address
    return _become(address, cls, _ADDRESS_FIELDS)


def _parse_address(text: str, field: str) -> Address:
    """`Address.parse` as a plain function (a class method call costs more, see _parse)."""
    text = text.strip()
    if text.endswith(">"):
        start = text.rfind("<")
        if start < 0:
            raise AddressError(field, "address-syntax", f"unbalanced '<' '>' in {text!r}")
        email = text[start + 1 : -1].strip()
        name = text[:start].strip()
        if len(name) >= 2 and name[0] == '"' and name[-1] == '"':
            name = re.sub(r"\\(.)", r"\1", name[1:-1])
        elif "=?" in name:
            # An RFC 2047 encoded-word name: keep the text, it is re-encoded on the wire.
            name = str(make_header(decode_header(name)))
    else:
        email, name = text, ""
    email, checked_name, formatted = _checked(email, name, field)
    return _new_address(email, checked_name, formatted)


def _checked(email: str, name: str | None, field: str) -> tuple[str, str | None, str]:
    if len(email) <= rules.MAX_DOMAIN_LENGTH and _SIMPLE_ADDR_RE.fullmatch(email) is not None:
        addr = email
    else:
        addr = rules.normalize_addr_spec(email, field=field)
    if name:
        rules.check_no_line_break(name, field=field, rule="address-syntax", error=AddressError)
        name = name.strip()  # outer whitespace does not survive a header anyway
    if name:
        formatted = formataddr((name, addr))  # RFC 2047 for non-ASCII, quoting for specials
    else:
        name = None
        formatted = addr
    if len(formatted) > rules.MAX_ADDRESS_LENGTH:
        raise AddressError(
            field,
            "address-length",
            f"addresses may be at most {rules.MAX_ADDRESS_LENGTH} characters as sent "
            f"(got {len(formatted)})",
        )
    return addr, name, formatted


@dataclass(frozen=True, kw_only=True, init=False)
class Address(_AddressSlots):
    """One email address, with an optional display name.

    ``email`` is the bare ``local@domain`` as sent (a Unicode domain is stored in Punycode);
    ``name`` the display name without outer whitespace (Unicode is fine: it is RFC 2047-encoded
    on the wire);
    ``formatted`` is the header form, ``"Name <local@domain>"`` or just the address.

    >>> Address.parse("Zoë <zoe@bücher.example>").formatted
    '=?utf-8?q?Zo=C3=AB?= <zoe@xn--bcher-kva.example>'
    """

    __slots__ = ()

    email: str
    name: str | None  # None by default (in __new__: a class-level default would hide the slot)
    formatted: str = field(init=False, repr=False, compare=False)

    def __new__(cls, *, email: str, name: str | None = None) -> Address:
        email, name, formatted = _checked(email, name, "address")
        return _new_address(email, name, formatted, cls)

    def __reduce__(self) -> tuple[Callable[..., Address], tuple[type[Address], dict[str, Any]]]:
        # Address.__new__ takes keywords, so pickle and copy rebuild through it (and check again).
        return _remake, (type(self), {"email": self.email, "name": self.name})

    @classmethod
    def parse(cls, text: str, *, field: str = "address") -> Address:
        """Parse ``"Name <local@domain>"``, ``"\\"Last, First\\" <a@b>"`` or a bare address.

        ``field`` is what a `ValidationError` names as the wrong field.
        """
        return _parse_address(text, field)

    def __str__(self) -> str:
        return self.formatted


AddressInput: TypeAlias = Address | str
"""An `Address`, or text `Address.parse` accepts."""
AddressesInput: TypeAlias = AddressInput | Iterable[AddressInput]
"""One address or several."""


# Parsed addresses by their text. Addresses are immutable and parsing is deterministic, so a
# repeated sender or recipient is checked once; the cache is bounded by starting over when full.
# Only successful parses are stored: a wrong address is parsed (and reported) every time.
_PARSED: dict[str, Address] = {}
_PARSED_MAX: Final = 4096
_PARSED_get = _PARSED.get


def _parse(text: str, field: str) -> Address:
    address = _parse_address(text, field)
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    _PARSED[text] = address
    return address


def _address(value: AddressInput, field: str) -> Address:
    if isinstance(value, Address):
        return value
    if isinstance(value, str):
        return _PARSED_get(value) or _parse(value, field)
    raise TypeError(f"{field}: expected an Address or str, got {type(value).__name__}")


def _addresses(value: AddressesInput, field: str) -> tuple[Address, ...]:
    if type(value) is list or type(value) is tuple:
        # The usual input, texts seen before: one lookup each. A plain loop, because it costs
        # less than a comprehension or map() for the few items a message has. A miss (new text,
        # an Address, another type) falls through to the loop below, which parses or names it.
        found = []
        try:
            for item in value:
                address = _PARSED_get(item)
                if address is None:
                    break
                found.append(address)
            else:
                return tuple(found)
        except TypeError:  # an unhashable item
            pass
    elif isinstance(value, (str, Address)):
        return (_address(value, f"{field}[0]"),)
    if not value:  # None, an empty set...: no addresses, as an empty list
        return _EMPTY
    result: list[Address] = []
    for index, item in enumerate(value):
        if isinstance(item, str):
            result.append(_PARSED_get(item) or _parse(item, f"{field}[{index}]"))
        else:
            result.append(_address(item, f"{field}[{index}]"))
    return tuple(result)


class _TagSlots:
    """The storage of a `Tag` (see `_become`)."""

    __slots__ = ("name", "value")

    name: str
    value: str


_TAG_FIELDS: Final = ("name", "value")
_tag_name_match = rules.TAG_NAME_RE.fullmatch
_tag_value_match = rules.TAG_VALUE_RE.fullmatch


@dataclass(frozen=True, kw_only=True, init=False)
class Tag(_TagSlots):
    """A message tag (SES ``MessageTag``), published with the message's sending events.

    Names: ``A-Z a-z 0-9 _ -`` (and ``ses:feedback-id-a`` / ``ses:feedback-id-b``); values also
    allow ``.`` and ``@``; each 1-255 characters.
    """

    __slots__ = ()

    name: str
    value: str

    def __new__(cls, *, name: str, value: str) -> Tag:
        return _new_tag(name, value, cls)

    def __reduce__(self) -> tuple[Callable[..., Tag], tuple[type[Tag], dict[str, Any]]]:
        # Tag.__new__ takes keywords, so pickle and copy rebuild through it (and check again).
        return _remake, (type(self), {"name": self.name, "value": self.value})


def _new_tag(name: str, value: str, cls: type[Tag] = Tag) -> Tag:
    # The common case in one pass; rules.check_tag gives the precise error otherwise.
    if not (
        0 < len(name) <= rules.MAX_TAG_LENGTH
        and 0 < len(value) <= rules.MAX_TAG_LENGTH
        and _tag_name_match(name) is not None
        and _tag_value_match(value) is not None
    ):
        rules.check_tag(name, value, field=f"tags[{name!r}]")
    tag = _new_slots(_TagSlots)
    tag.name = name
    tag.value = value
    return _become(tag, cls, _TAG_FIELDS)


TagsInput: TypeAlias = Mapping[str, str] | Iterable[Tag]
"""Tags as ``{"name": "value"}`` or as `Tag` values."""


# Tags by name, then value, for the same reason as _PARSED: campaigns reuse a handful of tags.
# Two lookups by string (whose hashes Python keeps) cost less than building a (name, value)
# key for each tag. Bounded like _PARSED, by the number of tags held.
_TAGS: dict[str, dict[str, Tag]] = {}
_TAGS_MAX: Final = 4096
_TAGS_get = _TAGS.get
_tags_held = 0


def _tag(name: str, value: str) -> Tag:
    global _tags_held
    by_value = _TAGS_get(name)
    tag = None if by_value is None else by_value.get(value)
    if tag is None:
        tag = _new_tag(name, value)
        if _tags_held >= _TAGS_MAX:
            _TAGS.clear()
            _tags_held = 0
            by_value = None
        if by_value is None:
            _TAGS[name] = by_value = {}
        by_value[value] = tag
        _tags_held += 1
    return tag


def _tags(value: TagsInput) -> tuple[Tag, ...]:
    if type(value) is dict:
        # Tags seen before: two lookups each (see _addresses); a miss takes the general path.
        found = []
        try:
            for name in value:
                by_value = _TAGS_get(name)
                if by_value is None:
                    break
                tag = by_value.get(value[name])
                if tag is None:
                    break
                found.append(tag)
            else:
                return tuple(found)
        except TypeError:  # an unhashable name or value; Tag() below says what is wrong
            pass
    if type(value) is dict or isinstance(value, Mapping):  # (the ABC check is slow)
        return tuple([_tag(name, tag_value) for name, tag_value in value.items()])
    tags = tuple(value)
    for index, tag in enumerate(tags):
        if not isinstance(tag, Tag):
            raise TypeError(f"tags[{index}]: expected a Tag, got {type(tag).__name__}")
    return tags


@dataclass(frozen=True, slots=True, kw_only=True)
class Header:
    """A custom header (SES v2 ``MessageHeader``; written verbatim into raw MIME).

    Names are printable ASCII without ``:``; values printable ASCII; at most 15 per v2 message.
    Headers seskit writes from `Email` fields (From, To, Subject, Content-Type…) are refused.
    """

    name: str
    value: str

    def __post_init__(self) -> None:
        rules.check_header(self.name, self.value, field=f"headers[{self.name!r}]")


HeadersInput: TypeAlias = Mapping[str, str] | Iterable[Header | tuple[str, str]]
"""Headers as ``{"Name": "value"}``, ``(name, value)`` pairs or `Header` values."""


def _headers(value: HeadersInput) -> tuple[Header, ...]:
    items: Iterable[Header | tuple[str, str]] = (
        value.items() if isinstance(value, Mapping) else value
    )
    headers: list[Header] = []
    for index, item in enumerate(items):
        if isinstance(item, Header):
            headers.append(item)
        else:
            name, header_value = item
            rules.check_header(name, header_value, field=f"headers[{index}]")
            headers.append(Header(name=name, value=header_value))
    return tuple(headers)


@dataclass(frozen=True, slots=True, kw_only=True)
class Attachment:
    """A file attached to an email, or an inline part referenced from HTML as ``cid:<content_id>``.

    ``content_type`` is guessed from ``filename`` when left empty (``application/octet-stream`` if
    nothing matches). Inline attachments need a ``content_id``; angle brackets around it are
    dropped.

    >>> Attachment(filename="logo.png", content=b"...", inline=True, content_id="logo").content_type
    'image/png'
    """

    filename: str
    content: bytes
    content_type: str = ""
    inline: bool = False
    content_id: str | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.content, bytes):
            raise TypeError(f"content must be bytes, got {type(self.content).__name__}")
        if not self.content_type:
            guessed, _ = mimetypes.guess_type(self.filename, strict=False)
            object.__setattr__(self, "content_type", guessed or "application/octet-stream")
        content_id = self.content_id
        if content_id is not None and content_id.startswith("<") and content_id.endswith(">"):
            content_id = content_id[1:-1]
            object.__setattr__(self, "content_id", content_id)
        if self.inline and content_id is None:
            raise AttachmentError(
                "attachment.content_id",
                "attachment-content-id",
                "inline attachments need a content_id (the HTML refers to it as cid:<id>)",
            )
        rules.check_attachment(
            self.filename,
            self.content_type,
            content_id,
            self.description,
            field="attachment",
        )

    @classmethod
    def from_path(
        cls,
        path: str | os.PathLike[str],
        *,
        filename: str | None = None,
        content_type: str = "",
        inline: bool = False,
        content_id: str | None = None,
        description: str | None = None,
    ) -> Attachment:
        """Read a file into an attachment named after it (or after ``filename``)."""
        file = Path(path)
        return cls(
            filename=file.name if filename is None else filename,
            content=file.read_bytes(),
            content_type=content_type,
            inline=inline,
            content_id=content_id,
            description=description,
        )


def _attachments(value: Iterable[Attachment]) -> tuple[Attachment, ...]:
    attachments = tuple(value)
    for index, attachment in enumerate(attachments):
        if not isinstance(attachment, Attachment):
            raise TypeError(
                f"attachments[{index}]: expected an Attachment, got {type(attachment).__name__}"
            )
    return attachments


_EMAIL_FIELDS: Final = (
    "sender",
    "to",
    "cc",
    "bcc",
    "reply_to",
    "subject",
    "text",
    "html",
    "headers",
    "attachments",
    "tags",
    "configuration_set",
    "return_path",
)


class _EmailSlots:
    """The storage of an `Email` (see `_become`)."""

    __slots__ = _EMAIL_FIELDS

    # For the type checker, while Email.__new__ fills them; Email declares the same fields.
    sender: Address
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    subject: str | None
    text: str | None
    html: str | None
    headers: tuple[Header, ...]
    attachments: tuple[Attachment, ...]
    tags: tuple[Tag, ...]
    configuration_set: str | None
    return_path: Address | None


@dataclass(frozen=True, kw_only=True, init=False)
class Email(_EmailSlots):
    """One message: sender, recipients, content, custom headers, attachments, tags.

    Everything but ``sender`` and one recipient is optional: templated sends take their subject
    and body from the `Template`, so an `Email` without ``subject``/``text``/``html`` is valid;
    the builders say when a send needs them. To, Cc and Bcc together hold 1-50 addresses.

    ``return_path`` is where SES forwards bounces and complaints (v1 ``ReturnPath``, v2
    ``FeedbackForwardingEmailAddress``, a ``Return-Path`` header in v1 raw mail).
    """

    __slots__ = ()

    sender: Address
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    subject: str | None
    text: str | None
    html: str | None
    headers: tuple[Header, ...]
    attachments: tuple[Attachment, ...]
    tags: tuple[Tag, ...]
    configuration_set: str | None
    return_path: Address | None

    def __new__(
        cls,
        *,
        sender: AddressInput,
        to: AddressesInput = (),
        cc: AddressesInput = (),
        bcc: AddressesInput = (),
        reply_to: AddressesInput = (),
        subject: str | None = None,
        text: str | None = None,
        html: str | None = None,
        headers: HeadersInput = (),
        attachments: Iterable[Attachment] = (),
        tags: TagsInput = (),
        configuration_set: str | None = None,
        return_path: AddressInput | None = None,
    ) -> Email:
        self = _new_slots(_EmailSlots)
        # Checked in field order, so the first wrong field is the one reported. An address field
        # left at its default costs one identity test; any other empty value (None too) means
        # no addresses, but "" is an (invalid) address to parse.
        found = _PARSED_get(sender) if type(sender) is str else None
        self.sender = found or _address(sender, "sender")
        count = 0
        if to is _EMPTY:
            self.to = _EMPTY
        else:
            self.to = addresses = _addresses(to, "to")
            count = len(addresses)
        if cc is _EMPTY:
            self.cc = _EMPTY
        else:
            self.cc = addresses = _addresses(cc, "cc")
            count += len(addresses)
        if bcc is _EMPTY:
            self.bcc = _EMPTY
        else:
            self.bcc = addresses = _addresses(bcc, "bcc")
            count += len(addresses)
        self.reply_to = _EMPTY if reply_to is _EMPTY else _addresses(reply_to, "reply_to")
        # isprintable() is one pass, false for CR and LF (and tabs...): only then look for them.
        if subject is not None and not subject.isprintable():
            rules.check_no_line_break(subject, field="subject", rule="subject-syntax")
        self.subject = subject
        self.text = text
        self.html = html
        self.headers = _headers(headers) if headers else _EMPTY
        self.attachments = _attachments(attachments) if attachments else _EMPTY
        self.tags = _tags(tags) if tags else _EMPTY
        if configuration_set is not None:
            rules.check_configuration_set_name(configuration_set)
        self.configuration_set = configuration_set
        self.return_path = None if return_path is None else _address(return_path, "return_path")
        if not 0 < count <= rules.MAX_RECIPIENTS or self.attachments:
            _check_email(self, count)
        if cls is Email:  # (_become, written out for the most common case)
            self.__class__ = Email
            return self  # type: ignore[return-value]  # now an Email
        return _become(self, cls, _EMAIL_FIELDS)

    def __reduce__(self) -> tuple[Callable[..., Email], tuple[type[Email], dict[str, object]]]:
        # Email.__new__ takes keywords, so pickle and copy rebuild through it (and check again).
        return _remake, (type(self), {name: getattr(self, name) for name in _EMAIL_FIELDS})

    @property
    def recipients(self) -> tuple[Address, ...]:
        """To, Cc and Bcc together, in that order (the SMTP envelope)."""
        return self.to + self.cc + self.bcc


def _check_email(email: _EmailSlots, count: int) -> None:
    """The checks of an Email beyond the common case (1-50 recipients, no attachments)."""
    if count > rules.MAX_RECIPIENTS:
        # Name the first recipient past the limit, wherever it falls.
        position = rules.MAX_RECIPIENTS
        for name in ("to", "cc", "bcc"):
            values: tuple[Address, ...] = getattr(email, name)
            if position < len(values):
                rules.check_recipient_count(count, field=f"{name}[{position}]")
            position -= len(values)
    rules.check_recipient_count(count, field="to")
    for index, attachment in enumerate(email.attachments):
        if attachment.inline and email.html is None:
            raise AttachmentError(
                f"attachments[{index}].inline",
                "attachment-inline",
                "inline attachments are referenced from the HTML body; this email has none",
            )


TemplateDataInput: TypeAlias = str | Mapping[str, object]
"""Template data: a JSON object as text, or a mapping seskit serialises."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Template:
    """A template: stored in SES by ``name``, or inline content (v2 only).

    >>> Template.stored("welcome").name
    'welcome'
    >>> Template.inline(subject="Hi {{name}}", text="Hello {{name}}").subject
    'Hi {{name}}'
    """

    name: str | None = None
    subject: str | None = None
    text: str | None = None
    html: str | None = None

    def __post_init__(self) -> None:
        has_content = self.subject is not None or self.text is not None or self.html is not None
        if self.name is not None:
            if has_content:
                raise ValidationError(
                    "template",
                    "template-content",
                    "a template is either stored (name) or inline (subject, text, html), not both",
                )
            rules.check_template_name(self.name)
            return
        if self.subject is None or (self.text is None and self.html is None):
            raise ValidationError(
                "template",
                "template-content",
                "a template needs a name, or inline content: a subject and a text and/or html part",
            )
        size = len(self.subject.encode()) + sum(
            len(part.encode()) for part in (self.text, self.html) if part is not None
        )
        if size > rules.MAX_TEMPLATE_BYTES:
            raise ValidationError(
                "template",
                "template-size",
                f"the template's parts are {size} bytes; SES allows at most "
                f"{rules.MAX_TEMPLATE_BYTES}",
            )

    @classmethod
    def stored(cls, name: str) -> Template:
        """A template stored in SES (CreateTemplate / CreateEmailTemplate)."""
        return cls(name=name)

    @classmethod
    def inline(cls, *, subject: str, text: str | None = None, html: str | None = None) -> Template:
        """Inline template content, sent with the message (v2 only)."""
        return cls(subject=subject, text=text, html=html)


_BULK_ENTRY_FIELDS: Final = ("to", "cc", "bcc", "replacement_data", "tags", "headers")


class _BulkEntrySlots:
    """The storage of a `BulkEntry` (see `_become`)."""

    __slots__ = _BULK_ENTRY_FIELDS

    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    replacement_data: str | None
    tags: tuple[Tag, ...]
    headers: tuple[Header, ...]


@dataclass(frozen=True, kw_only=True, init=False)
class BulkEntry(_BulkEntrySlots):
    """One destination of a bulk templated send: its recipients and what differs for them.

    ``replacement_data`` (JSON object text) overrides the call's default template data;
    ``tags`` are per-destination message tags; ``headers`` are v2 ``ReplacementHeaders``.
    """

    __slots__ = ()

    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    replacement_data: str | None
    tags: tuple[Tag, ...]
    headers: tuple[Header, ...]

    def __new__(
        cls,
        *,
        to: AddressesInput = (),
        cc: AddressesInput = (),
        bcc: AddressesInput = (),
        replacement_data: TemplateDataInput | None = None,
        tags: TagsInput = (),
        headers: HeadersInput = (),
    ) -> BulkEntry:
        self = _new_slots(_BulkEntrySlots)
        # As in Email.__new__: field order, and a default costs one identity test.
        self.to = _EMPTY if to is _EMPTY else _addresses(to, "to")
        self.cc = _EMPTY if cc is _EMPTY else _addresses(cc, "cc")
        self.bcc = _EMPTY if bcc is _EMPTY else _addresses(bcc, "bcc")
        self.replacement_data = (
            None
            if replacement_data is None
            else rules.template_data_json(replacement_data, field="replacement_data")
        )
        self.tags = _tags(tags) if tags else _EMPTY
        self.headers = _headers(headers) if headers else _EMPTY
        rules.check_recipient_count(len(self.to) + len(self.cc) + len(self.bcc), field="to")
        if self.headers:
            rules.check_header_count(len(self.headers))
        return _become(self, cls, _BULK_ENTRY_FIELDS)

    def __reduce__(
        self,
    ) -> tuple[Callable[..., BulkEntry], tuple[type[BulkEntry], dict[str, object]]]:
        # BulkEntry.__new__ takes keywords, so pickle and copy rebuild through it.
        return _remake, (type(self), {name: getattr(self, name) for name in _BULK_ENTRY_FIELDS})
