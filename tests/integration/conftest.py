"""Fixtures for integration tests: one real emulator per session, real boto3 clients.

* ``emulator_server`` (session): an `EmulatorServer` on a free 127.0.0.1 port.
* ``emulator`` (function): the same server, reset (all state, virtual clock back to real
  time) before the test; ``emulator.backend`` is the `Backend`, ``emulator.endpoint_url`` the URL.
* ``ses`` / ``sesv2``: boto3 clients for it (us-east-1, access key ``AKIDEXAMPLE``, so the
  default account ``000000000000``), retries off so one call is one request.
* ``make_client(service, *, account_key=..., region=..., **config)``: more clients, e.g. with a
  12-digit access key to act as another account.
* ``pytestmark = pytest.mark.shared_clients`` in a module: its tests get one ``ses`` and one
  ``sesv2`` client for the whole module instead of new ones per test (many short tests run
  faster; keep-alive connections then carry over from one test to the next).

Every test also fails if the emulator logged a traceback while it ran: an exception escaping a
handler is answered as a 500 ``InternalFailure`` and is always an emulator bug. A test that
provokes one on purpose is marked ``@pytest.mark.emulator_bug_expected``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from emulator.server import EmulatorServer

ClientFactory = Callable[..., Any]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "emulator_bug_expected: the test makes a handler fail on purpose; the traceback the "
        "emulator logs does not fail it",
    )
    config.addinivalue_line(
        "markers",
        "shared_clients: the module's tests share one ses and one sesv2 client (see conftest)",
    )


@pytest.fixture(autouse=True)
def _no_emulator_tracebacks(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    yield
    if request.node.get_closest_marker("emulator_bug_expected") is not None:
        return
    bugs = [r for r in caplog.get_records("call") if r.name == "emulator" and r.exc_info]
    assert not bugs, "the emulator failed inside a handler:\n" + "\n".join(
        caplog.handler.format(r) for r in bugs
    )


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def emulator(emulator_server: EmulatorServer) -> EmulatorServer:
    emulator_server.backend.reset()
    emulator_server.backend.clock.use_real_time()
    return emulator_server


@pytest.fixture(scope="session")
def boto_session() -> boto3.session.Session:
    # One session for all clients: it caches the loaded service models, so a new client costs
    # milliseconds instead of re-reading botocore's model files.
    return boto3.session.Session()


def _new_client(
    boto_session: boto3.session.Session,
    server: EmulatorServer,
    service: str,
    *,
    account_key: str = "AKIDEXAMPLE",
    region: str = "us-east-1",
    **config: Any,
) -> Any:
    options: dict[str, Any] = {"retries": {"total_max_attempts": 1}, **config}
    return boto_session.client(
        service,
        endpoint_url=server.endpoint_url,
        region_name=region,
        aws_access_key_id=account_key,
        aws_secret_access_key="secret",
        config=Config(**options),
    )


@pytest.fixture
def make_client(emulator: EmulatorServer, boto_session: boto3.session.Session) -> ClientFactory:
    return functools.partial(_new_client, boto_session, emulator)


@pytest.fixture(scope="module")
def module_clients(
    emulator_server: EmulatorServer, boto_session: boto3.session.Session
) -> dict[str, Any]:
    """One ``ses`` and one ``sesv2`` client for a ``shared_clients`` module."""
    return {
        service: _new_client(boto_session, emulator_server, service) for service in ("ses", "sesv2")
    }


def _client(request: pytest.FixtureRequest, make_client: ClientFactory, service: str) -> Any:
    if request.node.get_closest_marker("shared_clients") is not None:
        clients: dict[str, Any] = request.getfixturevalue("module_clients")
        return clients[service]
    return make_client(service)


@pytest.fixture
def ses(request: pytest.FixtureRequest, make_client: ClientFactory) -> Any:
    return _client(request, make_client, "ses")


@pytest.fixture
def sesv2(request: pytest.FixtureRequest, make_client: ClientFactory) -> Any:
    return _client(request, make_client, "sesv2")
