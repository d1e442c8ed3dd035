"""`Sender`: send SES payloads over a boto3 client, one at a time or paced in bulk.

Build payloads with `seskit.v1` / `seskit.v2`, then::

    import boto3
    from seskit.sender import Sender

    sender = Sender(boto3.client("sesv2"))
    result = sender.send(payload)            # SendResult(message_id=..., request_id=...)
    summary = sender.send_many(payloads)     # paced, one ItemResult per message or bulk entry
    print(summary)                           # sent 500, rejected 0, unsent 0, throttled 0, ...

Every decision is made by the shared engine in `seskit.bulk`; this module only performs the
actions it asks for (call the client, sleep, report progress). `seskit.aio.AsyncSender` is
the same over aiobotocore.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, TypeVar

import boto3
from botocore.config import Config

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

__all__ = ["STANDARD_RETRIES", "Sender", "default_client"]

T = TypeVar("T")

#: The botocore retry configuration seskit uses for the clients it creates: "standard" mode
#: retries throttling (v1 ``Throttling``, v2 ``TooManyRequestsException`` and
#: ``LimitExceededException``) and 5xx with backoff, 3 attempts in total (ses-spec §5).
STANDARD_RETRIES: dict[str, Any] = {"mode": "standard", "total_max_attempts": 3}


def default_client(api: Literal["v1", "v2"] = "v2", **client_kwargs: Any) -> Any:
    """A boto3 ``sesv2`` (or ``ses``) client with botocore's standard retry mode.

    ``client_kwargs`` go to ``boto3.client`` (``region_name``, ``endpoint_url``…); a ``config``
    among them is merged over the standard retries.
    """
    config: Config = Config(retries=STANDARD_RETRIES)
    if "config" in client_kwargs:
        config = config.merge(client_kwargs.pop("config"))
    return boto3.client("ses" if api == "v1" else "sesv2", config=config, **client_kwargs)


class Sender(SenderBase):
    """Sends SES v1 or v2 payloads over a boto3 client; pacing and error handling built in.

    - ``client``: a boto3 ``ses`` or ``sesv2`` client (or a `seskit.testing.FakeClient`);
      None creates a ``sesv2`` client with standard retries (`default_client`).
    - ``options``: pacing and retry settings (`SendOptions`); by default the send rate is asked
      from SES once, before the first `send_many`.
    - ``on_progress``: called with a `~seskit.bulk.Progress` after every call of a run.
    - ``progress_bar``: draw a progress bar on stderr; None draws it when stderr is a terminal.
    - ``clock`` / ``sleep``: injectable for tests (monotonic seconds, blocking sleep).
    """

    def __init__(
        self,
        client: object | None = None,
        *,
        options: SendOptions | None = None,
        on_progress: ProgressCallback | None = None,
        progress_bar: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        super().__init__(
            default_client() if client is None else client,
            options=options,
            on_progress=on_progress,
            progress_bar=progress_bar,
            clock=clock,
        )
        self._sleep = sleep

    def send(self, payload: Sendable) -> SendResult:
        """Send one message (any single-send payload of the client's API).

        Raises the classified `~seskit.errors.SendError` (its ``__cause__`` is botocore's
        exception) when SES refuses it or the call fails after botocore's retries.
        """
        return self._drive(self._send_steps(payload))

    def send_many(self, payloads: Iterable[Sendable]) -> RunSummary:
        """Send many payloads paced below SES's rate; one result per message or bulk entry.

        Bulk payloads are split into calls of at most 50 entries. A rejected message does not
        stop the run; a daily quota or paused sending does (see `RunSummary.stopped_by`).
        """
        if self.options.concurrency == 1:
            return self._drive(self._run_steps(payloads))
        # boto3 clients are thread-safe; the threads only overlap the calls' round trips.
        with ThreadPoolExecutor(self.options.concurrency, thread_name_prefix="seskit") as pool:
            return self._drive(self._run_steps(payloads), pool)

    def _call(self, call: Call) -> object:
        try:
            return getattr(self.client, call.operation)(**call.params)
        except CLASSIFIABLE_ERRORS as err:
            return err

    def _drive(
        self, steps: Generator[Action, object, T], pool: ThreadPoolExecutor | None = None
    ) -> T:
        reply: object = None
        try:
            while True:
                action = steps.send(reply)
                reply = None
                if isinstance(action, Call):
                    reply = self._call(action)
                elif isinstance(action, Calls):
                    assert pool is not None  # only runs with concurrency > 1 yield Calls
                    reply = tuple(pool.map(self._call, action.calls))
                elif isinstance(action, Sleep):
                    self._sleep(action.seconds)
                elif self._report is not None:
                    self._report(action)
        except StopIteration as done:
            result: T = done.value
            return result
