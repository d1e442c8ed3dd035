"""The long fuzz run: ``python -m tests.fuzz --requests N [--auth verify] [--seed S]``.

Starts an in-process emulator on 127.0.0.1, sends N generated requests (the strategies of
`tests.fuzz.strategies`), and prints the request count, the 5xx count, the statuses seen and
the first problems found. Unlike the pytest slice it does not stop at the first problem: it
records every one (up to a bound) so a long run reports them all. Exit status 0 only when no
response broke the property and the server still answers its health check.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings

from emulator.server import EmulatorServer
from tests.fuzz.harness import FuzzRequest, Target, problems
from tests.fuzz.strategies import requests

_MAX_REPORTED = 20


def run(count: int, *, auth: str, seed_value: int | None) -> int:
    overrides: dict[str, Any] = {}
    if auth == "verify":
        overrides = {"auth": "verify", "credentials": (("AKIDEXAMPLE", "secret"),)}
    found: list[str] = []
    started = time.monotonic()
    with EmulatorServer(**overrides) as server:
        target = Target("127.0.0.1", server.port)

        @settings(
            max_examples=count,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(request=requests())
        def fuzz(request: FuzzRequest) -> None:
            exchange = target.send(request)
            for problem in problems(exchange):
                if len(found) < _MAX_REPORTED:
                    found.append(
                        f"{problem}\n    request:  {request!r}\n    response: "
                        f"{exchange.response!r:.400}"
                    )
                else:
                    found.append(problem)

        if seed_value is not None:
            fuzz = seed(seed_value)(fuzz)
        fuzz()
        health = target.send(FuzzRequest(method="GET", target="/_emulator/health"))
        alive = health.response.status == 200
        stats = target.stats
    elapsed = time.monotonic() - started
    print(f"requests: {stats.requests - 1}")
    print(f"5xx: {stats.server_errors}")
    print(f"501 NotImplemented (operations without a handler): {stats.not_implemented}")
    print(f"problems: {len(found)}")
    print(f"statuses: {dict(sorted(stats.by_status.items()))}")
    print(f"server alive afterwards: {alive}")
    print(f"elapsed: {elapsed:.1f} s ({(stats.requests - 1) / elapsed:.0f} requests/s)")
    for problem in found[:_MAX_REPORTED]:
        print(f"- {problem}")
    return 0 if alive and not found and stats.server_errors == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--requests", type=int, default=5000, help="requests to send")
    parser.add_argument("--auth", choices=["off", "verify"], default="off")
    parser.add_argument("--seed", type=int, default=None, help="reproduce a run")
    args = parser.parse_args(argv)
    if args.requests < 1:
        parser.error("--requests must be at least 1")
    return run(args.requests, auth=args.auth, seed_value=args.seed)


if __name__ == "__main__":
    sys.exit(main())
