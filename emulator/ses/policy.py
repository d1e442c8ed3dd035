"""The checks SES makes before it accepts a send, in SES's order, each a named function.

`RULES` is the order. The docs (docs/emulator-rules.md) list the same names in the same
order; `tests/unit/emulator/test_policy.py` holds them to it. Each check raises
`emulator.ses.errors.SesError` carrying SES's v1 and v2 code, status and exact text
(ses-spec.md §2, §3, §5 and Appendix A; evidence tags beside each text).

Checks scoped ``"call"`` look at the whole request and fail the whole call. Checks scoped
``"message"`` (sandbox recipients, daily quota, send rate) judge each message on its own: for
a single send a refusal fails the call; in a bulk call it becomes that entry's status
(``MessageRejected`` / ``AccountDailyQuotaExceeded`` / ``AccountThrottled``, v2
``MESSAGE_REJECTED`` / ``ACCOUNT_DAILY_QUOTA_EXCEEDED`` / ``ACCOUNT_THROTTLED``) while the other
entries go. If *no* entry of a bulk call can go and every refusal is a throttling one, the call
fails with the operation-level throttling error instead ([I] ses-spec §5).

Nothing here takes tokens or counts a send: the quota and rate checks work on a `Budget` that
the pipeline commits only for what was accepted, so refused attempts never count.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from emulator._shortcache import short_string_cache
from emulator.config import Settings
from emulator.jsontext import dumps_writer
from emulator.ses import configsets, errors, identities, mime, simulator, templates, throttle
from emulator.ses.errors import SesError, Wire
from emulator.ses.state import AccountState, ConfigurationSet, Template
from seskit.rules import (
    FEEDBACK_ID_TAGS,
    MAX_ADDRESS_LENGTH,
    MAX_BULK_ENTRIES,
    MAX_HEADER_NAME_VALUE_LENGTH,
    MAX_MESSAGE_BYTES_V1,
    MAX_MESSAGE_BYTES_V2,
    MAX_RECIPIENTS,
    MAX_TAG_LENGTH,
    TAG_NAME_RE,
    TAG_VALUE_RE,
)

if TYPE_CHECKING:
    from emulator.ses.sending import SendRequest

__all__ = [
    "RULES",
    "SINGLE_OCCURRENCE_HEADERS",
    "BulkData",
    "Check",
    "Draft",
    "Refusal",
    "Rule",
    "address_problem",
    "bare_address",
    "check_account_sending_enabled",
    "check_configuration_set",
    "check_daily_quota",
    "check_message_size",
    "check_raw_message",
    "check_recipients",
    "check_request_constraints",
    "check_sandbox_recipients",
    "check_send_rate",
    "check_sender_verified",
    "check_tags",
    "check_template",
    "data_for_entry",
    "not_verified",
    "run",
]

# Headers a message may carry at most once (RFC 5322 §3.6 plus the MIME and List-* fields SES's
# "Header fields" page lists) [D]; a second occurrence is "Duplicate header 'X'." [O].
SINGLE_OCCURRENCE_HEADERS: Final = frozenset(
    {
        "date",
        "from",
        "sender",
        "reply-to",
        "to",
        "cc",
        "bcc",
        "message-id",
        "in-reply-to",
        "references",
        "subject",
        "return-path",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "list-unsubscribe",
        "list-unsubscribe-post",
    }
)

# SES refuses a header section that is "too long" [O] without documenting the size; 1 MiB is a
# conservative stand-in [I].
MAX_HEADER_SECTION_BYTES: Final = 1_048_576

# The v2 size limit has no observed error text; the v1 text with the v2 number is used [I].
_SIZE_TEXT: Final = "Message length is more than {limit} bytes long: '{size}'."

BulkStatus = tuple[str, str]  # (v1 status, v2 status) of a refused bulk entry


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why one message of a call was refused: the error, and its bulk-entry status."""

    error: SesError
    status: BulkStatus
    throttling: bool = False


