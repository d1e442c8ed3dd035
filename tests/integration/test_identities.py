"""Identities through real boto3 ``ses`` and ``sesv2`` clients against the running emulator."""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from emulator.server import EmulatorServer
from emulator.ses import identities
from tests.integration.client_errors import error_of

POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": ["ses:SendEmail"],
                "Resource": "*",
            }
        ],
    }
)


# --- v1 verification and listing ----------------------------------------------------------


def test_v1_verify_and_list_identities_by_type(ses: Any) -> None:
    ses.verify_email_identity(EmailAddress="Sender@Example.com")
    ses.verify_email_address(EmailAddress="old@example.com")
    token = ses.verify_domain_identity(Domain="Example.ORG")["VerificationToken"]
    assert len(token) == 44
    assert ses.list_identities()["Identities"] == [
        "Sender@Example.com",
        "old@example.com",
        "example.org",
    ]
    assert ses.list_identities(IdentityType="Domain")["Identities"] == ["example.org"]
    assert ses.list_identities(IdentityType="EmailAddress")["Identities"] == [
        "Sender@Example.com",
        "old@example.com",
    ]
    assert ses.list_verified_email_addresses()["VerifiedEmailAddresses"] == [
        "Sender@Example.com",
        "old@example.com",
    ]


def test_v1_list_identities_pages_with_next_token(ses: Any) -> None:
    names = [f"user{i}@example.com" for i in range(5)]
    for name in names:
        ses.verify_email_identity(EmailAddress=name)
    first = ses.list_identities(MaxItems=2)
    assert first["Identities"] == names[:2]
    second = ses.list_identities(MaxItems=2, NextToken=first["NextToken"])
    third = ses.list_identities(MaxItems=2, NextToken=second["NextToken"])
    assert second["Identities"] + third["Identities"] == names[2:]
    assert "NextToken" not in third


def test_v1_garbage_next_token_is_invalid_parameter_value(ses: Any) -> None:
    with pytest.raises(ClientError) as caught:
        ses.list_identities(NextToken="garbage")
    assert error_of(caught) == ("InvalidParameterValue", 400, "Invalid NextToken: garbage")


def test_v1_delete_identity_and_verified_address(ses: Any) -> None:
    ses.verify_email_identity(EmailAddress="a@example.com")
    ses.verify_domain_identity(Domain="example.com")
    ses.delete_verified_email_address(EmailAddress="a@example.com")
    ses.delete_identity(Identity="EXAMPLE.com")
    # Deleting what does not exist succeeds, as SES's model has no error for it.
    ses.delete_identity(Identity="ghost@example.com")
    assert ses.list_identities()["Identities"] == []


def test_v1_verification_attributes_list_only_known_identities(ses: Any) -> None:
    ses.verify_email_identity(EmailAddress="a@example.com")
    token = ses.verify_domain_identity(Domain="example.com")["VerificationToken"]
    attributes = ses.get_identity_verification_attributes(
        Identities=["a@example.com", "example.com", "unknown@example.com", "unknown.org"]
    )["VerificationAttributes"]
    assert attributes == {
        "a@example.com": {"VerificationStatus": "Success"},
        "example.com": {"VerificationStatus": "Success", "VerificationToken": token},
    }


def test_v1_dkim_tokens_and_attributes(ses: Any) -> None:
    tokens = ses.verify_domain_dkim(Domain="example.com")["DkimTokens"]
    assert len(tokens) == 3
    ses.verify_email_identity(EmailAddress="a@example.com")
    ses.set_identity_dkim_enabled(Identity="example.com", DkimEnabled=False)
    attributes = ses.get_identity_dkim_attributes(Identities=["example.com", "a@example.com"])
    assert attributes["DkimAttributes"] == {
        "example.com": {
            "DkimEnabled": False,
            "DkimVerificationStatus": "Success",
            "DkimTokens": tokens,
        },
        "a@example.com": {"DkimEnabled": False, "DkimVerificationStatus": "NotStarted"},
    }


