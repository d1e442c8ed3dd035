"""The one send engine both senders drive: pure generators that yield what to do next.

`Sender` (blocking) and `AsyncSender` (asyncio) share every decision: which operation a
payload needs, how many recipients it counts, how bulk entries are split into calls of at most
50, how long to wait before each call, what to do when SES throttles or a quota runs out, and
how the per-message results add up. That logic lives here, as generators that *yield* an
action and receive its outcome (the httpx "sans-I/O" trick):

- `Call` — make this client call; the driver sends back the response dict, or the botocore
  exception it raised (one of `~seskit.classify.CLASSIFIABLE_ERRORS`);
- `Calls` — make these calls concurrently (only when ``SendOptions.concurrency`` > 1); the
  driver sends back a tuple of outcomes in the same order;
- `Sleep` — wait this many seconds; the driver sends back None;
- `Progress` — report how far the run is; the driver passes it to the progress callbacks.

A driver is a dozen lines (see `seskit.sender.Sender`); a test can drive the generators with a
fake clock and scripted replies, no network or sleeping involved.

Retries: each call is retried by botocore (standard mode) as configured on the client. This
engine adds only a *slow* outer retry for throttling that survives botocore's retries: it drains
its token bucket, pauses, and tries the same call again until ``throttle_deadline`` passes.
Every other error is final for the message it belongs to, and a daily quota (or paused sending)
stops the run.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses
from typing import Any, Final, Literal, TextIO, TypeAlias

from seskit import v1, v2
from seskit.batching import batched
from seskit.classify import CLASSIFIABLE_ERRORS, classify, classify_bulk_status
from seskit.errors import (
    DailyQuotaExceededError,
    SendError,
    SendingPausedError,
    ThrottledError,
)
from seskit.message import Email
from seskit.ratelimit import DEFAULT_BURST_SECONDS, DEFAULT_SAFETY, SendQuota, TokenBucket
from seskit.rules import MAX_BULK_ENTRIES

__all__ = [
    "Action",
    "Api",
    "Call",
    "Calls",
    "ItemResult",
    "ItemStatus",
    "Progress",
    "ProgressBar",
    "ProgressCallback",
    "RunSummary",
    "SendOptions",
    "SendResult",
    "Sendable",
    "SenderBase",
    "Sleep",
    "as_payload",
    "client_api",
    "count_recipients",
    "operation_for",
    "reporter",
    "run_steps",
    "send_steps",
]

Api: TypeAlias = Literal["v1", "v2"]
#: What the senders accept: a request payload for the client's API (what `seskit.v1` /
#: `seskit.v2` builders return), or an `Email`, which they build into one.
Sendable: TypeAlias = Email | Mapping[str, Any]
ItemStatus: TypeAlias = Literal["sent", "rejected", "unsent"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    """Call ``client.<operation>(**params)`` and send back the response or the exception."""

    operation: str
    params: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Calls:
    """Make these calls concurrently; send back a tuple of their outcomes, in this order.

    Each outcome is what a `Call` would get back: the response dict or the botocore exception.
    Only runs with ``SendOptions.concurrency`` above 1 yield it.
    """

    calls: tuple[Call, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Sleep:
    """Wait ``seconds`` before the next action."""

    seconds: float

    def __post_init__(self) -> None:
        if not self.seconds >= 0:
            raise ValueError(f"seconds: must not be negative (got {self.seconds!r})")


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """How far a `send_many` run is. ``done`` counts items that have their final outcome."""

    done: int
    total: int
    sent: int
    rejected: int
    throttled: int
    recipients: int
    elapsed: float
    finished: bool = False

    @property
    def rate(self) -> float:
        """Recipients sent per second so far."""
        return self.recipients / self.elapsed if self.elapsed > 0 else 0.0


Action: TypeAlias = Call | Calls | Sleep | Progress
ProgressCallback: TypeAlias = Callable[[Progress], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class SendResult:
    """What SES answered to one accepted send."""

    message_id: str
    request_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemResult:
    """The outcome of one item of a run: one message, or one entry of a bulk payload.

    ``status`` is ``"sent"`` (SES accepted it; ``message_id`` is set), ``"rejected"`` (SES
    refused it for good; ``error`` says why) or ``"unsent"`` (never accepted because the run
    stopped first; ``error`` is set on the items of the call that hit the stop).
    """

    index: int
    status: ItemStatus
    recipients: int
    message_id: str | None = None
    request_id: str | None = None
    error: SendError | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSummary:
    """What a `send_many` run did, item by item, with totals.

    A run never raises for what SES answers. When a daily quota or paused sending stopped it,
    ``stopped_by`` holds that error and the items it never sent are ``"unsent"``;
    `raise_for_stop` turns that into an exception.
    """

    results: tuple[ItemResult, ...]
    throttled: int
    elapsed: float
    stopped_by: SendError | None = None

    @property
    def sent(self) -> int:
        """Items SES accepted."""
        return sum(1 for r in self.results if r.status == "sent")

    @property
    def rejected(self) -> int:
        """Items SES refused for good."""
        return sum(1 for r in self.results if r.status == "rejected")

    @property
    def unsent(self) -> int:
        """Items never accepted because the run stopped."""
        return sum(1 for r in self.results if r.status == "unsent")

    @property
    def recipients_sent(self) -> int:
        """Recipients of the accepted items: what SES counts against the quotas."""
        return sum(r.recipients for r in self.results if r.status == "sent")

    @property
    def achieved_rate(self) -> float:
        """Recipients sent per second of the run (0.0 for an instant or empty run)."""
        return self.recipients_sent / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def complete(self) -> bool:
        """True when every item got its final outcome (nothing left unsent)."""
        return self.stopped_by is None and self.unsent == 0

    def raise_for_stop(self) -> None:
        """Raise `stopped_by` if the run was stopped; do nothing otherwise."""
        if self.stopped_by is not None:
            raise self.stopped_by

    def __str__(self) -> str:
        text = (
            f"sent {self.sent}, rejected {self.rejected}, unsent {self.unsent}, "
            f"throttled {self.throttled}, {self.recipients_sent} recipients in "
            f"{self.elapsed:.2f}s ({self.achieved_rate:.1f}/s)"
        )
        if self.stopped_by is not None:
            text += f"; stopped by {type(self.stopped_by).__name__}: {self.stopped_by}"
        return text


_DEFAULT_STOP_ON: Final[tuple[type[SendError], ...]] = (
    DailyQuotaExceededError,
    SendingPausedError,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SendOptions:
    """How a sender paces and retries.

    - ``max_send_rate``: SES's maximum send rate in recipients per second; None asks SES once
      (``GetSendQuota`` / ``GetAccount``) before the first run; -1 means unlimited.
    - ``safety``: the fraction of that rate to aim for (SES may accept less, ses-spec §5).
    - ``burst_seconds``: how many seconds of the rate may go out at once.
    - ``throttle_deadline``: how long one call may keep being throttled (after botocore's own
      retries) before the run stops with the `ThrottledError`.
    - ``throttle_pause``: the shortest wait before trying a throttled call again.
    - ``stop_on``: errors that end the run, because every later message would fail too.
    - ``concurrency``: calls in flight at once (1: one after the other). The pace is the same;
      more calls in flight only hide each call's round trip. A boto3 client keeps at most
      ``max_pool_connections`` (10 by default) connections; raise it with the concurrency.
    """

    max_send_rate: float | None = None
    safety: float = DEFAULT_SAFETY
    burst_seconds: float = DEFAULT_BURST_SECONDS
    throttle_deadline: float = 300.0
    throttle_pause: float = 1.0
    stop_on: tuple[type[SendError], ...] = _DEFAULT_STOP_ON
    concurrency: int = 1

    def __post_init__(self) -> None:
        rate = self.max_send_rate
        if rate is not None and not (rate == -1 or rate > 0):
            raise ValueError(f"max_send_rate: must be positive or -1 (got {rate!r})")
        if not 0 < self.safety <= 1:
            raise ValueError(f"safety: must be in (0, 1] (got {self.safety!r})")
        if not self.burst_seconds >= 0:
            raise ValueError(f"burst_seconds: must not be negative (got {self.burst_seconds!r})")
        if not self.throttle_deadline >= 0:
            raise ValueError(
                f"throttle_deadline: must not be negative (got {self.throttle_deadline!r})"
            )
        if not self.throttle_pause >= 0:
            raise ValueError(f"throttle_pause: must not be negative (got {self.throttle_pause!r})")
        if self.concurrency < 1:
            raise ValueError(f"concurrency: must be at least 1 (got {self.concurrency!r})")

    def bucket(self, quota: SendQuota | None = None) -> TokenBucket:
        """The token bucket for ``max_send_rate``, or for the rate in ``quota``."""
        rate = self.max_send_rate if quota is None else quota.max_send_rate
        if rate is None:
            raise ValueError("max_send_rate: unknown; pass it or a SendQuota")
        return TokenBucket.for_rate(rate, safety=self.safety, burst_seconds=self.burst_seconds)


# --- payloads ---------------------------------------------------------------------------------


def client_api(client: object) -> Api:
    """Which SES API a boto3/aiobotocore client (or `seskit.testing` fake) speaks."""
    try:
        name = client.meta.service_model.service_name  # type: ignore[attr-defined]  # botocore client
    except AttributeError:
        raise TypeError(
            f"client: expected a boto3/aiobotocore 'ses' or 'sesv2' client (got {client!r})"
        ) from None
    if name == "ses":
        return "v1"
    if name == "sesv2":
        return "v2"
    raise TypeError(f"client: expected an 'ses' or 'sesv2' client (got a {name!r} client)")


def _entries_key(api: Api) -> str:
    # v1 SendBulkTemplatedEmail.Destinations, v2 SendBulkEmail.BulkEmailEntries [M].
    return "Destinations" if api == "v1" else "BulkEmailEntries"


def operation_for(api: Api, payload: Mapping[str, Any]) -> str:
    """The client method a request payload is for (``send_email``, ``send_bulk_email``…)."""
    if api == "v2":
        return "send_bulk_email" if "BulkEmailEntries" in payload else "send_email"
    if "RawMessage" in payload:
        return "send_raw_email"
    if "Template" in payload or "TemplateArn" in payload:
        # Only SendBulkTemplatedEmail has a list of destination objects.
        return "send_bulk_templated_email" if "Destinations" in payload else "send_templated_email"
    return "send_email"


def as_payload(api: Api, item: Sendable) -> Mapping[str, Any]:
    """The request payload for ``item``: itself, or an `Email` built for the client's API.

    An `Email` becomes v2 ``SendEmail`` (`seskit.v2.send_email`); for v1, ``SendEmail``, or
    ``SendRawEmail`` when it has attachments or custom headers, which only raw v1 can carry.
    """
    if not isinstance(item, Email):
        return item
    if api == "v2":
        return v2.send_email(item)
    if item.attachments or item.headers:
        return v1.send_raw_email(item)
    return v1.send_email(item)


def _is_bulk(operation: str) -> bool:
    return operation in {"send_bulk_email", "send_bulk_templated_email"}


def _destination_count(destination: Mapping[str, Any] | None) -> int:
    if not destination:
        return 0
    return sum(
        len(destination.get(k) or ()) for k in ("ToAddresses", "CcAddresses", "BccAddresses")
    )


def _header_recipients(data: bytes | str) -> int:
    # SES takes a raw message's recipients from its To/Cc/Bcc headers when the call names none
    # (ses-spec §6.7); a group counts each member.
    raw = data.encode("utf-8") if isinstance(data, str) else data
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw)
    values = [str(v) for k in ("To", "Cc", "Bcc") for v in headers.get_all(k, [])]
    return sum(1 for _, addr in getaddresses(values) if addr)


def count_recipients(api: Api, payload: Mapping[str, Any]) -> int:
    """Recipients one payload counts against SES's rate and quota (ses-spec §6.1)."""
    operation = operation_for(api, payload)
    if _is_bulk(operation):
        return sum(_destination_count(e.get("Destination")) for e in payload[_entries_key(api)])
    if api == "v1" and operation == "send_raw_email":
        if payload.get("Destinations"):
            return len(payload["Destinations"])
        return _header_recipients(payload["RawMessage"]["Data"])
    if api == "v2" and "Raw" in payload.get("Content", {}) and not payload.get("Destination"):
        return _header_recipients(payload["Content"]["Raw"]["Data"])
    return _destination_count(payload.get("Destination"))


