"""Forward every accepted message to a real SMTP server (``--smtp-relay HOST:PORT``).

Users look at their mail in Mailpit or MailHog (peers.md §4, §6 item 3); the relay hands each
message the emulator accepts to such a server, exactly as SES would deliver it:

- the **data** is the stored raw MIME (`MessageRecord.raw`), byte for byte;
- the **envelope** is ``MAIL FROM:<envelope_from>`` and one ``RCPT TO`` per envelope recipient,
  so Bcc recipients (which no header names) arrive too;
- **not relayed**: mailbox-simulator recipients (they are not real mailboxes), recipients the
  send recorded as ``suppressed`` (SES drops them), and messages SES never delivers (a
  rendering failure). A message left with no recipient is not relayed at all.

It never blocks or fails the SES call: the send pipeline calls `SmtpRelay.enqueue` through
`Backend.record_listeners` right after storing the record, which only schedules a task.
Each message gets ``Settings.smtp_relay_attempts`` attempts with exponential backoff from
``smtp_relay_retry_delay``; a connection failure, a timeout or a 4xx reply is retried, a 5xx
reply (permanent, RFC 5321 §4.2.1) is not. The outcome is logged and appended to the record's
``events`` (persisted with `MessageStore.update`)::

    {"type": "relay", "status": "sent", "relay": "127.0.0.1:1025", "attempts": 1,
     "recipients": ["a@example.com", "bcc@example.com"], "refused": {}, "error": null,
     "timestamp": "2026-11-22T03:30:00.000Z"}

``status`` is ``"failed"`` (with ``error``) when every attempt failed. On shutdown the relay
waits up to ``smtp_relay_timeout`` seconds for messages still in flight and records those it
had to abandon as failed, so none is lost silently.

The decisions (whom to relay to, when to retry, what the event says) are plain functions;
`SmtpRelay` only drives them with aiosmtplib.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

import aiosmtplib
from aiohttp import web

from emulator.config import Settings, split_relay_address
from emulator.ses import simulator
from emulator.ses.state import Backend
from emulator.store import MessageRecord

__all__ = [
    "MAX_CONCURRENT_RELAYS",
    "RELAY",
    "Envelope",
    "RelayOutcome",
    "RelayTarget",
    "SmtpRelay",
    "envelope_for",
    "install",
    "is_retryable",
    "relay_event",
    "retry_delays",
]

log = logging.getLogger("emulator.relay")

# At most this many SMTP conversations at once, so a burst of sends cannot open hundreds of
# connections to a small local server (Mailpit accepts plenty; a test server may not).
MAX_CONCURRENT_RELAYS: Final = 4

RelayStatus = Literal["sent", "failed"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayTarget:
    """Where and how to relay: the ``smtp_relay*`` settings, validated."""

    host: str
    port: int
    tls: Literal["none", "starttls", "tls"] = "none"
    username: str | None = None
    password: str | None = None
    verify_tls: bool = True
    attempts: int = 3
    retry_delay: float = 0.5
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("host: must not be empty")
        if not 0 < self.port <= 65535:
            raise ValueError(f"port: must be 1..65535 (got {self.port})")
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        if self.attempts < 1:
            raise ValueError(f"attempts: must be >= 1 (got {self.attempts})")
        if not self.retry_delay >= 0:
            raise ValueError(f"retry_delay: must be >= 0 (got {self.retry_delay})")
        if not self.timeout > 0:
            raise ValueError(f"timeout: must be > 0 (got {self.timeout})")

    @classmethod
    def from_settings(cls, settings: Settings) -> RelayTarget | None:
        """The target ``settings`` name, or None when the relay is off."""
        if settings.smtp_relay is None:
            return None
        host, port = split_relay_address(settings.smtp_relay)
        return cls(
            host=host,
            port=port,
            tls=settings.smtp_relay_tls,
            username=settings.smtp_relay_user,
            password=settings.smtp_relay_password,
            verify_tls=settings.smtp_relay_verify_tls,
            attempts=settings.smtp_relay_attempts,
            retry_delay=settings.smtp_relay_retry_delay,
            timeout=settings.smtp_relay_timeout,
        )

    @property
    def address(self) -> str:
        """``host:port`` (IPv6 hosts in brackets), as events and logs show it."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope:
    """One SMTP transaction: ``MAIL FROM``, the ``RCPT TO`` list and the message data."""

    sender: str
    recipients: tuple[str, ...]
    data: bytes

    def __post_init__(self) -> None:
        if not self.recipients:
            raise ValueError("recipients: an SMTP transaction needs at least one")


