"""SES v2, the AWS REST-JSON protocol: method + URI template in, JSON out (ses-spec §1.5–1.6).

Routing matches the method and the URI template against the *raw* request path, split on ``/``
before any percent-decoding, so an identity like ``a/b@example.com`` sent as ``a%2Fb%40…`` stays
one segment; each matched segment is decoded afterwards. Query-string members travel under their
``locationName`` (``Reasons`` is sent as repeated ``Reason=``), body members as JSON; blobs are
base64, timestamps epoch seconds (ISO-8601 in query strings and accepted in bodies).

Errors carry ``x-amzn-ErrorType: <Code>``, ``x-amzn-RequestId`` and a ``{"message": …}`` body.

**Route drift** (ses-spec Appendix C): AWS moved two list operations between botocore releases.
`ALTERNATE_ROUTES` names both spellings of each; whichever the bundled model lacks is served
too, so clients one release older or newer than the installed botocore reach the same handler.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import parse_qsl, unquote

from emulator.jsontext import compact_writer
from emulator.protocols.models import Member, Operation, ServiceSpec, Shape
from emulator.protocols.validate import format_path
from emulator.protocols.wire import REQUEST_ID_HEADER, WireResponse
from emulator.ses.errors import SesError, Wire, bad_request

__all__ = [
    "ALTERNATE_ROUTES",
    "AlternateRoute",
    "Binding",
    "Router",
    "parse_request",
    "serialize_error",
    "serialize_result",
    "unknown_path",
]

Params = dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class AlternateRoute:
    """Another route of an operation, from a botocore release other than the bundled one.

    Members named in ``query`` are read from the query string under their member names; every
    other non-path member comes from the JSON body.
    """

    operation: str
    method: str
    uri: str
    query: tuple[str, ...] = ()
    release: str  # the botocore release whose model uses this route


ALTERNATE_ROUTES: tuple[AlternateRoute, ...] = (
    # botocore <= 1.43.11: listing was a GET with paging in the query string.
    AlternateRoute(
        operation="ListEmailIdentities",
        method="GET",
        uri="/v2/email/identities",
        query=("NextToken", "PageSize"),
        release="1.43.11",
    ),
    AlternateRoute(
        operation="ListConfigurationSets",
        method="GET",
        uri="/v2/email/configuration-sets",
        query=("NextToken", "PageSize"),
        release="1.43.11",
    ),
    # botocore >= 1.44.5 (and the 1.43.117 line): a POST with a JSON body.
    AlternateRoute(
        operation="ListEmailIdentities",
        method="POST",
        uri="/v2/email/list-identities",
        release="1.44.5",
    ),
    AlternateRoute(
        operation="ListConfigurationSets",
        method="POST",
        uri="/v2/email/list-configuration-sets",
        release="1.44.5",
    ),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Binding:
    """How one route carries an operation's members."""

    operation: Operation
    method: str
    uri: str
    path: tuple[Member, ...]  # one per ``{Param}`` segment, in template order
    query: dict[str, Member]  # query-string name -> member
    body: tuple[Member, ...]  # members sent as JSON body fields


@dataclass(slots=True, eq=False)
class _Node:
    literals: dict[str, _Node] = field(default_factory=dict)
    param: _Node | None = None
    methods: dict[str, Binding] = field(default_factory=dict)


def _segments(path: str) -> list[str]:
    # "/v2/email/x/" and "/v2/email/x" are one route; the first "" is the root.
    return path.rstrip("/").split("/")[1:]


def _not_found(path: str) -> SesError:
    text = f"No operation matches the request path {path}."
    return SesError(
        text, v1=Wire("UnknownOperationException", 404), v2=Wire("UnknownOperationException", 404)
    )


