"""Malformed requests over raw HTTP get AWS-shaped 4xx errors: never a 500, hang or traceback."""

from __future__ import annotations

import gzip
import http.client
import json
import logging
import socket
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

import brotli  # type: ignore[import-untyped]  # Brotli ships neither stubs nor py.typed
import pytest
from aiohttp.test_utils import TestClient, TestServer

from emulator.app import build_app
from emulator.config import Settings
from emulator.server import EmulatorServer
from emulator.ses import v1_ops, v2_ops
from emulator.ses.context import Params, RequestContext

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

NS = "{http://ses.amazonaws.com/doc/2010-12-01/}"
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
JSON = {"Content-Type": "application/json"}


# Every Content-Encoding the emulator decodes (aiohttp's four, plus x-gzip for gzip below),
# with the encoder a client would use for it.
COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": zstd.compress,
}


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def xml_error(self) -> tuple[str, str, str]:
        """(Type, Code, Message) of a v1 ErrorResponse, checking its shape on the way."""
        assert self.headers["Content-Type"] == "text/xml"
        root = ElementTree.fromstring(self.body)
        assert root.tag == f"{NS}ErrorResponse"
        request_id = root.findtext(f"{NS}RequestId")
        assert request_id == self.headers["x-amzn-RequestId"]
        return (
            root.findtext(f"{NS}Error/{NS}Type") or "",
            root.findtext(f"{NS}Error/{NS}Code") or "",
            root.findtext(f"{NS}Error/{NS}Message") or "",
        )

    def json_error(self) -> tuple[str, str]:
        """(x-amzn-ErrorType, message) of a v2 error, checking its shape on the way."""
        assert self.headers["Content-Type"] == "application/json"
        assert self.headers["x-amzn-RequestId"]
        document = json.loads(self.body)
        assert list(document) == ["message"]
        return self.headers["x-amzn-ErrorType"], document["message"]


