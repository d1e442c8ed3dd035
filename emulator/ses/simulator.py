"""The SES mailbox simulator, and what happens to each recipient of an accepted message.

The simulator addresses (ses-spec §4, [D] "Using the mailbox simulator"):

| address                                   | outcome                                          |
|-------------------------------------------|--------------------------------------------------|
| ``success@simulator.amazonses.com``       | ``delivered``                                    |
| ``bounce@simulator.amazonses.com``        | ``bounce`` (hard bounce, 550 5.1.1)              |
| ``ooto@simulator.amazonses.com``          | ``ooto`` (delivered + out-of-office reply)       |
| ``complaint@simulator.amazonses.com``     | ``complaint`` (delivered + ARF complaint)        |
| ``suppressionlist@simulator.amazonses.com`` | ``suppressed`` (bounce as if on the global list) |

A ``+label`` after the local part is allowed (``bounce+run42@…``) and the domain matches
case-insensitively. The API call always succeeds for them; they bypass the sandbox's recipient
verification and count toward the send rate but not toward the daily quota [D].

Any other recipient is ``delivered``, or ``suppressed`` when it is on the account's suppression
list for a reason that list currently enforces.
"""

from __future__ import annotations

from typing import Final, Literal

from emulator._shortcache import short_string_cache
from emulator.ses.state import AccountState
from seskit.rules import SIMULATOR_DOMAIN

__all__ = ["OUTCOMES", "Outcome", "is_simulator", "outcome_for", "simulator_outcome"]

Outcome = Literal["delivered", "bounce", "ooto", "complaint", "suppressed"]

# Local part (before any +label) → outcome, from the SES developer guide's simulator table [D].
OUTCOMES: Final[dict[str, Outcome]] = {
    "success": "delivered",
    "bounce": "bounce",
    "ooto": "ooto",
    "complaint": "complaint",
    "suppressionlist": "suppressed",
}


def _simulator_outcome(address: str) -> Outcome | None:
    """The simulated outcome for a bare address, or None if it is not a simulator address.

    >>> simulator_outcome("bounce+42@Simulator.AmazonSES.com")
    'bounce'
    """
    local, at, domain = address.rpartition("@")
    if not at or domain.lower() != SIMULATOR_DOMAIN:
        return None
    return OUTCOMES.get(local.split("+", 1)[0])


# Every send asks this of each recipient (twice: the quota skips simulator recipients, and the
# outcome is recorded), and recipients repeat from call to call: a bounded cache of answers,
# for strings no longer than an address SES accepts (320 characters [D]).
_CACHED_ADDRESS_LENGTH: Final = 320
simulator_outcome: Final = short_string_cache(
    _simulator_outcome, maxsize=8192, max_length=_CACHED_ADDRESS_LENGTH
)


def is_simulator(address: str) -> bool:
    """Is the bare ``address`` one of the mailbox simulator's addresses?"""
    return simulator_outcome(address) is not None


def outcome_for(
    address: str, state: AccountState, *, suppressed_reasons: list[str] | None = None
) -> Outcome:
    """What happens to one envelope recipient (bare address) of an accepted message.

    ``suppressed_reasons`` overrides the account's list (a configuration set's suppression
    options do that in SES); None means the account's ``SuppressedReasons``.
    """
    simulated = simulator_outcome(address)
    if simulated is not None:
        return simulated
    entry = state.suppressed.get(address.lower()) if state.suppressed else None
    if entry is not None:
        reasons = state.suppressed_reasons if suppressed_reasons is None else suppressed_reasons
        if entry.reason in reasons:
            return "suppressed"
    return "delivered"