@dataclass(frozen=True, slots=True, kw_only=True)
class _Job:
    """One call of a run and the items (global indexes) it carries."""

    operation: str
    params: Mapping[str, Any]
    items: tuple[int, ...]
    recipients: tuple[int, ...]
    throttled_since: float | None = None

    @property
    def bulk(self) -> bool:
        return _is_bulk(self.operation)

    @property
    def total_recipients(self) -> int:
        return sum(self.recipients)


def _plan(api: Api, items: Iterable[Sendable]) -> tuple[list[_Job], list[int]]:
    """Split payloads into calls; a bulk payload's entries become calls of at most 50."""
    jobs: list[_Job] = []
    recipients: list[int] = []
    for item in items:
        payload = as_payload(api, item)
        operation = operation_for(api, payload)
        if not _is_bulk(operation):
            jobs.append(
                _Job(
                    operation=operation,
                    params=payload,
                    items=(len(recipients),),
                    recipients=(count_recipients(api, payload),),
                )
            )
            recipients.append(jobs[-1].recipients[0])
            continue
        entries: Sequence[Mapping[str, Any]] = payload[_entries_key(api)]
        # SES takes at most 50 destinations per bulk call (rules.MAX_BULK_ENTRIES).
        for chunk in batched(entries, MAX_BULK_ENTRIES):
            counts = tuple(_destination_count(e.get("Destination")) for e in chunk)
            first = len(recipients)
            recipients.extend(counts)
            jobs.append(
                _Job(
                    operation=operation,
                    params={**payload, _entries_key(api): list(chunk)},
                    items=tuple(range(first, first + len(chunk))),
                    recipients=counts,
                )
            )
    return jobs, recipients


