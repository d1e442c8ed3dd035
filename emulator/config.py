"""Emulator settings: one frozen value built from CLI flags and ``SES_EMULATOR_*`` variables.

Behaviour that ses-spec.md marks [I] (inferred, unverified against the real service) has a
setting here, so a user who learns better can switch it without a new release.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["DEFAULT_ACCOUNT", "PROFILES", "AccountProfile", "Settings"]

DEFAULT_ACCOUNT = "000000000000"

ProfileName = Literal["unlimited", "sandbox", "production"]


@dataclass(frozen=True, slots=True)
class AccountProfile:
    """What a new (account, region) looks like."""

    sandbox: bool
    max_send_rate: float  # recipients per second; -1 = no limit
    max_24h_send: float  # recipients per rolling 24 h; -1 = unlimited (SES's own convention)


PROFILES: dict[str, AccountProfile] = {
    # The default: every rule enforced except the rate and the daily quota, so an existing
    # test suite runs unchanged. GetSendQuota reports Max24HourSend -1 ("unlimited").
    "unlimited": AccountProfile(sandbox=False, max_send_rate=-1.0, max_24h_send=-1.0),
    # Exactly a new AWS account [D][O]: sandbox, 200 recipients / 24 h, 1 recipient / s.
    "sandbox": AccountProfile(sandbox=True, max_send_rate=1.0, max_24h_send=200.0),
    # What new production accounts historically got [I]: 50,000 / 24 h, 14 / s.
    "production": AccountProfile(sandbox=False, max_send_rate=14.0, max_24h_send=50000.0),
}


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 4579
    region: str = "us-east-1"
    log_level: str = "INFO"

    # Account model
    profile: ProfileName = "unlimited"
    max_send_rate: float | None = None  # overrides the profile
    max_24h_send: float | None = None  # overrides the profile
    default_account: str = DEFAULT_ACCOUNT

    # Identities
    verification: Literal["instant", "pending"] = "instant"
    auto_verify: bool = False
    verified_identities: tuple[str, ...] = ()

    # [I] choices (ses-spec §2.1, §2.3, §5)
    daily_quota_v2_error: Literal["LimitExceededException", "TooManyRequestsException"] = (
        "LimitExceededException"
    )
    v1_size_counting: Literal["mime", "base64"] = "mime"
    max_message_tags: int | None = 50
    rate_burst_seconds: float = 1.0  # bucket capacity, in seconds of MaxSendRate
    # ses-spec §1.6 reads v1 constraint violations as ValidationError [O/I]; the issue text
    # also allows InvalidParameterValue.
    v1_validation_code: Literal["ValidationError", "InvalidParameterValue"] = "ValidationError"

    # Largest request body accepted: a v2 message of 40 MB [D] grows by 4/3 in base64, plus
    # JSON around it, so 60 MiB leaves room for every valid request.
    max_request_bytes: int = 60 * 1024 * 1024

    # Persistence and security (reliability issue)
    data_dir: str | None = None
    auth: Literal["off", "verify"] = "off"
    credentials: tuple[tuple[str, str], ...] = ()
    control_token: str | None = None

    def profile_values(self) -> AccountProfile:
        """The profile with the CLI overrides applied."""
        base = PROFILES[self.profile]
        return AccountProfile(
            sandbox=base.sandbox,
            max_send_rate=base.max_send_rate if self.max_send_rate is None else self.max_send_rate,
            max_24h_send=base.max_24h_send if self.max_24h_send is None else self.max_24h_send,
        )
