"""SES v1, the AWS Query protocol: form fields in, XML out (ses-spec §1.2–1.4).

Requests are ``POST /`` with a form body (``Action=SendEmail&Version=2010-12-01&…``); the same
fields are also accepted in the URL query string, as older hand-written clients send them.
Structures are dotted (``Message.Subject.Data``), lists are ``Name.member.N`` (1-based, ordered by
N), maps ``Name.entry.N.key`` / ``.value``, and an empty list is the bare ``Name=``.

Responses are ``<OpResponse xmlns=…><OpResult>…</OpResult><ResponseMetadata>…`` — the result
element is present (possibly empty) exactly when the operation has an output shape, since
botocore fails with ``KeyError`` without it. Errors are ``<ErrorResponse>`` with ``Type``
``Sender``/``Receiver`` and ``RequestId`` beside ``Error``.
"""

from __future__ import annotations

import base64
import binascii
import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import unquote, unquote_to_bytes

from emulator.protocols.models import Operation, ServiceSpec, Shape
from emulator.protocols.wire import REQUEST_ID_HEADER, WireResponse
from emulator.ses.errors import SesError, Wire, bad_request

__all__ = [
    "SNS_ACTIONS",
    "ParseError",
    "is_sns_body",
    "parse_form",
    "parse_request",
    "serialize_error",
    "serialize_result",
    "xml_text",
]

Params = dict[str, Any]

# "/" also takes the SNS API actions the emulator answers there (Query protocol, version
# 2010-03-31) [M]: `emulator.sns` serves them, and an SES request is anything else.
SNS_ACTIONS: Final = ("Subscribe", "ConfirmSubscription", "Unsubscribe")
_SNS_BODY_PREFIXES: Final = tuple(f"Action={action}&".encode() for action in SNS_ACTIONS)
_Tree = dict[
    str, Any
]  # nested form fields: str leaves, dict branches; "" holds a branch's own value


def is_sns_body(body: bytes) -> bool:
    """Whether a ``POST /`` form body is an SNS API action: botocore writes ``Action`` first,
    so a prefix check tells it from an SES request without parsing the whole form."""
    return body[:40].startswith(_SNS_BODY_PREFIXES)


