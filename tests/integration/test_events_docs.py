"""The Python examples in docs/events.md run against a real emulator and print what they say.

Every ```python block runs in order in one namespace; the ``# `` comment lines that end a block
are its expected output.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _expected(code: str) -> list[str]:
    lines = code.rstrip("\n").splitlines()
    tail: list[str] = []
    while lines and lines[-1].startswith("# "):
        tail.insert(0, lines.pop()[2:])
    return tail


def test_the_events_page_examples_run_and_print_what_they_say() -> None:
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    assert len(blocks) == 4
    namespace: dict[str, object] = {"__name__": "docs_events"}
    try:
        for index, code in enumerate(blocks):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(code, f"{DOC.name}[block {index}]", "exec"), namespace)
            assert out.getvalue().splitlines() == _expected(code), f"block {index}"
    finally:
        # A failing block must not leave the example's servers running.
        server = namespace.get("emulator")
        stop = getattr(server, "stop", None)
        if callable(stop):
            stop()
        hook = namespace.get("hook")
        for name in ("shutdown", "server_close"):
            method = getattr(hook, name, None)
            if callable(method):
                method()
