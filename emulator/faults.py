"""Fault injection: make chosen SES calls fail (or slow down) so users can test retry paths.

A rule says which requests it hits and what happens to them::

    {"operation": "SendEmail", "api": "v2", "count": 2,
     "error": {"code": "TooManyRequestsException", "status": 429,
               "message": "Maximum sending rate exceeded."},
     "latency_ms": 0}

* ``operation`` / ``api`` — optional filters; a missing one matches everything. Operation names
  are checked against botocore's SES models, so a typo is an error, not a rule that never fires.
* ``count`` — hit the next N matching requests, then stop (the rule stays listed, exhausted);
  ``probability`` — hit each matching request with this chance (0 < p ≤ 1), drawn from an
  injected random generator so tests are reproducible. Neither: hit every matching request.
* ``error`` — the AWS-shaped error returned instead of calling the handler; without it the
  rule only adds ``latency_ms`` and the request then runs normally.

A fault is decided *before* the handler runs and short-circuits it, so an injected error never
changes state: no message is stored, no quota is used. `FaultRules.match` is pure apart from
the ``count`` bookkeeping; `add_fault_routes` exposes the rules under ``/_emulator/faults``
(``GET`` lists, ``POST`` adds one rule or a list, ``DELETE`` clears).
"""

from __future__ import annotations

import itertools
import json
import math
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from emulator.protocols import models
from emulator.ses.errors import Api, SesError, Wire

__all__ = [
    "FAULT_RULES",
    "Fault",
    "FaultError",
    "FaultRule",
    "FaultRuleError",
    "FaultRules",
    "RandomSource",
    "add_fault_routes",
    "parse_rule",
]

# AWS error codes are identifier-like ("Throttling", "TooManyRequestsException").
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9.]{0,127}$")
_MAX_LATENCY_MS = 60_000  # long enough to trip any client timeout, short enough to end
_MAX_COUNT = 1_000_000


class RandomSource(Protocol):
    """What `FaultRules.match` needs from a random generator (`random.Random` fits)."""

    def random(self) -> float: ...