class ParseError(ValueError):
    """A form field does not fit its shape; ``field`` is the form-field name."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def parse_form(body: bytes, raw_query: str = "") -> dict[str, str]:
    """Form fields from the URL query string, then the body (the body wins on a repeated name).

    Decodes exactly as ``urllib.parse.parse_qsl(..., keep_blank_values=True, errors="strict")``
    would, without its per-field overhead: only pieces holding ``+`` or ``%`` are rewritten.
    """
    fields: dict[str, str] = {}
    try:
        if raw_query:
            _decode_form(raw_query, fields)
        if body:
            _decode_form(body.decode("utf-8"), fields)
    except UnicodeDecodeError as exc:
        raise bad_request("The request is not UTF-8 form data.") from exc
    return fields


def _decode_form(text: str, fields: dict[str, str]) -> None:
    # parse_qsl's loop with keep_blank_values=True and strict_parsing=False: empty pieces are
    # skipped, a piece without "=" is a name with the value "", and "+" means a space.
    for piece in text.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        if "+" in name:
            name = name.replace("+", " ")
        if "%" in name:
            name = _unquote(name)
        if "+" in value:
            value = value.replace("+", " ")
        if "%" in value:
            value = _unquote(value)
        fields[name] = value


# Short escaped values (addresses, subjects, charsets) recur from request to request; their
# decodings are kept, up to a bound, since percent-decoding is most of a small form's cost.
_UNQUOTED: dict[str, str] = {}
_UNQUOTED_MAX_ENTRIES = 4096
_UNQUOTED_MAX_LENGTH = 256

# "%41" -> "A" for every ASCII byte, in any letter case, as unquote_to_bytes reads them.
_ASCII_ESCAPES = {
    f"{high}{low}": chr(int(f"{high}{low}", 16))
    for high in "01234567"
    for low in "0123456789abcdefABCDEF"
}


def _unquote(text: str) -> str:
    short = len(text) <= _UNQUOTED_MAX_LENGTH  # a long value is not worth hashing
    if short:
        decoded = _UNQUOTED.get(text)
        if decoded is not None:
            return decoded
    decoded = _unquote_ascii(text) if text.isascii() else unquote(text, errors="strict")
    if short:
        if len(_UNQUOTED) >= _UNQUOTED_MAX_ENTRIES:
            _UNQUOTED.clear()
        _UNQUOTED[text] = decoded
    return decoded


def _unquote_ascii(text: str) -> str:
    # For ASCII text unquote() is unquote_to_bytes(text).decode() (its regex split yields one
    # ASCII run); when every escape is a valid ASCII one, that is this, without the round trip
    # through bytes.
    parts = text.split("%")
    out = [parts[0]]
    for part in parts[1:]:
        char = _ASCII_ESCAPES.get(part[:2])
        if char is None:  # an escape above 0x7F (UTF-8) or a "%" that escapes nothing
            return unquote_to_bytes(text).decode("utf-8")
        out.append(char)
        out.append(part[2:])
    return "".join(out)


# Field names come from the model ("Destination.ToAddresses.member.1"), so the same few recur
# in every request: their split into branches and leaf is kept, up to a bound.
_SPLIT: dict[str, tuple[list[str], str]] = {}
_SPLIT_MAX_ENTRIES = 4096


def _tree(fields: dict[str, str]) -> _Tree:
    root: _Tree = {}
    for key, value in fields.items():
        node = root
        split = _SPLIT.get(key)
        if split is None:
            *branches, leaf = key.split(".")
            split = (branches, leaf)
            if len(_SPLIT) >= _SPLIT_MAX_ENTRIES:
                _SPLIT.clear()
            _SPLIT[key] = split
        for part in split[0]:
            child = node.get(part)
            if type(child) is not dict:  # tree nodes are plain dicts or str
                child = {} if child is None else {"": child}
                node[part] = child
            node = child
        leaf = split[1]
        existing = node.get(leaf)
        if type(existing) is dict:
            existing[""] = value
        else:
            node[leaf] = value
    return root


def parse_request(spec: ServiceSpec, fields: dict[str, str]) -> tuple[Operation, Params]:
    """The operation and its params (model member names and Python types) from form fields.

    Raises `SesError`: ``MissingAction``, ``InvalidAction`` (unknown operation or a ``Version``
    other than 2010-12-01) or ``InvalidParameterValue`` for a field that does not fit its shape.
    Constraint checks (required members, lengths, patterns) are `emulator.protocols.validate`'s.
    """
    action = fields.get("Action")
    if not action:
        text = "The request must contain the parameter Action."
        raise SesError(text, v1=Wire("MissingAction", 400), v2=Wire("MissingAction", 400))
    version = fields.get("Version", spec.api_version)
    operation = spec.operations.get(action)
    if operation is None or version != spec.api_version:
        # The text AWS's Coral query services (e.g. STS) answer with for an unknown action or
        # version; unverified against SES itself [I].
        text = f"Could not find operation {action} for version {version}"
        raise SesError(text, v1=Wire("InvalidAction", 400), v2=Wire("InvalidAction", 400))
    if operation.input is None:
        return operation, {}
    read = _READERS.get(operation.input) or _reader(operation.input)
    try:
        params: Params = read(_tree(fields))
    except _Unplaced as bad:
        exc = bad.place()
        raise bad_request(f"Invalid value for parameter {exc.field}: {exc.problem}") from exc
    return operation, params


# Each shape compiles once into a reader: a closure from a `_tree` node to the Python value,
# with the member table, list handling and scalar conversion chosen up front, so a request
# costs no dispatch on the shape's type. The form-field name of a failure is only needed when
# there is one, so readers raise `_Unplaced` and each level adds its part of the name on the
# way out.
_Reader = Callable[[Any], Any]
_READERS: dict[Shape, _Reader] = {}


class _Unplaced(Exception):
    """A `ParseError` whose form-field name is still being collected (innermost part first)."""

    def __init__(self, make: Callable[[str], ParseError]) -> None:
        super().__init__()
        self.make = make
        self.parts: list[str] = []

    def place(self) -> ParseError:
        error = self.make(".".join(reversed(self.parts)))
        error.__cause__ = self.__cause__
        return error


def _reader(shape: Shape) -> _Reader:
    kind = shape.type
    if kind == "structure":
        return _structure_reader(shape)
    if kind == "list":
        return _list_reader(shape)
    if kind == "map":
        return _map_reader(shape)
    read = _scalar_reader(kind, _SCALARS[kind])
    _READERS[shape] = read
    return read


def _structure_reader(shape: Shape) -> _Reader:
    table: dict[str, tuple[str, _Reader]] = {}

    def read(node: Any) -> Params:
        if type(node) is str:
            if node:
                raise _Unplaced(lambda where: ParseError(where, "expected a structure"))
            return {}
        params: Params = {}
        for wire, child in node.items():  # the fields sent, usually far fewer than the members
            entry = table.get(wire)
            if entry is not None:
                try:
                    params[entry[0]] = entry[1](child)
                except _Unplaced as bad:
                    bad.parts.append(wire)
                    raise
        return params

    _READERS[shape] = read  # before the members: recursive shapes terminate
    for wire, member in shape.by_wire.items():
        table[wire] = (member.name, _READERS.get(member.shape) or _reader(member.shape))
    return read


# Positions as botocore sends them ("1", "2", … in order) need no sorting.
_IN_ORDER = [tuple(str(n) for n in range(1, count + 1)) for count in range(65)]


def _indexed(node: dict[str, Any], label: str) -> list[Any]:
    count = len(node)
    if count < len(_IN_ORDER) and tuple(node) == _IN_ORDER[count]:
        return list(node.values())
    try:
        positioned = [(int(index), value) for index, value in node.items() if index != ""]
    except ValueError as exc:
        problem = "list positions must be numbers"
        raise _Unplaced(lambda where: ParseError(f"{where}.{label}", problem)) from exc
    ordered = sorted(positioned, key=_position)
    if ordered and ordered[0][0] < 1:
        problem = "list positions start at 1"
        raise _Unplaced(lambda where: ParseError(f"{where}.{label}", problem))
    twice = next((a for (a, _), (b, _) in itertools.pairwise(ordered) if a == b), None)
    if twice is not None:  # "member.1" and "member.01": one position, two values
        problem = f"list position {twice} is given more than once"
        raise _Unplaced(lambda where: ParseError(f"{where}.{label}", problem))
    return [value for _, value in ordered]


def _position(item: tuple[int, Any]) -> int:
    return item[0]


def _list_reader(shape: Shape) -> _Reader:
    assert shape.member is not None
    member_shape = shape.member
    item_reader: list[_Reader] = []  # filled below, after registering (recursive shapes)

    def read(node: Any) -> list[Any]:
        if type(node) is str:
            if node:
                raise _Unplaced(
                    lambda where: ParseError(where, f"expected a list ({where}.member.N)")
                )
            return []  # "Name=": the empty list (ses-spec §1.2)
        items = node.get("member", {})
        if type(items) is str:
            raise _Unplaced(
                lambda where: ParseError(f"{where}.member", f"expected {where}.member.N")
            )
        read_item = item_reader[0]
        result = []
        for n, item in enumerate(_indexed(items, "member"), start=1):
            try:
                result.append(read_item(item))
            except _Unplaced as bad:
                bad.parts.append(f"member.{n}")
                raise
        return result

    _READERS[shape] = read
    item_reader.append(_READERS.get(member_shape) or _reader(member_shape))
    return read


def _map_reader(shape: Shape) -> _Reader:
    assert shape.key is not None
    assert shape.value is not None
    key_shape, value_shape = shape.key, shape.value
    readers: list[_Reader] = []  # [key, value], filled below

    def read(node: Any) -> dict[Any, Any]:
        if type(node) is str:
            if node:
                raise _Unplaced(
                    lambda where: ParseError(where, f"expected a map ({where}.entry.N.key)")
                )
            return {}
        entries = node.get("entry", {})
        if type(entries) is str:
            raise _Unplaced(
                lambda where: ParseError(f"{where}.entry", f"expected {where}.entry.N.key")
            )
        read_key, read_value = readers
        result: dict[Any, Any] = {}
        for n, entry in enumerate(_indexed(entries, "entry"), start=1):
            if type(entry) is str or "key" not in entry:
                raise _Unplaced(_entry_without_key(n))
            try:
                key = read_key(entry["key"])
            except _Unplaced as bad:
                bad.parts.append(f"entry.{n}.key")
                raise
            try:
                result[key] = read_value(entry.get("value", ""))
            except _Unplaced as bad:
                bad.parts.append(f"entry.{n}.value")
                raise
        return result

    _READERS[shape] = read
    readers.append(_READERS.get(key_shape) or _reader(key_shape))
    readers.append(_READERS.get(value_shape) or _reader(value_shape))
    return read


def _entry_without_key(n: int) -> Callable[[str], ParseError]:
    return lambda where: ParseError(f"{where}.entry.{n}", "an entry needs a key")


def _scalar_reader(kind: str, convert: Callable[[str], Any]) -> _Reader:
    def read(node: Any) -> Any:
        if type(node) is dict:  # "Name=x&Name.y=z": the branch's own value
            if "" not in node:
                raise _Unplaced(lambda where: ParseError(where, f"expected a single {kind} value"))
            node = node[""]
        return convert(node)

    if kind != "string":
        return read

    def read_string(node: Any) -> Any:
        return node if type(node) is str else read(node)

    return read_string


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise _Unplaced(lambda where: ParseError(where, f"'{text}' is not an integer")) from exc


def _double(text: str) -> float:
    try:
        return float(text)
    except ValueError as exc:
        raise _Unplaced(lambda where: ParseError(where, f"'{text}' is not a number")) from exc


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise _Unplaced(lambda where: ParseError(where, f"'{text}' is not true or false"))
    return lowered == "true"


def _timestamp(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            return datetime.fromtimestamp(float(text), UTC)
        except (ValueError, OverflowError, OSError) as exc:
            problem = f"'{text}' is not an ISO-8601 timestamp"
            raise _Unplaced(lambda where: ParseError(where, problem)) from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _blob(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _Unplaced(lambda where: ParseError(where, "not valid base64")) from exc


_SCALARS: dict[str, Callable[[str], Any]] = {
    "string": lambda text: text,
    "integer": _integer,
    "long": _integer,
    "double": _double,
    "float": _double,
    "boolean": _boolean,
    "timestamp": _timestamp,
    "blob": _blob,
}

# XML 1.0 cannot carry most C0 controls even as character references, so they become U+FFFD;
# CR is kept as a reference because parsers turn a literal CR LF into LF.
_XML_ESCAPES: dict[int, str] = {
    ord("&"): "&amp;",
    ord("<"): "&lt;",
    ord(">"): "&gt;",
    ord("\r"): "&#13;",
    **{c: "\ufffd" for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)},
    0xFFFE: "\ufffd",
    0xFFFF: "\ufffd",
}


def xml_text(value: str) -> str:
    """``value`` as XML character data."""
    # A printable string has no C0 control and no U+FFFE/U+FFFF (those are not printable), so
    # without & < > nothing in it needs escaping: skip translate's per-character lookups.
    if value.isprintable() and "&" not in value and "<" not in value and ">" not in value:
        return value
    return value.translate(_XML_ESCAPES)


def _iso(value: Any) -> str:
    if isinstance(value, int | float):
        value = datetime.fromtimestamp(value, UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    stamp: str = value.astimezone(UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


_SCALAR_XML: dict[str, Callable[[Any], str]] = {
    "string": xml_text,
    "integer": lambda v: str(int(v)),
    "long": lambda v: str(int(v)),
    "double": lambda v: repr(float(v)),  # "200.0", as SES prints doubles
    "float": lambda v: repr(float(v)),
    "boolean": lambda v: "true" if v else "false",
    "timestamp": _iso,
    "blob": lambda v: base64.b64encode(v).decode("ascii"),
}

# Each output shape compiles once into a writer appending its XML to a list of strings, with
# the element tags of every member already formatted.
_Writer = Callable[[Any, list[str]], None]
_WRITERS: dict[Shape, _Writer] = {}


def _writer(shape: Shape) -> _Writer:
    write: _Writer
    kind = shape.type
    if kind == "structure":
        members: list[tuple[str, str, str, _Writer]] = []

        def write(value: Any, out: list[str]) -> None:
            for name, start, end, write_member in members:
                item = value.get(name)
                if item is not None:
                    out.append(start)
                    write_member(item, out)
                    out.append(end)

        _WRITERS[shape] = write  # before the members: recursive shapes terminate
        for name, member in shape.members.items():
            inner = _WRITERS.get(member.shape) or _writer(member.shape)
            members.append((name, f"<{member.wire}>", f"</{member.wire}>", inner))
        return write
    if kind == "list":
        assert shape.member is not None
        items: list[_Writer] = []

        def write(value: Any, out: list[str]) -> None:
            write_item = items[0]
            for item in value:
                out.append("<member>")
                write_item(item, out)
                out.append("</member>")

        _WRITERS[shape] = write
        items.append(_WRITERS.get(shape.member) or _writer(shape.member))
        return write
    if kind == "map":
        assert shape.key is not None
        assert shape.value is not None
        pair: list[_Writer] = []

        def write(value: Any, out: list[str]) -> None:
            write_key, write_value = pair
            for key, item in value.items():
                out.append("<entry><key>")
                write_key(key, out)
                out.append("</key><value>")
                write_value(item, out)
                out.append("</value></entry>")

        _WRITERS[shape] = write
        pair.append(_WRITERS.get(shape.key) or _writer(shape.key))
        pair.append(_WRITERS.get(shape.value) or _writer(shape.value))
        return write
    text = _SCALAR_XML[kind]

    def write_scalar(value: Any, out: list[str]) -> None:
        out.append(text(value))

    _WRITERS[shape] = write_scalar
    return write_scalar


def _response(status: int, xml: str, request_id: str) -> WireResponse:
    return WireResponse(
        status=status,
        body=xml.encode("utf-8"),
        headers={"Content-Type": "text/xml", REQUEST_ID_HEADER: request_id},
    )


def serialize_result(
    spec: ServiceSpec, operation: Operation, output: Params, request_id: str
) -> WireResponse:
    """The 200 response to ``operation`` carrying ``output`` (model member names)."""
    name = operation.name
    out = [f'<{name}Response xmlns="{spec.xml_namespace}">']
    if operation.output is not None:
        wrapper = operation.result_wrapper or f"{name}Result"
        out.append(f"<{wrapper}>")
        write = _WRITERS.get(operation.output) or _writer(operation.output)
        write(output, out)
        out.append(f"</{wrapper}>")
    out.append(f"<ResponseMetadata><RequestId>{xml_text(request_id)}</RequestId>")
    out.append(f"</ResponseMetadata></{name}Response>")
    return _response(200, "".join(out), request_id)


def serialize_error(spec: ServiceSpec, error: SesError, request_id: str) -> WireResponse:
    """``<ErrorResponse>`` with the v1 code and status of ``error``."""
    wire = error.for_api("v1")
    kind = "Sender" if error.sender_fault("v1") else "Receiver"
    xml = (
        f'<ErrorResponse xmlns="{spec.xml_namespace}"><Error><Type>{kind}</Type>'
        f"<Code>{xml_text(wire.code)}</Code><Message>{xml_text(error.message)}</Message>"
        f"</Error><RequestId>{xml_text(request_id)}</RequestId></ErrorResponse>"
    )
    return _response(wire.status, xml, request_id)
