"""Templates through real boto3 ``ses`` and ``sesv2`` clients: storage, sharing, TestRender*."""

from __future__ import annotations

import email
import json
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.client_errors import error_of

TEMPLATE = {
    "TemplateName": "Welcome",
    "SubjectPart": "Greetings, {{name}}!",
    "TextPart": "Dear {{name}},\r\nYour favorite animal is {{favoriteanimal}}.",
    "HtmlPart": "<h1>Hello {{name}},</h1><p>Your favorite animal is {{favoriteanimal}}.</p>",
}


def _mime(text: str) -> EmailMessage:
    msg = email.message_from_string(text, policy=default)
    assert isinstance(msg, EmailMessage)
    return msg


# --- v1 ---------------------------------------------------------------------------------


def test_v1_create_get_update_delete_template(ses: Any) -> None:
    ses.create_template(Template=TEMPLATE)
    assert ses.get_template(TemplateName="Welcome")["Template"] == TEMPLATE
    ses.update_template(Template={"TemplateName": "Welcome", "HtmlPart": "<p>{{x}}</p>"})
    assert ses.get_template(TemplateName="Welcome")["Template"] == {
        "TemplateName": "Welcome",
        "HtmlPart": "<p>{{x}}</p>",
    }
    ses.delete_template(TemplateName="Welcome")
    with pytest.raises(ses.exceptions.TemplateDoesNotExistException) as caught:
        ses.get_template(TemplateName="Welcome")
    assert error_of(caught) == ("TemplateDoesNotExist", 400, "Template Welcome does not exist.")


def test_v1_delete_unknown_template_succeeds(ses: Any) -> None:
    response = ses.delete_template(TemplateName="never-existed")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_v1_duplicate_template_is_already_exists(ses: Any) -> None:
    ses.create_template(Template=TEMPLATE)
    with pytest.raises(ses.exceptions.AlreadyExistsException) as caught:
        ses.create_template(Template=TEMPLATE)
    assert error_of(caught) == ("AlreadyExists", 400, "Template Welcome already exists.")


def test_v1_update_unknown_template_is_template_does_not_exist(ses: Any) -> None:
    with pytest.raises(ses.exceptions.TemplateDoesNotExistException) as caught:
        ses.update_template(Template={**TEMPLATE, "TemplateName": "Ghost"})
    assert error_of(caught) == ("TemplateDoesNotExist", 400, "Template Ghost does not exist.")


def test_v1_bad_syntax_is_invalid_template(ses: Any) -> None:
    with pytest.raises(ses.exceptions.InvalidTemplateException) as caught:
        ses.create_template(Template={"TemplateName": "Bad", "TextPart": "{{#if x}}open"})
    assert error_of(caught) == (
        "InvalidTemplate",
        400,
        "Template Bad is not valid. Invalid text part: unclosed block {{#if}}.",
    )


def test_v1_template_without_text_or_html_is_invalid_parameter(ses: Any) -> None:
    with pytest.raises(ClientError) as caught:
        ses.create_template(Template={"TemplateName": "Empty", "SubjectPart": "s"})
    assert error_of(caught) == (
        "InvalidParameterValue",
        400,
        "The template must contain a text part or an HTML part.",
    )


def test_v1_list_templates_pages_by_max_items(ses: Any) -> None:
    names = [f"T{i}" for i in range(12)]
    for name in names:
        ses.create_template(Template={"TemplateName": name, "TextPart": "x"})
    first = ses.list_templates()  # default MaxItems is 10
    assert [t["Name"] for t in first["TemplatesMetadata"]] == names[:10]
    assert all(t["CreatedTimestamp"].tzinfo is not None for t in first["TemplatesMetadata"])
    rest = ses.list_templates(NextToken=first["NextToken"], MaxItems=5)
    assert [t["Name"] for t in rest["TemplatesMetadata"]] == names[10:]
    assert "NextToken" not in rest


def test_v1_test_render_template_returns_mime(ses: Any) -> None:
    ses.create_template(Template=TEMPLATE)
    rendered = ses.test_render_template(
        TemplateName="Welcome",
        TemplateData=json.dumps({"name": "John <j>", "favoriteanimal": "Lion"}),
    )["RenderedTemplate"]
    msg = _mime(rendered)
    assert msg["Subject"] == "Greetings, John &lt;j&gt;!"
    assert msg.get_content_type() == "multipart/alternative"
    text, html = (p for p in msg.iter_parts() if isinstance(p, EmailMessage))
    assert text.get_content() == "Dear John &lt;j&gt;,\r\nYour favorite animal is Lion.\r\n"
    assert html.get_content_type() == "text/html"
    assert "<h1>Hello John &lt;j&gt;,</h1>" in html.get_content()


