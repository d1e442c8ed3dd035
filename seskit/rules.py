"""SES's limits, each as a named constant citing where it comes from, and pure checks.

The emulator imports these numbers too, so SES's limits are written down once.
References: "ses-spec" is shared/ses-spec.md; "model" is botocore's bundled service model
(ses 2010-12-01, sesv2 2019-09-27); "quotas" is the SES developer guide's "Service quotas" page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Final, NoReturn

from seskit.errors import (
    AddressError,
    AttachmentError,
    HeaderError,
    RecipientError,
    SizeError,
    TagError,
    TemplateDataError,
    ValidationError,
)

# Unicode domains become Punycode with IDNA 2008 + UTS 46 (the `idna` package, which aiohttp
# already pulls in through yarl): IDNA 2003, the standard library's codec, maps "straße.de" to
# "strasse.de", a different domain. Without the package, the standard library's codec is used.
_idna_encode: Callable[..., bytes] | None
try:
    from idna import encode as _idna_encode
except ImportError:  # pragma: no cover - only without aiohttp's dependencies
    _idna_encode = None

__all__ = [
    "BLOCKED_ATTACHMENT_EXTENSIONS",
    "CONFIGURATION_SET_NAME_RE",
    "CONTENT_TYPE_RE",
    "FEEDBACK_ID_TAGS",
    "HEADER_NAME_RE",
    "HEADER_VALUE_RE",
    "MAX_ADDRESS_LENGTH",
    "MAX_ATTACHMENT_CONTENT_ID_LENGTH",
    "MAX_ATTACHMENT_CONTENT_TYPE_LENGTH",
    "MAX_ATTACHMENT_DESCRIPTION_LENGTH",
    "MAX_ATTACHMENT_FILENAME_LENGTH",
    "MAX_BULK_ENTRIES",
    "MAX_CONFIGURATION_SET_NAME_LENGTH",
    "MAX_DOMAIN_LABEL_LENGTH",
    "MAX_DOMAIN_LENGTH",
    "MAX_HEADERS_V2",
    "MAX_HEADER_NAME_LENGTH",
    "MAX_HEADER_NAME_VALUE_LENGTH",
    "MAX_HEADER_VALUE_LENGTH",
    "MAX_LINE_LENGTH",
    "MAX_MESSAGE_BYTES_V1",
    "MAX_MESSAGE_BYTES_V2",
    "MAX_RECIPIENTS",
    "MAX_TAG_LENGTH",
    "MAX_TEMPLATE_BYTES",
    "MAX_TEMPLATE_DATA_LENGTH",
    "MAX_TEMPLATE_NAME_LENGTH",
    "RESERVED_HEADER_NAMES",
    "SIMULATOR_DOMAIN",
    "TAG_NAME_RE",
    "TAG_VALUE_RE",
    "TEMPLATE_NAME_RE",
    "check_attachment",
    "check_bulk_entry_count",
    "check_configuration_set_name",
    "check_header",
    "check_header_count",
    "check_message_size",
    "check_no_line_break",
    "check_recipient_count",
    "check_tag",
    "check_template_name",
    "normalize_addr_spec",
    "template_data_json",
]

# Recipients per message, To+Cc+Bcc combined; and per bulk destination. [D] quotas page;
# v1 text "Recipient count exceeds 50." [O] (ses-spec §2.1).
MAX_RECIPIENTS: Final = 50
# Destinations (entries) per SendBulkTemplatedEmail / SendBulkEmail call. [D] (ses-spec §2.4).
MAX_BULK_ENTRIES: Final = 50

# Message size on the encoded MIME message. v1: 10 MB = 10,485,760 bytes, text
# "Message length is more than 10485760 bytes long: 'N'." [D][O]; v2: 40 MB [D] (ses-spec §2.1).
MAX_MESSAGE_BYTES_V1: Final = 10_485_760
MAX_MESSAGE_BYTES_V2: Final = 40 * 1024 * 1024

# Message tags: name [A-Za-z0-9_-], value also '.' and '@' (the service accepts them though the
# docs do not) [O]; 1-255 characters each [O] (ses-spec §2.3). Only these ses: tags may be set [D].
MAX_TAG_LENGTH: Final = 255
TAG_NAME_RE: Final = re.compile(r"[A-Za-z0-9_-]+")
TAG_VALUE_RE: Final = re.compile(r"[A-Za-z0-9_.@-]+")
FEEDBACK_ID_TAGS: Final = frozenset({"ses:feedback-id-a", "ses:feedback-id-b"})

# v2 custom headers (Simple.Headers, Template.Headers, ReplacementHeaders): model MessageHeaderList
# max 15; name 1-126, pattern ^[!-9;-@A-~]+$; value 1-995, [ -~]*; name+value <= 996 [M][D].
MAX_HEADERS_V2: Final = 15
MAX_HEADER_NAME_LENGTH: Final = 126
MAX_HEADER_VALUE_LENGTH: Final = 995
MAX_HEADER_NAME_VALUE_LENGTH: Final = 996
HEADER_NAME_RE: Final = re.compile(r"[!-9;-@A-~]+")
HEADER_VALUE_RE: Final = re.compile(r"[ -~]*")

# v2 Attachment.FileName max 255 [M].
MAX_ATTACHMENT_FILENAME_LENGTH: Final = 255

# TemplateData / DefaultTemplateData / ReplacementTemplateData max 262,144 characters [M].
MAX_TEMPLATE_DATA_LENGTH: Final = 262_144
MAX_TEMPLATE_NAME_LENGTH: Final = 64  # [D] template names: letters, digits, _ and -, <= 64

# Configuration set names: <= 64 characters of [A-Za-z0-9_-] [D] (ses-spec §2.5).
MAX_CONFIGURATION_SET_NAME_LENGTH: Final = 64
CONFIGURATION_SET_NAME_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")

# Addresses: whole "Name <addr>" <= 320 characters [O-weak]; DNS label <= 63, domain <= 255 [D].
MAX_ADDRESS_LENGTH: Final = 320
MAX_DOMAIN_LABEL_LENGTH: Final = 63
MAX_DOMAIN_LENGTH: Final = 255

# The mailbox simulator's domain [D] (ses-spec §4).
SIMULATOR_DOMAIN: Final = "simulator.amazonses.com"

# Attachments SES refuses to send, by file extension: "Unsupported attachment types" page of the
# SES developer guide [D] (ses-spec §2.1, v2 attachments row). Compared case-insensitively.
BLOCKED_ATTACHMENT_EXTENSIONS: Final = frozenset(
    {
        *("ade", "adp", "app", "asp", "bas", "bat", "cer", "chm", "cmd", "com", "cpl", "crt"),
        *("csh", "der", "exe", "fxp", "gadget", "hlp", "hta", "inf", "ins", "isp", "its", "js"),
        *("jse", "ksh", "lib", "lnk", "mad", "maf", "mag", "mam", "maq", "mar", "mas", "mat"),
        *("mau", "mav", "maw", "mda", "mdb", "mde", "mdt", "mdw", "mdz", "msc", "msh", "msh1"),
        *("msh2", "mshxml", "msh1xml", "msh2xml", "msi", "msp", "mst", "ops", "pcd", "pif"),
        *("plg", "prf", "prg", "reg", "scf", "scr", "sct", "shb", "shs", "sys", "ps1", "ps1xml"),
        *("ps2", "ps2xml", "psc1", "psc2", "tmp", "url", "vb", "vbe", "vbs", "vps", "vsmacros"),
        *("vss", "vst", "vsw", "vxd", "ws", "wsc", "wsf", "wsh", "xnk"),
    }
)
# v2 Attachment.ContentType and ContentId: 1-78 characters; ContentDescription <= 1000 [M].
MAX_ATTACHMENT_CONTENT_TYPE_LENGTH: Final = 78
MAX_ATTACHMENT_CONTENT_ID_LENGTH: Final = 78
MAX_ATTACHMENT_DESCRIPTION_LENGTH: Final = 1000
# A MIME type "type/subtype" made of RFC 2045 token characters (no parameters: seskit writes them).
CONTENT_TYPE_RE: Final = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+")

# Template names: letters, digits, _ and -, at most 64 characters [D] (CreateTemplate reference).
TEMPLATE_NAME_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Template text + HTML parts together <= 500 KB [D] (ses-spec §2.4); counted here in UTF-8 bytes
# with KB = 1024 bytes, the generous reading [I].
MAX_TEMPLATE_BYTES: Final = 500 * 1024

# RFC 5322 §2.1.1: a line is at most 998 characters plus CRLF; SES rejects longer lines [D].
MAX_LINE_LENGTH: Final = 998

# Headers seskit writes itself from Email fields (or that SES sets); a custom header with one of
# these names would duplicate a single-occurrence header, which SES rejects with
# "Duplicate header '<name>'." [O] (ses-spec §2.1). Lower-case for comparison.
RESERVED_HEADER_NAMES: Final = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "reply-to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "content-disposition",
        "return-path",
    }
)

# The local part of an unquoted address: RFC 5322 atext plus dots (dot placement checked apart).
_LOCAL_ATEXT_RE: Final = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_CONTROL_OR_SPACE_RE: Final = re.compile(r"[\x00-\x20\x7f]")
# A domain label after IDNA: LDH plus '_' (seen in real DNS names; SES accepts it [I]).
_DOMAIN_LABEL_RE: Final = re.compile(r"[A-Za-z0-9_-]+")
_CRLF_RE: Final = re.compile(r"[\r\n]")


def _fail(error: type[ValidationError], field: str, rule: str, message: str) -> NoReturn:
    raise error(field, rule, message)


def check_recipient_count(count: int, *, field: str) -> None:
    """Check the number of recipients of one message (To+Cc+Bcc together) or one bulk entry.

    ``field`` names where the count was taken. Raises `RecipientError` with rule
    ``min-recipients`` (none) or ``max-recipients`` (more than `MAX_RECIPIENTS`).
    """
    if count < 1:
        _fail(
            RecipientError,
            field,
            "min-recipients",
            "no recipients; SES needs at least one address in to, cc or bcc",
        )
    if count > MAX_RECIPIENTS:
        _fail(
            RecipientError,
            field,
            "max-recipients",
            f"{count} recipients across to, cc and bcc; SES allows at most {MAX_RECIPIENTS} "
            "per message (split the audience with seskit.batching)",
        )


def check_bulk_entry_count(count: int, *, field: str = "entries") -> None:
    """Check the number of destinations of one bulk call: 1 to `MAX_BULK_ENTRIES`.

    Raises `RecipientError` with rule ``min-bulk-entries`` or ``max-bulk-entries``.
    """
    if count < 1:
        _fail(RecipientError, field, "min-bulk-entries", "a bulk send needs at least one entry")
    if count > MAX_BULK_ENTRIES:
        _fail(
            RecipientError,
            field,
            "max-bulk-entries",
            f"{count} entries; SES allows at most {MAX_BULK_ENTRIES} per bulk call "
            "(split them with seskit.batching.entry_batches)",
        )


def check_tag(name: str, value: str, *, field: str) -> None:
    """Check one message tag in the order SES does (ses-spec §2.3).

    Name empty, value empty, name length, name charset, value length, value charset. Raises
    `TagError` with rule ``tag-empty``, ``tag-length`` or ``tag-charset``.
    """
    if not name:
        _fail(TagError, field, "tag-empty", "the tag name must not be empty")
    if not value:
        _fail(TagError, field, "tag-empty", f"the value of tag {name!r} must not be empty")
    if len(name) > MAX_TAG_LENGTH:
        _fail(
            TagError,
            field,
            "tag-length",
            f"tag names may be at most {MAX_TAG_LENGTH} characters (got {len(name)})",
        )
    if TAG_NAME_RE.fullmatch(name) is None and name not in FEEDBACK_ID_TAGS:
        bad = "".join(sorted({c for c in name if TAG_NAME_RE.fullmatch(c) is None}))
        allowed = "A-Z a-z 0-9 _ - (and the names ses:feedback-id-a, ses:feedback-id-b)"
        _fail(TagError, field, "tag-charset", f"tag names may contain only {allowed} (got {bad!r})")
    if len(value) > MAX_TAG_LENGTH:
        _fail(
            TagError,
            field,
            "tag-length",
            f"tag values may be at most {MAX_TAG_LENGTH} characters (got {len(value)})",
        )
    if TAG_VALUE_RE.fullmatch(value) is None:
        bad = "".join(sorted({c for c in value if TAG_VALUE_RE.fullmatch(c) is None}))
        _fail(
            TagError,
            field,
            "tag-charset",
            f"tag values may contain only A-Z a-z 0-9 _ - . @ (got {bad!r})",
        )


def check_header(name: str, value: str, *, field: str) -> None:
    """Check one custom header against SES v2's MessageHeader shape (model constraints).

    ``field`` is the header's position, e.g. ``headers[2]``; the error's field adds ``.name`` or
    ``.value``. Raises `HeaderError` with rule ``header-name`` or ``header-value``.
    """
    if not 1 <= len(name) <= MAX_HEADER_NAME_LENGTH:
        _fail(
            HeaderError,
            f"{field}.name",
            "header-name",
            f"header names must be 1-{MAX_HEADER_NAME_LENGTH} characters (got {len(name)})",
        )
    if HEADER_NAME_RE.fullmatch(name) is None:
        _fail(
            HeaderError,
            f"{field}.name",
            "header-name",
            f"header names may contain only printable ASCII except ':' and space (got {name!r})",
        )
    if name.lower() in RESERVED_HEADER_NAMES:
        _fail(
            HeaderError,
            f"{field}.name",
            "header-name",
            f"{name!r} is written from the Email's own fields (or by SES); set it there instead",
        )
    if not 1 <= len(value) <= MAX_HEADER_VALUE_LENGTH:
        _fail(
            HeaderError,
            f"{field}.value",
            "header-value",
            f"header values must be 1-{MAX_HEADER_VALUE_LENGTH} characters (got {len(value)})",
        )
    if HEADER_VALUE_RE.fullmatch(value) is None:
        _fail(
            HeaderError,
            f"{field}.value",
            "header-value",
            "header values may contain only printable ASCII and spaces (encode anything else "
            f"per RFC 2047 first) (got {value!r})",
        )
    if len(name) + len(value) > MAX_HEADER_NAME_VALUE_LENGTH:
        _fail(
            HeaderError,
            f"{field}.value",
            "header-value",
            f"a header's name and value together may be at most {MAX_HEADER_NAME_VALUE_LENGTH} "
            f"characters (got {len(name) + len(value)})",
        )


def check_header_count(count: int, *, field: str = "headers") -> None:
    """Check the number of custom headers of one v2 message: at most `MAX_HEADERS_V2`."""
    if count > MAX_HEADERS_V2:
        _fail(
            HeaderError,
            field,
            "header-count",
            f"{count} custom headers; SES v2 allows at most {MAX_HEADERS_V2} per message",
        )


def check_configuration_set_name(name: str, *, field: str = "configuration_set") -> None:
    """Check a configuration set name: 1-64 characters of A-Z a-z 0-9 _ -."""
    if CONFIGURATION_SET_NAME_RE.fullmatch(name) is None:
        _fail(
            ValidationError,
            field,
            "configuration-set-name",
            "configuration set names are 1-"
            f"{MAX_CONFIGURATION_SET_NAME_LENGTH} characters of A-Z a-z 0-9 _ - (got {name!r})",
        )


def check_template_name(name: str, *, field: str = "template.name") -> None:
    """Check a stored template name: 1-64 characters of A-Z a-z 0-9 _ -."""
    if TEMPLATE_NAME_RE.fullmatch(name) is None:
        _fail(
            ValidationError,
            field,
            "template-name",
            f"template names are 1-{MAX_TEMPLATE_NAME_LENGTH} characters of A-Z a-z 0-9 _ - "
            f"(got {name!r})",
        )


# json.dumps(data, ensure_ascii=False, separators=(",", ":")) without building an encoder per
# call (json.dumps reuses one only for its default arguments).
_json_text: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def template_data_json(data: str | Mapping[str, object], *, field: str) -> str:
    """Return template data as the JSON object text SES expects, checking it on the way.

    A mapping is serialised compactly (UTF-8 kept as is); a string must already be a JSON object.
    Raises `TemplateDataError` with rule ``template-data-json`` or ``template-data-length``.
    """
    if isinstance(data, str):
        text = data
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise TemplateDataError(
                field, "template-data-json", f"template data is not valid JSON ({exc})"
            ) from exc
        if not isinstance(parsed, dict):
            _fail(
                TemplateDataError,
                field,
                "template-data-json",
                f"template data must be a JSON object, not {type(parsed).__name__}",
            )
    else:
        try:
            text = _json_text(data)
        except (TypeError, ValueError) as exc:
            raise TemplateDataError(
                field, "template-data-json", f"template data cannot be written as JSON ({exc})"
            ) from exc
    if len(text) > MAX_TEMPLATE_DATA_LENGTH:
        _fail(
            TemplateDataError,
            field,
            "template-data-length",
            f"template data is {len(text)} characters; SES allows at most "
            f"{MAX_TEMPLATE_DATA_LENGTH}",
        )
    return text


def check_message_size(size: int, *, limit: int, api: str, field: str = "email") -> None:
    """Check an encoded MIME message size against the chosen API's limit.

    Raises `SizeError` with rule ``max-message-bytes``.
    """
    if size > limit:
        _fail(
            SizeError,
            field,
            "max-message-bytes",
            f"the encoded message is {size} bytes; {api} accepts at most {limit} bytes",
        )


def check_no_line_break(
    text: str, *, field: str, rule: str, error: type[ValidationError] = ValidationError
) -> None:
    """Refuse CR and LF where they would inject header lines (subjects, display names)."""
    if _CRLF_RE.search(text) is not None:
        _fail(error, field, rule, f"line breaks are not allowed here (got {text!r})")


def check_attachment(
    filename: str,
    content_type: str,
    content_id: str | None,
    description: str | None,
    *,
    field: str,
) -> None:
    """Check an attachment's name, type, content id and description (v2 Attachment shape).

    Raises `AttachmentError` with rule ``attachment-filename``, ``attachment-type``,
    ``attachment-content-type``, ``attachment-content-id`` or ``attachment-description``.
    """
    if not 1 <= len(filename) <= MAX_ATTACHMENT_FILENAME_LENGTH:
        _fail(
            AttachmentError,
            f"{field}.filename",
            "attachment-filename",
            f"file names must be 1-{MAX_ATTACHMENT_FILENAME_LENGTH} characters "
            f"(got {len(filename)})",
        )
    if (
        _CONTROL_CHAR_RE.search(filename) is not None
        or "/" in filename
        or "\\" in filename
        or filename != filename.strip()
    ):
        # Outer whitespace does not survive MIME parameter parsing, so the name would change.
        _fail(
            AttachmentError,
            f"{field}.filename",
            "attachment-filename",
            "file names may not contain control characters or path separators, nor start or "
            f"end with whitespace (got {filename!r})",
        )
    _, dot, extension = filename.rpartition(".")
    if dot and extension.lower() in BLOCKED_ATTACHMENT_EXTENSIONS:
        _fail(
            AttachmentError,
            f"{field}.filename",
            "attachment-type",
            f"SES does not send attachments of type .{extension} (see 'Unsupported attachment "
            "types' in the SES developer guide)",
        )
    if (
        len(content_type) > MAX_ATTACHMENT_CONTENT_TYPE_LENGTH
        or CONTENT_TYPE_RE.fullmatch(content_type) is None
    ):
        _fail(
            AttachmentError,
            f"{field}.content_type",
            "attachment-content-type",
            "content types are 'type/subtype' (at most "
            f"{MAX_ATTACHMENT_CONTENT_TYPE_LENGTH} characters, no parameters) "
            f"(got {content_type!r})",
        )
    if content_id is not None and (
        not 1 <= len(content_id) <= MAX_ATTACHMENT_CONTENT_ID_LENGTH
        or _CONTENT_ID_RE.fullmatch(content_id) is None
    ):
        _fail(
            AttachmentError,
            f"{field}.content_id",
            "attachment-content-id",
            f"content ids are 1-{MAX_ATTACHMENT_CONTENT_ID_LENGTH} printable ASCII characters "
            f"without spaces or angle brackets (got {content_id!r})",
        )
    if description is not None and (
        len(description) > MAX_ATTACHMENT_DESCRIPTION_LENGTH
        or _CONTROL_CHAR_RE.search(description) is not None
    ):
        _fail(
            AttachmentError,
            f"{field}.description",
            "attachment-description",
            f"descriptions are at most {MAX_ATTACHMENT_DESCRIPTION_LENGTH} characters without "
            "control characters",
        )


_CONTROL_CHAR_RE: Final = re.compile(r"[\x00-\x1f\x7f]")
_CONTENT_ID_RE: Final = re.compile(r"[!-;=?-~]+")


def normalize_addr_spec(addr: str, *, field: str) -> str:
    """Check a bare address (``local@domain``) the way SES does, and return it ready to send.

    The local part must be 7-bit ASCII (SES has no SMTPUTF8); a Unicode domain is converted to
    Punycode (IDNA 2008 with UTS 46 mapping). Checks mirror the JavaMail
    ``InternetAddress`` texts SES answers with (ses-spec §2.2). Raises `AddressError` with rule
    ``address-syntax``, ``address-charset`` or ``address-length``.
    """
    local, at, domain = addr.rpartition("@")
    if not at:
        _fail(AddressError, field, "address-syntax", f"missing final '@domain' in {addr!r}")
    if not local:
        _fail(AddressError, field, "address-syntax", f"missing local name in {addr!r}")
    if not domain:
        _fail(AddressError, field, "address-syntax", f"missing domain in {addr!r}")
    if not local.isascii():
        _fail(
            AddressError,
            field,
            "address-charset",
            "the local part (before '@') must be 7-bit ASCII; SES does not support SMTPUTF8 "
            f"(got {local!r})",
        )
    if len(local) >= 2 and local[0] == '"' and local[-1] == '"':
        if _CONTROL_CHAR_RE.search(local) is not None:
            _fail(
                AddressError,
                field,
                "address-syntax",
                f"local address contains control characters in {addr!r}",
            )
    else:
        if _CONTROL_OR_SPACE_RE.search(local) is not None:
            _fail(
                AddressError,
                field,
                "address-syntax",
                f"local address contains control or whitespace in {addr!r}",
            )
        if local[0] == "." or local[-1] == "." or ".." in local:
            _fail(
                AddressError,
                field,
                "address-syntax",
                f"local address may not start or end with '.' or contain '..' in {addr!r}",
            )
        if _LOCAL_ATEXT_RE.fullmatch(local) is None:
            _fail(
                AddressError,
                field,
                "address-syntax",
                f"local address contains an illegal character in {addr!r} (quote it, or use "
                "only letters, digits and !#$%&'*+/=?^_`{|}~.-)",
            )
    if not domain.isascii() and _CONTROL_OR_SPACE_RE.search(domain) is None:
        try:
            if _idna_encode is None:
                domain = domain.encode("idna").decode("ascii")
            else:
                domain = _idna_encode(domain, uts46=True).decode("ascii")
        except UnicodeError as exc:
            raise AddressError(
                field,
                "address-charset",
                f"the domain {domain!r} cannot be converted to Punycode ({exc})",
            ) from exc
    if _CONTROL_OR_SPACE_RE.search(domain) is not None:
        _fail(
            AddressError,
            field,
            "address-syntax",
            f"domain contains control or whitespace in {addr!r}",
        )
    if len(domain) > MAX_DOMAIN_LENGTH:
        _fail(
            AddressError,
            field,
            "address-length",
            f"domains may be at most {MAX_DOMAIN_LENGTH} characters (got {len(domain)})",
        )
    if not (domain[0] == "[" and domain[-1] == "]"):
        for label in domain.split("."):
            if not label:
                _fail(
                    AddressError,
                    field,
                    "address-syntax",
                    f"domain may not start or end with '.' or contain '..' in {addr!r}",
                )
            if len(label) > MAX_DOMAIN_LABEL_LENGTH:
                _fail(
                    AddressError,
                    field,
                    "address-length",
                    f"domain labels may be at most {MAX_DOMAIN_LABEL_LENGTH} characters "
                    f"(got {len(label)} in {label!r})",
                )
            if _DOMAIN_LABEL_RE.fullmatch(label) is None:
                _fail(
                    AddressError,
                    field,
                    "address-syntax",
                    f"domain contains illegal character in {addr!r} (labels are letters, "
                    "digits, '-' and '_')",
                )
    return f"{local}@{domain}"
