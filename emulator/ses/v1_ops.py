"""SES v1 operation handlers: params dict (model member names) → core call → output dict.

Thin by design: each handler translates v1 names and shapes to the protocol-free core in
`emulator/ses/` and back. The v1 and v2 handlers of one action call one core function.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from emulator.ses import configsets, errors, identities, paging, send_ops, templates
from emulator.ses.configsets import v1_enum, v2_enum
from emulator.ses.context import Handler, Params, RequestContext
from emulator.ses.state import ConfigurationSet, Identity, Template

__all__ = ["HANDLERS"]

# "You can only get attributes for up to 100 identities at a time" (GetIdentity*Attributes) [D].
MAX_IDENTITIES_PER_GET = 100
# ListIdentities MaxItems 1-1000 [D]; ListTemplates MaxItems 1-100, default 10, >100 capped [D].
MAX_LIST_IDENTITIES = 1000
MAX_LIST_TEMPLATES = 100
DEFAULT_LIST_TEMPLATES = 10
# ListConfigurationSets: no documented bounds; the same 1000 as ListIdentities [I].
MAX_LIST_CONFIGURATION_SETS = 1000

NOTIFICATION_TYPES = ("Bounce", "Complaint", "Delivery")


def _timestamp(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def _size(params: Params, key: str, *, default: int, maximum: int) -> int:
    # Out-of-range page sizes are clamped, as SES caps MaxItems above the limit [D].
    value = params.get(key)
    return default if value is None else min(max(int(value), 1), maximum)


def _identity(ctx: RequestContext, name: str) -> Identity:
    return identities.get(ctx.state, name, api="v1")


def _check_identity_count(names: list[str]) -> None:
    if len(names) > MAX_IDENTITIES_PER_GET:
        raise errors.bad_request(
            f"Too many identities: at most {MAX_IDENTITIES_PER_GET} per request (got {len(names)})."
        )


def _check_notification_type(value: str) -> None:
    if value not in NOTIFICATION_TYPES:
        # Text observed from SES [O] (ses-spec §2.5).
        raise errors.bad_request(
            f"Invalid notification type: {value}. Valid values are: Bounce, Complaint, Delivery."
        )


# --- identities -------------------------------------------------------------------------


def verify_email_identity(ctx: RequestContext, params: Params) -> Params:
    identities.verify(ctx.state, params["EmailAddress"], now=ctx.now, settings=ctx.backend.settings)
    return {}


def verify_domain_identity(ctx: RequestContext, params: Params) -> Params:
    domain = params["Domain"]
    if "@" in domain:
        raise errors.bad_request(f"Invalid domain name <{domain}>.")
    identity = identities.verify(ctx.state, domain, now=ctx.now, settings=ctx.backend.settings)
    return {"VerificationToken": identity.token}


def verify_domain_dkim(ctx: RequestContext, params: Params) -> Params:
    domain = params["Domain"]
    if "@" in domain:
        raise errors.bad_request(f"Invalid domain name <{domain}>.")
    identity = identities.verify(ctx.state, domain, now=ctx.now, settings=ctx.backend.settings)
    identities.set_dkim_enabled(identity, True)
    return {"DkimTokens": list(identity.dkim_tokens)}


def list_identities(ctx: RequestContext, params: Params) -> Params:
    kind = params.get("IdentityType")
    found = identities.list_identities(ctx.state, kind)
    size = _size(params, "MaxItems", default=MAX_LIST_IDENTITIES, maximum=MAX_LIST_IDENTITIES)
    page, token = paging.paginate(found, params.get("NextToken"), size)
    return paging.page_response("Identities", [i.name for i in page], token)


def list_verified_email_addresses(ctx: RequestContext, params: Params) -> Params:
    found = identities.list_identities(ctx.state, "EmailAddress")
    return {"VerifiedEmailAddresses": [i.name for i in found if i.status == "Success"]}


def delete_identity(ctx: RequestContext, params: Params) -> Params:
    identities.delete(ctx.state, params["Identity"])
    return {}


def delete_verified_email_address(ctx: RequestContext, params: Params) -> Params:
    identities.delete(ctx.state, params["EmailAddress"])
    return {}


def _found(ctx: RequestContext, params: Params) -> list[Identity]:
    # Unknown identities are simply absent from the answer [D] (ses-spec §2.5).
    names: list[str] = params["Identities"]
    _check_identity_count(names)
    found = (identities.find(ctx.state, name) for name in names)
    return [identity for identity in found if identity is not None]


def get_identity_verification_attributes(ctx: RequestContext, params: Params) -> Params:
    out: dict[str, Any] = {}
    for identity in _found(ctx, params):
        entry: dict[str, Any] = {"VerificationStatus": identity.status}
        if identity.kind == "Domain":
            entry["VerificationToken"] = identity.token
        out[identity.name] = entry
    return {"VerificationAttributes": out}


def _dkim_status(identity: Identity) -> str:
    return identity.status if identity.dkim_tokens else "NotStarted"


def get_identity_dkim_attributes(ctx: RequestContext, params: Params) -> Params:
    out: dict[str, Any] = {}
    for identity in _found(ctx, params):
        entry: dict[str, Any] = {
            "DkimEnabled": identity.dkim_enabled,
            "DkimVerificationStatus": _dkim_status(identity),
        }
        if identity.dkim_tokens:
            entry["DkimTokens"] = list(identity.dkim_tokens)
        out[identity.name] = entry
    return {"DkimAttributes": out}


def get_identity_mail_from_domain_attributes(ctx: RequestContext, params: Params) -> Params:
    out: dict[str, Any] = {}
    for identity in _found(ctx, params):
        entry: dict[str, Any] = {"BehaviorOnMXFailure": identity.mail_from_behavior}
        if identity.mail_from_domain is not None:
            entry["MailFromDomain"] = identity.mail_from_domain
            entry["MailFromDomainStatus"] = identity.status
        out[identity.name] = entry
    return {"MailFromDomainAttributes": out}


def get_identity_notification_attributes(ctx: RequestContext, params: Params) -> Params:
    out: dict[str, Any] = {}
    for identity in _found(ctx, params):
        entry: dict[str, Any] = {"ForwardingEnabled": identity.feedback_forwarding}
        for kind in NOTIFICATION_TYPES:
            if kind in identity.notification_topics:
                entry[f"{kind}Topic"] = identity.notification_topics[kind]
            entry[f"HeadersIn{kind}NotificationsEnabled"] = identity.headers_in_notifications.get(
                kind, False
            )
        out[identity.name] = entry
    return {"NotificationAttributes": out}


def set_identity_notification_topic(ctx: RequestContext, params: Params) -> Params:
    kind = params["NotificationType"]
    _check_notification_type(kind)
    identity = _identity(ctx, params["Identity"])
    topic = params.get("SnsTopic")
    if topic:
        identity.notification_topics[kind] = topic
    else:
        identity.notification_topics.pop(kind, None)
    return {}


def set_identity_headers_in_notifications_enabled(ctx: RequestContext, params: Params) -> Params:
    kind = params["NotificationType"]
    _check_notification_type(kind)
    identity = _identity(ctx, params["Identity"])
    identity.headers_in_notifications[kind] = bool(params["Enabled"])
    return {}


def set_identity_feedback_forwarding_enabled(ctx: RequestContext, params: Params) -> Params:
    identity = _identity(ctx, params["Identity"])
    identity.feedback_forwarding = bool(params["ForwardingEnabled"])
    return {}


def set_identity_mail_from_domain(ctx: RequestContext, params: Params) -> Params:
    identity = _identity(ctx, params["Identity"])
    identities.set_mail_from(
        identity, params.get("MailFromDomain"), params.get("BehaviorOnMXFailure")
    )
    return {}


def set_identity_dkim_enabled(ctx: RequestContext, params: Params) -> Params:
    identities.set_dkim_enabled(_identity(ctx, params["Identity"]), bool(params["DkimEnabled"]))
    return {}


def put_identity_policy(ctx: RequestContext, params: Params) -> Params:
    identity = _identity(ctx, params["Identity"])
    identities.put_policy(
        identity, params["PolicyName"], params["Policy"], must_exist=False, must_not_exist=False
    )
    return {}


def get_identity_policies(ctx: RequestContext, params: Params) -> Params:
    identity = _identity(ctx, params["Identity"])
    names: list[str] = params["PolicyNames"]
    return {"Policies": {n: identity.policies[n] for n in names if n in identity.policies}}


def list_identity_policies(ctx: RequestContext, params: Params) -> Params:
    return {"PolicyNames": list(_identity(ctx, params["Identity"]).policies)}


def delete_identity_policy(ctx: RequestContext, params: Params) -> Params:
    identities.delete_policy(
        _identity(ctx, params["Identity"]), params["PolicyName"], must_exist=False
    )
    return {}


# --- templates --------------------------------------------------------------------------


def _template_parts(params: Params) -> dict[str, Any]:
    template = params["Template"]
    return {
        "name": template["TemplateName"],
        "subject": template.get("SubjectPart"),
        "text": template.get("TextPart"),
        "html": template.get("HtmlPart"),
    }


def _template_out(template: Template) -> Params:
    out: Params = {"TemplateName": template.name}
    for key, value in (
        ("SubjectPart", template.subject),
        ("TextPart", template.text),
        ("HtmlPart", template.html),
    ):
        if value is not None:
            out[key] = value
    return out


def create_template(ctx: RequestContext, params: Params) -> Params:
    templates.create_template(ctx.state, now=ctx.now, **_template_parts(params))
    return {}


def get_template(ctx: RequestContext, params: Params) -> Params:
    return {"Template": _template_out(templates.get_template(ctx.state, params["TemplateName"]))}


def update_template(ctx: RequestContext, params: Params) -> Params:
    templates.update_template(ctx.state, **_template_parts(params))
    return {}


def delete_template(ctx: RequestContext, params: Params) -> Params:
    templates.delete_template(ctx.state, params["TemplateName"], must_exist=False)
    return {}


def list_templates(ctx: RequestContext, params: Params) -> Params:
    size = _size(params, "MaxItems", default=DEFAULT_LIST_TEMPLATES, maximum=MAX_LIST_TEMPLATES)
    page, token = paging.paginate(
        templates.list_templates(ctx.state), params.get("NextToken"), size
    )
    return paging.page_response(
        "TemplatesMetadata",
        [{"Name": t.name, "CreatedTimestamp": _timestamp(t.created)} for t in page],
        token,
    )


def render_test_template(ctx: RequestContext, params: Params) -> Params:
    rendered = templates.preview(
        ctx.state, params["TemplateName"], params["TemplateData"], now=ctx.now
    )
    return {"RenderedTemplate": rendered}


# --- configuration sets -----------------------------------------------------------------


def _configuration_set(ctx: RequestContext, params: Params) -> ConfigurationSet:
    return configsets.get_configuration_set(ctx.state, params["ConfigurationSetName"])


def create_configuration_set(ctx: RequestContext, params: Params) -> Params:
    configsets.create(ctx.state, params["ConfigurationSet"]["Name"], now=ctx.now)
    return {}


def describe_configuration_set(ctx: RequestContext, params: Params) -> Params:
    cs = _configuration_set(ctx, params)
    wanted = set(params.get("ConfigurationSetAttributeNames") or ())
    out: Params = {"ConfigurationSet": {"Name": cs.name}}
    if "eventDestinations" in wanted:
        out["EventDestinations"] = [
            configsets.event_destination_to_v1(name, dest)
            for name, dest in cs.event_destinations.items()
        ]
    if "trackingOptions" in wanted and cs.tracking_options is not None:
        domain = cs.tracking_options.get("CustomRedirectDomain")
        out["TrackingOptions"] = {} if domain is None else {"CustomRedirectDomain": domain}
    if "deliveryOptions" in wanted and cs.delivery_options is not None:
        tls = cs.delivery_options.get("TlsPolicy")
        out["DeliveryOptions"] = {} if tls is None else {"TlsPolicy": v1_enum(tls)}
    if "reputationOptions" in wanted:
        reputation: Params = {
            "SendingEnabled": cs.sending_enabled,
            "ReputationMetricsEnabled": cs.reputation_metrics_enabled,
        }
        if cs.last_fresh_start is not None:
            reputation["LastFreshStart"] = _timestamp(cs.last_fresh_start)
        out["ReputationOptions"] = reputation
    return out


def list_configuration_sets(ctx: RequestContext, params: Params) -> Params:
    size = _size(
        params,
        "MaxItems",
        default=MAX_LIST_CONFIGURATION_SETS,
        maximum=MAX_LIST_CONFIGURATION_SETS,
    )
    page, token = paging.paginate(
        configsets.list_configuration_sets(ctx.state), params.get("NextToken"), size
    )
    return paging.page_response("ConfigurationSets", [{"Name": cs.name} for cs in page], token)


def delete_configuration_set(ctx: RequestContext, params: Params) -> Params:
    configsets.delete(ctx.state, params["ConfigurationSetName"])
    return {}


def update_configuration_set_sending_enabled(ctx: RequestContext, params: Params) -> Params:
    _configuration_set(ctx, params).sending_enabled = bool(params["Enabled"])
    return {}


def update_configuration_set_reputation_metrics_enabled(
    ctx: RequestContext, params: Params
) -> Params:
    _configuration_set(ctx, params).reputation_metrics_enabled = bool(params["Enabled"])
    return {}


def _put_event_destination(ctx: RequestContext, params: Params, *, create: bool) -> Params:
    cs = _configuration_set(ctx, params)
    destination = params["EventDestination"]
    configsets.put_event_destination(
        cs,
        destination["Name"],
        configsets.event_destination_from_v1(destination),
        create=create,
    )
    return {}


def create_configuration_set_event_destination(ctx: RequestContext, params: Params) -> Params:
    return _put_event_destination(ctx, params, create=True)


def update_configuration_set_event_destination(ctx: RequestContext, params: Params) -> Params:
    return _put_event_destination(ctx, params, create=False)


def delete_configuration_set_event_destination(ctx: RequestContext, params: Params) -> Params:
    configsets.delete_event_destination(
        _configuration_set(ctx, params), params["EventDestinationName"]
    )
    return {}


def _tracking(params: Params) -> dict[str, Any]:
    domain = params["TrackingOptions"].get("CustomRedirectDomain")
    return {} if domain is None else {"CustomRedirectDomain": domain}


def create_configuration_set_tracking_options(ctx: RequestContext, params: Params) -> Params:
    cs = _configuration_set(ctx, params)
    if cs.tracking_options is not None:
        raise errors.tracking_options_already_exist(cs.name)
    cs.tracking_options = _tracking(params)
    return {}


def update_configuration_set_tracking_options(ctx: RequestContext, params: Params) -> Params:
    cs = _configuration_set(ctx, params)
    if cs.tracking_options is None:
        raise errors.tracking_options_do_not_exist(cs.name)
    cs.tracking_options = {**cs.tracking_options, **_tracking(params)}
    return {}


def delete_configuration_set_tracking_options(ctx: RequestContext, params: Params) -> Params:
    cs = _configuration_set(ctx, params)
    if cs.tracking_options is None:
        raise errors.tracking_options_do_not_exist(cs.name)
    cs.tracking_options = None
    return {}


def put_configuration_set_delivery_options(ctx: RequestContext, params: Params) -> Params:
    cs = _configuration_set(ctx, params)
    options = params.get("DeliveryOptions")
    if options is None:
        cs.delivery_options = None
    else:
        tls = options.get("TlsPolicy")
        cs.delivery_options = {
            **(cs.delivery_options or {}),
            **({} if tls is None else {"TlsPolicy": v2_enum(tls)}),
        }
    return {}


HANDLERS: dict[str, Handler] = {
    # identities
    "VerifyEmailIdentity": verify_email_identity,
    "VerifyEmailAddress": verify_email_identity,
    "VerifyDomainIdentity": verify_domain_identity,
    "VerifyDomainDkim": verify_domain_dkim,
    "ListIdentities": list_identities,
    "ListVerifiedEmailAddresses": list_verified_email_addresses,
    "DeleteIdentity": delete_identity,
    "DeleteVerifiedEmailAddress": delete_verified_email_address,
    "GetIdentityVerificationAttributes": get_identity_verification_attributes,
    "GetIdentityDkimAttributes": get_identity_dkim_attributes,
    "GetIdentityMailFromDomainAttributes": get_identity_mail_from_domain_attributes,
    "GetIdentityNotificationAttributes": get_identity_notification_attributes,
    "SetIdentityNotificationTopic": set_identity_notification_topic,
    "SetIdentityHeadersInNotificationsEnabled": set_identity_headers_in_notifications_enabled,
    "SetIdentityFeedbackForwardingEnabled": set_identity_feedback_forwarding_enabled,
    "SetIdentityMailFromDomain": set_identity_mail_from_domain,
    "SetIdentityDkimEnabled": set_identity_dkim_enabled,
    "PutIdentityPolicy": put_identity_policy,
    "GetIdentityPolicies": get_identity_policies,
    "ListIdentityPolicies": list_identity_policies,
    "DeleteIdentityPolicy": delete_identity_policy,
    # templates
    "CreateTemplate": create_template,
    "GetTemplate": get_template,
    "UpdateTemplate": update_template,
    "DeleteTemplate": delete_template,
    "ListTemplates": list_templates,
    "TestRenderTemplate": render_test_template,
    # configuration sets
    "CreateConfigurationSet": create_configuration_set,
    "DescribeConfigurationSet": describe_configuration_set,
    "ListConfigurationSets": list_configuration_sets,
    "DeleteConfigurationSet": delete_configuration_set,
    "UpdateConfigurationSetSendingEnabled": update_configuration_set_sending_enabled,
    "UpdateConfigurationSetReputationMetricsEnabled": (
        update_configuration_set_reputation_metrics_enabled
    ),
    "CreateConfigurationSetEventDestination": create_configuration_set_event_destination,
    "UpdateConfigurationSetEventDestination": update_configuration_set_event_destination,
    "DeleteConfigurationSetEventDestination": delete_configuration_set_event_destination,
    "CreateConfigurationSetTrackingOptions": create_configuration_set_tracking_options,
    "UpdateConfigurationSetTrackingOptions": update_configuration_set_tracking_options,
    "DeleteConfigurationSetTrackingOptions": delete_configuration_set_tracking_options,
    "PutConfigurationSetDeliveryOptions": put_configuration_set_delivery_options,
}
HANDLERS.update(send_ops.V1_HANDLERS)
