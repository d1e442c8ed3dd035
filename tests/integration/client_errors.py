"""What a botocore `ClientError` says, as one comparable tuple for exact assertions."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

__all__ = ["error_of"]


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    """The error's code, HTTP status and message: ``assert error_of(caught) == (...)``."""
    response: Any = caught.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )
