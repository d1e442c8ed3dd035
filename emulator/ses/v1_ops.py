"""SES v1 operation handlers: params dict (model member names) → core call → output dict.

Thin by design: each handler translates v1 names and shapes to the protocol-free core in
`emulator/ses/` and back. The v1 and v2 handlers of one action call one core function.
"""

from __future__ import annotations

from emulator.ses import send_ops
from emulator.ses.context import Handler

__all__ = ["HANDLERS"]

HANDLERS: dict[str, Handler] = {}
HANDLERS.update(send_ops.V1_HANDLERS)
