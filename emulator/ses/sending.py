"""The send pipeline, one for every send operation of both APIs.

Handlers (`emulator.ses.send_ops`) turn v1 SendEmail / SendRawEmail / SendTemplatedEmail /
SendBulkTemplatedEmail and v2 SendEmail (Simple, Raw, Template) / SendBulkEmail into one
`SendRequest`. `send` then runs:

1. **prepare** — one `policy.Draft` per message (per bulk entry): envelope, tags, template data;
   raw messages have their header section read (`mime.RawMessage`), never their body;
2. **policy** — `policy.run` applies `policy.RULES` in SES's order (the template is rendered
   and the MIME built inside those checks, because SES measures size on the encoded message);
3. **throttle** — the send-rate bucket and the 24 h window are committed for what was accepted
   (refused attempts take nothing);
4. **record** — each accepted message becomes an `emulator.store.MessageRecord` with SES's
   ``Message-ID``/``Date``, its per-recipient simulator / suppression outcome and statistics.

MessageIds follow SES's observed format ``<4 hex><12 hex epoch ms>-<uuid4>-000000``
(ses-spec §6.16 [O]).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from emulator.ids import random_uuid, uuid4_text
from emulator.ses import mime, policy, simulator, throttle
from emulator.ses.context import RequestContext
from emulator.ses.errors import Api
from emulator.ses.state import AccountState, Template
from emulator.store import MessageRecord, Outcomes, SendKind

__all__ = [
    "STATISTICS_BUCKET_SECONDS",
    "BulkEntry",
    "Destination",
    "EntryResult",
    "SendRequest",
    "new_message_id",
    "send",
]

STATISTICS_BUCKET_SECONDS: Final = 900  # GetSendStatistics reports 15-minute intervals [D]

# Headers SES removes from raw messages before delivery [D] (ses-spec §2.3, §6.7), and the two it
# writes itself.
_STRIPPED_RAW_HEADERS: Final = frozenset(
    {
        "x-ses-configuration-set",
        "x-ses-message-tags",
        "x-ses-from-arn",
        "x-ses-source-arn",
        "x-ses-return-path-arn",
        "message-id",
        "date",
    }
)

Tags = tuple[tuple[str, str], ...]
Headers = tuple[tuple[str, str], ...]


def new_message_id(now: float) -> str:
    """A MessageId in SES's observed shape: ``0100`` + epoch ms (12 hex), a uuid4, ``-000000``."""
    return _message_ids(now, 1)[0]


def _message_ids(now: float, count: int) -> list[str]:
    """``count`` MessageIds for messages sent at ``now``, from one read of random bytes."""
    prefix = f"0100{int(now * 1000) & 0xFFFFFFFFFFFF:012x}-"
    if count == 1:  # every send but a bulk one
        return [f"{prefix}{uuid4_text(os.urandom(16).hex())}-000000"]
    hexes = os.urandom(16 * count).hex()
    return [f"{prefix}{uuid4_text(hexes[i : i + 32])}-000000" for i in range(0, 32 * count, 32)]


@dataclass(frozen=True, slots=True, kw_only=True)
class Destination:
    """To, Cc and Bcc as given (display names kept)."""

    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()

    @property
    def all(self) -> tuple[str, ...]:
        """Every recipient, To then Cc then Bcc."""
        return self.to + self.cc + self.bcc


@dataclass(frozen=True, slots=True, kw_only=True)
class BulkEntry:
    """One destination of SendBulkTemplatedEmail / SendBulkEmail."""

    destination: Destination
    template_data: str | None = None  # ReplacementTemplateData, merged over the default
    tags: Tags = ()  # ReplacementTags, merged over the default tags by name
    headers: Headers = ()  # v2 ReplacementHeaders, merged over the template's headers by name


