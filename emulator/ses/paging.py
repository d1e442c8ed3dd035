"""Offset pages with opaque ``NextToken`` values, for every list operation of both APIs.

ListIdentities, ListTemplates, ListConfigurationSets and their v2 twins answer one page and a
``NextToken`` while more remain [D]. Tokens are opaque to clients; here they encode the offset
of the next page, so a token this emulator did not issue is refused as a bad request.
(ListSuppressedDestinations has its own tokens and error, in `emulator.ses.suppression`.)
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any, TypeVar

from emulator.ses import errors
from emulator.ses.context import Params
from emulator.ses.errors import SesError

__all__ = ["page_response", "paginate"]

T = TypeVar("T")


def paginate(items: Sequence[T], next_token: str | None, size: int) -> tuple[list[T], str | None]:
    """One page of ``items`` and the token for the next page (None on the last page).

    >>> page, token = paginate([1, 2, 3], None, 2)
    >>> page, paginate([1, 2, 3], token, 2)
    ([1, 2], ([3], None))
    """
    start = 0
    if next_token:
        start = _decode_token(next_token)
    end = start + max(size, 1)
    page = list(items[start:end])
    token = _encode_token(end) if end < len(items) else None
    return page, token


def page_response(key: str, items: list[Any], token: str | None) -> Params:
    """A list operation's output: ``items`` under ``key``, and ``NextToken`` unless last page."""
    out: Params = {key: items}
    if token is not None:
        out["NextToken"] = token
    return out


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode("ascii")


def _decode_token(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii")
        prefix, _, number = text.partition(":")
        if prefix != "offset" or not number.isdigit():
            raise ValueError(token)
        return int(number)
    except (ValueError, UnicodeError) as exc:
        raise _invalid_token(token) from exc


def _invalid_token(token: str) -> SesError:
    return errors.bad_request(f"Invalid NextToken: {token}")
