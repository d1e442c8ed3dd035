"""Hypothesis strategies for requests a client — correct, buggy or hostile — could send.

Four families, mixed by `requests`:

* **model requests**: a random operation of either API with parameters drawn from its
  botocore input shape (members present or not, right or wrong values), serialized by
  botocore's own serializer, then optionally mutated (fields dropped, duplicated, re-indexed,
  retyped; bodies truncated, spliced with junk, or sent chunked);
* **form garbage** for v1: random ``Action``, random dotted keys (``X.member.999999999``),
  values in odd encodings, bodies that are not UTF-8;
* **JSON garbage** for v2: random routes (real templates with junk segments, unknown paths,
  wrong methods), random JSON documents, deep nesting, wrong Content-Type/Content-Encoding;
* **control-API probes**: random methods, paths, query strings and bodies under
  ``/_emulator`` and ``/_aws`` (never ``/_emulator/faults``: a random rule there would inject
  5xx errors on purpose).
"""

from __future__ import annotations

import base64
import functools
import gzip
import json
import string
import sys
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import botocore.session
import brotli  # type: ignore[import-untyped]  # Brotli ships neither stubs nor py.typed
from botocore.model import OperationModel, Shape
from botocore.serialize import create_serializer
from hypothesis import strategies as st

from tests.fuzz.harness import FuzzRequest

__all__ = ["requests"]

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

_SESSION = botocore.session.get_session()
_MODELS = {
    "v1": _SESSION.get_service_model("ses"),
    "v2": _SESSION.get_service_model("sesv2"),
}
_SERIALIZERS = {
    # No client-side validation: missing and invalid members must reach the server.
    "v1": create_serializer("query", include_validation=False),
    "v2": create_serializer("rest-json", include_validation=False),
}
_OPERATIONS = {api: sorted(model.operation_names) for api, model in _MODELS.items()}
# aiohttp's four Content-Encodings, with a client's encoder for each (the emulator decodes these
# and x-gzip, emulator/_contentcoding.py).
_COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": zstd.compress,
}

# Strings that have broken parsers before: separators, escapes, encodings, control bytes.
_NASTY = [
    "",
    " ",
    "a@example.com",
    "Name <a@example.com>",
    "=?utf-8?B?w6k=?= <a@example.com>",
    "a+b@example.com",
    "a%40b",
    "%",
    "%zz",
    "&",
    "=",
    "member",
    ".member.0",
    "null",
    "{}",
    "[]",
    '{"a":',
    "\x00",
    "\r\n",
    "\u202e",
    "ä✓😀",
    "\udcff".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    "A" * 300,
    "-1",
    "1e309",
    "NaN",
    "2024-13-45T99:99:99Z",
    "{{name}}",
    "{{#each x}}{{/each}}",
    base64.b64encode(b"From: s@example.com\r\nTo: a@example.com\r\n\r\nhi").decode(),
]

_text = st.one_of(st.sampled_from(_NASTY), st.text(max_size=40))


@functools.cache
def _shape_strategy(shape: Shape, depth: int) -> st.SearchStrategy[Any]:
    kind = shape.type_name
    if kind == "structure":
        if depth > 5:
            return st.just({})
        members = shape.members
        required = set(shape.required_members)
        optional = {n: _shape_strategy(s, depth + 1) for n, s in members.items()}
        mandatory = {n: optional.pop(n) for n in list(optional) if n in required}
        full = st.fixed_dictionaries(mandatory, optional=optional)
        # Sometimes drop required members: clients without validation send that too.
        return st.one_of(full, st.fixed_dictionaries({}, optional={**mandatory, **optional}))
    if kind == "list":
        return st.lists(_shape_strategy(shape.member, depth + 1), max_size=3)
    if kind == "map":
        return st.dictionaries(_text, _shape_strategy(shape.value, depth + 1), max_size=3)
    if kind == "string":
        enum = shape.enum
        return st.one_of(st.sampled_from(enum), _text) if enum else _text
    if kind in ("integer", "long"):
        return st.one_of(st.integers(-5, 200), st.integers(-(2**63), 2**63))
    if kind == "boolean":
        return st.booleans()
    if kind in ("double", "float"):
        return st.floats(allow_nan=False, allow_infinity=False, width=32)
    if kind == "timestamp":
        return st.datetimes(
            min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
        )
    if kind == "blob":
        return st.binary(max_size=300)
    return st.none()


