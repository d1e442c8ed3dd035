"""No loss under concurrency: 64 clients send a v1/v2 mix at once; every 200 is stored once.

Quick by default (64 clients x 4 calls, in-memory store); the heavy variant sets
``SESKIT_LOAD_CLIENTS``, ``SESKIT_LOAD_SENDS`` (calls per client) and
``SESKIT_LOAD_STORES=memory,sqlite`` and prints its figures (run pytest with ``-s``). The
server is ``python -m emulator`` in a child process, so client threads do not compete with it
for the test interpreter's GIL.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.integration.sendmix import (
    EmulatorProcess,
    client,
    fetch_messages,
    prepare_account,
    run_load,
    verify_messages,
)

CLIENTS = int(os.environ.get("SESKIT_LOAD_CLIENTS", "64"))
SENDS = int(os.environ.get("SESKIT_LOAD_SENDS", "4"))
# The quick run covers the in-memory store here; the SQLite store is loaded (and killed) by
# test_persistence_restart.py. The heavy run sets SESKIT_LOAD_STORES=memory,sqlite.
STORES = os.environ.get("SESKIT_LOAD_STORES", "memory").split(",")


@pytest.mark.parametrize("store", STORES)
def test_every_acknowledged_send_is_stored_exactly_once_and_counted(
    store: str, tmp_path: Path
) -> None:
    args = ["--data-dir", str(tmp_path / "data")] if store == "sqlite" else []
    with EmulatorProcess(*args) as server:
        url = server.endpoint_url
        prepare_account(url)
        result = run_load(url, clients=CLIENTS, sends_per_client=SENDS)

        stored = fetch_messages(url)
        problems = verify_messages(result.acknowledged, stored)
        lost = sum("acknowledged but not stored" in p for p in problems)
        # Figures first, so a heavy run reports them even when an assertion below fails.
        print(
            f"\nload[{store}]: {CLIENTS} clients, {result.calls} calls, "
            f"{len(result.acknowledged)} messages, {result.recipients} recipients, "
            f"failed calls {len(result.failures)}, lost {lost}, "
            f"{result.elapsed:.2f} s, {result.calls / result.elapsed:.0f} calls/s"
        )
        assert result.failures == []
        assert result.calls == CLIENTS * SENDS
        assert problems == []
        assert len(stored) == len(result.acknowledged)

        ses, sesv2 = client(url, "ses"), client(url, "sesv2")
        assert ses.get_send_quota()["SentLast24Hours"] == result.recipients
        assert sesv2.get_account()["SendQuota"]["SentLast24Hours"] == result.recipients
        points = ses.get_send_statistics()["SendDataPoints"]
        assert sum(p["DeliveryAttempts"] for p in points) == result.recipients
        assert sum(p["Rejects"] + p["Bounces"] + p["Complaints"] for p in points) == 0
