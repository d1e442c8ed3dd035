"""Template rendering (Handlebars as SES uses it), storage rules and the preview MIME text."""

from __future__ import annotations

import email
import json
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.config import Settings
from emulator.ses import templates
from emulator.ses.errors import SesError
from emulator.ses.state import AccountState, Backend, Template
from emulator.ses.templates import Rendered, RenderingError, render


def _text(source: str, data: dict[str, Any]) -> str | None:
    return render(Template(name="T", text=source), json.dumps(data)).text


def _state() -> AccountState:
    return Backend(Settings()).account()


# --- rendering --------------------------------------------------------------------------


def test_variables_and_dotted_paths_are_substituted() -> None:
    assert _text(
        "Hi {{name}}, {{user.address.city}}!",
        {"name": "Ana", "user": {"address": {"city": "Oslo"}}},
    ) == ("Hi Ana, Oslo!")


def test_double_braces_escape_html_and_triple_braces_do_not() -> None:
    data = {"x": "<b>Fish & 'Chips'</b>"}
    assert _text("{{x}}", data) == "&lt;b&gt;Fish &amp; &#x27;Chips&#x27;&lt;/b&gt;"
    assert _text("{{{x}}}", data) == "<b>Fish & 'Chips'</b>"


def test_if_else_and_unless_follow_handlebars_truthiness() -> None:
    source = "{{#if vip}}VIP{{else}}guest{{/if}}/{{#unless items}}empty{{/unless}}"
    assert _text(source, {"vip": True, "items": []}) == "VIP/empty"
    assert _text(source, {"vip": 0, "items": [1]}) == "guest/"
    # A condition on an absent variable takes the else branch rather than failing.
    assert _text("{{#if missing}}a{{else}}b{{/if}}", {}) == "b"


def test_each_exposes_this_and_index() -> None:
    source = "{{#each items}}{{@index}}={{this}};{{/each}}"
    assert _text(source, {"items": ["a", "b", "c"]}) == "0=a;1=b;2=c;"
    people = "{{#each people}}{{name}} is {{#if best}}the best{{else}}a {{type}}{{/if}}, {{/each}}"
    data = {
        "people": [{"name": "bobby", "best": True}, {"name": "pedro", "best": False, "type": "cat"}]
    }
    assert _text(people, data) == "bobby is the best, pedro is a cat, "


def test_with_changes_the_context() -> None:
    assert (
        _text("{{#with user}}{{first}} {{last}}{{/with}}", {"user": {"first": "A", "last": "B"}})
        == "A B"
    )


def test_inline_partials_render() -> None:
    source = '{{#*inline "line"}}- {{this}}\n{{/inline}}{{#each xs}}{{> line}}{{/each}}'
    assert _text(source, {"xs": [1, 2]}) == "- 1\n- 2\n"


def test_every_part_is_rendered_and_absent_parts_stay_none() -> None:
    template = Template(name="T", subject="Hello {{n}}", html="<p>{{n}}</p>")
    assert render(template, '{"n": "Bo"}') == Rendered(
        subject="Hello Bo", text=None, html="<p>Bo</p>"
    )


def test_missing_attribute_names_the_path() -> None:
    with pytest.raises(RenderingError) as caught:
        _text("Dear {{name}}, you like {{favorite.animal}}", {"name": "J", "favorite": {}})
    assert caught.value.kind == "missing-attribute"
    assert (
        caught.value.message == "Attribute 'favorite.animal' is not present in the rendering data."
    )


def test_missing_attribute_inside_each_is_reported() -> None:
    with pytest.raises(RenderingError) as caught:
        _text("{{#each xs}}{{name}}{{/each}}", {"xs": [{"name": "a"}, {}]})
    assert caught.value.kind == "missing-attribute"


@pytest.mark.parametrize("data", ["not json", "[1, 2]", '"text"', "{"])
def test_data_must_be_a_json_object(data: str) -> None:
    with pytest.raises(RenderingError) as caught:
        render(Template(name="T", text="x"), data)
    assert caught.value.kind == "invalid-json"