@dataclass(slots=True, kw_only=True)
class Draft:
    """One message being checked (a bulk call has one per entry)."""

    # Tuples, which the stored record (`emulator.store.MessageRecord`) keeps as they are.
    to: tuple[str, ...]  # as given, display names kept
    cc: tuple[str, ...]
    bcc: tuple[str, ...]
    envelope: tuple[str, ...]  # envelope recipients as given
    recipients: tuple[str, ...]  # envelope recipients, bare addresses
    tags: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...] = ()
    template_data: str | None = None
    template_values: dict[str, Any] | None = None  # template_data parsed, when already known
    message_id: str = ""
    subject: str | None = None
    mime: bytes | None = None
    rendering_error: str | None = None
    refusal: Refusal | None = None
    simulator_count: int = 0  # envelope recipients that are mailbox-simulator addresses


@dataclass(slots=True, kw_only=True)
class Check:
    """Everything the checks read, and what they work out along the way."""

    request: SendRequest
    state: AccountState
    settings: Settings
    region: str
    now: float
    drafts: list[Draft]
    source: str | None  # the sender as given (Source, FromEmailAddress, or the From header)
    senders: list[str]  # every identity that must be verified, as given
    addresses: list[tuple[str, str]]  # (field, value) of every address to syntax-check
    configuration_set_name: str | None
    raw: mime.RawMessage | None = None
    configuration_set: ConfigurationSet | None = None
    template: Template | None = None
    budget: throttle.Budget | None = None
    judged: bool = False  # the quota and rate checks have judged every message

    @property
    def bulk(self) -> bool:
        """Is this a bulk call (one message per destination)?"""
        return self.request.bulk is not None


@dataclass(frozen=True, slots=True)
class Rule:
    """One entry of `RULES`: a check, whether it judges the call or each message, and docs."""

    name: str
    check: Callable[[Check], None]
    scope: Literal["call", "message"]
    summary: str


# -- helpers -------------------------------------------------------------------------------


def _refuse(check: Check, draft: Draft, refusal: Refusal) -> None:
    """A message-scoped refusal: the call's error for a single send, the entry's status in bulk."""
    if not check.bulk:
        raise refusal.error
    draft.refusal = refusal


def bare_address(address: str) -> str:
    """The address inside ``Name <addr>`` (or the address itself), without surrounding space."""
    text = address.strip()
    if text.endswith(">") and "<" in text:
        return text[text.rindex("<") + 1 : -1].strip()
    return text


# Character classes of `address_problem`, as regexes so a check is one C-level scan:
# a control character, space or anything outside printable ASCII; JavaMail's specials in an
# unquoted local part; and anything but a letter, digit, dot or dash in a domain.
_CONTROL_OR_SPACE: Final = re.compile(r"[^\x21-\x7e]")
_LOCAL_SPECIAL: Final = re.compile(r'[()<>,;:\\"\[\]@]')
_DOMAIN_ILLEGAL: Final = re.compile(r"[^A-Za-z0-9.\-]")

# `address_problem` depends only on its argument, and the same addresses come back call after
# call (the sender, a bulk call's list), so answers are kept in a bounded cache. Strings longer
# than any address SES accepts are judged without it, so no request can fill it with big keys.
_ADDRESS_CACHE_SIZE: Final = 8192
_CACHED_ADDRESS_LENGTH: Final = MAX_ADDRESS_LENGTH + 64


def _address_problem(address: str) -> str | None:
    """SES's (JavaMail-style) complaint about an address's syntax, or None if it is fine.

    Texts as SES returns them, without a trailing period [O] (ses-spec §2.2, Appendix A);
    the dot rules are JavaMail's ``InternetAddress`` texts [I].
    """
    text = address.strip()
    if "\r" in text or "\n" in text:
        # A line break anywhere (display name included) would end the header it is written in.
        return "Local address contains control or whitespace"
    if len(text) > MAX_ADDRESS_LENGTH:
        return f"Address length is more than {MAX_ADDRESS_LENGTH} characters long: '{text}'."
    bare = bare_address(text)
    at = bare.rfind("@")
    if at < 0:
        return "Missing final '@domain'"
    local, domain = bare[:at], bare[at + 1 :]
    if not local:
        return "Missing local name"
    if not domain:
        return "Missing domain"
    if _CONTROL_OR_SPACE.search(local):
        return "Local address contains control or whitespace"
    if _CONTROL_OR_SPACE.search(domain):
        return "Domain contains control or whitespace"
    if not (local.startswith('"') and local.endswith('"') and len(local) > 1):
        if _LOCAL_SPECIAL.search(local):
            return "Local address contains illegal character"
        if local.startswith("."):
            return "Local address starts with dot"
        if local.endswith("."):
            return "Local address ends with dot"
        if ".." in local:
            return "Local address contains dot-dot"
    if domain.startswith("[") and domain.endswith("]"):
        return None
    if _DOMAIN_ILLEGAL.search(domain):
        return "Domain contains illegal character"
    if domain.startswith("."):
        return "Domain starts with dot"
    if domain.endswith("."):
        return "Domain ends with dot"
    if ".." in domain:
        return "Domain contains dot-dot"
    return None


