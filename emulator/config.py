"""Emulator settings: one frozen value built from CLI flags and ``SES_EMULATOR_*`` variables.

Behaviour that ses-spec.md marks [I] (inferred, unverified against the real service) has a
setting here, so a user who learns better can switch it without a new release.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

__all__ = [
    "DEFAULT_ACCOUNT",
    "ENV_PREFIX",
    "OPTIONS",
    "PROFILES",
    "AccountProfile",
    "DataDirError",
    "Option",
    "Settings",
    "SettingsError",
    "split_relay_address",
]

DEFAULT_ACCOUNT = "000000000000"

ProfileName = Literal["unlimited", "sandbox", "production"]
Verification = Literal["instant", "pending"]
DailyQuotaV2Error = Literal["LimitExceededException", "TooManyRequestsException"]
SizeCounting = Literal["mime", "base64"]
V1ValidationCode = Literal["ValidationError", "InvalidParameterValue"]
AuthMode = Literal["off", "verify"]
RelayTls = Literal["none", "starttls", "tls"]


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


class SettingsError(ValueError):
    """A setting has an invalid value; ``name`` is the field, flag or variable to fix."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


class DataDirError(RuntimeError):
    """The data directory cannot be used; ``path`` is the offending file or directory.

    Raised by `emulator.persistence` when the emulator starts with ``--data-dir``."""

    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"data dir problem at {path}: {problem}")
        self.path = str(path)
        self.problem = problem


def _check_choice(name: str, value: object, allowed: tuple[object, ...]) -> None:
    if value not in allowed:
        choices = ", ".join(str(a) for a in allowed)
        raise SettingsError(name, f"must be one of {choices} (got {value!r})")