def send(
    server: EmulatorServer,
    method: str,
    target: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> Reply:
    url = urlsplit(server.endpoint_url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, response.headers, response.read())
    finally:
        connection.close()


def raw_deflate(data: bytes) -> bytes:
    """A deflate stream without the zlib wrapper (RFC 1951), as some clients send."""
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def send_in_two_packets(server: EmulatorServer, head: bytes, body: bytes) -> bytes:
    """Send ``head`` (request line and headers), pause, send ``body``; the raw answer.

    The pause makes the body arrive in a later packet than the headers, after the server has
    started the request. The socket timeout is far below pytest-timeout, so a server that
    never answers fails this test with `TimeoutError` instead of hanging the run.
    """
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(head)
        time.sleep(0.2)  # not a timed assertion: only keeps the two sends apart
        sock.sendall(body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


V1_VERIFY = b"Action=VerifyEmailIdentity&EmailAddress=v1%40example.com"
V2_VERIFY = json.dumps({"EmailIdentity": "v2@example.com"}).encode()


@pytest.fixture
def server(emulator: EmulatorServer) -> EmulatorServer:
    # conftest fails any test during which the emulator logged a traceback.
    return emulator


def test_json_body_on_the_v1_endpoint_is_missing_action(server: EmulatorServer) -> None:
    reply = send(server, "POST", "/", b'{"Action": "SendEmail"}', JSON)
    assert reply.status == 400
    assert reply.xml_error() == (
        "Sender",
        "MissingAction",
        "The request must contain the parameter Action.",
    )


def test_unknown_action_is_invalid_action(server: EmulatorServer) -> None:
    reply = send(server, "POST", "/", b"Action=Nope&Version=2010-12-01", FORM)
    assert reply.status == 400
    assert reply.xml_error() == (
        "Sender",
        "InvalidAction",
        "Could not find operation Nope for version 2010-12-01",
    )


def test_bad_base64_raw_message_is_invalid_parameter_value(server: EmulatorServer) -> None:
    reply = send(server, "POST", "/", b"Action=SendRawEmail&RawMessage.Data=%%%", FORM)
    assert reply.status == 400
    assert reply.xml_error() == (
        "Sender",
        "InvalidParameterValue",
        "Invalid value for parameter RawMessage.Data: not valid base64",
    )


def test_wrong_type_in_a_form_field_is_invalid_parameter_value(server: EmulatorServer) -> None:
    reply = send(server, "POST", "/", b"Action=ListIdentities&MaxItems=lots", FORM)
    assert reply.status == 400
    assert reply.xml_error()[1:] == (
        "InvalidParameterValue",
        "Invalid value for parameter MaxItems: 'lots' is not an integer",
    )


def test_missing_required_form_field_is_missing_parameter(server: EmulatorServer) -> None:
    reply = send(server, "POST", "/", b"Action=GetTemplate&Version=2010-12-01", FORM)
    assert reply.status == 400
    assert reply.xml_error()[1:] == (
        "MissingParameter",
        "The request must contain the parameter TemplateName",
    )


def test_oversized_v1_member_is_validation_error(server: EmulatorServer) -> None:
    body = b"Action=DeleteIdentityPolicy&Identity=example.com&PolicyName=" + b"p" * 65
    reply = send(server, "POST", "/", body, FORM)
    assert reply.status == 400
    assert reply.xml_error()[1:] == (
        "ValidationError",
        f"1 validation error detected: Value '{'p' * 65}' at 'policyName' failed to satisfy "
        "constraint: Member must have length less than or equal to 64",
    )


def test_non_utf8_form_is_invalid_parameter_value(server: EmulatorServer) -> None:
    reply = send(server, "POST", "/", b"Action=ListIdentities&X=%ff", FORM)
    assert reply.status == 400
    assert reply.xml_error()[1:] == (
        "InvalidParameterValue",
        "The request is not UTF-8 form data.",
    )


def test_invalid_json_is_bad_request(server: EmulatorServer) -> None:
    reply = send(server, "POST", "/v2/email/outbound-emails", b'{"Content": ', JSON)
    assert reply.status == 400
    code, message = reply.json_error()
    assert code == "BadRequestException"
    assert (
        message
        == "Could not parse request body into json: Expecting value: line 1 column 13 (char 12)"
    )


def test_wrong_json_type_is_bad_request_naming_the_member(server: EmulatorServer) -> None:
    body = b'{"Content": {"Simple": {"Subject": {"Data": 1}}}}'
    reply = send(server, "POST", "/v2/email/outbound-emails", body, JSON)
    assert reply.status == 400
    assert reply.json_error() == (
        "BadRequestException",
        "Invalid value at 'content.simple.subject.data': expected a string, got a number.",
    )


def test_bad_base64_in_json_is_bad_request(server: EmulatorServer) -> None:
    body = b'{"Content": {"Raw": {"Data": "not base64!"}}}'
    reply = send(server, "POST", "/v2/email/outbound-emails", body, JSON)
    assert reply.status == 400
    assert reply.json_error() == (
        "BadRequestException",
        "Invalid value at 'content.raw.data': expected a base64 string.",
    )


def test_too_many_headers_is_bad_request_in_coral_form(server: EmulatorServer) -> None:
    headers = [{"Name": f"X-H{i}", "Value": "v"} for i in range(16)]
    simple = {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}, "Headers": headers}
    body = json.dumps({"Content": {"Simple": simple}}).encode()
    reply = send(server, "POST", "/v2/email/outbound-emails", body, JSON)
    assert reply.status == 400
    code, message = reply.json_error()
    assert code == "BadRequestException"
    assert message.startswith("1 validation error detected: Value '[{")
    assert message.endswith(
        "at 'content.simple.headers' failed to satisfy constraint: Member must have length less "
        "than or equal to 15"
    )


def test_unknown_paths_are_json_404(server: EmulatorServer) -> None:
    for target in ("/nothing", "/v2/email/nothing", "/v2/other"):
        reply = send(server, "GET", target)
        assert reply.status == 404
        assert reply.json_error() == (
            "UnknownOperationException",
            f"No operation matches the request path {target}.",
        )


def test_wrong_method_on_a_v2_path_is_405(server: EmulatorServer) -> None:
    reply = send(server, "PATCH", "/v2/email/templates")
    assert reply.status == 405
    assert reply.json_error() == (
        "MethodNotAllowedException",
        "The method PATCH is not allowed on /v2/email/templates (allowed: GET, POST).",
    )


def test_percent_2f_in_a_path_segment_stays_in_the_parameter(
    server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Params] = []

    def probe(context: RequestContext, params: Params) -> Params:
        seen.append(params)
        return {}

    monkeypatch.setitem(v2_ops.HANDLERS, "DeleteEmailIdentity", probe)
    reply = send(server, "DELETE", "/v2/email/identities/a%2Fb%2Bc%40example.com")
    assert (reply.status, reply.body) == (200, b"{}")
    assert seen == [{"EmailIdentity": "a/b+c@example.com"}]


@pytest.mark.parametrize("encoding", sorted(COMPRESSORS))
def test_compressed_body_is_decoded_and_served(server: EmulatorServer, encoding: str) -> None:
    compress = COMPRESSORS[encoding]
    reply = send(server, "POST", "/", compress(V1_VERIFY), {**FORM, "Content-Encoding": encoding})
    assert reply.status == 200, reply.body
    assert ElementTree.fromstring(reply.body).tag == f"{NS}VerifyEmailIdentityResponse"
    reply = send(
        server,
        "POST",
        "/v2/email/identities",
        compress(V2_VERIFY),
        {**JSON, "Content-Encoding": encoding},
    )
    assert reply.status == 200, reply.body
    assert json.loads(reply.body)["IdentityType"] == "EMAIL_ADDRESS"
    listed = send(server, "POST", "/", b"Action=ListIdentities", FORM)
    names = {e.text for e in ElementTree.fromstring(listed.body).iter(f"{NS}member")}
    assert names == {"v1@example.com", "v2@example.com"}


@pytest.mark.parametrize("encoding", sorted(COMPRESSORS))
@pytest.mark.parametrize("api", ["v1", "v2"])
def test_truncated_compressed_body_is_malformed_http_request(
    server: EmulatorServer, api: str, encoding: str
) -> None:
    # Four bytes short: a gzip body then lacks half its trailer (its decoded prefix is the whole
    # request, which aiohttp served), a zlib one its checksum (aiohttp's plain-text 400).
    body = COMPRESSORS[encoding](V1_VERIFY if api == "v1" else V2_VERIFY)[:-4]
    if api == "v1":
        reply = send(server, "POST", "/", body, {**FORM, "Content-Encoding": encoding})
        assert reply.status == 400, reply.body
        kind, code, message = reply.xml_error()
        assert (kind, code) == ("Sender", "MalformedHttpRequestException")
    else:
        headers = {**JSON, "Content-Encoding": encoding}
        reply = send(server, "POST", "/v2/email/identities", body, headers)
        assert reply.status == 400, reply.body
        code, message = reply.json_error()
        assert code == "MalformedHttpRequestException"
    assert message.startswith(f"The request body cannot be decoded: Content-Encoding {encoding}: ")
    assert "ends before its compressed" in message
    listed = send(server, "POST", "/", b"Action=ListIdentities", FORM)
    assert b"example.com" not in listed.body  # nothing was verified


@pytest.mark.parametrize("encoding", sorted(COMPRESSORS))
@pytest.mark.parametrize("api", ["v1", "v2"])
def test_truncated_body_in_a_later_packet_is_answered_not_hung(
    server: EmulatorServer, api: str, encoding: str
) -> None:
    # aiohttp decoded deflate inside its parser: a stream that ended early with the body in a
    # later packet than the headers got no answer at all.
    body = COMPRESSORS[encoding](V1_VERIFY if api == "v1" else V2_VERIFY)[:-4]
    target, kind = ("/", FORM) if api == "v1" else ("/v2/email/identities", JSON)
    head = (
        f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Content-Type: {kind['Content-Type']}\r\nContent-Encoding: {encoding}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    answer = send_in_two_packets(server, head, body)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 400 Bad Request"
    assert b"MalformedHttpRequestException" in rest


@pytest.mark.parametrize("encoding", [*sorted(COMPRESSORS), "x-gzip"])
def test_body_decoding_past_the_limit_is_413_in_each_api_shape(encoding: str) -> None:
    compress = COMPRESSORS.get(encoding, gzip.compress)
    with EmulatorServer(max_request_bytes=1000) as small:
        # Well under the limit as sent, 100 times over it decoded.
        v1 = compress(b"Action=ListIdentities&Pad=" + b"0" * 100_000)
        assert len(v1) < 1000
        reply = send(small, "POST", "/", v1, {**FORM, "Content-Encoding": encoding})
        assert reply.status == 413
        assert reply.xml_error() == (
            "Sender",
            "RequestEntityTooLarge",
            "The request body exceeds the emulator's limit of 1000 bytes.",
        )
        v2 = compress(b'{"EmailIdentity": "a@example.com"' + b" " * 100_000 + b"}")
        headers = {**JSON, "Content-Encoding": encoding}
        reply = send(small, "POST", "/v2/email/identities", v2, headers)
        assert reply.status == 413
        assert reply.json_error() == (
            "RequestEntityTooLarge",
            "The request body exceeds the emulator's limit of 1000 bytes.",
        )


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("x-gzip", gzip.compress(V1_VERIFY)),  # RFC 9110 8.4.1.3: x-gzip is gzip
        ("GZIP", gzip.compress(V1_VERIFY[:30]) + gzip.compress(V1_VERIFY[30:])),  # two members
        ("deflate", raw_deflate(V1_VERIFY)),  # no zlib wrapper, as aiohttp accepted
        ("identity", V1_VERIFY),  # not a coding to undo
    ],
    ids=["x-gzip", "two-gzip-members", "raw-deflate", "identity"],
)
def test_other_accepted_codings_are_served(
    server: EmulatorServer, encoding: str, body: bytes
) -> None:
    reply = send(server, "POST", "/", body, {**FORM, "Content-Encoding": encoding})
    assert reply.status == 200, reply.body
    assert ElementTree.fromstring(reply.body).tag == f"{NS}VerifyEmailIdentityResponse"