@dataclass(slots=True, kw_only=True)
class SendRequest:
    """Every send operation of both APIs, normalized.

    ``kind`` says what carries the content: ``simple`` (subject/text/html), ``raw`` (``raw``
    bytes) or ``template`` (``template_name`` or inline ``template_content``, with
    ``template_data``). ``bulk`` is set for the bulk operations (always templated).

    Treat it as immutable: nothing changes a request once made. It is not a frozen dataclass
    only because one is made per send call, and a frozen one pays an ``object.__setattr__``
    for each of its 19 fields (about 1.2 µs a call, half the cost of building it).
    """

    api: Api
    operation: str
    kind: SendKind
    source: str | None = None
    destination: Destination | None = None  # None: raw without Destinations (use headers)
    reply_to: tuple[str, ...] = ()
    return_path: str | None = None
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    raw: bytes | None = None
    template_name: str | None = None
    template_content: Template | None = None
    template_data: str | None = None
    headers: Headers = ()
    attachments: tuple[mime.Attachment, ...] = ()
    tags: Tags = ()
    configuration_set: str | None = None
    bulk: tuple[BulkEntry, ...] | None = None

    def __post_init__(self) -> None:
        if self.kind == "raw" and self.raw is None:
            raise ValueError("a raw send needs the raw message bytes")
        if self.kind == "template" and (self.template_name is None) == (
            self.template_content is None
        ):
            raise ValueError("a templated send needs exactly one of a name or inline content")
        if self.bulk is not None and self.kind != "template":
            raise ValueError("bulk sends are templated")
        if self.kind != "raw" and self.bulk is None and self.destination is None:
            raise ValueError("a simple or templated send needs a destination")


@dataclass(frozen=True, slots=True)
class EntryResult:
    """What happened to one message: its MessageId, or why it was refused (bulk only)."""

    message_id: str | None
    refusal: policy.Refusal | None = None


@dataclass(slots=True)
class _Prepared:
    source: str | None
    senders: list[str]
    addresses: list[tuple[str, str]]
    configuration_set: str | None
    drafts: list[policy.Draft] = field(default_factory=list)
    raw: mime.RawMessage | None = None


def send(ctx: RequestContext, request: SendRequest) -> list[EntryResult]:
    """Check, throttle, record: one `EntryResult` per message (one for a non-bulk send).

    Raises `emulator.ses.errors.SesError` when SES would refuse the call.
    """
    state = ctx.state
    now = ctx.now
    prepared = _prepare(request, now)
    check = policy.Check(
        request=request,
        state=state,
        settings=ctx.backend.settings,
        region=ctx.region,
        now=now,
        drafts=prepared.drafts,
        source=prepared.source,
        senders=prepared.senders,
        addresses=prepared.addresses,
        configuration_set_name=prepared.configuration_set,
        raw=prepared.raw,
    )
    with state.lock:
        policy.run(check)
        if check.budget is not None:
            throttle.commit(state, check.budget, now=now)
    results: list[EntryResult] = []
    bulk_id = random_uuid() if request.bulk is not None else None
    shared = _Shared.of(ctx, check, bulk_id)
    point: dict[str, int] | None = None  # created with the first accepted message
    store = ctx.backend.store
    listeners = ctx.backend.record_listeners
    for draft in check.drafts:
        if draft.refusal is not None:
            results.append(EntryResult(None, draft.refusal))
            continue
        record = _record(shared, check, draft)
        store.add(record)
        if point is None:
            point = _statistics_point(state, now)
        _count_statistics(point, record)
        for listener in listeners:
            listener(record)
        results.append(EntryResult(record.id))
    return results


# -- prepare -------------------------------------------------------------------------------


def _draft(
    *,
    to: Sequence[str],
    cc: Sequence[str],
    bcc: Sequence[str],
    envelope: Sequence[str],
    tags: Tags,
    headers: Headers = (),
    template_data: str | None = None,
    template_values: dict[str, Any] | None = None,
    recipients: Sequence[str] | None = None,
    message_id: str,
) -> policy.Draft:
    # tuple() of a tuple is that tuple, and a destination with no Cc or Bcc has its To as its
    # envelope (`Destination.all`): with no display names either, the stored record's to and
    # recipients are one tuple.
    given = tuple(envelope)
    bare = tuple(recipients if recipients is not None else [policy.bare_address(a) for a in given])
    if bare == given:
        bare = given
    return policy.Draft(
        to=tuple(to),
        cc=tuple(cc),
        bcc=tuple(bcc),
        envelope=given,
        recipients=bare,
        tags=tuple(tags),
        headers=tuple(headers),
        template_data=template_data,
        template_values=template_values,
        message_id=message_id,
        simulator_count=sum(map(simulator.is_simulator, bare)),
    )


def _merge_by_name(base: Sequence[tuple[str, str]], extra: Sequence[tuple[str, str]]) -> Tags:
    # A replacement with the same name wins; names compare case-insensitively for headers and
    # exactly for tags, which is what callers expect of each ([I] SES documents neither).
    if not extra:
        return tuple(base)
    names = {name.lower() for name, _ in extra}
    return tuple([(n, v) for n, v in base if n.lower() not in names] + list(extra))


