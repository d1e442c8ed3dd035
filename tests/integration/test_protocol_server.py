"""`EmulatorServer`: the background server the fixtures and the pytest plugin are built on."""

from __future__ import annotations

import http.client
import threading
import time

import pytest

from emulator.config import Settings
from emulator.server import EmulatorServer
from emulator.serving import bind_socket


def _status(server: EmulatorServer) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("POST", "/", body=b"Action=ListIdentities")
        return connection.getresponse().status
    finally:
        connection.close()


def test_servers_bind_free_loopback_ports_and_keep_separate_state() -> None:
    with EmulatorServer() as first, EmulatorServer(Settings(region="eu-west-1")) as second:
        assert first.port != second.port
        assert first.endpoint_url == f"http://127.0.0.1:{first.port}"
        assert first.settings.port == first.port
        assert second.settings.region == "eu-west-1"
        assert first.backend is not second.backend
        assert _status(first) == _status(second) == 200


def test_overrides_apply_on_top_of_settings() -> None:
    server = EmulatorServer(Settings(profile="sandbox"), region="ap-south-1")
    assert (server.settings.profile, server.settings.region) == ("sandbox", "ap-south-1")
    assert server.settings.port == 0  # a free port unless port= is passed


def test_an_explicit_port_is_used() -> None:
    probe = bind_socket("127.0.0.1", 0)
    port = probe.getsockname()[1]
    probe.close()
    with EmulatorServer(port=port) as server:
        assert server.port == port
        assert _status(server) == 200


def test_a_port_in_use_fails_at_start() -> None:
    with EmulatorServer() as running, pytest.raises(OSError, match="in use"):
        EmulatorServer(port=running.port).start()


def test_stop_is_prompt_with_an_idle_keep_alive_connection_and_idempotent() -> None:
    server = EmulatorServer().start()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("POST", "/", body=b"Action=ListIdentities")
    connection.getresponse().read()  # the connection stays open (HTTP/1.1 keep-alive)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 5
    assert f"ses-emulator:{server.port}" not in {t.name for t in threading.enumerate()}
    server.stop()
    connection.close()
    with pytest.raises(ConnectionRefusedError):
        _status(server)


def test_starting_twice_is_an_error() -> None:
    with EmulatorServer() as server, pytest.raises(RuntimeError, match="already running"):
        server.start()
