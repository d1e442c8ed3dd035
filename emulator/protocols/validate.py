"""Server-side validation of parsed parameters against the model's constraints.

botocore checks only required members and ``min`` lengths, and the JavaScript SDK v3 checks
nothing (ses-spec §1.6, §6 item 13), so max lengths, patterns, enums, list sizes and numeric
ranges reach the server, which must reject them. Real SES answers in Coral's wording:

    1 validation error detected: Value 'x' at 'emailTags.1.member.name' failed to satisfy
    constraint: Member must have length less than or equal to 256

`find_violations` walks the *value* (never the botocore model) with checks compiled once per
`Shape`; `violation_error` turns the findings into the `SesError` each API reports.

A few enums are left to their operation's handler (`HANDLER_CHECKED_ENUMS`): where SES is
observed to answer an invalid value with its own error rather than Coral's, the handler
raises that error and this module does not report the value first.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emulator.protocols import models
from emulator.protocols.models import Operation, Shape
from emulator.ses.errors import Api, SesError, Wire

if TYPE_CHECKING:
    from emulator.config import Settings
    from emulator.ses.context import Params

__all__ = [
    "HANDLER_CHECKED_ENUMS",
    "Violation",
    "check_input",
    "coral_message",
    "find_violations",
    "format_path",
    "violation_error",
]

HANDLER_CHECKED_ENUMS: frozenset[tuple[Api, str, str]] = frozenset(
    {
        # (api, operation, top-level input member): the model's enum is not checked here
        # because the handler checks it with the error SES gives. SES answers an invalid
        # NotificationType with v1 InvalidParameterValue "Invalid notification type: X. Valid
        # values are: Bounce, Complaint, Delivery." (ses-spec §2.5 [O]); `emulator.ses.v1_ops`
        # raises exactly that. The member's other constraints, if any, are still checked.
        ("v1", "SetIdentityNotificationTopic", "NotificationType"),
        ("v1", "SetIdentityHeadersInNotificationsEnabled", "NotificationType"),
    }
)

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
    check = _CHECKS[shape] if shape in _CHECKS else _checker(shape)
    if check is not None:
        check(value, (), found)
    return found


# Each shape compiles once into a check: a closure over its constraints and its members' checks,
# or None when nothing reachable from the shape has a constraint, so those members (most of a
# SendEmail) are not visited at all. The checks visit values in the order the old tree walk did.
_Check = Callable[[Any, tuple[Segment, ...], list[Violation]], None]
_CHECKS: dict[Shape, _Check | None] = {}


def _children(shape: Shape) -> list[Shape]:
    if shape.type == "structure":
        return [member.shape for member in shape.members.values()]
    return [child for child in (shape.member, shape.key, shape.value) if child is not None]


def _has_own_constraint(shape: Shape) -> bool:
    kind = shape.type
    if kind == "structure":
        return bool(shape.required) or shape.union
    if kind in ("list", "map", "blob", "integer", "long", "double", "float"):
        return shape.min is not None or shape.max is not None
    if kind == "string":
        return (
            shape.min is not None
            or shape.max is not None
            or shape.enum is not None
            or shape.pattern is not None
        )
    return False  # boolean, timestamp


def _constrained(shape: Shape) -> bool:
    seen = {id(shape)}
    pending = [shape]
    while pending:
        node = pending.pop()
        if _has_own_constraint(node):
            return True
        for child in _children(node):
            if id(child) not in seen:
                seen.add(id(child))
                pending.append(child)
    return False


def _checker(shape: Shape) -> _Check | None:
    if not _constrained(shape):
        _CHECKS[shape] = None
        return None
    kind = shape.type
    if kind == "structure":
        return _structure_check(shape)
    if kind in ("list", "map"):
        return _collection_check(shape)
    check = _text_check(shape) if kind in ("string", "blob") else _number_check(shape)
    _CHECKS[shape] = check
    return check


def _child_check(shape: Shape) -> _Check | None:
    return _CHECKS[shape] if shape in _CHECKS else _checker(shape)


@functools.cache
def _handler_checked() -> dict[Shape, frozenset[str]]:
    """`HANDLER_CHECKED_ENUMS` as input shape → member names, resolved in the loaded models."""
    found: dict[Shape, set[str]] = {}
    for api, operation, member in sorted(HANDLER_CHECKED_ENUMS):
        shape = models.load(api).operations[operation].input
        target = shape.members.get(member) if shape is not None else None
        if shape is None or target is None or target.shape.enum is None:
            # The model changed under the table: fail loudly rather than check nothing.
            raise LookupError(f"{api} {operation}.{member} is not an enum member of the model")
        found.setdefault(shape, set()).add(member)
    return {shape: frozenset(members) for shape, members in found.items()}


def _member_check(member: Shape, *, enum: bool) -> _Check | None:
    if enum:
        return _child_check(member)
    # A handler-checked enum: the member's other constraints only (not cached under the
    # shape, which another member may use with its enum checked).
    if member.min is None and member.max is None and member.pattern is None:
        return None
    return _text_check(member, enum=False)


def _structure_check(shape: Shape) -> _Check:
    required = shape.required
    union = shape.union
    names = tuple(shape.members)
    table: dict[str, _Check] = {}
    unchecked_enums = _handler_checked().get(shape, frozenset())

    def check(value: Any, path: tuple[Segment, ...], out: list[Violation]) -> None:
        for name in required:
            if value.get(name) is None:
                out.append(Violation((*path, name), None, "Member must not be null", True))
        for name, item in value.items():
            member_check = table.get(name)
            if member_check is not None and item is not None:
                member_check(item, (*path, name), out)
        if union and sum(value.get(name) is not None for name in names) != 1:
            text = "Member must have exactly one of its members set"
            out.append(Violation(path, None, text))

    _CHECKS[shape] = check  # before the members: recursive shapes terminate
    for name, member in shape.members.items():
        member_check = _member_check(member.shape, enum=name not in unchecked_enums)
        if member_check is not None:
            table[name] = member_check
    return check


def _collection_check(shape: Shape) -> _Check:
    length = _length_check(shape)
    inner: list[_Check | None] = []  # [item] for a list, [key, value] for a map; filled below

    def check_list(value: Any, path: tuple[Segment, ...], out: list[Violation]) -> None:
        if length is not None:
            length(value, len(value), path, out)
        item_check = inner[0]
        if item_check is not None:
            for index, item in enumerate(value, start=1):
                item_check(item, (*path, index), out)

    def check_map(value: Any, path: tuple[Segment, ...], out: list[Violation]) -> None:
        if length is not None:
            length(value, len(value), path, out)
        key_check, value_check = inner
        if key_check is None and value_check is None:
            return
        for key, item in value.items():
            if key_check is not None:
                key_check(key, (*path, key), out)
            if value_check is not None:
                value_check(item, (*path, key), out)

    check = check_list if shape.type == "list" else check_map
    _CHECKS[shape] = check
    if shape.type == "list":
        assert shape.member is not None
        inner.append(_child_check(shape.member))
    else:
        assert shape.key is not None
        assert shape.value is not None
        inner.append(_child_check(shape.key))
        inner.append(_child_check(shape.value))
    return check


_LengthCheck = Callable[[Any, int, tuple[Segment, ...], list[Violation]], None]


def _length_check(shape: Shape) -> _LengthCheck | None:
    low, high = shape.min, shape.max
    if low is None and high is None:
        return None
    sensitive = shape.sensitive
    too_short = f"Member must have length greater than or equal to {low}"
    too_long = f"Member must have length less than or equal to {high}"

    def check(value: Any, length: int, path: tuple[Segment, ...], out: list[Violation]) -> None:
        if low is not None and length < low:
            out.append(Violation(path, _REDACTED if sensitive else value, too_short))
        if high is not None and length > high:
            out.append(Violation(path, _REDACTED if sensitive else value, too_long))

    return check


def _text_check(shape: Shape, *, enum: bool = True) -> _Check:
    length = _length_check(shape)
    is_blob = shape.type == "blob"
    values = shape.enum if enum else None
    enum_text = f"Member must satisfy enum value set: {shape.enum_text}"
    pattern = shape.pattern
    pattern_text = (
        f"Member must satisfy regular expression pattern: {pattern.pattern}" if pattern else ""
    )

    def check(value: Any, path: tuple[Segment, ...], out: list[Violation]) -> None:
        if length is not None:
            length(value, len(value), path, out)
        if is_blob:
            return
        if values is not None and value not in values:
            out.append(Violation(path, value, enum_text))
        if pattern is not None and pattern.fullmatch(value) is None:
            out.append(Violation(path, value, pattern_text))

    return check


def _number_check(shape: Shape) -> _Check:
    low, high = shape.min, shape.max
    too_small = f"Member must have value greater than or equal to {low}"
    too_large = f"Member must have value less than or equal to {high}"

    def check(value: Any, path: tuple[Segment, ...], out: list[Violation]) -> None:
        if low is not None and value < low:
            out.append(Violation(path, value, too_small))
        if high is not None and value > high:
            out.append(Violation(path, value, too_large))

    return check


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


def check_input(*, api: Api, operation: Operation, params: Params, settings: Settings) -> None:
    """Raise the API's `SesError` when ``params`` break the operation's model constraints."""
    if operation.input is not None:
        violations = find_violations(operation.input, params)
        if violations:
            raise violation_error(violations, api=api, v1_code=settings.v1_validation_code)