class FaultRuleError(ValueError):
    """A rule that cannot be used; ``field`` names the offending key (dotted for ``error.*``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = f"{field}: {message}"


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultError:
    """The error a fault returns: wire code, HTTP status (400-599) and message."""

    code: str
    status: int
    message: str

    def __post_init__(self) -> None:
        if not _CODE.match(self.code):
            raise FaultRuleError(
                "error.code",
                f"must look like an AWS error code, e.g. Throttling (got {self.code!r})",
            )
        if not 400 <= self.status <= 599:
            raise FaultRuleError("error.status", f"must be 400-599 (got {self.status})")

    def to_ses_error(self) -> SesError:
        """The same code and status in both APIs: the user chose them for the API they test."""
        wire = Wire(self.code, self.status)
        return SesError(self.message, v1=wire, v2=wire)


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultRule:
    """One validated rule (see the module docstring for the JSON form)."""

    id: str
    operation: str | None = None
    api: Api | None = None
    probability: float | None = None
    count: int | None = None
    error: FaultError | None = None
    latency_ms: int = 0

    def __post_init__(self) -> None:
        if self.api not in (None, "v1", "v2"):
            raise FaultRuleError("api", f'must be "v1" or "v2" (got {self.api!r})')
        if self.probability is not None and self.count is not None:
            raise FaultRuleError("probability", "give either probability or count, not both")
        if self.probability is not None and not (
            math.isfinite(self.probability) and 0 < self.probability <= 1
        ):
            raise FaultRuleError("probability", f"must be > 0 and <= 1 (got {self.probability!r})")
        if self.count is not None and not 1 <= self.count <= _MAX_COUNT:
            raise FaultRuleError("count", f"must be 1-{_MAX_COUNT} (got {self.count!r})")
        if not 0 <= self.latency_ms <= _MAX_LATENCY_MS:
            raise FaultRuleError(
                "latency_ms", f"must be 0-{_MAX_LATENCY_MS} (got {self.latency_ms!r})"
            )
        if self.error is None and self.latency_ms == 0:
            raise FaultRuleError("error", "a rule needs an error, a latency_ms, or both")

    def applies_to(self, api: Api, operation: str) -> bool:
        return (self.api is None or self.api == api) and (
            self.operation is None or self.operation == operation
        )

    def to_json(self, *, remaining: int | None) -> dict[str, Any]:
        """The rule as the control API shows it, with how many hits a ``count`` rule has left."""
        return {
            "id": self.id,
            "operation": self.operation,
            "api": self.api,
            "probability": self.probability,
            "count": self.count,
            "remaining": remaining,
            "error": None
            if self.error is None
            else {
                "code": self.error.code,
                "status": self.error.status,
                "message": self.error.message,
            },
            "latency_ms": self.latency_ms,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    """What to do to one request: wait ``latency_ms``, then fail with ``error`` if given."""

    rule_id: str
    error: FaultError | None
    latency_ms: int


_KEYS = frozenset({"operation", "api", "probability", "count", "error", "latency_ms"})
_ERROR_KEYS = frozenset({"code", "status", "message"})


def _known_operations() -> dict[Api, frozenset[str]]:
    # models.load caches the compiled models the protocol layer also uses.
    return {api: frozenset(models.load(api).operations) for api in ("v1", "v2")}


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FaultRuleError(field, f"must be an integer (got {value!r})")
    return value


def parse_rule(data: Any, *, rule_id: str) -> FaultRule:
    """Validate one rule's JSON (a dict) into a `FaultRule`; errors name the field."""
    if not isinstance(data, Mapping):
        raise FaultRuleError("rule", f"must be a JSON object (got {type(data).__name__})")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise FaultRuleError(unknown[0], f"unknown key; allowed: {', '.join(sorted(_KEYS))}")

    api = data.get("api")
    if api is not None and api not in ("v1", "v2"):
        raise FaultRuleError("api", f'must be "v1" or "v2" (got {api!r})')
    operation = data.get("operation")
    if operation is not None:
        if not isinstance(operation, str) or not operation:
            raise FaultRuleError("operation", f"must be a non-empty string (got {operation!r})")
        known = _known_operations()
        apis: tuple[Api, ...] = (api,) if api is not None else ("v1", "v2")
        if not any(operation in known[a] for a in apis):
            where = f"the {api} API" if api else "either SES API"
            raise FaultRuleError("operation", f"{operation!r} is not an operation of {where}")

    probability = data.get("probability")
    if probability is not None and (
        isinstance(probability, bool) or not isinstance(probability, int | float)
    ):
        raise FaultRuleError("probability", f"must be a number (got {probability!r})")
    count = data.get("count")
    if count is not None:
        count = _int(count, "count")
    latency = _int(data.get("latency_ms", 0), "latency_ms")

    error: FaultError | None = None
    raw_error = data.get("error")
    if raw_error is not None:
        if not isinstance(raw_error, Mapping):
            raise FaultRuleError("error", "must be an object with code, status and message")
        extra = sorted(set(raw_error) - _ERROR_KEYS)
        if extra:
            raise FaultRuleError(f"error.{extra[0]}", "unknown key; allowed: code, message, status")
        code = raw_error.get("code")
        if not isinstance(code, str):
            raise FaultRuleError("error.code", f"is required and must be a string (got {code!r})")
        status = _int(raw_error.get("status", 400), "error.status")
        message = raw_error.get("message", "Injected fault.")
        if not isinstance(message, str):
            raise FaultRuleError("error.message", f"must be a string (got {message!r})")
        error = FaultError(code=code, status=status, message=message)

    return FaultRule(
        id=rule_id,
        operation=operation,
        api=api,
        probability=None if probability is None else float(probability),
        count=count,
        error=error,
        latency_ms=latency,
    )


