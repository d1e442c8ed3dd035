"""The quick fuzz slice for ``make test``: a few hundred requests, bounded to ~20 s.

Each example is one raw HTTP request to a real in-process emulator; the property is
`tests.fuzz.harness.problems` — an AWS-shaped 4xx or a well-formed 2xx, never a 5xx, a
traceback or a hang — and the server must still answer its health check afterwards.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, given, settings

from emulator.server import EmulatorServer
from tests.fuzz.harness import FuzzRequest, Target, problems
from tests.fuzz.strategies import requests

_V1 = "{http://ses.amazonaws.com/doc/2010-12-01/}"
EXAMPLES = int(os.environ.get("SESKIT_FUZZ_EXAMPLES", "200"))
_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    with EmulatorServer() as server:
        yield Target("127.0.0.1", server.port)


@pytest.fixture(scope="module")
def verifying_target() -> Iterator[Target]:
    with EmulatorServer(auth="verify", credentials=(("AKIDEXAMPLE", "secret"),)) as server:
        yield Target("127.0.0.1", server.port)


def _alive(target: Target) -> None:
    health = target.send(FuzzRequest(method="GET", target="/_emulator/health"))
    assert health.response.status == 200


def test_every_fuzzed_request_gets_an_aws_shaped_answer(target: Target) -> None:
    @_SETTINGS
    @given(request=requests())
    def check(request: FuzzRequest) -> None:
        exchange = target.send(request)
        found = problems(exchange)
        assert not found, f"{found} for {request!r} -> {exchange.response!r:.600}"

    check()
    _alive(target)
    assert target.stats.server_errors == 0


def test_fuzzed_requests_against_signature_checking_get_aws_shaped_answers(
    verifying_target: Target,
) -> None:
    @settings(_SETTINGS, max_examples=max(EXAMPLES // 3, 20))
    @given(request=requests())
    def check(request: FuzzRequest) -> None:
        exchange = verifying_target.send(request)
        found = problems(exchange)
        assert not found, f"{found} for {request!r} -> {exchange.response!r:.600}"

    check()
    _alive(verifying_target)


# Regressions the fuzzer found, pinned as plain examples.


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
@pytest.mark.parametrize("path", ["/", "/v2/email/outbound-emails"])
def test_lying_content_encoding_is_malformed_http_request(
    target: Target, path: str, encoding: str
) -> None:
    # br and zstd were refused by aiohttp's parser itself (a plain-text 400 over HTTP/1.0)
    # until the Brotli and backports.zstd decoders became emulator dependencies; now the
    # emulator decodes every coding itself (emulator/_contentcoding.py).
    exchange = target.send(
        FuzzRequest(
            method="POST",
            target=path,
            headers=(
                ("Content-Encoding", encoding.encode()),
                ("Content-Type", b"application/json"),
            ),
            body=b"this is not compressed",
        )
    )
    response = exchange.response
    assert response.status == 400
    if path == "/":
        assert response.headers["content-type"] == "text/xml"
        root = ElementTree.fromstring(response.body)
        assert root.findtext(f"{_V1}Error/{_V1}Code") == "MalformedHttpRequestException"
        message = root.findtext(f"{_V1}Error/{_V1}Message") or ""
    else:
        assert response.headers["x-amzn-errortype"] == "MalformedHttpRequestException"
        message = json.loads(response.body)["message"]
    # The decoder's own reason follows, e.g. zlib's "(Error -3 ...: incorrect header check)".
    prefix = (
        f"The request body cannot be decoded: Content-Encoding {encoding}: not {encoding} data ("
    )
    assert message.startswith(prefix)
    assert problems(exchange) == []
    _alive(target)


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/v2/email/identities/a%0Ab", "NotFoundException"),
        ("/v2/email/%0A", "UnknownOperationException"),
        ("/%0D%0A", "UnknownOperationException"),
    ],
)
def test_paths_with_encoded_newlines_reach_the_emulator(
    target: Target, path: str, code: str
) -> None:
    exchange = target.send(FuzzRequest(method="GET", target=path))
    assert exchange.response.status == 404
    assert exchange.response.headers["x-amzn-errortype"] == code
    assert problems(exchange) == []


def test_control_paths_with_encoded_newlines_get_the_json_404(target: Target) -> None:
    exchange = target.send(FuzzRequest(method="GET", target="/_emulator/%0A"))
    assert exchange.response.status == 404
    assert problems(exchange) == []
