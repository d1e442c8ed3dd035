"""Builder cost: µs per build+validate, as ratios to a bare dict literal in the same run.

Cases: a typical v1 and v2 ``send_email`` (3 recipients, text + HTML, 2 tags) built three ways —
a hand-written dict literal (the baseline), seskit from plain strings (``Email(...)`` then the
builder: everything SES checks, checked), and botocore's ``ParamValidator`` on the same payload
(what boto3 does before every call). Then the builder alone on a prepared `Email`, the same
send to addresses never seen before (no warm caches), a raw send with a 1 MB attachment and a
v2 bulk send of 50 entries.

Each figure is the median of several rounds of a timed loop (``timeit`` style).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import botocore.session
from botocore.validate import ParamValidator

from seskit import Attachment, BulkEntry, Email, v1, v2

__all__ = ["Row", "measure", "run"]

Row = dict[str, Any]

SENDER = "Shop <shop@example.com>"
TO = ["ana@example.com", "bo@example.com", "cy@example.com"]
SUBJECT = "Your order has shipped"
TEXT = "Hello,\nyour order 1234 has shipped and arrives on Tuesday.\n"
HTML = "<p>Hello,</p><p>your order <b>1234</b> has shipped and arrives on Tuesday.</p>"
TAGS = {"campaign": "orders", "kind": "shipping"}


def _loops(function: Callable[[], object], min_time: float) -> int:
    loops = 1
    while True:  # calibrate like timeit: grow the loop until one round takes min_time
        start = time.process_time()
        for _ in range(loops):
            function()
        if time.process_time() - start >= min_time:
            return loops
        loops *= 2


def _once(function: Callable[[], object], loops: int) -> float:
    start = time.process_time()
    for _ in range(loops):
        function()
    return (time.process_time() - start) / loops


def measure(
    cases: dict[str, Callable[[], object]], *, rounds: int, min_time: float
) -> dict[str, tuple[float, float]]:
    """Per case: (median seconds per call, median ratio to the first case).

    Rounds interleave the cases, and time is this process's CPU time, so a busy machine slows
    every case of a round alike and the ratios stay comparable.
    """
    loops = {name: _loops(function, min_time) for name, function in cases.items()}
    samples: dict[str, list[float]] = {name: [] for name in cases}
    ratios: dict[str, list[float]] = {name: [] for name in cases}
    baseline = next(iter(cases))
    for _ in range(rounds):
        for name, function in cases.items():
            samples[name].append(_once(function, loops[name]))
        for name in cases:
            ratios[name].append(samples[name][-1] / samples[baseline][-1])
    return {
        name: (statistics.median(samples[name]), statistics.median(ratios[name])) for name in cases
    }


def _literal_v1() -> dict[str, Any]:
    return {
        "Source": SENDER,
        "Destination": {"ToAddresses": [TO[0], TO[1], TO[2]]},
        "Message": {
            "Subject": {"Data": SUBJECT},
            "Body": {"Text": {"Data": TEXT}, "Html": {"Data": HTML}},
        },
        "Tags": [{"Name": "campaign", "Value": "orders"}, {"Name": "kind", "Value": "shipping"}],
    }


def _literal_v2() -> dict[str, Any]:
    return {
        "FromEmailAddress": SENDER,
        "Destination": {"ToAddresses": [TO[0], TO[1], TO[2]]},
        "Content": {
            "Simple": {
                "Subject": {"Data": SUBJECT},
                "Body": {"Text": {"Data": TEXT}, "Html": {"Data": HTML}},
            }
        },
        "EmailTags": [
            {"Name": "campaign", "Value": "orders"},
            {"Name": "kind", "Value": "shipping"},
        ],
    }


def _email(to: list[str] = TO) -> Email:
    return Email(sender=SENDER, to=to, subject=SUBJECT, text=TEXT, html=HTML, tags=TAGS)


def _full(build: Callable[[Email], object]) -> object:
    return build(_email())


def _fresh(build: Callable[[Email], object], to: Callable[[], list[str]]) -> object:
    return build(_email(to()))


def _validator(service: str, operation: str) -> Callable[[object], None]:
    shape = botocore.session.get_session().get_service_model(service)
    input_shape = shape.operation_model(operation).input_shape
    validator = ParamValidator()

    def validate(payload: object) -> None:
        report = validator.validate(payload, input_shape)
        if report.has_errors():
            raise ValueError(report.generate_report())

    return validate


def run(quick: bool) -> list[Row]:
    """Rows of case, µs per call and ratio to the dict literal of the same API."""
    rounds, min_time = (5, 0.02) if quick else (11, 0.05)
    rows: list[Row] = []
    fresh = iter(range(10**9))

    def fresh_to() -> list[str]:
        n = next(fresh)
        return [f"a{n}@example.com", f"b{n}@example.com", f"c{n}@example.com"]

    for api, literal, build, validate in (
        ("v1", _literal_v1, v1.send_email, _validator("ses", "SendEmail")),
        ("v2", _literal_v2, v2.send_email, _validator("sesv2", "SendEmail")),
    ):
        prepared = _email()
        payload = build(prepared)
        validate(literal())
        validate(payload)
        cases: dict[str, tuple[Callable[[], object], str]] = {
            "bare dict literal": (literal, "baseline: checks nothing"),
            "Email(...) + builder": (partial(_full, build), "target ≤ 3×"),
            "builder on a prepared Email": (partial(build, prepared), ""),
            "Email(...) + builder, new addresses": (
                partial(_fresh, build, fresh_to),
                "every address parsed and checked",
            ),
            "botocore ParamValidator": (partial(validate, payload), "boto3's own check"),
        }
        results = measure(
            {name: function for name, (function, _) in cases.items()},
            rounds=rounds,
            min_time=min_time,
        )
        for name, (seconds, ratio) in results.items():
            rows.append(
                {
                    "case": f"{api} send_email: {name}",
                    "µs/op": f"{seconds * 1e6:.2f}",
                    "× dict literal": f"{ratio:.2f}",
                    "note": cases[name][1],
                }
            )

    megabyte = Attachment(filename="report.pdf", content=bytes(range(256)) * 4096)

    def raw() -> object:
        email = Email(sender=SENDER, to=TO, subject=SUBJECT, text=TEXT, attachments=[megabyte])
        return v1.send_raw_email(email)

    def bulk() -> object:
        entries = [
            BulkEntry(to=f"user{i}@example.com", replacement_data={"name": f"User {i}"})
            for i in range(50)
        ]
        return v2.send_bulk_email(sender=SENDER, template="welcome", entries=entries)

    for name, function, note in (
        ("v1 send_raw_email, 1 MB attachment", raw, "MIME written once, size by arithmetic"),
        ("v2 send_bulk_email, 50 entries", bulk, "50 BulkEntry values built and checked"),
    ):
        seconds, _ = measure({name: function}, rounds=rounds, min_time=min_time)[name]
        rows.append(
            {"case": name, "µs/op": f"{seconds * 1e6:.2f}", "× dict literal": "", "note": note}
        )
    return rows
