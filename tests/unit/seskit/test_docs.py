"""The examples in docs/getting-started.md and docs/builders.md run and print what they say.

Each ```python block runs in order in one namespace per page. ``boto3.client`` is replaced by
seskit.testing's FakeClient, which validates every send with botocore's ParamValidator, so the
pages' sends are checked without a network. The ``# `` comment lines that end a block, or a
```text block right after it, are the block's expected output.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any

import boto3
import pytest

from seskit.testing import FakeClient

DOCS = Path(__file__).resolve().parents[3] / "docs"
BLOCK = re.compile(r"```(python|text)\n(.*?)```", re.S)


class _DocClient:
    """Sends go to a validating FakeClient; identity set-up calls are accepted as they are."""

    def __init__(self, service: str) -> None:
        assert service in ("ses", "sesv2"), service
        self._fake = FakeClient("v1" if service == "ses" else "v2")

    def verify_domain_identity(self, *, Domain: str) -> dict[str, str]:  # boto3's argument name
        return {"VerificationToken": Domain}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fake, name)


def _fake_client(service: str, **_: Any) -> _DocClient:
    return _DocClient(service)


def _trailing_comments(code: str) -> list[str]:
    lines = code.rstrip("\n").splitlines()
    tail: list[str] = []
    while lines and lines[-1].startswith("# "):
        tail.insert(0, lines.pop()[2:])
    return tail


@pytest.mark.parametrize("page", ["getting-started.md", "builders.md"])
def test_doc_examples_run_and_print_what_they_say(
    page: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(boto3, "client", _fake_client)
    namespace: dict[str, Any] = {}
    blocks = BLOCK.findall((DOCS / page).read_text())
    assert blocks, f"no examples in {page}"
    ran = 0
    for index, (kind, code) in enumerate(blocks):
        if kind != "python":
            continue
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            exec(compile(code, f"{page}[{index}]", "exec"), namespace)
        ran += 1
        printed = output.getvalue().splitlines()
        expected = _trailing_comments(code)
        if index + 1 < len(blocks) and blocks[index + 1][0] == "text":
            expected = blocks[index + 1][1].splitlines()
        if expected:
            assert printed == expected, f"{page} block {index}"
    assert ran >= 4


@pytest.mark.parametrize("module", ["message", "mime", "v1", "v2", "batching"])
def test_docstring_examples_hold(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"seskit.{module}"))
    assert result.attempted > 0
    assert result.failed == 0