@pytest.mark.parametrize("source", ["{{#if a}}never closed", "{{name", "{{/each}}", "{{{raw}}"])
def test_syntax_errors_are_invalid_template(source: str) -> None:
    with pytest.raises(RenderingError) as caught:
        render(Template(name="T", text=source), "{}")
    assert caught.value.kind == "invalid-template"


def test_unknown_helper_is_invalid_template() -> None:
    with pytest.raises(RenderingError) as caught:
        _text("{{shout name}}", {"name": "x"})
    assert caught.value.kind == "invalid-template"


@given(st.text(alphabet=st.characters(blacklist_characters="{}\\", codec="utf-8")))
def test_text_without_braces_renders_unchanged(text: str) -> None:
    assert _text(text, {}) == text


@given(
    st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.text(max_size=20), max_size=5)
)
def test_triple_brace_variables_render_their_raw_value(data: dict[str, str]) -> None:
    for key, value in data.items():
        assert _text("{{{" + key + "}}}", data) == value


# --- preview MIME -----------------------------------------------------------------------


def _parse(mime: str) -> EmailMessage:
    msg = email.message_from_string(mime, policy=default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_preview_with_text_and_html_is_multipart_alternative() -> None:
    mime = templates.rendered_mime(
        Rendered(subject="Grüße, J", text="Dear J", html="<h1>J</h1>"), now=0
    )
    assert "\r\n" in mime
    msg = _parse(mime)
    assert msg["Subject"] == "Grüße, J"
    assert msg["MIME-Version"] == "1.0"
    assert msg["Date"] == "Thu, 01 Jan 1970 00:00:00 +0000"
    assert msg.get_content_type() == "multipart/alternative"
    parts = [p for p in msg.iter_parts() if isinstance(p, EmailMessage)]
    assert [(p.get_content_type(), p.get_content().strip()) for p in parts] == [
        ("text/plain", "Dear J"),
        ("text/html", "<h1>J</h1>"),
    ]


def test_preview_with_one_part_is_a_single_body() -> None:
    msg = _parse(templates.rendered_mime(Rendered(subject=None, text=None, html="<b>x</b>"), now=0))
    assert msg["Subject"] is None
    assert msg.get_content_type() == "text/html"
    assert msg.get_content().strip() == "<b>x</b>"


# --- storage ----------------------------------------------------------------------------


def _create(state: AccountState, name: str = "T1", **parts: str | None) -> Template:
    values: dict[str, str | None] = {"subject": "Hi {{n}}", "text": "Dear {{n}}", "html": None}
    values.update(parts)
    return templates.create_template(
        state,
        name=name,
        now=5.0,
        subject=values["subject"],
        text=values["text"],
        html=values["html"],
    )


def test_create_get_update_keep_creation_time() -> None:
    state = _state()
    _create(state)
    updated = templates.update_template(state, name="T1", subject="S", text=None, html="<p/>")
    assert (updated.subject, updated.text, updated.html, updated.created) == (
        "S",
        None,
        "<p/>",
        5.0,
    )
    assert templates.get_template(state, "T1") is updated


def test_duplicate_template_is_already_exists() -> None:
    state = _state()
    _create(state)
    with pytest.raises(SesError) as caught:
        _create(state)
    assert caught.value.for_api("v1").code == "AlreadyExists"
    assert caught.value.for_api("v2").code == "AlreadyExistsException"
    assert caught.value.message == "Template T1 already exists."


def test_unknown_template_is_template_does_not_exist() -> None:
    with pytest.raises(SesError) as caught:
        templates.get_template(_state(), "Nope")
    assert caught.value.message == "Template Nope does not exist."
    assert (caught.value.for_api("v1").code, caught.value.for_api("v1").status) == (
        "TemplateDoesNotExist",
        400,
    )
    assert (caught.value.for_api("v2").code, caught.value.for_api("v2").status) == (
        "NotFoundException",
        404,
    )


def test_template_syntax_is_checked_on_create() -> None:
    with pytest.raises(SesError) as caught:
        _create(_state(), html="{{#each xs}}unclosed")
    assert caught.value.for_api("v1").code == "InvalidTemplate"
    assert caught.value.message.startswith("Template T1 is not valid. Invalid HTML part:")


def test_a_template_needs_a_text_or_html_part() -> None:
    with pytest.raises(SesError) as caught:
        _create(_state(), text=None, html=None)
    assert caught.value.for_api("v1").code == "InvalidParameterValue"


@pytest.mark.parametrize("name", ["has space", "a" * 65, "dot.name", ""])
def test_template_names_follow_the_documented_rule(name: str) -> None:
    with pytest.raises(SesError):
        _create(_state(), name=name)


def test_template_over_500_kb_is_rejected() -> None:
    with pytest.raises(SesError) as caught:
        _create(_state(), text="x" * (templates.MAX_TEMPLATE_BYTES + 1))
    assert caught.value.for_api("v2").code == "BadRequestException"


def test_delete_unknown_succeeds_in_v1_semantics_and_fails_in_v2() -> None:
    state = _state()
    templates.delete_template(state, "Nope", must_exist=False)
    with pytest.raises(SesError) as caught:
        templates.delete_template(state, "Nope", must_exist=True)
    assert caught.value.for_api("v2").status == 404


def test_preview_maps_rendering_errors_to_ses_codes() -> None:
    state = _state()
    _create(state)
    assert "Dear Jo" in templates.preview(state, "T1", '{"n": "Jo"}', now=0)
    with pytest.raises(SesError) as missing:
        templates.preview(state, "T1", "{}", now=0)
    assert missing.value.for_api("v1").code == "MissingRenderingAttribute"
    assert missing.value.message == "Attribute 'n' is not present in the rendering data."
    with pytest.raises(SesError) as invalid:
        templates.preview(state, "T1", "[]", now=0)
    assert invalid.value.for_api("v1").code == "InvalidRenderingParameter"
    assert invalid.value.for_api("v2").code == "BadRequestException"


# --- Handlebars details -----------------------------------------------------------------

DATA: dict[str, Any] = {
    "items": [{"name": "a"}, {"name": "b"}],
    "o": {"x": 1, "y": 2},
    "n": "N",
    "t": True,
    "f": False,
    "zero": 0,
    "empty": None,
    "emptyobj": {},
    "num": 3,
    "fl": 1.0,
    "frac": 2.5,
    "lst": [1, 2],
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Whitespace inside a line is kept; a block tag alone on its line leaves no blank line.
        ("{{#each items}} {{name}},{{/each}}", " a, b,"),
        ("{{#each items}}\n- {{name}}\n{{/each}}\n", "- a\n- b\n"),
        ("A\n  {{#if t}}\n  yes\n  {{/if}}\nB", "A\n  yes\nB"),
        ("A\r\n{{#if t}}\r\nyes\r\n{{/if}}\r\nB", "A\r\nyes\r\nB"),
        ("a   {{~n~}}   b", "aNb"),
        ("a {{! note }} b {{!-- long }} --}} c", "a  b  c"),
        (r"\{{n}} {{n}}", "{{n}} N"),
        # Iteration data and scopes.
        ("{{#each o}}{{@key}}={{this}}{{#unless @last}}&{{/unless}}{{/each}}", "x=1&y=2"),
        ("{{#each items}}{{#if @first}}[{{/if}}{{name}}{{#if @last}}]{{/if}}{{/each}}", "[ab]"),
        ("{{#each items}}{{name}}/{{../n}};{{/each}}", "a/N;b/N;"),
        ("{{#with o}}{{x}}-{{@root.n}}{{/with}}", "1-N"),
        ("{{items.1.name}} {{items.[0].name}} {{o/x}} {{this.n}} {{./n}}", "b a 1 N N"),
        # Conditions: 0, null, [] and "" are falsy, {} is truthy; else-if chains.
        ("{{#if f}}1{{else if t}}2{{else}}3{{/if}}", "2"),
        ("{{#if f}}1{{else if f}}2{{else}}3{{/if}}", "3"),
        ("{{#if zero}}z{{else}}nz{{/if}}{{#with empty}}w{{else}}nw{{/with}}", "nznw"),
        ("{{#if emptyobj}}eo{{/if}}{{#each missing}}x{{else}}none{{/each}}", "eonone"),
        # Mustache-style sections and lookup.
        (
            "{{#o}}{{x}}{{/o}}|{{^f}}nf{{/f}}|{{#t}}T{{n}}{{/t}}|{{#items}}{{name}}{{/items}}",
            "1|nf|TN|ab",
        ),
        ('{{lookup o "y"}}', "2"),
        # Values print as JavaScript prints them.
        (
            "{{num}} {{fl}} {{frac}} {{lst}} {{o}} {{empty}} {{f}}",
            "3 1 2.5 1,2 [object Object]  false",
        ),
        # Inline partials, indented like the standalone tag that calls them.
        (
            '{{#*inline "p"}}<{{name}}>\n{{/inline}}\n{{#each items}}\n  {{> p}}\n{{/each}}',
            "  <a>\n  <b>\n",
        ),
    ],
)
def test_handlebars_semantics(source: str, expected: str) -> None:
    assert _text(source, DATA) == expected


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{#if}}x{{/if}}", "#if requires exactly one argument"),
        ("{{#each items as |i|}}{{i}}{{/each}}", "block parameters are not supported"),
        ("{{foo (bar)}}", "subexpressions"),
        ("{{n}}}", "unbalanced {{{ }}}"),
        ("{{#each items}}{{/if}}", "{{/if}} does not close {{#each}}"),
        ("{{else}}", "{{else}} outside a block"),
        ("{{#if t}}a{{else}}b{{else}}c{{/if}}", "a second {{else}} in {{#if}}"),
        ("{{> nowhere}}", "the partial nowhere could not be found"),
        ('{{#*inline "p"}}{{> p}}{{/inline}}{{> p}}', "partials nested deeper than 64"),
        ("{{#if t}}" * 65 + "{{/if}}" * 65, "blocks nested deeper than 64"),
    ],
)
def test_unsupported_or_broken_templates_are_invalid(source: str, message: str) -> None:
    with pytest.raises(RenderingError) as caught:
        _text(source, DATA)
    assert caught.value.kind == "invalid-template"
    assert message in caught.value.message


