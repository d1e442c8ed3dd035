"""Random UUIDs as text, cheaply: request ids, MessageIds, bulk ids.

``str(uuid.uuid4())`` builds a `uuid.UUID` object (an int, validation, formatting) only to
print it; every request needs at least one id, so the emulator writes the text directly from
`os.urandom`, with the same 122 random bits and the same version and variant digits.
"""

from __future__ import annotations

import os
from typing import Final

__all__ = ["random_uuid", "uuid4_text"]

# A random UUID's version nibble is 4 and its variant bits 10 (RFC 4122 §4.4): the variant
# digit of 32 random hex digits, mapped onto 8, 9, a or b.
_VARIANT_DIGIT: Final = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}


def uuid4_text(h: str) -> str:
    """``str(uuid.UUID(hex=h, version=4))`` for 32 random hex digits, without the object."""
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT_DIGIT[h[16]]}{h[17:20]}-{h[20:]}"


def random_uuid() -> str:
    """``str(uuid.uuid4())``: 122 random bits from `os.urandom`, as `uuid.uuid4` takes them."""
    return uuid4_text(os.urandom(16).hex())
