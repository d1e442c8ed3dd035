"""What a protocol-free handler receives, and the handler type itself.

The protocol layer parses a request into ``(operation, params)`` using botocore's model
(member names as in the model; blobs as ``bytes``; timestamps as aware ``datetime``; lists and
maps as Python lists and dicts), finds the handler in `emulator.ses.v1_ops.HANDLERS` or
`emulator.ses.v2_ops.HANDLERS`, and calls it with a `RequestContext`. The handler returns the
output dict (model member names; ``datetime`` for timestamps, ``bytes`` for blobs, ``float``
for doubles) or raises `emulator.ses.errors.SesError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulator.ses.errors import Api
from emulator.ses.state import AccountState, Backend

__all__ = ["Handler", "Params", "RequestContext"]

Params = dict[str, Any]


@dataclass(slots=True, kw_only=True)
class RequestContext:
    api: Api
    operation: str
    account_id: str
    region: str
    request_id: str
    backend: Backend

    @property
    def state(self) -> AccountState:
        return self.backend.account(self.account_id, self.region)

    @property
    def now(self) -> float:
        return self.backend.clock.now()


Handler = Callable[[RequestContext, Params], Params]
