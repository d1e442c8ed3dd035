"""Fault rules: validation naming the field, matching, count bookkeeping, the HTTP routes."""

from __future__ import annotations

import random
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from emulator.faults import (
    FAULT_RULES,
    FaultError,
    FaultRuleError,
    FaultRules,
    add_fault_routes,
    parse_rule,
)

THROTTLE: dict[str, Any] = {
    "code": "Throttling",
    "status": 400,
    "message": "Maximum sending rate exceeded.",
}


class _Fixed:
    """A RandomSource that returns preset values, to pin probability decisions."""

    def __init__(self, *values: float) -> None:
        self._values = list(values)

    def random(self) -> float:
        return self._values.pop(0)


def test_count_rule_hits_exactly_n_matching_requests() -> None:
    rules = FaultRules()
    rules.add({"operation": "SendEmail", "count": 2, "error": THROTTLE})
    rng = random.Random(0)
    hits = [rules.match("v1", "SendEmail", rng) for _ in range(4)]
    assert [h is not None for h in hits] == [True, True, False, False]
    assert rules.to_json()[0]["remaining"] == 0


def test_rule_filters_on_operation_and_api() -> None:
    rules = FaultRules()
    rules.add({"operation": "SendEmail", "api": "v2", "error": THROTTLE})
    rng = random.Random(0)
    assert rules.match("v1", "SendEmail", rng) is None
    assert rules.match("v2", "GetAccount", rng) is None
    fault = rules.match("v2", "SendEmail", rng)
    assert fault is not None
    assert fault.error == FaultError(
        code="Throttling", status=400, message="Maximum sending rate exceeded."
    )


def test_rule_without_filters_hits_everything() -> None:
    rules = FaultRules()
    rules.add({"error": {"code": "ServiceUnavailable", "status": 503, "message": "x"}})
    assert rules.match("v1", "ListIdentities", random.Random(0)) is not None
    assert rules.match("v2", "GetAccount", random.Random(0)) is not None


def test_probability_uses_the_injected_random_source() -> None:
    rules = FaultRules()
    rules.add({"probability": 0.25, "error": THROTTLE})
    rng = _Fixed(0.1, 0.25, 0.9)
    assert rules.match("v1", "SendEmail", rng) is not None  # 0.1 < 0.25
    assert rules.match("v1", "SendEmail", rng) is None  # 0.25 is not < 0.25
    assert rules.match("v1", "SendEmail", rng) is None


def test_probability_rate_is_close_to_the_rule_over_many_draws() -> None:
    rules = FaultRules()
    rules.add({"probability": 0.3, "error": THROTTLE})
    rng = random.Random(1234)
    hits = sum(rules.match("v1", "SendEmail", rng) is not None for _ in range(10_000))
    assert 2_800 <= hits <= 3_200


def test_first_applicable_rule_wins_and_exhausted_rules_fall_through() -> None:
    rules = FaultRules()
    first = rules.add({"count": 1, "error": THROTTLE})
    second = rules.add({"error": {"code": "InternalFailure", "status": 500, "message": "boom"}})
    rng = random.Random(0)
    hit1 = rules.match("v1", "SendEmail", rng)
    hit2 = rules.match("v1", "SendEmail", rng)
    assert hit1 is not None
    assert hit2 is not None
    assert (hit1.rule_id, hit2.rule_id) == (first.id, second.id)


def test_latency_only_rule_has_no_error() -> None:
    rules = FaultRules()
    rules.add({"latency_ms": 250})
    fault = rules.match("v2", "SendEmail", random.Random(0))
    assert fault is not None
    assert (fault.error, fault.latency_ms) == (None, 250)


def test_fault_error_becomes_the_same_wire_error_in_both_apis() -> None:
    error = FaultError(
        code="TooManyRequestsException", status=429, message="slow down"
    ).to_ses_error()
    assert (error.v1.code, error.v1.status) == ("TooManyRequestsException", 429)
    assert error.v2 == error.v1
    assert error.message == "slow down"