def test_v1_test_render_handlebars_blocks(ses: Any) -> None:
    html = "{{#each items}} {{name}} is {{#if best}}the best{{else}}a {{type}}{{/if}},{{/each}}"
    ses.create_template(Template={"TemplateName": "MTT", "SubjectPart": "..", "HtmlPart": html})
    data = {
        "items": [
            {"type": "dog", "name": "bobby", "best": True},
            {"type": "cat", "name": "pedro", "best": False},
        ]
    }
    rendered = ses.test_render_template(TemplateName="MTT", TemplateData=json.dumps(data))
    body = _mime(rendered["RenderedTemplate"]).get_content()
    assert body.strip() == "bobby is the best, pedro is a cat,"


def test_v1_test_render_missing_attribute(ses: Any) -> None:
    ses.create_template(Template=TEMPLATE)
    with pytest.raises(ses.exceptions.MissingRenderingAttributeException) as caught:
        ses.test_render_template(TemplateName="Welcome", TemplateData='{"name": "John"}')
    assert error_of(caught) == (
        "MissingRenderingAttribute",
        400,
        "Attribute 'favoriteanimal' is not present in the rendering data.",
    )


def test_v1_test_render_data_must_be_a_json_object(ses: Any) -> None:
    ses.create_template(Template=TEMPLATE)
    with pytest.raises(ses.exceptions.InvalidRenderingParameterException) as caught:
        ses.test_render_template(TemplateName="Welcome", TemplateData="[1, 2]")
    assert error_of(caught) == (
        "InvalidRenderingParameter",
        400,
        "Template data must be a JSON object.",
    )


def test_v1_test_render_unknown_template(ses: Any) -> None:
    with pytest.raises(ses.exceptions.TemplateDoesNotExistException) as caught:
        ses.test_render_template(TemplateName="Ghost", TemplateData="{}")
    assert error_of(caught) == ("TemplateDoesNotExist", 400, "Template Ghost does not exist.")


# --- v2 ---------------------------------------------------------------------------------


def test_v2_create_get_update_delete_email_template(sesv2: Any) -> None:
    content = {"Subject": "Hi {{n}}", "Text": "T {{n}}", "Html": "<b>{{n}}</b>"}
    sesv2.create_email_template(
        TemplateName="W", TemplateContent=content, Tags=[{"Key": "k", "Value": "v"}]
    )
    got = sesv2.get_email_template(TemplateName="W")
    assert (got["TemplateName"], got["TemplateContent"], got["Tags"]) == (
        "W",
        content,
        [{"Key": "k", "Value": "v"}],
    )
    sesv2.update_email_template(TemplateName="W", TemplateContent={"Text": "only {{n}}"})
    assert sesv2.get_email_template(TemplateName="W")["TemplateContent"] == {"Text": "only {{n}}"}
    sesv2.delete_email_template(TemplateName="W")
    with pytest.raises(sesv2.exceptions.NotFoundException) as caught:
        sesv2.get_email_template(TemplateName="W")
    assert error_of(caught) == ("NotFoundException", 404, "Template W does not exist.")


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.delete_email_template(TemplateName="Ghost"),
        lambda c: c.update_email_template(TemplateName="Ghost", TemplateContent={"Text": "x"}),
        lambda c: c.test_render_email_template(TemplateName="Ghost", TemplateData="{}"),
    ],
    ids=["delete", "update", "render"],
)
def test_v2_unknown_template_is_not_found(sesv2: Any, call: Any) -> None:
    with pytest.raises(sesv2.exceptions.NotFoundException) as caught:
        call(sesv2)
    assert error_of(caught) == ("NotFoundException", 404, "Template Ghost does not exist.")


def test_v2_duplicate_template_is_already_exists(sesv2: Any) -> None:
    sesv2.create_email_template(TemplateName="W", TemplateContent={"Text": "x"})
    with pytest.raises(sesv2.exceptions.AlreadyExistsException) as caught:
        sesv2.create_email_template(TemplateName="W", TemplateContent={"Text": "y"})
    assert error_of(caught) == ("AlreadyExistsException", 400, "Template W already exists.")


