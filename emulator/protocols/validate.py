"""Server-side validation of parsed parameters against the model's constraints.

botocore checks only required members and ``min`` lengths, and the JavaScript SDK v3 checks
nothing (ses-spec §1.6, §6 item 13), so max lengths, patterns, enums, list sizes and numeric
ranges reach the server, which must reject them. Real SES answers in Coral's wording:

    1 validation error detected: Value 'x' at 'emailTags.1.member.name' failed to satisfy
    constraint: Member must have length less than or equal to 256

`find_violations` walks the *value* (never the botocore model) with the compiled `Shape`
tree; `violation_error` turns the findings into the `SesError` each API reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from emulator.protocols.models import Shape
from emulator.ses.errors import Api, SesError, Wire

__all__ = ["Violation", "coral_message", "find_violations", "format_path", "violation_error"]

Segment = str | int  # a member name, or a 1-based list position

# Coral masks the values of shapes marked sensitive in its messages.
_REDACTED = "*** Sensitive Data Redacted ***"


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken constraint: where (member names and 1-based list positions), what, and why."""

    path: tuple[Segment, ...]
    value: Any
    constraint: str  # "Member must ..."
    missing: bool = False  # a required member is absent


def find_violations(shape: Shape, value: Any) -> list[Violation]:
    """Every constraint ``value`` (parsed params of an operation's input) breaks, in model order."""
    found: list[Violation] = []
    _walk(shape, value, (), found)
    return found


def _walk(shape: Shape, value: Any, path: tuple[Segment, ...], out: list[Violation]) -> None:
    kind = shape.type
    if kind == "structure":
        for name in shape.required:
            if value.get(name) is None:
                out.append(Violation((*path, name), None, "Member must not be null", True))
        members = shape.members
        for name, item in value.items():
            member = members.get(name)
            if member is not None and item is not None:
                _walk(member.shape, item, (*path, name), out)
        if shape.union and sum(value.get(name) is not None for name in shape.members) != 1:
            text = "Member must have exactly one of its members set"
            out.append(Violation(path, None, text))
        return
    if kind == "list":
        _length(shape, value, len(value), path, out)
        assert shape.member is not None
        for index, item in enumerate(value, start=1):
            _walk(shape.member, item, (*path, index), out)
        return
    if kind == "map":
        _length(shape, value, len(value), path, out)
        assert shape.key is not None
        assert shape.value is not None
        for key, item in value.items():
            _walk(shape.key, key, (*path, key), out)
            _walk(shape.value, item, (*path, key), out)
        return
    if kind in ("string", "blob"):
        _length(shape, value, len(value), path, out)
        if kind == "blob":
            return
        if shape.enum is not None and value not in shape.enum:
            out.append(
                Violation(path, value, f"Member must satisfy enum value set: {shape.enum_text}")
            )
        if shape.pattern is not None and shape.pattern.fullmatch(value) is None:
            text = f"Member must satisfy regular expression pattern: {shape.pattern.pattern}"
            out.append(Violation(path, value, text))
        return
    if kind in ("integer", "long", "double", "float"):
        if shape.min is not None and value < shape.min:
            text = f"Member must have value greater than or equal to {shape.min}"
            out.append(Violation(path, value, text))
        if shape.max is not None and value > shape.max:
            text = f"Member must have value less than or equal to {shape.max}"
            out.append(Violation(path, value, text))


def _length(
    shape: Shape, value: Any, length: int, path: tuple[Segment, ...], out: list[Violation]
) -> None:
    if shape.min is not None and length < shape.min:
        text = f"Member must have length greater than or equal to {shape.min}"
        out.append(Violation(path, _shown(shape, value), text))
    if shape.max is not None and length > shape.max:
        text = f"Member must have length less than or equal to {shape.max}"
        out.append(Violation(path, _shown(shape, value), text))


def _shown(shape: Shape, value: Any) -> Any:
    return _REDACTED if shape.sensitive else value


def format_path(path: Sequence[Segment], *, style: str = "coral") -> str:
    """A violation's path as Coral prints it or (``style="query"``) as a v1 form-field name.

    ``coral``: ``destinations.1.member.destination``;
    ``query``: ``Destinations.member.1.Destination``.
    """
    parts: list[str] = []
    for segment in path:
        if isinstance(segment, int):
            parts.append(f"{segment}.member" if style == "coral" else f"member.{segment}")
        elif style == "coral":
            parts.append(segment[:1].lower() + segment[1:])
        else:
            parts.append(segment)
    return ".".join(parts)


def _value_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "'true'" if value else "'false'"
    if isinstance(value, list | tuple):
        return "'[" + ", ".join(str(v) for v in value) + "]'"
    if isinstance(value, bytes):
        return f"'java.nio.HeapByteBuffer[pos=0 lim={len(value)} cap={len(value)}]'"
    return f"'{value}'"


def coral_message(violations: Sequence[Violation]) -> str:
    """Coral's text: ``N validation error(s) detected: Value … at '…' failed to satisfy …``."""
    count = len(violations)
    head = f"{count} validation error{'s' if count != 1 else ''} detected: "
    return head + "; ".join(
        f"Value {_value_text(v.value)} at '{format_path(v.path)}' failed to satisfy constraint: "
        f"{v.constraint}"
        for v in violations
    )


def violation_error(violations: Sequence[Violation], *, api: Api, v1_code: str) -> SesError:
    """The error the ``api`` reports for these violations (``violations`` must not be empty).

    v1 (query) reports a missing required member as ``MissingParameter`` (AWS Common Errors [D]),
    naming it by its form-field path; other violations use ``v1_code`` (``ValidationError`` by
    default, ses-spec §1.6). v2 reports every violation as ``BadRequestException`` 400.
    """
    v2 = Wire("BadRequestException", 400)
    missing = [v for v in violations if v.missing]
    if api == "v1" and missing:
        field = format_path(missing[0].path, style="query")
        text = f"The request must contain the parameter {field}"
        return SesError(text, v1=Wire("MissingParameter", 400), v2=v2)
    return SesError(coral_message(violations), v1=Wire(v1_code, 400), v2=v2)
