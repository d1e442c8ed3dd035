"""Our emulator against moto server and aws-ses-v2-local, measured in one run (issue 8).

Three measurements, each reported as ratios against the peers measured in the same run:

1. Throughput and latency of v1 SendEmail, v2 SendEmail, v1 SendRawEmail (100 KB) and v2
   SendBulkEmail (50 entries) at C = 1 and C = 32: every server started fresh per operation
   and prepared the same way (sender verified, bulk template created), loaded by wrk replaying
   the request botocore itself built, after a warm-up, for several rounds (medians reported).
   Stored messages are cleared between rounds so memory never snowballs.
2. Start-to-ready: process start until the first successful SES request, median of several.
3. Memory: our emulator's resident growth for 100,000 stored 2 KB messages (one process, and
   ``--split``'s two processes together when that variant is measured).

Issue 8's targets are checked for one process and, when measured, for ``--split`` alike.

Run it alone with ``python -m benchmarks.emulators [--quick]``; ``python -m benchmarks`` runs
it as one section among the others. The markdown report goes to
``benchmarks/results/<YYYY-MM-DD>.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from benchmarks.load_requests import (
    OPERATIONS,
    PreparedRequest,
    bulk_email_params,
    capture,
    request_for,
)
from benchmarks.load_wrk import LoadResult, WrkError, run_wrk, wrk_path, wrk_version
from benchmarks.peers_servers import (
    REPO,
    MemoryUsage,
    ServerProcess,
    ServerSpec,
    Unavailable,
    floor_spec,
    http_call,
    moto_spec,
    ours_spec,
    ses_v2_local_spec,
    started,
)

__all__ = [
    "FULL",
    "OURS",
    "QUICK",
    "CellResult",
    "MemoryResult",
    "Plan",
    "ProfileResult",
    "Report",
    "StartupResult",
    "TargetCheck",
    "check_targets",
    "collapse_profile",
    "ensure_wrk",
    "format_ratio",
    "main",
    "markdown_table",
    "measure_memory",
    "measure_startup",
    "measure_throughput",
    "profile_hot_path",
    "ratio",
    "render_report",
    "run",
    "summary_rows",
]

OURS = "seskit emulator"
OURS_UVLOOP = "seskit emulator (uvloop)"
OURS_SPLIT = "seskit emulator (split)"
MOTO = "moto server"
SES_V2_LOCAL = "aws-ses-v2-local"
FLOOR = "aiohttp floor"
PEERS = (MOTO, SES_V2_LOCAL)
TARGET_OPERATIONS = ("v1 SendEmail", "v2 SendEmail")

# Issue 8's targets for the emulator on the benchmark machine.
TARGET_VS_MOTO = 10.0
TARGET_VS_SES_V2_LOCAL = 1.5
TARGET_P99_MS = 20.0
TARGET_READY_S = 0.5
TARGET_MEMORY_MB = 400.0
TARGET_CONCURRENCY = 32

RESULTS_DIR = REPO / "benchmarks" / "results"
_MB = 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """How long and how often to measure."""

    warmup_s: int
    rounds: int
    round_s: int
    starts: int
    concurrencies: tuple[int, ...] = (1, 32)
    memory_messages: int = 100_000
    memory_limit_s: int = 300  # stop storing after this long and extrapolate
    profile_s: int = 0  # seconds of py-spy sampling per profiled operation; 0: no profile
    uvloop: bool = False  # also measure our emulator on uvloop's event loop
    split: bool = True  # also measure ``python -m emulator --split`` (two processes)

    def __post_init__(self) -> None:
        if min(self.warmup_s, self.rounds, self.round_s, self.starts) < 1:
            raise ValueError("warm-up, rounds, round length and starts must all be at least 1")
        if self.profile_s < 0:
            raise ValueError("profile_s must not be negative (0: no profile)")
        if not self.concurrencies or min(self.concurrencies) < 1:
            raise ValueError("concurrencies must be positive")


# --quick must finish in a few minutes on 2 cores: 1 s rounds, no uvloop variant, no profile.
# Both measure the --split variant: it is the configuration that answers issue 8's ratio.
QUICK = Plan(warmup_s=1, rounds=3, round_s=1, starts=3, memory_limit_s=60)
FULL = Plan(warmup_s=2, rounds=5, round_s=3, starts=7, profile_s=8, uvloop=True)

CellStatus = Literal["ok", "unsupported", "failed", "skipped"]


def median(values: Iterable[float]) -> float:
    """The median of a non-empty collection."""
    return float(statistics.median(list(values)))


@dataclass(frozen=True, slots=True, kw_only=True)
class CellResult:
    """One (server, operation, concurrency) measurement: medians over its rounds."""

    server: str
    operation: str
    concurrency: int
    status: CellStatus
    note: str = ""
    rounds: tuple[LoadResult, ...] = ()
    server_cpu_shares: tuple[float, ...] = ()
    memory: MemoryUsage | None = None

    def __post_init__(self) -> None:
        if self.status == "ok" and not self.rounds:
            raise ValueError("an ok cell needs at least one round")
        if self.status != "ok" and not self.note:
            raise ValueError(f"a {self.status} cell needs a note saying why")

    @property
    def requests_per_s(self) -> float:
        """Median requests per second over the rounds."""
        return median(r.requests_per_s for r in self.rounds)

    @property
    def p50_ms(self) -> float:
        """Median of the rounds' median latencies."""
        return median(r.p50_ms for r in self.rounds)

    @property
    def p99_ms(self) -> float:
        """Median of the rounds' 99th-percentile latencies."""
        return median(r.p99_ms for r in self.rounds)

    @property
    def errors(self) -> int:
        """Non-2xx responses and socket errors, summed over every round."""
        return sum(r.errors for r in self.rounds)

    @property
    def requests(self) -> int:
        """Requests completed over every round."""
        return sum(r.requests for r in self.rounds)

    @property
    def client_cpu_share(self) -> float:
        """wrk's median CPU use, as a fraction of one core."""
        return median(r.client_cpu_share for r in self.rounds)

    @property
    def server_cpu_share(self) -> float:
        """The server's median CPU use, as a fraction of one core."""
        return median(self.server_cpu_shares) if self.server_cpu_shares else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class StartupResult:
    """Start-to-ready seconds of one server (or why it was not measured)."""

    server: str
    seconds: tuple[float, ...] = ()
    probe: str = ""
    note: str = ""

    @property
    def median_s(self) -> float | None:
        """The median start-to-ready time, None if never measured."""
        return median(self.seconds) if self.seconds else None