def _subset(api: Api, job: _Job, positions: Sequence[int], since: float) -> _Job:
    """The part of a bulk job made of the entries at ``positions`` (to try them again)."""
    entries = job.params[_entries_key(api)]
    return _Job(
        operation=job.operation,
        params={**job.params, _entries_key(api): [entries[p] for p in positions]},
        items=tuple(job.items[p] for p in positions),
        recipients=tuple(job.recipients[p] for p in positions),
        throttled_since=since,
    )


def _request_id(response: Mapping[str, Any]) -> str | None:
    meta: Mapping[str, Any] = response.get("ResponseMetadata", {})
    value = meta.get("RequestId")
    return str(value) if value else None


def _reply_error(reply: object) -> SendError | None:
    """The classified error a driver sent back, or None for a response dict."""
    if isinstance(reply, CLASSIFIABLE_ERRORS):
        return classify(reply)
    if isinstance(reply, Mapping):
        return None
    raise TypeError(f"a driver must send back a response dict or a botocore error (got {reply!r})")


# --- single sends -----------------------------------------------------------------------------


def send_steps(api: Api, item: Sendable) -> Generator[Action, object, SendResult]:
    """Send one message: one `Call`; raises the classified `SendError` if it fails."""
    payload = as_payload(api, item)
    operation = operation_for(api, payload)
    if _is_bulk(operation):
        raise ValueError(
            "payload: a bulk payload has one result per entry; send it with send_many()"
        )
    reply = yield Call(operation=operation, params=payload)
    error = _reply_error(reply)
    if error is not None:
        assert isinstance(reply, BaseException)  # _reply_error returned an error for it
        raise error from reply
    assert isinstance(reply, Mapping)
    return SendResult(message_id=str(reply["MessageId"]), request_id=_request_id(reply))