def test_a_list_of_codings_is_not_decoded(server: EmulatorServer) -> None:
    # As with aiohttp: a list is not undone, so the endpoint reads the gzip bytes as a form.
    body = gzip.compress(V1_VERIFY)
    reply = send(server, "POST", "/", body, {**FORM, "Content-Encoding": "gzip, identity"})
    assert reply.status == 400
    assert reply.xml_error()[1] != "MalformedHttpRequestException"


def test_body_over_the_limit_is_413_in_each_api_shape() -> None:
    with EmulatorServer(max_request_bytes=1000) as small:
        big = b"Action=ListIdentities&Pad=" + b"x" * 2000
        reply = send(small, "POST", "/", big, FORM)
        assert reply.status == 413
        assert reply.xml_error() == (
            "Sender",
            "RequestEntityTooLarge",
            "The request body exceeds the emulator's limit of 1000 bytes.",
        )
        reply = send(small, "POST", "/v2/email/outbound-emails", b"{" + b" " * 2000 + b"}", JSON)
        assert reply.status == 413
        assert reply.json_error()[0] == "RequestEntityTooLarge"


def test_chunked_body_over_the_limit_is_413(server: EmulatorServer) -> None:
    with EmulatorServer(max_request_bytes=1000) as small:
        url = urlsplit(small.endpoint_url)
        connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
        chunks = iter([b"Action=ListIdentities&Pad=", b"x" * 3000])
        connection.request("POST", "/", body=chunks, headers=FORM, encode_chunked=True)
        response = connection.getresponse()
        reply = Reply(response.status, response.headers, response.read())
        connection.close()
    assert reply.status == 413
    assert reply.xml_error()[1] == "RequestEntityTooLarge"


