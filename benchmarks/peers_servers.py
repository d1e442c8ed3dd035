"""The servers under test: our emulator and its peers, installed, started and prepared alike.

Peers are installed by the harness into ignored directories, never committed:
moto server into its own venv ``.venv-bench-moto`` (its botocore must not replace ours) and
aws-ses-v2-local from npm into ``benchmarks/.node``. A peer that cannot be installed or started
raises `Unavailable` with the reason, which the report prints as "skipped: <reason>".
"""

from __future__ import annotations

import ctypes
import functools
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from benchmarks.load_requests import (
    BENCH_ACCESS_KEY,
    BENCH_REGION,
    BENCH_SECRET_KEY,
    SENDER,
    PreparedRequest,
    capture,
    memory_template_params,
    template_params,
)

__all__ = [
    "MOTO_REQUIREMENT",
    "REPO",
    "SES_V2_LOCAL_VERSION",
    "HttpReply",
    "MemoryUsage",
    "ServerProcess",
    "ServerSpec",
    "Unavailable",
    "floor_spec",
    "free_port",
    "http_call",
    "install_aws_ses_v2_local",
    "install_moto",
    "memory_usage",
    "moto_spec",
    "ours_spec",
    "process_tree",
    "ses_v2_local_spec",
    "started",
]

REPO = Path(__file__).resolve().parent.parent
MOTO_VENV = REPO / ".venv-bench-moto"
NODE_DIR = REPO / "benchmarks" / ".node"
MOTO_REQUIREMENT = "moto[server]>=5.2"
SES_V2_LOCAL_VERSION = "2.10.2"
# aws-ses-v2-local 2.10.2 accepts mailparser ^3.9.12; the newest mailparser needs a
# @zone-eu/mailsplit release some npm mirrors do not carry, so pin the one the package was
# released against. It only parses stored mail, never on the measured request path.
_NODE_PACKAGE_JSON = (
    '{"name": "seskit-bench-peers", "private": true,'
    f' "dependencies": {{"aws-ses-v2-local": "{SES_V2_LOCAL_VERSION}"}},'
    ' "overrides": {"mailparser": "3.9.12"}}\n'
)
_INSTALL_TIMEOUT_S = 900


class Unavailable(Exception):
    """A server that cannot be installed, started or prepared; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class HttpReply:
    """Status and body of one plain HTTP exchange."""

    status: int
    body: bytes


def http_call(port: int, request: PreparedRequest, *, timeout: float = 10.0) -> HttpReply:
    """Send ``request`` to 127.0.0.1:``port`` over a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(request.method, request.path, body=request.body, headers=dict(request.headers))
        response = conn.getresponse()
        return HttpReply(response.status, response.read())
    finally:
        conn.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@functools.cache
def _client(service: str, port: int) -> Any:
    return botocore.session.get_session().create_client(
        service,
        region_name=BENCH_REGION,
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id=BENCH_ACCESS_KEY,
        aws_secret_access_key=BENCH_SECRET_KEY,
        config=Config(retries={"total_max_attempts": 1}, read_timeout=30),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerSpec:
    """How to run and prepare one server under test."""

    name: str
    version: str
    argv: Callable[[int], list[str]]  # the command line for a port
    ready: Callable[[str], PreparedRequest]  # the first request that must succeed
    ready_label: str  # what that request is, for the report
    prepare: Callable[[int], None]  # verify the sender, create the templates
    clear: Callable[[int], None]  # forget stored messages (state may go too: prepare follows)
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a server needs a name")


@dataclass(frozen=True, slots=True)
class MemoryUsage:
    """A process's resident memory from /proc/PID/status, in bytes."""

    rss: int  # VmRSS: resident now
    hwm: int  # VmHWM: the peak resident size so far


def memory_usage(pid: int) -> MemoryUsage:
    """VmRSS and VmHWM of ``pid``."""
    values: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in {"VmRSS", "VmHWM"}:
                values[key] = int(rest.split()[0]) * 1024  # the kernel reports kB
    return MemoryUsage(rss=values["VmRSS"], hwm=values["VmHWM"])


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat from field 3 on (the command name, field 2, may contain spaces)."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by ``pid`` (all its threads)."""
    fields = _stat_fields(pid)
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def process_tree(pid: int) -> list[int]:
    """``pid`` and its live descendants, e.g. ``python -m emulator --split`` and its front.

    A server's cost is that of every process serving it: /proc/PID/stat counts a child's CPU
    only once the child has exited and been waited for, so each process is read on its own.
    """
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = _stat_fields(int(entry))
        except OSError:
            continue  # it exited while we looked
        parents.setdefault(int(fields[1]), []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, ()))
    return tree