@dataclass(frozen=True, slots=True, kw_only=True)
class MemoryResult:
    """Resident-memory growth of our emulator holding ``messages`` stored messages."""

    messages: int
    message_bytes: int  # size of one stored message's raw MIME
    rss_before: int
    rss_after: int
    hwm_after: int
    seconds: float
    path: str  # which request stored them
    note: str = ""
    target_messages: int = 100_000  # the count the target speaks of

    @property
    def projected_rss(self) -> int:
        """RSS at ``target_messages``: measured, or extrapolated linearly when stopped early."""
        if self.messages >= self.target_messages or self.messages == 0:
            return self.rss_after
        return self.rss_before + round(self.bytes_per_message * self.target_messages)

    @property
    def growth_mb(self) -> float:
        """RSS after minus RSS before, in MiB."""
        return (self.rss_after - self.rss_before) / _MB

    @property
    def bytes_per_message(self) -> float:
        """RSS growth per stored message."""
        return (self.rss_after - self.rss_before) / self.messages if self.messages else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileResult:
    """Where our emulator spends its time under load, from py-spy samples."""

    operation: str
    samples: int
    self_top: tuple[tuple[str, int], ...] = ()  # "func (file:line)", samples
    ours_top: tuple[tuple[str, int], ...] = ()  # our innermost "func (file:line)", samples
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetCheck:
    """One of issue 8's targets, with what was measured."""

    target: str
    measured: str
    met: bool | None  # None: not measured


@dataclass(slots=True, kw_only=True)
class Report:
    """Everything one run measured."""

    quick: bool
    plan: Plan
    started_at: dt.datetime
    versions: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # server → reason
    cells: list[CellResult] = field(default_factory=list)
    startup: list[StartupResult] = field(default_factory=list)
    memory: MemoryResult | None = None
    memory_note: str = ""
    split_memory: MemoryResult | None = None  # ``--split``, both processes
    split_memory_note: str = ""
    profiles: list[ProfileResult] = field(default_factory=list)
    profile_note: str = ""
    duration_s: float = 0.0
    # 1-minute load averages at start and end: anything else running skews every column.
    load_before: float = 0.0
    load_after: float = 0.0


# ----------------------------------------------------------------------------- pure helpers


def ratio(ours: CellResult | None, peer: CellResult | None) -> float | None:
    """ours ÷ peer in requests per second, when both were measured."""
    if ours is None or peer is None or ours.status != "ok" or peer.status != "ok":
        return None
    peer_rps = peer.requests_per_s
    return ours.requests_per_s / peer_rps if peer_rps > 0 else None


def format_ratio(value: float | None) -> str:
    """``12.3×``, ``1.23×``, ``0.047×``; an em dash when not measured."""
    if value is None:
        return "—"
    if value < 0.1:  # keep two significant digits for the far-behind cases
        return f"{value:.2g}×"
    return f"{value:.2f}×" if value < 10 else f"{value:.1f}×"


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A GitHub-flavoured markdown table; numeric-looking columns are right-aligned."""
    body = [list(row) for row in rows]
    for row in body:
        if len(row) != len(headers):
            raise ValueError(f"row has {len(row)} cells, headers have {len(headers)}: {row}")
    align = []
    for index in range(len(headers)):
        cells = [row[index] for row in body]
        numeric = bool(cells) and all(_looks_numeric(cell) for cell in cells)
        align.append("---:" if numeric else "---")
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def _looks_numeric(cell: str) -> bool:
    stripped = cell.replace(",", "").replace("×", "").replace("%", "").strip()
    if stripped in {"", "—"}:
        return True
    try:
        float(stripped.split()[0])
    except ValueError:
        return False
    return True


def _cell(cells: Sequence[CellResult], server: str, operation: str, c: int) -> CellResult | None:
    for cell in cells:
        if (cell.server, cell.operation, cell.concurrency) == (server, operation, c):
            return cell
    return None


def check_targets(report: Report) -> list[TargetCheck]:
    """Issue 8's targets against this run's numbers."""
    checks: list[TargetCheck] = []
    c = TARGET_CONCURRENCY
    for operation in TARGET_OPERATIONS:
        checks += _throughput_checks(report, OURS, operation, "")
        # The --split rows only when that variant was measured; named "<operation>, C=32:
        # --split ..." so the runner's summary lists them beside one process's on the same row.
        if _cell(report.cells, OURS_SPLIT, operation, c) is not None:
            checks += _throughput_checks(report, OURS_SPLIT, operation, "--split ")
    checks.append(_ready_check(report, OURS, ""))
    checks.append(_memory_check(report.memory, ""))
    if any(item.server == OURS_SPLIT for item in report.startup):
        checks.append(_ready_check(report, OURS_SPLIT, "--split "))
    if report.split_memory is not None or report.split_memory_note:
        checks.append(_memory_check(report.split_memory, "--split "))
    return checks


def _ready_check(report: Report, server: str, prefix: str) -> TargetCheck:
    start = next((s for s in report.startup if s.server == server), None)
    ready = start.median_s if start is not None else None
    return TargetCheck(
        target=f"{prefix}start-to-ready ≤ {TARGET_READY_S:g} s",
        measured="—" if ready is None else f"{ready:.3f} s",
        met=None if ready is None else ready <= TARGET_READY_S,
    )


def _memory_check(memory: MemoryResult | None, prefix: str) -> TargetCheck:
    target_messages = memory.target_messages if memory is not None else 100_000
    target = f"{prefix}{target_messages:,} stored 2 KB messages: RSS ≤ {TARGET_MEMORY_MB:g} MB"
    if memory is None or not memory.messages:
        return TargetCheck(target=target, measured="—", met=None)
    total_mb = memory.projected_rss / _MB
    measured = f"{total_mb:.0f} MB RSS"
    if memory.messages < memory.target_messages:
        measured += f" (extrapolated from {memory.messages:,})"
    return TargetCheck(target=target, measured=measured, met=total_mb <= TARGET_MEMORY_MB)


def _throughput_checks(
    report: Report, server: str, operation: str, prefix: str
) -> list[TargetCheck]:
    """``server``'s ratio targets against each peer and its p99 target, for ``operation``."""
    c = TARGET_CONCURRENCY
    ours = _cell(report.cells, server, operation, c)
    checks = []
    for peer, target in ((MOTO, TARGET_VS_MOTO), (SES_V2_LOCAL, TARGET_VS_SES_V2_LOCAL)):
        value = ratio(ours, _cell(report.cells, peer, operation, c))
        checks.append(
            TargetCheck(
                target=f"{operation}, C={c}: {prefix}≥ {target:g}× {peer}",
                measured=format_ratio(value),
                met=None if value is None else value >= target,
            )
        )
    p99 = ours.p99_ms if ours is not None and ours.status == "ok" else None
    checks.append(
        TargetCheck(
            target=f"{operation}, C={c}: {prefix}p99 ≤ {TARGET_P99_MS:g} ms",
            measured="—" if p99 is None else f"{p99:.1f} ms",
            met=None if p99 is None else p99 <= TARGET_P99_MS,
        )
    )
    return checks


