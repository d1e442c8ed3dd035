"""Decoding a request body per its ``Content-Encoding``, with a cap on the decoded size.

The emulator serves its app with aiohttp's ``auto_decompress=False`` (`emulator.server`) and
decodes SES request bodies itself (`emulator.guards`), because aiohttp's own decoding can
neither be capped by the emulator nor report every broken stream to it: a ``deflate`` body
that ends early raised inside aiohttp's HTTP parser, where no middleware sees it, and a
truncated ``gzip``, ``br`` or ``zstd`` body reached the endpoint as its decoded prefix.

The codings are the ones aiohttp decoded — ``gzip``, ``deflate``, ``br`` and ``zstd``, one
token in any letter case — plus ``x-gzip``, which RFC 9110 section 8.4.1.3 says a recipient
SHOULD treat as ``gzip``. Any other value (``identity``, an unknown name, a list such as
``gzip, br``, or the header sent twice) is not a coding `coding_of` decodes: the body is
used as sent, as aiohttp did. As in aiohttp:

* ``deflate`` is a zlib stream (RFC 1950) or, when the first byte is not a zlib header,
  the raw deflate stream (RFC 1951) that some clients send instead;
* ``gzip``, ``deflate`` and ``zstd`` bodies may hold several streams one after another
  (gzip members, zstd frames), up to `MAX_STREAMS`; bytes after the last complete stream
  must themselves start a stream, so trailing garbage is an error;
* an empty body decodes to an empty body.

Unlike aiohttp, a body whose last stream stops before its end is an error (`UndecodableBody`),
for every coding. The decoded size is checked while decoding: past ``limit`` bytes decoding
stops (`DecodedTooLarge`), so a small "decompression bomb" never grows past about the limit.

>>> import gzip
>>> decode(gzip.compress(b"Action=ListIdentities"), "gzip", limit=100)
b'Action=ListIdentities'
>>> decode(gzip.compress(b"Action=ListIdentities")[:-4], "gzip", limit=100)
Traceback (most recent call last):
...
emulator._contentcoding.UndecodableBody: Content-Encoding gzip: the body ends before its \
compressed stream does
>>> decode(gzip.compress(bytes(1000)), "gzip", limit=100)
Traceback (most recent call last):
...
emulator._contentcoding.DecodedTooLarge: the decoded body is over the limit of 100 bytes

The module is private (a leading underscore): it is not part of the emulator's documented API.
"""

from __future__ import annotations

import sys
import zlib
from typing import Literal

from emulator.ses.errors import malformed_http_request, request_too_large

try:
    import brotli  # type: ignore[import-untyped]  # Brotli ships neither stubs nor py.typed
except ImportError:  # pragma: no cover - brotlicffi replaces Brotli off CPython (pyproject)
    import brotlicffi as brotli  # type: ignore[import-not-found]  # not installed on CPython

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

__all__ = [
    "MAX_STREAMS",
    "Coding",
    "DecodedTooLarge",
    "UndecodableBody",
    "coding_of",
    "decode",
    "decode_body",
]

Coding = Literal["gzip", "deflate", "br", "zstd"]

MAX_STREAMS = 1024
"""Most streams (gzip members, zstd frames) one body may concatenate: aiohttp's own cap."""

_CODINGS: dict[str, Coding] = {
    "gzip": "gzip",
    "x-gzip": "gzip",
    "deflate": "deflate",
    "br": "br",
    "zstd": "zstd",
}

# Input is fed in windows that start small and double up to this, as aiohttp does: at the end
# of each stream a decoder copies the rest of its input into unused_data, so handing it the
# whole remaining body at every boundary would be quadratic over many small streams.
_FIRST_WINDOW = 64
_MAX_WINDOW = 64 * 1024

# RFC 9659 section 3: for the "zstd" content coding, "Encoders MUST NOT generate frames
# requiring a Window_Size larger than 8 MB" — so a decoder never needs more than 2**23 bytes
# of window, and a frame that asks for more is refused instead of allocated.
_ZSTD_WINDOW_LOG_MAX = 23


class UndecodableBody(ValueError):
    """A body that is not a complete stream of its ``Content-Encoding`` (``coding``)."""

    def __init__(self, coding: Coding, reason: str) -> None:
        super().__init__(f"Content-Encoding {coding}: {reason}")
        self.coding = coding
        self.reason = reason