class Router:
    """Finds the `Binding` of a request from its method and raw path."""

    def __init__(
        self, spec: ServiceSpec, alternates: Iterable[AlternateRoute] = ALTERNATE_ROUTES
    ) -> None:
        self._root = _Node()
        self.bindings: list[Binding] = []
        for operation in spec.operations.values():
            self._add(self._model_binding(operation))
        for alternate in alternates:
            operation = spec.operations[alternate.operation]
            same_route = (operation.method, operation.uri) == (alternate.method, alternate.uri)
            if not same_route and self._free(alternate.method, alternate.uri):
                self._add(self._alternate_binding(operation, alternate))

    @staticmethod
    def _model_binding(operation: Operation) -> Binding:
        members = operation.input.members.values() if operation.input else ()
        return Binding(
            operation=operation,
            method=operation.method,
            uri=operation.uri,
            path=_path_members(operation, operation.uri),
            query={m.wire: m for m in members if m.location == "querystring"},
            body=tuple(m for m in members if m.location is None),
        )

    @staticmethod
    def _alternate_binding(operation: Operation, route: AlternateRoute) -> Binding:
        members = operation.input.members if operation.input else {}
        missing = [name for name in route.query if name not in members]
        if missing:
            raise ValueError(f"{route}: {operation.name} has no member {missing}")
        path = _path_members(operation, route.uri)
        return Binding(
            operation=operation,
            method=route.method,
            uri=route.uri,
            path=path,
            query={name: members[name] for name in route.query},
            body=tuple(
                m for m in members.values() if m.location != "uri" and m.name not in route.query
            ),
        )

    def _free(self, method: str, uri: str) -> bool:
        node: _Node | None = self._root
        for segment in _segments(uri):
            if node is None:
                return True
            node = node.param if segment.startswith("{") else node.literals.get(segment)
        return node is None or method not in node.methods

    def _add(self, binding: Binding) -> None:
        node = self._root
        for segment in _segments(binding.uri):
            if segment.startswith("{"):
                node.param = node.param or _Node()
                node = node.param
            else:
                node = node.literals.setdefault(segment, _Node())
        if binding.method in node.methods:
            raise ValueError(f"two operations on {binding.method} {binding.uri}")
        node.methods[binding.method] = binding
        self.bindings.append(binding)

    def match(self, method: str, raw_path: str) -> tuple[Binding, list[str]]:
        """The binding and the raw (still percent-encoded) path-parameter values.

        Raises `SesError` ``UnknownOperationException`` 404 when no template matches the path,
        ``MethodNotAllowedException`` 405 when one does but not for this method.
        """
        values: list[str] = []
        node = _match(self._root, _segments(raw_path), 0, values)
        if node is None:
            raise _not_found(raw_path)
        binding = node.methods.get(method)
        if binding is None:
            allowed = ", ".join(sorted(node.methods))
            text = f"The method {method} is not allowed on {raw_path} (allowed: {allowed})."
            wire = Wire("MethodNotAllowedException", 405)
            raise SesError(text, v1=wire, v2=wire)
        return binding, values


def _match(node: _Node, segments: list[str], index: int, values: list[str]) -> _Node | None:
    if index == len(segments):
        return node if node.methods else None
    literal = node.literals.get(segments[index])
    if literal is not None:
        found = _match(literal, segments, index + 1, values)
        if found is not None:
            return found
    if node.param is not None:
        values.append(segments[index])
        found = _match(node.param, segments, index + 1, values)
        if found is not None:
            return found
        values.pop()
    return None


def _path_members(operation: Operation, uri: str) -> tuple[Member, ...]:
    members = operation.input.members if operation.input else {}
    by_wire = {m.wire: m for m in members.values() if m.location == "uri"}
    names = [s[1:-1] for s in _segments(uri) if s.startswith("{")]
    return tuple(by_wire[name] for name in names)


class _ParseError(ValueError):
    def __init__(self, path: tuple[str | int, ...], problem: str) -> None:
        super().__init__(problem)
        # The path innermost-first: the JSON readers raise with an empty path and each level
        # adds its member name or position on the way out, so valid requests build no paths.
        self.parts: list[str | int] = list(reversed(path))
        self.problem = problem

    @property
    def path(self) -> tuple[str | int, ...]:
        return tuple(reversed(self.parts))


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _datetime(value: Any, path: tuple[str | int, ...]) -> datetime:
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            try:
                return datetime.fromtimestamp(float(value), UTC)
            except ValueError:
                parsed = datetime.fromisoformat(value)
                return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise _ParseError(path, "expected a timestamp") from exc
    raise _ParseError(path, f"expected a timestamp, got {_type_name(value)}")


# Each shape compiles once into a reader from its JSON value to the Python value (the type
# checks chosen up front, no dispatch on the shape's type per value).
_JsonReader = Callable[[Any], Any]
_READERS: dict[Shape, _JsonReader] = {}


