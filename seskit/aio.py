"""`AsyncSender`: the `seskit.sender.Sender` API for asyncio, over an aiobotocore client.

It drives the same engine (`seskit.bulk`) as `Sender`, so a run makes the same calls in the
same order and returns the same results; only the waiting is ``await``-ed::

    from aiobotocore.session import get_session
    from seskit.aio import AsyncSender

    async with get_session().create_client("sesv2") as client:
        sender = AsyncSender(client)
        summary = await sender.send_many(payloads)

Or let seskit create the client (with botocore's standard retries)::

    async with AsyncSender.open("v2", region_name="eu-west-1") as sender:
        await sender.send(payload)

Needs the ``async`` extra (``pip install 'seskit[async]'``) for aiobotocore.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable
from typing import Any, Literal, TypeVar

from seskit.bulk import (
    Action,
    Call,
    Calls,
    ProgressCallback,
    RunSummary,
    Sendable,
    SenderBase,
    SendOptions,
    SendResult,
    Sleep,
)
from seskit.classify import CLASSIFIABLE_ERRORS
from seskit.sender import STANDARD_RETRIES

__all__ = ["AsyncSender"]

T = TypeVar("T")


class AsyncSender(SenderBase):
    """Sends SES v1 or v2 payloads over an aiobotocore client; the async twin of `Sender`.

    Arguments are `Sender`'s, except that ``client`` is required (aiobotocore clients live in
    an ``async with``; see `open`) and ``sleep`` is a coroutine function.
    """

    def __init__(
        self,
        client: object,
        *,
        options: SendOptions | None = None,
        on_progress: ProgressCallback | None = None,
        progress_bar: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        super().__init__(
            client,
            options=options,
            on_progress=on_progress,
            progress_bar=progress_bar,
            clock=clock,
        )
        self._sleep = sleep

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls,
        api: Literal["v1", "v2"] = "v2",
        *,
        options: SendOptions | None = None,
        on_progress: ProgressCallback | None = None,
        progress_bar: bool | None = None,
        **client_kwargs: Any,
    ) -> AsyncIterator[AsyncSender]:
        """An `AsyncSender` over a new aiobotocore client with standard retries, closed on exit.

        ``client_kwargs`` go to ``create_client`` (``region_name``, ``endpoint_url``…); a
        ``config`` among them is merged over the standard retries.
        """
        # aiobotocore is the optional "async" extra; only this constructor needs it, so a
        # user passing their own client (or importing seskit.aio) does not.
        from aiobotocore.config import AioConfig  # noqa: PLC0415
        from aiobotocore.session import get_session  # noqa: PLC0415

        config = AioConfig(retries=STANDARD_RETRIES)
        if "config" in client_kwargs:
            config = config.merge(client_kwargs.pop("config"))
        service = "ses" if api == "v1" else "sesv2"
        async with get_session().create_client(service, config=config, **client_kwargs) as client:
            yield cls(client, options=options, on_progress=on_progress, progress_bar=progress_bar)

    async def send(self, payload: Sendable) -> SendResult:
        """Send one message; raises the classified `~seskit.errors.SendError` on failure."""
        return await self._drive(self._send_steps(payload))

    async def send_many(self, payloads: Iterable[Sendable]) -> RunSummary:
        """Send many payloads paced below SES's rate; see `Sender.send_many`."""
        return await self._drive(self._run_steps(payloads))

    async def _call(self, call: Call) -> object:
        try:
            return await getattr(self.client, call.operation)(**call.params)
        except CLASSIFIABLE_ERRORS as err:
            return err

    async def _drive(self, steps: Generator[Action, object, T]) -> T:
        reply: object = None
        try:
            while True:
                action = steps.send(reply)
                reply = None
                if isinstance(action, Call):
                    reply = await self._call(action)
                elif isinstance(action, Calls):
                    reply = tuple(await asyncio.gather(*map(self._call, action.calls)))
                elif isinstance(action, Sleep):
                    await self._sleep(action.seconds)
                elif self._report is not None:
                    self._report(action)
        except StopIteration as done:
            result: T = done.value
            return result