def _tree_total(pid: int, measure: Callable[[int], float]) -> float:
    total = 0.0
    for member in process_tree(pid):
        try:
            total += measure(member)
        except OSError:
            if member == pid:
                raise  # the server itself is gone: not a number to report
    return total


class ServerProcess:
    """One running server (its stdout/stderr go to a log file, never an unread pipe)."""

    def __init__(self, spec: ServerSpec, port: int, proc: subprocess.Popen[bytes], log: IO[bytes]):
        self.spec = spec
        self.port = port
        self.proc = proc
        self._log = log

    @property
    def url(self) -> str:
        """The base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.proc.pid

    def log_tail(self, lines: int = 15) -> str:
        """The last lines the server printed."""
        self._log.flush()
        self._log.seek(0)
        return "\n".join(self._log.read().decode(errors="replace").splitlines()[-lines:])

    def memory(self) -> MemoryUsage:
        """The server's resident memory now, summed over its processes (peaks summed too)."""
        usages = []
        for member in process_tree(self.pid):
            try:
                usages.append(memory_usage(member))
            except OSError:
                if member == self.pid:
                    raise
        return MemoryUsage(rss=sum(u.rss for u in usages), hwm=sum(u.hwm for u in usages))

    def cpu_seconds(self) -> float:
        """CPU seconds the server has used so far, its child processes included."""
        return _tree_total(self.pid, cpu_seconds)

    def wait_ready(self, started_at: float, *, timeout: float = 60.0) -> float:
        """Seconds from ``started_at`` (a perf_counter) until the ready request succeeds."""
        request = self.spec.ready(self.url)
        deadline = started_at + timeout
        last_error = "no attempt"
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise Unavailable(
                    f"{self.spec.name} exited with {self.proc.returncode}: {self.log_tail(5)}"
                )
            try:
                reply = http_call(self.port, request, timeout=5.0)
            except OSError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            else:
                if 200 <= reply.status < 300:
                    return time.perf_counter() - started_at
                last_error = f"HTTP {reply.status}: {reply.body[:200]!r}"
            time.sleep(0.002)
        raise Unavailable(f"{self.spec.name} not ready after {timeout:.0f} s ({last_error})")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within 10 s."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to SIGTERM it when the harness dies.

    A harness killed mid-run (Ctrl-C twice, a CI timeout) must not leave servers behind.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1  # <linux/prctl.h>
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)


@contextmanager
def started(spec: ServerSpec, *, prepare: bool = True) -> Iterator[tuple[ServerProcess, float]]:
    """Start ``spec`` on a free port; yield the process and its start-to-ready seconds."""
    port = free_port()
    env = {**os.environ, **spec.env}
    with tempfile.TemporaryFile() as log:
        started_at = time.perf_counter()
        try:
            proc = subprocess.Popen(
                spec.argv(port),
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=REPO,
                # The harness starts servers from its main thread only, and prctl is a plain
                # syscall: the fork-with-threads hazard this rule warns about does not arise.
                preexec_fn=_die_with_parent,  # noqa: PLW1509
            )
        except OSError as exc:
            raise Unavailable(f"cannot start {spec.name}: {exc}") from exc
        server = ServerProcess(spec, port, proc, log)
        try:
            ready_s = server.wait_ready(started_at)
            if prepare:
                try:
                    spec.prepare(port)
                except (ClientError, BotoCoreError) as exc:
                    raise Unavailable(f"preparing {spec.name} failed: {exc}") from exc
            yield server, ready_s
        finally:
            server.stop()


