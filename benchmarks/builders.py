"""Builder cost: µs per build+validate, as ratios to a bare dict literal in the same run.

Cases: a typical v1 and v2 ``send_email`` (3 recipients, text + HTML, 2 tags) built three ways —
a hand-written dict literal (the baseline), seskit from plain strings (``Email(...)`` then the
builder: everything SES checks, checked), and botocore's ``ParamValidator`` on the same payload
(what boto3 does before every call). Then the builder alone on a prepared `Email`, the same
send to addresses never seen before (the address cache cannot help), the same with new tag
values as well (no cache helps), and (v1) the floor: what "strings in, payload out" costs with
one dict lookup per address and tag, a plain mutable value and no checks at all, which no
implementation of the same API goes below. Last, a raw send with a 1 MB attachment and a v2
bulk send of 50 entries.

Each figure is the median of several rounds of a timed loop (``timeit`` style). The "before"
column is not measured in this run: it is what this benchmark measured with the seskit of
commit 47a2d35, before the builders were made faster (`BEFORE`).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import botocore.session
from botocore.validate import ParamValidator

from seskit import Address, Attachment, BulkEntry, Email, Tag, v1, v2

__all__ = ["BEFORE", "Row", "measure", "run"]

Row = dict[str, Any]

SENDER = "Shop <shop@example.com>"
TO = ["ana@example.com", "bo@example.com", "cy@example.com"]
SUBJECT = "Your order has shipped"
TEXT = "Hello,\nyour order 1234 has shipped and arrives on Tuesday.\n"
HTML = "<p>Hello,</p><p>your order <b>1234</b> has shipped and arrives on Tuesday.</p>"
TAGS = {"campaign": "orders", "kind": "shipping"}


# This benchmark run against the seskit tree of commit 47a2d35 (before Email was built without
# object.__setattr__ per field, and the builders written out), 2026-12-04 on the 2-core
# machine of docs/performance.md: mean of two full runs, each alternated with a run of the
# new code. Ratios to the dict literal of the same run; µs for the rows without one.
BEFORE: dict[str, str] = {
    "v1 send_email: bare dict literal": "1.00×",
    "v1 send_email: Email(...) + builder": "9.06×",
    "v1 send_email: builder on a prepared Email": "2.75×",
    "v1 send_email: Email(...) + builder, new addresses": "19.05×",
    "v1 send_email: Email(...) + builder, new addresses and tags": "24.50×",
    "v1 send_email: botocore ParamValidator": "35.35×",
    "v2 send_email: bare dict literal": "1.00×",
    "v2 send_email: Email(...) + builder": "8.52×",
    "v2 send_email: builder on a prepared Email": "2.65×",
    "v2 send_email: Email(...) + builder, new addresses": "18.40×",
    "v2 send_email: Email(...) + builder, new addresses and tags": "23.41×",
    "v2 send_email: botocore ParamValidator": "34.40×",
    "v1 send_raw_email, 1 MB attachment": "5584 µs",
    "v2 send_bulk_email, 50 entries": "228 µs",
}


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


class _Plain:
    """An Email-shaped value that checks nothing: the floor of any `Email(...)` in CPython."""

    __slots__ = (
        "attachments",
        "bcc",
        "cc",
        "configuration_set",
        "headers",
        "html",
        "reply_to",
        "return_path",
        "sender",
        "subject",
        "tags",
        "text",
        "to",
    )

    def __init__(
        self,
        *,
        sender: Address,
        to: tuple[Address, ...] = (),
        cc: tuple[Address, ...] = (),
        bcc: tuple[Address, ...] = (),
        reply_to: tuple[Address, ...] = (),
        subject: str | None = None,
        text: str | None = None,
        html: str | None = None,
        headers: tuple[object, ...] = (),
        attachments: tuple[object, ...] = (),
        tags: tuple[Tag, ...] = (),
        configuration_set: str | None = None,
        return_path: Address | None = None,
    ) -> None:
        self.sender = sender
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.reply_to = reply_to
        self.subject = subject
        self.text = text
        self.html = html
        self.headers = headers
        self.attachments = attachments
        self.tags = tags
        self.configuration_set = configuration_set
        self.return_path = return_path


def _floor(addresses: dict[str, Address], tags: dict[str, dict[str, Tag]]) -> dict[str, Any]:
    """The least work "strings -> typed values -> v1 payload" takes with no check at all.

    One dict lookup per address and tag (as a warm cache would), a slotted value with Email's
    signature, and the payload built from it; plain loops throughout (the cheapest in 3.11).
    """
    to = []
    for text in TO:
        to.append(addresses[text])
    tag_values = []
    for name in TAGS:
        tag_values.append(tags[name][TAGS[name]])
    email = _Plain(
        sender=addresses[SENDER],
        to=tuple(to),
        subject=SUBJECT,
        text=TEXT,
        html=HTML,
        tags=tuple(tag_values),
    )
    wire = []
    for address in email.to:
        wire.append(address.formatted)
    payload: dict[str, Any] = {
        "Source": email.sender.formatted,
        "Destination": {"ToAddresses": wire},
        "Message": {
            "Subject": {"Data": email.subject},
            "Body": {"Text": {"Data": email.text}, "Html": {"Data": email.html}},
        },
    }
    payload["Tags"] = tag_list = []
    for tag in email.tags:
        tag_list.append({"Name": tag.name, "Value": tag.value})
    return payload


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

    def all_fresh(build: Callable[[Email], object]) -> object:
        n = next(fresh)
        return build(
            Email(
                sender=SENDER,
                to=[f"a{n}@example.com", f"b{n}@example.com", f"c{n}@example.com"],
                subject=SUBJECT,
                text=TEXT,
                html=HTML,
                tags={"campaign": f"orders{n}", "kind": f"shipping{n}"},
            )
        )

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
            "Email(...) + builder, new addresses and tags": (
                partial(all_fresh, build),
                "no cache helps: addresses and tags parsed and checked",
            ),
            "botocore ParamValidator": (partial(validate, payload), "boto3's own check"),
        }
        if api == "v1":
            known = {text: Address.parse(text) for text in (SENDER, *TO)}
            known_tags = {
                name: {value: Tag(name=name, value=value)} for name, value in TAGS.items()
            }
            assert _floor(known, known_tags) == literal() == build(prepared)
            cases["floor: Email-shaped, one lookup per value, no checks"] = (
                partial(_floor, known, known_tags),
                "the least this API costs: no checks, a mutable value",
            )
        results = measure(
            {name: function for name, (function, _) in cases.items()},
            rounds=rounds,
            min_time=min_time,
        )
        for name, (seconds, ratio) in results.items():
            case = f"{api} send_email: {name}"
            rows.append(
                {
                    "case": case,
                    "µs/op": f"{seconds * 1e6:.2f}",
                    "× dict literal": f"{ratio:.2f}",
                    "before": BEFORE.get(case, ""),
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
            {
                "case": name,
                "µs/op": f"{seconds * 1e6:.2f}",
                "× dict literal": "",
                "before": BEFORE.get(name, ""),
                "note": note,
            }
        )
    return rows
