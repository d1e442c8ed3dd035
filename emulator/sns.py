"""SNS for the emulator's events: webhook subscriptions to topic ARNs, SNS's HTTP envelopes,
the SubscriptionConfirmation handshake, and delivery with retries.

SES publishes events to SNS topics; SNS posts them to HTTP(S) subscribers. The emulator plays
both parts for webhooks (there is no topic to create: a subscription names any topic ARN):

- **Subscriptions** come from ``--sns-subscription TOPIC_ARN=URL``, from the control API
  (``/_emulator/sns/subscriptions``) or from an SNS client's ``Subscribe`` call sent to the
  emulator. A new one is *pending*: the emulator POSTs a ``SubscriptionConfirmation`` whose
  ``SubscribeURL`` points back at the emulator (``/_emulator/sns/confirm?...``); GETting it, or an
  SNS client's ``ConfirmSubscription`` with the ``Token`` (what django-anymail does), confirms it.
  ``--sns-auto-confirm`` skips the handshake. Only confirmed subscriptions get notifications, as
  in SNS [D].
- **Envelopes** are SNS's HTTP/S JSON documents [D] ("Parsing message formats"): ``Type``,
  ``MessageId``, ``TopicArn``, ``Message``, ``Timestamp``, ``SignatureVersion``,
  ``Signature``, ``SigningCertURL``, ``UnsubscribeURL`` (``Token``/``SubscribeURL`` for a
  confirmation), with the ``x-amz-sns-message-type``, ``x-amz-sns-message-id``,
  ``x-amz-sns-topic-arn`` (and ``x-amz-sns-subscription-arn``) headers.
  **Signatures**: SNS signs with an AWS private key the emulator does not have. ``Signature``
  is the base64 SHA-256 digest of SNS's string to sign, not an RSA signature, and
  ``SigningCertURL`` names no real certificate: a receiver that verifies SNS signatures must
  turn that off against the emulator.
- **Delivery** is asynchronous: the send's response never waits. A webhook that answers 401
  with a ``Basic`` challenge gets the request again with the credentials of its URL's
  ``user:password@`` (as SNS does [D]). Network errors, timeouts, 429 and 5xx are retried up to
  ``--sns-delivery-attempts`` in all, backing off from ``--sns-retry-delay`` seconds, doubling;
  other 4xx answers are final (SNS does not retry client errors [D]).

`EventPublisher` ties it together: a `emulator.ses.state.Backend` record listener generates each
accepted message's events (`emulator.events`), logs them, routes them to topics and delivers
them (or, when no topic could take them, logs the message so they are generated when read);
`install` mounts it and its HTTP endpoints on the emulator's application.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import secrets
import threading
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit
from xml.sax.saxutils import escape

import aiohttp
from aiohttp import web

from emulator import events
from emulator.events import EventLog, LoggedEvent, Route, SesEvent
from emulator.inspect import ControlError, json_body
from emulator.protocols.query import SNS_ACTIONS, is_sns_body
from emulator.protocols.wire import REQUEST_ID_HEADER
from emulator.ses.state import Backend
from emulator.store import InMemoryStore, MessageRecord

__all__ = [
    "PUBLISHER",
    "EventPublisher",
    "Subscription",
    "confirmation_envelope",
    "envelope_headers",
    "install",
    "notification_envelope",
    "string_to_sign",
]

log = logging.getLogger("emulator.sns")

_SNS_XMLNS: Final = "http://sns.amazonaws.com/doc/2010-03-31/"
_USER_AGENT: Final = "Amazon Simple Notification Service Agent"
# What SES sends first to a topic it publishes events to; anymail ignores it by this text [O].
_SIGNATURE_VERSION: Final = "1"
_CONFIRMATION_TEXT: Final = (
    "You have chosen to subscribe to the topic {topic}.\n"
    "To confirm the subscription, visit the SubscribeURL included in this message."
)

SubscriptionStatus = Literal["pending", "confirmed"]


@dataclass(slots=True, kw_only=True)
class Subscription:
    """One webhook subscribed to one topic ARN."""

    arn: str  # TOPIC_ARN:uuid, as SNS names subscriptions
    topic_arn: str
    endpoint: str  # may carry user:password@ for HTTP basic auth
    token: str
    status: SubscriptionStatus
    origin: Literal["settings", "api"]
    confirmation_attempts: int = 0
    confirmation_error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The subscription as the control API shows it (the endpoint's password masked)."""
        return {
            "arn": self.arn,
            "topic_arn": self.topic_arn,
            "endpoint": _masked(self.endpoint),
            "status": self.status,
            "origin": self.origin,
            "confirmation_attempts": self.confirmation_attempts,
            "confirmation_error": self.confirmation_error,
        }


