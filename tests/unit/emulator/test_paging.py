"""emulator.ses.paging: pages cover the whole list, foreign tokens are refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.ses import paging
from emulator.ses.errors import SesError


@given(items=st.lists(st.integers(), max_size=40), size=st.integers(min_value=1, max_value=12))
def test_pages_concatenate_to_the_whole_list(items: list[int], size: int) -> None:
    seen: list[int] = []
    token: str | None = None
    for _ in range(len(items) + 2):
        page, token = paging.paginate(items, token, size)
        assert len(page) <= size
        seen.extend(page)
        if token is None:
            break
    assert seen == items


def test_garbage_next_token_is_a_bad_request() -> None:
    with pytest.raises(SesError) as caught:
        paging.paginate([1, 2], "not-a-token", 1)
    assert caught.value.for_api("v1").code == "InvalidParameterValue"
    assert caught.value.message == "Invalid NextToken: not-a-token"


def test_page_response_has_next_token_only_before_the_last_page() -> None:
    assert paging.page_response("Identities", ["a"], "t") == {"Identities": ["a"], "NextToken": "t"}
    assert paging.page_response("Identities", ["a"], None) == {"Identities": ["a"]}