def _serialize(api: str, operation: OperationModel, params: dict[str, Any]) -> FuzzRequest | None:
    try:
        serialized = _SERIALIZERS[api].serialize_to_request(params, operation)
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError):
        return None
    headers = tuple((k, str(v).encode("utf-8")) for k, v in serialized["headers"].items())
    target = serialized["url_path"]
    query = serialized["query_string"]
    if query:
        encoded = (
            urlencode(query, doseq=True, quote_via=quote) if isinstance(query, dict) else query
        )
        target += "?" + encoded
    body = serialized["body"]
    if isinstance(body, dict):
        body = urlencode(body, quote_via=quote).encode("ascii")
    elif isinstance(body, str):
        body = body.encode("utf-8")
    return FuzzRequest(
        method=serialized["method"], target=target, headers=headers, body=body or b""
    )


@st.composite
def _model_request(draw: st.DrawFn) -> FuzzRequest:
    api = draw(st.sampled_from(["v1", "v2"]))
    name = draw(st.sampled_from(_OPERATIONS[api]))
    operation = _MODELS[api].operation_model(name)
    params = draw(_shape_strategy(operation.input_shape, 0)) if operation.input_shape else {}
    request = _serialize(api, operation, params)
    if request is None:
        # Values botocore itself refuses to serialize: send the bare operation instead.
        request = _bare(api, operation)
    return draw(_mutated(request))


def _bare(api: str, operation: OperationModel) -> FuzzRequest:
    if api == "v1":
        body = f"Action={operation.name}&Version=2010-12-01".encode()
        form = (("Content-Type", b"application/x-www-form-urlencoded; charset=utf-8"),)
        return FuzzRequest(method="POST", target="/", headers=form, body=body)
    uri = operation.http["requestUri"].split("?")[0]
    path = "/".join("x" if part.startswith("{") else part for part in uri.split("/"))
    return FuzzRequest(method=operation.http["method"], target=path)


@st.composite
def _mutated(draw: st.DrawFn, request: FuzzRequest) -> FuzzRequest:
    how = draw(
        st.sampled_from(
            [
                "none",
                "none",
                "truncate",
                "splice",
                "drop",
                "duplicate",
                "reindex",
                "retype",
                "chunked",
            ]
        )
    )
    body = request.body
    if how == "chunked":
        # The same body with Transfer-Encoding: chunked, in random-sized chunks.
        sizes = draw(st.lists(st.integers(1, 64), max_size=8))
        chunks, rest = [], body
        for size in sizes:
            if not rest:
                break
            chunks.append(rest[:size])
            rest = rest[size:]
        if rest:
            chunks.append(rest)
        encoded = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
        headers = (*_fix_length(request.headers), ("Transfer-Encoding", b"chunked"))
        return FuzzRequest(
            method=request.method, target=request.target, headers=headers, body=encoded
        )
    if how == "truncate" and body:
        body = body[: draw(st.integers(0, len(body)))]
    elif how == "splice":
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.binary(min_size=1, max_size=20)) + body[at:]
    elif how in ("drop", "duplicate", "reindex") and body and b"=" in body:
        pairs = body.split(b"&")
        i = draw(st.integers(0, len(pairs) - 1))
        if how == "drop":
            del pairs[i]
        elif how == "duplicate":
            pairs.insert(i, pairs[i])
        else:
            index = draw(st.sampled_from([b"0", b"-1", b"999999999999", b"1.5", b"x", b""]))
            pairs[i] = pairs[i].replace(b".member.1", b".member." + index, 1)
        body = b"&".join(pairs)
    elif how == "retype" and body.startswith(b"{"):
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        if isinstance(document, dict) and document:
            key = draw(st.sampled_from(sorted(document)))
            document[key] = draw(_json_value)
            body = json.dumps(document).encode()
    return FuzzRequest(
        method=request.method,
        target=request.target,
        headers=_fix_length(request.headers),
        body=body,
    )


def _fix_length(headers: tuple[tuple[str, bytes], ...]) -> tuple[tuple[str, bytes], ...]:
    return tuple((k, v) for k, v in headers if k.lower() != "content-length")


