"""The emulator's protocol layer in-process: µs per request to parse, validate and serialize.

Each case replays the exact bytes botocore sends (`benchmarks.load_requests.request_for`)
through the functions the HTTP handlers call — v1: ``parse_form``, ``parse_request``,
``find_violations``, ``serialize_result``; v2: ``Router.match``, ``parse_request``,
``find_violations``, ``serialize_result`` — with no network, no aiohttp and no SES rules, so
the figure is the protocol layer's own CPU per request. ``python -m benchmarks.protocol``
prints one row per operation and stage.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from benchmarks.__main__ import markdown
from benchmarks.builders import measure
from benchmarks.load_requests import OPERATIONS, request_for
from emulator.protocols import models, query, restjson
from emulator.protocols.validate import find_violations

__all__ = ["Row", "cases", "run"]

Row = dict[str, Any]

_ENDPOINT = "http://127.0.0.1:4579"
_MESSAGE_ID = "0100018c7f0a1b2c-3d4e5f60-7182-93a4-b5c6-d7e8f9a0b1c2-000000"
_REQUEST_ID = "6b1f2d3c-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def _output(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    if operation == "SendBulkEmail":
        results = [
            {"Status": "SUCCESS", "MessageId": _MESSAGE_ID} for _ in params["BulkEmailEntries"]
        ]
        return {"BulkEmailEntryResults": results}
    return {"MessageId": _MESSAGE_ID}


def _v1_stages(name: str) -> dict[str, Callable[[], object]]:
    request = request_for(name, _ENDPOINT)
    spec = models.load("v1")
    body, raw_query = request.body, request.path.partition("?")[2]
    fields = query.parse_form(body, raw_query)
    operation, params = query.parse_request(spec, fields)
    assert operation.input is not None
    shape = operation.input
    output = _output(operation.name, params)

    def whole() -> object:
        op, parsed = query.parse_request(spec, query.parse_form(body, raw_query))
        assert op.input is not None
        find_violations(op.input, parsed)
        return query.serialize_result(spec, op, output, _REQUEST_ID)

    return {
        "parse_form": lambda: query.parse_form(body, raw_query),
        "parse_request": lambda: query.parse_request(spec, fields),
        "find_violations": lambda: find_violations(shape, params),
        "serialize_result": lambda: query.serialize_result(spec, operation, output, _REQUEST_ID),
        "total": whole,
    }


def _v2_stages(name: str) -> dict[str, Callable[[], object]]:
    request = request_for(name, _ENDPOINT)
    router = restjson.Router(models.load("v2"))
    path, _, raw_query = request.path.partition("?")
    body, method = request.body, request.method
    binding, values = router.match(method, path)
    operation, params = restjson.parse_request(binding, values, raw_query, body)
    assert operation.input is not None
    shape = operation.input
    output = _output(operation.name, params)

    def whole() -> object:
        bound, found = router.match(method, path)
        op, parsed = restjson.parse_request(bound, found, raw_query, body)
        assert op.input is not None
        find_violations(op.input, parsed)
        return restjson.serialize_result(op, output, _REQUEST_ID)

    return {
        "match": lambda: router.match(method, path),
        "parse_request": lambda: restjson.parse_request(binding, values, raw_query, body),
        "find_violations": lambda: find_violations(shape, params),
        "serialize_result": lambda: restjson.serialize_result(operation, output, _REQUEST_ID),
        "total": whole,
    }


def cases(name: str) -> dict[str, Callable[[], object]]:
    """The stages of one benchmark operation (``"v1 SendEmail"``, …), each a no-argument call."""
    return _v1_stages(name) if name.startswith("v1 ") else _v2_stages(name)


def run(quick: bool) -> list[Row]:
    """One row per operation and stage: median µs per call over several rounds (CPU time)."""
    rows: list[Row] = []
    for name in OPERATIONS:
        timings = measure(cases(name), rounds=3 if quick else 7, min_time=0.05 if quick else 0.2)
        for stage, (seconds, _) in timings.items():
            rows.append({"operation": name, "stage": stage, "µs": f"{seconds * 1e6:.1f}"})
    return rows


def main() -> None:
    """Print the table (``--quick`` for fewer, shorter rounds)."""
    print(markdown(run("--quick" in sys.argv[1:])))


if __name__ == "__main__":
    main()