def test_v1_mail_from_domain_round_trip(ses: Any) -> None:
    ses.verify_domain_identity(Domain="foo.com")
    ses.set_identity_mail_from_domain(
        Identity="foo.com", MailFromDomain="bounce.foo.com", BehaviorOnMXFailure="RejectMessage"
    )
    got = ses.get_identity_mail_from_domain_attributes(Identities=["foo.com"])
    assert got["MailFromDomainAttributes"]["foo.com"] == {
        "MailFromDomain": "bounce.foo.com",
        "MailFromDomainStatus": "Success",
        "BehaviorOnMXFailure": "RejectMessage",
    }
    ses.set_identity_mail_from_domain(Identity="foo.com")
    got = ses.get_identity_mail_from_domain_attributes(Identities=["foo.com"])
    assert got["MailFromDomainAttributes"]["foo.com"] == {"BehaviorOnMXFailure": "UseDefaultValue"}
    with pytest.raises(ClientError) as caught:
        ses.set_identity_mail_from_domain(Identity="foo.com", MailFromDomain="bar.com")
    assert error_of(caught) == (
        "InvalidParameterValue",
        400,
        "Provided MAIL-FROM domain 'bar.com' is not subdomain of the domain of the identity "
        "'foo.com'.",
    )


def test_v1_notification_settings_round_trip(ses: Any) -> None:
    topic = "arn:aws:sns:us-east-1:000000000000:bounces"
    ses.verify_email_identity(EmailAddress="a@example.com")
    ses.set_identity_notification_topic(
        Identity="a@example.com", NotificationType="Bounce", SnsTopic=topic
    )
    ses.set_identity_headers_in_notifications_enabled(
        Identity="a@example.com", NotificationType="Bounce", Enabled=True
    )
    ses.set_identity_feedback_forwarding_enabled(Identity="a@example.com", ForwardingEnabled=False)
    got = ses.get_identity_notification_attributes(Identities=["a@example.com", "x@y.example"])
    assert got["NotificationAttributes"] == {
        "a@example.com": {
            "BounceTopic": topic,
            "ForwardingEnabled": False,
            "HeadersInBounceNotificationsEnabled": True,
            "HeadersInComplaintNotificationsEnabled": False,
            "HeadersInDeliveryNotificationsEnabled": False,
        }
    }
    # Without SnsTopic the topic is removed.
    ses.set_identity_notification_topic(Identity="a@example.com", NotificationType="Bounce")
    got = ses.get_identity_notification_attributes(Identities=["a@example.com"])
    assert "BounceTopic" not in got["NotificationAttributes"]["a@example.com"]


@pytest.mark.parametrize(
    "call",
    [
        lambda ses: ses.set_identity_headers_in_notifications_enabled(
            Identity="unknown@example.com", NotificationType="Bounce", Enabled=True
        ),
        lambda ses: ses.set_identity_notification_topic(
            Identity="unknown@example.com", NotificationType="Complaint"
        ),
        lambda ses: ses.set_identity_feedback_forwarding_enabled(
            Identity="unknown@example.com", ForwardingEnabled=True
        ),
        lambda ses: ses.set_identity_dkim_enabled(Identity="unknown@example.com", DkimEnabled=True),
        lambda ses: ses.set_identity_mail_from_domain(Identity="unknown@example.com"),
        lambda ses: ses.list_identity_policies(Identity="unknown@example.com"),
    ],
    ids=["headers", "topic", "forwarding", "dkim", "mail-from", "policies"],
)
def test_v1_identity_setters_on_unknown_identity_are_message_rejected(
    ses: Any, call: Callable[[Any], Any]
) -> None:
    with pytest.raises(ses.exceptions.MessageRejected) as caught:
        call(ses)
    assert error_of(caught) == (
        "MessageRejected",
        400,
        "Identity unknown@example.com is not verified or does not exist.",
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda ses: ses.set_identity_notification_topic(
            Identity="a@example.com", NotificationType="InvalidType"
        ),
        lambda ses: ses.set_identity_headers_in_notifications_enabled(
            Identity="a@example.com", NotificationType="InvalidType", Enabled=True
        ),
    ],
    ids=["topic", "headers"],
)
def test_v1_invalid_notification_type_is_ses_invalid_parameter_value(
    ses: Any, call: Callable[[Any], Any]
) -> None:
    # boto3 does not check enums, so the value reaches the emulator; SES answers with its own
    # text (ses-spec §2.5 [O]), not the Coral enum message the model check would give.
    ses.verify_email_identity(EmailAddress="a@example.com")
    with pytest.raises(ClientError) as caught:
        call(ses)
    assert error_of(caught) == (
        "InvalidParameterValue",
        400,
        "Invalid notification type: InvalidType. Valid values are: Bounce, Complaint, Delivery.",
    )


