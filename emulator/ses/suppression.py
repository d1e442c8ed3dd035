"""The account-level suppression list (SES v2 only).

A send to an address on the list is still accepted (200 + MessageId) and counts toward the
quota; the message is recorded with outcome ``suppressed`` for that recipient when the entry's
reason is one the account (or the configuration set) suppresses [D] (ses-spec §3, §6.11).
Addresses are matched case-insensitively.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any, Final, Literal

from emulator.ses import errors
from emulator.ses.errors import SesError, Wire
from emulator.ses.state import AccountState, SuppressedDestination

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "delete_destination",
    "get_destination",
    "list_destinations",
    "put_destination",
    "set_suppressed_reasons",
]

DEFAULT_PAGE_SIZE: Final = 100  # [I] the API reference gives no default
MAX_PAGE_SIZE: Final = 1000  # [D] ListSuppressedDestinations PageSize
_REASONS: Final[dict[str, Literal["BOUNCE", "COMPLAINT"]]] = {
    "BOUNCE": "BOUNCE",
    "COMPLAINT": "COMPLAINT",
}  # model enum SuppressionListReason [M]


def _not_on_list(address: str) -> SesError:
    # v2 NotFoundException 404 [M]; text [I].
    return errors.not_found(
        f"Email address {address} does not exist on your suppression list.", v1_code="NotFound"
    )


def put_destination(state: AccountState, address: str, reason: str, *, now: float) -> None:
    """PutSuppressedDestination: add or update an entry. Refused in the sandbox [D].

    The sandbox refusal's code is undocumented: ``BadRequestException`` 400 [I].
    """
    if state.sandbox:
        raise errors.bad_request(
            "PutSuppressedDestination is not available while your account is in the sandbox."
        )
    checked = _REASONS.get(reason)
    if checked is None:
        raise errors.bad_request(f"Invalid suppression reason: {reason}.")
    state.suppressed[address.lower()] = SuppressedDestination(
        email=address, reason=checked, last_update=now
    )


def _summary(entry: SuppressedDestination) -> dict[str, Any]:
    return {
        "EmailAddress": entry.email,
        "Reason": entry.reason,
        "LastUpdateTime": datetime.fromtimestamp(entry.last_update, UTC),
    }


def get_destination(state: AccountState, address: str) -> dict[str, Any]:
    """GetSuppressedDestination: the entry, or ``NotFoundException`` 404."""
    entry = state.suppressed.get(address.lower())
    if entry is None:
        raise _not_on_list(address)
    out = _summary(entry)
    attributes = {}
    if entry.message_id:
        attributes["MessageId"] = entry.message_id
    if entry.feedback_id:
        attributes["FeedbackId"] = entry.feedback_id
    if attributes:
        out["Attributes"] = attributes
    return out


def delete_destination(state: AccountState, address: str) -> None:
    """DeleteSuppressedDestination: remove the entry, or ``NotFoundException`` 404."""
    if state.suppressed.pop(address.lower(), None) is None:
        raise _not_on_list(address)


def _invalid_token(token: str) -> SesError:
    # v2 InvalidNextTokenException 400 [M]; text [I].
    return SesError(
        f"The NextToken {token} is not valid.",
        v1=Wire("InvalidParameterValue", 400),
        v2=Wire("InvalidNextTokenException", 400),
    )


def _decode_token(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise _invalid_token(token) from exc
    prefix, _, number = text.partition(":")
    if prefix != "suppressed" or not number.isdigit():
        raise _invalid_token(token)
    return int(number)


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"suppressed:{offset}".encode()).decode("ascii")


def list_destinations(
    state: AccountState,
    *,
    reasons: list[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    page_size: int | None = None,
    next_token: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """ListSuppressedDestinations: one page of summaries (oldest update first) and the next token.

    ``reasons`` filters by reason; ``start``/``end`` bound ``LastUpdateTime`` (inclusive). A token
    that this emulator did not issue is ``InvalidNextTokenException`` 400 [M].
    """
    size = DEFAULT_PAGE_SIZE if page_size is None else page_size
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise errors.bad_request(f"PageSize must be between 1 and {MAX_PAGE_SIZE} (got {size}).")
    offset = _decode_token(next_token) if next_token else 0
    low = start.timestamp() if start is not None else None
    high = end.timestamp() if end is not None else None
    entries = [
        entry
        for entry in sorted(state.suppressed.values(), key=lambda e: (e.last_update, e.email))
        if (not reasons or entry.reason in reasons)
        and (low is None or entry.last_update >= low)
        and (high is None or entry.last_update <= high)
    ]
    if offset > len(entries):
        raise _invalid_token(next_token or "")
    page = entries[offset : offset + size]
    after = offset + size
    return [_summary(e) for e in page], (_encode_token(after) if after < len(entries) else None)


def set_suppressed_reasons(
    state: AccountState, reasons: list[str], validation: dict[str, Any] | None
) -> None:
    """PutAccountSuppressionAttributes: which reasons the account suppresses ([] = none)."""
    bad = [r for r in reasons if r not in _REASONS]
    if bad:
        raise errors.bad_request(f"Invalid suppression reason: {bad[0]}.")
    state.suppressed_reasons = list(dict.fromkeys(reasons))
    state.suppression_validation = validation
