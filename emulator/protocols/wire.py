"""What a protocol module hands back to the HTTP layer: status, headers and body bytes.

Keeping aiohttp out of the protocol modules makes them pure functions a unit test can call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["REQUEST_ID_HEADER", "WireResponse"]

# botocore reads the request id of both protocols from this header (ses-spec §1.3, §1.5).
REQUEST_ID_HEADER = "x-amzn-RequestId"


@dataclass(frozen=True, slots=True, kw_only=True)
class WireResponse:
    """An HTTP response, protocol-encoded and ready to send."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
