"""Email templates: storage, and rendering with the Handlebars semantics SES uses.

SES templates are Handlebars templates [D] (ses-spec §2.4). The engine below implements the
subset SES templates use, with Handlebars.js 4 semantics, in *strict* mode: printing a
variable that is absent from the data is an error, which is how SES reports
``Attribute 'x' is not present in the rendering data.`` [O]; conditions and loops over an
absent variable simply take the ``{{else}}`` branch. Supported: ``{{var}}`` (HTML-escaped),
``{{{var}}}`` and ``{{&var}}`` (raw), paths ``{{a.b}}`` / ``{{a/b}}`` / ``{{[a b]}}`` /
``{{../x}}`` / ``{{@root.x}}``, ``{{#if}}…{{else if}}…{{else}}…{{/if}}``, ``{{#unless}}``,
``{{#each list-or-object}}…{{this}} {{@index}} {{@key}} {{@first}} {{@last}}…{{/each}}``,
``{{#with}}``, Mustache-style sections ``{{#name}}`` / ``{{^name}}``, ``{{lookup obj key}}``,
comments, ``\\{{`` escapes, ``~`` whitespace control, standalone lines, and inline partials
(``{{#*inline "p"}}…{{/inline}}`` + ``{{> p}}``). Escaping applies to every part (subject,
text and HTML), as Handlebars does. Other helpers, subexpressions, hash arguments and block
parameters are refused as invalid templates.

Contract for the send pipeline: `render` turns a `Template` and its JSON data into a `Rendered`
value or raises `RenderingError` with a ``kind``: ``"invalid-json"`` (data is not a JSON
object), ``"missing-attribute"`` (a printed variable is absent) or ``"invalid-template"``
(syntax). At send time SES accepts the message and records a rendering failure [D];
``TestRenderTemplate`` fails at once (`preview`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from functools import lru_cache
from typing import Any, Literal

from emulator.ses import errors
from emulator.ses.state import AccountState, Template
from seskit.rules import MAX_TEMPLATE_NAME_LENGTH

__all__ = [
    "MAX_TEMPLATES",
    "MAX_TEMPLATE_BYTES",
    "CompiledTemplate",
    "Rendered",
    "RenderingError",
    "RenderingErrorKind",
    "check_syntax",
    "create_template",
    "delete_template",
    "get_template",
    "list_templates",
    "parse_data",
    "preview",
    "render",
    "render_data",
    "rendered_mime",
    "update_template",
]

# "Email templates per Region: 10,000" (SES quotas page; may be higher now) [D] (ses-spec §2.4).
MAX_TEMPLATES = 10_000
# "Each template can be up to 500 KB in size, including both the text and HTML parts" [D].
MAX_TEMPLATE_BYTES = 500 * 1024
# Template names: letters, digits, underscores and dashes, at most 64 characters [D].
_TEMPLATE_NAME_RE = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_TEMPLATE_NAME_LENGTH}}}")

RenderingErrorKind = Literal["invalid-json", "missing-attribute", "invalid-template"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendered:
    """A template's parts after rendering; a part the template lacks is None."""

    subject: str | None
    text: str | None
    html: str | None


class RenderingError(Exception):
    """A template could not be rendered with the given data.

    ``kind`` says why: ``"invalid-json"``, ``"missing-attribute"`` or ``"invalid-template"``;
    ``message`` is SES's text for it.
    """

    def __init__(self, message: str, kind: RenderingErrorKind) -> None:
        super().__init__(message)
        self.message = message
        self.kind: RenderingErrorKind = kind


# --- Handlebars -------------------------------------------------------------------------
#
# A small Handlebars engine for the subset SES templates use, with Handlebars.js 4 semantics:
# a tokenizer (tags, comments, ``\{{`` escapes, ``~`` whitespace control, "standalone" lines),
# a parser into a tree of text, mustaches, blocks and partials, and a recursive evaluator with
# a context stack (``this``, ``../``, ``@root``, ``@index``/``@key``/``@first``/``@last``).
# Nesting is bounded (`_MAX_DEPTH`) so no template can exhaust the Python stack.

_MAX_DEPTH = 64

