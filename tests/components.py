"""Gate tests on real components installed by ``scripts/components/*.sh``.

Locally a missing component skips its tests with the reason (a developer may not have run the
install scripts); under CI (``CI=true``) the install scripts are part of the run, so a missing
component is a failure, never a silent skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

__all__ = ["in_ci", "require_component"]


def in_ci() -> bool:
    """Return True when running under CI, where every component must be present."""
    return os.environ.get("CI") == "true"


def require_component(name: str, available: bool, reason: str) -> None:
    """Skip (locally) or fail (under CI) the calling test when component ``name`` is missing.

    ``available`` is the caller's own check (an import, a binary on PATH, a file under
    ``.components/``); ``reason`` says what is missing and how to install it.
    """
    if available:
        return
    message = f"component {name!r} unavailable: {reason}"
    if in_ci():
        pytest.fail(message + " (CI=true: missing components fail the run)", pytrace=False)
    pytest.skip(message)


# The AWS CLI v1 (its own botocore), installed by scripts/components/clients.sh.
AWS_CLI = Path(__file__).resolve().parents[1] / ".components" / "awscli" / "bin" / "aws"


def require_aws_cli() -> str:
    """The CLI's path; skips locally and fails under CI when it is not installed."""
    require_component(
        "awscli", AWS_CLI.is_file(), f"{AWS_CLI} is missing; run scripts/components/clients.sh"
    )
    return str(AWS_CLI)
