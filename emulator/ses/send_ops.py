"""Handlers for sending, account, quota, statistics and suppression-list operations.

Merged into `emulator.ses.v1_ops.HANDLERS` / `emulator.ses.v2_ops.HANDLERS`.
"""

from __future__ import annotations

from emulator.ses.context import Handler

__all__ = ["V1_HANDLERS", "V2_HANDLERS"]

V1_HANDLERS: dict[str, Handler] = {}
V2_HANDLERS: dict[str, Handler] = {}