address_problem: Final = short_string_cache(
    _address_problem, maxsize=_ADDRESS_CACHE_SIZE, max_length=_CACHED_ADDRESS_LENGTH
)


def not_verified(failed: Sequence[str], region: str) -> SesError:
    """``MessageRejected``: the identities that failed, as given, region upper-cased [O]."""
    unique = list(dict.fromkeys(failed))
    return errors.message_rejected(
        "Email address is not verified. The following identities failed the check in region "
        f"{region.upper()}: {', '.join(unique)}"
    )


def _unverified_recipients(check: Check, draft: Draft) -> list[str]:
    failed = []
    for given, bare in zip(draft.envelope, draft.recipients, strict=True):
        if simulator.is_simulator(bare):
            continue
        if not identities.is_verified(check.state, bare, settings=check.settings):
            failed.append(given)
    return failed


def _size_error(check: Check, size: int) -> SesError | None:
    if check.request.api == "v1":
        counted = -(-size // 3) * 4 if check.settings.v1_size_counting == "base64" else size
        if counted > MAX_MESSAGE_BYTES_V1:
            return errors.bad_request(_SIZE_TEXT.format(limit=MAX_MESSAGE_BYTES_V1, size=counted))
        return None
    if size > MAX_MESSAGE_BYTES_V2:
        return errors.bad_request(_SIZE_TEXT.format(limit=MAX_MESSAGE_BYTES_V2, size=size))
    return None


# Headers SES writes itself on a message it builds (simple and templated sends).
_WRITTEN_HEADERS: Final = frozenset(
    {"from", "subject", "message-id", "date", "mime-version", "content-type"}
    | {"content-transfer-encoding"}
)


def _check_custom_headers(check: Check, draft: Draft) -> None:
    # A v2 custom header may not repeat a single-occurrence header, SES's own included:
    # "Duplicate header 'X'." as for raw messages [I].
    seen = set(_WRITTEN_HEADERS)
    for present, name in ((draft.to, "to"), (draft.cc, "cc"), (check.request.reply_to, "reply-to")):
        if present:
            seen.add(name)
    for name, _ in draft.headers:
        key = name.lower()
        if key in SINGLE_OCCURRENCE_HEADERS or key in _WRITTEN_HEADERS:
            if key in seen:
                raise errors.bad_request(f"Duplicate header '{name}'.")
            seen.add(key)


def _build_mime(
    check: Check, draft: Draft, subject: str | None, text: str | None, html: str | None
) -> bytes:
    request = check.request
    try:
        return mime.build_message(
            from_=check.source or "",
            to=draft.to,
            cc=draft.cc,
            reply_to=request.reply_to,
            subject=subject,
            text=text,
            html=html,
            message_id=mime.message_id_header(draft.message_id, check.region),
            date=mime.date_header(check.now),  # formatted once per second
            headers=draft.headers,
            attachments=request.attachments,
        )
    except ValueError as exc:  # a SEVEN_BIT attachment that is not 7-bit [I]
        raise errors.bad_request(f"Invalid attachment: {exc}.") from exc


# -- the checks, in SES's order ------------------------------------------------------------


def check_request_constraints(check: Check) -> None:
    """Members the model cannot express: a sender for built messages, v2 custom headers.

    v1 ``InvalidParameterValue`` / v2 ``BadRequestException`` 400, texts [I].
    """
    request = check.request
    if request.kind != "raw" and not check.source:
        member = "Source" if request.api == "v1" else "FromEmailAddress"
        raise errors.bad_request(f"Missing required parameter {member}.")
    for draft in check.drafts:
        for name, value in draft.headers:
            # v2 MessageHeader: name + value <= 996 characters [D] (ses-spec §2.1).
            if len(name) + len(value) > MAX_HEADER_NAME_VALUE_LENGTH:
                raise errors.bad_request(
                    f"Header '{name}' is too long: a header's name and value together must be "
                    f"{MAX_HEADER_NAME_VALUE_LENGTH} characters or fewer."
                )
        if draft.headers:  # with no custom header there is nothing to repeat
            _check_custom_headers(check, draft)


def _tag_problem(name: str, value: str) -> str | None:
    # Order and texts observed from SES [O] (ses-spec §2.3): name empty, value empty, name
    # length, name charset, value length, value charset. Only ses:feedback-id-a|b may carry
    # the "ses:" prefix [D].
    if not name:
        return "The tag name must be specified."
    if not value:
        return "The tag value must be specified."
    if len(name) > MAX_TAG_LENGTH:
        return f"Tag name cannot exceed {MAX_TAG_LENGTH} characters."
    if name not in FEEDBACK_ID_TAGS and not TAG_NAME_RE.fullmatch(name):
        return (
            f"Invalid tag name <{name}>: only alphanumeric ASCII characters, '_',  '-' are allowed."
        )
    if len(value) > MAX_TAG_LENGTH:
        return f"Tag value cannot exceed {MAX_TAG_LENGTH} characters."
    if not TAG_VALUE_RE.fullmatch(value):
        return (
            f"Invalid tag value <{value}>: only alphanumeric ASCII characters, '_',  '-' , "
            "'.', '@' are allowed."
        )
    return None


# Like addresses, the same few tags come back call after call: answers are kept in a bounded
# cache. A tag longer than SES allows is judged without it, so no request fills it with big keys.
_TAG_CACHE_SIZE: Final = 4096
_tag_problem_of: Final = short_string_cache(
    _tag_problem, maxsize=_TAG_CACHE_SIZE, max_length=MAX_TAG_LENGTH
)


def check_tags(check: Check) -> None:
    """Message tags, per tag in SES's order, and the per-message count cap.

    v1 ``InvalidParameterValue`` 400 with SES's texts [O]; v2 ``BadRequestException`` 400, same
    texts [I]. The count cap is ``settings.max_message_tags`` (no documented limit) [I].
    """
    cap = check.settings.max_message_tags
    fine: set[tuple[str, str]] = set()  # bulk entries share their default tags: judge each once
    for draft in check.drafts:
        for tag in draft.tags:
            if tag in fine:
                continue
            problem = _tag_problem_of(*tag)
            if problem is not None:
                raise errors.bad_request(problem)
            fine.add(tag)
        if cap is not None and len(draft.tags) > cap:
            raise errors.bad_request(f"Too many message tags: {len(draft.tags)}; at most {cap}.")


def check_recipients(check: Check) -> None:
    """Recipient counts and address syntax; one bad address refuses the whole call.

    Bulk: at most 50 destinations [D], each with 1-50 recipients. Single: 1-50 recipients
    across To+Cc+Bcc (raw: the envelope). v1 ``InvalidParameterValue`` 400 "Recipient count
    exceeds 50." [O]; no recipient in a raw message: "Missing required header 'To'." [O];
    an empty address: "Empty required header 'To'." [O]; address texts per `address_problem`.
    v2 ``BadRequestException`` 400 with the same texts [I].
    """
    request = check.request
    if request.bulk is not None:
        if not check.drafts:
            raise errors.bad_request("At least one destination is required.")  # [I]
        if len(check.drafts) > MAX_BULK_ENTRIES:
            raise errors.bad_request(  # [I]
                f"Number of destinations ({len(check.drafts)}) exceeds {MAX_BULK_ENTRIES}."
            )
    for draft in check.drafts:
        if not draft.envelope:
            if check.raw is not None and check.raw.get("To") is not None:
                raise errors.bad_request("Empty required header 'To'.")
            raise errors.bad_request("Missing required header 'To'.")
        if len(draft.envelope) > MAX_RECIPIENTS:
            raise errors.bad_request(f"Recipient count exceeds {MAX_RECIPIENTS}.")
    for member, value in check.addresses:
        if not value.strip():
            raise errors.bad_request(f"Empty required header '{member}'.")
        problem = address_problem(value)
        if problem is not None:
            raise errors.bad_request(problem)


def check_message_size(check: Check) -> None:
    """The encoded message's size: v1 10,485,760 bytes, v2 40 MB [D].

    v1 ``InvalidParameterValue`` 400 "Message length is more than 10485760 bytes long: 'N'."
    [O]; v2 ``BadRequestException`` 400 with the same text and the v2 limit [I]. Measured on the
    MIME message (raw: the decoded ``RawMessage.Data``); ``settings.v1_size_counting = base64``
    counts its base64 form instead [I]. Templated sends are measured once rendered, in
    `check_template`.
    """
    request = check.request
    if request.kind == "template":
        return
    if request.kind == "raw":
        assert request.raw is not None
        error = _size_error(check, len(request.raw))
        if error is not None:
            raise error
        return
    for draft in check.drafts:
        draft.subject = request.subject
        draft.mime = _build_mime(check, draft, request.subject, request.text, request.html)
        error = _size_error(check, len(draft.mime))
        if error is not None:
            raise error


def check_raw_message(check: Check) -> None:
    """Raw messages: header section size, single-occurrence headers, a From when no Source.

    v1 ``InvalidParameterValue`` 400 "Header section too long." [O] (limit [I]),
    "Duplicate header 'X'." (name as sent) [O], "Missing required header 'From'." [I];
    v2 ``BadRequestException`` 400, same texts [I].
    """
    raw = check.raw
    if raw is None:
        return
    if raw.header_size > MAX_HEADER_SECTION_BYTES:
        raise errors.bad_request("Header section too long.")
    seen: set[str] = set()
    for name in raw.names():
        key = name.lower()
        if key in SINGLE_OCCURRENCE_HEADERS:
            if key in seen:
                raise errors.bad_request(f"Duplicate header '{name}'.")
            seen.add(key)
    if not check.source:
        raise errors.bad_request("Missing required header 'From'.")


def check_account_sending_enabled(check: Check) -> None:
    """Account sending paused (UpdateAccountSendingEnabled / PutAccountSendingAttributes).

    v1 ``AccountSendingPausedException`` 400, v2 ``SendingPausedException`` 400 [M]; text [I].
    """
    if not check.state.sending_enabled:
        raise errors.sending_paused("Sending is paused for this account.")


def check_configuration_set(check: Check) -> None:
    """The configuration set exists and its sending is enabled.

    Missing: v1 ``ConfigurationSetDoesNotExist`` 400 "Configuration set <X> does not exist." [O],
    v2 ``NotFoundException`` 404 [M]. Paused: v1 ``ConfigurationSetSendingPausedException`` 400,
    v2 ``SendingPausedException`` 400 [M]; text [I].
    """
    name = check.configuration_set_name
    if name is None:
        return
    configuration_set = configsets.get_configuration_set(check.state, name)
    if not configuration_set.sending_enabled:
        raise errors.sending_paused(
            f"Sending is paused for configuration set {name}.", configuration_set=True
        )
    check.configuration_set = configuration_set


def check_template(check: Check) -> None:
    """The template exists; then each message is rendered and its size checked.

    Missing: v1 ``TemplateDoesNotExist`` 400 "Template X does not exist." [O], v2
    ``NotFoundException`` 404 [M]. Bad data or a missing variable does *not* fail the call:
    the message is accepted and recorded as a rendering failure, as SES does [D].
    """
    request = check.request
    if request.kind != "template":
        return
    if request.template_content is not None:
        template = request.template_content
    else:
        assert request.template_name is not None
        template = templates.get_template(check.state, request.template_name)
    check.template = template
    compiled = templates.CompiledTemplate(template)  # parsed once for every entry
    for draft in check.drafts:
        try:
            values = draft.template_values
            if values is None:
                values = templates.parse_data(draft.template_data or "{}")
            subject, text, html = compiled.render_parts(values)
        except templates.RenderingError as exc:
            draft.rendering_error = exc.message
            continue
        draft.subject = subject
        draft.mime = _build_mime(check, draft, subject, text, html)
        error = _size_error(check, len(draft.mime))
        if error is not None:
            if not check.bulk:
                raise error
            draft.refusal = Refusal(error, ("InvalidParameterValue", "INVALID_PARAMETER"))


def check_sender_verified(check: Check) -> None:
    """Source / From / Return-Path must be verified identities, sandbox or not [D].

    ``MessageRejected`` 400 "Email address is not verified. The following identities failed
    the check in region US-EAST-1: <list>" [O]. In the sandbox the list also names the
    unverified recipients [O].
    """
    failed = [
        sender
        for sender in check.senders
        if not identities.is_verified(check.state, bare_address(sender), settings=check.settings)
    ]
    if not failed:
        return
    if check.state.sandbox:
        for draft in check.drafts:
            failed.extend(_unverified_recipients(check, draft))
    raise not_verified(failed, check.region)


def check_sandbox_recipients(check: Check) -> None:
    """In the sandbox every recipient must be verified or a mailbox-simulator address [D].

    ``MessageRejected`` 400, the same text as `check_sender_verified`, listing the recipients
    as given [O]; bulk: that entry's status is ``MessageRejected`` / ``MESSAGE_REJECTED`` [I].
    """
    if not check.state.sandbox:
        return
    for draft in check.drafts:
        if draft.refusal is not None:
            continue
        failed = _unverified_recipients(check, draft)
        if failed:
            refusal = Refusal(
                not_verified(failed, check.region), ("MessageRejected", "MESSAGE_REJECTED")
            )
            _refuse(check, draft, refusal)


def _budget(check: Check) -> throttle.Budget:
    if check.budget is None:
        check.budget = throttle.open_budget(
            check.state, burst_seconds=check.settings.rate_burst_seconds, now=check.now
        )
    return check.budget


def check_daily_quota(check: Check) -> None:
    """Would this message's recipients exceed the rolling 24 h quota? [D]

    v1 ``Throttling`` 400 "Daily message quota exceeded." [O]; v2 per
    ``settings.daily_quota_v2_error``: ``LimitExceededException`` 400 (default) or
    ``TooManyRequestsException`` 429 [I]. Simulator recipients do not count [D].
    Bulk entry status ``AccountDailyQuotaExceeded`` / ``ACCOUNT_DAILY_QUOTA_EXCEEDED`` [M].

    This check and `check_send_rate` run together per message (`_judge_throughput`).
    """
    _judge_throughput(check)


def check_send_rate(check: Check) -> None:
    """Is there a token in the send-rate bucket? (see `emulator.ses.throttle`) [D]

    v1 ``Throttling`` 400 "Maximum sending rate exceeded." [O]; v2
    ``TooManyRequestsException`` 429, same text [O]. Every recipient counts, simulator ones
    too [D]. Bulk entry status ``AccountThrottled`` / ``ACCOUNT_THROTTLED`` [M].
    """
    _judge_throughput(check)


def _judge_throughput(check: Check) -> None:
    # Both limits judge one message at a time in request order (quota first, then rate), so
    # an entry refused by either takes nothing from the budget of the entries after it.
    if check.judged:
        return
    check.judged = True
    budget = _budget(check)
    for draft in check.drafts:
        if draft.refusal is not None:
            continue
        recipients = len(draft.recipients)
        verdict = budget.admit(
            rate_recipients=recipients, quota_recipients=recipients - draft.simulator_count
        )
        if verdict == "quota":
            refusal = Refusal(
                errors.daily_quota_exceeded(_quota_wire(check.settings)),
                ("AccountDailyQuotaExceeded", "ACCOUNT_DAILY_QUOTA_EXCEEDED"),
                throttling=True,
            )
        elif verdict == "rate":
            refusal = Refusal(
                errors.rate_exceeded(), ("AccountThrottled", "ACCOUNT_THROTTLED"), throttling=True
            )
        else:
            continue
        if not check.bulk:
            check.state.throttled_calls += 1
        _refuse(check, draft, refusal)


def _quota_wire(settings: Settings) -> Wire:
    code = settings.daily_quota_v2_error
    return Wire(code, 429 if code == "TooManyRequestsException" else 400)


RULES: Final[tuple[Rule, ...]] = (
    Rule(
        "request-constraints",
        check_request_constraints,
        "call",
        "sender present; v2 custom headers",
    ),
    Rule("message-tags", check_tags, "call", "tag names and values, in SES's order; count cap"),
    Rule(
        "recipients",
        check_recipients,
        "call",
        "1-50 recipients, <= 50 bulk entries, address syntax",
    ),
    Rule("message-size", check_message_size, "call", "10,485,760 bytes (v1) / 40 MB (v2) encoded"),
    Rule("raw-message", check_raw_message, "call", "header section size, duplicate headers, From"),
    Rule("account-sending-enabled", check_account_sending_enabled, "call", "account not paused"),
    Rule("configuration-set", check_configuration_set, "call", "exists and not paused"),
    Rule("template", check_template, "call", "template exists; render; rendered size"),
    Rule("verified-sender", check_sender_verified, "call", "Source/From/Return-Path verified"),
    Rule("sandbox-recipients", check_sandbox_recipients, "message", "sandbox: recipients verified"),
    Rule("daily-quota", check_daily_quota, "message", "rolling 24 h quota, in recipients"),
    Rule("send-rate", check_send_rate, "message", "token bucket at MaxSendRate recipients/s"),
)


def run(check: Check) -> None:
    """Apply `RULES` in order. Raises the first call-level error; marks refused bulk entries.

    A bulk call where no entry is accepted and every refusal is a throttling one fails as a
    whole with the first entry's error (the operation-level error SES returns when the whole
    call is refused up front [I]).
    """
    for rule in RULES:
        rule.check(check)
    if check.bulk and all(d.refusal is not None for d in check.drafts):
        refusals = [d.refusal for d in check.drafts if d.refusal is not None]
        if refusals and all(r.throttling for r in refusals):
            check.state.throttled_calls += 1
            raise refusals[0].error


def data_for_entry(default: str | None, replacement: str | None) -> str:
    """A bulk entry's template data: the default object with the replacement's keys on top.

    Invalid JSON in either (or JSON nested too deeply to read) is passed through unchanged, so
    rendering reports it (the message is then recorded as a rendering failure, as SES does) [D].
    """
    return BulkData(default).entry(replacement)[0]


# `json.loads` of a str is this decode after a check for a leading byte-order mark, which
# decode refuses as well (not JSON either way); calling it directly skips the wrapper.
_DECODER: Final = json.JSONDecoder()

_UNREAD: Final = object()  # BulkData's default not parsed yet
_UNREADABLE: Final = object()  # ... or not JSON (or too deeply nested to parse)


class BulkData:
    """One bulk call's template data: its default parsed once, each entry's merged over it.

    `entry` returns the entry's data as text (what is recorded, the same as `data_for_entry`)
    and, when it is known to be a JSON object, that object, so rendering need not parse the
    text again (``json.loads(json.dumps(obj)) == obj`` for any object ``json.loads`` makes).
    The objects share the default's values: readers must not change them.
    """

    __slots__ = ("_base", "_default")

    def __init__(self, default: str | None) -> None:
        self._default = default
        self._base: Any = _UNREAD

    def _parsed_default(self) -> Any:
        if self._base is _UNREAD:
            try:
                self._base = json.loads(self._default or "")
            except (ValueError, RecursionError):
                self._base = _UNREADABLE
        return self._base

    def entry(self, replacement: str | None) -> tuple[str, dict[str, Any] | None]:
        """``(data text, data object or None)`` for an entry with this replacement data."""
        if not replacement:
            if not self._default:
                return "{}", None
            base = self._parsed_default()
            return self._default, base if isinstance(base, dict) else None
        if not self._default:
            return replacement, None
        base = self._parsed_default()
        if not isinstance(base, dict):
            return replacement, None
        try:
            extra = _DECODER.decode(replacement)
        except (ValueError, RecursionError):
            return replacement, None
        if not isinstance(extra, dict):
            return replacement, None
        merged = {**base, **extra}
        try:
            return dumps_writer(merged), merged
        except RecursionError:  # nested deeper than json can write back: rendering reports it
            return replacement, None