# --- runs -------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Tally:
    """The mutable bookkeeping of one run."""

    recipients: list[int]
    start: float
    results: dict[int, ItemResult] = field(default_factory=dict)
    throttled: int = 0
    sent: int = 0
    rejected: int = 0
    recipients_sent: int = 0

    def record(self, result: ItemResult) -> None:
        self.results[result.index] = result
        if result.status == "sent":
            self.sent += 1
            self.recipients_sent += result.recipients
        elif result.status == "rejected":
            self.rejected += 1

    def progress(self, now: float, *, finished: bool = False) -> Progress:
        return Progress(
            done=self.sent + self.rejected,
            total=len(self.recipients),
            sent=self.sent,
            rejected=self.rejected,
            throttled=self.throttled,
            recipients=self.recipients_sent,
            elapsed=max(0.0, now - self.start),
            finished=finished,
        )

    def summary(self, now: float, stopped_by: SendError | None) -> RunSummary:
        results = tuple(
            self.results.get(i) or ItemResult(index=i, status="unsent", recipients=n)
            for i, n in enumerate(self.recipients)
        )
        return RunSummary(
            results=results,
            throttled=self.throttled,
            elapsed=max(0.0, now - self.start),
            stopped_by=stopped_by,
        )


def _quota_steps(api: Api) -> Generator[Action, object, SendQuota | SendError]:
    """Ask SES for the account's quota: v1 GetSendQuota, v2 GetAccount."""
    reply = yield Call(operation="get_send_quota" if api == "v1" else "get_account", params={})
    error = _reply_error(reply)
    if error is not None:
        return error
    assert isinstance(reply, Mapping)
    return SendQuota.from_v1(reply) if api == "v1" else SendQuota.from_v2(reply)