def collapse_profile(
    lines: Iterable[str], *, packages: Sequence[str] = ("emulator", "seskit"), top: int = 15
) -> tuple[int, list[tuple[str, int]], list[tuple[str, int]]]:
    """Self time and "our innermost frame" time from py-spy's ``--format raw`` output.

    Each input line is ``frame;frame;...;leaf COUNT`` with frames ``func (file:line)``.
    Self time goes to the leaf frame, wherever it lives (the event loop, aiohttp, the stdlib).
    The second list charges each stack to its deepest frame in our ``packages``, at the line
    that was executing: that is the line of our code responsible for the time, including
    whatever library code it called (a stdlib parse showed as ``_is_virus
    (emulator/events.py:232)`` in the 2026-11-22 report). py-spy names files relative to
    ``sys.path`` (``emulator/app.py``) or absolutely; both are recognised.
    """
    markers = tuple(f"({package}/" for package in packages) + tuple(
        f"{REPO}{os.sep}{package}{os.sep}" for package in packages
    )
    total = 0
    self_counts: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    for line in lines:
        stack, _, count_text = line.rstrip().rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        self_counts[_short_frame(frames[-1])] += count
        for frame in reversed(frames):
            if any(marker in frame for marker in markers):
                ours[_short_frame(frame)] += count
                break
    return total, self_counts.most_common(top), ours.most_common(top)


def _short_frame(frame: str) -> str:
    """``func (/abs/path/repo/emulator/x.py:12)`` → ``func (emulator/x.py:12)``."""
    name, _, location = frame.partition(" (")
    location = location.rstrip(")")
    path, _, line = location.rpartition(":")
    if not path:
        path, line = location, ""
    root = str(REPO) + os.sep
    if path.startswith(root):
        path = path[len(root) :]
    elif "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    elif "/lib/python3" in path:  # the standard library: asyncio/..., email/...
        path = path.split("/lib/python3", 1)[1].partition("/")[2]
    return f"{name} ({path}:{line})" if line else f"{name} ({path})"


# ----------------------------------------------------------------------------- measuring


def _log(message: str) -> None:
    print(f"[emulators] {message}", file=sys.stderr, flush=True)