def test_clear_removes_every_rule() -> None:
    rules = FaultRules()
    rules.add({"error": THROTTLE})
    rules.add({"latency_ms": 1})
    assert rules.clear() == 2
    assert len(rules) == 0
    assert rules.match("v1", "SendEmail", random.Random(0)) is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ([], "rule"),
        ({"operation": "SendMail", "error": THROTTLE}, "operation"),
        ({"operation": "SendBulkEmail", "api": "v1", "error": THROTTLE}, "operation"),
        ({"operation": "", "error": THROTTLE}, "operation"),
        ({"api": "v3", "error": THROTTLE}, "api"),
        ({"probability": 0, "error": THROTTLE}, "probability"),
        ({"probability": 1.5, "error": THROTTLE}, "probability"),
        ({"probability": "0.5", "error": THROTTLE}, "probability"),
        ({"probability": 0.5, "count": 1, "error": THROTTLE}, "probability"),
        ({"count": 0, "error": THROTTLE}, "count"),
        ({"count": True, "error": THROTTLE}, "count"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"latency_ms": 1.5}, "latency_ms"),
        ({}, "error"),
        ({"error": "Throttling"}, "error"),
        ({"error": {"status": 400}}, "error.code"),
        ({"error": {"code": "no spaces", "status": 400}}, "error.code"),
        ({"error": {"code": "X", "status": 200}}, "error.status"),
        ({"error": {"code": "X", "status": 400, "message": 1}}, "error.message"),
        ({"error": {"code": "X", "status": 400, "type": "Sender"}}, "error.type"),
        ({"error": THROTTLE, "delay": 5}, "delay"),
    ],
)
def test_invalid_rule_names_the_field(data: Any, field: str) -> None:
    with pytest.raises(FaultRuleError) as exc:
        parse_rule(data, rule_id="r")
    assert exc.value.field == field
    assert str(exc.value).startswith(f"{field}: ")


def test_operation_of_either_api_is_accepted_without_api() -> None:
    assert parse_rule({"operation": "SendBulkEmail", "error": THROTTLE}, rule_id="r").api is None
    assert parse_rule({"operation": "SendRawEmail", "error": THROTTLE}, rule_id="r").operation


def test_add_many_is_all_or_nothing_and_indexes_the_bad_rule() -> None:
    rules = FaultRules()
    with pytest.raises(FaultRuleError) as exc:
        rules.add_many([{"error": THROTTLE}, {"count": -1, "error": THROTTLE}])
    assert exc.value.field == "[1].count"
    assert len(rules) == 0


# --- routes --------------------------------------------------------------------------------


@pytest.fixture
async def client() -> Any:
    app = web.Application()
    add_fault_routes(app, FaultRules())
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def test_routes_add_list_and_clear(client: TestClient[Any, Any]) -> None:
    response = await client.post(
        "/_emulator/faults", json={"operation": "SendEmail", "count": 3, "error": THROTTLE}
    )
    assert response.status == 201
    added = (await response.json())["rules"]
    assert added[0]["remaining"] == 3
    assert added[0]["error"] == THROTTLE

    listed = await (await client.get("/_emulator/faults")).json()
    assert [r["id"] for r in listed["rules"]] == [added[0]["id"]]

    cleared = await client.delete("/_emulator/faults")
    assert await cleared.json() == {"cleared": 1}
    assert (await (await client.get("/_emulator/faults")).json()) == {"rules": []}


async def test_route_accepts_a_list_or_a_rules_object(client: TestClient[Any, Any]) -> None:
    rules = FaultRules()
    app = web.Application()
    add_fault_routes(app, rules)
    assert app[FAULT_RULES] is rules
    one = await client.post("/_emulator/faults", json=[{"latency_ms": 5}, {"error": THROTTLE}])
    two = await client.post("/_emulator/faults", json={"rules": [{"latency_ms": 7}]})
    assert (one.status, two.status) == (201, 201)
    listed = await (await client.get("/_emulator/faults")).json()
    assert [r["latency_ms"] for r in listed["rules"]] == [5, 0, 7]


async def test_route_rejects_invalid_rules_with_the_field(client: TestClient[Any, Any]) -> None:
    response = await client.post("/_emulator/faults", json={"count": "two", "error": THROTTLE})
    assert response.status == 400
    assert await response.json() == {
        "error": {
            "code": "InvalidParameter",
            "message": "count: must be an integer (got 'two')",
            "field": "count",
        }
    }


async def test_route_rejects_invalid_json(client: TestClient[Any, Any]) -> None:
    response = await client.post("/_emulator/faults", data=b"{nope")
    assert response.status == 400
    assert (await response.json())["error"]["field"] == "body"


async def test_route_answers_405_for_other_methods(client: TestClient[Any, Any]) -> None:
    response = await client.put("/_emulator/faults", json={})
    assert response.status == 405
    assert response.headers["Allow"] == "GET, POST, DELETE"
