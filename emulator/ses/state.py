"""SES state, per (account, region), and the `Backend` that holds all of it.

Identities, templates, quotas and everything else are per account *per region* in SES [D], so
each (account, region) pair gets its own `AccountState`, created on first use from the
profile in `Settings`. Protocol-free: nothing here knows HTTP.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from emulator.config import AccountProfile, Settings
from emulator.ses.clock import Clock
from emulator.store import InMemoryStore, MessageRecord, MessageStore

__all__ = [
    "AccountState",
    "Backend",
    "ConfigurationSet",
    "Identity",
    "IdentityStatus",
    "SuppressedDestination",
    "Template",
]

# v1 spelling; v2 reports the same values upper-cased with underscores [M].
IdentityStatus = Literal["Pending", "Success", "Failed", "TemporaryFailure", "NotStarted"]


@dataclass(slots=True, kw_only=True)
class Identity:
    name: str  # as created: addresses keep their case (case-sensitive), domains lower-cased
    kind: Literal["EmailAddress", "Domain"]
    status: IdentityStatus = "Success"
    token: str = ""
    created: float = 0.0
    dkim_enabled: bool = False
    dkim_tokens: list[str] = field(default_factory=list)
    mail_from_domain: str | None = None
    # BehaviorOnMXFailure, v1 spelling (v2: USE_DEFAULT_VALUE / REJECT_MESSAGE).
    mail_from_behavior: str = "UseDefaultValue"
    notification_topics: dict[str, str] = field(default_factory=dict)  # Bounce/Complaint/Delivery
    headers_in_notifications: dict[str, bool] = field(default_factory=dict)
    feedback_forwarding: bool = True
    policies: dict[str, str] = field(default_factory=dict)
    tags: list[dict[str, str]] = field(default_factory=list)
    configuration_set: str | None = None
    dkim_origin: str = "AWS_SES"  # EXTERNAL for bring-your-own-DKIM (v2 DkimSigningAttributes)


@dataclass(slots=True, kw_only=True)
class Template:
    name: str
    subject: str | None = None
    text: str | None = None
    html: str | None = None
    created: float = 0.0
    tags: list[dict[str, str]] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class ConfigurationSet:
    name: str
    created: float = 0.0
    sending_enabled: bool = True
    reputation_metrics_enabled: bool = False
    # name → destination in the v2 shape (EventDestination members; v1 spellings converted).
    event_destinations: dict[str, dict[str, Any]] = field(default_factory=dict)
    tracking_options: dict[str, Any] | None = None
    delivery_options: dict[str, Any] | None = None
    suppression_options: dict[str, Any] | None = None
    vdm_options: dict[str, Any] | None = None
    archiving_options: dict[str, Any] | None = None
    last_fresh_start: float | None = None
    tags: list[dict[str, str]] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class SuppressedDestination:
    email: str
    reason: Literal["BOUNCE", "COMPLAINT"]
    last_update: float
    message_id: str | None = None
    feedback_id: str | None = None


@dataclass(slots=True, kw_only=True)
class AccountState:
    """Everything SES keeps for one account in one region."""

    account_id: str
    region: str
    profile: AccountProfile

    identities: dict[str, Identity] = field(default_factory=dict)
    templates: dict[str, Template] = field(default_factory=dict)
    configuration_sets: dict[str, ConfigurationSet] = field(default_factory=dict)
    suppressed: dict[str, SuppressedDestination] = field(default_factory=dict)
    suppressed_reasons: list[str] = field(default_factory=lambda: ["BOUNCE", "COMPLAINT"])

    # Run-time overrides of the profile (control API); None = the profile's value.
    sandbox_override: bool | None = None
    max_send_rate_override: float | None = None
    max_24h_send_override: float | None = None
    sending_enabled: bool = True
    enforcement_status: str = "HEALTHY"
    details: dict[str, Any] | None = None  # PutAccountDetails input
    review_status: str | None = None  # PENDING / GRANTED / DENIED / FAILED
    review_case_id: str | None = None

    # Rolling 24 h window: (timestamp, recipients) of accepted sends that count toward the quota.
    sent_window: deque[tuple[float, int]] = field(default_factory=deque)
    sent_window_total: int = 0  # sum of the window's counts, kept so a send never re-sums it
    # Send-rate token bucket (recipients); may go negative ("debt") as SES allows.
    bucket_tokens: float | None = None
    bucket_updated: float = 0.0
    # GetSendStatistics: 15-minute bucket start → counters.
    statistics: dict[int, dict[str, int]] = field(default_factory=dict)
    # Send calls refused by the send rate or the daily quota (diagnostics: each client retry of
    # a throttled call adds one, so tests can count the attempts that arrived).
    throttled_calls: int = 0
    # v2 account attributes that are stored and reported back.
    dedicated_ip_auto_warmup: bool = False
    suppression_validation: dict[str, Any] | None = None

    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def sandbox(self) -> bool:
        if self.sandbox_override is not None:
            return self.sandbox_override
        return self.profile.sandbox

    @property
    def max_send_rate(self) -> float:
        if self.max_send_rate_override is not None:
            return self.max_send_rate_override
        return self.profile.max_send_rate

    @property
    def max_24h_send(self) -> float:
        if self.max_24h_send_override is not None:
            return self.max_24h_send_override
        return self.profile.max_24h_send


class Backend:
    """All state of one emulator process: settings, clock, message store and account states."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        store: MessageStore | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or Clock()
        self.store: MessageStore = store if store is not None else InMemoryStore()
        self._accounts: dict[tuple[str, str], AccountState] = {}
        self._lock = threading.Lock()
        # Called with each accepted message right after it is stored (event publishing, the
        # SMTP relay). They run inside the send, on the thread serving it: they must not
        # block, so anything slow is scheduled, never awaited there.
        self.record_listeners: list[Callable[[MessageRecord], None]] = []
        # Called after `reset` with its (account, region) scope, so listeners forget what
        # they keep about the messages and accounts that were reset (the event log).
        self.reset_listeners: list[Callable[[str | None, str | None], None]] = []

    def account(self, account_id: str | None = None, region: str | None = None) -> AccountState:
        """The state of (account, region), created from the profile on first use."""
        key = (account_id or self.settings.default_account, region or self.settings.region)
        state = self._accounts.get(key)
        if state is None:
            with self._lock:
                state = self._accounts.get(key)
                if state is None:
                    state = self._new_account(*key)
                    self._accounts[key] = state
        return state

    def accounts(self) -> list[AccountState]:
        with self._lock:
            return list(self._accounts.values())

    def reset(self, account_id: str | None = None, region: str | None = None) -> None:
        """Forget state and messages: everything, or one account and/or region."""
        with self._lock:
            for key in list(self._accounts):
                if (account_id is None or key[0] == account_id) and (
                    region is None or key[1] == region
                ):
                    del self._accounts[key]
        self.store.clear(account=account_id, region=region)
        for listener in list(self.reset_listeners):
            listener(account_id, region)

    def _new_account(self, account_id: str, region: str) -> AccountState:
        state = AccountState(
            account_id=account_id, region=region, profile=self.settings.profile_values()
        )
        now = self.clock.now()
        for name in self.settings.verified_identities:
            kind: Literal["EmailAddress", "Domain"] = "EmailAddress" if "@" in name else "Domain"
            key = name if kind == "EmailAddress" else name.lower()
            state.identities[key] = Identity(name=key, kind=kind, status="Success", created=now)
        return state