def run_steps(
    api: Api,
    payloads: Iterable[Sendable],
    *,
    options: SendOptions,
    clock: Callable[[], float],
    bucket: TokenBucket | None = None,
    on_bucket: Callable[[TokenBucket], None] | None = None,
) -> Generator[Action, object, RunSummary]:
    """Send every payload, paced by ``bucket`` (or one built from SES's quota), and summarise.

    ``bucket`` lets a sender keep one bucket across runs (two runs back to back must not both
    spend the burst); ``on_bucket`` receives the bucket built when none was passed.
    The run's clock starts after the quota lookup, when the first send is about to be paced.
    """
    jobs, recipients = _plan(api, payloads)
    if bucket is None and jobs:
        if options.max_send_rate is None:
            quota = yield from _quota_steps(api)
            if isinstance(quota, SendError):
                now = clock()
                return _Tally(recipients=recipients, start=now).summary(now, quota)
            bucket = options.bucket(quota)
        else:
            bucket = options.bucket()
        if on_bucket is not None:
            on_bucket(bucket)
    if bucket is None:  # nothing to send, so nothing to pace
        bucket = TokenBucket.for_rate(-1)
    run = _Run(api=api, options=options, clock=clock, bucket=bucket)
    return (yield from run.steps(jobs, recipients))