_json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    _text,
)
_json_value = st.recursive(
    _json_scalar,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(_text, children, max_size=4)
    ),
    max_leaves=12,
)


def _path_segment() -> st.SearchStrategy[str]:
    raw = st.one_of(st.sampled_from(_NASTY), st.text(max_size=20))
    escaped = raw.map(lambda s: quote(s, safe=""))
    broken = st.sampled_from(["%", "%zz", "%2F", "%00", "%FF%FE", "..", ".", "%2e%2e", "a;b", "~"])
    return st.one_of(escaped, broken)


@st.composite
def _v2_target(draw: st.DrawFn) -> tuple[str, str]:
    """(method, target): a real route with junk segments, or junk under /v2/email/."""
    if draw(st.booleans()):
        operation = _MODELS["v2"].operation_model(draw(st.sampled_from(_OPERATIONS["v2"])))
        uri = operation.http["requestUri"].split("?")[0]
        parts = []
        for part in uri.split("/"):
            parts.append(draw(_path_segment()) if part.startswith("{") else part)
        method = draw(st.sampled_from([operation.http["method"], "GET", "PUT", "DELETE", "PATCH"]))
        path = "/".join(parts)
    else:
        segments = draw(st.lists(_path_segment(), max_size=4))
        path = "/v2/email/" + "/".join(segments)
        method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]))
    query = draw(
        st.lists(st.tuples(_path_segment(), _path_segment()), max_size=3).map(
            lambda pairs: "&".join(f"{k}={v}" for k, v in pairs)
        )
    )
    return method, path + (f"?{query}" if query else "")


_CONTENT_TYPES = [
    b"application/json",
    b"application/x-amz-json-1.0",
    b"application/x-www-form-urlencoded",
    b"application/x-www-form-urlencoded; charset=latin-1",
    b"text/plain",
    b"multipart/form-data; boundary=x",
    b"",
    b"\xff\xfe",
]


@st.composite
def _headers(draw: st.DrawFn) -> tuple[tuple[str, bytes], ...]:
    headers: list[tuple[str, bytes]] = []
    if draw(st.booleans()):
        headers.append(("Content-Type", draw(st.sampled_from(_CONTENT_TYPES))))
    if draw(st.integers(0, 9)) == 0:
        headers.append(("Authorization", draw(st.sampled_from(_AUTHORIZATIONS))))
    if draw(st.integers(0, 9)) == 0:
        headers.append(("X-Amz-Date", draw(st.sampled_from([b"20261122T000000Z", b"garbage"]))))
    if draw(st.integers(0, 14)) == 0:
        name = draw(st.text(alphabet=string.ascii_letters + "-", min_size=1, max_size=20))
        # Any byte a header value may hold (RFC 9110 field-vchar, SP, HTAB and obs-text).
        value_bytes = st.sampled_from([9, *range(0x20, 0x7F), *range(0x80, 0x100)])
        value = bytes(draw(st.lists(value_bytes, max_size=40)))
        headers.append((name, value))
    return tuple(headers)


_AUTHORIZATIONS = [
    b"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/ses/aws4_request, "
    b"SignedHeaders=host;x-amz-date, Signature=" + b"0" * 64,
    b"AWS4-HMAC-SHA256 Credential=123456789012/20261122/eu-west-1/ses/aws4_request",
    b"AWS4-HMAC-SHA256 Credential=//////, SignedHeaders=, Signature=",
    b"AWS4-ECDSA-P256-SHA256 Credential=AKID/20261122/ses/aws4_request",
    b"Bearer token",
    b"\xff",
]


def _encode_text(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="surrogatepass" if encoding == "utf-8" else "replace")