def _address_fields(request: SendRequest, source: str | None) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    if source is not None:
        fields.append(("From", source))
    fields.extend(("Reply-To", a) for a in request.reply_to)
    if request.return_path is not None:
        fields.append(("Return-Path", request.return_path))
    return fields


def _prepare(request: SendRequest, now: float) -> _Prepared:
    if request.kind == "raw":
        return _prepare_raw(request, now)
    source = request.source
    senders = [s for s in (source, request.return_path) if s]
    prepared = _Prepared(
        source=source,
        senders=senders,
        addresses=_address_fields(request, source),
        configuration_set=request.configuration_set,
    )
    addresses = prepared.addresses
    if request.bulk is None:
        # One message: the request's own destination, tags, headers and data.
        assert request.destination is not None
        dest = request.destination
        _add_destination(addresses, dest)
        prepared.drafts.append(
            _draft(
                to=dest.to,
                cc=dest.cc,
                bcc=dest.bcc,
                envelope=dest.all,
                tags=request.tags,
                headers=request.headers,
                template_data=request.template_data,
                message_id=new_message_id(now),
            )
        )
        return prepared
    entries = request.bulk
    bulk_data = policy.BulkData(request.template_data)  # the default is parsed once
    message_ids = _message_ids(now, len(entries))
    for entry, message_id in zip(entries, message_ids, strict=True):
        dest = entry.destination
        _add_destination(addresses, dest)
        template_data, template_values = bulk_data.entry(entry.template_data)
        prepared.drafts.append(
            _draft(
                to=dest.to,
                cc=dest.cc,
                bcc=dest.bcc,
                envelope=dest.all,
                tags=_merge_by_name(request.tags, entry.tags),
                headers=_merge_by_name(request.headers, entry.headers),
                template_data=template_data,
                template_values=template_values,
                message_id=message_id,
            )
        )
    return prepared


def _add_destination(addresses: list[tuple[str, str]], dest: Destination) -> None:
    """Add a destination's addresses, each with its field name, to the syntax-checked list."""
    addresses += [("To", a) for a in dest.to]
    if dest.cc:
        addresses += [("Cc", a) for a in dest.cc]
    if dest.bcc:
        addresses += [("Bcc", a) for a in dest.bcc]


def _header_tags(value: str) -> Tags:
    # X-SES-MESSAGE-TAGS: "name1=value1, name2=value2" [D]; used only when the call has no tags.
    tags = []
    for item in value.split(","):
        name, _, tag_value = item.strip().partition("=")
        if name or tag_value:
            tags.append((name.strip(), tag_value.strip()))
    return tuple(tags)


def _prepare_raw(request: SendRequest, now: float) -> _Prepared:
    assert request.raw is not None
    raw = mime.RawMessage.parse(request.raw)
    from_header = raw.get("From")
    source = request.source or from_header
    senders = [s for s in (request.source, from_header) if s]
    to = mime.parse_address_header(raw.get_all("To"))
    cc = mime.parse_address_header(raw.get_all("Cc"))
    bcc = mime.parse_address_header(raw.get_all("Bcc"))
    tags = request.tags
    if not tags:
        header = raw.get("X-SES-MESSAGE-TAGS")
        tags = _header_tags(header) if header else ()
    configuration_set = request.configuration_set or raw.get("X-SES-CONFIGURATION-SET")
    prepared = _Prepared(
        source=source,
        senders=list(dict.fromkeys(senders)),
        addresses=_address_fields(request, source),
        configuration_set=configuration_set or None,
        raw=raw,
    )
    if request.destination is not None:
        envelope = list(request.destination.all)
        recipients = None
        prepared.addresses.extend(("To", a) for a in envelope)
    else:
        envelope = [given for given, _ in to + cc + bcc]
        recipients = [bare for _, bare in to + cc + bcc]
        prepared.addresses.extend(("To", bare) for bare in recipients)
    prepared.drafts.append(
        _draft(
            to=[g for g, _ in to],
            cc=[g for g, _ in cc],
            bcc=[g for g, _ in bcc],
            envelope=envelope,
            recipients=recipients,
            tags=tags,
            message_id=new_message_id(now),
        )
    )
    return prepared


# -- record --------------------------------------------------------------------------------