def envelope_for(record: MessageRecord) -> Envelope | None:
    """What SES would hand to the recipients' mail servers for ``record``, or None if nothing.

    Simulator addresses and recipients recorded as ``suppressed`` are left out; a message SES
    drops after accepting it (``status`` other than ``"accepted"``) is not delivered at all.
    """
    if record.status != "accepted":
        return None
    recipients = tuple(
        address
        for address in record.recipients
        if not simulator.is_simulator(address) and record.outcomes.get(address) != "suppressed"
    )
    if not recipients:
        return None
    return Envelope(sender=record.envelope_from, recipients=recipients, data=record.raw)


def retry_delays(attempts: int, first_delay: float) -> Iterator[float]:
    """Seconds to wait before each retry: ``first_delay``, doubling (``attempts - 1`` values)."""
    for retry in range(attempts - 1):
        yield first_delay * 2**retry


def is_retryable(error: BaseException) -> bool:
    """Is a failed SMTP attempt worth repeating?

    5xx replies are permanent (RFC 5321 §4.2.1), and so are a server that lacks STARTTLS or
    AUTH and a certificate that fails verification: another attempt would meet the same.
    Connection failures, timeouts and 4xx replies are transient.
    """
    if isinstance(error, aiosmtplib.SMTPNotSupported):
        return False
    # aiosmtplib wraps the TLS handshake's failure in an SMTPConnectError: look at the causes.
    cause: BaseException | None = error
    seen: set[int] = set()
    while cause is not None and id(cause) not in seen:  # a chain may loop back on itself
        if isinstance(cause, ssl.SSLCertVerificationError):
            return False
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return any(500 > refusal.code >= 400 for refusal in error.recipients)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return not 500 <= error.code < 600
    return isinstance(error, (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError))


@dataclass(frozen=True, slots=True, kw_only=True)
class RelayOutcome:
    """How relaying one message ended."""

    status: RelayStatus
    attempts: int
    recipients: tuple[str, ...]
    refused: dict[str, str]  # recipient → the server's reply, when it refused only some
    error: str | None = None


def relay_event(outcome: RelayOutcome, *, relay: str, now: float) -> dict[str, Any]:
    """The entry appended to `MessageRecord.events` for ``outcome``."""
    moment = datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds")
    return {
        "type": "relay",
        "status": outcome.status,
        "relay": relay,
        "attempts": outcome.attempts,
        "recipients": list(outcome.recipients),
        "refused": dict(outcome.refused),
        "error": outcome.error,
        "timestamp": moment.replace("+00:00", "Z"),
    }


def _describe(error: BaseException) -> str:
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return "every recipient was refused: " + "; ".join(
            f"{r.recipient}: {r.code} {r.message}" for r in error.recipients
        )
    if isinstance(error, (asyncio.TimeoutError, TimeoutError)) and not str(error):
        return "timed out"
    return f"{type(error).__name__}: {error}"