def test_other_identity_enums_keep_the_coral_validation_error(ses: Any, sesv2: Any) -> None:
    with pytest.raises(ClientError) as caught:
        ses.list_identities(IdentityType="Address")
    assert error_of(caught) == (
        "ValidationError",
        400,
        "1 validation error detected: Value 'Address' at 'identityType' failed to satisfy "
        "constraint: Member must satisfy enum value set: [EmailAddress, Domain]",
    )
    sesv2.create_email_identity(EmailIdentity="example.com")
    with pytest.raises(ClientError) as caught:
        sesv2.put_email_identity_mail_from_attributes(
            EmailIdentity="example.com", BehaviorOnMxFailure="Bounce"
        )
    assert error_of(caught) == (
        "BadRequestException",
        400,
        "1 validation error detected: Value 'Bounce' at 'behaviorOnMxFailure' failed to satisfy "
        "constraint: Member must satisfy enum value set: [USE_DEFAULT_VALUE, REJECT_MESSAGE]",
    )


def test_v1_identity_policies_round_trip(ses: Any) -> None:
    ses.verify_domain_identity(Domain="example.com")
    ses.put_identity_policy(Identity="example.com", PolicyName="p1", Policy=POLICY)
    assert ses.list_identity_policies(Identity="example.com")["PolicyNames"] == ["p1"]
    got = ses.get_identity_policies(Identity="example.com", PolicyNames=["p1", "nope"])
    assert got["Policies"] == {"p1": POLICY}
    ses.delete_identity_policy(Identity="example.com", PolicyName="p1")
    ses.delete_identity_policy(Identity="example.com", PolicyName="p1")
    assert ses.list_identity_policies(Identity="example.com")["PolicyNames"] == []


def test_v1_invalid_policy_is_invalid_policy_exception(ses: Any) -> None:
    ses.verify_domain_identity(Domain="example.com")
    with pytest.raises(ses.exceptions.InvalidPolicyException) as caught:
        ses.put_identity_policy(Identity="example.com", PolicyName="p", Policy="not json")
    code, status, _ = error_of(caught)
    assert (code, status) == ("InvalidPolicy", 400)


# --- v2 ---------------------------------------------------------------------------------