def _check_limit(name: str, value: float | None) -> None:
    # SES's own convention: -1 means "no limit" (GetSendQuota Max24HourSend -1).
    if value is not None and value != -1 and not value >= 0:
        raise SettingsError(name, f"must be -1 (no limit) or a number >= 0 (got {value!r})")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything that configures one emulator process (validated on construction).

    Build it directly, from ``SES_EMULATOR_*`` variables with `Settings.from_env`, or from the
    command line (``python -m emulator --help``); every field in `OPTIONS` has a flag and a
    variable.
    """

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
    verification: Verification = "instant"
    auto_verify: bool = False
    verified_identities: tuple[str, ...] = ()

    # [I] choices (ses-spec §2.1, §2.3, §5)
    daily_quota_v2_error: DailyQuotaV2Error = "LimitExceededException"
    v1_size_counting: SizeCounting = "mime"
    max_message_tags: int | None = 50
    rate_burst_seconds: float = 1.0  # bucket capacity, in seconds of MaxSendRate
    # ses-spec §1.6 reads v1 constraint violations as ValidationError [O/I]; the issue text
    # also allows InvalidParameterValue.
    v1_validation_code: V1ValidationCode = "ValidationError"

    # Largest request body accepted: a v2 message of 40 MB [D] grows by 4/3 in base64, plus
    # JSON around it, so 60 MiB leaves room for every valid request.
    max_request_bytes: int = 60 * 1024 * 1024

    # Persistence and security (reliability issue)
    data_dir: str | None = None
    auth: AuthMode = "off"
    credentials: tuple[tuple[str, str], ...] = ()
    credentials_file: str | None = None  # KEY:SECRET lines or an AWS credentials file
    control_token: str | None = None

    # Event publishing (docs/events.md): webhook subscriptions to SNS topic ARNs, as
    # (topic ARN, URL) pairs; SNS's SubscriptionConfirmation handshake unless auto-confirmed.
    sns_subscriptions: tuple[tuple[str, str], ...] = ()
    sns_auto_confirm: bool = False
    # SNS's default HTTP delivery policy makes 1 attempt + 3 retries [D]; the emulator backs off
    # exponentially from sns_retry_delay seconds (SNS waits 20 s, too slow for a test suite).
    sns_delivery_attempts: int = 4
    sns_retry_delay: float = 0.5
    sns_timeout: float = 15.0  # SNS gives an HTTP endpoint 15 s to answer [D]
    # Base URL put in SubscribeURL / UnsubscribeURL (default http://HOST:PORT of the emulator).
    sns_public_url: str | None = None
    # ooto@simulator: a Delivery (today's docs [D]); an SES of 2013 also sent a Transient/General
    # Bounce notification for the auto-reply [O, old], which this switch adds back.
    ooto_transient_bounce: bool = False

    # SMTP relay (docs/inbox.md, emulator/relay.py): forward every accepted message to a real
    # SMTP server such as Mailpit, as "host:port"; off when None.
    smtp_relay: str | None = None
    smtp_relay_tls: RelayTls = "none"
    smtp_relay_user: str | None = None
    smtp_relay_password: str | None = None
    smtp_relay_verify_tls: bool = True  # off for a local server with a self-signed certificate
    smtp_relay_attempts: int = 3  # per message, retries included
    smtp_relay_retry_delay: float = 0.5  # seconds before the first retry, doubling after each
    smtp_relay_timeout: float = 10.0  # seconds for one SMTP conversation step

    # ``python -m emulator --split``: two processes, an HTTP front that parses and serialises
    # SES requests and this one owning all state (emulator/split.py); the CLI only.
    split: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise SettingsError("port", f"must be 0..65535 (got {self.port})")
        if not self.host:
            raise SettingsError("host", "must not be empty")
        if not self.region:
            raise SettingsError("region", "must not be empty")
        if logging.getLevelNamesMapping().get(self.log_level.upper()) is None:
            raise SettingsError("log_level", f"unknown level {self.log_level!r}")
        _check_choice("profile", self.profile, tuple(PROFILES))
        _check_choice("verification", self.verification, get_args(Verification))
        _check_choice(
            "daily_quota_v2_error", self.daily_quota_v2_error, get_args(DailyQuotaV2Error)
        )
        _check_choice("v1_size_counting", self.v1_size_counting, get_args(SizeCounting))
        _check_choice("v1_validation_code", self.v1_validation_code, get_args(V1ValidationCode))
        _check_choice("auth", self.auth, get_args(AuthMode))
        if self.auth == "verify" and not self.credentials and self.credentials_file is None:
            raise SettingsError(
                "credentials", "--auth verify needs --credentials KEY:SECRET or --credentials-file"
            )
        for key, secret in self.credentials:
            if not key or not secret:
                raise SettingsError("credentials", f"expected KEY:SECRET (got {key!r}:…)")
        if self.control_token is not None and not self.control_token:
            raise SettingsError("control_token", "must not be empty")
        _check_limit("max_send_rate", self.max_send_rate)
        _check_limit("max_24h_send", self.max_24h_send)
        if self.max_message_tags is not None and self.max_message_tags < 0:
            raise SettingsError("max_message_tags", "must be >= 0 or None (no limit)")
        if self.max_request_bytes <= 0:
            raise SettingsError("max_request_bytes", "must be positive")
        if not 0 < self.rate_burst_seconds < math.inf:
            raise SettingsError("rate_burst_seconds", "must be a positive number of seconds")
        if not (len(self.default_account) == 12 and self.default_account.isdigit()):
            raise SettingsError("default_account", "must be a 12-digit account id")
        for topic_arn, url in self.sns_subscriptions:
            _check_subscription(topic_arn, url)
        if self.sns_delivery_attempts < 1:
            raise SettingsError("sns_delivery_attempts", "must be >= 1")
        if not self.sns_retry_delay >= 0:
            raise SettingsError("sns_retry_delay", "must be >= 0 seconds")
        if not self.sns_timeout > 0:
            raise SettingsError("sns_timeout", "must be > 0 seconds")
        if self.smtp_relay is not None:
            _check_relay_address(self.smtp_relay)
        _check_choice("smtp_relay_tls", self.smtp_relay_tls, get_args(RelayTls))
        if (self.smtp_relay_user is None) != (self.smtp_relay_password is None):
            raise SettingsError(
                "smtp_relay_user", "--smtp-relay-user and --smtp-relay-password go together"
            )
        if self.smtp_relay_attempts < 1:
            raise SettingsError("smtp_relay_attempts", "must be >= 1")
        if not self.smtp_relay_retry_delay >= 0:
            raise SettingsError("smtp_relay_retry_delay", "must be >= 0 seconds")
        if not self.smtp_relay_timeout > 0:
            raise SettingsError("smtp_relay_timeout", "must be > 0 seconds")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``SES_EMULATOR_*`` variables (see `OPTIONS`), then ``overrides``.

        >>> Settings.from_env({"SES_EMULATOR_PROFILE": "sandbox"}).profile
        'sandbox'
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for option in OPTIONS:
            text = env.get(option.env)
            if text is not None:
                values[option.field] = option.from_env(text)
        values.update(overrides)
        return cls(**values)

    def profile_values(self) -> AccountProfile:
        """The profile with the CLI overrides applied."""
        base = PROFILES[self.profile]
        return AccountProfile(
            sandbox=base.sandbox,
            max_send_rate=base.max_send_rate if self.max_send_rate is None else self.max_send_rate,
            max_24h_send=base.max_24h_send if self.max_24h_send is None else self.max_24h_send,
        )


ENV_PREFIX = "SES_EMULATOR_"


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def _credential(text: str) -> tuple[str, str]:
    key, sep, secret = text.partition(":")
    if not sep or not key.strip() or not secret.strip():
        raise ValueError(f"expected KEY:SECRET (got {text.split(':', 1)[0]!r}…)")
    return key.strip(), secret.strip()


def _check_subscription(topic_arn: str, url: str) -> None:
    if not topic_arn.startswith("arn:") or topic_arn.count(":") < 5:
        raise SettingsError("sns_subscriptions", f"not a topic ARN: {topic_arn!r}")
    if not url.startswith(("http://", "https://")):
        raise SettingsError("sns_subscriptions", f"not an http(s) URL: {url!r}")


def split_relay_address(text: str) -> tuple[str, int]:
    """``"host:port"`` (or ``"[::1]:port"``) → ``(host, port)``; `ValueError` if malformed."""
    host, sep, port_text = text.strip().rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) <= 65535:
        raise ValueError(f"expected HOST:PORT with a port 1..65535 (got {text!r})")
    return host, int(port_text)


def _check_relay_address(text: str) -> None:
    try:
        split_relay_address(text)
    except ValueError as exc:
        raise SettingsError("smtp_relay", str(exc)) from exc


def _subscription(text: str) -> tuple[str, str]:
    # TOPIC_ARN=URL; an ARN has no "=", so the first one separates them.
    topic_arn, sep, url = text.partition("=")
    if not sep or not topic_arn.strip() or not url.strip():
        raise ValueError(f"expected TOPIC_ARN=URL (got {text!r})")
    return topic_arn.strip(), url.strip()


def _optional_int(text: str) -> int | None:
    return None if text.strip().lower() in ("", "none") else int(text)


@dataclass(frozen=True, slots=True, kw_only=True)
class Option:
    """One `Settings` field reachable as a CLI flag and as ``SES_EMULATOR_<FIELD>``."""

    field: str
    flag: str  # "--max-send-rate"
    help: str
    parse: Callable[[str], Any] = str
    choices: tuple[str, ...] | None = None
    repeatable: bool = False  # the flag may repeat; the variable is comma-separated
    switch: bool = False  # --flag / --no-flag; the variable is true/false

    @property
    def env(self) -> str:
        """The environment variable: ``SES_EMULATOR_`` + the field name upper-cased."""
        return ENV_PREFIX + self.field.upper()

    def from_env(self, text: str) -> Any:
        """The field's value from the variable's text (`SettingsError` naming the variable)."""
        try:
            if self.switch:
                return _boolean(text)
            if self.repeatable:
                return tuple(self.parse(p.strip()) for p in text.split(",") if p.strip())
            value = self.parse(text)
        except ValueError as exc:
            raise SettingsError(self.env, str(exc)) from exc
        if self.choices is not None and value not in self.choices:
            raise SettingsError(self.env, f"must be one of {', '.join(self.choices)}")
        return value


OPTIONS: tuple[Option, ...] = (
    Option(field="host", flag="--host", help="address to listen on (default 127.0.0.1)"),
    Option(field="port", flag="--port", parse=int, help="port (default 4579; 0 = a free port)"),
    Option(field="region", flag="--region", help="region of unsigned requests (us-east-1)"),
    Option(
        field="log_level",
        flag="--log-level",
        parse=str.upper,
        choices=("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"),
        help="logging level (INFO)",
    ),
    Option(
        field="profile",
        flag="--profile",
        choices=get_args(ProfileName),
        help="what a new account looks like: unlimited (default), sandbox, production",
    ),
    Option(
        field="max_send_rate",
        flag="--max-send-rate",
        parse=float,
        help="recipients per second for new accounts (-1 = no limit; overrides the profile)",
    ),
    Option(
        field="max_24h_send",
        flag="--max-24h-send",
        parse=float,
        help="recipients per rolling 24 h for new accounts (-1 = unlimited)",
    ),
    Option(
        field="verification",
        flag="--verification",
        choices=get_args(Verification),
        help="new identities verify instantly (default) or stay Pending",
    ),
    Option(
        field="auto_verify",
        flag="--auto-verify",
        switch=True,
        help="treat every identity as verified",
    ),
    Option(
        field="verified_identities",
        flag="--verified-identity",
        repeatable=True,
        help="an identity verified in every new account (repeatable; env: comma-separated)",
    ),
    Option(
        field="daily_quota_v2_error",
        flag="--daily-quota-v2-error",
        choices=get_args(DailyQuotaV2Error),
        help="v2 error for an exhausted daily quota (undocumented by AWS)",
    ),
    Option(
        field="v1_size_counting",
        flag="--v1-size-counting",
        choices=get_args(SizeCounting),
        help="v1 10 MB limit measured on the MIME message (default) or its base64 form",
    ),
    Option(
        field="v1_validation_code",
        flag="--v1-validation-code",
        choices=get_args(V1ValidationCode),
        help="v1 error code for model constraint violations (ValidationError)",
    ),
    Option(
        field="data_dir",
        flag="--data-dir",
        help="keep messages and state in DIR/emulator.sqlite3 across restarts (default: memory)",
    ),
    Option(
        field="auth",
        flag="--auth",
        choices=get_args(AuthMode),
        help="off (default): accept any signature; verify: check SigV4 against --credentials",
    ),
    Option(
        field="credentials",
        flag="--credentials",
        parse=_credential,
        repeatable=True,
        help="an access key and its secret, KEY:SECRET, for --auth verify (repeatable)",
    ),
    Option(
        field="credentials_file",
        flag="--credentials-file",
        help="a file of KEY:SECRET lines, or an AWS credentials file, for --auth verify",
    ),
    Option(
        field="control_token",
        flag="--control-token",
        help="require 'Authorization: Bearer TOKEN' on /_emulator and /_aws (default: open)",
    ),
    Option(
        field="max_message_tags",
        flag="--max-message-tags",
        parse=_optional_int,
        help="most tags per message (50; 'none' = no limit)",
    ),
    Option(
        field="rate_burst_seconds",
        flag="--rate-burst-seconds",
        parse=float,
        help="send-rate bucket capacity, in seconds of MaxSendRate (1)",
    ),
    Option(
        field="max_request_bytes",
        flag="--max-request-bytes",
        parse=int,
        help="largest request body accepted, in bytes (62914560 = 60 MiB)",
    ),
    Option(
        field="sns_subscriptions",
        flag="--sns-subscription",
        parse=_subscription,
        repeatable=True,
        help="deliver events published to an SNS topic to a webhook: TOPIC_ARN=URL (repeatable)",
    ),
    Option(
        field="sns_auto_confirm",
        flag="--sns-auto-confirm",
        switch=True,
        help="confirm webhook subscriptions at once, skipping SNS's SubscriptionConfirmation",
    ),
    Option(
        field="sns_delivery_attempts",
        flag="--sns-delivery-attempts",
        parse=int,
        help="attempts per webhook delivery, retries included (4, as SNS's default policy)",
    ),
    Option(
        field="sns_retry_delay",
        flag="--sns-retry-delay",
        parse=float,
        help="seconds before the first webhook retry, doubling after each (0.5)",
    ),
    Option(
        field="sns_timeout",
        flag="--sns-timeout",
        parse=float,
        help="seconds a webhook has to answer one delivery (15, as SNS)",
    ),
    Option(
        field="sns_public_url",
        flag="--sns-public-url",
        help="base URL webhooks reach the emulator at, for SubscribeURL (default http://HOST:PORT)",
    ),
    Option(
        field="ooto_transient_bounce",
        flag="--ooto-transient-bounce",
        switch=True,
        help="ooto@simulator also gets a Transient/General Bounce event (older SES behaviour)",
    ),
    Option(
        field="smtp_relay",
        flag="--smtp-relay",
        help="forward every accepted message to this SMTP server, HOST:PORT (e.g. Mailpit)",
    ),
    Option(
        field="smtp_relay_tls",
        flag="--smtp-relay-tls",
        choices=get_args(RelayTls),
        help="relay connection security: none (default), starttls, or tls (implicit, port 465)",
    ),
    Option(field="smtp_relay_user", flag="--smtp-relay-user", help="relay SMTP AUTH user name"),
    Option(
        field="smtp_relay_password",
        flag="--smtp-relay-password",
        help="relay SMTP AUTH password (prefer the environment variable)",
    ),
    Option(
        field="smtp_relay_verify_tls",
        flag="--smtp-relay-verify-tls",
        switch=True,
        help="check the relay's TLS certificate (default on; --no-... for self-signed ones)",
    ),
    Option(
        field="smtp_relay_attempts",
        flag="--smtp-relay-attempts",
        parse=int,
        help="attempts per relayed message, retries included (3)",
    ),
    Option(
        field="smtp_relay_retry_delay",
        flag="--smtp-relay-retry-delay",
        parse=float,
        help="seconds before the first relay retry, doubling after each (0.5)",
    ),
    Option(
        field="smtp_relay_timeout",
        flag="--smtp-relay-timeout",
        parse=float,
        help="seconds the relay waits for each SMTP step (10)",
    ),
    Option(
        field="split",
        flag="--split",
        switch=True,
        help="serve from two processes, an HTTP front and a state owner, for more throughput"
        " (python -m emulator only)",
    ),
)

assert {o.field for o in OPTIONS} <= {f.name for f in dataclasses.fields(Settings)}