def test_quoted_parameters_may_contain_operator_characters() -> None:
    assert _text('{{lookup o "x=y"}}', {"o": {"x=y": 7}}) == "7"
    assert _text('{{#*inline "a(b)"}}X{{/inline}}{{> "a(b)"}}', {}) == "X"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ('{{foo "unclosed}}', 'malformed expression {{foo "unclosed}}'),
        ("{{#if x includeZero=true}}a{{/if}}", "unsupported expression {{#if x includeZero=true}}"),
    ],
)
def test_invalid_expressions_are_named_in_the_message(source: str, message: str) -> None:
    with pytest.raises(RenderingError) as caught:
        _text(source, {"x": 1})
    assert message in caught.value.message


def test_deeply_nested_data_is_invalid_json_not_a_crash() -> None:
    data = "[" * 100_000 + "]" * 100_000
    with pytest.raises(RenderingError) as caught:
        render(Template(name="T", text="x"), '{"a": ' + data + "}")
    assert caught.value.kind == "invalid-json"


def test_recursive_partials_inside_deep_blocks_are_invalid_not_a_crash() -> None:
    source = (
        '{{#*inline "p"}}' + "{{#if t}}" * 60 + "{{> p}}" + "{{/if}}" * 60 + "{{/inline}}{{> p}}"
    )
    with pytest.raises(RenderingError) as caught:
        _text(source, {"t": True})
    assert caught.value.kind == "invalid-template"


