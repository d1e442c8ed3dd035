"""Identity core: verification modes, what "verified" covers, and the v1/v2 identity handlers."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.config import Settings
from emulator.ses import identities, v1_ops, v2_ops
from emulator.ses.context import RequestContext
from emulator.ses.errors import Api, SesError
from emulator.ses.state import AccountState, Backend

INSTANT = Settings()
PENDING = Settings(verification="pending")
AUTO = Settings(auto_verify=True)


def _state(settings: Settings = INSTANT) -> AccountState:
    return Backend(settings).account()


def _ctx(api: Api, backend: Backend | None = None) -> RequestContext:
    return RequestContext(
        api=api,
        operation="Test",
        account_id="000000000000",
        region="us-east-1",
        request_id="r-1",
        backend=backend or Backend(INSTANT),
    )


def _call(ctx: RequestContext, operation: str, **params: Any) -> dict[str, Any]:
    handlers = v1_ops.HANDLERS if ctx.api == "v1" else v2_ops.HANDLERS
    return handlers[operation](ctx, params)


# --- verify -----------------------------------------------------------------------------


def test_address_identity_keeps_its_case_and_domain_is_lower_cased() -> None:
    state = _state()
    address = identities.verify(state, "Sender@Example.COM", now=1.0, settings=INSTANT)
    domain = identities.verify(state, "Example.ORG", now=2.0, settings=INSTANT)
    assert (address.name, address.kind) == ("Sender@Example.COM", "EmailAddress")
    assert (domain.name, domain.kind) == ("example.org", "Domain")
    assert sorted(state.identities) == ["Sender@Example.COM", "example.org"]


def test_instant_mode_verifies_at_once_and_pending_mode_waits() -> None:
    assert identities.verify(_state(), "a@x.com", now=0, settings=INSTANT).status == "Success"
    pending = _state(PENDING)
    assert identities.verify(pending, "a@x.com", now=0, settings=PENDING).status == "Pending"
    assert identities.set_status(pending, "a@x.com", "Success").status == "Success"


def test_reverifying_keeps_creation_time_and_domain_tokens() -> None:
    state = _state()
    first = identities.verify(state, "example.com", now=10.0, settings=INSTANT)
    token, dkim = first.token, list(first.dkim_tokens)
    again = identities.verify(state, "EXAMPLE.com", now=99.0, settings=INSTANT)
    assert again is first
    assert (again.created, again.token, again.dkim_tokens) == (10.0, token, dkim)


def test_domain_gets_a_base64_token_and_three_dkim_tokens() -> None:
    identity = identities.verify(_state(), "example.com", now=0, settings=INSTANT)
    assert len(base64.b64decode(identity.token, validate=True)) == 32
    assert len(identity.dkim_tokens) == 3
    assert all(re.fullmatch(r"[a-z0-9]{32}", t) for t in identity.dkim_tokens)
    address = identities.verify(_state(), "a@example.com", now=0, settings=INSTANT)
    assert (address.token, address.dkim_tokens) == ("", [])


@pytest.mark.parametrize("name", ["@example.com", "a@", "a b@example.com", "bad_domain!.com"])
def test_malformed_names_are_rejected(name: str) -> None:
    with pytest.raises(SesError) as caught:
        identities.verify(_state(), name, now=0, settings=INSTANT)
    assert caught.value.for_api("v1").code == "InvalidParameterValue"
    assert caught.value.for_api("v2").code == "BadRequestException"


def test_set_status_on_unknown_identity_is_not_found() -> None:
    with pytest.raises(SesError) as caught:
        identities.set_status(_state(), "nobody@example.com", "Success")
    assert caught.value.for_api("v2").status == 404
    assert caught.value.message == "Email identity nobody@example.com does not exist."


def test_delete_reports_whether_the_identity_existed() -> None:
    state = _state()
    identities.verify(state, "Example.com", now=0, settings=INSTANT)
    assert identities.delete(state, "EXAMPLE.COM") is True
    assert identities.delete(state, "example.com") is False


def test_list_identities_filters_by_kind_in_creation_order() -> None:
    state = _state()
    for i, name in enumerate(["b@x.com", "x.com", "a@x.com"]):
        identities.verify(state, name, now=float(i), settings=INSTANT)
    assert [i.name for i in identities.list_identities(state)] == ["b@x.com", "x.com", "a@x.com"]
    assert [i.name for i in identities.list_identities(state, "EmailAddress")] == [
        "b@x.com",
        "a@x.com",
    ]
    assert [i.name for i in identities.list_identities(state, "Domain")] == ["x.com"]


# --- is_verified ------------------------------------------------------------------------


def _verified(*names: str, settings: Settings = INSTANT) -> AccountState:
    state = _state(settings)
    for name in names:
        identities.verify(state, name, now=0, settings=settings)
    return state


def test_address_identity_is_case_sensitive() -> None:
    state = _verified("sender@EXAMPLE.com")
    assert identities.is_verified(state, "sender@EXAMPLE.com", settings=INSTANT)
    assert not identities.is_verified(state, "sender@example.com", settings=INSTANT)
    assert not identities.is_verified(state, "Sender@EXAMPLE.com", settings=INSTANT)


def test_plus_label_is_covered_by_the_base_address() -> None:
    state = _verified("a@example.com")
    assert identities.is_verified(state, "a+news@example.com", settings=INSTANT)
    assert identities.is_verified(state, "a+x+y@example.com", settings=INSTANT)
    assert not identities.is_verified(state, "ab@example.com", settings=INSTANT)
    # The label is not a wildcard the other way round.
    labelled = _verified("a+news@example.com")
    assert not identities.is_verified(labelled, "a@example.com", settings=INSTANT)


def test_domain_covers_its_addresses_and_all_subdomains_case_insensitively() -> None:
    state = _verified("Example.com")
    for address in ("x@example.com", "x@EXAMPLE.COM", "x@mail.example.com", "x@a.b.example.com"):
        assert identities.is_verified(state, address, settings=INSTANT), address
    for address in ("x@badexample.com", "x@example.com.evil.org", "x@example.org"):
        assert not identities.is_verified(state, address, settings=INSTANT), address


def test_subdomain_identity_does_not_cover_the_parent() -> None:
    state = _verified("mail.example.com")
    assert not identities.is_verified(state, "x@example.com", settings=INSTANT)


def test_display_name_form_is_reduced_to_the_bare_address() -> None:
    state = _verified("a@example.com")
    assert identities.is_verified(state, '"Ann A." <a@example.com>', settings=INSTANT)
    assert identities.is_verified(state, "Ann <a+tag@example.com>", settings=INSTANT)
    assert not identities.is_verified(state, "Ann <b@example.com>", settings=INSTANT)


def test_only_success_identities_count() -> None:
    state = _verified("a@example.com", "example.org", settings=PENDING)
    assert not identities.is_verified(state, "a@example.com", settings=PENDING)
    assert not identities.is_verified(state, "x@example.org", settings=PENDING)
    identities.set_status(state, "example.org", "Success")
    assert identities.is_verified(state, "x@example.org", settings=PENDING)
    identities.set_status(state, "example.org", "Failed")
    assert not identities.is_verified(state, "x@example.org", settings=PENDING)


def test_auto_verify_treats_every_sender_as_verified() -> None:
    assert identities.is_verified(_state(AUTO), "anyone@anywhere.test", settings=AUTO)


def test_seeded_identities_are_verified() -> None:
    settings = Settings(verified_identities=("Seed@x.com", "Y.org"))
    state = Backend(settings).account()
    assert identities.is_verified(state, "Seed@x.com", settings=settings)
    assert identities.is_verified(state, "z@sub.y.org", settings=settings)


@given(
    local=st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True),
    label=st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True),
    subdomains=st.lists(st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True), max_size=3),
)
def test_verified_domain_covers_any_labelled_address_below_it(
    local: str, label: str, subdomains: list[str]
) -> None:
    state = _verified("example.com")
    domain = ".".join([*subdomains, "example.com"])
    assert identities.is_verified(state, f"{local}+{label}@{domain.upper()}", settings=INSTANT)


# --- handlers ---------------------------------------------------------------------------


def test_v1_verification_attributes_omit_unknown_identities() -> None:
    ctx = _ctx("v1")
    _call(ctx, "VerifyEmailIdentity", EmailAddress="a@example.com")
    token = _call(ctx, "VerifyDomainIdentity", Domain="Example.org")["VerificationToken"]
    out = _call(
        ctx,
        "GetIdentityVerificationAttributes",
        Identities=["a@example.com", "example.org", "unknown@example.com"],
    )
    assert out == {
        "VerificationAttributes": {
            "a@example.com": {"VerificationStatus": "Success"},
            "example.org": {"VerificationStatus": "Success", "VerificationToken": token},
        }
    }


def test_v1_setter_on_unknown_identity_is_message_rejected() -> None:
    with pytest.raises(SesError) as caught:
        _call(
            _ctx("v1"),
            "SetIdentityHeadersInNotificationsEnabled",
            Identity="unknown@example.com",
            NotificationType="Bounce",
            Enabled=True,
        )
    assert caught.value.for_api("v1").code == "MessageRejected"
    assert caught.value.message == "Identity unknown@example.com is not verified or does not exist."


def test_v1_invalid_notification_type_names_the_valid_values() -> None:
    ctx = _ctx("v1")
    _call(ctx, "VerifyEmailIdentity", EmailAddress="a@example.com")
    with pytest.raises(SesError) as caught:
        _call(
            ctx,
            "SetIdentityNotificationTopic",
            Identity="a@example.com",
            NotificationType="InvalidType",
        )
    assert caught.value.message == (
        "Invalid notification type: InvalidType. Valid values are: Bounce, Complaint, Delivery."
    )


def test_v1_and_v2_see_the_same_identities_with_their_own_status_spelling() -> None:
    backend = Backend(PENDING)
    _call(_ctx("v1", backend), "VerifyEmailIdentity", EmailAddress="a@example.com")
    got = _call(_ctx("v2", backend), "GetEmailIdentity", EmailIdentity="a@example.com")
    assert got["VerificationStatus"] == "PENDING"
    assert got["VerifiedForSendingStatus"] is False
    identities.set_status(backend.account(), "a@example.com", "TemporaryFailure")
    listed = _call(_ctx("v2", backend), "ListEmailIdentities")
    assert listed["EmailIdentities"] == [
        {
            "IdentityType": "EMAIL_ADDRESS",
            "IdentityName": "a@example.com",
            "SendingEnabled": False,
            "VerificationStatus": "TEMPORARY_FAILURE",
        }
    ]


def test_v2_create_twice_is_already_exists_and_unknown_get_is_404() -> None:
    ctx = _ctx("v2")
    created = _call(ctx, "CreateEmailIdentity", EmailIdentity="example.com")
    assert created["IdentityType"] == "DOMAIN"
    assert created["DkimAttributes"]["Status"] == "SUCCESS"
    with pytest.raises(SesError) as caught:
        _call(ctx, "CreateEmailIdentity", EmailIdentity="EXAMPLE.com")
    assert caught.value.for_api("v2").code == "AlreadyExistsException"
    with pytest.raises(SesError) as missing:
        _call(ctx, "GetEmailIdentity", EmailIdentity="nope.example")
    assert (missing.value.for_api("v2").code, missing.value.for_api("v2").status) == (
        "NotFoundException",
        404,
    )


def test_mail_from_domain_must_be_a_subdomain_of_the_identity() -> None:
    ctx = _ctx("v1")
    _call(ctx, "VerifyDomainIdentity", Domain="foo.com")
    with pytest.raises(SesError) as caught:
        _call(ctx, "SetIdentityMailFromDomain", Identity="foo.com", MailFromDomain="x.bar.com")
    assert caught.value.for_api("v1").code == "InvalidParameterValue"
    _call(
        ctx,
        "SetIdentityMailFromDomain",
        Identity="foo.com",
        MailFromDomain="mail.foo.com",
        BehaviorOnMXFailure="RejectMessage",
    )
    attrs = _call(ctx, "GetIdentityMailFromDomainAttributes", Identities=["foo.com"])
    assert attrs["MailFromDomainAttributes"]["foo.com"] == {
        "MailFromDomain": "mail.foo.com",
        "MailFromDomainStatus": "Success",
        "BehaviorOnMXFailure": "RejectMessage",
    }
    v2 = _call(_ctx("v2", ctx.backend), "GetEmailIdentity", EmailIdentity="foo.com")
    assert v2["MailFromAttributes"]["BehaviorOnMxFailure"] == "REJECT_MESSAGE"


def test_policies_must_be_json_objects_and_v2_create_refuses_duplicates() -> None:
    ctx = _ctx("v2")
    _call(ctx, "CreateEmailIdentity", EmailIdentity="a@example.com")
    policy = '{"Version": "2012-10-17", "Statement": []}'
    _call(
        ctx,
        "CreateEmailIdentityPolicy",
        EmailIdentity="a@example.com",
        PolicyName="p",
        Policy=policy,
    )
    with pytest.raises(SesError) as dup:
        _call(
            ctx,
            "CreateEmailIdentityPolicy",
            EmailIdentity="a@example.com",
            PolicyName="p",
            Policy=policy,
        )
    assert dup.value.for_api("v2").code == "AlreadyExistsException"
    with pytest.raises(SesError) as bad:
        _call(
            _ctx("v1", ctx.backend),
            "PutIdentityPolicy",
            Identity="a@example.com",
            PolicyName="q",
            Policy="[1]",
        )
    assert bad.value.for_api("v1").code == "InvalidPolicy"
    assert _call(ctx, "GetEmailIdentityPolicies", EmailIdentity="a@example.com") == {
        "Policies": {"p": policy}
    }


@given(local=st.from_regex(r"[a-z]{1,12}", fullmatch=True), data=st.data())
def test_changing_the_case_of_a_verified_address_unverifies_it(
    local: str, data: st.DataObject
) -> None:
    state = _verified(f"{local}@example.com")
    index = data.draw(st.integers(min_value=0, max_value=len(local) - 1))
    changed = local[:index] + local[index].upper() + local[index + 1 :]
    assert not identities.is_verified(state, f"{changed}@example.com", settings=INSTANT)


def test_bring_your_own_dkim_is_reported_as_external() -> None:
    ctx = _ctx("v2")
    created = _call(
        ctx,
        "CreateEmailIdentity",
        EmailIdentity="byo.example",
        DkimSigningAttributes={"DomainSigningSelector": "s1", "DomainSigningPrivateKey": "QUJD"},
    )
    assert created["DkimAttributes"]["SigningAttributesOrigin"] == "EXTERNAL"


def test_v2_create_with_unknown_configuration_set_is_not_found() -> None:
    ctx = _ctx("v2")
    with pytest.raises(SesError) as caught:
        _call(
            ctx, "CreateEmailIdentity", EmailIdentity="a@example.com", ConfigurationSetName="nope"
        )
    assert caught.value.message == "Configuration set <nope> does not exist."
    assert ctx.state.identities == {}


def test_identity_changes_apply_to_an_address_checked_before() -> None:
    state = _state()
    sender = "Ann <ann@example.com>"
    assert not identities.is_verified(state, sender, settings=INSTANT)
    identities.verify(state, "ann@example.com", now=0.0, settings=INSTANT)
    assert identities.is_verified(state, sender, settings=INSTANT)
    identities.delete(state, "ann@example.com")
    assert not identities.is_verified(state, sender, settings=INSTANT)


def test_long_display_name_is_reduced_like_a_short_one() -> None:
    state = _verified("a@example.com")
    assert identities.is_verified(state, f'"{"n" * 600}" <a@example.com>', settings=INSTANT)
    assert not identities.is_verified(state, f'"{"n" * 600}" <b@example.com>', settings=INSTANT)