def _run(argv: Sequence[str], *, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(argv),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=_INSTALL_TIMEOUT_S,
        check=False,
    )


def _last_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = (proc.stderr or proc.stdout).strip().splitlines()
    return lines[-1] if lines else f"exit status {proc.returncode}"


# ----------------------------------------------------------------------------- ours


def ours_spec(*, uvloop: bool = False, split: bool = False) -> ServerSpec:
    """Our emulator with its default profile ("unlimited": every rule but rate and quota).

    ``uvloop``: the same CLI on uvloop's event loop; ``split``: ``python -m emulator --split``,
    an HTTP front process beside the state owner (docs/emulator.md).
    """
    if uvloop and split:
        raise ValueError("measure one variant at a time: uvloop or split")
    python = sys.executable
    env: dict[str, str] = {}
    version = _ours_version()
    if split:
        version += " --split"
    if uvloop:
        from benchmarks.peers_tools import uvloop_path  # noqa: PLC0415 - it imports this module

        extra = uvloop_path()
        if extra is not None:
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [extra, os.environ.get("PYTHONPATH")]))
        probe = subprocess.run(
            [python, "-c", "import uvloop; print(uvloop.__version__)"],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            check=False,
        )
        if probe.returncode != 0:
            raise Unavailable(f"uvloop does not import: {probe.stderr.strip()[-200:]}")
        version += f" + uvloop {probe.stdout.strip()}"

    def argv(port: int) -> list[str]:
        args = ["--host", "127.0.0.1", "--port", str(port)]
        if split:
            args.append("--split")
        if not uvloop:
            return [python, "-m", "emulator", *args]
        # Same CLI, run with uvloop's event loop policy installed first.
        code = (
            "import asyncio, runpy, sys, uvloop\n"
            "asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())\n"
            f"sys.argv = ['emulator', *{args!r}]\n"
            "runpy.run_module('emulator', run_name='__main__', alter_sys=True)\n"
        )
        return [python, "-c", code]

    def prepare(port: int) -> None:
        _client("ses", port).verify_email_identity(EmailAddress=SENDER)
        sesv2 = _client("sesv2", port)
        for params in (template_params(), memory_template_params()):
            _create_template(sesv2, params)

    def clear(port: int) -> None:
        reply = http_call(port, PreparedRequest(method="DELETE", path="/_emulator/messages"))
        if reply.status not in {200, 204}:
            raise Unavailable(f"DELETE /_emulator/messages answered HTTP {reply.status}")

    return ServerSpec(
        name=(
            "seskit emulator (uvloop)"
            if uvloop
            else "seskit emulator (split)"
            if split
            else "seskit emulator"
        ),
        version=version,
        argv=argv,
        ready=lambda url: capture("sesv2", url, "GetAccount", {}),
        ready_label="v2 GetAccount",
        prepare=prepare,
        clear=clear,
        env=env,
    )


def _ours_version() -> str:
    try:
        from importlib.metadata import version  # noqa: PLC0415

        return f"seskit {version('seskit')}"
    except Exception:  # pragma: no cover - the repo is always installed editable
        return "seskit (not installed)"


def _create_template(sesv2: Any, params: dict[str, Any]) -> None:
    try:
        sesv2.create_email_template(**params)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "AlreadyExistsException":
            raise


# ----------------------------------------------------------------------------- calibration


def floor_spec() -> ServerSpec:
    """A bare aiohttp server answering a constant: the framework's ceiling on this machine."""
    python = sys.executable

    def nothing(port: int) -> None:
        del port  # it keeps no state: nothing to prepare or clear

    return ServerSpec(
        name="aiohttp floor",
        version=f"aiohttp {_dist_version('aiohttp')} (benchmarks/peers_floor.py)",
        argv=lambda port: [python, "-m", "benchmarks.peers_floor", "--port", str(port)],
        ready=lambda url: capture("sesv2", url, "GetAccount", {}),
        ready_label="any request",
        prepare=nothing,
        clear=nothing,
    )