def ensure_wrk() -> str:
    """wrk's path, installing Debian's package when running as root; `Unavailable` otherwise."""
    path = wrk_path()
    if path is not None:
        return path
    if os.geteuid() != 0:
        raise Unavailable("wrk is not installed (Debian package 'wrk'; not root, so not installed)")
    # Install from the package lists as they are; refresh them only if that fails.
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    for argv in (install, ["apt-get", "update", "-q"], install):
        try:
            subprocess.run(argv, capture_output=True, timeout=600, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise Unavailable(f"cannot install wrk: {exc}") from exc
        if (path := wrk_path()) is not None:
            return path
    raise Unavailable("wrk is not installed and 'apt-get install wrk' did not install it")


def _unsupported(reply_status: int, body: bytes) -> bool:
    text = body[:2000].decode(errors="replace")
    return reply_status in {404, 405, 501} or any(
        marker in text for marker in ("NotImplemented", "UnknownOperation", "not implemented")
    )


def _probe(server: ServerProcess, request: PreparedRequest) -> tuple[CellStatus, str]:
    """Send the request once: does this server support and accept it?"""
    try:
        reply = http_call(server.port, request, timeout=10.0)
    except OSError as exc:
        # aws-ses-v2-local never answers a v1 action it lacks: a timeout means unsupported.
        return "unsupported", f"no answer ({type(exc).__name__})"
    if 200 <= reply.status < 300:
        return "ok", ""
    snippet = " ".join(reply.body[:160].decode(errors="replace").split())
    if _unsupported(reply.status, reply.body):
        return "unsupported", f"HTTP {reply.status}"
    return "failed", f"HTTP {reply.status}: {snippet}"


def _reset(server: ServerProcess) -> None:
    server.spec.clear(server.port)
    server.spec.prepare(server.port)


@dataclass(slots=True)
class _Live:
    """A started, probed server taking part in the interleaved rounds of one operation."""

    server: ServerProcess
    request: PreparedRequest
    rounds: list[LoadResult] = field(default_factory=list)
    cpu_shares: list[float] = field(default_factory=list)
    memory: MemoryUsage | None = None
    failure: str = ""


def _interleaved(live: Sequence[_Live], operation: str, c: int, plan: Plan) -> list[CellResult]:
    """Warm up every server, then run the rounds server after server, rotating the order.

    Interleaving spreads any background load over every server alike, so the ratios stay
    fair even when the machine is not idle.
    """
    for item in live:
        item.rounds, item.cpu_shares, item.memory, item.failure = [], [], None, ""
        try:
            run_wrk(item.server.url, item.request, connections=c, seconds=plan.warmup_s)
            _reset(item.server)
        except (WrkError, Unavailable) as exc:
            item.failure = _failure_note(item.server, exc)
    for index in range(plan.rounds):
        order = [*live[index % len(live) :], *live[: index % len(live)]]
        for item in order:
            if item.failure:
                continue
            server = item.server
            try:
                cpu_before = server.cpu_seconds()
                result = run_wrk(server.url, item.request, connections=c, seconds=plan.round_s)
                item.cpu_shares.append((server.cpu_seconds() - cpu_before) / result.duration_s)
                now = server.memory()
                if item.memory is None or now.rss > item.memory.rss:
                    item.memory = now
                item.rounds.append(result)
                _reset(server)
            except (WrkError, Unavailable, OSError) as exc:
                item.failure = _failure_note(server, exc)
    cells = []
    for item in live:
        name = item.server.spec.name
        if item.failure:
            _log(f"{name} · {operation} · C={c}: failed ({item.failure})")
            cells.append(
                CellResult(
                    server=name,
                    operation=operation,
                    concurrency=c,
                    status="failed",
                    note=item.failure,
                )
            )
            continue
        cell = CellResult(
            server=name,
            operation=operation,
            concurrency=c,
            status="ok",
            rounds=tuple(item.rounds),
            server_cpu_shares=tuple(item.cpu_shares),
            memory=item.memory,
        )
        _log(
            f"{name} · {operation} · C={c}: {cell.requests_per_s:,.0f} req/s, "
            f"p99 {cell.p99_ms:.1f} ms, {cell.errors} errors"
        )
        cells.append(cell)
    return cells


def _failure_note(server: ServerProcess, exc: Exception) -> str:
    reason = exc.reason if isinstance(exc, Unavailable) else str(exc)
    if server.proc.poll() is not None:
        reason += f" (server exited with {server.proc.returncode})"
    tail = " ".join(server.log_tail(3).split())
    return f"{reason}; server log: {tail[-300:]}" if tail else reason


def measure_throughput(specs: Sequence[ServerSpec], plan: Plan) -> list[CellResult]:
    """Every operation at every concurrency; per operation, every server starts fresh."""
    cells: list[CellResult] = []
    for operation in OPERATIONS:
        with ExitStack() as stack:
            live: list[_Live] = []
            for spec in specs:
                try:
                    server, _ = stack.enter_context(started(spec))
                    request = request_for(operation, server.url)
                    status, note = _probe(server, request)
                    if status == "ok":
                        _reset(server)
                except Unavailable as exc:
                    status, note = "failed", exc.reason
                if status != "ok":
                    _log(f"{spec.name} · {operation}: {status} ({note})")
                    cells += [
                        CellResult(
                            server=spec.name,
                            operation=operation,
                            concurrency=c,
                            status=status,
                            note=note,
                        )
                        for c in plan.concurrencies
                    ]
                    continue
                live.append(_Live(server, request))
            for c in plan.concurrencies:
                if live:
                    cells += _interleaved(live, operation, c, plan)
    return cells


def measure_startup(spec: ServerSpec, plan: Plan) -> StartupResult:
    """Median start-to-ready over ``plan.starts`` fresh starts."""
    seconds: list[float] = []
    try:
        for _ in range(plan.starts):
            with started(spec, prepare=False) as (_, ready_s):
                seconds.append(ready_s)
    except Unavailable as exc:
        return StartupResult(server=spec.name, probe=spec.ready_label, note=exc.reason)
    result = StartupResult(server=spec.name, seconds=tuple(seconds), probe=spec.ready_label)
    _log(f"{spec.name}: ready in {result.median_s:.3f} s (median of {len(seconds)})")
    return result


async def _send_many(
    port: int, request: PreparedRequest, count: int, workers: int, *, limit_s: float = 60.0
) -> tuple[int, list[str]]:
    """Send ``request`` ``count`` times, or until ``limit_s`` seconds have passed.

    Returns the number of messages the server stored (SUCCESS entries) and one message id.
    """
    import aiohttp  # noqa: PLC0415 - only this measurement needs a client library

    url = f"http://127.0.0.1:{port}{request.path}"
    stored = 0
    ids: list[str] = []
    remaining = count
    timeout = aiohttp.ClientTimeout(total=60)
    deadline = time.perf_counter() + limit_s

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal stored, remaining
        while remaining > 0 and time.perf_counter() < deadline:
            remaining -= 1
            async with session.request(
                request.method, url, data=request.body, headers=dict(request.headers)
            ) as response:
                payload = await response.read()
                if response.status != 200:
                    raise Unavailable(f"HTTP {response.status}: {payload[:200]!r}")
            document = json.loads(payload)
            if "BulkEmailEntryResults" in document:
                for entry in document["BulkEmailEntryResults"]:
                    if entry.get("Status") == "SUCCESS":
                        stored += 1
                        if len(ids) < 1:
                            ids.append(entry["MessageId"])
            elif "MessageId" in document:
                stored += 1
                if len(ids) < 1:
                    ids.append(document["MessageId"])

    connector = aiohttp.TCPConnector(limit=workers)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(worker(session) for _ in range(workers)))
    return stored, ids


