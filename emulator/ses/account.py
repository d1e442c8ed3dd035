"""Account-level state: sandbox, quotas, sending switch, production-access review, statistics.

Protocol-free functions over `emulator.ses.state.AccountState`. The v1/v2 handlers in
`emulator.ses.send_ops` and the control API (``/_emulator/account``) both call them.

What a new account looks like comes from its profile (``--profile``: ``unlimited``,
``sandbox``, ``production``, see `emulator.config.PROFILES`) with the CLI overrides; run-time
changes are stored as overrides, and ``None`` restores the profile's value.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from emulator.config import PROFILES
from emulator.ses import errors, throttle
from emulator.ses.state import AccountState

__all__ = [
    "REVIEW_STATUSES",
    "SANDBOX_MAX_24H_SEND",
    "SANDBOX_MAX_SEND_RATE",
    "STATISTICS_DAYS",
    "WRITABLE_KEYS",
    "apply_settings",
    "describe",
    "get_account",
    "put_account_details",
    "send_quota",
    "send_statistics",
]

# A sandboxed account's quotas [D][O] (ses-spec §3): 200 recipients / 24 h, 1 recipient / s.
SANDBOX_MAX_24H_SEND: Final = PROFILES["sandbox"].max_24h_send
SANDBOX_MAX_SEND_RATE: Final = PROFILES["sandbox"].max_send_rate
# What a granted production-access review gives [I] (historically 50,000 / 24 h, 14 / s).
PRODUCTION_MAX_24H_SEND: Final = PROFILES["production"].max_24h_send
PRODUCTION_MAX_SEND_RATE: Final = PROFILES["production"].max_send_rate

REVIEW_STATUSES: Final = frozenset({"PENDING", "GRANTED", "DENIED", "FAILED"})  # model enum [M]
WRITABLE_KEYS: Final = (
    "sandbox",
    "max_send_rate",
    "max_24h_send",
    "sending_enabled",
    "review_status",
)
STATISTICS_DAYS: Final = 14  # GetSendStatistics covers the last two weeks [D]


def describe(state: AccountState, *, now: float | None = None) -> dict[str, Any]:
    """The account as the control API shows it.

    Keys: ``sandbox``, ``max_send_rate``, ``max_24h_send``, ``sending_enabled``,
    ``review_status``, ``sent_last_24h``, ``profile`` (the profile's own values). Pass ``now``
    (the emulator clock) to expire the 24 h window first; without it the last known count is
    reported.
    """
    sent = throttle.sent_last_24h(state, now) if now is not None else state.sent_window_total
    return {
        "sandbox": state.sandbox,
        "max_send_rate": state.max_send_rate,
        "max_24h_send": state.max_24h_send,
        "sending_enabled": state.sending_enabled,
        "review_status": state.review_status,
        "sent_last_24h": sent,
        "profile": {
            "sandbox": state.profile.sandbox,
            "max_send_rate": state.profile.max_send_rate,
            "max_24h_send": state.profile.max_24h_send,
        },
    }


def _rate(key: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key}: expected a number or null, got {value!r}")
    number = float(value)
    if number != throttle.UNLIMITED and not number > 0:
        raise ValueError(f"{key}: must be positive, or -1 for unlimited (got {value!r})")
    return number


def _flag(key: str, value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ValueError(f"{key}: expected true, false or null, got {value!r}")


def apply_settings(state: AccountState, changes: Mapping[str, object], *, now: float) -> None:
    """Change the account at run time (the control API's ``PATCH /_emulator/account``).

    Accepts `WRITABLE_KEYS`; ``None`` restores the profile's value. Turning ``sandbox`` on
    also applies the sandbox quotas (200 / 1) unless rates are given in the same call, as AWS
    does. ``review_status`` ``GRANTED`` grants production access (sandbox off, 50,000 / 14 unless
    given); ``DENIED`` or ``FAILED`` keeps the sandbox. Raises `ValueError` naming a bad key or
    value; nothing is changed then.
    """
    unknown = [key for key in changes if key not in WRITABLE_KEYS]
    if unknown:
        raise ValueError(
            f"{unknown[0]}: not a writable account setting ({', '.join(WRITABLE_KEYS)})"
        )
    sandbox = _flag("sandbox", changes.get("sandbox"))
    sending = _flag("sending_enabled", changes.get("sending_enabled"))
    rate = _rate("max_send_rate", changes.get("max_send_rate"))
    daily = _rate("max_24h_send", changes.get("max_24h_send"))
    review = changes.get("review_status")
    if review is not None and review not in REVIEW_STATUSES:
        raise ValueError(
            f"review_status: expected one of {', '.join(sorted(REVIEW_STATUSES))} or null, "
            f"got {review!r}"
        )
    rate_given = "max_send_rate" in changes
    daily_given = "max_24h_send" in changes
    if review == "GRANTED":
        state.sandbox_override = False
        if not rate_given:
            rate, rate_given = PRODUCTION_MAX_SEND_RATE, True
        if not daily_given:
            daily, daily_given = PRODUCTION_MAX_24H_SEND, True
    if "review_status" in changes:
        state.review_status = review if isinstance(review, str) else None
        if review is not None and state.review_case_id is None:
            state.review_case_id = _case_id()
    if "sandbox" in changes and review != "GRANTED":
        state.sandbox_override = sandbox
        if sandbox:
            if not rate_given:
                rate, rate_given = SANDBOX_MAX_SEND_RATE, True
            if not daily_given:
                daily, daily_given = SANDBOX_MAX_24H_SEND, True
    if "sending_enabled" in changes:
        state.sending_enabled = True if sending is None else sending
    if rate_given:
        state.max_send_rate_override = rate
        state.bucket_tokens = None  # a new rate starts with a full bucket
        state.bucket_updated = now
    if daily_given:
        state.max_24h_send_override = daily


def _case_id() -> str:
    # Support-case ids are long decimal numbers [O]; only their shape matters here.
    return str(random.randint(10**15, 10**16 - 1))


def send_quota(state: AccountState, *, now: float) -> dict[str, float]:
    """v1 GetSendQuota / v2 ``SendQuota``: doubles; -1 means unlimited [D]."""
    return {
        "Max24HourSend": float(state.max_24h_send),
        "MaxSendRate": float(state.max_send_rate),
        "SentLast24Hours": float(throttle.sent_last_24h(state, now)),
    }


def send_statistics(state: AccountState, *, now: float) -> list[dict[str, Any]]:
    """v1 GetSendStatistics: one point per 15-minute interval with sends, last two weeks [D]."""
    horizon = now - STATISTICS_DAYS * 86_400
    points = []
    for start in sorted(state.statistics):
        if start + 900 <= horizon:
            continue
        counters = state.statistics[start]
        points.append({"Timestamp": datetime.fromtimestamp(start, UTC), **counters})
    return points


def get_account(state: AccountState, *, now: float) -> dict[str, Any]:
    """v2 GetAccount."""
    suppression: dict[str, Any] = {"SuppressedReasons": list(state.suppressed_reasons)}
    if state.suppression_validation is not None:
        suppression["ValidationAttributes"] = state.suppression_validation
    out: dict[str, Any] = {
        "DedicatedIpAutoWarmupEnabled": state.dedicated_ip_auto_warmup,
        "EnforcementStatus": state.enforcement_status,
        "ProductionAccessEnabled": not state.sandbox,
        "SendQuota": send_quota(state, now=now),
        "SendingEnabled": state.sending_enabled,
        "SuppressionAttributes": suppression,
    }
    if state.details is not None or state.review_status is not None:
        details = dict(state.details or {})
        if state.review_status is not None:
            details["ReviewDetails"] = {
                "Status": state.review_status,
                "CaseId": state.review_case_id or "",
            }
        out["Details"] = details
    return out


_DETAIL_KEYS: Final = (
    "MailType",
    "WebsiteURL",
    "ContactLanguage",
    "UseCaseDescription",
    "AdditionalContactEmailAddresses",
)


def put_account_details(state: AccountState, params: Mapping[str, Any]) -> None:
    """v2 PutAccountDetails: store the details; asking for production access opens a review.

    A review is ``PENDING`` until the control API grants or denies it (production access is
    never granted synchronously [D]). While one is pending the details cannot change:
    ``ConflictException`` 409 [M] (text [I]).
    """
    if state.review_status == "PENDING":
        raise errors.conflict(
            "Your account details cannot be updated while a review of them is in progress."
        )
    state.details = {key: params[key] for key in _DETAIL_KEYS if params.get(key) is not None}
    if params.get("ProductionAccessEnabled") and state.sandbox:
        state.review_status = "PENDING"
        state.review_case_id = _case_id()