class SmtpRelay:
    """Relays the records handed to `enqueue`, on the event loop that serves the emulator.

    Create it on that loop (`install` does, when the application starts).
    """

    def __init__(self, target: RelayTarget, backend: Backend) -> None:
        self.target = target
        self.backend = backend
        self._loop = asyncio.get_running_loop()
        self._tasks: dict[asyncio.Task[None], str] = {}  # in flight → message id
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_RELAYS)
        self._tls_context: ssl.SSLContext | None = None
        if target.tls != "none":
            self._tls_context = ssl.create_default_context()
            if not target.verify_tls:
                self._tls_context.check_hostname = False
                self._tls_context.verify_mode = ssl.CERT_NONE

    def enqueue(self, record: MessageRecord) -> None:
        """Schedule ``record`` for relaying; returns at once (a `Backend.record_listeners` hook).

        The send handlers call it on the relay's loop; from any other thread (code driving the
        backend directly) the message is handed to that loop instead.
        """
        envelope = envelope_for(record)
        if envelope is None:
            log.debug("message %s: no real recipient, not relayed", record.id)
            return
        try:
            on_our_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:  # no loop in this thread
            on_our_loop = False
        if on_our_loop:
            self._start(record.id, envelope)
        else:
            self._loop.call_soon_threadsafe(self._start, record.id, envelope)

    def _start(self, message_id: str, envelope: Envelope) -> None:
        task = self._loop.create_task(self._relay(message_id, envelope))
        self._tasks[task] = message_id
        task.add_done_callback(self._tasks.pop)

    @property
    def pending(self) -> int:
        """Messages queued or being relayed."""
        return len(self._tasks)

    async def _relay(self, message_id: str, envelope: Envelope) -> None:
        async with self._slots:
            outcome = await self._deliver(envelope)
        try:
            self._record(message_id, outcome)
        except Exception:  # the store failed; the outcome is logged above at least
            log.exception("could not record the relay outcome of message %s", message_id)

    async def _deliver(self, envelope: Envelope) -> RelayOutcome:
        delays = retry_delays(self.target.attempts, self.target.retry_delay)
        attempt = 0
        while True:
            attempt += 1
            try:
                refused, _ = await self._send(envelope)
            except Exception as error:  # every failure becomes an outcome, never an escape
                delay = next(delays, None)
                if delay is None or not is_retryable(error):
                    return RelayOutcome(
                        status="failed",
                        attempts=attempt,
                        recipients=envelope.recipients,
                        refused={},
                        error=_describe(error),
                    )
                log.info("relay attempt %d to %s failed (%s); retrying in %.2fs",
                         attempt, self.target.address, _describe(error), delay)  # fmt: skip
                await asyncio.sleep(delay)
                continue
            return RelayOutcome(
                status="sent",
                attempts=attempt,
                recipients=envelope.recipients,
                refused={rcpt: f"{r.code} {r.message}" for rcpt, r in refused.items()},
            )

    async def _send(self, envelope: Envelope) -> tuple[dict[str, aiosmtplib.SMTPResponse], str]:
        target = self.target
        return await aiosmtplib.send(
            envelope.data,
            sender=envelope.sender,
            recipients=list(envelope.recipients),
            hostname=target.host,
            port=target.port,
            username=target.username,
            password=target.password,
            use_tls=target.tls == "tls",
            # False, not None: aiosmtplib would otherwise upgrade whenever the server offers it.
            start_tls=target.tls == "starttls",
            tls_context=self._tls_context,
            timeout=target.timeout,
        )

    def _record(self, message_id: str, outcome: RelayOutcome) -> None:
        if outcome.status == "sent":
            log.info("relayed message %s to %s (%d recipients, %d attempts)", message_id,
                     self.target.address, len(outcome.recipients), outcome.attempts)  # fmt: skip
        else:
            log.warning("could not relay message %s to %s after %d attempts: %s", message_id,
                        self.target.address, outcome.attempts, outcome.error)  # fmt: skip
        # Read the record afresh: others (event publishing) may have updated it meanwhile.
        record = self.backend.store.get(message_id)
        if record is None:  # reset or deleted while in flight; the log line above remains
            return
        record.add_event(
            relay_event(outcome, relay=self.target.address, now=self.backend.clock.now())
        )
        self.backend.store.update(record)

    async def close(self) -> None:
        """Wait for messages in flight (up to the timeout), then record the rest as failed."""
        if not self._tasks:
            return
        tasks = dict(self._tasks)
        _, abandoned = await asyncio.wait(tasks, timeout=self.target.timeout)
        for task in abandoned:
            task.cancel()
        if abandoned:
            await asyncio.wait(abandoned)
        for task in abandoned:
            self._record(
                tasks[task],
                RelayOutcome(
                    status="failed",
                    attempts=0,
                    recipients=(),
                    refused={},
                    error="the emulator stopped before the message could be relayed",
                ),
            )


RELAY = web.AppKey("smtp_relay", SmtpRelay)
"""The application's `SmtpRelay` (present only while it runs with ``--smtp-relay``)."""


def install(app: web.Application, settings: Settings, backend: Backend) -> None:
    """With ``settings.smtp_relay`` set, relay every message ``backend`` records while ``app``
    runs (the relay starts with the app's event loop and drains on shutdown)."""
    target = RelayTarget.from_settings(settings)
    if target is None:
        return

    async def relay_context(app: web.Application) -> Any:
        relay = SmtpRelay(target, backend)
        app[RELAY] = relay
        backend.record_listeners.append(relay.enqueue)
        log.info("relaying accepted messages to %s (tls: %s)", target.address, target.tls)
        yield
        backend.record_listeners.remove(relay.enqueue)
        await relay.close()

    app.cleanup_ctx.append(relay_context)