@dataclass(slots=True, kw_only=True)
class _Run:
    """One `run_steps` run: the fixed context its steps share."""

    api: Api
    options: SendOptions
    clock: Callable[[], float]
    bucket: TokenBucket
    tally: _Tally = field(init=False)
    stopped_by: SendError | None = field(init=False, default=None)

    def steps(
        self, jobs: Iterable[_Job], recipients: list[int]
    ) -> Generator[Action, object, RunSummary]:
        self.tally = _Tally(recipients=recipients, start=self.clock())
        queue = deque(jobs)
        yield self.tally.progress(self.tally.start)
        while queue and self.stopped_by is None:
            # Reserve tokens for up to `concurrency` calls; they all go once the last one may.
            now = self.clock()
            batch: list[_Job] = []
            wait = 0.0
            while queue and len(batch) < self.options.concurrency:
                job = queue.popleft()
                wait = max(wait, self.bucket.acquire(job.total_recipients, now))
                batch.append(job)
            if wait > 0:
                yield Sleep(seconds=wait)
            calls = tuple(Call(operation=j.operation, params=j.params) for j in batch)
            replies = yield (calls[0] if len(calls) == 1 else Calls(calls=calls))
            if len(calls) == 1:
                replies = (replies,)
            if not isinstance(replies, tuple) or len(replies) != len(batch):
                raise TypeError("a driver must send back one outcome per call of a Calls action")
            # Every call of the batch was made: record them all, even after one stops the run.
            retries = [
                r for j, reply in zip(batch, replies, strict=True) if (r := self._settle(j, reply))
            ]
            if retries and self.stopped_by is None:
                # SES's bucket is empty now; stop counting on the burst ours believes in.
                self.bucket.drain(self.clock())
                yield Sleep(seconds=self.options.throttle_pause)
                queue.extendleft(reversed(retries))
            yield self.tally.progress(self.clock())
        end = self.clock()
        yield self.tally.progress(end, finished=True)
        return self.tally.summary(end, self.stopped_by)

    def _stop(self, error: SendError) -> None:
        if self.stopped_by is None:
            self.stopped_by = error

    def _settle(self, job: _Job, reply: object) -> _Job | None:
        """Record the outcome of one call; return the part to try again after a throttle."""
        error = _reply_error(reply)
        if error is None:
            assert isinstance(reply, Mapping)
            if job.bulk:
                return self._settle_entries(job, reply)
            self.tally.record(
                ItemResult(
                    index=job.items[0],
                    status="sent",
                    recipients=job.recipients[0],
                    message_id=str(reply["MessageId"]),
                    request_id=_request_id(reply),
                )
            )
            return None
        everything = range(len(job.items))
        if isinstance(error, ThrottledError):
            return self._throttled(job, everything, error)
        if isinstance(error, self.options.stop_on):
            self._mark_unsent(job, everything, error)
            self._stop(error)
            return None
        for position in everything:
            self._reject(job, position, error)
        return None

    def _settle_entries(self, job: _Job, reply: Mapping[str, Any]) -> _Job | None:
        """Record a bulk call's per-entry statuses (v1 ``Status``, v2 ``BulkEmailEntryResults``)."""
        key = "Status" if self.api == "v1" else "BulkEmailEntryResults"
        statuses: Sequence[Mapping[str, Any]] = reply[key]
        if len(statuses) != len(job.items):
            raise ValueError(
                f"{job.operation}: {len(statuses)} entry results for {len(job.items)} entries"
            )
        request_id = _request_id(reply)
        throttled: list[int] = []
        throttle_error: ThrottledError | None = None
        for position, entry in enumerate(statuses):
            error = classify_bulk_status(
                str(entry.get("Status", "")), entry.get("Error"), request_id=request_id
            )
            if error is None:
                self.tally.record(
                    ItemResult(
                        index=job.items[position],
                        status="sent",
                        recipients=job.recipients[position],
                        message_id=str(entry["MessageId"]),
                        request_id=request_id,
                    )
                )
            elif isinstance(error, ThrottledError):
                throttled.append(position)
                throttle_error = error
            elif isinstance(error, self.options.stop_on):
                self._mark_unsent(job, [position], error)
                self._stop(error)
            else:
                self._reject(job, position, error)
        if throttle_error is None:
            return None
        return self._throttled(job, throttled, throttle_error)

    def _throttled(self, job: _Job, positions: Sequence[int], error: ThrottledError) -> _Job | None:
        """Count a throttle that outlived botocore's retries; return what to try again."""
        self.tally.throttled += 1
        now = self.clock()
        since = now if job.throttled_since is None else job.throttled_since
        if now - since >= self.options.throttle_deadline:
            self._mark_unsent(job, positions, error)
            self._stop(error)
            return None
        if self.stopped_by is not None:
            # The run is ending; these stay unsent, with the error that kept them so.
            self._mark_unsent(job, positions, error)
            return None
        if len(positions) == len(job.items):
            return dataclasses.replace(job, throttled_since=since)
        return _subset(self.api, job, positions, since)

    def _reject(self, job: _Job, position: int, error: SendError) -> None:
        self.tally.record(
            ItemResult(
                index=job.items[position],
                status="rejected",
                recipients=job.recipients[position],
                request_id=error.request_id,
                error=error,
            )
        )

    def _mark_unsent(self, job: _Job, positions: Iterable[int], error: SendError) -> None:
        for position in positions:
            self.tally.results[job.items[position]] = ItemResult(
                index=job.items[position],
                status="unsent",
                recipients=job.recipients[position],
                request_id=error.request_id,
                error=error,
            )


