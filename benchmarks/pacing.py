"""Pacing benchmark: how close the bulk sender gets to the configured rate, and how often SES
(the emulator, in-process on loopback) throttles it.

For each scenario the emulator's account gets a maximum send rate, a fresh sender reads it
with GetSendQuota/GetAccount and sends; the rows report

- ``achieved/configured``: recipients sent per second of the run over the account's rate
  (the opening burst included, as SES allows it);
- ``sustained/configured``: the pace over the second half of the run, after the opening
  burst (the sender aims at 0.95 of the rate, its default safety factor);
- ``throttles``: throttling errors the run met (the clients have botocore retries off, so
  every throttle the emulator answered is counted).

A last row sends the first scenario's load without pacing, retrying each throttled call at
once (what a hand-rolled loop does), to show what the bucket saves.

Run it with ``python -m benchmarks.pacing [--quick]``; the benchmarks runner calls `run`.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from typing import Any

import boto3
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator.server import EmulatorServer
from emulator.ses.account import apply_settings
from seskit.aio import AsyncSender
from seskit.bulk import Progress, RunSummary
from seskit.sender import Sender

__all__ = ["main", "run"]

SENDER = "bench@example.com"
Row = dict[str, Any]
_NO_RETRIES = {"total_max_attempts": 1}


def _client(server: EmulatorServer, service: str) -> Any:
    return boto3.session.Session().client(
        service,
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries=_NO_RETRIES),
    )


def _prepare(server: EmulatorServer, rate: float) -> None:
    server.backend.reset()
    apply_settings(
        server.backend.account(),
        {"max_send_rate": rate, "max_24h_send": -1},
        now=server.backend.clock.now(),
    )
    ses = _client(server, "sesv2")
    ses.create_email_identity(EmailIdentity=SENDER)
    ses.create_email_template(
        TemplateName="Bench", TemplateContent={"Subject": "Hi {{n}}", "Text": "Hello {{n}}"}
    )


def _v2_bulk(recipients: int) -> dict[str, Any]:
    return {
        "FromEmailAddress": SENDER,
        "DefaultContent": {"Template": {"TemplateName": "Bench", "TemplateData": '{"n":"x"}'}},
        "BulkEmailEntries": [
            {"Destination": {"ToAddresses": [f"r{i}@example.net"]}} for i in range(recipients)
        ],
    }


def _v2_group(i: int, size: int) -> dict[str, Any]:
    return {
        "FromEmailAddress": SENDER,
        "Destination": {"ToAddresses": [f"g{i}-{j}@example.net" for j in range(size)]},
        "Content": {"Simple": {"Subject": {"Data": "Hi"}, "Body": {"Text": {"Data": "Hello"}}}},
    }


def _v1_single(i: int) -> dict[str, Any]:
    return {
        "Source": SENDER,
        "Destination": {"ToAddresses": [f"s{i}@example.net"]},
        "Message": {"Subject": {"Data": "Hi"}, "Body": {"Text": {"Data": "Hello"}}},
    }


class _Trace:
    """Progress events of a run: (elapsed, recipients sent) after every call."""

    def __init__(self) -> None:
        self.points: list[tuple[float, int]] = []

    def __call__(self, progress: Progress) -> None:
        self.points.append((progress.elapsed, progress.recipients))

    def sustained_rate(self) -> float | None:
        """Recipients per second over the second half of the run.

        Every point is taken when a call returns, so one call's round trip is in each and
        cancels out; the opening burst falls in the first half when the run lasts a few
        seconds.
        """
        if not self.points:
            return None
        half = self.points[-1][0] / 2
        late = [(t, n) for t, n in self.points if t >= half]
        if len(late) < 2 or late[-1][0] <= late[0][0]:
            return None
        (t0, n0), (t1, n1) = late[0], late[-1]
        return (n1 - n0) / (t1 - t0)


def _row(scenario: str, rate: float, summary: RunSummary, trace: _Trace) -> Row:
    sustained = trace.sustained_rate()
    return {
        "scenario": scenario,
        "configured_rate": rate,
        "recipients": summary.recipients_sent,
        "elapsed_s": round(summary.elapsed, 3),
        "achieved/configured": round(summary.achieved_rate / rate, 3),
        "sustained/configured": None if sustained is None else round(sustained / rate, 3),
        "throttles": summary.throttled,
        "complete": summary.complete,
    }


def _sync_scenario(
    server: EmulatorServer, name: str, service: str, rate: float, payloads: list[dict[str, Any]]
) -> Row:
    _prepare(server, rate)
    client = _client(server, service)
    trace = _Trace()
    sender = Sender(client, on_progress=trace, progress_bar=False)
    return _row(name, rate, sender.send_many(payloads), trace)


def _async_scenario(server: EmulatorServer, rate: float, payloads: list[dict[str, Any]]) -> Row:
    _prepare(server, rate)
    trace = _Trace()

    async def go() -> RunSummary:
        async with get_session().create_client(
            "sesv2",
            endpoint_url=server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret",
            config=AioConfig(retries=_NO_RETRIES),
        ) as client:
            sender = AsyncSender(client, on_progress=trace, progress_bar=False)
            return await sender.send_many(payloads)

    return _row("v2 bulk, AsyncSender", rate, asyncio.run(go()), trace)


def _unpaced(server: EmulatorServer, rate: float, payloads: list[dict[str, Any]]) -> Row:
    """The hand-rolled loop: send back to back, retry a throttled call at once."""
    _prepare(server, rate)
    client = _client(server, "sesv2")
    throttles = 0
    recipients = 0
    started = time.monotonic()
    for payload in payloads:
        for _ in range(1_000_000):  # bounded: a throttle clears within a second at these rates
            try:
                client.send_email(**payload)
                break
            except ClientError as err:
                if err.response["Error"]["Code"] != "TooManyRequestsException":
                    raise
                throttles += 1
        recipients += len(payload["Destination"]["ToAddresses"])
    elapsed = time.monotonic() - started
    return {
        "scenario": "v2 10-recipient messages, unpaced loop",
        "configured_rate": rate,
        "recipients": recipients,
        "elapsed_s": round(elapsed, 3),
        "achieved/configured": round(recipients / elapsed / rate, 3),
        "sustained/configured": None,
        "throttles": throttles,
        "complete": True,
    }


def run(quick: bool) -> list[Row]:
    """Measure every scenario once (a few seconds each); ``quick`` runs a third as long.

    Each rate is set well below what one sequential client can reach for that kind of call
    against the emulator, so the pacing, not the round trip, limits the run.
    """
    scale = 1 if quick else 3
    groups = [_v2_group(i, 10) for i in range(60 * scale)]
    scenarios: list[Callable[[EmulatorServer], Row]] = [
        lambda s: _sync_scenario(s, "v2 10-recipient messages", "sesv2", 200, groups),
        lambda s: _sync_scenario(s, "v2 bulk (50/call)", "sesv2", 100, [_v2_bulk(400 * scale)]),
        lambda s: _sync_scenario(
            s, "v1 1-recipient messages", "ses", 40, [_v1_single(i) for i in range(120 * scale)]
        ),
        lambda s: _async_scenario(s, 100, [_v2_bulk(400 * scale)]),
        lambda s: _unpaced(s, 200, groups),
    ]
    with EmulatorServer() as server:
        return [scenario(server) for scenario in scenarios]


def main() -> None:
    """Print the rows as a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer recipients per scenario")
    rows = run(quick=parser.parse_args().quick)
    headers = list(rows[0])
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in rows:
        print("| " + " | ".join("—" if row[h] is None else str(row[h]) for h in headers) + " |")


if __name__ == "__main__":
    main()
