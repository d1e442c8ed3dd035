"""JSON text with the C encoder built once (emulator/jsontext.py) writes what json.dumps does."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from emulator.jsontext import compact_writer, dumps_writer

_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(_VALUES)
def test_compact_writer_is_json_dumps_compact_unicode(value: object) -> None:
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert compact_writer(value) == expected


@given(_VALUES)
def test_dumps_writer_is_json_dumps_with_defaults(value: object) -> None:
    assert dumps_writer(value) == json.dumps(value)


def test_non_ascii_is_kept_by_the_compact_writer_and_escaped_by_the_default_one() -> None:
    assert compact_writer({"a": "é"}) == '{"a":"é"}'
    assert dumps_writer({"a": "é"}) == '{"a": "\\u00e9"}'