# --- progress ---------------------------------------------------------------------------------


class ProgressBar:
    """A one-line text progress bar for `Progress` events, redrawn in place on a terminal.

    The senders attach one to ``sys.stderr`` when it is a terminal (``progress_bar=None``).
    """

    def __init__(self, stream: TextIO | None = None, *, width: int = 30) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._width = width
        self._last = -math.inf

    def __call__(self, progress: Progress) -> None:
        # Redrawing on every call would cost more than sending at a few hundred per second.
        now = time.monotonic()
        if not progress.finished and now - self._last < 0.1:
            return
        self._last = now
        total = max(progress.total, 1)
        filled = round(self._width * progress.done / total)
        bar = "#" * filled + "-" * (self._width - filled)
        self._stream.write(
            f"\r[{bar}] {progress.done}/{progress.total} sent {progress.sent} "
            f"rejected {progress.rejected} throttled {progress.throttled} "
            f"{progress.rate:.1f} rcpt/s"
        )
        if progress.finished:
            self._stream.write("\n")
        self._stream.flush()


def reporter(
    on_progress: ProgressCallback | None, progress_bar: bool | None
) -> ProgressCallback | None:
    """The callback a driver hands `Progress` events to (None when nobody listens)."""
    callbacks: list[ProgressCallback] = []
    if on_progress is not None:
        callbacks.append(on_progress)
    if progress_bar or (progress_bar is None and sys.stderr.isatty()):
        callbacks.append(ProgressBar())
    if not callbacks:
        return None
    if len(callbacks) == 1:
        return callbacks[0]

    def report(progress: Progress) -> None:
        for callback in callbacks:
            callback(progress)

    return report


# --- what both senders share ------------------------------------------------------------------


class SenderBase:
    """State and step generators shared by `Sender` and `AsyncSender`; they add only a driver.

    Holds the client, its API, the `SendOptions`, the progress reporter and the token bucket,
    which lives as long as the sender so that runs back to back share one budget.
    """

    def __init__(
        self,
        client: object,
        *,
        options: SendOptions | None = None,
        on_progress: ProgressCallback | None = None,
        progress_bar: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client: Any = client  # the boto3/aiobotocore client, whose methods are dynamic
        self.api: Api = client_api(client)
        self.options = options if options is not None else SendOptions()
        self._report = reporter(on_progress, progress_bar)
        self._clock = clock
        self._bucket: TokenBucket | None = None

    def _send_steps(self, payload: Sendable) -> Generator[Action, object, SendResult]:
        return send_steps(self.api, payload)

    def _run_steps(self, payloads: Iterable[Sendable]) -> Generator[Action, object, RunSummary]:
        return run_steps(
            self.api,
            payloads,
            options=self.options,
            clock=self._clock,
            bucket=self._bucket,
            on_bucket=self._keep_bucket,
        )

    def _keep_bucket(self, bucket: TokenBucket) -> None:
        self._bucket = bucket