def test_v2_create_get_list_delete_email_identity(sesv2: Any) -> None:
    created = sesv2.create_email_identity(
        EmailIdentity="Example.com", Tags=[{"Key": "team", "Value": "mail"}]
    )
    assert created["IdentityType"] == "DOMAIN"
    assert created["VerifiedForSendingStatus"] is True
    assert created["DkimAttributes"]["Status"] == "SUCCESS"
    assert len(created["DkimAttributes"]["Tokens"]) == 3
    sesv2.create_email_identity(EmailIdentity="a+b@example.net")

    got = sesv2.get_email_identity(EmailIdentity="example.com")
    assert got["VerificationStatus"] == "SUCCESS"
    assert got["Tags"] == [{"Key": "team", "Value": "mail"}]
    assert got["FeedbackForwardingStatus"] is True
    # The path segment carries %2B and %40; the identity keeps its exact name.
    assert sesv2.get_email_identity(EmailIdentity="a+b@example.net")["IdentityType"] == (
        "EMAIL_ADDRESS"
    )

    listed = sesv2.list_email_identities()["EmailIdentities"]
    assert listed == [
        {
            "IdentityType": "DOMAIN",
            "IdentityName": "example.com",
            "SendingEnabled": True,
            "VerificationStatus": "SUCCESS",
        },
        {
            "IdentityType": "EMAIL_ADDRESS",
            "IdentityName": "a+b@example.net",
            "SendingEnabled": True,
            "VerificationStatus": "SUCCESS",
        },
    ]
    sesv2.delete_email_identity(EmailIdentity="a+b@example.net")
    assert [i["IdentityName"] for i in sesv2.list_email_identities()["EmailIdentities"]] == [
        "example.com"
    ]


def test_v2_list_email_identities_pages(sesv2: Any) -> None:
    for i in range(3):
        sesv2.create_email_identity(EmailIdentity=f"u{i}@example.com")
    first = sesv2.list_email_identities(PageSize=2)
    second = sesv2.list_email_identities(PageSize=2, NextToken=first["NextToken"])
    names = [i["IdentityName"] for i in first["EmailIdentities"] + second["EmailIdentities"]]
    assert names == ["u0@example.com", "u1@example.com", "u2@example.com"]
    assert "NextToken" not in second


def test_v2_create_existing_identity_is_already_exists(sesv2: Any, ses: Any) -> None:
    ses.verify_email_identity(EmailAddress="a@example.com")
    with pytest.raises(sesv2.exceptions.AlreadyExistsException) as caught:
        sesv2.create_email_identity(EmailIdentity="a@example.com")
    assert error_of(caught) == (
        "AlreadyExistsException",
        400,
        "Email identity a@example.com already exists.",
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_email_identity(EmailIdentity="ghost@example.com"),
        lambda c: c.delete_email_identity(EmailIdentity="ghost@example.com"),
        lambda c: c.put_email_identity_dkim_attributes(
            EmailIdentity="ghost@example.com", SigningEnabled=True
        ),
        lambda c: c.put_email_identity_feedback_attributes(
            EmailIdentity="ghost@example.com", EmailForwardingEnabled=True
        ),
        lambda c: c.put_email_identity_mail_from_attributes(EmailIdentity="ghost@example.com"),
        lambda c: c.put_email_identity_configuration_set_attributes(
            EmailIdentity="ghost@example.com"
        ),
        lambda c: c.get_email_identity_policies(EmailIdentity="ghost@example.com"),
    ],
    ids=["get", "delete", "dkim", "feedback", "mail-from", "configuration-set", "policies"],
)
def test_v2_calls_on_unknown_identity_are_not_found(sesv2: Any, call: Callable[[Any], Any]) -> None:
    with pytest.raises(sesv2.exceptions.NotFoundException) as caught:
        call(sesv2)
    assert error_of(caught) == (
        "NotFoundException",
        404,
        "Email identity ghost@example.com does not exist.",
    )


