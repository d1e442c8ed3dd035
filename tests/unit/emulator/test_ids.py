"""Random UUID text without uuid.UUID objects (emulator/ids.py)."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from emulator.ids import random_uuid, uuid4_text


@given(st.binary(min_size=16, max_size=16))
def test_uuid4_text_is_what_uuid_prints_for_the_same_bits(bits: bytes) -> None:
    assert uuid4_text(bits.hex()) == str(uuid.UUID(bytes=bits, version=4))


def test_random_uuids_are_distinct_version_4_uuids() -> None:
    made = [random_uuid() for _ in range(200)]
    assert len(set(made)) == len(made)
    for text in made:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text
