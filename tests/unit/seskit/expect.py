"""``with invalid(TagError, "tags['a b']", "tag-charset"):`` checks error type, field and rule."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from seskit import ValidationError


@contextmanager
def invalid(error: type[ValidationError], field: str, rule: str) -> Iterator[None]:
    """Expect ``error`` (a ValueError) naming ``field`` and ``rule``, its text led by the field."""
    with pytest.raises(error) as caught:
        yield
    assert (caught.value.field, caught.value.rule) == (field, rule), caught.value
    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == f"{field}: {caught.value.message}"