@st.composite
def _form_garbage(draw: st.DrawFn) -> FuzzRequest:
    action = draw(st.one_of(st.sampled_from(_OPERATIONS["v1"]), _text))
    keys = st.one_of(
        st.sampled_from(
            [
                "Version",
                "Source",
                "Destination.ToAddresses.member.1",
                "Destination.ToAddresses.member.999999999",
                "Destination.ToAddresses.member.0",
                "Destination.CcAddresses",
                "Destinations.member.1.Destination.ToAddresses.member.1",
                "RawMessage.Data",
                "Message.Body.Text.Data",
                "Message.Subject.Data",
                "Tags.member.1.Name",
                "Tags.member.1.Value",
                "Identities.member.1",
                "Template.TemplateName",
                "MaxItems",
                "Enabled",
                "X.entry.1.key",
                "a..b",
                ".",
                "",
            ]
        ),
        _text,
    )
    fields = draw(st.lists(st.tuples(keys, _text), max_size=8))
    pairs = [("Action", action), *fields] if draw(st.integers(0, 7)) else fields
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "latin-1", "utf-16"]))
    body = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    if draw(st.booleans()):
        body = "&".join(f"{k}={v}" for k, v in pairs)  # unescaped, as a broken client would
    raw = _encode_text(body, encoding)
    method = draw(st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE"]))
    target = "/"
    if draw(st.integers(0, 4)) == 0:
        target = "/?" + quote(draw(_text), safe="=&")
    headers = draw(_headers())
    if not any(k == "Content-Type" for k, _ in headers):
        headers = (("Content-Type", b"application/x-www-form-urlencoded; charset=utf-8"), *headers)
    return FuzzRequest(method=method, target=target, headers=headers, body=raw)


@st.composite
def _json_garbage(draw: st.DrawFn) -> FuzzRequest:
    method, target = draw(_v2_target())
    shape = draw(st.sampled_from(["value", "value", "deep", "bytes", "empty", "compressed"]))
    headers = draw(_headers())
    if shape == "value":
        body = json.dumps(draw(_json_value), ensure_ascii=draw(st.booleans())).encode()
    elif shape == "deep":
        depth = draw(st.sampled_from([50, 1_000, 100_000]))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        body = (opener * depth + "1" + closer * depth).encode()
    elif shape == "bytes":
        body = draw(st.binary(max_size=200))
    elif shape == "compressed":
        # A body compressed as its Content-Encoding says, by another codec, or not at all;
        # whole, or cut short anywhere (the emulator must refuse an unfinished stream).
        payload = json.dumps(draw(_json_value)).encode()
        codec = draw(st.sampled_from([*_COMPRESSORS, "none"]))
        body = _COMPRESSORS[codec](payload) if codec in _COMPRESSORS else payload
        if draw(st.booleans()):
            body = body[: draw(st.integers(0, len(body)))]
        encoding = draw(st.sampled_from([*_COMPRESSORS, "x-gzip", "x"]))
        headers = (*headers, ("Content-Encoding", encoding.encode()))
    else:
        body = b""
    return FuzzRequest(method=method, target=target, headers=headers, body=body)


_CONTROL_PATHS = [
    "/_aws/ses",
    "/_emulator/messages",
    "/_emulator/messages/%s",
    "/_emulator/messages/%s/raw",
    "/_emulator/reset",
    "/_emulator/clock",
    "/_emulator/identities",
    "/_emulator/identities/%s",
    "/_emulator/health",
    "/_emulator/settings",
    "/_emulator/account",
    "/_emulator/%s",
]


@st.composite
def _control_probe(draw: st.DrawFn) -> FuzzRequest:
    template = draw(st.sampled_from(_CONTROL_PATHS))
    path = template.replace("%s", draw(_path_segment())) if "%s" in template else template
    if path.startswith("/_emulator/faults"):
        path = "/_emulator/health"
    method = draw(st.sampled_from(["GET", "GET", "POST", "DELETE", "PATCH", "PUT"]))
    query = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["limit", "offset", "since", "to", "account", "region", "x"]),
                st.one_of(st.sampled_from(["-1", "0", "99999999", "abc", "", "1e3"]), _text),
            ),
            max_size=3,
        )
    )
    target = path + ("?" + urlencode(query, quote_via=quote) if query else "")
    body = b""
    if method in ("POST", "PATCH", "PUT"):
        body = (
            json.dumps(draw(_json_value)).encode()
            if draw(st.booleans())
            else draw(st.binary(max_size=60))
        )
    return FuzzRequest(
        method=method, target=target, headers=(("Content-Type", b"application/json"),), body=body
    )


def requests() -> st.SearchStrategy[FuzzRequest]:
    """Any request from the four families (model requests weighted up: they reach handlers)."""
    return st.one_of(
        _model_request(), _model_request(), _form_garbage(), _json_garbage(), _control_probe()
    )