def test_v2_list_email_templates_pages(sesv2: Any) -> None:
    for i in range(3):
        sesv2.create_email_template(TemplateName=f"T{i}", TemplateContent={"Text": "x"})
    first = sesv2.list_email_templates(PageSize=2)
    second = sesv2.list_email_templates(PageSize=2, NextToken=first["NextToken"])
    names = [t["TemplateName"] for t in first["TemplatesMetadata"] + second["TemplatesMetadata"]]
    assert names == ["T0", "T1", "T2"]
    assert "NextToken" not in second
    with pytest.raises(sesv2.exceptions.BadRequestException) as caught:
        sesv2.list_email_templates(PageSize=101)
    assert error_of(caught) == (
        "BadRequestException",
        400,
        "PageSize must be between 1 and 100 (got 101).",
    )


def test_v2_test_render_email_template(sesv2: Any) -> None:
    sesv2.create_email_template(
        TemplateName="W",
        TemplateContent={"Subject": "Hi {{user.name}}", "Text": "{{{raw}}} & {{raw}}"},
    )
    rendered = sesv2.test_render_email_template(
        TemplateName="W", TemplateData=json.dumps({"user": {"name": "Ana"}, "raw": "<i>"})
    )["RenderedTemplate"]
    msg = _mime(rendered)
    assert msg["Subject"] == "Hi Ana"
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content().strip() == "<i> & &lt;i&gt;"


def test_v2_test_render_errors_are_bad_request(sesv2: Any) -> None:
    sesv2.create_email_template(TemplateName="W", TemplateContent={"Text": "{{name}}"})
    with pytest.raises(sesv2.exceptions.BadRequestException) as missing:
        sesv2.test_render_email_template(TemplateName="W", TemplateData="{}")
    assert error_of(missing) == (
        "BadRequestException",
        400,
        "Attribute 'name' is not present in the rendering data.",
    )
    with pytest.raises(sesv2.exceptions.BadRequestException) as invalid:
        sesv2.test_render_email_template(TemplateName="W", TemplateData="nope")
    assert error_of(invalid)[:2] == ("BadRequestException", 400)


def test_v2_invalid_template_syntax_is_bad_request(sesv2: Any) -> None:
    with pytest.raises(sesv2.exceptions.BadRequestException) as caught:
        sesv2.create_email_template(TemplateName="B", TemplateContent={"Html": "{{/if}}"})
    assert error_of(caught) == (
        "BadRequestException",
        400,
        "Template B is not valid. Invalid HTML part: unexpected closing tag if.",
    )


def test_template_tags_by_arn(sesv2: Any) -> None:
    sesv2.create_email_template(TemplateName="W", TemplateContent={"Text": "x"})
    arn = "arn:aws:ses:us-east-1:000000000000:template/W"
    sesv2.tag_resource(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}])
    assert sesv2.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "a", "Value": "1"}]
    assert sesv2.get_email_template(TemplateName="W")["Tags"] == [{"Key": "a", "Value": "1"}]


# --- sharing ----------------------------------------------------------------------------


def test_v1_and_v2_share_the_template_store(ses: Any, sesv2: Any) -> None:
    ses.create_template(Template=TEMPLATE)
    got = sesv2.get_email_template(TemplateName="Welcome")["TemplateContent"]
    assert got == {
        "Subject": TEMPLATE["SubjectPart"],
        "Text": TEMPLATE["TextPart"],
        "Html": TEMPLATE["HtmlPart"],
    }
    sesv2.create_email_template(TemplateName="FromV2", TemplateContent={"Text": "{{a}}"})
    names = [t["Name"] for t in ses.list_templates(MaxItems=100)["TemplatesMetadata"]]
    assert names == ["Welcome", "FromV2"]
    rendered = ses.test_render_template(TemplateName="FromV2", TemplateData='{"a": "ok"}')
    assert _mime(rendered["RenderedTemplate"]).get_content().strip() == "ok"
    sesv2.delete_email_template(TemplateName="Welcome")
    with pytest.raises(ses.exceptions.TemplateDoesNotExistException):
        ses.get_template(TemplateName="Welcome")