def test_v2_identity_attribute_setters_round_trip(sesv2: Any, ses: Any) -> None:
    sesv2.create_email_identity(EmailIdentity="example.com")
    sesv2.create_configuration_set(ConfigurationSetName="cs")
    sesv2.put_email_identity_dkim_attributes(EmailIdentity="example.com", SigningEnabled=False)
    sesv2.put_email_identity_feedback_attributes(
        EmailIdentity="example.com", EmailForwardingEnabled=False
    )
    sesv2.put_email_identity_mail_from_attributes(
        EmailIdentity="example.com",
        MailFromDomain="m.example.com",
        BehaviorOnMxFailure="REJECT_MESSAGE",
    )
    sesv2.put_email_identity_configuration_set_attributes(
        EmailIdentity="example.com", ConfigurationSetName="cs"
    )
    got = sesv2.get_email_identity(EmailIdentity="example.com")
    assert got["DkimAttributes"]["SigningEnabled"] is False
    assert got["FeedbackForwardingStatus"] is False
    assert got["MailFromAttributes"] == {
        "MailFromDomain": "m.example.com",
        "MailFromDomainStatus": "SUCCESS",
        "BehaviorOnMxFailure": "REJECT_MESSAGE",
    }
    assert got["ConfigurationSetName"] == "cs"
    # The same settings, read through v1.
    v1 = ses.get_identity_mail_from_domain_attributes(Identities=["example.com"])
    assert v1["MailFromDomainAttributes"]["example.com"]["BehaviorOnMXFailure"] == "RejectMessage"
    with pytest.raises(sesv2.exceptions.NotFoundException) as caught:
        sesv2.put_email_identity_configuration_set_attributes(
            EmailIdentity="example.com", ConfigurationSetName="nope"
        )
    assert error_of(caught) == (
        "NotFoundException",
        404,
        "Configuration set <nope> does not exist.",
    )


def test_v2_identity_policies_round_trip(sesv2: Any) -> None:
    sesv2.create_email_identity(EmailIdentity="a@example.com")
    sesv2.create_email_identity_policy(EmailIdentity="a@example.com", PolicyName="p", Policy=POLICY)
    with pytest.raises(sesv2.exceptions.AlreadyExistsException):
        sesv2.create_email_identity_policy(
            EmailIdentity="a@example.com", PolicyName="p", Policy=POLICY
        )
    updated = POLICY.replace("SendEmail", "SendRawEmail")
    sesv2.update_email_identity_policy(
        EmailIdentity="a@example.com", PolicyName="p", Policy=updated
    )
    assert sesv2.get_email_identity_policies(EmailIdentity="a@example.com")["Policies"] == {
        "p": updated
    }
    assert sesv2.get_email_identity(EmailIdentity="a@example.com")["Policies"] == {"p": updated}
    sesv2.delete_email_identity_policy(EmailIdentity="a@example.com", PolicyName="p")
    with pytest.raises(sesv2.exceptions.NotFoundException) as caught:
        sesv2.delete_email_identity_policy(EmailIdentity="a@example.com", PolicyName="p")
    assert error_of(caught) == (
        "NotFoundException",
        404,
        "Policy p does not exist for a@example.com.",
    )
    with pytest.raises(sesv2.exceptions.BadRequestException):
        sesv2.create_email_identity_policy(
            EmailIdentity="a@example.com", PolicyName="q", Policy="[]"
        )


def test_v2_identity_tags_by_arn(sesv2: Any) -> None:
    sesv2.create_email_identity(EmailIdentity="a@example.com")
    arn = "arn:aws:ses:us-east-1:000000000000:identity/a@example.com"
    sesv2.tag_resource(ResourceArn=arn, Tags=[{"Key": "k1", "Value": "v1"}])
    sesv2.tag_resource(ResourceArn=arn, Tags=[{"Key": "k2", "Value": "v2"}])
    sesv2.untag_resource(ResourceArn=arn, TagKeys=["k1"])
    assert sesv2.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "k2", "Value": "v2"}]
    missing = "arn:aws:ses:us-east-1:000000000000:identity/ghost@example.com"
    with pytest.raises(sesv2.exceptions.NotFoundException):
        sesv2.list_tags_for_resource(ResourceArn=missing)


# --- sharing, isolation, modes ----------------------------------------------------------


