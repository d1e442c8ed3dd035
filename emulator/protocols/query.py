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
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from emulator.protocols.models import Operation, ServiceSpec, Shape
from emulator.protocols.wire import REQUEST_ID_HEADER, WireResponse
from emulator.ses.errors import SesError, Wire, bad_request

__all__ = [
    "ParseError",
    "parse_form",
    "parse_request",
    "serialize_error",
    "serialize_result",
    "xml_text",
]

Params = dict[str, Any]
_Tree = dict[
    str, Any
]  # nested form fields: str leaves, dict branches; "" holds a branch's own value


class ParseError(ValueError):
    """A form field does not fit its shape; ``field`` is the form-field name."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def parse_form(body: bytes, raw_query: str = "") -> dict[str, str]:
    """Form fields from the URL query string, then the body (the body wins on a repeated name)."""
    fields: dict[str, str] = {}
    try:
        for source in (raw_query, body.decode("utf-8")):
            if source:
                fields.update(parse_qsl(source, keep_blank_values=True, errors="strict"))
    except UnicodeDecodeError as exc:
        raise bad_request("The request is not UTF-8 form data.") from exc
    return fields


def _tree(fields: dict[str, str]) -> _Tree:
    root: _Tree = {}
    for key, value in fields.items():
        node = root
        *branches, leaf = key.split(".")
        for part in branches:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {} if child is None else {"": child}
                node[part] = child
            node = child
        existing = node.get(leaf)
        if isinstance(existing, dict):
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
    try:
        params = _structure(operation.input, _tree(fields), "")
    except ParseError as exc:
        raise bad_request(f"Invalid value for parameter {exc.field}: {exc.problem}") from exc
    return operation, params


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _structure(shape: Shape, node: Any, where: str) -> Params:
    if isinstance(node, str):
        if node:
            raise ParseError(where, "expected a structure")
        return {}
    params: Params = {}
    by_wire = shape.by_wire
    for wire, child in node.items():  # the fields sent, usually far fewer than the members
        member = by_wire.get(wire)
        if member is not None:
            params[member.name] = _value(member.shape, child, _join(where, wire))
    return params


def _indexed(node: dict[str, Any], where: str) -> list[Any]:
    try:
        ordered = sorted((int(index), value) for index, value in node.items() if index != "")
    except ValueError as exc:
        raise ParseError(where, "list positions must be numbers") from exc
    if ordered and ordered[0][0] < 1:
        raise ParseError(where, "list positions start at 1")
    return [value for _, value in ordered]


def _value(shape: Shape, node: Any, where: str) -> Any:
    kind = shape.type
    if kind == "structure":
        return _structure(shape, node, where)
    if kind == "list":
        if isinstance(node, str):
            if node:
                raise ParseError(where, f"expected a list ({where}.member.N)")
            return []  # "Name=": the empty list (ses-spec §1.2)
        items = node.get("member", {})
        if isinstance(items, str):
            raise ParseError(f"{where}.member", f"expected {where}.member.N")
        assert shape.member is not None
        member = shape.member
        return [
            _value(member, item, f"{where}.member.{n}")
            for n, item in enumerate(_indexed(items, f"{where}.member"), start=1)
        ]
    if kind == "map":
        if isinstance(node, str):
            if node:
                raise ParseError(where, f"expected a map ({where}.entry.N.key)")
            return {}
        entries = node.get("entry", {})
        if isinstance(entries, str):
            raise ParseError(f"{where}.entry", f"expected {where}.entry.N.key")
        assert shape.key is not None
        assert shape.value is not None
        result: dict[Any, Any] = {}
        for n, entry in enumerate(_indexed(entries, f"{where}.entry"), start=1):
            at = f"{where}.entry.{n}"
            if isinstance(entry, str) or "key" not in entry:
                raise ParseError(at, "an entry needs a key")
            key = _value(shape.key, entry["key"], f"{at}.key")
            result[key] = _value(shape.value, entry.get("value", ""), f"{at}.value")
        return result
    if isinstance(node, dict):
        if "" not in node:
            raise ParseError(where, f"expected a single {kind} value")
        node = node[""]
    return _SCALARS[kind](node, where)


def _integer(text: str, where: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise ParseError(where, f"'{text}' is not an integer") from exc


def _double(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError as exc:
        raise ParseError(where, f"'{text}' is not a number") from exc


def _boolean(text: str, where: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise ParseError(where, f"'{text}' is not true or false")
    return lowered == "true"


def _timestamp(text: str, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            return datetime.fromtimestamp(float(text), UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise ParseError(where, f"'{text}' is not an ISO-8601 timestamp") from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _blob(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ParseError(where, "not valid base64") from exc


_SCALARS: dict[str, Callable[[str, str], Any]] = {
    "string": lambda text, _where: text,
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


def _xml(shape: Shape, value: Any, out: list[str]) -> None:
    kind = shape.type
    if kind == "structure":
        for name, member in shape.members.items():
            item = value.get(name)
            if item is not None:
                out.append(f"<{member.wire}>")
                _xml(member.shape, item, out)
                out.append(f"</{member.wire}>")
    elif kind == "list":
        assert shape.member is not None
        for item in value:
            out.append("<member>")
            _xml(shape.member, item, out)
            out.append("</member>")
    elif kind == "map":
        assert shape.key is not None
        assert shape.value is not None
        for key, item in value.items():
            out.append("<entry><key>")
            _xml(shape.key, key, out)
            out.append("</key><value>")
            _xml(shape.value, item, out)
            out.append("</value></entry>")
    else:
        out.append(_SCALAR_XML[kind](value))


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
        _xml(operation.output, output, out)
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
