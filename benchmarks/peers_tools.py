"""Optional measuring tools the harness installs for itself: py-spy and uvloop.

Both go into the ignored ``.venv-bench-tools`` directory (never the project's own venv), so
measuring them changes nothing a user of the project installs. A tool that cannot be
installed raises `benchmarks.peers_servers.Unavailable` with the reason.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.peers_servers import REPO, Unavailable

__all__ = ["TOOLS_DIR", "py_spy", "uvloop_path"]

TOOLS_DIR = REPO / ".venv-bench-tools"
_TIMEOUT_S = 600


def _pip_target(requirement: str, target: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "--target",
            str(target),
            requirement,
        ],
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_S,
        check=False,
    )
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        raise Unavailable(f"pip install {requirement} failed: {lines[-1] if lines else '?'}")


def py_spy() -> Path:
    """The py-spy binary (installed from its PyPI wheel on first use)."""
    target = TOOLS_DIR / "py-spy"
    binary = target / "bin" / "py-spy"
    if not binary.exists():
        _pip_target("py-spy", target)
    if not binary.exists():
        raise Unavailable("the py-spy wheel installed no bin/py-spy")
    return binary


def uvloop_path() -> str | None:
    """A directory to put on PYTHONPATH so the emulator's python can import uvloop.

    None when the project's venv already has uvloop (nothing to add).
    """
    if importlib.util.find_spec("uvloop") is not None:
        return None
    target = TOOLS_DIR / f"uvloop-py{sys.version_info.major}{sys.version_info.minor}"
    if not (target / "uvloop").is_dir():
        _pip_target("uvloop", target)
    return os.fspath(target)