@pytest.mark.emulator_bug_expected
def test_handler_bug_is_a_logged_internal_failure_500(
    emulator: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(context: RequestContext, params: Params) -> Any:
        raise RuntimeError("handler bug")

    monkeypatch.setitem(v1_ops.HANDLERS, "ListIdentities", broken)
    monkeypatch.setitem(v2_ops.HANDLERS, "ListEmailTemplates", broken)
    with caplog.at_level(logging.ERROR, logger="emulator"):
        v1 = send(emulator, "POST", "/", b"Action=ListIdentities", FORM)
        v2 = send(emulator, "GET", "/v2/email/templates")
    assert v1.status == 500
    assert v1.xml_error() == ("Receiver", "InternalFailure", "An internal error occurred.")
    assert v2.status == 500
    assert v2.json_error() == ("InternalServiceErrorException", "An internal error occurred.")
    logged = [r for r in caplog.records if r.name == "emulator"]
    assert len(logged) == 2
    assert all(r.exc_info and r.exc_info[0] is RuntimeError for r in logged)


async def test_an_app_served_with_aiohttp_decoding_is_not_decoded_twice() -> None:
    # build_app under aiohttp's default runner (auto_decompress on, as web.run_app would):
    # aiohttp has decoded the body already, so the guard must take it as it is.
    async with TestClient(TestServer(build_app(Settings()))) as client:
        headers = {**FORM, "Content-Encoding": "gzip"}
        response = await client.post("/", data=gzip.compress(V1_VERIFY), headers=headers)
        assert response.status == 200, await response.text()
        body = await response.read()
    assert ElementTree.fromstring(body).tag == f"{NS}VerifyEmailIdentityResponse"
