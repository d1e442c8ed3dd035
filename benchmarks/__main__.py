"""Run the benchmarks and print one markdown table per section.

``python -m benchmarks [--quick] [--only NAME ...]``. A section is a function
``run(quick: bool) -> list[dict[str, object]]``; every row of a section has the same keys, which
become the table's columns. A section that fails is reported and the others still run; the exit
status is then 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["SECTIONS", "main", "markdown"]

Section = Callable[[bool], Sequence[Mapping[str, Any]]]

# (name, title, "module:function"); imported only when run, so one section's heavy imports or
# missing tools do not stop the others.
SECTIONS: list[tuple[str, str, str]] = [
    ("builders", "seskit builders: µs per build+validate", "benchmarks.builders:run"),
    ("protocol", "Emulator protocol layer: CPU µs per stage", "benchmarks.protocol:run"),
    ("pacing", "seskit bulk sender pacing against the emulator", "benchmarks.pacing:run"),
    ("emulators", "Emulator vs moto server and aws-ses-v2-local", "benchmarks.emulators:run"),
]


def markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """A markdown table with the first row's keys as columns."""
    if not rows:
        return "(no rows)"
    columns = list(rows[0])
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    lines.extend("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |" for row in rows)
    return "\n".join(lines)


def _load(target: str) -> Section:
    module_name, _, function = target.partition(":")
    section: Section = getattr(importlib.import_module(module_name), function)
    return section


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen sections (all by default); return the process exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    names = [name for name, _, _ in SECTIONS]
    parser.add_argument("--only", nargs="+", choices=names, help="run only these sections")
    args = parser.parse_args(argv)
    failed = False
    for name, title, target in SECTIONS:
        if args.only and name not in args.only:
            continue
        print(f"## {title}\n", flush=True)
        start = time.perf_counter()
        try:
            rows = _load(target)(args.quick)
        except Exception:
            failed = True
            print(f"section {name!r} failed:\n```\n{traceback.format_exc()}```\n", flush=True)
            continue
        print(markdown(rows))
        print(f"\n({name}: {time.perf_counter() - start:.1f} s)\n", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