_TAG_RE = re.compile(
    r"(?P<escape>\\)?\{\{(?P<lstrip>~)?"
    r"(?:!--(?P<long>.*?)--(?P<r1>~)?\}\}"
    r"|\{(?P<triple>[^{}]*)\}(?P<r2>~)?\}\}"
    r"|(?P<body>[^{}]*?)(?P<r3>~)?\}\})",
    re.S,
)
_PARAM_RE = re.compile(r"\"[^\"]*\"|'[^']*'|(?:[^\s\"'\[\]]+|\[[^\]]*\])+")
_NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?")
_SEGMENT_RE = re.compile(r"\[([^\]]*)\]|([^./\[\]]+)")
_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#x27;",
        "`": "&#x60;",
        "=": "&#x3D;",
    }
)
_MISSING: Any = object()


class _TemplateSyntaxError(Exception):
    """The template cannot be parsed or uses a construct this engine does not support."""


class _MissingAttributeError(Exception):
    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


@dataclass(slots=True)
class _Tag:
    # var (escaped), raw, comment, open, inverse_open, close, else, partial, inline
    kind: str
    name: str = ""
    params: list[str] = field(default_factory=list)
    lstrip: bool = False
    rstrip: bool = False
    indent: str = ""
    path: _Path | None = None  # a variable's name, parsed on first use


@dataclass(slots=True)
class _Block:
    name: str
    params: list[str]
    inverted: bool
    body: list[_Node] = field(default_factory=list)
    inverse: list[_Node] | None = None
    chained: bool = False  # an implicit block opened by ``{{else if …}}``


_Node = str | _Tag | _Block


@dataclass(frozen=True, slots=True)
class _Program:
    nodes: list[_Node]
    partials: dict[str, list[_Node]]
    # Most templates are text and plain variables only: for those, each variable with the text
    # before it, then the text after the last one, so rendering needs no dispatch per node.
    flat: tuple[_FlatVariable, ...] | None = None
    tail: str = ""


# (text before the variable, the variable, its path, the data key when the path is one plain
# name looked up in the data object itself, as ``{{name}}`` is)
_FlatVariable = tuple[str, "_Tag", "_Path", str | None]


def _flatten(nodes: list[_Node]) -> tuple[tuple[_FlatVariable, ...], str] | None:
    """``(each variable with the text before it), text after`` or None."""
    flat: list[_FlatVariable] = []
    text = ""
    for node in nodes:
        if isinstance(node, str):
            text += node
        elif isinstance(node, _Tag) and node.kind in ("var", "raw") and not node.params:
            path = _parse_path(node.name)
            plain = (
                not path.is_literal
                and path.origin == "context"
                and path.depth == 0
                and len(path.segments) == 1
            )
            flat.append((text, node, path, path.segments[0] if plain else None))
            text = ""
        else:
            return None
    return tuple(flat), text


def _split_params(expression: str, *, tag: str) -> list[str]:
    """The space-separated parameters of a tag (``tag`` is its whole text, for messages)."""
    params: list[str] = _PARAM_RE.findall(expression)
    if "".join(params) != "".join(expression.split()):
        raise _TemplateSyntaxError(f"malformed expression {{{{{tag}}}}}")
    for param in params:
        if param[:1] not in "\"'" and any(c in param for c in "()=|"):
            raise _TemplateSyntaxError(
                f"unsupported expression {{{{{tag}}}}}: subexpressions, hash "
                "arguments and block parameters are not supported"
            )
    return params