# --- parsed data, escaping ----------------------------------------------------------------

_HTML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}
_HTML_ESCAPES |= {"`": "&#x60;", "=": "&#x3D;"}


@given(st.text(max_size=30))
def test_double_brace_variables_escape_exactly_handlebars_characters(value: str) -> None:
    expected = "".join(_HTML_ESCAPES.get(c, c) for c in value)
    assert _text("{{v}}", {"v": value}) == expected


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
        ),
        max_leaves=10,
    )
)
def test_render_data_renders_what_render_renders_from_the_json(value: Any) -> None:
    template = Template(
        name="T", subject="{{v}}", text="{{#each v}}{{@key}}={{this}};{{/each}}", html="{{{v}}}"
    )
    data_json = json.dumps({"v": value})
    assert templates.render_data(template, templates.parse_data(data_json)) == render(
        template, data_json
    )
    assert templates.render_data(template, {"v": value}) == render(template, data_json)


def test_parse_data_refuses_what_render_refuses() -> None:
    with pytest.raises(RenderingError) as caught:
        templates.parse_data("[1]")
    assert (caught.value.kind, caught.value.message) == (
        "invalid-json",
        "Template data must be a JSON object.",
    )


def test_a_syntax_error_in_a_later_part_comes_after_an_earlier_missing_attribute() -> None:
    template = Template(name="T", subject="{{absent}}", text="{{#if}}")
    with pytest.raises(RenderingError) as caught:
        render(template, "{}")
    assert caught.value.message == "Attribute 'absent' is not present in the rendering data."
    with pytest.raises(RenderingError) as caught:
        render(Template(name="T", subject="ok", text="{{#if a}}"), "{}")
    assert caught.value.message == "Invalid text part: unclosed block {{#if}}."