def _json_reader(shape: Shape) -> _JsonReader:
    read: _JsonReader
    kind = shape.type
    if kind == "structure":
        table: dict[str, tuple[str, _JsonReader]] = {}
        # String members (most of them) by wire name: a string value is taken as it is,
        # without a reader call; any other value goes through the table's reader, which
        # skips a null and refuses the rest exactly as for every member.
        strings: dict[str, str] = {}

        def read(value: Any) -> Any:
            if not isinstance(value, dict):
                raise _ParseError((), f"expected an object, got {_type_name(value)}")
            result: Params = {}
            for key, item in value.items():
                if isinstance(item, str):
                    string_name = strings.get(key)
                    if string_name is not None:
                        result[string_name] = item
                        continue
                entry = table.get(key)
                if entry is not None and item is not None:  # JSON null means absent
                    name, read_member = entry
                    try:
                        result[name] = read_member(item)
                    except _ParseError as exc:
                        exc.parts.append(name)
                        raise
            return result

        _READERS[shape] = read  # before the members: recursive shapes terminate
        for wire, member in shape.by_wire.items():
            table[wire] = (member.name, _READERS.get(member.shape) or _json_reader(member.shape))
            if member.shape.type == "string":
                strings[wire] = member.name
        return read
    if kind in ("list", "map"):
        inner: list[_JsonReader] = []  # the item (list) or value (map) reader, filled below

        def read_list(value: Any) -> Any:
            if not isinstance(value, list):
                raise _ParseError((), f"expected a list, got {_type_name(value)}")
            read_item = inner[0]
            result = []
            for index, item in enumerate(value, start=1):
                try:
                    result.append(read_item(item))
                except _ParseError as exc:
                    exc.parts.append(index)
                    raise
            return result

        def read_map(value: Any) -> Any:
            if not isinstance(value, dict):
                raise _ParseError((), f"expected an object, got {_type_name(value)}")
            read_value = inner[0]
            result: dict[Any, Any] = {}
            for key, item in value.items():
                try:
                    result[key] = read_value(item)
                except _ParseError as exc:
                    exc.parts.append(key)
                    raise
            return result

        def read_string_list(value: Any) -> Any:
            # A list of strings (addresses, mostly): one scan for a non-string, then a copy;
            # anything else is read item by item, which names the first bad position.
            if isinstance(value, list):
                for item in value:
                    if not isinstance(item, str):
                        break
                else:
                    return list(value)
            return read_list(value)

        child = shape.member if kind == "list" else shape.value
        assert child is not None
        if kind == "map":
            read = read_map
        elif child.type == "string":
            read = read_string_list
        else:
            read = read_list
        _READERS[shape] = read
        inner.append(_READERS.get(child) or _json_reader(child))
        return read
    read = _JSON_SCALARS[kind]
    _READERS[shape] = read
    return read


def _json_string(value: Any) -> Any:
    if not isinstance(value, str):
        raise _ParseError((), f"expected a string, got {_type_name(value)}")
    return value


def _json_boolean(value: Any) -> Any:
    if not isinstance(value, bool):
        raise _ParseError((), f"expected a boolean, got {_type_name(value)}")
    return value