def _dist_version(name: str) -> str:
    from importlib.metadata import version  # noqa: PLC0415

    return version(name)


# ----------------------------------------------------------------------------- moto


def install_moto() -> Path:
    """moto server's python in ``.venv-bench-moto`` (created and filled on first use)."""
    python = MOTO_VENV / "bin" / "python"
    if python.exists() and _run([str(python), "-c", "import moto.server"]).returncode == 0:
        return python
    base = getattr(sys, "_base_executable", sys.executable)
    made = _run([base, "-m", "venv", str(MOTO_VENV)])
    if made.returncode != 0:
        raise Unavailable(f"cannot create {MOTO_VENV.name}: {_last_line(made)}")
    pip = _run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", MOTO_REQUIREMENT]
    )
    if pip.returncode != 0:
        raise Unavailable(f"pip install {MOTO_REQUIREMENT!r} failed: {_last_line(pip)}")
    return python


def moto_spec() -> ServerSpec:
    """moto's standalone server (werkzeug, threaded), as its docs start it."""
    python = install_moto()
    probe = _run([str(python), "-c", "import moto; print(moto.__version__)"])
    version = f"moto {probe.stdout.strip()}"

    def prepare(port: int) -> None:
        _client("ses", port).verify_email_identity(EmailAddress=SENDER)

    def clear(port: int) -> None:
        # moto keeps sent messages for the life of the backend; reset is its only way out.
        reply = http_call(port, PreparedRequest(method="POST", path="/moto-api/reset"))
        if reply.status != 200:
            raise Unavailable(f"POST /moto-api/reset answered HTTP {reply.status}")

    return ServerSpec(
        name="moto server",
        version=version,
        argv=lambda port: [str(python), "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        ready=lambda url: capture("ses", url, "GetSendQuota", {}),
        ready_label="v1 GetSendQuota",
        prepare=prepare,
        clear=clear,
    )


# ----------------------------------------------------------------------------- aws-ses-v2-local


def install_aws_ses_v2_local() -> Path:
    """The aws-ses-v2-local CLI script under ``benchmarks/.node`` (npm-installed on first use)."""
    cli = NODE_DIR / "node_modules" / "aws-ses-v2-local" / "dist" / "cli.js"
    if cli.exists():
        return cli
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    # Everything in the install dir is local to this machine: keep it out of git.
    (NODE_DIR / ".gitignore").write_text("*\n")
    (NODE_DIR / "package.json").write_text(_NODE_PACKAGE_JSON)
    try:
        npm = _run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR)
    except FileNotFoundError as exc:
        raise Unavailable("npm is not installed") from exc
    if npm.returncode != 0 or not cli.exists():
        raise Unavailable(f"npm install aws-ses-v2-local failed: {_last_line(npm)}")
    return cli


def ses_v2_local_spec() -> ServerSpec:
    """aws-ses-v2-local's CLI on node."""
    cli = install_aws_ses_v2_local()
    try:
        node = _run(["node", "--version"])
    except FileNotFoundError as exc:
        raise Unavailable("node is not installed") from exc
    version = f"aws-ses-v2-local {SES_V2_LOCAL_VERSION} (node {node.stdout.strip()})"

    def prepare(port: int) -> None:
        # It has no identities (anyone may send); only the bulk template must exist.
        _create_template(_client("sesv2", port), template_params())

    def clear(port: int) -> None:
        reply = http_call(port, PreparedRequest(method="POST", path="/clear-store"))
        if reply.status != 200:
            raise Unavailable(f"POST /clear-store answered HTTP {reply.status}")

    return ServerSpec(
        name="aws-ses-v2-local",
        version=version,
        argv=lambda port: ["node", str(cli), "--host", "127.0.0.1", "--port", str(port)],
        # Its GetAccount answers 400 unless AWS_SES_ACCOUNT holds a whole account document.
        ready=lambda url: capture("sesv2", url, "ListEmailTemplates", {}),
        ready_label="v2 ListEmailTemplates",
        prepare=prepare,
        clear=clear,
    )
