"""pytest plugin (entry point ``pytest11``): the ``ses_emulator`` fixture.

Installing the package is enough — pytest loads this module through its entry point::

    def test_welcome_email(ses_emulator):
        ses_emulator.sesv2.send_email(...)            # or your code, pointed at endpoint_url
        [message] = ses_emulator.messages(recipient="ada@example.com")
        assert message.subject == "Welcome, Ada"

One real emulator runs per test session (per pytest-xdist worker: each worker is its own
session) on a free loopback port; ``ses_emulator`` resets it before every test that uses it.
Options (command line, or the same names with underscores in the ini file):
``--ses-emulator-profile``, ``--ses-emulator-region``, ``--ses-emulator-verified-identity``.

This module is imported by every pytest run in an environment where the package is installed,
so it imports nothing heavy at module level; the server and boto3 load on first use.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal, Unpack, overload

import pytest

from emulator.client import EmulatorClient

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient
    from mypy_boto3_sesv2 import SESV2Client

    from emulator.client import (
        AccountChanges,
        AccountSettings,
        ClockControl,
        IdentityInfo,
        MessageFilters,
        SentMessage,
        VerificationStatus,
    )
    from emulator.server import EmulatorServer
    from emulator.ses.state import Backend

__all__ = ["SesEmulator", "ses_emulator", "ses_emulator_session"]

_PROFILES = ("unlimited", "sandbox", "production")
# Dummy credentials: the emulator maps any non-12-digit access key to its default account.
_ACCESS_KEY = "AKIDEXAMPLE"
_SECRET_KEY = "secret"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``--ses-emulator-*`` options and their ini equivalents."""
    group = parser.getgroup("ses-emulator", "SES emulator fixture (seskit)")
    group.addoption(
        "--ses-emulator-profile",
        choices=_PROFILES,
        default=None,
        help="account profile of the ses_emulator server (default: unlimited)",
    )
    group.addoption(
        "--ses-emulator-region",
        default=None,
        help="default region of the ses_emulator server and its clients (default: us-east-1)",
    )
    group.addoption(
        "--ses-emulator-verified-identity",
        action="append",
        default=None,
        metavar="IDENTITY",
        help="identity (address or domain) verified in every account; repeatable",
    )
    parser.addini("ses_emulator_profile", "account profile of the ses_emulator server")
    parser.addini("ses_emulator_region", "default region of the ses_emulator server")
    parser.addini(
        "ses_emulator_verified_identities",
        "identities verified in every account (one per line)",
        type="linelist",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Check the options up front, so a typo is a usage error before any test runs."""
    _server_overrides(config)


def _server_overrides(config: pytest.Config) -> dict[str, Any]:
    """Settings overrides from the command line, else the ini file, else none."""
    overrides: dict[str, Any] = {}
    profile = config.getoption("ses_emulator_profile") or config.getini("ses_emulator_profile")
    if profile:
        if profile not in _PROFILES:
            raise pytest.UsageError(
                f"ses_emulator_profile: one of {', '.join(_PROFILES)} (got {profile!r})"
            )
        overrides["profile"] = profile
    region = config.getoption("ses_emulator_region") or config.getini("ses_emulator_region")
    if region:
        overrides["region"] = region
    identities = config.getoption("ses_emulator_verified_identity") or config.getini(
        "ses_emulator_verified_identities"
    )
    if identities:
        overrides["verified_identities"] = tuple(identities)
    return overrides


class SesEmulator:
    """A running emulator, as the ``ses_emulator`` fixture hands it to a test.

    ``ses``/``sesv2`` are boto3 clients pointed at it (retries off, so a throttle is seen at
    once, dummy credentials, the emulator's region); `make_client` makes others, e.g. for a
    second account. Everything else goes through the control API (`client`).
    """

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.endpoint_url: str = server.endpoint_url
        self.region: str = server.settings.region
        self.client: EmulatorClient = EmulatorClient(
            self.endpoint_url, token=server.settings.control_token
        )
        self.clock: ClockControl = self.client.clock
        self._boto_clients: dict[tuple[str, str | None, str | None], Any] = {}

    @property
    def backend(self) -> Backend:
        """The in-process state (for assertions the HTTP API does not offer)."""
        return self.server.backend

    @property
    def ses(self) -> SESClient:
        """A boto3 SES v1 client for the default account."""
        return self.make_client("ses")

    @property
    def sesv2(self) -> SESV2Client:
        """A boto3 SES v2 client for the default account."""
        return self.make_client("sesv2")

    @overload
    def make_client(
        self, service: Literal["ses"], *, account: str | None = ..., region: str | None = ...
    ) -> SESClient: ...
    @overload
    def make_client(
        self, service: Literal["sesv2"], *, account: str | None = ..., region: str | None = ...
    ) -> SESV2Client: ...
    def make_client(
        self,
        service: Literal["ses", "sesv2"],
        *,
        account: str | None = None,
        region: str | None = None,
    ) -> Any:
        """A boto3 client for ``service``; ``account`` (12 digits) becomes the access key, which
        the emulator reads as the account id. Clients are cached for the session."""
        key = (service, account, region)
        client = self._boto_clients.get(key)
        if client is None:
            # Imported on first use: every pytest run imports this plugin, most never need boto3.
            import boto3  # noqa: PLC0415
            from botocore.config import Config  # noqa: PLC0415

            client = boto3.client(
                service,
                endpoint_url=self.endpoint_url,
                region_name=region or self.region,
                aws_access_key_id=account or _ACCESS_KEY,
                aws_secret_access_key=_SECRET_KEY,
                config=Config(retries={"total_max_attempts": 1}),
            )
            self._boto_clients[key] = client
        return client

    def reset(self) -> None:
        """Forget every message, identity, template, setting and fault; back to real time."""
        self.client.reset()

    def messages(
        self, *, include_raw: bool = False, **filters: Unpack[MessageFilters]
    ) -> list[SentMessage]:
        """Sent messages, most recent first (filters: see `emulator.client.MessageFilters`)."""
        return self.client.messages(include_raw=include_raw, **filters)

    def message(self, message_id: str, *, include_raw: bool = False) -> SentMessage:
        """One sent message by its MessageId."""
        return self.client.message(message_id, include_raw=include_raw)

    def raw(self, message_id: str) -> bytes:
        """The ``.eml`` bytes of a sent message."""
        return self.client.raw(message_id)

    def account(self, *, account: str | None = None, region: str | None = None) -> AccountSettings:
        """The sending limits and state of an account (default: the emulator's default)."""
        return self.client.account(account=account, region=region)

    def update_account(
        self,
        *,
        account: str | None = None,
        region: str | None = None,
        **changes: Unpack[AccountChanges],
    ) -> AccountSettings:
        """Change limits, e.g. ``update_account(sandbox=True)``; ``None`` restores a default."""
        return self.client.update_account(account=account, region=region, **changes)

    def verify_identity(
        self,
        identity: str,
        *,
        status: VerificationStatus | None = None,
        account: str | None = None,
        region: str | None = None,
    ) -> IdentityInfo:
        """Create an identity, or set its status (``"Pending"``, ``"Failed"``…)."""
        return self.client.verify_identity(identity, status=status, account=account, region=region)


@pytest.fixture(scope="session")
def ses_emulator_session(pytestconfig: pytest.Config) -> Iterator[SesEmulator]:
    """The session's emulator, NOT reset between tests (use ``ses_emulator`` in tests)."""
    # Imported on first use: the server pulls in aiohttp and botocore's service models.
    from emulator.server import EmulatorServer  # noqa: PLC0415

    server = EmulatorServer(**_server_overrides(pytestconfig))
    server.start()
    try:
        yield SesEmulator(server)
    finally:
        server.stop()


@pytest.fixture
def ses_emulator(ses_emulator_session: SesEmulator) -> SesEmulator:
    """A real SES emulator on a loopback port, reset before this test."""
    ses_emulator_session.reset()
    return ses_emulator_session
