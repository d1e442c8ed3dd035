"""Decoding request bodies per Content-Encoding: whole streams only, never past the limit."""

from __future__ import annotations

import gzip
import sys
import zlib
from collections.abc import Callable

import brotli  # type: ignore[import-untyped]  # Brotli ships neither stubs nor py.typed
import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator._contentcoding import (
    MAX_STREAMS,
    Coding,
    DecodedTooLarge,
    UndecodableBody,
    coding_of,
    decode,
)

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


# (coding, encoder): the zlib-wrapped and the raw form both travel as "deflate".
ENCODERS: list[tuple[Coding, Callable[[bytes], bytes]]] = [
    ("gzip", gzip.compress),
    ("deflate", zlib.compress),
    ("deflate", _raw_deflate),
    ("br", brotli.compress),
    ("zstd", zstd.compress),
]
IDS = ["gzip", "zlib-deflate", "raw-deflate", "br", "zstd"]


@pytest.mark.parametrize(
    ("values", "coding"),
    [
        (["gzip"], "gzip"),
        (["GZip"], "gzip"),
        ([" x-gzip\t"], "gzip"),
        (["deflate"], "deflate"),
        (["BR"], "br"),
        (["zstd"], "zstd"),
        ([], None),
        (["identity"], None),
        (["compress"], None),
        (["gzip, br"], None),
        (["gzip", "br"], None),
        (["gzip", "gzip"], None),
        (["gzİp"], None),  # non-ASCII: not lower-cased into a coding name
    ],
)
def test_coding_of_names_only_single_known_codings(
    values: list[str], coding: Coding | None
) -> None:
    assert coding_of(values) == coding


@pytest.mark.parametrize(("coding", "encode"), ENCODERS, ids=IDS)
@given(data=st.binary(max_size=3000))
def test_a_whole_stream_decodes_to_what_was_encoded(
    coding: Coding, encode: Callable[[bytes], bytes], data: bytes
) -> None:
    assert decode(encode(data), coding, limit=len(data)) == data


@pytest.mark.parametrize(("coding", "encode"), ENCODERS, ids=IDS)
@given(data=st.binary(max_size=3000), cut=st.integers(min_value=1))
def test_a_stream_cut_short_anywhere_is_undecodable(
    coding: Coding, encode: Callable[[bytes], bytes], data: bytes, cut: int
) -> None:
    encoded = encode(data)
    keep = cut % len(encoded)  # 0 .. len-1 bytes: always short of the whole stream
    if keep == 0:
        assert decode(b"", coding, limit=10) == b""  # an empty body is an empty body
        return
    with pytest.raises(UndecodableBody) as caught:
        decode(encoded[:keep], coding, limit=len(data))
    assert caught.value.coding == coding


@pytest.mark.parametrize(("coding", "encode"), ENCODERS, ids=IDS)
def test_decoding_stops_one_byte_past_the_limit(
    coding: Coding, encode: Callable[[bytes], bytes]
) -> None:
    bomb = encode(bytes(10_000_000))  # a few kB that decode to 10 MB
    assert len(bomb) < 20_000
    with pytest.raises(DecodedTooLarge) as caught:
        decode(bomb, coding, limit=1000)
    assert caught.value.limit == 1000
    assert str(caught.value) == "the decoded body is over the limit of 1000 bytes"
    assert decode(encode(bytes(1000)), coding, limit=1000) == bytes(1000)


@pytest.mark.parametrize(
    ("coding", "encode"),
    [("gzip", gzip.compress), ("deflate", zlib.compress), ("zstd", zstd.compress)],
    ids=["gzip", "deflate", "zstd"],
)
def test_concatenated_streams_decode_in_order_up_to_the_cap(
    coding: Coding, encode: Callable[[bytes], bytes]
) -> None:
    assert decode(encode(b"Action=") + encode(b"ListIdentities"), coding, limit=100) == (
        b"Action=ListIdentities"
    )
    assert decode(encode(b"x") * MAX_STREAMS, coding, limit=MAX_STREAMS) == b"x" * MAX_STREAMS
    with pytest.raises(UndecodableBody, match="more than 1024 concatenated"):
        decode(encode(b"x") * (MAX_STREAMS + 1), coding, limit=10 * MAX_STREAMS)


@pytest.mark.parametrize(("coding", "encode"), ENCODERS, ids=IDS)
def test_garbage_after_a_whole_stream_is_undecodable(
    coding: Coding, encode: Callable[[bytes], bytes]
) -> None:
    with pytest.raises(UndecodableBody, match=f"^Content-Encoding {coding}: not {coding} data"):
        decode(encode(b"Action=ListIdentities") + b"garbage!", coding, limit=100)


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
def test_data_of_another_kind_is_undecodable(coding: Coding) -> None:
    with pytest.raises(UndecodableBody) as caught:
        decode(b"this is not compressed", coding, limit=100)
    assert str(caught.value).startswith(f"Content-Encoding {coding}: not {coding} data (")
    assert isinstance(caught.value, ValueError)
    assert caught.value.__cause__ is not None


def test_a_zstd_frame_needing_more_than_an_8_mb_window_is_refused() -> None:
    # RFC 9659: the zstd content coding never needs a window over 8 MB, so none is allocated.
    options: dict[int, int] = {zstd.CompressionParameter.window_log: 24}
    compressor = zstd.ZstdCompressor(options=options)
    frame = compressor.compress(b"x" * 100) + compressor.flush()  # no size: window stays 16 MB
    with pytest.raises(UndecodableBody, match="too much memory"):
        decode(frame, "zstd", limit=1000)
