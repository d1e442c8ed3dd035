"""JSON text from plain, acyclic documents, with CPython's C encoder built once.

`json.dumps` (and `json.JSONEncoder.encode`) builds a new C encoder on every call; for the
small documents a request writes, that costs more than the encoding itself. `compact_writer`
and `dumps_writer` build it once. ``markers=None`` skips only the circular-reference check:
callers pass documents they have just built or parsed, which cannot be circular. Elsewhere
than CPython (no C encoder) the stdlib encoder is used, with the same output.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json.encoder import (  # type: ignore[attr-defined]  # CPython's C accelerators
    c_encode_basestring,
    c_encode_basestring_ascii,
    c_make_encoder,
)
from typing import Any

__all__ = ["compact_writer", "dumps_writer"]

Writer = Callable[[Any], str]


def _writer(*, ensure_ascii: bool, separators: tuple[str, str]) -> Writer:
    encoder = json.JSONEncoder(ensure_ascii=ensure_ascii, separators=separators)
    escape = c_encode_basestring_ascii if ensure_ascii else c_encode_basestring
    if c_make_encoder is None or escape is None:
        return encoder.encode
    make = c_make_encoder(
        None,  # markers: no circular check
        encoder.default,
        escape,
        None,  # indent
        separators[1],  # key separator
        separators[0],  # item separator
        False,  # sort_keys
        False,  # skipkeys
        True,  # allow_nan
    )

    def write(document: Any) -> str:
        return "".join(make(document, 0))

    return write


compact_writer: Writer = _writer(ensure_ascii=False, separators=(",", ":"))
"""``json.dumps(doc, ensure_ascii=False, separators=(",", ":"))``: the v2 wire format."""

dumps_writer: Writer = _writer(ensure_ascii=True, separators=(", ", ": "))
"""``json.dumps(doc)`` with its default options."""