class FaultRules:
    """The active rules, in the order added; the first rule that applies decides. Thread-safe."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._remaining: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, data: Any) -> FaultRule:
        """Validate ``data`` (one rule's JSON) and append it."""
        with self._lock:
            rule = parse_rule(data, rule_id=f"fault-{next(self._ids)}")
            self._append(rule)
        return rule

    def add_many(self, items: Sequence[Any]) -> list[FaultRule]:
        """Validate every rule first, then append them all (all or nothing)."""
        with self._lock:
            parsed: list[FaultRule] = []
            for index, item in enumerate(items):
                try:
                    parsed.append(parse_rule(item, rule_id=f"fault-{next(self._ids)}"))
                except FaultRuleError as exc:
                    raise FaultRuleError(f"[{index}].{exc.field}", exc.message) from exc
            for rule in parsed:
                self._append(rule)
        return parsed

    def _append(self, rule: FaultRule) -> None:
        self._rules.append(rule)
        if rule.count is not None:
            self._remaining[rule.id] = rule.count

    def clear(self) -> int:
        with self._lock:
            removed = len(self._rules)
            self._rules.clear()
            self._remaining.clear()
            return removed

    def __len__(self) -> int:
        return len(self._rules)

    def to_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.to_json(remaining=self._remaining.get(r.id)) for r in self._rules]

    def match(self, api: Api, operation: str, rng: RandomSource) -> Fault | None:
        """The fault for one request, or None. A ``count`` rule's hit is used up here."""
        if not self._rules:  # the common case: no rules, no lock
            return None
        with self._lock:
            for rule in self._rules:
                if not rule.applies_to(api, operation):
                    continue
                if rule.count is not None:
                    left = self._remaining[rule.id]
                    if left == 0:
                        continue
                    self._remaining[rule.id] = left - 1
                elif rule.probability is not None and rng.random() >= rule.probability:
                    continue
                return Fault(rule_id=rule.id, error=rule.error, latency_ms=rule.latency_ms)
        return None


FAULT_RULES: web.AppKey[FaultRules] = web.AppKey("fault_rules", FaultRules)


def _error_json(message: str, *, field: str | None, code: str, status: int) -> web.Response:
    # The control API's error shape (emulator/inspect.py): {"error": {code, message, field}}.
    body = {"error": {"code": code, "message": message, "field": field}}
    return web.json_response(body, status=status)


def add_fault_routes(app: web.Application, rules: FaultRules) -> None:
    """Mount ``GET``/``POST``/``DELETE /_emulator/faults`` serving ``rules``.

    Call it before `emulator.inspect.add_routes`, whose catch-all answers unknown
    ``/_emulator/`` paths. ``POST`` takes one rule object, a list of them, or
    ``{"rules": [...]}``, and answers 201 with the stored rules.
    """
    app[FAULT_RULES] = rules

    async def list_rules(request: web.Request) -> web.Response:
        return web.json_response({"rules": rules.to_json()})

    async def add_rules(request: web.Request) -> web.Response:
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge as exc:  # as every control API body (inspect.py)
            return _error_json(
                f"body: {exc.text}", field="body", code="RequestTooLarge", status=413
            )
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            return _error_json(
                f"body: not valid JSON ({exc})", field="body", code="InvalidParameter", status=400
            )
        if isinstance(data, Mapping) and set(data) == {"rules"}:
            data = data["rules"]
        try:
            added = rules.add_many(data) if isinstance(data, list) else [rules.add(data)]
        except FaultRuleError as exc:
            return _error_json(exc.message, field=exc.field, code="InvalidParameter", status=400)
        stored = {r["id"]: r for r in rules.to_json()}
        return web.json_response({"rules": [stored[r.id] for r in added]}, status=201)

    async def clear_rules(request: web.Request) -> web.Response:
        return web.json_response({"cleared": rules.clear()})

    async def not_allowed(request: web.Request) -> web.Response:
        response = _error_json(
            f"{request.method} is not allowed on {request.path}; use GET, POST, DELETE",
            field=None,
            code="MethodNotAllowed",
            status=405,
        )
        response.headers["Allow"] = "GET, POST, DELETE"
        return response

    resource = app.router.add_resource("/_emulator/faults")
    resource.add_route("GET", list_rules)
    resource.add_route("POST", add_rules)
    resource.add_route("DELETE", clear_rules)
    resource.add_route("*", not_allowed)