def test_v1_and_v2_share_identities(ses: Any, sesv2: Any) -> None:
    sesv2.create_email_identity(EmailIdentity="v2@example.com")
    ses.verify_domain_identity(Domain="v1.example")
    assert ses.list_identities()["Identities"] == ["v2@example.com", "v1.example"]
    assert sesv2.get_email_identity(EmailIdentity="v1.example")["IdentityType"] == "DOMAIN"
    ses.delete_identity(Identity="v2@example.com")
    with pytest.raises(sesv2.exceptions.NotFoundException):
        sesv2.get_email_identity(EmailIdentity="v2@example.com")


def test_identities_are_per_account_and_per_region(
    ses: Any, make_client: Callable[..., Any]
) -> None:
    ses.verify_email_identity(EmailAddress="a@example.com")
    other_account = make_client("ses", account_key="123456789012")
    other_region = make_client("ses", region="eu-west-1")
    assert other_account.list_identities()["Identities"] == []
    assert other_region.list_identities()["Identities"] == []
    assert ses.list_identities()["Identities"] == ["a@example.com"]


def test_pending_mode_keeps_new_identities_pending_until_verified() -> None:
    with EmulatorServer(verification="pending") as server:
        options = {
            "endpoint_url": server.endpoint_url,
            "region_name": "us-east-1",
            "aws_access_key_id": "AKIDEXAMPLE",
            "aws_secret_access_key": "secret",
            "config": Config(retries={"total_max_attempts": 1}),
        }
        ses = boto3.client("ses", **options)
        sesv2 = boto3.client("sesv2", **options)
        ses.verify_email_identity(EmailAddress="a@example.com")
        created = sesv2.create_email_identity(EmailIdentity="example.com")
        assert created["VerifiedForSendingStatus"] is False
        assert created["DkimAttributes"]["Status"] == "PENDING"
        attributes = ses.get_identity_verification_attributes(Identities=["a@example.com"])
        assert attributes["VerificationAttributes"]["a@example.com"]["VerificationStatus"] == (
            "Pending"
        )
        assert ses.list_verified_email_addresses()["VerifiedEmailAddresses"] == []
        identities.set_status(server.backend.account(), "a@example.com", "Success")
        assert ses.list_verified_email_addresses()["VerifiedEmailAddresses"] == ["a@example.com"]
        got = sesv2.get_email_identity(EmailIdentity="example.com")
        assert got["VerificationStatus"] == "PENDING"
        assert "LastSuccessTimestamp" not in got["VerificationInfo"]


def test_seeded_identities_exist_from_the_start() -> None:
    with EmulatorServer(verified_identities=("seed@example.com", "Seed.ORG")) as server:
        ses = boto3.client(
            "ses",
            endpoint_url=server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="secret",
            config=Config(retries={"total_max_attempts": 1}),
        )
        assert sorted(ses.list_identities()["Identities"]) == ["seed.org", "seed@example.com"]


# --- the docs page ----------------------------------------------------------------------

RESOURCES_PAGE = Path(__file__).resolve().parents[2] / "docs" / "emulator-resources.md"


def _trailing_comments(code: str) -> list[str]:
    lines = code.rstrip("\n").splitlines()
    tail: list[str] = []
    while lines and lines[-1].startswith("# "):
        tail.insert(0, lines.pop()[2:])
    return tail


def test_resources_page_examples_run_and_print_what_they_say() -> None:
    """docs/emulator-resources.md: every block runs, in order, against real servers it starts;
    the ``# `` comment lines that end a block are exactly what it prints."""
    blocks = re.findall(r"```python\n(.*?)```", RESOURCES_PAGE.read_text(), re.S)
    assert len(blocks) >= 8
    namespace: dict[str, Any] = {}
    try:
        for index, code in enumerate(blocks):
            output = io.StringIO()
            with contextlib.redirect_stdout(output):
                exec(compile(code, f"emulator-resources.md[{index}]", "exec"), namespace)
            expected = _trailing_comments(code)
            if expected:
                assert output.getvalue().splitlines() == expected, f"block {index}"
    finally:
        for name in ("server", "pending"):
            server = namespace.get(name)
            if isinstance(server, EmulatorServer):
                server.stop()
