"""Round trips against botocore itself, over every operation of both models.

Requests: botocore's own serializers encode random params exactly as boto3 puts them on the
wire; our parsers must recover the same params. Responses: our serializers encode random
outputs; botocore's own parsers must read back the same values. Params are drawn by
hypothesis from the compiled model shapes, so every shape of both models is exercised.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import botocore.session
import pytest
from botocore.awsrequest import HeadersDict, create_request_object, prepare_request_dict
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.protocols import models, query, restjson
from emulator.protocols.models import Shape
from emulator.ses.errors import SesError, Wire

SESSION = botocore.session.get_session()
V1_MODEL = SESSION.get_service_model("ses")
V2_MODEL = SESSION.get_service_model("sesv2")
V1 = models.load("v1")
V2 = models.load("v2")
ROUTER = restjson.Router(V2)

# XML 1.0 cannot carry these at all (query.xml_text replaces them), so responses avoid them.
_XML_SAFE = st.characters(
    exclude_categories=["Cs", "Cc"], exclude_characters="\ufffe\uffff"
) | st.sampled_from("\t\n\r")


def _text(*, xml: bool, min_size: int = 0) -> st.SearchStrategy[str]:
    return st.text(
        alphabet=_XML_SAFE if xml else st.characters(exclude_categories=["Cs"]),
        min_size=min_size,
        max_size=12,
    )


def _timestamps(*, millis: bool) -> st.SearchStrategy[datetime]:
    base = st.datetimes(
        min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    )
    if millis:
        return base.map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))
    return base.map(lambda d: d.replace(microsecond=0))


def values(shape: Shape, *, xml: bool, depth: int = 0) -> st.SearchStrategy[Any]:
    """Any value of ``shape`` (constraints ignored: the round trip is about encoding)."""
    kind = shape.type
    if kind == "structure":
        if depth > 5:
            return st.just({})
        optional = {
            name: values(m.shape, xml=xml, depth=depth + 1) for name, m in shape.members.items()
        }
        if shape.union:  # exactly one member set, or botocore refuses the response
            return st.one_of([st.fixed_dictionaries({n: s}) for n, s in optional.items()])
        structures = st.fixed_dictionaries({}, optional=optional)
        # A nested structure with nothing in it sends nothing in a form body; keep one member.
        return structures.filter(bool) if depth and optional else structures
    if kind == "list":
        assert shape.member is not None
        return st.lists(values(shape.member, xml=xml, depth=depth + 1), max_size=3)
    if kind == "map":
        assert shape.key is not None
        assert shape.value is not None
        return st.dictionaries(
            _text(xml=xml, min_size=1), values(shape.value, xml=xml, depth=depth + 1), max_size=3
        )
    return {
        "string": _text(xml=xml),
        "integer": st.integers(-(2**31), 2**31 - 1),
        "long": st.integers(-(2**53), 2**53),
        "boolean": st.booleans(),
        "double": st.floats(allow_nan=False, allow_infinity=False),
        "float": st.floats(allow_nan=False, allow_infinity=False),
        "timestamp": _timestamps(millis=xml),
        "blob": st.binary(max_size=24),
    }[kind]


def normalize(value: Any) -> Any:
    """Drop what the wire cannot distinguish from absence (empty structures) and compare
    timestamps as instants."""
    if isinstance(value, dict):
        out = {k: normalize(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v != {}}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if isinstance(value, datetime):
        return value.timestamp()
    return value


def _uri_values(shape: Shape) -> dict[str, st.SearchStrategy[Any]]:
    # A path segment cannot be empty or a dot segment: URL normalisation would eat it.
    segment = _text(xml=False, min_size=1).filter(lambda s: s.strip(".") != "")
    return {m.name: segment for m in shape.members.values() if m.location == "uri"}


def _request_params(operation: models.Operation) -> st.SearchStrategy[dict[str, Any]]:
    assert operation.input is not None
    shape = operation.input
    strategies = {n: values(m.shape, xml=False) for n, m in shape.members.items()}
    for name, member in shape.members.items():
        if member.location == "querystring" and member.shape.type == "list":
            # An empty list sends no query parameter at all: absent and [] look the same.
            strategies[name] = strategies[name].filter(bool)
    required = _uri_values(shape)
    optional = {n: s for n, s in strategies.items() if n not in required}
    return st.fixed_dictionaries(required, optional=optional)


V1_WITH_INPUT = sorted(n for n, op in V1.operations.items() if op.input is not None)
V2_WITH_INPUT = sorted(n for n, op in V2.operations.items() if op.input is not None)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), name=st.sampled_from(V1_WITH_INPUT))
def test_query_parser_recovers_what_botocore_serializes(data: st.DataObject, name: str) -> None:
    operation = V1.operations[name]
    params = data.draw(_request_params(operation))
    request = create_serializer("query", include_validation=False).serialize_to_request(
        params, V1_MODEL.operation_model(name)
    )
    prepare_request_dict(request, endpoint_url="http://127.0.0.1:1")
    prepared = create_request_object(request).prepare()
    parsed_op, parsed = query.parse_request(V1, query.parse_form(prepared.body.encode()))
    assert parsed_op is operation
    assert normalize(parsed) == normalize(params)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), name=st.sampled_from(V2_WITH_INPUT))
def test_restjson_parser_recovers_what_botocore_serializes(data: st.DataObject, name: str) -> None:
    operation = V2.operations[name]
    params = data.draw(_request_params(operation))
    request = create_serializer("rest-json", include_validation=False).serialize_to_request(
        params, V2_MODEL.operation_model(name)
    )
    prepare_request_dict(request, endpoint_url="http://127.0.0.1:1")
    prepared = create_request_object(request).prepare()
    url = urlsplit(prepared.url)
    binding, raw_values = ROUTER.match(prepared.method, url.path)
    body = prepared.body or b""
    parsed_op, parsed = restjson.parse_request(
        binding, raw_values, url.query, body.encode() if isinstance(body, str) else body
    )
    assert parsed_op is operation
    assert normalize(parsed) == normalize(params)


V1_WITH_OUTPUT = sorted(n for n, op in V1.operations.items() if op.output is not None)
V2_WITH_OUTPUT = sorted(n for n, op in V2.operations.items() if op.output is not None)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), name=st.sampled_from(V1_WITH_OUTPUT))
def test_botocore_parses_our_query_responses(data: st.DataObject, name: str) -> None:
    operation = V1.operations[name]
    assert operation.output is not None
    output = data.draw(values(operation.output, xml=True))
    wire = query.serialize_result(V1, operation, output, "req-1")
    parsed = create_parser("query").parse(
        {"status_code": wire.status, "headers": HeadersDict(wire.headers), "body": wire.body},
        V1_MODEL.operation_model(name).output_shape,
    )
    assert parsed.pop("ResponseMetadata")["RequestId"] == "req-1"
    assert normalize(parsed) == normalize(output)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), name=st.sampled_from(V2_WITH_OUTPUT))
def test_botocore_parses_our_restjson_responses(data: st.DataObject, name: str) -> None:
    operation = V2.operations[name]
    assert operation.output is not None
    output = data.draw(values(operation.output, xml=False))
    wire = restjson.serialize_result(operation, output, "req-2")
    parsed = create_parser("rest-json").parse(
        {"status_code": wire.status, "headers": HeadersDict(wire.headers), "body": wire.body},
        V2_MODEL.operation_model(name).output_shape,
    )
    assert parsed.pop("ResponseMetadata")["RequestId"] == "req-2"
    assert normalize(parsed) == normalize(output)


@pytest.mark.parametrize("name", sorted(n for n, op in V1.operations.items() if op.output is None))
def test_query_operations_without_output_parse_with_only_response_metadata(name: str) -> None:
    wire = query.serialize_result(V1, V1.operations[name], {}, "req-3")
    assert b"Result" not in wire.body
    parsed = create_parser("query").parse(
        {"status_code": 200, "headers": HeadersDict(wire.headers), "body": wire.body},
        V1_MODEL.operation_model(name).output_shape,
    )
    assert parsed["ResponseMetadata"]["RequestId"] == "req-3"


@given(message=_text(xml=True, min_size=1), status=st.sampled_from([400, 404, 409, 429, 500, 501]))
def test_botocore_reads_code_message_and_type_of_our_query_errors(
    message: str, status: int
) -> None:
    error = SesError(message, v1=Wire("TemplateDoesNotExist", status), v2=Wire("X", status))
    wire = query.serialize_error(V1, error, "req-4")
    parsed = create_parser("query").parse(
        {"status_code": wire.status, "headers": HeadersDict(wire.headers), "body": wire.body}, None
    )
    assert wire.status == status
    assert parsed["Error"] == {
        "Type": "Sender" if status < 500 else "Receiver",
        "Code": "TemplateDoesNotExist",
        "Message": message,
    }
    assert parsed["ResponseMetadata"]["RequestId"] == "req-4"


@given(message=_text(xml=False, min_size=1), status=st.sampled_from([400, 404, 409, 429, 500, 501]))
def test_botocore_reads_code_and_message_of_our_restjson_errors(message: str, status: int) -> None:
    error = SesError(message, v1=Wire("X", status), v2=Wire("NotFoundException", status))
    wire = restjson.serialize_error(error, "req-5")
    parsed = create_parser("rest-json").parse(
        {"status_code": wire.status, "headers": HeadersDict(wire.headers), "body": wire.body}, None
    )
    assert wire.status == status
    assert parsed["Error"]["Code"] == "NotFoundException"
    assert parsed["Error"]["Message"] == message
    assert parsed["ResponseMetadata"]["RequestId"] == "req-5"