def _classify(body: str, lstrip: bool, rstrip: bool) -> _Tag:
    text = body.strip()
    if not text:
        raise _TemplateSyntaxError("empty tag {{}}")
    first, rest = text[0], text[1:].strip()
    if first == "!":
        return _Tag("comment", lstrip=lstrip, rstrip=rstrip)
    if text.startswith("#*inline"):
        names = _split_params(text[len("#*inline") :], tag=text)
        if len(names) != 1 or names[0][:1] not in "\"'":
            raise _TemplateSyntaxError("#*inline needs one quoted partial name")
        return _Tag("inline", names[0][1:-1], lstrip=lstrip, rstrip=rstrip)
    if first in "#^" and rest[:1] in ("*", ">"):
        raise _TemplateSyntaxError(f"unsupported block {{{{{text}}}}}")
    if first == "^" and not rest:
        return _Tag("else", lstrip=lstrip, rstrip=rstrip)
    if first in "#^/>&":
        params = _split_params(rest, tag=text)
        if not params:
            raise _TemplateSyntaxError(f"missing name in {{{{{text}}}}}")
        kind = {
            "#": "open",
            "^": "inverse_open",
            "/": "close",
            ">": "partial",
            "&": "raw",
        }[first]
        return _Tag(kind, params[0], params[1:], lstrip, rstrip)
    params = _split_params(text, tag=text)
    if params[0] == "else":
        chained = params[1:]
        return _Tag("else", chained[0] if chained else "", chained[1:], lstrip, rstrip)
    return _Tag("var", params[0], params[1:], lstrip, rstrip)


def _tokenize(source: str) -> list[str | _Tag]:
    """Alternating text and tags: ``[text, tag, text, …, text]`` (texts may be empty)."""
    tokens: list[str | _Tag] = []
    pending = ""  # text since the last tag, escaped ``\{{…}}`` literals included
    position = 0

    def text(segment: str) -> str:
        if "{{" in segment:
            raise _TemplateSyntaxError("unclosed tag")
        return segment

    for match in _TAG_RE.finditer(source):
        pending += text(source[position : match.start()])
        position = match.end()
        if match["escape"]:
            pending += match.group(0)[1:]  # \{{x}} is the literal text {{x}}
            continue
        # Handlebars.js lexes "{{{" and "}}}" as triple-stash delimiters, so an unbalanced one
        # ("{{{x}}", "{{x}}}") is a parse error rather than a brace next to a mustache.
        triple = match["triple"] is not None
        if source[match.start() - 1 : match.start()] == "{" or (
            not triple and source[position : position + 1] == "}"
        ):
            raise _TemplateSyntaxError("unbalanced {{{ }}}")
        tokens.append(pending)
        pending = ""
        lstrip = bool(match["lstrip"])
        if match["long"] is not None:
            tokens.append(_Tag("comment", lstrip=lstrip, rstrip=bool(match["r1"])))
        elif triple:
            tag = _classify(match["triple"], lstrip, bool(match["r2"]))
            if tag.kind != "var":
                raise _TemplateSyntaxError("only a variable may appear in {{{…}}}")
            tag.kind = "raw"
            tokens.append(tag)
        else:
            tokens.append(_classify(match["body"], lstrip, bool(match["r3"])))
    tokens.append(pending + text(source[position:]))
    _drop_standalone_lines(tokens)
    _apply_whitespace_control(tokens)
    return tokens


_STANDALONE_KINDS = frozenset(
    {"comment", "open", "inverse_open", "close", "else", "partial", "inline"}
)


def _drop_standalone_lines(tokens: list[str | _Tag]) -> None:
    """A block tag, comment or partial alone on its line leaves no blank line behind.

    Tokens alternate text, tag, text, …; which tags are standalone is decided on the original
    text first, so removing one tag's line ending never hides that the next one stands alone.
    """
    cuts: dict[int, list[int]] = {}  # text index → [cut from the start, keep up to]
    for index in range(1, len(tokens), 2):
        tag = tokens[index]
        assert isinstance(tag, _Tag)
        if tag.kind not in _STANDALONE_KINDS:
            continue
        before, after = tokens[index - 1], tokens[index + 1]
        assert isinstance(before, str)
        assert isinstance(after, str)
        line_start = before.rfind("\n") + 1
        at_start = index == 1 or line_start > 0
        if not at_start or before[line_start:].strip(" \t"):
            continue
        stripped = after.lstrip(" \t")
        if stripped.startswith("\r\n"):
            cut = len(after) - len(stripped) + 2
        elif stripped.startswith("\n"):
            cut = len(after) - len(stripped) + 1
        elif not stripped and index + 1 == len(tokens) - 1:
            cut = len(after)
        else:
            continue
        if tag.kind == "partial":
            tag.indent = before[line_start:]
        cuts.setdefault(index - 1, [0, len(before)])[1] = line_start
        cuts.setdefault(index + 1, [0, len(after)])[0] = cut
    for index, (start, end) in cuts.items():
        text = tokens[index]
        assert isinstance(text, str)
        tokens[index] = text[start : max(start, end)]


