"""The emulator benchmark's arithmetic: medians, ratios, targets, tables and profile folding."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys

import pytest

from benchmarks.emulators import (
    QUICK,
    CellResult,
    MemoryResult,
    Plan,
    Report,
    StartupResult,
    check_targets,
    collapse_profile,
    format_ratio,
    markdown_table,
    ratio,
    render_report,
    summary_rows,
)
from benchmarks.load_wrk import LoadResult
from benchmarks.peers_servers import REPO, MemoryUsage, process_tree

MB = 1024 * 1024


def load(rps: float, *, p50: float = 1.0, p99: float = 2.0, errors: int = 0) -> LoadResult:
    return LoadResult(
        requests=int(rps * 2),
        duration_s=2.0,
        p50_ms=p50,
        p99_ms=p99,
        max_ms=p99 * 2,
        status_errors=errors,
        socket_errors=0,
        client_cpu_s=0.2,
    )


def cell(server: str, operation: str, c: int, *rps: float, p99: float = 2.0) -> CellResult:
    return CellResult(
        server=server,
        operation=operation,
        concurrency=c,
        status="ok",
        rounds=tuple(load(value, p99=p99) for value in rps),
        server_cpu_shares=(0.9, 1.0, 0.95),
        memory=MemoryUsage(rss=60 * MB, hwm=70 * MB),
    )


def test_cell_reports_medians_over_rounds_and_sums_errors() -> None:
    result = CellResult(
        server="s",
        operation="v1 SendEmail",
        concurrency=32,
        status="ok",
        rounds=(load(100, p99=9.0, errors=1), load(300, p99=3.0), load(200, p99=5.0, errors=2)),
        server_cpu_shares=(0.5, 0.7, 0.6),
    )

    assert result.requests_per_s == 200.0
    assert result.p99_ms == 5.0
    assert result.errors == 3
    assert result.requests == 1200
    assert result.server_cpu_share == 0.6
    assert result.client_cpu_share == pytest.approx(0.1)


def test_cells_that_did_not_run_must_say_why() -> None:
    with pytest.raises(ValueError, match="unsupported cell needs a note"):
        CellResult(server="moto", operation="x", concurrency=1, status="unsupported")
    with pytest.raises(ValueError, match="ok cell needs at least one round"):
        CellResult(server="moto", operation="x", concurrency=1, status="ok")


def test_ratio_is_ours_over_peer_and_absent_when_either_did_not_run() -> None:
    ours = cell("seskit emulator", "v1 SendEmail", 32, 3000, 3000, 3000)
    moto = cell("moto server", "v1 SendEmail", 32, 300, 250, 350)
    unsupported = CellResult(
        server="moto server", operation="x", concurrency=32, status="unsupported", note="HTTP 404"
    )

    assert ratio(ours, moto) == 10.0
    assert ratio(ours, unsupported) is None
    assert ratio(None, moto) is None


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "—"), (0.0468, "0.047×"), (1.234, "1.23×"), (9.994, "9.99×"), (12.34, "12.3×")],
)
def test_format_ratio(value: float | None, text: str) -> None:
    assert format_ratio(value) == text


def test_markdown_table_right_aligns_numeric_columns_and_checks_widths() -> None:
    table = markdown_table(["server", "req/s"], [["moto", "1,234"], ["ours", "12.3×"]])

    assert table.splitlines() == [
        "| server | req/s |",
        "|---|---:|",
        "| moto | 1,234 |",
        "| ours | 12.3× |",
    ]
    with pytest.raises(ValueError, match="row has 1 cells"):
        markdown_table(["a", "b"], [["only one"]])


def report_with(cells: list[CellResult], ready: float, rss_after: int) -> Report:
    report = Report(quick=True, plan=QUICK, started_at=dt.datetime(2026, 11, 22, tzinfo=dt.UTC))
    report.cells = cells
    report.startup = [StartupResult(server="seskit emulator", seconds=(ready,), probe="GetAccount")]
    report.memory = stored(rss_before=50 * MB, rss_after=rss_after)
    return report


def stored(*, rss_before: int, rss_after: int) -> MemoryResult:
    """100,000 messages stored in 10 s, RSS going from ``rss_before`` to ``rss_after``."""
    return MemoryResult(
        messages=100_000,
        message_bytes=2048,
        rss_before=rss_before,
        rss_after=rss_after,
        hwm_after=rss_after,
        seconds=10.0,
        path="v2 SendBulkEmail",
    )


def test_targets_are_met_or_missed_from_the_measured_numbers() -> None:
    cells = []
    for operation in ("v1 SendEmail", "v2 SendEmail"):
        cells += [
            cell("seskit emulator", operation, 32, 6000, p99=12.0),
            cell("moto server", operation, 32, 500),
            cell("aws-ses-v2-local", operation, 32, 5000),
        ]
    report = report_with(cells, ready=0.4, rss_after=500 * MB)

    verdicts = {check.target: check.met for check in check_targets(report)}

    assert verdicts["v1 SendEmail, C=32: ≥ 10× moto server"] is True
    assert verdicts["v2 SendEmail, C=32: ≥ 1.5× aws-ses-v2-local"] is False  # 1.2×
    assert verdicts["v2 SendEmail, C=32: p99 ≤ 20 ms"] is True
    assert verdicts["start-to-ready ≤ 0.5 s"] is True
    assert verdicts["100,000 stored 2 KB messages: RSS ≤ 400 MB"] is False


def test_targets_without_a_peer_are_not_measured_rather_than_met() -> None:
    report = report_with(
        [cell("seskit emulator", "v1 SendEmail", 32, 6000)], ready=0.7, rss_after=100 * MB
    )

    checks = {check.target: check for check in check_targets(report)}

    assert checks["v1 SendEmail, C=32: ≥ 10× moto server"].met is None
    assert checks["v1 SendEmail, C=32: ≥ 10× moto server"].measured == "—"
    assert checks["start-to-ready ≤ 0.5 s"].met is False


def test_rendered_report_leads_with_ratios_and_lists_skipped_peers() -> None:
    cells = [
        cell("seskit emulator", "v1 SendEmail", 32, 4000),
        cell("moto server", "v1 SendEmail", 32, 400),
    ]
    report = report_with(cells, ready=0.3, rss_after=200 * MB)
    report.skipped["aws-ses-v2-local"] = "npm is not installed"

    text = render_report(report)

    verdict = text.index("## Throughput verdict")
    assert verdict < text.index("## Every cell")
    assert "| v1 SendEmail | 32 | 4,000 | 400 | skipped | 10.0× | — |" in text
    assert "- **aws-ses-v2-local**: npm is not installed" in text
    assert "Machine and versions" in text


def test_collapse_profile_charges_self_to_leaves_and_stacks_to_our_innermost_line() -> None:
    root = str(REPO)
    lines = [
        f"run (asyncio/base_events.py:600);handle ({root}/emulator/app.py:10);"
        "scan (emulator/events.py:226);parse (email/parser.py:50) 7",
        f"run (asyncio/base_events.py:600);handle ({root}/emulator/app.py:12) 3",
        "select (selectors.py:468) 10",
        "run (asyncio/base_events.py:600);handle (emulator/app.py:12) 2",
        "garbage line without a count",
    ]

    total, self_top, ours_top = collapse_profile(lines)

    assert total == 22
    assert self_top == [
        ("select (selectors.py:468)", 10),
        ("parse (email/parser.py:50)", 7),
        ("handle (emulator/app.py:12)", 5),
    ]
    # The stdlib parse is charged to the line of ours that called it; py-spy's absolute and
    # relative spellings of one file are the same line; the event-loop-only stack is nobody's.
    assert ours_top == [
        ("scan (emulator/events.py:226)", 7),
        ("handle (emulator/app.py:12)", 5),
    ]


def test_memory_stopped_early_is_extrapolated_to_the_target_count() -> None:
    memory = MemoryResult(
        messages=25_000,
        message_bytes=2048,
        rss_before=50 * MB,
        rss_after=100 * MB,
        hwm_after=100 * MB,
        seconds=90.0,
        path="v2 SendBulkEmail",
        note="stopped at the limit",
    )

    assert memory.bytes_per_message == 50 * MB / 25_000
    assert memory.projected_rss == 250 * MB


def test_plan_rejects_zero_rounds() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Plan(warmup_s=1, rounds=0, round_s=1, starts=1)


def test_summary_rows_say_how_many_times_better_whatever_the_unit() -> None:
    cells = [
        cell("seskit emulator", "v1 SendEmail", 32, 4000, p99=10.0),
        cell("moto server", "v1 SendEmail", 32, 400, p99=50.0),
        cell("aws-ses-v2-local", "v1 SendEmail", 32, 8000, p99=5.0),
    ]
    report = report_with(cells, ready=0.25, rss_after=200 * MB)
    report.startup.append(StartupResult(server="moto server", seconds=(1.0,), probe="quota"))

    rows = {row["measurement"]: row for row in summary_rows(report)}

    throughput = rows["v1 SendEmail, C=32: req/s"]
    assert throughput["seskit vs moto server"] == "10.0×"
    assert throughput["seskit vs aws-ses-v2-local"] == "0.50×"
    assert "≥ 10× moto server: met" in throughput["target"]
    assert "≥ 1.5× aws-ses-v2-local: MISSED" in throughput["target"]
    latency = rows["v1 SendEmail, C=32: p99 ms"]
    assert (latency["seskit vs moto server"], latency["seskit vs aws-ses-v2-local"]) == (
        "5.00×",
        "0.50×",
    )
    ready = rows["start-to-ready ms (median)"]
    assert (ready["seskit emulator"], ready["seskit vs moto server"]) == ("250", "4.00×")
    assert ready["aws-ses-v2-local"] == "—"
    assert rows["RSS MB with 100k stored 2 KB messages"]["target"] == "≤ 400 MB: met"


def test_split_variant_gets_its_own_ratio_targets_and_verdict_columns() -> None:
    cells = []
    for operation in ("v1 SendEmail", "v2 SendEmail"):
        cells += [
            cell("seskit emulator", operation, 32, 5000, p99=12.0),
            cell("seskit emulator (split)", operation, 32, 8000, p99=4.0),
            cell("moto server", operation, 32, 500),
            cell("aws-ses-v2-local", operation, 32, 5000),
        ]
    report = report_with(cells, ready=0.4, rss_after=200 * MB)

    checks = {check.target: check for check in check_targets(report)}
    split_ratio = checks["v1 SendEmail, C=32: --split ≥ 1.5× aws-ses-v2-local"]
    assert (split_ratio.measured, split_ratio.met) == ("1.60×", True)
    assert checks["v2 SendEmail, C=32: --split p99 ≤ 20 ms"].measured == "4.0 ms"
    assert checks["v1 SendEmail, C=32: ≥ 1.5× aws-ses-v2-local"].met is False  # 1.0×
    text = render_report(report)
    # seskit, moto, aws-ses-v2-local, ÷ moto, ÷ aws, uvloop ÷ default, split, split ÷ aws,
    # split ÷ default, floor, ÷ floor, p99, split p99.
    assert (
        "| v1 SendEmail | 32 | 5,000 | 500 | 5,000 | 10.0× | 1.00× | — | 8,000 | 1.60× | 1.60× "
        "| — | — | 12.0 | 4.0 |"
    ) in text
    summary = {row["measurement"]: row for row in summary_rows(report)}
    assert "--split ≥ 1.5× aws-ses-v2-local: met" in summary["v1 SendEmail, C=32: req/s"]["target"]


def test_split_variant_has_its_own_start_and_memory_targets() -> None:
    cells = [
        cell("seskit emulator (split)", "v1 SendEmail", 32, 8000),
        cell("moto server", "v1 SendEmail", 32, 500),
    ]
    report = report_with(cells, ready=0.3, rss_after=200 * MB)
    report.startup.append(
        StartupResult(server="seskit emulator (split)", seconds=(0.6,), probe="GetAccount")
    )
    report.split_memory = stored(rss_before=100 * MB, rss_after=390 * MB)

    checks = {check.target: check for check in check_targets(report)}

    assert (checks["start-to-ready ≤ 0.5 s"].met, checks["--split start-to-ready ≤ 0.5 s"].met) == (
        True,
        False,
    )
    split_memory = checks["--split 100,000 stored 2 KB messages: RSS ≤ 400 MB"]
    assert (split_memory.measured, split_memory.met) == ("390 MB RSS", True)
    assert checks["v1 SendEmail, C=32: --split ≥ 10× moto server"].measured == "16.0×"
    text = render_report(report)
    assert "| seskit emulator | 100,000 | 2,048 B | 50 | 200 | 150 |" in text
    assert "| seskit emulator (split) | 100,000 | 2,048 B | 100 | 390 | 290 |" in text


def test_split_targets_are_absent_when_the_variant_was_not_measured() -> None:
    report = report_with(
        [cell("seskit emulator", "v1 SendEmail", 32, 6000)], ready=0.3, rss_after=100 * MB
    )

    assert not [check for check in check_targets(report) if "--split" in check.target]
    assert "(split)" not in render_report(report).split("## Memory", 1)[1].split("##", 1)[0]


def test_process_tree_finds_a_server_and_its_child_processes() -> None:
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        assert sorted(process_tree(parent.pid)) == sorted([parent.pid, child])
        assert process_tree(child) == [child]
    finally:
        os.kill(child, signal.SIGKILL)
        parent.kill()
        parent.wait(timeout=10)
        parent.stdout.close()