class DecodedTooLarge(ValueError):
    """A body that decodes to more than ``limit`` bytes (decoding stopped there)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the decoded body is over the limit of {limit} bytes")
        self.limit = limit


def coding_of(values: list[str]) -> Coding | None:
    """The coding to decode for a request's ``Content-Encoding`` header lines, or None.

    ``values`` are the header's values in order (`multidict.CIMultiDictProxy.getall`). None
    means "use the body as sent": no header, or one the emulator (like aiohttp) does not
    decode. Two header lines are a list of codings (RFC 9110 section 5.3), so None too.

    >>> coding_of(["GZip"]), coding_of(["x-gzip"]), coding_of(["gzip, br"]), coding_of([])
    ('gzip', 'gzip', None, None)
    """
    if len(values) != 1:
        return None
    value = values[0].strip(" \t")
    if not value.isascii():  # aiohttp's check: str.lower() would map some non-ASCII to ASCII
        return None
    return _CODINGS.get(value.lower())


def decode(body: bytes, coding: Coding, *, limit: int) -> bytes:
    """``body`` decoded per ``coding``; at most ``limit`` bytes.

    Raises `UndecodableBody` for data that is not ``coding``, a stream cut short or more than
    `MAX_STREAMS` streams, and `DecodedTooLarge` as soon as the output passes ``limit``.
    """
    if not body:
        return body
    if coding == "br":
        return _unbrotli(body, limit)
    if coding == "zstd":
        return _unzstd(memoryview(body), limit)
    if coding == "gzip":
        wbits = 16 + zlib.MAX_WBITS  # a gzip header and trailer (RFC 1952)
    elif body[0] & 0x0F == 8:  # RFC 1950: CM = 8 ("deflate") in the first byte's low bits
        wbits = zlib.MAX_WBITS
    else:
        wbits = -zlib.MAX_WBITS  # no zlib header: a raw deflate stream, as aiohttp accepts
    return _inflate(memoryview(body), coding, wbits, limit)


def _inflate(data: memoryview, coding: Coding, wbits: int, limit: int) -> bytes:
    parts: list[bytes] = []
    produced = 0
    pos = 0
    for _ in range(MAX_STREAMS):
        decoder = zlib.decompressobj(wbits)
        window = _FIRST_WINDOW
        while not decoder.eof:
            if pos == len(data):
                raise UndecodableBody(coding, "the body ends before its compressed stream does")
            end = min(pos + window, len(data))
            try:
                # One byte over the limit: reaching it proves the body is too large.
                chunk = decoder.decompress(data[pos:end], limit - produced + 1)
            except zlib.error as exc:
                raise UndecodableBody(coding, f"not {coding} data ({exc})") from exc
            produced += len(chunk)
            if produced > limit:
                raise DecodedTooLarge(limit)
            parts.append(chunk)
            # Input past the stream's end (unused_data) or not consumed yet (unconsumed_tail).
            pos = end - len(decoder.unused_data) - len(decoder.unconsumed_tail)
            window = min(window * 2, _MAX_WINDOW)
        if pos == len(data):
            return b"".join(parts)
    raise UndecodableBody(coding, f"more than {MAX_STREAMS} concatenated streams")


def _unzstd(data: memoryview, limit: int) -> bytes:
    parts: list[bytes] = []
    produced = 0
    pos = 0
    options: dict[int, int] = {zstd.DecompressionParameter.window_log_max: _ZSTD_WINDOW_LOG_MAX}
    for _ in range(MAX_STREAMS):
        decoder = zstd.ZstdDecompressor(options=options)
        window = _FIRST_WINDOW
        end = pos
        while not decoder.eof:
            if decoder.needs_input:
                if pos == len(data):
                    raise UndecodableBody("zstd", "the body ends before its compressed frame does")
                end = min(pos + window, len(data))
                chunk_in = data[pos:end]
                pos = end
                window = min(window * 2, _MAX_WINDOW)
            else:
                chunk_in = memoryview(b"")
            try:
                chunk = decoder.decompress(chunk_in, limit - produced + 1)
            except zstd.ZstdError as exc:
                raise UndecodableBody("zstd", f"not zstd data ({exc})") from exc
            produced += len(chunk)
            if produced > limit:
                raise DecodedTooLarge(limit)
            parts.append(chunk)
        pos = end - len(decoder.unused_data)
        if pos == len(data):
            return b"".join(parts)
    raise UndecodableBody("zstd", f"more than {MAX_STREAMS} concatenated frames")


def _unbrotli(data: bytes, limit: int) -> bytes:
    # A Brotli stream (RFC 7932) is one stream: bytes after its end are an error, as in aiohttp.
    decoder = brotli.Decompressor()
    process = getattr(decoder, "process", None) or decoder.decompress  # Brotli / brotlicffi
    parts: list[bytes] = []
    produced = 0
    pos = 0
    window = _FIRST_WINDOW
    while not decoder.is_finished():
        # can_accept_more_data() says the decoder has taken in all it was given, not that it
        # has handed out all its output: only an empty answer to no input means "starved".
        if pos < len(data) and decoder.can_accept_more_data():
            chunk_in = data[pos : pos + window]
            pos += len(chunk_in)
            window = min(window * 2, _MAX_WINDOW)
        else:
            chunk_in = b""
        try:
            # The limit caps how far the output buffer grows, so the overshoot stays small.
            chunk: bytes = process(chunk_in, min(limit - produced + 1, _MAX_WINDOW))
        except brotli.error as exc:
            raise UndecodableBody("br", f"not br data ({exc})") from exc
        produced += len(chunk)
        if produced > limit:
            raise DecodedTooLarge(limit)
        parts.append(chunk)
        if not chunk_in and not chunk and not decoder.is_finished():
            raise UndecodableBody("br", "the body ends before its compressed stream does")
    if pos < len(data):
        raise UndecodableBody("br", "bytes follow the end of the compressed stream")
    return b"".join(parts)


def decode_body(body: bytes, content_encodings: list[str], *, limit: int) -> bytes:
    """An SES request's body decoded per its ``Content-Encoding`` header values.

    Raises `SesError`: ``RequestEntityTooLarge`` 413 when it decodes to more than ``limit``
    bytes, ``MalformedHttpRequestException`` 400 when it does not decode. A body without a
    coding the emulator decodes is returned as it is.
    """
    coding = coding_of(content_encodings)
    if coding is None:
        return body
    try:
        return decode(body, coding, limit=limit)
    except DecodedTooLarge as exc:
        raise request_too_large(limit) from exc
    except UndecodableBody as exc:
        raise malformed_http_request(exc) from exc