def _apply_whitespace_control(tokens: list[str | _Tag]) -> None:
    for index in range(1, len(tokens), 2):
        tag = tokens[index]
        assert isinstance(tag, _Tag)
        if tag.lstrip:
            before = tokens[index - 1]
            assert isinstance(before, str)
            tokens[index - 1] = before.rstrip()
        if tag.rstrip:
            after = tokens[index + 1]
            assert isinstance(after, str)
            tokens[index + 1] = after.lstrip()


def _parse(source: str) -> _Program:
    root: list[_Node] = []
    stack: list[_Block] = []
    partials: dict[str, list[_Node]] = {}

    def current() -> list[_Node]:
        if not stack:
            return root
        top = stack[-1]
        return top.body if top.inverse is None else top.inverse

    for token in _tokenize(source):
        if isinstance(token, str):
            if token:
                current().append(token)
        elif token.kind in ("open", "inverse_open", "inline"):
            if len(stack) >= _MAX_DEPTH:
                raise _TemplateSyntaxError(f"blocks nested deeper than {_MAX_DEPTH}")
            name = "*inline" if token.kind == "inline" else token.name
            block = _Block(
                name,
                [token.name] if token.kind == "inline" else token.params,
                inverted=token.kind == "inverse_open",
            )
            current().append(block)
            stack.append(block)
        elif token.kind == "else":
            if not stack or stack[-1].name == "*inline":
                raise _TemplateSyntaxError("{{else}} outside a block")
            if stack[-1].inverse is not None:
                raise _TemplateSyntaxError(f"a second {{{{else}}}} in {{{{#{stack[-1].name}}}}}")
            top = stack[-1]
            top.inverse = []
            if token.name:
                chained = _Block(token.name, token.params, inverted=False, chained=True)
                top.inverse.append(chained)
                stack.append(chained)
        elif token.kind == "close":
            while stack and stack[-1].chained:
                stack.pop()
            expected = stack[-1].name.lstrip("*") if stack else None
            if expected != token.name:
                raise _TemplateSyntaxError(
                    f"{{{{/{token.name}}}}} does not close {{{{#{expected}}}}}"
                    if expected
                    else f"unexpected closing tag {token.name}"
                )
            block = stack.pop()
            if block.name == "*inline":
                partials[block.params[0]] = block.body
        elif token.kind != "comment":
            current().append(token)
    if stack:
        raise _TemplateSyntaxError(f"unclosed block {{{{#{stack[-1].name.lstrip('*')}}}}}")
    flattened = _flatten(root)
    if flattened is None:
        return _Program(root, partials)
    return _Program(root, partials, *flattened)


@dataclass(slots=True)
class _Scope:
    contexts: list[Any]  # innermost last; ``../`` steps back one
    data: dict[str, Any]  # @index, @key, @first, @last of the innermost iteration

    def push(self, context: Any, **data: Any) -> _Scope:
        return _Scope([*self.contexts, context], {**self.data, **data})


def _literal(param: str) -> Any:
    if param[:1] in "\"'":
        return param[1:-1]
    if _NUMBER_RE.fullmatch(param):
        return float(param) if "." in param else int(param)
    return {"true": True, "false": False, "null": None, "undefined": None}.get(param, _MISSING)


@dataclass(frozen=True, slots=True)
class _Path:
    """A parsed path expression: where it starts, then the segments to walk."""

    is_literal: bool  # "text", 12, true, null: ``literal`` is the value
    literal: Any
    origin: Literal["context", "root", "data"]
    depth: int  # how many ``../``
    data_name: str  # the @name for origin "data"
    segments: tuple[str, ...]