def _masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _split_credentials(url: str) -> tuple[str, str | None]:
    """The URL without ``user:password@``, and the Authorization header those make (or None)."""
    parts = urlsplit(url)
    if parts.username is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    authorization = aiohttp.encode_basic_auth(
        unquote(parts.username), unquote(parts.password or "")
    )
    return urlunsplit(parts._replace(netloc=netloc)), authorization


# --------------------------------------------------------------------------- envelopes


def string_to_sign(envelope: Mapping[str, str]) -> str:
    """SNS's string to sign: ``Key\\nValue\\n`` for each signed key present, in SNS's order [D]."""
    if envelope.get("Type") == "Notification":
        keys: Sequence[str] = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
    else:
        keys = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
    return "".join(f"{key}\n{envelope[key]}\n" for key in keys if key in envelope)


def _sign(envelope: dict[str, str], base_url: str) -> dict[str, str]:
    digest = hashlib.sha256(string_to_sign(envelope).encode("utf-8")).digest()
    envelope["SignatureVersion"] = _SIGNATURE_VERSION
    envelope["Signature"] = base64.b64encode(digest).decode("ascii")
    envelope["SigningCertURL"] = f"{base_url}/_emulator/sns/SimpleNotificationService.pem"
    return envelope


def notification_envelope(
    *,
    topic_arn: str,
    message: str,
    message_id: str,
    timestamp: str,
    subscription_arn: str,
    base_url: str,
) -> dict[str, str]:
    """A ``Type: Notification`` document, as SNS posts it to an HTTP(S) subscriber [D]."""
    envelope = {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": topic_arn,
        "Message": message,
        "Timestamp": timestamp,
    }
    _sign(envelope, base_url)
    envelope["UnsubscribeURL"] = (
        f"{base_url}/_emulator/sns/unsubscribe?SubscriptionArn={quote(subscription_arn, safe='')}"
    )
    return envelope


def confirmation_envelope(
    *, topic_arn: str, token: str, message_id: str, timestamp: str, base_url: str
) -> dict[str, str]:
    """A ``Type: SubscriptionConfirmation`` document whose SubscribeURL is the emulator's."""
    subscribe_url = (
        f"{base_url}/_emulator/sns/confirm?Action=ConfirmSubscription"
        f"&TopicArn={quote(topic_arn, safe='')}&Token={token}"
    )
    envelope = {
        "Type": "SubscriptionConfirmation",
        "MessageId": message_id,
        "Token": token,
        "TopicArn": topic_arn,
        "Message": _CONFIRMATION_TEXT.format(topic=topic_arn),
        "SubscribeURL": subscribe_url,
        "Timestamp": timestamp,
    }
    return _sign(envelope, base_url)


def envelope_headers(envelope: Mapping[str, str], subscription_arn: str) -> dict[str, str]:
    """The HTTP headers SNS sends with an envelope [D]."""
    headers = {
        "Content-Type": "text/plain; charset=UTF-8",
        "User-Agent": _USER_AGENT,
        "x-amz-sns-message-type": envelope["Type"],
        "x-amz-sns-message-id": envelope["MessageId"],
        "x-amz-sns-topic-arn": envelope["TopicArn"],
    }
    if envelope["Type"] == "Notification":
        headers["x-amz-sns-subscription-arn"] = subscription_arn
    return headers


# --------------------------------------------------------------------------- the publisher


@dataclass(slots=True)
class _Outcome:
    status: Literal["delivered", "failed"]
    attempts: int
    http_status: int | None = None
    error: str | None = None


@dataclass(slots=True, kw_only=True)
class _Delivery:
    logged: LoggedEvent | None  # None: a SubscriptionConfirmation
    entry: dict[str, Any] = field(default_factory=dict)