def measure_memory(spec: ServerSpec, plan: Plan) -> MemoryResult:
    """RSS growth of ``spec`` (our emulator) storing ``plan.memory_messages`` 2 KB messages.

    The fastest path is v2 SendBulkEmail: 50 stored messages per request, each rendered from a
    template padded so that one message's MIME is about 2 KB.
    """
    entries = 50
    with started(spec) as (server, _):
        params = bulk_email_params(template="bench-memory", entries=entries)
        request = capture("sesv2", server.url, "SendBulkEmail", params)
        status, note = _probe(server, request)
        if status != "ok":
            raise Unavailable(f"v2 SendBulkEmail: {status} ({note})")
        # Warm every code path once, then forget those messages: "before" is a warm server.
        asyncio.run(_send_many(server.port, request, 20, 4))
        server.spec.clear(server.port)
        before = server.memory()
        requests = -(-plan.memory_messages // entries)
        started_at = time.perf_counter()
        stored, ids = asyncio.run(
            _send_many(server.port, request, requests, 8, limit_s=plan.memory_limit_s)
        )
        seconds = time.perf_counter() - started_at
        after = server.memory()
        message_bytes = 0
        if ids:
            raw = http_call(
                server.port,
                PreparedRequest(method="GET", path=f"/_emulator/messages/{ids[0]}/raw"),
            )
            message_bytes = len(raw.body) if raw.status == 200 else 0
    result = MemoryResult(
        messages=stored,
        message_bytes=message_bytes,
        rss_before=before.rss,
        rss_after=after.rss,
        hwm_after=after.hwm,
        seconds=seconds,
        path=f"v2 SendBulkEmail, {entries} entries per request",
        note=(
            ""
            if stored >= plan.memory_messages
            else f"stopped at the {plan.memory_limit_s} s limit after {stored:,} of "
            f"{plan.memory_messages:,} messages; the 100k figure is extrapolated"
        ),
        target_messages=plan.memory_messages,
    )
    _log(
        f"{spec.name}: {stored:,} messages → +{result.growth_mb:.0f} MB "
        f"({result.bytes_per_message:,.0f} B/message)"
    )
    return result


def profile_hot_path(spec: ServerSpec, plan: Plan, operation: str) -> ProfileResult:
    """py-spy samples of ``spec`` (our emulator) while wrk drives ``operation`` at C=32."""
    from benchmarks.peers_tools import py_spy  # noqa: PLC0415 - installs py-spy on first use

    binary = py_spy()
    with started(spec) as (server, _), tempfile.TemporaryDirectory() as tmp:
        request = request_for(operation, server.url)
        status, note = _probe(server, request)
        if status != "ok":
            return ProfileResult(operation=operation, samples=0, note=f"{status}: {note}")
        run_wrk(server.url, request, connections=TARGET_CONCURRENCY, seconds=1)
        out = Path(tmp, "profile.txt")
        spy = subprocess.Popen(
            [
                str(binary),
                "record",
                "--format",
                "raw",
                "--rate",
                "250",
                "--duration",
                str(plan.profile_s),
                "--pid",
                str(server.pid),
                "--output",
                str(out),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        run_wrk(server.url, request, connections=TARGET_CONCURRENCY, seconds=plan.profile_s + 1)
        _, err = spy.communicate(timeout=plan.profile_s + 60)
        if spy.returncode != 0 or not out.exists():
            reason = err.decode(errors="replace").strip().splitlines()
            return ProfileResult(
                operation=operation,
                samples=0,
                note=f"py-spy failed: {reason[-1] if reason else spy.returncode}",
            )
        total, self_top, ours_top = collapse_profile(out.read_text().splitlines())
    return ProfileResult(
        operation=operation,
        samples=total,
        self_top=tuple(self_top),
        ours_top=tuple(ours_top),
    )


# ----------------------------------------------------------------------------- the run


def _machine() -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with open("/proc/meminfo") as info:
        for line in info:
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    return {
        "cores (nproc)": str(os.cpu_count()),
        "CPU": cpu,
        "memory": memory,
        "kernel": platform.release(),
    }


def _versions() -> dict[str, str]:
    from importlib.metadata import version  # noqa: PLC0415

    return {
        "python": platform.python_version(),
        "aiohttp": version("aiohttp"),
        "botocore": version("botocore"),
        "wrk": wrk_version(),
    }


def _specs(*, with_uvloop: bool, with_split: bool) -> list[tuple[str, Callable[[], ServerSpec]]]:
    specs: list[tuple[str, Callable[[], ServerSpec]]] = [(OURS, ours_spec)]
    if with_split:
        specs.append((OURS_SPLIT, lambda: ours_spec(split=True)))
    if with_uvloop:
        specs.append((OURS_UVLOOP, lambda: ours_spec(uvloop=True)))
    specs += [(MOTO, moto_spec), (SES_V2_LOCAL, ses_v2_local_spec), (FLOOR, floor_spec)]
    return specs


def collect(plan: Plan, *, quick: bool) -> Report:
    """Measure everything issue 8 asks for; nothing is dropped silently."""
    report = Report(
        quick=quick,
        plan=plan,
        started_at=dt.datetime.now(dt.UTC),
        load_before=os.getloadavg()[0],
    )
    clock = time.perf_counter()
    report.versions = _versions()
    specs: dict[str, ServerSpec] = {}
    for name, make in _specs(with_uvloop=plan.uvloop, with_split=plan.split):
        try:
            spec = make()
        except Unavailable as exc:
            report.skipped[name] = exc.reason
            _log(f"{name}: skipped ({exc.reason})")
            continue
        specs[name] = spec
        report.versions[name] = spec.version
    try:
        ensure_wrk()
        report.versions["wrk"] = wrk_version()
        have_wrk = True
    except Unavailable as exc:
        report.skipped["throughput (all servers)"] = exc.reason
        have_wrk = False
    for spec in specs.values():
        if spec.name != FLOOR:
            report.startup.append(measure_startup(spec, plan))
    if have_wrk:
        report.cells = measure_throughput(list(specs.values()), plan)
    if OURS in specs:
        try:
            report.memory = measure_memory(specs[OURS], plan)
        except Unavailable as exc:
            report.memory_note = exc.reason
        if plan.profile_s > 0 and have_wrk:
            for operation in TARGET_OPERATIONS:
                try:
                    report.profiles.append(profile_hot_path(specs[OURS], plan, operation))
                except Unavailable as exc:
                    report.profile_note = exc.reason
                    break
    if OURS_SPLIT in specs:
        try:
            report.split_memory = measure_memory(specs[OURS_SPLIT], plan)
        except Unavailable as exc:
            report.split_memory_note = exc.reason
    report.duration_s = time.perf_counter() - clock
    report.load_after = os.getloadavg()[0]
    return report


def _mb(value: int | None) -> str:
    return "—" if value is None else f"{value / _MB:.0f}"


def _details_rows(report: Report) -> list[list[str]]:
    rows = []
    for cell in report.cells:
        if cell.status != "ok":
            rows.append(
                [cell.operation, str(cell.concurrency), cell.server, f"{cell.status}: {cell.note}"]
                + ["—"] * 7
            )
            continue
        rows.append(
            [
                cell.operation,
                str(cell.concurrency),
                cell.server,
                f"{cell.requests_per_s:,.0f}",
                f"{cell.p50_ms:.2f}",
                f"{cell.p99_ms:.2f}",
                f"{cell.errors} / {cell.requests:,}",
                _mb(cell.memory.rss if cell.memory else None),
                _mb(cell.memory.hwm if cell.memory else None),
                f"{cell.server_cpu_share * 100:.0f}%",
                f"{cell.client_cpu_share * 100:.0f}%",
            ]
        )
    return rows


def _verdict_rows(report: Report) -> list[list[str]]:
    rows = []
    for operation in OPERATIONS:
        for c in report.plan.concurrencies:
            ours = _cell(report.cells, OURS, operation, c)
            if ours is None:
                continue
            row = [operation, str(c)]
            for server in (OURS, MOTO, SES_V2_LOCAL):
                cell = _cell(report.cells, server, operation, c)
                row.append(_rps_text(cell, server, report))
            row.append(format_ratio(ratio(ours, _cell(report.cells, MOTO, operation, c))))
            row.append(format_ratio(ratio(ours, _cell(report.cells, SES_V2_LOCAL, operation, c))))
            uv = _cell(report.cells, OURS_UVLOOP, operation, c)
            row.append(format_ratio(ratio(uv, ours)))
            split = _cell(report.cells, OURS_SPLIT, operation, c)
            row.append(_rps_text(split, OURS_SPLIT, report))
            row.append(format_ratio(ratio(split, _cell(report.cells, SES_V2_LOCAL, operation, c))))
            row.append(format_ratio(ratio(split, ours)))
            floor = _cell(report.cells, FLOOR, operation, c)
            row.append(_rps_text(floor, FLOOR, report))
            row.append(format_ratio(ratio(ours, floor)))
            row.append(f"{ours.p99_ms:.1f}" if ours.status == "ok" else "—")
            row.append(f"{split.p99_ms:.1f}" if split and split.status == "ok" else "—")
            rows.append(row)
    return rows


def _rps_text(cell: CellResult | None, server: str, report: Report) -> str:
    if cell is None:
        return "skipped" if server in report.skipped else "—"
    if cell.status == "ok":
        return f"{cell.requests_per_s:,.0f}"
    return cell.status


def render_report(report: Report) -> str:
    """The markdown report: verdict ratios first, then details, machine, versions, method."""
    plan = report.plan
    mode = "--quick" if report.quick else "full"
    out = [
        f"# Emulator benchmark — {report.started_at:%Y-%m-%d %H:%M} UTC ({mode})",
        "",
        "Generated by `python -m benchmarks"
        + (" --quick" if report.quick else "")
        + "` (section `emulators`). Ratios are the verdict: every server ran on the same"
        " machine in the same run, loaded by the same wrk with the same request bytes.",
        "",
        "## Throughput verdict (requests/s, median of rounds)",
        "",
        markdown_table(
            [
                "operation",
                "C",
                "seskit",
                "moto",
                "aws-ses-v2-local",
                "seskit ÷ moto",
                "seskit ÷ aws-ses-v2-local",
                "uvloop ÷ default",
                "split",
                "split ÷ aws-ses-v2-local",
                "split ÷ default",
                "aiohttp floor",
                "seskit ÷ floor",
                "seskit p99 ms",
                "split p99 ms",
            ],
            _verdict_rows(report),
        ),
        "",
        "## Targets (issue 8)",
        "",
        markdown_table(
            ["target", "measured", "verdict"],
            [
                [
                    check.target,
                    check.measured,
                    "not measured" if check.met is None else ("met" if check.met else "MISSED"),
                ]
                for check in check_targets(report)
            ],
        ),
        "",
        "## Start-to-ready (process start → first successful request)",
        "",
    ]
    ours_ready = next((s.median_s for s in report.startup if s.server == OURS), None)
    startup_rows = []
    for item in report.startup:
        if item.median_s is None:
            startup_rows.append([item.server, item.probe, f"failed: {item.note}", "—", "—", "—"])
            continue
        relative = (
            format_ratio(item.median_s / ours_ready) if ours_ready and item.server != OURS else "—"
        )
        startup_rows.append(
            [
                item.server,
                item.probe,
                f"{item.median_s * 1000:.0f}",
                f"{min(item.seconds) * 1000:.0f}–{max(item.seconds) * 1000:.0f}",
                str(len(item.seconds)),
                relative,
            ]
        )
    out += [
        markdown_table(
            ["server", "first request", "median ms", "range ms", "starts", "÷ seskit"],
            startup_rows,
        ),
        "",
        "## Memory: our emulator holding stored messages",
        "",
    ]
    measured = [
        (name, memory, note)
        for name, memory, note in (
            (OURS, report.memory, report.memory_note),
            (OURS_SPLIT, report.split_memory, report.split_memory_note),
        )
        if memory is not None or note or name == OURS
    ]
    rows = [
        [name, f"not measured: {note or 'skipped'}", "—", "—", "—", "—", "—", "—"]
        if memory is None
        else [
            name,
            f"{memory.messages:,}",
            f"{memory.message_bytes:,} B",
            _mb(memory.rss_before),
            _mb(memory.rss_after),
            f"{memory.growth_mb:.0f}",
            f"{memory.bytes_per_message:,.0f}",
            f"{memory.seconds:.1f}",
        ]
        for name, memory, note in measured
    ]
    out.append(
        markdown_table(
            [
                "server",
                "messages",
                "one message (raw MIME)",
                "RSS before MB",
                "RSS after MB",
                "growth MB",
                "bytes / message",
                "store time s",
            ],
            rows,
        )
    )
    stored = next((memory for _, memory, _ in measured if memory is not None), None)
    if stored is not None:
        notes = [f"{name}: {memory.note}" for name, memory, _ in measured if memory and memory.note]
        out += [
            "",
            f"Stored through {stored.path}; a split emulator's RSS is both processes'."
            + (f" Note: {'; '.join(notes)}." if notes else ""),
        ]
    out += [
        "",
        "## Every cell",
        "",
        "errors = non-2xx responses + socket errors over all rounds; RSS is the largest resident"
        " size seen after a round (stored messages are cleared between rounds); CPU is the share"
        " of one core during the rounds (wrk's share shows the load generator is not the"
        " bottleneck).",
        "",
        markdown_table(
            [
                "operation",
                "C",
                "server",
                "req/s",
                "p50 ms",
                "p99 ms",
                "errors / requests",
                "RSS MB",
                "peak RSS MB",
                "server CPU",
                "wrk CPU",
            ],
            _details_rows(report),
        ),
        "",
    ]
    if report.skipped:
        out += ["## Skipped", ""]
        out += [f"- **{name}**: {reason}" for name, reason in report.skipped.items()]
        out.append("")
    if report.profiles or report.profile_note:
        out += ["## Where our emulator spends its time (py-spy, C=32)", ""]
        if report.profile_note:
            out += [f"Not profiled: {report.profile_note}.", ""]
        for prof in report.profiles:
            out += [f"### {prof.operation} — {prof.samples:,} samples", ""]
            if prof.note:
                out += [prof.note, ""]
                continue
            share = max(prof.samples, 1)
            out += [
                markdown_table(
                    ["self time (function, file:line)", "share"],
                    [[f"`{n}`", f"{c / share * 100:.1f}%"] for n, c in prof.self_top[:10]],
                ),
                "",
                markdown_table(
                    ["our innermost line (with everything it calls)", "share"],
                    [[f"`{n}`", f"{c / share * 100:.1f}%"] for n, c in prof.ours_top[:12]],
                ),
                "",
            ]
    out += [
        "## Machine and versions",
        "",
        markdown_table(
            ["", ""],
            [
                [k, v]
                for k, v in {
                    **_machine(),
                    "load average (1 min), start → end": (
                        f"{report.load_before:.2f} → {report.load_after:.2f}"
                    ),
                    **report.versions,
                }.items()
            ],
        ),
        "",
        "## Method",
        "",
        f"- Each server is started fresh on 127.0.0.1 for each operation and prepared the same"
        f" way (sender verified where the server has identities; the bulk template created)."
        f" Each concurrency gets a {plan.warmup_s} s warm-up, then {plan.rounds} rounds of"
        f" {plan.round_s} s; stored messages are cleared (and the server re-prepared) between"
        " rounds, outside the timed window.",
        "- Load: `wrk -t1 -cC` replaying the exact bytes botocore produces for the call (signed,"
        " same headers), one request per connection at a time. Errors are non-2xx responses.",
        f"- Start-to-ready: median of {plan.starts} starts, from `Popen` until the first SES"
        " request (column 'first request') answers 2xx; polled every 2 ms.",
        f"- Memory: {plan.memory_messages:,} messages stored through v2 SendBulkEmail"
        " (50 per request) in a fresh emulator (and a fresh split one); RSS from"
        " /proc/PID/status after minus before (after a warm-up whose messages were deleted).",
        "- Our emulator runs with its defaults (`python -m emulator`: profile `unlimited`, every"
        " rule enforced but the rate and quota); moto as `python -m moto.server`;"
        " aws-ses-v2-local as its npm CLI on node. The split variant is `python -m emulator"
        " --split` (an HTTP front process beside the state owner); its CPU and RSS are the sums"
        " over both processes.",
        "- Reproduce: `make bench-quick` (or `make bench` for longer rounds); this section"
        " alone: `python -m benchmarks.emulators [--quick]`.",
        "",
        f"Run took {report.duration_s:.0f} s.",
        "",
    ]
    return "\n".join(out)


def write_report(text: str, when: dt.datetime, directory: Path = RESULTS_DIR) -> Path:
    """Write ``text`` to ``<directory>/<YYYY-MM-DD>.md`` and return the path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{when:%Y-%m-%d}.md"
    path.write_text(text)
    return path


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.0f}"


def _better(ours: float | None, peer: float | None, *, higher_is_better: bool) -> str:
    """How many times better ours is than the peer (>1× means ours wins)."""
    if ours is None or peer is None or ours <= 0 or peer <= 0:
        return "—"
    return format_ratio(ours / peer if higher_is_better else peer / ours)


def summary_rows(report: Report) -> list[dict[str, str]]:
    """One table for the runner: every measurement with seskit's advantage over each peer.

    The advantage columns are "times better" whatever the unit: requests/s ours ÷ theirs,
    latencies and start times theirs ÷ ours, so above 1× seskit wins.
    """
    servers = (OURS, MOTO, SES_V2_LOCAL)
    rows: list[dict[str, str]] = []

    def add(
        measurement: str,
        values: dict[str, float | None],
        text: dict[str, str],
        *,
        higher_is_better: bool,
        target: str,
    ) -> None:
        row = {"measurement": measurement}
        row.update({server: text[server] for server in servers})
        for peer in PEERS:
            row[f"seskit vs {peer}"] = _better(
                values[OURS], values[peer], higher_is_better=higher_is_better
            )
        row["target"] = target
        rows.append(row)

    checks = {check.target: check for check in check_targets(report)}
    for operation in OPERATIONS:
        for c in report.plan.concurrencies:
            cells = {server: _cell(report.cells, server, operation, c) for server in servers}
            rps = {
                server: cell.requests_per_s if cell and cell.status == "ok" else None
                for server, cell in cells.items()
            }
            p99 = {
                server: cell.p99_ms if cell and cell.status == "ok" else None
                for server, cell in cells.items()
            }
            target = ""
            if operation in TARGET_OPERATIONS and c == TARGET_CONCURRENCY:
                verdicts = [
                    check for name, check in checks.items() if name.startswith(f"{operation}, C=")
                ]
                target = "; ".join(
                    f"{check.target.split(': ', 1)[1]}: "
                    + ("n/a" if check.met is None else "met" if check.met else "MISSED")
                    for check in verdicts
                )
            add(
                f"{operation}, C={c}: req/s",
                rps,
                {s: _rps_text(cells[s], s, report) for s in servers},
                higher_is_better=True,
                target=target,
            )
            add(
                f"{operation}, C={c}: p99 ms",
                p99,
                {s: "—" if p99[s] is None else f"{p99[s]:.1f}" for s in servers},
                higher_is_better=False,
                target="",
            )
    ready: dict[str, float | None] = dict.fromkeys(servers)
    ready.update({item.server: item.median_s for item in report.startup if item.server in servers})
    ready_check = checks.get(f"start-to-ready ≤ {TARGET_READY_S:g} s")
    add(
        "start-to-ready ms (median)",
        ready,
        {s: _ms(ready[s]) for s in servers},
        higher_is_better=False,
        target=(
            f"≤ {TARGET_READY_S * 1000:.0f} ms: "
            + (
                "n/a"
                if ready_check is None or ready_check.met is None
                else "met"
                if ready_check.met
                else "MISSED"
            )
        ),
    )
    memory = report.memory
    memory_check = next((c for c in checks.values() if "stored 2 KB messages" in c.target), None)
    rows.append(
        {
            "measurement": "RSS MB with 100k stored 2 KB messages",
            OURS: "—" if memory is None else f"{memory.projected_rss / _MB:.0f}",
            MOTO: "not measured",
            SES_V2_LOCAL: "not measured",
            f"seskit vs {MOTO}": "—",
            f"seskit vs {SES_V2_LOCAL}": "—",
            "target": f"≤ {TARGET_MEMORY_MB:g} MB: "
            + (
                "n/a"
                if memory_check is None or memory_check.met is None
                else "met"
                if memory_check.met
                else "MISSED"
            ),
        }
    )
    return rows


def run(quick: bool) -> list[dict[str, str]]:
    """The runner's section: measure, write the full markdown report, return the summary."""
    report = collect(QUICK if quick else FULL, quick=quick)
    path = write_report(render_report(report), report.started_at)
    _log(f"full report written to {path.relative_to(REPO)}")
    return summary_rows(report)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.emulators [--quick] [--no-profile] [--no-uvloop] [--no-split]``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.emulators", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short rounds (a few minutes)")
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profile")
    parser.add_argument("--no-uvloop", action="store_true", help="skip the uvloop variant")
    parser.add_argument("--no-split", action="store_true", help="skip the --split variant")
    parser.add_argument("--stdout", action="store_true", help="print the report, write no file")
    args = parser.parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so every started server is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    plan = QUICK if args.quick else FULL
    if args.no_profile:
        plan = dataclasses.replace(plan, profile_s=0)
    if args.no_uvloop:
        plan = dataclasses.replace(plan, uvloop=False)
    if args.no_split:
        plan = dataclasses.replace(plan, split=False)
    report = collect(plan, quick=args.quick)
    text = render_report(report)
    if args.stdout:
        print(text)
    else:
        path = write_report(text, report.started_at)
        print(text)
        _log(f"report written to {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
