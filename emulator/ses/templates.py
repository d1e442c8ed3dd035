"""Email templates: storage, and rendering with the Handlebars semantics SES uses.

SES templates are Handlebars templates [D] (ses-spec §2.4). Rendering uses
``dotpromptz-handlebars``, a maintained pure-Python Handlebars implementation that follows
Handlebars.js 4.7, in *strict* mode: printing a variable that is absent from the data is an
error, which is how SES reports ``Attribute 'x' is not present in the rendering data.`` [O].
Supported: ``{{var}}`` (HTML-escaped), ``{{{var}}}`` (raw), dotted paths ``{{a.b}}``,
``{{#if}}…{{else}}…{{/if}}``, ``{{#unless}}``, ``{{#each list}}…{{this}} {{@index}}…{{/each}}``,
``{{#with}}``, comments, whitespace control and inline partials. Escaping applies to every part
(subject, text and HTML), as Handlebars does; ``{{{var}}}`` avoids it.

Contract for the send pipeline: `render` turns a `Template` and its JSON data into a `Rendered`
value or raises `RenderingError` with a ``kind``: ``"invalid-json"`` (data is not a JSON
object), ``"missing-attribute"`` (a printed variable is absent) or ``"invalid-template"``
(syntax). At send time SES accepts the message and records a rendering failure [D];
``TestRenderTemplate`` fails at once (`preview`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate
from functools import lru_cache
from typing import Any, Literal

from dotpromptz_handlebars import Handlebars, StrictModeError

from emulator.ses import errors
from emulator.ses.state import AccountState, Template
from seskit.rules import MAX_TEMPLATE_NAME_LENGTH

__all__ = [
    "MAX_TEMPLATES",
    "MAX_TEMPLATE_BYTES",
    "Rendered",
    "RenderingError",
    "RenderingErrorKind",
    "check_syntax",
    "create_template",
    "delete_template",
    "get_template",
    "list_templates",
    "preview",
    "render",
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

_HANDLEBARS = Handlebars(strict=True)


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


@lru_cache(maxsize=512)
def _compile(source: str) -> Callable[..., str]:
    return _HANDLEBARS.compile(source)


def check_syntax(source: str, *, part: str = "template") -> None:
    """Raise `RenderingError` (``invalid-template``) if ``source`` does not parse."""
    try:
        _compile(source)
    except (ValueError, RecursionError) as exc:
        raise RenderingError(f"Invalid {part}: {exc}.", "invalid-template") from exc


def _parse_data(data_json: str) -> dict[str, Any]:
    try:
        data = json.loads(data_json)
    except ValueError as exc:
        raise RenderingError(f"Template data is not valid JSON: {exc}.", "invalid-json") from exc
    if not isinstance(data, dict):
        raise RenderingError("Template data must be a JSON object.", "invalid-json")
    return data


def _render_part(source: str | None, data: dict[str, Any], part: str) -> str | None:
    if source is None:
        return None
    check_syntax(source, part=part)
    try:
        return _compile(source)(data)
    except StrictModeError as exc:
        # SES's text for a variable missing from the data [O] (ses-spec Appendix A style).
        raise RenderingError(
            f"Attribute '{exc.path}' is not present in the rendering data.",
            "missing-attribute",
        ) from exc
    except (ValueError, RecursionError) as exc:
        # Runtime template errors: unknown helper or partial, #each over a non-list, …
        raise RenderingError(f"Invalid {part}: {exc}.", "invalid-template") from exc


def render(template: Template, data_json: str) -> Rendered:
    """Render every part of ``template`` with the JSON object in ``data_json``.

    >>> t = Template(name="T", subject="Hi {{name}}", text="{{#each xs}}{{this}};{{/each}}")
    >>> render(t, '{"name": "Ana & Bo", "xs": [1, 2]}')
    Rendered(subject='Hi Ana &amp; Bo', text='1;2;', html=None)
    """
    data = _parse_data(data_json)
    return Rendered(
        subject=_render_part(template.subject, data, "subject"),
        text=_render_part(template.text, data, "text part"),
        html=_render_part(template.html, data, "HTML part"),
    )


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