class EventPublisher:
    """Generates, logs, routes and delivers the events of one backend's accepted messages."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.log = EventLog()
        self._subscriptions: dict[str, Subscription] = {}
        # Tests reset the backend from their own thread while the loop thread publishes.
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # ---- lifecycle

    @property
    def base_url(self) -> str:
        """Where webhooks reach the emulator (SubscribeURL, UnsubscribeURL)."""
        settings = self.backend.settings
        if settings.sns_public_url:
            return settings.sns_public_url.rstrip("/")
        host = settings.host
        if host in ("0.0.0.0", "::", ""):  # a wildcard bind is reachable on loopback
            host = "127.0.0.1"
        return f"http://{f'[{host}]' if ':' in host else host}:{settings.port}"

    async def start(self) -> None:
        """Open the HTTP client on the running loop and subscribe the configured webhooks."""
        self._loop = asyncio.get_running_loop()
        timeout = aiohttp.ClientTimeout(total=self.backend.settings.sns_timeout)
        self._session = aiohttp.ClientSession(timeout=timeout)
        self._subscribe_configured()

    async def stop(self) -> None:
        """Cancel deliveries still in flight and close the HTTP client."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        self._session = None
        self._loop = None

    async def drain(self) -> None:
        """Wait until every delivery scheduled so far has finished (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _subscribe_configured(self) -> None:
        for topic_arn, url in self.backend.settings.sns_subscriptions:
            self.subscribe(topic_arn, url, origin="settings")

    def reset(self, account: str | None, region: str | None) -> None:
        """`Backend.reset` listener: forget the scope's events; a full reset also drops the
        subscriptions made at run time (those from the settings stay, confirmed or not)."""
        self.log.clear(account=account, region=region)
        if account is None and region is None:
            with self._lock:
                for arn, subscription in list(self._subscriptions.items()):
                    if subscription.origin == "api":
                        del self._subscriptions[arn]

    # ---- subscriptions

    def subscribe(
        self,
        topic_arn: str,
        endpoint: str,
        *,
        origin: Literal["settings", "api"] = "api",
        confirmed: bool | None = None,
    ) -> Subscription:
        """Subscribe ``endpoint`` to ``topic_arn``; send the confirmation unless confirmed.

        ``confirmed=None`` follows ``--sns-auto-confirm``. Subscribing the same endpoint to the
        same topic again returns the existing subscription, as SNS does [D].
        """
        if confirmed is None:
            confirmed = self.backend.settings.sns_auto_confirm
        with self._lock:
            for existing in self._subscriptions.values():
                if existing.topic_arn == topic_arn and existing.endpoint == endpoint:
                    return existing
            subscription = Subscription(
                arn=f"{topic_arn}:{uuid.uuid4()}",
                topic_arn=topic_arn,
                endpoint=endpoint,
                token=secrets.token_hex(64),
                status="confirmed" if confirmed else "pending",
                origin=origin,
            )
            self._subscriptions[subscription.arn] = subscription
        if not confirmed:
            self._schedule(self._confirm_handshake(subscription))
        return subscription

    def confirm(self, token: str, topic_arn: str | None = None) -> Subscription:
        """Confirm the subscription ``token`` was issued for; LookupError if there is none."""
        given = token.encode("utf-8")
        for subscription in self.subscriptions(topic_arn):
            if secrets.compare_digest(subscription.token.encode("ascii"), given):
                subscription.status = "confirmed"
                log.info("SNS subscription %s confirmed", subscription.arn)
                return subscription
        raise LookupError("Invalid token")

    def unsubscribe(self, arn: str) -> bool:
        """Remove a subscription; False if there was none with that ARN."""
        with self._lock:
            return self._subscriptions.pop(arn, None) is not None

    def subscriptions(self, topic_arn: str | None = None) -> list[Subscription]:
        """Subscriptions in the order they were made, optionally of one topic."""
        with self._lock:
            found = list(self._subscriptions.values())
        return [s for s in found if topic_arn is None or s.topic_arn == topic_arn]

    # ---- events

    def on_record(self, record: MessageRecord) -> None:
        """`Backend` record listener: generate and publish the message's events.

        When no route could take them (`events.routable`) and the store keeps this very record
        object, the events are only deferred: the record is marked and logged as it is, and
        they are generated when read (`events.record_events`, `EventLog.select`), identical on
        every read. A store that copies records out (SQLite) gets them generated now, so the
        log never holds its records' MIME content.
        """
        ooto_bounce = self.backend.settings.ooto_transient_bounce
        state = self.backend.account(record.account, record.region)
        if isinstance(self.backend.store, InMemoryStore) and not events.routable(record, state):
            record.deferred_events = events.deferred_marker(ooto_transient_bounce=ooto_bounce)
            self.log.add_deferred(record)
            return
        for index, event in enumerate(events.generate(record, ooto_transient_bounce=ooto_bounce)):
            self.publish(record, event, save=False, event_id=events.event_id(record.id, index))
        self.backend.store.update(record)  # once for all: a SQLite store rewrites the row

    def publish(
        self,
        record: MessageRecord,
        event: SesEvent,
        *,
        save: bool = True,
        event_id: str | None = None,
    ) -> LoggedEvent:
        """Log ``event`` (under ``event_id``, else a random UUID), route it, schedule its
        deliveries and note it on the record (``save``: and store the record)."""
        logged = self.log.add(record, event, id=event_id)
        state = self.backend.account(record.account, record.region)
        for route in events.routes(event, record, state):
            logged.published.append(self._publish_route(logged, route))
        record.add_event(logged.to_json())
        if save:
            self.backend.store.update(record)
        return logged

    def _publish_route(self, logged: LoggedEvent, route: Route) -> dict[str, Any]:
        message = json.dumps(route.payload, separators=(",", ":"))
        published: dict[str, Any] = {
            "channel": route.channel,
            "topic_arn": route.topic_arn,
            "configuration_set": route.configuration_set,
            "event_destination": route.event_destination,
            "identity": route.identity,
            "message": route.payload,
            "deliveries": [],
        }
        for subscription in self.subscriptions(route.topic_arn):
            entry: dict[str, Any] = {
                "subscription_arn": subscription.arn,
                "endpoint": _masked(subscription.endpoint),
                "sns_message_id": str(uuid.uuid4()),
                "status": "pending" if subscription.status == "confirmed" else "unconfirmed",
                "attempts": 0,
                "http_status": None,
                "error": None,
            }
            published["deliveries"].append(entry)
            if subscription.status != "confirmed":
                continue  # SNS delivers nothing to a pending subscription [D]
            envelope = notification_envelope(
                topic_arn=route.topic_arn,
                message=message,
                message_id=entry["sns_message_id"],
                timestamp=events.iso_timestamp(self.backend.clock.now()),
                subscription_arn=subscription.arn,
                base_url=self.base_url,
            )
            delivery = _Delivery(logged=logged, entry=entry)
            self._schedule(self._deliver(subscription, envelope, delivery))
        return published

    def _sync_record(self, logged: LoggedEvent) -> None:
        record = self.backend.store.get(logged.message_id)
        if record is None:  # deleted or reset meanwhile
            return
        record.replace_event(logged.to_json())
        self.backend.store.update(record)

    # ---- delivery

    def _schedule(self, coroutine: Awaitable[None]) -> None:
        loop = self._loop
        if loop is None:
            close = getattr(coroutine, "close", None)
            if callable(close):
                close()
            log.warning("SNS delivery dropped: the emulator is not serving")
            return

        def spawn() -> None:
            task: asyncio.Task[None] = asyncio.ensure_future(coroutine)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            spawn()
        else:
            loop.call_soon_threadsafe(spawn)

    async def _confirm_handshake(self, subscription: Subscription) -> None:
        envelope = confirmation_envelope(
            topic_arn=subscription.topic_arn,
            token=subscription.token,
            message_id=str(uuid.uuid4()),
            timestamp=events.iso_timestamp(self.backend.clock.now()),
            base_url=self.base_url,
        )
        outcome = await self._post_with_retries(subscription, envelope)
        subscription.confirmation_attempts = outcome.attempts
        subscription.confirmation_error = outcome.error
        if outcome.status == "failed":
            log.warning(
                "SNS SubscriptionConfirmation to %s failed: %s",
                _masked(subscription.endpoint),
                outcome.error,
            )

    async def _deliver(
        self, subscription: Subscription, envelope: dict[str, str], delivery: _Delivery
    ) -> None:
        outcome = await self._post_with_retries(subscription, envelope, delivery.entry)
        delivery.entry.update(
            status=outcome.status,
            attempts=outcome.attempts,
            http_status=outcome.http_status,
            error=outcome.error,
        )
        if outcome.status == "failed":
            log.warning(
                "SNS delivery of %s to %s failed after %d attempt(s): %s",
                envelope["MessageId"],
                _masked(subscription.endpoint),
                outcome.attempts,
                outcome.error,
            )
        if delivery.logged is not None:
            self._sync_record(delivery.logged)

    async def _post_with_retries(
        self,
        subscription: Subscription,
        envelope: Mapping[str, str],
        entry: dict[str, Any] | None = None,
    ) -> _Outcome:
        settings = self.backend.settings
        body = json.dumps(envelope).encode("utf-8")
        headers = envelope_headers(envelope, subscription.arn)
        outcome = _Outcome("failed", 0, error="not attempted")
        for attempt in range(1, settings.sns_delivery_attempts + 1):
            status, error = await self._post_once(subscription.endpoint, body, headers)
            if entry is not None:
                entry.update(attempts=attempt, http_status=status, error=error)
            if status is not None and 200 <= status < 300:
                return _Outcome("delivered", attempt, status)
            outcome = _Outcome("failed", attempt, status, error)
            retryable = status is None or status == 429 or status >= 500
            if not retryable or attempt == settings.sns_delivery_attempts:
                break
            await asyncio.sleep(settings.sns_retry_delay * 2 ** (attempt - 1))
            with self._lock:
                subscribed = subscription.arn in self._subscriptions
            if not subscribed:  # unsubscribed (or reset) while waiting: SNS stops too
                return _Outcome("failed", attempt, status, "unsubscribed before delivery")
        return outcome

    async def _post_once(
        self, endpoint: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int | None, str | None]:
        session = self._session
        if session is None:
            return None, "the emulator is shutting down"
        url, authorization = _split_credentials(endpoint)
        try:
            async with session.post(url, data=body, headers=headers) as response:
                status = response.status
                challenge = response.headers.get("WWW-Authenticate", "")
                await response.read()
            if (
                status == 401
                and authorization is not None
                and challenge.lower().startswith("basic")
            ):
                # SNS sends credentials only after the endpoint asks for them [D].
                with_auth = {**headers, "Authorization": authorization}
                async with session.post(url, data=body, headers=with_auth) as response:
                    status = response.status
                    await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return None, f"{type(exc).__name__}: {exc}".rstrip(": ")
        return status, None if 200 <= status < 300 else f"HTTP {status}"


# --------------------------------------------------------------------------- HTTP endpoints

PUBLISHER = web.AppKey("event_publisher", EventPublisher)
"""The application's `EventPublisher`: ``app[PUBLISHER]``."""

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _sns_xml(action: str, result: str, request_id: str) -> web.Response:
    body = (
        f'<{action}Response xmlns="{_SNS_XMLNS}">'
        f"<{action}Result>{result}</{action}Result>"
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
        f"</{action}Response>"
    )
    return web.Response(text=body, content_type="text/xml", charset="utf-8")