@lru_cache(maxsize=4096)
def _parse_path(path: str) -> _Path:
    literal = _literal(path)
    if literal is not _MISSING or path in ("null", "undefined"):
        return _Path(True, literal, "context", 0, "", ())
    depth, rest = 0, path
    origin: Literal["context", "root", "data"] = "context"
    data_name = ""
    if rest.startswith("@root"):
        origin, rest = "root", rest[len("@root") :].lstrip("./")
    elif rest.startswith("@"):
        origin = "data"
        data_name, _, rest = rest[1:].partition(".")
    else:
        while rest.startswith("../"):
            depth, rest = depth + 1, rest[3:]
        if rest in ("this", "."):
            rest = ""
        for prefix in ("this.", "this/", "./"):
            if rest.startswith(prefix):
                rest = rest[len(prefix) :]
    segments = tuple(bracketed or plain for bracketed, plain in _SEGMENT_RE.findall(rest))
    return _Path(False, _MISSING, origin, depth, data_name, segments)


def _resolve(path: str, scope: _Scope) -> Any:
    """The value of a path expression, or `_MISSING`."""
    return _resolve_parsed(_parse_path(path), scope)


def _resolve_parsed(parsed: _Path, scope: _Scope) -> Any:
    if parsed.is_literal:
        return parsed.literal
    if parsed.origin == "root":
        context: Any = scope.contexts[0]
    elif parsed.origin == "data":
        context = scope.data.get(parsed.data_name, _MISSING)
    elif parsed.depth >= len(scope.contexts):
        return _MISSING
    else:
        context = scope.contexts[-1 - parsed.depth]
    for segment in parsed.segments:
        if isinstance(context, dict) and segment in context:
            context = context[segment]
        elif isinstance(context, list) and segment.isdigit() and int(segment) < len(context):
            context = context[int(segment)]
        else:
            return _MISSING
    return context


def _is_empty(value: Any) -> bool:
    # Handlebars' falsy values: undefined, null, false, "", 0 and empty arrays ({} is truthy).
    return (
        value is _MISSING
        or value is None
        or value is False
        or value == ""
        or (isinstance(value, int | float) and not isinstance(value, bool) and value == 0)
        or (isinstance(value, list) and not value)
    )


