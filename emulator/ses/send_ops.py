"""Handlers for sending, account, quota, statistics and suppression-list operations.

Merged into `emulator.ses.v1_ops.HANDLERS` / `emulator.ses.v2_ops.HANDLERS`. Each handler only
translates the operation's params (model member names) into a call of the protocol-free core
(`emulator.ses.sending`, `account`, `suppression`) and its result back into the output shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from emulator.ses import account, errors, mime, paging, sending, suppression
from emulator.ses.context import Handler, Params, RequestContext
from emulator.ses.state import Template

__all__ = ["V1_HANDLERS", "V2_HANDLERS"]


# -- params → SendRequest pieces ----------------------------------------------------------


def _destination(value: Mapping[str, Any] | None) -> sending.Destination:
    value = value or {}
    return sending.Destination(
        to=tuple(value.get("ToAddresses") or ()),
        cc=tuple(value.get("CcAddresses") or ()),
        bcc=tuple(value.get("BccAddresses") or ()),
    )


def _pairs(items: Any) -> tuple[tuple[str, str], ...]:
    if not items:  # the usual case for a bulk entry's replacement tags and headers
        return ()
    return tuple((item.get("Name") or "", item.get("Value") or "") for item in items)


def _data(content: Mapping[str, Any] | None) -> str | None:
    return None if content is None else content.get("Data")


def _template_name_from_arn(arn: str) -> str:
    # arn:aws:ses:<region>:<account>:template/<name> [D]
    _, sep, name = arn.rpartition(":template/")
    if not sep or not name:
        raise errors.bad_request(f"Invalid template ARN: {arn}.")
    return name


def _attachments(items: Any) -> tuple[mime.Attachment, ...]:
    if not items:  # the usual case
        return ()
    return tuple(
        mime.Attachment(
            content=item["RawContent"],
            filename=item["FileName"],
            content_type=item.get("ContentType"),
            disposition=item.get("ContentDisposition"),
            content_id=item.get("ContentId"),
            description=item.get("ContentDescription"),
            transfer_encoding=item.get("ContentTransferEncoding"),
        )
        for item in items
    )


def _v2_template(template: Mapping[str, Any]) -> dict[str, Any]:
    """The template fields of a v2 ``Template`` member: exactly one way to name the template."""
    ways = [k for k in ("TemplateName", "TemplateArn", "TemplateContent") if template.get(k)]
    if len(ways) != 1:
        raise errors.bad_request(  # [I] text
            "Template must specify exactly one of TemplateName, TemplateArn or TemplateContent."
        )
    fields: dict[str, Any] = {"template_data": template.get("TemplateData") or "{}"}
    if ways[0] == "TemplateContent":
        content = template["TemplateContent"]
        fields["template_content"] = Template(
            name="<inline>",
            subject=content.get("Subject"),
            text=content.get("Text"),
            html=content.get("Html"),
        )
    elif ways[0] == "TemplateArn":
        fields["template_name"] = _template_name_from_arn(template["TemplateArn"])
    else:
        fields["template_name"] = template["TemplateName"]
    fields["headers"] = _pairs(template.get("Headers"))
    fields["attachments"] = _attachments(template.get("Attachments"))
    return fields


def _one_id(ctx: RequestContext, request: sending.SendRequest) -> str:
    results = sending.send(ctx, request)
    message_id = results[0].message_id
    assert message_id is not None  # a single send either succeeds or raises
    return message_id


def _bulk_results(ctx: RequestContext, request: sending.SendRequest) -> list[Params]:
    """One result per bulk entry: its MessageId, or its refusal status spelled for the API."""
    success, which = ("Success", 0) if request.api == "v1" else ("SUCCESS", 1)
    results: list[Params] = []
    for result in sending.send(ctx, request):
        if result.refusal is None:
            results.append({"Status": success, "MessageId": result.message_id})
        else:
            results.append(
                {"Status": result.refusal.status[which], "Error": result.refusal.error.message}
            )
    return results


# -- v1 sends ------------------------------------------------------------------------------


def _v1_common(ctx: RequestContext, params: Params, *, tags: str = "Tags") -> dict[str, Any]:
    """The SendRequest fields that v1 SendEmail, SendTemplatedEmail and the bulk send share."""
    return {
        "api": "v1",
        "operation": ctx.operation,
        "source": params.get("Source"),
        "reply_to": tuple(params.get("ReplyToAddresses") or ()),
        "return_path": params.get("ReturnPath"),
        "tags": _pairs(params.get(tags)),
        "configuration_set": params.get("ConfigurationSetName"),
    }


def _v1_template_name(params: Params) -> str:
    return params.get("Template") or _template_name_from_arn(params.get("TemplateArn") or "")


def _v1_send_email(ctx: RequestContext, params: Params) -> Params:
    message = params["Message"]
    body = message.get("Body") or {}
    request = sending.SendRequest(
        kind="simple",
        destination=_destination(params.get("Destination")),
        subject=_data(message.get("Subject")),
        text=_data(body.get("Text")),
        html=_data(body.get("Html")),
        **_v1_common(ctx, params),
    )
    return {"MessageId": _one_id(ctx, request)}


def _v1_send_raw_email(ctx: RequestContext, params: Params) -> Params:
    destinations = params.get("Destinations")
    request = sending.SendRequest(
        api="v1",
        operation=ctx.operation,
        kind="raw",
        source=params.get("Source"),
        destination=sending.Destination(to=tuple(destinations)) if destinations else None,
        raw=params["RawMessage"]["Data"],
        tags=_pairs(params.get("Tags")),
        configuration_set=params.get("ConfigurationSetName"),
    )
    return {"MessageId": _one_id(ctx, request)}


def _v1_send_templated_email(ctx: RequestContext, params: Params) -> Params:
    request = sending.SendRequest(
        kind="template",
        destination=_destination(params.get("Destination")),
        template_name=_v1_template_name(params),
        template_data=params.get("TemplateData") or "{}",
        **_v1_common(ctx, params),
    )
    return {"MessageId": _one_id(ctx, request)}


def _v1_send_bulk_templated_email(ctx: RequestContext, params: Params) -> Params:
    request = sending.SendRequest(
        kind="template",
        template_name=_v1_template_name(params),
        template_data=params.get("DefaultTemplateData") or "{}",
        **_v1_common(ctx, params, tags="DefaultTags"),
        bulk=tuple(
            sending.BulkEntry(
                destination=_destination(entry.get("Destination")),
                template_data=entry.get("ReplacementTemplateData"),
                tags=_pairs(entry.get("ReplacementTags")),
            )
            for entry in params.get("Destinations") or ()
        ),
    )
    return {"Status": _bulk_results(ctx, request)}


# -- v2 sends ------------------------------------------------------------------------------


def _v2_send_email(ctx: RequestContext, params: Params) -> Params:
    content = params.get("Content") or {}
    simple = content.get("Simple")
    raw = content.get("Raw")
    template = content.get("Template")
    if (simple is None) + (raw is None) + (template is None) != 2:
        raise errors.bad_request(  # [I] text
            "Content must contain exactly one of Simple, Raw or Template."
        )
    common: dict[str, Any] = {
        "api": "v2",
        "operation": ctx.operation,
        "source": params.get("FromEmailAddress"),
        "reply_to": tuple(params.get("ReplyToAddresses") or ()),
        "tags": _pairs(params.get("EmailTags")),
        "configuration_set": params.get("ConfigurationSetName"),
    }
    destination = params.get("Destination")
    if raw is not None:
        dest = _destination(destination) if destination else None
        request = sending.SendRequest(
            kind="raw",
            destination=dest if dest is not None and dest.all else None,
            raw=raw["Data"],
            **common,
        )
    elif simple is not None:
        body = simple.get("Body") or {}
        request = sending.SendRequest(
            kind="simple",
            destination=_destination(destination),
            subject=_data(simple.get("Subject")),
            text=_data(body.get("Text")),
            html=_data(body.get("Html")),
            headers=_pairs(simple.get("Headers")),
            attachments=_attachments(simple.get("Attachments")),
            **common,
        )
    else:
        assert template is not None  # exactly one of the three is set
        request = sending.SendRequest(
            kind="template",
            destination=_destination(destination),
            **_v2_template(template),
            **common,
        )
    return {"MessageId": _one_id(ctx, request)}


def _v2_send_bulk_email(ctx: RequestContext, params: Params) -> Params:
    default = (params.get("DefaultContent") or {}).get("Template")
    if default is None:
        raise errors.bad_request("DefaultContent must contain a Template.")  # [I] text
    entries = []
    for entry in params.get("BulkEmailEntries") or ():
        replacement = (entry.get("ReplacementEmailContent") or {}).get("ReplacementTemplate") or {}
        entries.append(
            sending.BulkEntry(
                destination=_destination(entry.get("Destination")),
                template_data=replacement.get("ReplacementTemplateData"),
                tags=_pairs(entry.get("ReplacementTags")),
                headers=_pairs(entry.get("ReplacementHeaders")),
            )
        )
    request = sending.SendRequest(
        api="v2",
        operation=ctx.operation,
        kind="template",
        source=params.get("FromEmailAddress"),
        reply_to=tuple(params.get("ReplyToAddresses") or ()),
        tags=_pairs(params.get("DefaultEmailTags")),
        configuration_set=params.get("ConfigurationSetName"),
        bulk=tuple(entries),
        **_v2_template(default),
    )
    return {"BulkEmailEntryResults": _bulk_results(ctx, request)}


# -- account, quota, statistics --------------------------------------------------------------


def _v1_get_send_quota(ctx: RequestContext, params: Params) -> Params:
    return dict(account.send_quota(ctx.state, now=ctx.now))


def _v1_get_send_statistics(ctx: RequestContext, params: Params) -> Params:
    return {"SendDataPoints": account.send_statistics(ctx.state, now=ctx.now)}


def _v1_get_account_sending_enabled(ctx: RequestContext, params: Params) -> Params:
    return {"Enabled": ctx.state.sending_enabled}


def _v1_update_account_sending_enabled(ctx: RequestContext, params: Params) -> Params:
    # An absent Enabled is false, as for any unset boolean member of the Query protocol [I].
    ctx.state.sending_enabled = bool(params.get("Enabled", False))
    return {}


def _v2_get_account(ctx: RequestContext, params: Params) -> Params:
    return account.get_account(ctx.state, now=ctx.now)


def _v2_put_account_details(ctx: RequestContext, params: Params) -> Params:
    account.put_account_details(ctx.state, params)
    return {}


def _v2_put_account_sending_attributes(ctx: RequestContext, params: Params) -> Params:
    ctx.state.sending_enabled = bool(params.get("SendingEnabled", False))  # [I] absent = false
    return {}


def _v2_put_account_suppression_attributes(ctx: RequestContext, params: Params) -> Params:
    suppression.set_suppressed_reasons(
        ctx.state, list(params.get("SuppressedReasons") or ()), params.get("ValidationAttributes")
    )
    return {}


def _v2_put_account_dedicated_ip_warmup_attributes(ctx: RequestContext, params: Params) -> Params:
    ctx.state.dedicated_ip_auto_warmup = bool(params.get("AutoWarmupEnabled", False))
    return {}


# -- suppression list ------------------------------------------------------------------------


def _v2_put_suppressed_destination(ctx: RequestContext, params: Params) -> Params:
    suppression.put_destination(ctx.state, params["EmailAddress"], params["Reason"], now=ctx.now)
    return {}


def _v2_get_suppressed_destination(ctx: RequestContext, params: Params) -> Params:
    return {"SuppressedDestination": suppression.get_destination(ctx.state, params["EmailAddress"])}


def _v2_delete_suppressed_destination(ctx: RequestContext, params: Params) -> Params:
    suppression.delete_destination(ctx.state, params["EmailAddress"])
    return {}


def _v2_list_suppressed_destinations(ctx: RequestContext, params: Params) -> Params:
    page, token = suppression.list_destinations(
        ctx.state,
        reasons=params.get("Reasons"),
        start=params.get("StartDate"),
        end=params.get("EndDate"),
        page_size=params.get("PageSize"),
        next_token=params.get("NextToken"),
    )
    return paging.page_response("SuppressedDestinationSummaries", page, token)


V1_HANDLERS: dict[str, Handler] = {
    "SendEmail": _v1_send_email,
    "SendRawEmail": _v1_send_raw_email,
    "SendTemplatedEmail": _v1_send_templated_email,
    "SendBulkTemplatedEmail": _v1_send_bulk_templated_email,
    "GetSendQuota": _v1_get_send_quota,
    "GetSendStatistics": _v1_get_send_statistics,
    "GetAccountSendingEnabled": _v1_get_account_sending_enabled,
    "UpdateAccountSendingEnabled": _v1_update_account_sending_enabled,
}
V2_HANDLERS: dict[str, Handler] = {
    "SendEmail": _v2_send_email,
    "SendBulkEmail": _v2_send_bulk_email,
    "GetAccount": _v2_get_account,
    "PutAccountDetails": _v2_put_account_details,
    "PutAccountSendingAttributes": _v2_put_account_sending_attributes,
    "PutAccountSuppressionAttributes": _v2_put_account_suppression_attributes,
    "PutAccountDedicatedIpWarmupAttributes": _v2_put_account_dedicated_ip_warmup_attributes,
    "PutSuppressedDestination": _v2_put_suppressed_destination,
    "GetSuppressedDestination": _v2_get_suppressed_destination,
    "DeleteSuppressedDestination": _v2_delete_suppressed_destination,
    "ListSuppressedDestinations": _v2_list_suppressed_destinations,
}