def _suppressed_reasons(check: policy.Check) -> list[str] | None:
    options = check.configuration_set.suppression_options if check.configuration_set else None
    reasons = options.get("SuppressedReasons") if isinstance(options, dict) else None
    return list(reasons) if isinstance(reasons, list) else None


@dataclass(slots=True, kw_only=True)
class _Shared:
    """What every record of one call has in common, worked out once per call.

    Not frozen: it never leaves `send`, and a frozen dataclass pays an ``object.__setattr__``
    per field on every call.
    """

    account: str
    region: str
    source: str
    envelope_from: str
    template: str | None
    bulk_id: str | None
    suppressed_reasons: list[str] | None
    subject: str | None  # raw: the decoded Subject header
    reply_to: tuple[str, ...]  # shared by the call's records

    @classmethod
    def of(cls, ctx: RequestContext, check: policy.Check, bulk_id: str | None) -> _Shared:
        request = check.request
        template_name: str | None = None
        if request.kind == "template":
            template_name = (
                request.template_name if request.template_content is None else "<inline>"
            )
        subject: str | None = None
        reply_to = request.reply_to
        if check.raw is not None:
            header_subject = check.raw.get("Subject")
            subject = mime.decode_subject(header_subject) if header_subject is not None else None
            reply_to = tuple(g for g, _ in mime.parse_address_header(check.raw.get_all("Reply-To")))
        source = check.source or ""
        return cls(
            account=ctx.account_id,
            region=ctx.region,
            source=source,
            envelope_from=policy.bare_address(source),
            template=template_name,
            bulk_id=bulk_id,
            suppressed_reasons=_suppressed_reasons(check),
            subject=subject,
            reply_to=reply_to,
        )


def _record(shared: _Shared, check: policy.Check, draft: policy.Draft) -> MessageRecord:
    request = check.request
    now = check.now
    reasons = shared.suppressed_reasons
    state = check.state
    outcomes = Outcomes(
        draft.recipients,
        [
            simulator.outcome_for(rcpt, state, suppressed_reasons=reasons)
            for rcpt in draft.recipients
        ],
    )
    if check.raw is not None:
        raw_bytes = check.raw.rebuild(
            drop=_STRIPPED_RAW_HEADERS,
            add=(
                ("Message-ID", mime.message_id_header(draft.message_id, check.region)),
                ("Date", mime.date_header(now)),
            ),
        )
        subject = shared.subject
    else:
        raw_bytes = draft.mime or b""
        subject = draft.subject
    templated = request.kind == "template"
    return MessageRecord(
        id=draft.message_id,
        account=shared.account,
        region=shared.region,
        api=request.api,
        operation=request.operation,
        kind=request.kind,
        timestamp=now,
        source=shared.source,
        envelope_from=shared.envelope_from,
        to=draft.to,
        cc=draft.cc,
        bcc=draft.bcc,
        recipients=draft.recipients,
        reply_to=shared.reply_to,
        subject=subject,
        raw=raw_bytes,
        template=shared.template,
        template_data=draft.template_data if templated else None,
        tags=draft.tags,
        configuration_set=check.configuration_set_name,
        bulk_id=shared.bulk_id,
        outcomes=outcomes,
        status="rendering_failure" if draft.rendering_error is not None else "accepted",
        rendering_error=draft.rendering_error,
    )


def _statistics_point(state: AccountState, now: float) -> dict[str, int]:
    """The GetSendStatistics counters of ``now``'s 15-minute bucket (created empty if new)."""
    key = int(now // STATISTICS_BUCKET_SECONDS) * STATISTICS_BUCKET_SECONDS
    point = state.statistics.get(key)
    if point is None:
        point = {"DeliveryAttempts": 0, "Bounces": 0, "Complaints": 0, "Rejects": 0}
        state.statistics[key] = point
    return point


def _count_statistics(point: dict[str, int], record: MessageRecord) -> None:
    """GetSendStatistics counters (``point``: the send's 15-minute bucket), in recipients.

    Delivery attempts are the recipients of rendered messages; bounces include simulator and
    suppression-list bounces; a rendering failure counts as a reject [I]. Calls SES refused
    (4xx) count nowhere.
    """
    if record.status == "rendering_failure":
        point["Rejects"] += len(record.recipients)
        return
    point["DeliveryAttempts"] += len(record.recipients)
    for outcome in record.outcomes.values():
        if outcome in ("bounce", "suppressed"):
            point["Bounces"] += 1
        elif outcome == "complaint":
            point["Complaints"] += 1