def _sns_error(code: str, message: str, status: int, request_id: str) -> web.Response:
    body = (
        f'<ErrorResponse xmlns="{_SNS_XMLNS}"><Error><Type>Sender</Type>'
        f"<Code>{code}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return web.Response(text=body, status=status, content_type="text/xml", charset="utf-8")


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


def _control(handler: _Handler) -> _Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ControlError as exc:
            return _json(exc.to_json(), status=exc.status)

    return wrapped


def _optional_str(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise ControlError(f"{key}: expected a non-empty string (got {value!r})", field=key)
    return value


def _only(body: Mapping[str, Any], allowed: Sequence[str]) -> None:
    for key in body:
        if key not in allowed:
            raise ControlError(f"{key}: unknown key; allowed: {', '.join(allowed)}", field=key)


class _Endpoints:
    def __init__(self, publisher: EventPublisher) -> None:
        self.publisher = publisher

    # ---- the SNS API, on "/" beside SES v1

    def _answer(self, fields: Mapping[str, str]) -> web.Response:
        # The SNS request id, in the XML body and in x-amzn-RequestId alike (the app's
        # request-id middleware only fills in a header that is not there yet).
        request_id = str(uuid.uuid4())
        response = self.sns_action(fields, request_id)
        response.headers[REQUEST_ID_HEADER] = request_id
        return response

    def sns_action(self, fields: Mapping[str, str], request_id: str) -> web.Response:
        action = fields.get("Action", "")
        publisher = self.publisher
        if action == "Subscribe":
            topic_arn, protocol = fields.get("TopicArn", ""), fields.get("Protocol", "")
            endpoint = fields.get("Endpoint", "")
            if protocol not in ("http", "https") or not endpoint.startswith(f"{protocol}://"):
                return _sns_error(
                    "InvalidParameter",
                    "Invalid parameter: the emulator delivers to http and https endpoints only",
                    400,
                    request_id,
                )
            subscription = publisher.subscribe(topic_arn, endpoint)
            shown = (
                subscription.arn
                if subscription.status == "confirmed"
                or fields.get("ReturnSubscriptionArn", "").lower() == "true"
                else "pending confirmation"
            )
            return _sns_xml(
                action, f"<SubscriptionArn>{escape(shown)}</SubscriptionArn>", request_id
            )
        if action == "ConfirmSubscription":
            try:
                subscription = publisher.confirm(
                    fields.get("Token", ""), fields.get("TopicArn") or None
                )
            except LookupError:
                return _sns_error("InvalidParameter", "Invalid token", 400, request_id)
            return _sns_xml(
                action, f"<SubscriptionArn>{escape(subscription.arn)}</SubscriptionArn>", request_id
            )
        # Unsubscribe
        arn = fields.get("SubscriptionArn", "")
        if not publisher.unsubscribe(arn):
            return _sns_error("NotFound", "Subscription does not exist", 404, request_id)
        return _sns_xml(action, "", request_id)

    @web.middleware
    async def sns_api(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        # Only "/" can carry SNS actions; botocore writes Action first in the form, so a prefix
        # check keeps SES requests (up to 60 MB) from being parsed twice.
        if request.path != "/" or request.method not in ("GET", "POST"):
            return await handler(request)
        raw_query = request.rel_url.raw_query_string
        fields: dict[str, str] = dict(parse_qsl(raw_query)) if raw_query else {}
        if fields.get("Action") not in SNS_ACTIONS and request.method == "POST":
            if not is_sns_body(await request.read()):
                return await handler(request)
            fields.update(parse_qsl((await request.read()).decode("utf-8", "replace")))
        if fields.get("Action") not in SNS_ACTIONS:
            return await handler(request)
        return self._answer(fields)

    async def confirm_get(self, request: web.Request) -> web.StreamResponse:
        fields = dict(request.query)
        fields["Action"] = "ConfirmSubscription"
        return self._answer(fields)

    async def unsubscribe_get(self, request: web.Request) -> web.StreamResponse:
        fields = dict(request.query)
        fields["Action"] = "Unsubscribe"
        return self._answer(fields)

    # ---- control API

    async def subscriptions_get(self, request: web.Request) -> web.StreamResponse:
        topic_arn = request.query.get("topic_arn") or None
        found = self.publisher.subscriptions(topic_arn)
        return _json({"subscriptions": [s.to_json() for s in found]})

    async def subscriptions_post(self, request: web.Request) -> web.StreamResponse:
        body = await json_body(request, allow_empty=False)
        _only(body, ("topic_arn", "endpoint", "confirmed"))
        topic_arn = _optional_str(body, "topic_arn")
        endpoint = _optional_str(body, "endpoint")
        if topic_arn is None or not topic_arn.startswith("arn:") or topic_arn.count(":") < 5:
            raise ControlError(
                f"topic_arn: an SNS topic ARN, arn:aws:sns:REGION:ACCOUNT:NAME (got {topic_arn!r})",
                field="topic_arn",
            )
        if endpoint is None or not endpoint.startswith(("http://", "https://")):
            raise ControlError(
                f"endpoint: an http:// or https:// URL (got {endpoint!r})", field="endpoint"
            )
        confirmed = body.get("confirmed")
        if confirmed is not None and not isinstance(confirmed, bool):
            raise ControlError(f"confirmed: true or false (got {confirmed!r})", field="confirmed")
        subscription = self.publisher.subscribe(topic_arn, endpoint, confirmed=confirmed)
        return _json(subscription.to_json(), status=201)

    async def subscriptions_delete(self, request: web.Request) -> web.StreamResponse:
        arn = request.query.get("arn")
        if arn is None:
            for subscription in self.publisher.subscriptions():
                self.publisher.unsubscribe(subscription.arn)
            return web.Response(status=204)
        if not self.publisher.unsubscribe(arn):
            raise ControlError(f"no subscription {arn!r}", field="arn", code="NotFound", status=404)
        return web.Response(status=204)

    async def events_get(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        for key in query:
            if key not in ("message_id", "type", "account", "region"):
                raise ControlError(
                    f"{key}: unknown parameter; allowed: message_id, type, account, region",
                    field=key,
                )
        event_type = query.get("type")
        if event_type is not None and event_type not in events.EVENT_TYPES:
            raise ControlError(
                f"type: one of {', '.join(events.EVENT_TYPES)} (got {event_type!r})",
                field="type",
            )
        found = self.publisher.log.select(
            message_id=query.get("message_id"),
            event_type=event_type,
            account=query.get("account"),
            region=query.get("region"),
        )
        return _json({"events": [e.to_json() for e in found], "count": len(found)})

    async def events_delete(self, request: web.Request) -> web.StreamResponse:
        self.publisher.log.clear()
        return web.Response(status=204)

    async def message_events_post(self, request: web.Request) -> web.StreamResponse:
        message_id = request.match_info["message_id"]
        record = self.publisher.backend.store.get(message_id)
        if record is None:
            raise ControlError(
                f"no message with id {message_id!r}", field="id", code="NotFound", status=404
            )
        body = await json_body(request, allow_empty=False)
        allowed = ("type", "link", "recipients", "delay_type", "user_agent", "ip_address")
        _only(body, allowed)
        recipients = body.get("recipients")
        if recipients is not None and not (
            isinstance(recipients, list) and all(isinstance(r, str) for r in recipients)
        ):
            raise ControlError(
                "recipients: a list of the message's recipient addresses", field="recipients"
            )
        try:
            event = events.on_request(
                record,
                str(body.get("type")),
                now=self.publisher.backend.clock.now(),
                recipients=recipients,
                link=_optional_str(body, "link"),
                delay_type=_optional_str(body, "delay_type"),
                user_agent=_optional_str(body, "user_agent"),
                ip_address=_optional_str(body, "ip_address"),
            )
        except ValueError as exc:
            text = str(exc)
            field_name = text.split(":", 1)[0] if ":" in text else None
            raise ControlError(text, field=field_name) from exc
        logged = self.publisher.publish(record, event)
        return _json(logged.to_json(), status=201)


def install(app: web.Application, backend: Backend) -> EventPublisher:
    """Publish ``backend``'s events from ``app``: routes, the SNS API middleware, lifecycle.

    Call before `emulator.inspect.add_routes`, whose ``/_emulator`` catch-all would shadow the
    routes added here.
    """
    publisher = EventPublisher(backend)
    endpoints = _Endpoints(publisher)
    app[PUBLISHER] = publisher
    backend.record_listeners.append(publisher.on_record)
    backend.reset_listeners.append(publisher.reset)
    app.middlewares.append(endpoints.sns_api)

    async def on_startup(_: web.Application) -> None:
        await publisher.start()

    async def on_cleanup(_: web.Application) -> None:
        await publisher.stop()
        # The backend may outlive the app (EmulatorServer keeps it): stop listening to it.
        if publisher.on_record in backend.record_listeners:
            backend.record_listeners.remove(publisher.on_record)
        if publisher.reset in backend.reset_listeners:
            backend.reset_listeners.remove(publisher.reset)

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    routes: list[tuple[str, dict[str, _Handler]]] = [
        ("/_emulator/events", {"GET": endpoints.events_get, "DELETE": endpoints.events_delete}),
        ("/_emulator/messages/{message_id}/events", {"POST": endpoints.message_events_post}),
        (
            "/_emulator/sns/subscriptions",
            {
                "GET": endpoints.subscriptions_get,
                "POST": endpoints.subscriptions_post,
                "DELETE": endpoints.subscriptions_delete,
            },
        ),
        ("/_emulator/sns/confirm", {"GET": endpoints.confirm_get}),
        ("/_emulator/sns/unsubscribe", {"GET": endpoints.unsubscribe_get}),
    ]
    for path, methods in routes:
        resource = app.router.add_resource(path)
        for method, handler in methods.items():
            resource.add_route(method, _control(handler))
    return publisher
