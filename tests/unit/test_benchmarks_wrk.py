"""The wrk driver's pure parts: Lua quoting, the generated script, reading wrk's result line."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.load_requests import PreparedRequest
from benchmarks.load_wrk import LoadResult, WrkError, lua_script, lua_string, parse_result

WRK_OUTPUT = """Running 2s test @ http://127.0.0.1:4579/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.12ms    1.23ms  20.00ms   80.00%
  12500 requests in 2.00s, 3.00MB read
  Non-2xx or 3xx responses: 5
SESKIT-BENCH {"duration_us": 2000000, "requests": 12500, "connect": 1, "read": 2, "write": 0, \
"status": 5, "timeout": 3, "p50_us": 4900, "p99_us": 10250, "max_us": 20000}
Requests/sec:   6250.00
"""


def test_parse_result_reads_the_marker_line_exactly() -> None:
    result = parse_result(WRK_OUTPUT, client_cpu_s=0.5)

    assert result == LoadResult(
        requests=12500,
        duration_s=2.0,
        p50_ms=4.9,
        p99_ms=10.25,
        max_ms=20.0,
        status_errors=5,
        socket_errors=6,
        client_cpu_s=0.5,
    )
    assert result.requests_per_s == 6250.0
    assert result.errors == 11
    assert result.client_cpu_share == 0.25


def test_parse_result_without_marker_raises_with_the_output() -> None:
    with pytest.raises(WrkError, match="no result line") as info:
        parse_result("unable to connect to 127.0.0.1:1 Connection refused\n", client_cpu_s=0.0)
    assert "Connection refused" in info.value.output


def test_load_result_rejects_a_zero_duration() -> None:
    with pytest.raises(ValueError, match="duration_s must be positive"):
        LoadResult(
            requests=1,
            duration_s=0.0,
            p50_ms=1.0,
            p99_ms=1.0,
            max_ms=1.0,
            status_errors=0,
            socket_errors=0,
            client_cpu_s=0.0,
        )


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("plain", '"plain"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("line\nend", '"line\\010end"'),
        ("café", '"caf\\195\\169"'),
    ],
)
def test_lua_string_escapes_quotes_backslashes_and_non_ascii(value: str, literal: str) -> None:
    assert lua_string(value) == literal


def test_lua_script_sets_method_path_headers_and_reads_the_body_file() -> None:
    request = PreparedRequest(
        method="POST",
        path="/v2/email/outbound-emails",
        headers={"Content-Type": "application/json", "Authorization": 'AWS4 "x"'},
        body=b"{}",
    )

    script = lua_script(request, Path("/tmp/body"))

    assert 'wrk.method = "POST"' in script
    assert 'wrk.path = "/v2/email/outbound-emails"' in script
    assert "io.open(\"/tmp/body\", 'rb')" in script
    assert 'wrk.headers["Content-Type"] = "application/json"' in script
    assert 'wrk.headers["Authorization"] = "AWS4 \\"x\\""' in script
    assert "function done(summary, latency, requests)" in script
    assert "SESKIT-BENCH" in script
