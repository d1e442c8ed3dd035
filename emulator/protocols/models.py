"""botocore's SES service models, compiled once into small trees the protocol layer walks.

botocore ships the models the real clients use: ``ses`` (2010-12-01, query protocol) and
``sesv2`` (2019-09-27, rest-json). `load` reads each once and `compile_service` turns every
shape into a `Shape` node — type, members with their wire names, constraints with patterns
already compiled — so a request costs a walk over plain attributes, never a botocore model
lookup.

The compiler refuses model features neither SES model uses (payload members, flattened lists,
XML attributes, header-bound or greedy members, custom timestamp formats, JSON values): a newer
botocore that starts using one fails loudly at start-up instead of being served wrongly.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from emulator.ses.errors import Api

__all__ = [
    "Member",
    "Operation",
    "ServiceSpec",
    "Shape",
    "ShapeType",
    "UnsupportedModelFeatureError",
    "compile_service",
    "load",
]

ShapeType = Literal[
    "structure",
    "list",
    "map",
    "string",
    "integer",
    "long",
    "boolean",
    "double",
    "float",
    "timestamp",
    "blob",
]
_TYPES = frozenset(ShapeType.__args__)  # type: ignore[attr-defined]  # Literal's members

Location = Literal["uri", "querystring"]

# Keys a shape or member may carry that change nothing on the wire.
_INERT_SHAPE_KEYS = frozenset(
    {
        "type",
        "members",
        "member",
        "key",
        "value",
        "required",
        "min",
        "max",
        "pattern",
        "enum",
        "sensitive",
        "documentation",
        "exception",
        "error",
        "fault",
        "deprecated",
        "deprecatedMessage",
        "box",
        "retryable",
        "synthetic",
        "union",
        "idempotencyToken",
        "wrapper",
        "xmlOrder",
        "tags",
    }
)
_INERT_MEMBER_KEYS = frozenset(
    {
        "shape",
        "documentation",
        "location",
        "locationName",
        "contextParam",
        "deprecated",
        "deprecatedMessage",
        "idempotencyToken",
        "box",
    }
)


class UnsupportedModelFeatureError(RuntimeError):
    """The model uses a wire feature this compiler does not implement."""

    def __init__(self, service: str, where: str, feature: str) -> None:
        super().__init__(f"{service}: {where} uses {feature!r}, which the emulator cannot serve")
        self.service = service
        self.where = where
        self.feature = feature


@dataclass(slots=True, kw_only=True, eq=False)
class Shape:
    """One compiled model shape. Mutable only while compiling (shapes may refer to themselves)."""

    name: str
    type: ShapeType
    # structure
    members: dict[str, Member] = field(default_factory=dict)
    by_wire: dict[str, Member] = field(default_factory=dict)  # members by their wire name
    required: tuple[str, ...] = ()
    # list / map
    member: Shape | None = None
    key: Shape | None = None
    value: Shape | None = None
    # constraints (Smithy length/range traits; botocore checks only `min` and required)
    min: int | float | None = None
    max: int | float | None = None
    pattern: re.Pattern[str] | None = None
    enum: frozenset[str] | None = None
    enum_text: str = ""  # "[A, B]" in model order, as Coral prints it
    sensitive: bool = False
    union: bool = False  # a structure with exactly one member set (Smithy union)


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    """A member of a structure: the model name, its name on the wire and where it travels."""

    name: str
    wire: str  # locationName if the model gives one, else the member name
    location: Location | None  # None: body (rest-json) or form field (query)
    shape: Shape
    camel: str  # the member name as Coral's validation messages spell it (lowerCamelCase)


@dataclass(frozen=True, slots=True, kw_only=True)
class Operation:
    """One operation, ready for both directions of the wire."""

    name: str
    api: Api
    input: Shape | None
    output: Shape | None
    result_wrapper: str | None  # v1: the <OpResult> element; None when there is no output
    method: str
    uri: str  # v2: the request URI template


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceSpec:
    """A compiled service model."""

    service: str
    api: Api
    api_version: str
    xml_namespace: str | None
    operations: Mapping[str, Operation]
    skipped_patterns: tuple[tuple[str, str], ...]  # (shape, pattern) Python's `re` rejects


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


class _Compiler:
    def __init__(self, service: str, shapes: Mapping[str, Any]) -> None:
        self.service = service
        self.raw = shapes
        self.done: dict[str, Shape] = {}
        self.skipped: list[tuple[str, str]] = []

    def refuse(self, where: str, feature: str) -> UnsupportedModelFeatureError:
        return UnsupportedModelFeatureError(self.service, where, feature)

    def shape(self, name: str) -> Shape:
        compiled = self.done.get(name)
        if compiled is not None:
            return compiled
        raw = self.raw[name]
        kind = raw["type"]
        if kind not in _TYPES:
            raise self.refuse(name, f"type {kind}")
        for key in raw:
            if key not in _INERT_SHAPE_KEYS:
                raise self.refuse(name, key)
        node = Shape(
            name=name,
            type=kind,
            sensitive=bool(raw.get("sensitive", False)),
            union=bool(raw.get("union", False)),
        )
        self.done[name] = node  # registered before its members: recursive shapes terminate
        node.min = raw.get("min")
        node.max = raw.get("max")
        if "enum" in raw:
            node.enum = frozenset(raw["enum"])
            node.enum_text = "[" + ", ".join(raw["enum"]) + "]"
        if "pattern" in raw:
            try:
                # Coral matches the whole value (Java's Pattern.matches); Java's \w, \d and \s
                # are ASCII-only, so re.ASCII keeps the classes the same.
                node.pattern = re.compile(raw["pattern"], re.ASCII)
            except re.error:
                self.skipped.append((name, raw["pattern"]))
        if kind == "structure":
            node.required = tuple(raw.get("required", ()))
            node.members = {m: self.member(name, m, spec) for m, spec in raw["members"].items()}
            node.by_wire = {member.wire: member for member in node.members.values()}
        elif kind == "list":
            self.check_member(name, "member", raw["member"])
            node.member = self.shape(raw["member"]["shape"])
        elif kind == "map":
            self.check_member(name, "key", raw["key"])
            self.check_member(name, "value", raw["value"])
            node.key = self.shape(raw["key"]["shape"])
            node.value = self.shape(raw["value"]["shape"])
        return node

    def check_member(self, owner: str, member: str, spec: Mapping[str, Any]) -> None:
        for key in spec:
            if key not in _INERT_MEMBER_KEYS:
                raise self.refuse(f"{owner}.{member}", key)

    def member(self, owner: str, name: str, spec: Mapping[str, Any]) -> Member:
        self.check_member(owner, name, spec)
        location = spec.get("location")
        if location not in (None, "uri", "querystring"):
            raise self.refuse(f"{owner}.{name}", f"location {location}")
        return Member(
            name=name,
            wire=spec.get("locationName", name),
            location=location,
            shape=self.shape(spec["shape"]),
            camel=_camel(name),
        )


def compile_service(model: Mapping[str, Any], *, service: str, api: Api) -> ServiceSpec:
    """Compile a service model (the JSON botocore ships, as a dict) into a `ServiceSpec`."""
    compiler = _Compiler(service, model["shapes"])
    operations: dict[str, Operation] = {}
    for name, raw in model["operations"].items():
        for key in ("input", "output"):
            ref = raw.get(key)
            extra = set(ref or ()) - {"shape", "resultWrapper", "documentation"}
            if extra:
                raise compiler.refuse(f"{name}.{key}", ",".join(sorted(extra)))
        input_ref = raw.get("input")
        output_ref = raw.get("output")
        http = raw.get("http", {})
        uri = http.get("requestUri", "/")
        if "?" in uri or "+}" in uri:
            raise compiler.refuse(f"{name}.http", f"requestUri {uri}")
        operations[name] = Operation(
            name=name,
            api=api,
            input=compiler.shape(input_ref["shape"]) if input_ref else None,
            output=compiler.shape(output_ref["shape"]) if output_ref else None,
            result_wrapper=output_ref.get("resultWrapper") if output_ref else None,
            method=http.get("method", "POST"),
            uri=uri,
        )
    for node in compiler.done.values():
        for member in node.members.values():
            if member.location is not None and api == "v1":
                raise compiler.refuse(f"{node.name}.{member.name}", f"location {member.location}")
    metadata = model["metadata"]
    return ServiceSpec(
        service=service,
        api=api,
        api_version=metadata["apiVersion"],
        xml_namespace=metadata.get("xmlNamespace"),
        operations=operations,
        skipped_patterns=tuple(compiler.skipped),
    )


@functools.cache
def load(api: Api) -> ServiceSpec:
    """The compiled model of SES v1 (``ses``) or v2 (``sesv2``) bundled with botocore (cached)."""
    service = "ses" if api == "v1" else "sesv2"
    version = "2010-12-01" if api == "v1" else "2019-09-27"
    return compile_service(_bundled_model(service, version), service=service, api=api)


def _bundled_model(service: str, version: str) -> dict[str, Any]:
    """botocore's bundled ``service-2`` model, read from its data directory.

    Read directly rather than through ``botocore.loaders``, whose import (urllib3 and most of
    botocore) cost about 75 ms of the emulator's start; botocore itself is not imported.
    """
    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("botocore is not installed; the emulator reads its SES models")
    folder = Path(next(iter(spec.submodule_search_locations)), "data", service, version)
    compressed = folder / "service-2.json.gz"
    if compressed.exists():  # botocore >= 1.32 ships its models gzipped
        with gzip.open(compressed, "rb") as stream:
            model: dict[str, Any] = json.load(stream)
            return model
    with open(folder / "service-2.json", "rb") as stream:
        model = json.load(stream)
        return model
