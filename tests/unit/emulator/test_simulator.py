"""Mailbox-simulator addresses and per-recipient outcomes."""

from __future__ import annotations

import pytest

from emulator.config import PROFILES
from emulator.ses import simulator
from emulator.ses.state import AccountState, SuppressedDestination


@pytest.mark.parametrize(
    ("address", "outcome"),
    [
        ("success@simulator.amazonses.com", "delivered"),
        ("bounce@simulator.amazonses.com", "bounce"),
        ("ooto@simulator.amazonses.com", "ooto"),
        ("complaint@simulator.amazonses.com", "complaint"),
        ("suppressionlist@simulator.amazonses.com", "suppressed"),
        ("bounce+run-42@simulator.amazonses.com", "bounce"),
        ("complaint@Simulator.AmazonSES.com", "complaint"),
    ],
)
def test_simulator_addresses_map_to_their_outcome(address: str, outcome: str) -> None:
    assert simulator.simulator_outcome(address) == outcome
    assert simulator.is_simulator(address)


@pytest.mark.parametrize(
    "address",
    ["other@simulator.amazonses.com", "bounce@example.com", "bounce@sub.simulator.amazonses.com"],
)
def test_other_addresses_are_not_simulated(address: str) -> None:
    assert simulator.simulator_outcome(address) is None


def state() -> AccountState:
    return AccountState(account_id="1", region="us-east-1", profile=PROFILES["unlimited"])


def test_ordinary_recipient_is_delivered() -> None:
    assert simulator.outcome_for("a@example.com", state()) == "delivered"


def test_recipient_on_suppression_list_is_suppressed_case_insensitively() -> None:
    s = state()
    s.suppressed["a@example.com"] = SuppressedDestination(
        email="a@example.com", reason="BOUNCE", last_update=0.0
    )
    assert simulator.outcome_for("A@Example.com", s) == "suppressed"


def test_suppression_applies_only_for_reasons_the_account_suppresses() -> None:
    s = state()
    s.suppressed["a@example.com"] = SuppressedDestination(
        email="a@example.com", reason="COMPLAINT", last_update=0.0
    )
    s.suppressed_reasons = ["BOUNCE"]
    assert simulator.outcome_for("a@example.com", s) == "delivered"
    assert simulator.outcome_for("a@example.com", s, suppressed_reasons=["COMPLAINT"]) == (
        "suppressed"
    )


def test_simulator_outcome_wins_over_suppression_list() -> None:
    s = state()
    s.suppressed["success@simulator.amazonses.com"] = SuppressedDestination(
        email="success@simulator.amazonses.com", reason="BOUNCE", last_update=0.0
    )
    assert simulator.outcome_for("success@simulator.amazonses.com", s) == "delivered"


def test_an_address_longer_than_the_cache_bound_is_still_judged() -> None:
    long_local = "bounce+" + "x" * 400
    assert simulator.simulator_outcome(f"{long_local}@simulator.amazonses.com") == "bounce"
    assert simulator.simulator_outcome(f"{long_local}@example.com") is None


def test_repeated_questions_get_the_same_answer() -> None:
    for _ in range(2):  # the second round is answered from the cache
        assert simulator.simulator_outcome("ooto@SIMULATOR.amazonses.com") == "ooto"
        assert simulator.simulator_outcome("ooto@simulator.amazonses.com.evil") is None
