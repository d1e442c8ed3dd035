"""SES v2 operation handlers: params dict (model member names) → core call → output dict.

Thin by design: each handler translates v2 names and shapes to the protocol-free core in
`emulator/ses/` and back. The v1 and v2 handlers of one action call one core function.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from emulator.ses import configsets, errors, identities, paging, send_ops, templates
from emulator.ses.configsets import v1_enum, v2_enum
from emulator.ses.context import Handler, Params, RequestContext
from emulator.ses.state import ConfigurationSet, Identity, Template

__all__ = ["HANDLERS"]

# ListEmailIdentities PageSize 0-1000 [D]; ListEmailTemplates PageSize 1-100 [D]
# (ses-spec §2.4). Without a PageSize every list answers up to its maximum [I], except
# templates, which default to 10 like v1 ListTemplates [I].
MAX_PAGE_IDENTITIES = 1000
MAX_PAGE_TEMPLATES = 100
DEFAULT_PAGE_TEMPLATES = 10
MAX_PAGE_CONFIGURATION_SETS = 1000

# Resource tags: at most 50 per resource; key 1-128, value 0-256 characters (sesv2 model
# documentation of Tag / TagResource) [M] (ses-spec §2.3).
MAX_RESOURCE_TAGS = 50
MAX_TAG_KEY_LENGTH = 128
MAX_TAG_VALUE_LENGTH = 256
_ARN_RE = re.compile(
    r"arn:aws[a-z-]*:ses:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"(?P<kind>identity|configuration-set|template)/(?P<name>.+)"
)


def _timestamp(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def _epoch(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _page_size(params: Params, *, default: int, maximum: int) -> int:
    value = params.get("PageSize")
    if value is None:
        return default
    if not 0 <= int(value) <= maximum:
        raise errors.bad_request(f"PageSize must be between 1 and {maximum} (got {value}).")
    return max(int(value), 1)


def _tags(params: Params) -> list[dict[str, str]]:
    tags: list[dict[str, str]] = [
        {"Key": t["Key"], "Value": t["Value"]} for t in params.get("Tags") or ()
    ]
    _check_tags(tags)
    return tags


def _check_tags(tags: list[dict[str, str]]) -> None:
    if len(tags) > MAX_RESOURCE_TAGS:
        raise errors.bad_request(f"A resource can have at most {MAX_RESOURCE_TAGS} tags.")
    keys = [t["Key"] for t in tags]
    if len(set(keys)) != len(keys):
        raise errors.bad_request("Tag keys must be unique.")
    for tag in tags:
        if not 1 <= len(tag["Key"]) <= MAX_TAG_KEY_LENGTH:
            raise errors.bad_request(
                f"Tag key must be 1 to {MAX_TAG_KEY_LENGTH} characters long: {tag['Key']!r}."
            )
        if len(tag["Value"]) > MAX_TAG_VALUE_LENGTH:
            raise errors.bad_request(
                f"Tag value must be at most {MAX_TAG_VALUE_LENGTH} characters long."
            )
        if tag["Key"].startswith("aws:"):
            raise errors.bad_request("Tag keys starting with 'aws:' are reserved.")


# --- identities -------------------------------------------------------------------------


def _identity_type(identity: Identity) -> str:
    return "EMAIL_ADDRESS" if identity.kind == "EmailAddress" else "DOMAIN"


def _dkim_attributes(identity: Identity) -> Params:
    out: Params = {
        "SigningEnabled": identity.dkim_enabled,
        "Status": identities.v2_status(identity.status) if identity.dkim_tokens else "NOT_STARTED",
        "SigningAttributesOrigin": identity.dkim_origin,
    }
    if identity.dkim_tokens:
        out["Tokens"] = list(identity.dkim_tokens)
        out["CurrentSigningKeyLength"] = "RSA_2048_BIT"
        out["NextSigningKeyLength"] = "RSA_2048_BIT"
        out["LastKeyGenerationTimestamp"] = _timestamp(identity.created)
    return out


def _identity(ctx: RequestContext, params: Params) -> Identity:
    return identities.get(ctx.state, params["EmailIdentity"], api="v2")


def create_email_identity(ctx: RequestContext, params: Params) -> Params:
    signing = params.get("DkimSigningAttributes")
    identity = identities.create(
        ctx.state,
        params["EmailIdentity"],
        now=ctx.now,
        settings=ctx.backend.settings,
        tags=_tags(params),
        configuration_set=params.get("ConfigurationSetName"),
        dkim_origin="EXTERNAL" if signing and signing.get("DomainSigningPrivateKey") else "AWS_SES",
    )
    return {
        "IdentityType": _identity_type(identity),
        "VerifiedForSendingStatus": identity.status == "Success",
        "DkimAttributes": _dkim_attributes(identity),
    }


def get_email_identity(ctx: RequestContext, params: Params) -> Params:
    identity = _identity(ctx, params)
    out: Params = {
        "IdentityType": _identity_type(identity),
        "FeedbackForwardingStatus": identity.feedback_forwarding,
        "VerifiedForSendingStatus": identity.status == "Success",
        "DkimAttributes": _dkim_attributes(identity),
        "Policies": dict(identity.policies),
        "Tags": [dict(t) for t in identity.tags],
        "VerificationStatus": identities.v2_status(identity.status),
    }
    if identity.mail_from_domain is not None:
        out["MailFromAttributes"] = {
            "MailFromDomain": identity.mail_from_domain,
            "MailFromDomainStatus": identities.v2_status(identity.status),
            "BehaviorOnMxFailure": v2_enum(identity.mail_from_behavior),
        }
    if identity.configuration_set is not None:
        out["ConfigurationSetName"] = identity.configuration_set
    if identity.kind == "Domain":
        info: Params = {"LastCheckedTimestamp": _timestamp(identity.created)}
        if identity.status == "Success":
            info["LastSuccessTimestamp"] = _timestamp(identity.created)
        out["VerificationInfo"] = info
    return out


def list_email_identities(ctx: RequestContext, params: Params) -> Params:
    found = identities.list_identities(ctx.state)
    filters: dict[str, str] = params.get("Filter") or {}
    if (contains := filters.get("IDENTITY_NAME_CONTAINS")) is not None:
        found = [i for i in found if contains.lower() in i.name.lower()]
    if (kind := filters.get("IDENTITY_TYPE")) is not None:
        found = [i for i in found if _identity_type(i) == kind]
    if (status := filters.get("VERIFICATION_STATUS")) is not None:
        found = [i for i in found if identities.v2_status(i.status) == status]
    size = _page_size(params, default=MAX_PAGE_IDENTITIES, maximum=MAX_PAGE_IDENTITIES)
    page, token = paging.paginate(found, params.get("NextToken"), size)
    return paging.page_response(
        "EmailIdentities",
        [
            {
                "IdentityType": _identity_type(i),
                "IdentityName": i.name,
                "SendingEnabled": i.status == "Success",
                "VerificationStatus": identities.v2_status(i.status),
            }
            for i in page
        ],
        token,
    )


def delete_email_identity(ctx: RequestContext, params: Params) -> Params:
    if not identities.delete(ctx.state, params["EmailIdentity"]):
        raise errors.identity_does_not_exist(params["EmailIdentity"], "v2")
    return {}


def put_email_identity_dkim_attributes(ctx: RequestContext, params: Params) -> Params:
    identities.set_dkim_enabled(_identity(ctx, params), bool(params.get("SigningEnabled")))
    return {}


def put_email_identity_feedback_attributes(ctx: RequestContext, params: Params) -> Params:
    _identity(ctx, params).feedback_forwarding = bool(params.get("EmailForwardingEnabled"))
    return {}


def put_email_identity_mail_from_attributes(ctx: RequestContext, params: Params) -> Params:
    behavior = params.get("BehaviorOnMxFailure")
    identities.set_mail_from(
        _identity(ctx, params),
        params.get("MailFromDomain"),
        None if behavior is None else v1_enum(behavior),
    )
    return {}


def put_email_identity_configuration_set_attributes(ctx: RequestContext, params: Params) -> Params:
    identity = _identity(ctx, params)
    name = params.get("ConfigurationSetName")
    if name is not None:
        configsets.get_configuration_set(ctx.state, name)
    identity.configuration_set = name
    return {}


def create_email_identity_policy(ctx: RequestContext, params: Params) -> Params:
    identities.put_policy(
        _identity(ctx, params),
        params["PolicyName"],
        params["Policy"],
        must_exist=False,
        must_not_exist=True,
    )
    return {}


def get_email_identity_policies(ctx: RequestContext, params: Params) -> Params:
    return {"Policies": dict(_identity(ctx, params).policies)}


def update_email_identity_policy(ctx: RequestContext, params: Params) -> Params:
    identities.put_policy(
        _identity(ctx, params),
        params["PolicyName"],
        params["Policy"],
        must_exist=True,
        must_not_exist=False,
    )
    return {}


def delete_email_identity_policy(ctx: RequestContext, params: Params) -> Params:
    identities.delete_policy(_identity(ctx, params), params["PolicyName"], must_exist=True)
    return {}


# --- templates --------------------------------------------------------------------------


def _content(params: Params) -> dict[str, str | None]:
    content = params["TemplateContent"]
    return {
        "subject": content.get("Subject"),
        "text": content.get("Text"),
        "html": content.get("Html"),
    }


def create_email_template(ctx: RequestContext, params: Params) -> Params:
    templates.create_template(
        ctx.state,
        name=params["TemplateName"],
        now=ctx.now,
        tags=_tags(params),
        **_content(params),
    )
    return {}


def get_email_template(ctx: RequestContext, params: Params) -> Params:
    template = templates.get_template(ctx.state, params["TemplateName"])
    content = {
        key: value
        for key, value in (
            ("Subject", template.subject),
            ("Text", template.text),
            ("Html", template.html),
        )
        if value is not None
    }
    return {
        "TemplateName": template.name,
        "TemplateContent": content,
        "Tags": [dict(t) for t in template.tags],
    }


def update_email_template(ctx: RequestContext, params: Params) -> Params:
    templates.update_template(ctx.state, name=params["TemplateName"], **_content(params))
    return {}


def delete_email_template(ctx: RequestContext, params: Params) -> Params:
    templates.delete_template(ctx.state, params["TemplateName"], must_exist=True)
    return {}


def list_email_templates(ctx: RequestContext, params: Params) -> Params:
    size = _page_size(params, default=DEFAULT_PAGE_TEMPLATES, maximum=MAX_PAGE_TEMPLATES)
    page, token = paging.paginate(
        templates.list_templates(ctx.state), params.get("NextToken"), size
    )
    return paging.page_response(
        "TemplatesMetadata",
        [{"TemplateName": t.name, "CreatedTimestamp": _timestamp(t.created)} for t in page],
        token,
    )


def render_test_email_template(ctx: RequestContext, params: Params) -> Params:
    rendered = templates.preview(
        ctx.state, params["TemplateName"], params["TemplateData"], now=ctx.now
    )
    return {"RenderedTemplate": rendered}


# --- configuration sets -----------------------------------------------------------------


def _configuration_set(ctx: RequestContext, params: Params) -> ConfigurationSet:
    return configsets.get_configuration_set(ctx.state, params["ConfigurationSetName"])


def _without_none(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v is not None}


def create_configuration_set(ctx: RequestContext, params: Params) -> Params:
    reputation = params.get("ReputationOptions") or {}
    sending = params.get("SendingOptions") or {}
    configsets.create(
        ctx.state,
        params["ConfigurationSetName"],
        now=ctx.now,
        tracking_options=params.get("TrackingOptions"),
        delivery_options=params.get("DeliveryOptions"),
        suppression_options=params.get("SuppressionOptions"),
        vdm_options=params.get("VdmOptions"),
        archiving_options=params.get("ArchivingOptions"),
        reputation_metrics_enabled=bool(reputation.get("ReputationMetricsEnabled", False)),
        last_fresh_start=_epoch(reputation.get("LastFreshStart")),
        sending_enabled=bool(sending.get("SendingEnabled", True)),
        tags=_tags(params),
    )
    return {}


def get_configuration_set(ctx: RequestContext, params: Params) -> Params:
    cs = _configuration_set(ctx, params)
    reputation: Params = {"ReputationMetricsEnabled": cs.reputation_metrics_enabled}
    if cs.last_fresh_start is not None:
        reputation["LastFreshStart"] = _timestamp(cs.last_fresh_start)
    out: Params = {
        "ConfigurationSetName": cs.name,
        "ReputationOptions": reputation,
        "SendingOptions": {"SendingEnabled": cs.sending_enabled},
        "Tags": [dict(t) for t in cs.tags],
    }
    for key, value in (
        ("TrackingOptions", cs.tracking_options),
        ("DeliveryOptions", cs.delivery_options),
        ("SuppressionOptions", cs.suppression_options),
        ("VdmOptions", cs.vdm_options),
        ("ArchivingOptions", cs.archiving_options),
    ):
        if value is not None:
            out[key] = value
    return out


def list_configuration_sets(ctx: RequestContext, params: Params) -> Params:
    found = configsets.list_configuration_sets(ctx.state)
    filters: dict[str, str] = params.get("Filter") or {}
    if (contains := filters.get("CONFIGURATION_SET_NAME_CONTAINS")) is not None:
        found = [cs for cs in found if contains.lower() in cs.name.lower()]
    size = _page_size(
        params, default=MAX_PAGE_CONFIGURATION_SETS, maximum=MAX_PAGE_CONFIGURATION_SETS
    )
    page, token = paging.paginate(found, params.get("NextToken"), size)
    return paging.page_response("ConfigurationSets", [cs.name for cs in page], token)


def delete_configuration_set(ctx: RequestContext, params: Params) -> Params:
    configsets.delete(ctx.state, params["ConfigurationSetName"])
    return {}


def put_configuration_set_sending_options(ctx: RequestContext, params: Params) -> Params:
    _configuration_set(ctx, params).sending_enabled = bool(params.get("SendingEnabled", False))
    return {}


def put_configuration_set_reputation_options(ctx: RequestContext, params: Params) -> Params:
    cs = _configuration_set(ctx, params)
    cs.reputation_metrics_enabled = bool(params.get("ReputationMetricsEnabled", False))
    return {}


def put_configuration_set_suppression_options(ctx: RequestContext, params: Params) -> Params:
    cs = _configuration_set(ctx, params)
    options = _without_none(
        {
            "SuppressedReasons": params.get("SuppressedReasons"),
            "SuppressionScope": params.get("SuppressionScope"),
            "ValidationOptions": params.get("ValidationOptions"),
        }
    )
    cs.suppression_options = options
    return {}


def put_configuration_set_tracking_options(ctx: RequestContext, params: Params) -> Params:
    cs = _configuration_set(ctx, params)
    options = _without_none(
        {
            "CustomRedirectDomain": params.get("CustomRedirectDomain"),
            "HttpsPolicy": params.get("HttpsPolicy"),
        }
    )
    cs.tracking_options = options or None
    return {}


def put_configuration_set_delivery_options(ctx: RequestContext, params: Params) -> Params:
    cs = _configuration_set(ctx, params)
    cs.delivery_options = _without_none(
        {
            "TlsPolicy": params.get("TlsPolicy"),
            "SendingPoolName": params.get("SendingPoolName"),
            "MaxDeliverySeconds": params.get("MaxDeliverySeconds"),
        }
    )
    return {}


def put_configuration_set_vdm_options(ctx: RequestContext, params: Params) -> Params:
    _configuration_set(ctx, params).vdm_options = params.get("VdmOptions")
    return {}


def put_configuration_set_archiving_options(ctx: RequestContext, params: Params) -> Params:
    cs = _configuration_set(ctx, params)
    arn = params.get("ArchiveArn")
    cs.archiving_options = None if arn is None else {"ArchiveArn": arn}
    return {}


def create_configuration_set_event_destination(ctx: RequestContext, params: Params) -> Params:
    configsets.put_event_destination(
        _configuration_set(ctx, params),
        params["EventDestinationName"],
        params["EventDestination"],
        create=True,
    )
    return {}


def get_configuration_set_event_destinations(ctx: RequestContext, params: Params) -> Params:
    cs = _configuration_set(ctx, params)
    return {
        "EventDestinations": [
            {"Name": name, **destination} for name, destination in cs.event_destinations.items()
        ]
    }


def update_configuration_set_event_destination(ctx: RequestContext, params: Params) -> Params:
    configsets.put_event_destination(
        _configuration_set(ctx, params),
        params["EventDestinationName"],
        params["EventDestination"],
        create=False,
    )
    return {}


def delete_configuration_set_event_destination(ctx: RequestContext, params: Params) -> Params:
    configsets.delete_event_destination(
        _configuration_set(ctx, params), params["EventDestinationName"]
    )
    return {}


# --- resource tags ----------------------------------------------------------------------


def _tagged(ctx: RequestContext, arn: str) -> list[dict[str, str]]:
    """The tag list of the resource an ARN names (identity, configuration set, template)."""
    match = _ARN_RE.fullmatch(arn)
    if match is None:
        raise errors.bad_request(f"Invalid resource ARN: {arn}")
    state = ctx.state
    missing = errors.not_found(f"Resource {arn} does not exist.", v1_code="NotFoundException")
    if match["region"] != ctx.region or match["account"] != ctx.account_id:
        raise missing
    name = match["name"]
    resource: Identity | ConfigurationSet | Template | None
    if match["kind"] == "identity":
        resource = identities.find(state, name)
    elif match["kind"] == "configuration-set":
        resource = state.configuration_sets.get(name)
    else:
        resource = state.templates.get(name)
    if resource is None:
        raise missing
    return resource.tags


def tag_resource(ctx: RequestContext, params: Params) -> Params:
    tags = _tagged(ctx, params["ResourceArn"])
    merged = {t["Key"]: t["Value"] for t in tags}
    merged.update({t["Key"]: t["Value"] for t in params["Tags"]})
    updated = [{"Key": k, "Value": v} for k, v in merged.items()]
    _check_tags(updated)
    tags[:] = updated
    return {}


def untag_resource(ctx: RequestContext, params: Params) -> Params:
    tags = _tagged(ctx, params["ResourceArn"])
    doomed = set(params["TagKeys"])
    tags[:] = [t for t in tags if t["Key"] not in doomed]
    return {}


def list_tags_for_resource(ctx: RequestContext, params: Params) -> Params:
    return {"Tags": [dict(t) for t in _tagged(ctx, params["ResourceArn"])]}


HANDLERS: dict[str, Handler] = {
    # identities
    "CreateEmailIdentity": create_email_identity,
    "GetEmailIdentity": get_email_identity,
    "ListEmailIdentities": list_email_identities,
    "DeleteEmailIdentity": delete_email_identity,
    "PutEmailIdentityDkimAttributes": put_email_identity_dkim_attributes,
    "PutEmailIdentityFeedbackAttributes": put_email_identity_feedback_attributes,
    "PutEmailIdentityMailFromAttributes": put_email_identity_mail_from_attributes,
    "PutEmailIdentityConfigurationSetAttributes": (put_email_identity_configuration_set_attributes),
    "CreateEmailIdentityPolicy": create_email_identity_policy,
    "GetEmailIdentityPolicies": get_email_identity_policies,
    "UpdateEmailIdentityPolicy": update_email_identity_policy,
    "DeleteEmailIdentityPolicy": delete_email_identity_policy,
    # templates
    "CreateEmailTemplate": create_email_template,
    "GetEmailTemplate": get_email_template,
    "UpdateEmailTemplate": update_email_template,
    "DeleteEmailTemplate": delete_email_template,
    "ListEmailTemplates": list_email_templates,
    "TestRenderEmailTemplate": render_test_email_template,
    # configuration sets
    "CreateConfigurationSet": create_configuration_set,
    "GetConfigurationSet": get_configuration_set,
    "ListConfigurationSets": list_configuration_sets,
    "DeleteConfigurationSet": delete_configuration_set,
    "PutConfigurationSetSendingOptions": put_configuration_set_sending_options,
    "PutConfigurationSetReputationOptions": put_configuration_set_reputation_options,
    "PutConfigurationSetSuppressionOptions": put_configuration_set_suppression_options,
    "PutConfigurationSetTrackingOptions": put_configuration_set_tracking_options,
    "PutConfigurationSetDeliveryOptions": put_configuration_set_delivery_options,
    "PutConfigurationSetVdmOptions": put_configuration_set_vdm_options,
    "PutConfigurationSetArchivingOptions": put_configuration_set_archiving_options,
    "CreateConfigurationSetEventDestination": create_configuration_set_event_destination,
    "GetConfigurationSetEventDestinations": get_configuration_set_event_destinations,
    "UpdateConfigurationSetEventDestination": update_configuration_set_event_destination,
    "DeleteConfigurationSetEventDestination": delete_configuration_set_event_destination,
    # resource tags
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
HANDLERS.update(send_ops.V2_HANDLERS)