def _to_text(value: Any) -> str:
    """A value printed the way JavaScript's String() prints JSON values."""
    if value is None or value is _MISSING:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, list):
        return ",".join(_to_text(item) for item in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def _one_param(block: _Block) -> str:
    if len(block.params) != 1:
        raise _TemplateSyntaxError(f"#{block.name} requires exactly one argument")
    return block.params[0]


def _iterate(value: Any, block: _Block, scope: _Scope, program: _Program, depth: int) -> str:
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        items = []
    if not items:
        return _run(block.inverse or [], scope, program, depth)
    parts = []
    last = len(items) - 1
    for index, (key, item) in enumerate(items):
        inner = scope.push(item, index=index, key=key, first=index == 0, last=index == last)
        parts.append(_run(block.body, inner, program, depth))
    return "".join(parts)


def _run_block(block: _Block, scope: _Scope, program: _Program, depth: int) -> str:
    name = block.name
    if name == "*inline":
        return ""
    if name in ("if", "unless"):
        truthy = not _is_empty(_resolve(_one_param(block), scope))
        chosen = block.body if truthy == (name == "if") else block.inverse or []
        return _run(chosen, scope, program, depth)
    if name == "each":
        return _iterate(_resolve(_one_param(block), scope), block, scope, program, depth)
    if name == "with":
        value = _resolve(_one_param(block), scope)
        if _is_empty(value):
            return _run(block.inverse or [], scope, program, depth)
        return _run(block.body, scope.push(value), program, depth)
    if block.params:
        raise _TemplateSyntaxError(f'Missing helper: "{name}"')
    # A block named after a value is a Mustache-style section: lists iterate, true renders
    # once, other values become the context, empty values render the {{else}} part.
    value = _resolve(name, scope)
    if block.inverted:
        chosen = block.body if _is_empty(value) else block.inverse or []
        return _run(chosen, scope, program, depth)
    if _is_empty(value):
        return _run(block.inverse or [], scope, program, depth)
    if isinstance(value, list):
        return _iterate(value, block, scope, program, depth)
    inner = scope if value is True else scope.push(value)
    return _run(block.body, inner, program, depth)


def _run_partial(tag: _Tag, scope: _Scope, program: _Program, depth: int) -> str:
    name = tag.name[1:-1] if tag.name[:1] in "\"'" else tag.name
    body = program.partials.get(name)
    if body is None:
        raise _TemplateSyntaxError(f"the partial {name} could not be found")
    if len(tag.params) > 1:
        raise _TemplateSyntaxError(f"partial {name} takes at most one context argument")
    if tag.params:
        scope = scope.push(_resolve(tag.params[0], scope))
    text = _run(body, scope, program, depth + 1)
    if tag.indent:
        text = "".join(tag.indent + line for line in text.splitlines(keepends=True))
    return text


# Any character `_ESCAPES` rewrites: most values have none, and a search is cheaper than
# translating character by character.
_NEEDS_ESCAPE = re.compile(r"[&<>\"'`=]")


def _run(nodes: list[_Node], scope: _Scope, program: _Program, depth: int) -> str:
    if depth > _MAX_DEPTH:
        raise _TemplateSyntaxError(f"partials nested deeper than {_MAX_DEPTH}")
    parts: list[str] = []
    for node in nodes:
        if type(node) is str:
            parts.append(node)
        elif isinstance(node, _Block):
            parts.append(_run_block(node, scope, program, depth))
        elif isinstance(node, _Tag):
            if node.kind == "partial":
                parts.append(_run_partial(node, scope, program, depth))
                continue
            if node.name == "lookup" and len(node.params) == 2:
                container = _resolve(node.params[0], scope)
                key = _to_text(_resolve(node.params[1], scope))
                value = _resolve(f"[{key}]", scope.push(container))
            elif node.params:
                raise _TemplateSyntaxError(f'Missing helper: "{node.name}"')
            else:
                path = node.path
                if path is None:
                    path = node.path = _parse_path(node.name)
                value = _resolve_parsed(path, scope)
                if value is _MISSING:
                    raise _MissingAttributeError(node.name)
            parts.append(_output(value, node.kind))
    return "".join(parts)


def _output(value: Any, kind: str) -> str:
    """A variable's value as written into the output: text, HTML-escaped unless ``{{{raw}}}``."""
    text = value if type(value) is str else _to_text(value)
    if kind != "raw" and _NEEDS_ESCAPE.search(text):
        return text.translate(_ESCAPES)
    return text


def _run_flat(flat: tuple[_FlatVariable, ...], tail: str, scope: _Scope) -> str:
    """`_run` for a program of text and plain variables (`_Program.flat`): the same output."""
    parts: list[str] = []
    top = scope.contexts[-1]
    data = top if isinstance(top, dict) else None
    for before, tag, path, key in flat:
        parts.append(before)
        if key is not None and data is not None:
            value = data.get(key, _MISSING)  # what `_resolve_parsed` finds for one name
        else:
            value = _resolve_parsed(path, scope)
        if value is _MISSING:
            raise _MissingAttributeError(tag.name)
        parts.append(_output(value, tag.kind))
    parts.append(tail)
    return "".join(parts)


@lru_cache(maxsize=512)
def _compile(source: str) -> _Program:
    return _parse(source)


def check_syntax(source: str, *, part: str = "template") -> None:
    """Raise `RenderingError` (``invalid-template``) if ``source`` does not parse."""
    try:
        _compile(source)
    except _TemplateSyntaxError as exc:
        raise RenderingError(f"Invalid {part}: {exc}.", "invalid-template") from exc


def _parse_data(data_json: str) -> dict[str, Any]:
    try:
        data = json.loads(data_json)
    except ValueError as exc:
        raise RenderingError(f"Template data is not valid JSON: {exc}.", "invalid-json") from exc
    except RecursionError as exc:  # e.g. 100,000 nested arrays within the 262,144 characters
        raise RenderingError("Template data is nested too deeply.", "invalid-json") from exc
    if not isinstance(data, dict):
        raise RenderingError("Template data must be a JSON object.", "invalid-json")
    return data


@dataclass(frozen=True, slots=True)
class _CompiledPart:
    """One part of a template, parsed: its program, or the syntax error rendering reports."""

    label: str  # "subject", "text part", "HTML part" (for error texts)
    program: _Program | None = None
    error: _TemplateSyntaxError | None = None  # program and error both None: no such part

    @classmethod
    def of(cls, source: str | None, label: str) -> _CompiledPart:
        if source is None:
            return cls(label)
        try:
            return cls(label, program=_compile(source))
        except _TemplateSyntaxError as exc:
            return cls(label, error=exc)

    def render(self, scope: _Scope) -> str | None:
        program = self.program
        if program is None:
            if self.error is None:
                return None
            # The same text as `check_syntax` gives.
            raise RenderingError(
                f"Invalid {self.label}: {self.error}.", "invalid-template"
            ) from self.error
        try:
            if program.flat is not None:
                return _run_flat(program.flat, program.tail, scope)
            return _run(program.nodes, scope, program, 0)
        except _MissingAttributeError as exc:
            # SES's text for a variable missing from the data [O] (ses-spec §2.4).
            raise RenderingError(
                f"Attribute '{exc.path}' is not present in the rendering data.",
                "missing-attribute",
            ) from exc
        except _TemplateSyntaxError as exc:
            # Runtime template errors: unknown helper or partial, wrong argument count, …
            raise RenderingError(f"Invalid {self.label}: {exc}.", "invalid-template") from exc
        except RecursionError as exc:
            # Nested blocks inside recursive partials can outgrow the stack before either bound.
            raise RenderingError(
                f"Invalid {self.label}: nested too deeply.", "invalid-template"
            ) from exc


class CompiledTemplate:
    """A template's parts parsed once, to render many data objects (a bulk call's entries).

    Rendering gives what `render_data` gives, errors included, in the same order (subject,
    then text, then HTML; a part's syntax error when that part's turn comes).

    >>> compiled = CompiledTemplate(Template(name="T", subject="Hi {{name}}"))
    >>> compiled.render({"name": "Ana"}).subject
    'Hi Ana'
    """

    __slots__ = ("_html", "_subject", "_text")

    def __init__(self, template: Template) -> None:
        self._subject = _CompiledPart.of(template.subject, "subject")
        self._text = _CompiledPart.of(template.text, "text part")
        self._html = _CompiledPart.of(template.html, "HTML part")

    def render(self, data: dict[str, Any]) -> Rendered:
        """Every part rendered with ``data`` (a parsed JSON object, only read)."""
        subject, text, html = self.render_parts(data)
        return Rendered(subject=subject, text=text, html=html)

    def render_parts(self, data: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
        """`render` as a plain ``(subject, text, html)`` tuple, for callers that unpack it."""
        scope = _Scope([data], {})  # rendering never changes a scope: the parts share it
        return self._subject.render(scope), self._text.render(scope), self._html.render(scope)


def render(template: Template, data_json: str) -> Rendered:
    """Render every part of ``template`` with the JSON object in ``data_json``.

    >>> t = Template(name="T", subject="Hi {{name}}", text="{{#each xs}}{{this}};{{/each}}")
    >>> render(t, '{"name": "Ana & Bo", "xs": [1, 2]}')
    Rendered(subject='Hi Ana &amp; Bo', text='1;2;', html=None)
    """
    return render_data(template, parse_data(data_json))


def parse_data(data_json: str) -> dict[str, Any]:
    """The JSON object in ``data_json``, or `RenderingError` (``invalid-json``) as `render` raises.

    >>> parse_data('{"name": "Ana"}')
    {'name': 'Ana'}
    """
    return _parse_data(data_json)


def render_data(template: Template, data: dict[str, Any]) -> Rendered:
    """`render` for data already parsed (what `parse_data` returns); ``data`` is only read.

    >>> render_data(Template(name="T", subject="Hi {{name}}"), {"name": "Ana"}).subject
    'Hi Ana'
    """
    return CompiledTemplate(template).render(data)


def rendered_mime(rendered: Rendered, *, now: float) -> str:
    """The MIME text SES returns from TestRenderTemplate: headers, then the rendered parts.

    Text and HTML together become ``multipart/alternative``; one part alone is the body.
    Lines end in CRLF, as on the wire.
    """
    msg = EmailMessage(policy=SMTP)
    msg["Date"] = formatdate(now, usegmt=True)
    if rendered.subject is not None:
        msg["Subject"] = rendered.subject
    msg["MIME-Version"] = "1.0"
    if rendered.text is not None:
        msg.set_content(rendered.text, subtype="plain", charset="utf-8")
        if rendered.html is not None:
            msg.add_alternative(rendered.html, subtype="html", charset="utf-8")
            for part in msg.iter_parts():
                del part["MIME-Version"]  # the stdlib repeats it on the converted first part
    elif rendered.html is not None:
        msg.set_content(rendered.html, subtype="html", charset="utf-8")
    return msg.as_string()


def _validate(template: Template) -> None:
    if not _TEMPLATE_NAME_RE.fullmatch(template.name):
        raise errors.bad_request(
            f"Invalid template name {template.name}: only alphanumeric ASCII characters, "
            f"'_' and '-' are allowed, up to {MAX_TEMPLATE_NAME_LENGTH} characters."
        )
    if not template.text and not template.html:
        # A template needs a text part, an HTML part or both [D] (ses-spec §2.4).
        raise errors.bad_request("The template must contain a text part or an HTML part.")
    size = sum(
        len((p or "").encode("utf-8")) for p in (template.subject, template.text, template.html)
    )
    if size > MAX_TEMPLATE_BYTES:
        raise errors.bad_request(
            f"Template {template.name} is {size} bytes; the limit is {MAX_TEMPLATE_BYTES} bytes."
        )
    for source, part in (
        (template.subject, "subject"),
        (template.text, "text part"),
        (template.html, "HTML part"),
    ):
        if source is not None:
            try:
                check_syntax(source, part=part)
            except RenderingError as exc:
                raise errors.invalid_template(
                    f"Template {template.name} is not valid. {exc.message}"
                ) from exc


def get_template(state: AccountState, name: str) -> Template:
    """The stored template, or v1 ``TemplateDoesNotExist`` 400 / v2 ``NotFoundException`` 404."""
    template = state.templates.get(name)
    if template is None:
        raise errors.template_does_not_exist(name)
    return template


def create_template(
    state: AccountState,
    *,
    name: str,
    subject: str | None,
    text: str | None,
    html: str | None,
    now: float,
    tags: Sequence[dict[str, str]] = (),
) -> Template:
    """Store a new template (v1 CreateTemplate / v2 CreateEmailTemplate)."""
    template = Template(
        name=name, subject=subject, text=text, html=html, created=now, tags=[dict(t) for t in tags]
    )
    _validate(template)
    with state.lock:
        if name in state.templates:
            raise errors.already_exists(f"Template {name} already exists.")
        if len(state.templates) >= MAX_TEMPLATES:
            raise errors.limit_exceeded(f"Maximum number of templates ({MAX_TEMPLATES}) reached.")
        state.templates[name] = template
    return template


def update_template(
    state: AccountState, *, name: str, subject: str | None, text: str | None, html: str | None
) -> Template:
    """Replace a template's parts, keeping its creation time and tags."""
    current = get_template(state, name)
    updated = Template(
        name=name,
        subject=subject,
        text=text,
        html=html,
        created=current.created,
        tags=current.tags,
    )
    _validate(updated)
    state.templates[name] = updated
    return updated


def delete_template(state: AccountState, name: str, *, must_exist: bool) -> None:
    """Delete a template. v1 succeeds for an unknown name [M][O]; v2 reports it (404)."""
    with state.lock:
        if state.templates.pop(name, None) is None and must_exist:
            raise errors.template_does_not_exist(name)


def list_templates(state: AccountState) -> list[Template]:
    """Templates in creation order."""
    return sorted(state.templates.values(), key=lambda t: t.created)


def preview(state: AccountState, name: str, data_json: str, *, now: float) -> str:
    """TestRenderTemplate / TestRenderEmailTemplate: the rendered MIME text, or SES's error."""
    template = get_template(state, name)
    try:
        rendered = render(template, data_json)
    except RenderingError as exc:
        if exc.kind == "missing-attribute":
            raise errors.missing_rendering_attribute(exc.message) from exc
        raise errors.invalid_rendering_parameter(exc.message) from exc
    return rendered_mime(rendered, now=now)
