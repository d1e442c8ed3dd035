"""Drive one server with ``wrk`` replaying one prepared request, and read back exact numbers.

wrk is an event-driven C load generator: one thread saturates far more requests per second
than any server here can answer, so it is not the bottleneck (its CPU time is measured and
reported with every result to show it). A generated Lua script loads the body from a file and
prints wrk's own summary as one machine-readable line, so no unit-suffixed text is parsed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.load_requests import PreparedRequest

__all__ = [
    "RESULT_MARKER",
    "LoadResult",
    "WrkError",
    "lua_script",
    "lua_string",
    "parse_result",
    "run_wrk",
    "wrk_path",
    "wrk_version",
]

RESULT_MARKER = "SESKIT-BENCH "

_LUA_DONE = r"""
function done(summary, latency, requests)
  io.write(string.format(
    "SESKIT-BENCH {\"duration_us\": %d, \"requests\": %d, \"connect\": %d, \"read\": %d, " ..
    "\"write\": %d, \"status\": %d, \"timeout\": %d, \"p50_us\": %d, \"p99_us\": %d, " ..
    "\"max_us\": %d}\n",
    summary.duration, summary.requests, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


class WrkError(RuntimeError):
    """wrk could not run or printed no result line."""

    def __init__(self, message: str, *, returncode: int | None, output: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.output = output


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadResult:
    """One timed wrk run: counts straight from wrk's summary, latencies in milliseconds."""

    requests: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    status_errors: int  # responses that were not 2xx or 3xx
    socket_errors: int  # connect + read + write + timeout
    client_cpu_s: float  # user + system CPU seconds used by wrk itself

    def __post_init__(self) -> None:
        if self.requests < 0 or self.status_errors < 0 or self.socket_errors < 0:
            raise ValueError("counts must not be negative")
        if self.duration_s <= 0:
            raise ValueError(f"duration_s must be positive (got {self.duration_s})")

    @property
    def requests_per_s(self) -> float:
        """Completed requests (any status) per wall-clock second."""
        return self.requests / self.duration_s

    @property
    def errors(self) -> int:
        """Every request that did not end in a 2xx/3xx response."""
        return self.status_errors + self.socket_errors

    @property
    def client_cpu_share(self) -> float:
        """wrk's CPU time as a fraction of one core over the run."""
        return self.client_cpu_s / self.duration_s


def lua_string(value: str | bytes) -> str:
    """``value`` as a Lua string literal (decimal escapes for anything not plain ASCII)."""
    data = value.encode() if isinstance(value, str) else value
    out = []
    for byte in data:
        char = chr(byte)
        if char in {'"', "\\"}:
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def lua_script(request: PreparedRequest, body_path: Path) -> str:
    """A wrk script that sends ``request`` (body read from ``body_path``) on every call."""
    lines = [
        f"wrk.method = {lua_string(request.method)}",
        f"wrk.path = {lua_string(request.path)}",
        f"local f = assert(io.open({lua_string(str(body_path))}, 'rb'))",
        "wrk.body = f:read('*a')",
        "f:close()",
    ]
    lines += [
        f"wrk.headers[{lua_string(name)}] = {lua_string(value)}"
        for name, value in request.headers.items()
    ]
    return "\n".join(lines) + "\n" + _LUA_DONE


def parse_result(output: str, *, client_cpu_s: float) -> LoadResult:
    """The `LoadResult` from wrk's output (the script's marker line)."""
    for line in output.splitlines():
        if line.startswith(RESULT_MARKER):
            data = json.loads(line[len(RESULT_MARKER) :])
            break
    else:
        raise WrkError("wrk printed no result line", returncode=None, output=output)
    return LoadResult(
        requests=int(data["requests"]),
        duration_s=int(data["duration_us"]) / 1e6,
        p50_ms=int(data["p50_us"]) / 1e3,
        p99_ms=int(data["p99_us"]) / 1e3,
        max_ms=int(data["max_us"]) / 1e3,
        status_errors=int(data["status"]),
        socket_errors=sum(int(data[key]) for key in ("connect", "read", "write", "timeout")),
        client_cpu_s=client_cpu_s,
    )


def wrk_path() -> str | None:
    """Where wrk is installed, or None."""
    return shutil.which("wrk")


def wrk_version() -> str:
    """wrk's version line (wrk prints it in its usage text)."""
    path = wrk_path()
    if path is None:
        return "not installed"
    proc = subprocess.run([path, "-v"], capture_output=True, text=True, check=False)
    first = (proc.stdout or proc.stderr).splitlines()
    return first[0].split(" Copyright")[0] if first else "unknown"


def run_wrk(url: str, request: PreparedRequest, *, connections: int, seconds: float) -> LoadResult:
    """Replay ``request`` against ``url`` with ``connections`` connections for ``seconds``."""
    path = wrk_path()
    if path is None:
        raise WrkError("wrk is not installed", returncode=None, output="")
    with tempfile.TemporaryDirectory(prefix="seskit-wrk-") as tmp:
        body_path = Path(tmp, "body")
        body_path.write_bytes(request.body)
        script_path = Path(tmp, "request.lua")
        script_path.write_text(lua_script(request, body_path))
        # One thread: it outpaces every server here and leaves the other core to the server.
        argv = [
            path,
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(script_path),
            url,
        ]
        with tempfile.TemporaryFile() as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            output = out.read().decode(errors="replace")
    if proc.returncode != 0:
        raise WrkError(
            f"wrk exited with {proc.returncode}", returncode=proc.returncode, output=output
        )
    return parse_result(output, client_cpu_s=usage.ru_utime + usage.ru_stime)