_FLAT_SOURCES = [
    "Hi {{name}}, {{{name}}} & {{&name}}",
    "{{a.b}} {{a/b}} {{[a.b]}} {{0}} {{this.a}} {{@root.a}} {{../a}} {{@index}}",
    '{{"lit"}} {{12}} {{true}} {{null}} {{lookup}} {{a.0}} {{xs.1}}',
]


@pytest.mark.parametrize("source", _FLAT_SOURCES)
@given(
    st.dictionaries(
        st.sampled_from(["name", "a", "a.b", "0", "xs", "lookup", "b"]),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=5),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.sampled_from(["a", "b", "0", "1"]), inner, max_size=3)
            ),
            max_leaves=6,
        ),
        max_size=5,
    )
)
def test_plain_templates_render_as_the_general_walk_does(source: str, data: dict[str, Any]) -> None:
    program = templates._compile(source)
    assert program.flat is not None

    def outcome(flat: bool) -> str:
        scope = templates._Scope([data], {})
        try:
            if flat:
                assert program.flat is not None
                return templates._run_flat(program.flat, program.tail, scope)
            return templates._run(program.nodes, scope, program, 0)
        except templates._MissingAttributeError as exc:
            return f"missing {exc.path}"

    assert outcome(flat=True) == outcome(flat=False)


def test_a_template_with_blocks_is_not_flat() -> None:
    assert templates._compile("{{#if a}}x{{/if}}").flat is None
    assert templates._compile("{{> p}}").flat is None
    assert templates._compile("{{lookup a b}}").flat is None


def test_compiled_template_reports_a_part_s_syntax_error_each_time() -> None:
    compiled = templates.CompiledTemplate(Template(name="T", subject="ok {{a}}", text="{{#if"))
    for _ in range(2):
        with pytest.raises(RenderingError) as caught:
            compiled.render({"a": 1})
        assert caught.value.kind == "invalid-template"
        assert caught.value.message.startswith("Invalid text part: ")


def test_render_parts_are_the_rendered_fields() -> None:
    compiled = templates.CompiledTemplate(
        Template(name="T", subject="S {{a}}", html="<b>{{a}}</b>")
    )
    rendered = compiled.render({"a": "<x>"})
    assert compiled.render_parts({"a": "<x>"}) == (rendered.subject, rendered.text, rendered.html)
    assert rendered == Rendered(subject="S &lt;x&gt;", text=None, html="<b>&lt;x&gt;</b>")
