"""The compiled protocol paths against the reference behaviour they replaced.

The form decoder must decode exactly as ``urllib.parse.parse_qsl`` did; the compiled readers,
checks and writers must give the same params, the same errors, the same violations and the same
bytes as the tree walks over the model that came before them, which are kept below verbatim
(renamed ``_ref_*``) as the reference. Inputs are drawn by hypothesis from every operation of
both models, then damaged (wrong types, bad list positions, stray fields) so the error paths are
compared too.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import pytest
from botocore.awsrequest import create_request_object, prepare_request_dict
from botocore.serialize import create_serializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.protocols import models, query, restjson
from emulator.protocols.models import Shape
from emulator.protocols.query import _SCALAR_XML, _XML_ESCAPES, ParseError
from emulator.protocols.restjson import _SCALAR_JSON, _datetime, _ParseError, _type_name
from emulator.protocols.validate import (
    _REDACTED,
    HANDLER_CHECKED_ENUMS,
    Segment,
    Violation,
    find_violations,
    format_path,
)
from emulator.ses.errors import SesError
from tests.unit.emulator.test_protocols_roundtrip import V1_MODEL, values

V1 = models.load("v1")
V2 = models.load("v2")
Params = dict[str, Any]
_Tree = dict[str, Any]

# --- reference: the implementations before compilation (emulator/protocols at 48238f6) ---


def _ref_tree(fields: dict[str, str]) -> _Tree:
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


def _ref_join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _ref_structure(shape: Shape, node: Any, where: str) -> Params:
    if isinstance(node, str):
        if node:
            raise ParseError(where, "expected a structure")
        return {}
    params: Params = {}
    by_wire = shape.by_wire
    for wire, child in node.items():  # the fields sent, usually far fewer than the members
        member = by_wire.get(wire)
        if member is not None:
            params[member.name] = _ref_value(member.shape, child, _ref_join(where, wire))
    return params


def _ref_indexed(node: dict[str, Any], where: str) -> list[Any]:
    try:
        ordered = sorted(
            ((int(index), value) for index, value in node.items() if index != ""),
            key=lambda item: item[0],
        )
    except ValueError as exc:
        raise ParseError(where, "list positions must be numbers") from exc
    if ordered and ordered[0][0] < 1:
        raise ParseError(where, "list positions start at 1")
    # The one deliberate change from the tree walk: two fields at one position ("member.1" and
    # "member.01") made it sort dicts against each other (a TypeError, so a 500); now a 400.
    positions = [n for n, _ in ordered]
    for n in positions:
        if positions.count(n) > 1:
            raise ParseError(where, f"list position {n} is given more than once")
    return [value for _, value in ordered]


def _ref_value(shape: Shape, node: Any, where: str) -> Any:
    kind = shape.type
    if kind == "structure":
        return _ref_structure(shape, node, where)
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
            _ref_value(member, item, f"{where}.member.{n}")
            for n, item in enumerate(_ref_indexed(items, f"{where}.member"), start=1)
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
        for n, entry in enumerate(_ref_indexed(entries, f"{where}.entry"), start=1):
            at = f"{where}.entry.{n}"
            if isinstance(entry, str) or "key" not in entry:
                raise ParseError(at, "an entry needs a key")
            key = _ref_value(shape.key, entry["key"], f"{at}.key")
            result[key] = _ref_value(shape.value, entry.get("value", ""), f"{at}.value")
        return result
    if isinstance(node, dict):
        if "" not in node:
            raise ParseError(where, f"expected a single {kind} value")
        node = node[""]
    return _ref_SCALARS[kind](node, where)


def _ref_integer(text: str, where: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise ParseError(where, f"'{text}' is not an integer") from exc


def _ref_double(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError as exc:
        raise ParseError(where, f"'{text}' is not a number") from exc


def _ref_boolean(text: str, where: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise ParseError(where, f"'{text}' is not true or false")
    return lowered == "true"


def _ref_timestamp(text: str, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            return datetime.fromtimestamp(float(text), UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise ParseError(where, f"'{text}' is not an ISO-8601 timestamp") from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _ref_blob(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ParseError(where, "not valid base64") from exc


_ref_SCALARS: dict[str, Callable[[str, str], Any]] = {
    "string": lambda text, _where: text,
    "integer": _ref_integer,
    "long": _ref_integer,
    "double": _ref_double,
    "float": _ref_double,
    "boolean": _ref_boolean,
    "timestamp": _ref_timestamp,
    "blob": _ref_blob,
}


def _ref_xml(shape: Shape, value: Any, out: list[str]) -> None:
    kind = shape.type
    if kind == "structure":
        for name, member in shape.members.items():
            item = value.get(name)
            if item is not None:
                out.append(f"<{member.wire}>")
                _ref_xml(member.shape, item, out)
                out.append(f"</{member.wire}>")
    elif kind == "list":
        assert shape.member is not None
        for item in value:
            out.append("<member>")
            _ref_xml(shape.member, item, out)
            out.append("</member>")
    elif kind == "map":
        assert shape.key is not None
        assert shape.value is not None
        for key, item in value.items():
            out.append("<entry><key>")
            _ref_xml(shape.key, key, out)
            out.append("</key><value>")
            _ref_xml(shape.value, item, out)
            out.append("</value></entry>")
    else:
        out.append(_SCALAR_XML[kind](value))


def _ref_walk(shape: Shape, value: Any, path: tuple[Segment, ...], out: list[Violation]) -> None:
    kind = shape.type
    if kind == "structure":
        for name in shape.required:
            if value.get(name) is None:
                out.append(Violation((*path, name), None, "Member must not be null", True))
        members = shape.members
        for name, item in value.items():
            member = members.get(name)
            if member is not None and item is not None:
                _ref_walk(member.shape, item, (*path, name), out)
        if shape.union and sum(value.get(name) is not None for name in shape.members) != 1:
            text = "Member must have exactly one of its members set"
            out.append(Violation(path, None, text))
        return
    if kind == "list":
        _ref_length(shape, value, len(value), path, out)
        assert shape.member is not None
        for index, item in enumerate(value, start=1):
            _ref_walk(shape.member, item, (*path, index), out)
        return
    if kind == "map":
        _ref_length(shape, value, len(value), path, out)
        assert shape.key is not None
        assert shape.value is not None
        for key, item in value.items():
            _ref_walk(shape.key, key, (*path, key), out)
            _ref_walk(shape.value, item, (*path, key), out)
        return
    if kind in ("string", "blob"):
        _ref_length(shape, value, len(value), path, out)
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


def _ref_length(
    shape: Shape, value: Any, length: int, path: tuple[Segment, ...], out: list[Violation]
) -> None:
    if shape.min is not None and length < shape.min:
        text = f"Member must have length greater than or equal to {shape.min}"
        out.append(Violation(path, _ref_shown(shape, value), text))
    if shape.max is not None and length > shape.max:
        text = f"Member must have length less than or equal to {shape.max}"
        out.append(Violation(path, _ref_shown(shape, value), text))


def _ref_shown(shape: Shape, value: Any) -> Any:
    return _REDACTED if shape.sensitive else value


def _ref_from_json(shape: Shape, value: Any, path: tuple[str | int, ...]) -> Any:
    kind = shape.type
    if kind == "structure":
        if not isinstance(value, dict):
            raise _ParseError(path, f"expected an object, got {_type_name(value)}")
        result: Params = {}
        by_wire = shape.by_wire
        for key, item in value.items():
            member = by_wire.get(key)
            if member is not None and item is not None:  # JSON null means absent
                result[member.name] = _ref_from_json(member.shape, item, (*path, member.name))
        return result
    if kind == "list":
        if not isinstance(value, list):
            raise _ParseError(path, f"expected a list, got {_type_name(value)}")
        assert shape.member is not None
        item_shape = shape.member
        return [
            _ref_from_json(item_shape, item, (*path, i)) for i, item in enumerate(value, start=1)
        ]
    if kind == "map":
        if not isinstance(value, dict):
            raise _ParseError(path, f"expected an object, got {_type_name(value)}")
        assert shape.value is not None
        inner = shape.value
        return {k: _ref_from_json(inner, v, (*path, k)) for k, v in value.items()}
    if kind == "string":
        if not isinstance(value, str):
            raise _ParseError(path, f"expected a string, got {_type_name(value)}")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise _ParseError(path, f"expected a boolean, got {_type_name(value)}")
        return value
    if kind in ("integer", "long"):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise _ParseError(path, f"expected an integer, got {_type_name(value)}")
        return value
    if kind in ("double", "float"):
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise _ParseError(path, f"expected a number, got {_type_name(value)}")
        return float(value)
    if kind == "timestamp":
        return _datetime(value, path)
    # blob
    if not isinstance(value, str):
        raise _ParseError(path, f"expected a base64 string, got {_type_name(value)}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _ParseError(path, "expected a base64 string") from exc


def _ref_to_json(shape: Shape, value: Any) -> Any:
    kind = shape.type
    if kind == "structure":
        return {
            member.wire: _ref_to_json(member.shape, value[name])
            for name, member in shape.members.items()
            if value.get(name) is not None
        }
    if kind == "list":
        assert shape.member is not None
        member = shape.member
        return [_ref_to_json(member, item) for item in value]
    if kind == "map":
        assert shape.value is not None
        inner = shape.value
        return {key: _ref_to_json(inner, item) for key, item in value.items()}
    return _SCALAR_JSON[kind](value)


def _ref_parse_form(body: bytes, raw_query: str = "") -> dict[str, str] | None:
    """parse_form as it was; None where it raised (a UnicodeDecodeError)."""
    fields: dict[str, str] = {}
    try:
        for source in (raw_query, body.decode("utf-8")):
            if source:
                fields.update(parse_qsl(source, keep_blank_values=True, errors="strict"))
    except UnicodeDecodeError:
        return None
    return fields


def _outcome(call: Callable[[], Any]) -> Any:
    """What a call returns, or the code and message of the `SesError` it raises."""
    try:
        return call()
    except SesError as error:
        return ("error", error.for_api("v1").code, error.message)


# --- form decoding ---

_FORM_PIECES = st.sampled_from(
    [
        "&",
        "&&",
        "=",
        "==",
        "+",
        "%",
        "%2",
        "%41",
        "%2B",
        "%26",
        "%3D",
        "%25",
        "%C3%A9",
        "%C3",
        "%A9",
        "%e9",
        "%zz",
        "%%",
        "a",
        "B.c",
        ".",
        "1",
        "é",
        "☃",
        " ",
        "\x00",
    ]
)


def _forms() -> st.SearchStrategy[str]:
    return st.lists(_FORM_PIECES | st.text(max_size=4), max_size=30).map("".join)


@settings(max_examples=500, deadline=None)
@given(body=_forms(), raw_query=_forms())
def test_form_decoder_matches_parse_qsl(body: str, raw_query: str) -> None:
    expected = _ref_parse_form(body.encode(), raw_query)
    for _ in range(2):  # the second time, from the decoded-value cache
        got = _decoded(body.encode(), raw_query)
        assert got == expected
        assert got is None or list(got) == list(expected or {})


def _decoded(body: bytes, raw_query: str = "") -> dict[str, str] | None:
    try:
        return query.parse_form(body, raw_query)
    except SesError as error:
        if error.message != "The request is not UTF-8 form data.":
            raise
        return None


@given(body=st.binary(max_size=40))
def test_form_decoder_matches_parse_qsl_on_any_bytes(body: bytes) -> None:
    assert _decoded(body) == _ref_parse_form(body)


def test_long_escaped_values_decode_without_being_cached() -> None:
    value = "%41" * (query._UNQUOTED_MAX_LENGTH + 1)
    assert query.parse_form(f"k={value}".encode()) == {"k": "A" * len(value[::3])}
    assert value not in query._UNQUOTED


# --- v1 parsing ---

_V1_INPUT = sorted(n for n, op in V1.operations.items() if op.input is not None)
_JUNK_SUFFIXES = st.sampled_from(
    [
        "",
        ".member",
        ".member.0",
        ".member.1",
        ".member.01",
        ".member.x",
        ".member.2.x",
        ".entry",
        ".entry.1",
        ".entry.1.key",
        ".entry.1.value",
        ".entry.0.key",
        ".x",
        ".",
    ]
)
_JUNK_VALUES = st.sampled_from(
    ["", "x", "0", "-1", "1.5", "true", "FALSE", "nan", "AA==", "!", "2020-01-01T00:00:00", "1e400"]
)


def _form_fields(operation: str, params: Params) -> dict[str, str]:
    request = create_serializer("query", include_validation=False).serialize_to_request(
        params, V1_MODEL.operation_model(operation)
    )
    prepare_request_dict(request, endpoint_url="http://127.0.0.1:1")
    return query.parse_form(create_request_object(request).prepare().body.encode())


def _ref_parse_v1(fields: dict[str, str]) -> Any:
    operation = V1.operations[fields["Action"]]
    assert operation.input is not None
    try:
        return operation, _ref_structure(operation.input, _ref_tree(fields), "")
    except ParseError as exc:
        text = f"Invalid value for parameter {exc.field}: {exc.problem}"
        return ("error", "InvalidParameterValue", text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), name=st.sampled_from(_V1_INPUT))
def test_query_readers_match_the_tree_walk(data: st.DataObject, name: str) -> None:
    shape = V1.operations[name].input
    assert shape is not None
    fields = _form_fields(name, data.draw(values(shape, xml=False)))
    keys = sorted(set(fields) - {"Action", "Version"}) or ["Source"]
    for _ in range(data.draw(st.integers(0, 3))):
        key = data.draw(st.sampled_from(keys))
        cut = data.draw(st.integers(0, key.count(".")))
        stem = ".".join(key.split(".")[: cut + 1])
        fields[stem + data.draw(_JUNK_SUFFIXES)] = data.draw(_JUNK_VALUES)
    fields.update(Action=name, Version="2010-12-01")
    assert _outcome(lambda: query.parse_request(V1, fields)) == _ref_parse_v1(fields)


# --- validation ---


_ENUM = "Member must satisfy enum value set"


def _ref_find_violations(shape: Shape, value: Any) -> list[Violation]:
    found: list[Violation] = []
    _ref_walk(shape, value, (), found)
    return found


_INPUTS = [(V1, n) for n in _V1_INPUT] + [
    (V2, n) for n, op in sorted(V2.operations.items()) if op.input is not None
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), which=st.sampled_from(_INPUTS))
def test_compiled_checks_match_the_value_walk(
    data: st.DataObject, which: tuple[models.ServiceSpec, str]
) -> None:
    spec, name = which
    shape = spec.operations[name].input
    assert shape is not None
    params = data.draw(values(shape, xml=False))  # constraints ignored: violations abound
    # The tree walk predates HANDLER_CHECKED_ENUMS: drop the enum findings those members'
    # handlers report instead.
    skipped = {(m,) for api, op, m in HANDLER_CHECKED_ENUMS if api == spec.api and op == name}
    expected = [
        v
        for v in _ref_find_violations(shape, params)
        if not (v.path in skipped and v.constraint.startswith(_ENUM))
    ]
    assert find_violations(shape, params) == expected


def test_sensitive_values_stay_redacted_in_compiled_checks() -> None:
    shape = V1.operations["SendEmail"].input
    assert shape is not None
    long_tag = {"Name": "n" * 300, "Value": "v"}
    params = {"Tags": [long_tag], "Source": "s", "Destination": {}}
    assert find_violations(shape, params) == _ref_find_violations(shape, params)
    assert _REDACTED  # the reference and the checks share the mask text


# --- v2 parsing ---

_ROUTER = restjson.Router(V2)
_BODY_BINDINGS = {b.operation.name: b for b in _ROUTER.bindings if b.body}
_V2_BODIES = sorted(_BODY_BINDINGS)
_JSON_JUNK = st.sampled_from(
    [None, True, 0, 1.5, 2.0, "x", "AA==", "1700000000", [], {}, ["x"], {"k": "v"}]
)


def _damage(data: st.DataObject, document: Any, depth: int = 0) -> Any:
    if depth < 4 and isinstance(document, dict) and document:
        key = data.draw(st.sampled_from(sorted(document)))
        document[key] = _damage(data, document[key], depth + 1)
        return document
    if depth < 4 and isinstance(document, list) and document:
        index = data.draw(st.integers(0, len(document) - 1))
        document[index] = _damage(data, document[index], depth + 1)
        return document
    return data.draw(_JSON_JUNK)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), name=st.sampled_from(_V2_BODIES), damaged=st.booleans())
def test_json_readers_match_the_value_walk(data: st.DataObject, name: str, damaged: bool) -> None:
    operation = V2.operations[name]
    assert operation.input is not None
    document = _ref_to_json(operation.input, data.draw(values(operation.input, xml=False)))
    if damaged:
        document = _damage(data, document)
    binding = _BODY_BINDINGS[name]
    body = json.dumps(document).encode()
    expected: Any
    if not isinstance(document, dict):
        expected = "not an object"
    else:
        try:
            expected = {
                member.name: _ref_from_json(member.shape, document[member.wire], (member.name,))
                for member in binding.body
                if document.get(member.wire) is not None
            }
        except _ParseError as exc:
            expected = f"Invalid value at '{format_path(exc.path)}': {exc.problem}."
    raw_values = ["p"] * len(binding.path)
    try:
        _, params = restjson.parse_request(binding, raw_values, "", body)
        got: Any = {k: v for k, v in params.items() if k not in {m.name for m in binding.path}}
    except SesError as error:
        got = "not an object" if "must be a JSON object" in error.message else error.message
    assert got == expected


# --- responses ---

_V1_OUTPUT = sorted(n for n, op in V1.operations.items() if op.output is not None)
_V2_OUTPUT = sorted(n for n, op in V2.operations.items() if op.output is not None)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), name=st.sampled_from(_V1_OUTPUT))
def test_xml_writers_match_the_tree_walk(data: st.DataObject, name: str) -> None:
    operation = V1.operations[name]
    assert operation.output is not None
    output = data.draw(values(operation.output, xml=False))
    expected: list[str] = []
    _ref_xml(operation.output, output, expected)
    body = query.serialize_result(V1, operation, output, "r&<1>").body.decode()
    assert "".join(expected) in body
    assert body.endswith(
        f"<RequestId>r&amp;&lt;1&gt;</RequestId></ResponseMetadata></{name}Response>"
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), name=st.sampled_from(_V2_OUTPUT))
def test_json_writers_match_the_tree_walk(data: st.DataObject, name: str) -> None:
    operation = V2.operations[name]
    assert operation.output is not None
    output = data.draw(values(operation.output, xml=False))
    expected = json.dumps(
        _ref_to_json(operation.output, output), ensure_ascii=False, separators=(",", ":")
    ).encode()
    assert restjson.serialize_result(operation, output, "r").body == expected


@given(text=st.text())
def test_xml_text_matches_translating_every_character(text: str) -> None:
    assert query.xml_text(text) == text.translate(_XML_ESCAPES)


def test_reading_the_same_body_twice_gives_equal_independent_fields() -> None:
    body = b"Action=SendEmail&Source=a%40example.com"
    first = query.parse_form(body, "x=1")
    first["Action"] = "changed"
    assert query.parse_form(body, "x=1") == {
        "x": "1",
        "Action": "SendEmail",
        "Source": "a@example.com",
    }
    assert query.parse_form(body, "x=2")["x"] == "2"
    assert query.parse_form(bytes(bytearray(body)))["Action"] == "SendEmail"


@pytest.mark.parametrize(
    "piece", ["%41", "%2B", "%7e", "%C3%A9", "%e2%98%83", "%zz", "%4", "%", "%%41", "é%41", "+"]
)
def test_long_values_decode_like_parse_qsl(piece: str) -> None:
    # Past the cache's length bound, with the ASCII shortcut and each way out of it.
    body = f"k=x{piece * 120}&{piece}=v".encode()
    assert _decoded(body) == _ref_parse_form(body)


def test_two_fields_at_one_list_position_are_a_400_not_a_crash() -> None:
    fields = {
        "Action": "SendEmail",
        "Version": "2010-12-01",
        "Source": "a@example.com",
        "Destination.ToAddresses.member.1": "b@example.com",
        "Destination.ToAddresses.member.01": "c@example.com",
        "Message.Subject.Data": "s",
        "Message.Body.Text.Data": "t",
    }
    with pytest.raises(SesError) as caught:
        query.parse_request(V1, fields)
    wire = caught.value.for_api("v1")
    assert (wire.code, wire.status) == ("InvalidParameterValue", 400)
    assert caught.value.message == (
        "Invalid value for parameter Destination.ToAddresses.member: "
        "list position 1 is given more than once"
    )