def _json_integer(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _ParseError((), f"expected an integer, got {_type_name(value)}")
    return value


def _json_double(value: Any) -> Any:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise _ParseError((), f"expected a number, got {_type_name(value)}")
    return float(value)


def _json_timestamp(value: Any) -> Any:
    return _datetime(value, ())


def _json_blob(value: Any) -> Any:
    if not isinstance(value, str):
        raise _ParseError((), f"expected a base64 string, got {_type_name(value)}")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _ParseError((), "expected a base64 string") from exc


_JSON_SCALARS: dict[str, _JsonReader] = {
    "string": _json_string,
    "boolean": _json_boolean,
    "integer": _json_integer,
    "long": _json_integer,
    "double": _json_double,
    "float": _json_double,
    "timestamp": _json_timestamp,
    "blob": _json_blob,
}


def _from_text(shape: Shape, text: str, path: tuple[str | int, ...]) -> Any:
    """A path or query-string value (always text on the wire)."""
    kind = shape.type
    if kind in ("integer", "long"):
        try:
            return int(text)
        except ValueError as exc:
            raise _ParseError(path, f"'{text}' is not an integer") from exc
    if kind in ("double", "float"):
        try:
            number = float(text)
        except ValueError as exc:
            raise _ParseError(path, f"'{text}' is not a number") from exc
        if not math.isfinite(number):
            raise _ParseError(path, f"'{text}' is not a number")
        return number
    if kind == "boolean":
        if text not in ("true", "false"):
            raise _ParseError(path, f"'{text}' is not true or false")
        return text == "true"
    if kind == "timestamp":
        return _datetime(text, path)
    if kind == "string":
        return text
    raise _ParseError(path, f"a {kind} cannot travel in the URL")


def parse_request(
    binding: Binding, raw_values: list[str], raw_query: str, body: bytes
) -> tuple[Operation, Params]:
    """The params of a matched request (model member names and Python types).

    Raises `SesError` ``BadRequestException`` 400 naming the member for invalid JSON, wrong
    types, bad base64 or undecodable percent-escapes.
    """
    operation = binding.operation
    params: Params = {}
    try:
        for member, raw in zip(binding.path, raw_values, strict=True):
            try:
                text = unquote(raw, errors="strict")
            except UnicodeDecodeError as exc:
                raise _ParseError((member.name,), "not UTF-8 after percent-decoding") from exc
            params[member.name] = _from_text(member.shape, text, (member.name,))
        if raw_query and binding.query:
            for key, text in parse_qsl(raw_query, keep_blank_values=True, errors="strict"):
                bound = binding.query.get(key)
                if bound is None:
                    continue
                if bound.shape.type == "list":
                    assert bound.shape.member is not None
                    items = params.setdefault(bound.name, [])
                    position = (bound.name, len(items) + 1)
                    items.append(_from_text(bound.shape.member, text, position))
                else:
                    params[bound.name] = _from_text(bound.shape, text, (bound.name,))
        if binding.body and body.strip():
            document = _json_document(body)
            for member in binding.body:
                item = document.get(member.wire)
                if item is not None:
                    read = _READERS.get(member.shape) or _json_reader(member.shape)
                    try:
                        params[member.name] = read(item)
                    except _ParseError as exc:
                        exc.parts.append(member.name)
                        raise
    except _ParseError as exc:
        where = format_path(exc.path)
        raise bad_request(f"Invalid value at '{where}': {exc.problem}.") from exc
    except UnicodeDecodeError as exc:
        raise bad_request("The query string is not UTF-8 after percent-decoding.") from exc
    return operation, params


_DECODER: Final = json.JSONDecoder()


def _json_document(body: bytes) -> dict[str, Any]:
    try:
        if body[:2] == b'{"':
            # What json.loads does with these bytes (no byte-order mark, so UTF-8), minus
            # its encoding sniffing and keyword handling.
            document = _DECODER.decode(body.decode("utf-8", "surrogatepass"))
        else:
            document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError
        raise bad_request(f"Could not parse request body into json: {exc}") from exc
    if not isinstance(document, dict):
        text = f"The request body must be a JSON object, got {_type_name(document)}."
        raise bad_request(text)
    return document


def _epoch(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return float(value.timestamp())


_SCALAR_JSON: dict[str, Callable[[Any], Any]] = {
    "string": str,
    "integer": int,
    "long": int,
    "double": float,
    "float": float,
    "boolean": bool,
    "timestamp": _epoch,  # epoch seconds as a JSON number, the rest-json default (§1.5)
    "blob": lambda v: base64.b64encode(v).decode("ascii"),
}


# Each output shape compiles once into a converter to its JSON document.
_JsonWriter = Callable[[Any], Any]
_WRITERS: dict[Shape, _JsonWriter] = {}


def _json_writer(shape: Shape) -> _JsonWriter:
    write: _JsonWriter
    kind = shape.type
    if kind == "structure":
        members: list[tuple[str, str, _JsonWriter]] = []

        def write(value: Any) -> Any:
            document = {}
            for name, wire, write_member in members:
                item = value.get(name)
                if item is not None:
                    document[wire] = write_member(item)
            return document

        _WRITERS[shape] = write  # before the members: recursive shapes terminate
        for name, member in shape.members.items():
            inner = _WRITERS.get(member.shape) or _json_writer(member.shape)
            members.append((name, member.wire, inner))
        return write
    if kind in ("list", "map"):
        items: list[_JsonWriter] = []  # the item (list) or value (map) writer, filled below

        def write_list(value: Any) -> Any:
            write_item = items[0]
            return [write_item(item) for item in value]

        def write_map(value: Any) -> Any:
            write_item = items[0]
            return {key: write_item(item) for key, item in value.items()}

        write = write_list if kind == "list" else write_map
        _WRITERS[shape] = write
        child = shape.member if kind == "list" else shape.value
        assert child is not None
        items.append(_WRITERS.get(child) or _json_writer(child))
        return write
    write = _SCALAR_JSON[kind]
    _WRITERS[shape] = write
    return write


def _to_json(shape: Shape, value: Any) -> Any:
    return (_WRITERS.get(shape) or _json_writer(shape))(value)


def _json_response(status: int, document: dict[str, Any], headers: dict[str, str]) -> WireResponse:
    # The writers above build every container afresh, so a document cannot be circular.
    body = compact_writer(document).encode("utf-8")
    return WireResponse(
        status=status, body=body, headers={"Content-Type": "application/json", **headers}
    )


def serialize_result(operation: Operation, output: Params, request_id: str) -> WireResponse:
    """The 200 response to ``operation``: a JSON object (``{}`` when the output is empty)."""
    document = _to_json(operation.output, output) if operation.output is not None else {}
    return _json_response(200, document, {REQUEST_ID_HEADER: request_id})


def serialize_error(error: SesError, request_id: str) -> WireResponse:
    """The v2 error: status from the error, ``x-amzn-ErrorType`` header, ``{"message": …}``."""
    wire = error.for_api("v2")
    headers = {"x-amzn-ErrorType": wire.code, REQUEST_ID_HEADER: request_id}
    return _json_response(wire.status, {"message": error.message}, headers)


def unknown_path(raw_path: str, request_id: str) -> WireResponse:
    """The JSON 404 for a path no route serves."""
    return serialize_error(_not_found(raw_path), request_id)
