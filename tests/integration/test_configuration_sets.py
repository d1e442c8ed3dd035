"""Configuration sets through real boto3 ``ses`` and ``sesv2`` clients against the emulator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.integration.client_errors import error_of

TOPIC = "arn:aws:sns:us-east-1:000000000000:ses-events"
FIREHOSE = {
    "IAMRoleARN": "arn:aws:iam::000000000000:role/ses",
    "DeliveryStreamARN": "arn:aws:firehose:us-east-1:000000000000:deliverystream/ses",
}


# --- v1 ---------------------------------------------------------------------------------


def test_v1_create_describe_list_delete(ses: Any) -> None:
    ses.create_configuration_set(ConfigurationSet={"Name": "cs-1"})
    ses.create_configuration_set(ConfigurationSet={"Name": "cs_2"})
    described = ses.describe_configuration_set(ConfigurationSetName="cs-1")
    assert described["ConfigurationSet"] == {"Name": "cs-1"}
    assert "EventDestinations" not in described
    assert ses.list_configuration_sets()["ConfigurationSets"] == [
        {"Name": "cs-1"},
        {"Name": "cs_2"},
    ]
    first = ses.list_configuration_sets(MaxItems=1)
    rest = ses.list_configuration_sets(MaxItems=1, NextToken=first["NextToken"])
    assert [c["Name"] for c in first["ConfigurationSets"] + rest["ConfigurationSets"]] == [
        "cs-1",
        "cs_2",
    ]
    ses.delete_configuration_set(ConfigurationSetName="cs-1")
    assert ses.list_configuration_sets()["ConfigurationSets"] == [{"Name": "cs_2"}]


def test_v1_duplicate_set_is_configuration_set_already_exists(ses: Any) -> None:
    ses.create_configuration_set(ConfigurationSet={"Name": "cs"})
    with pytest.raises(ses.exceptions.ConfigurationSetAlreadyExistsException) as caught:
        ses.create_configuration_set(ConfigurationSet={"Name": "cs"})
    assert error_of(caught) == (
        "ConfigurationSetAlreadyExists",
        400,
        "Configuration set <cs> already exists.",
    )


def test_v1_bad_name_is_invalid_configuration_set(ses: Any) -> None:
    with pytest.raises(ses.exceptions.InvalidConfigurationSetException) as caught:
        ses.create_configuration_set(ConfigurationSet={"Name": "has space"})
    assert error_of(caught) == (
        "InvalidConfigurationSet",
        400,
        "Configuration set name <has space> is invalid: only alphanumeric ASCII characters, "
        "'_' and '-' are allowed, up to 64 characters.",
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.describe_configuration_set(ConfigurationSetName="ghost"),
        lambda c: c.delete_configuration_set(ConfigurationSetName="ghost"),
        lambda c: c.update_configuration_set_sending_enabled(
            ConfigurationSetName="ghost", Enabled=False
        ),
        lambda c: c.update_configuration_set_reputation_metrics_enabled(
            ConfigurationSetName="ghost", Enabled=True
        ),
        lambda c: c.create_configuration_set_event_destination(
            ConfigurationSetName="ghost",
            EventDestination={
                "Name": "d",
                "MatchingEventTypes": ["send"],
                "SNSDestination": {"TopicARN": TOPIC},
            },
        ),
        lambda c: c.delete_configuration_set_event_destination(
            ConfigurationSetName="ghost", EventDestinationName="d"
        ),
        lambda c: c.create_configuration_set_tracking_options(
            ConfigurationSetName="ghost", TrackingOptions={"CustomRedirectDomain": "t.example.com"}
        ),
        lambda c: c.put_configuration_set_delivery_options(ConfigurationSetName="ghost"),
    ],
    ids=[
        "describe",
        "delete",
        "sending",
        "reputation",
        "create-destination",
        "delete-destination",
        "tracking",
        "delivery",
    ],
)
def test_v1_unknown_set_is_configuration_set_does_not_exist(
    ses: Any, call: Callable[[Any], Any]
) -> None:
    with pytest.raises(ses.exceptions.ConfigurationSetDoesNotExistException) as caught:
        call(ses)
    assert error_of(caught) == (
        "ConfigurationSetDoesNotExist",
        400,
        "Configuration set <ghost> does not exist.",
    )


def test_v1_event_destinations_are_all_kept(ses: Any) -> None:
    ses.create_configuration_set(ConfigurationSet={"Name": "cs"})
    sns = {
        "Name": "to-sns",
        "Enabled": True,
        "MatchingEventTypes": ["send", "bounce", "renderingFailure"],
        "SNSDestination": {"TopicARN": TOPIC},
    }
    firehose = {
        "Name": "to-firehose",
        "Enabled": False,
        "MatchingEventTypes": ["delivery"],
        "KinesisFirehoseDestination": FIREHOSE,
    }
    ses.create_configuration_set_event_destination(ConfigurationSetName="cs", EventDestination=sns)
    ses.create_configuration_set_event_destination(
        ConfigurationSetName="cs", EventDestination=firehose
    )
    described = ses.describe_configuration_set(
        ConfigurationSetName="cs", ConfigurationSetAttributeNames=["eventDestinations"]
    )
    assert described["EventDestinations"] == [sns, firehose]

    updated = {**sns, "Enabled": False, "MatchingEventTypes": ["complaint"]}
    ses.update_configuration_set_event_destination(
        ConfigurationSetName="cs", EventDestination=updated
    )
    ses.delete_configuration_set_event_destination(
        ConfigurationSetName="cs", EventDestinationName="to-firehose"
    )
    described = ses.describe_configuration_set(
        ConfigurationSetName="cs", ConfigurationSetAttributeNames=["eventDestinations"]
    )
    assert described["EventDestinations"] == [updated]


def test_v1_event_destination_errors(ses: Any) -> None:
    ses.create_configuration_set(ConfigurationSet={"Name": "cs"})
    destination = {
        "Name": "d",
        "MatchingEventTypes": ["send"],
        "SNSDestination": {"TopicARN": TOPIC},
    }
    ses.create_configuration_set_event_destination(
        ConfigurationSetName="cs", EventDestination=destination
    )
    with pytest.raises(ses.exceptions.EventDestinationAlreadyExistsException) as dup:
        ses.create_configuration_set_event_destination(
            ConfigurationSetName="cs", EventDestination=destination
        )
    assert error_of(dup)[:2] == ("EventDestinationAlreadyExists", 400)
    with pytest.raises(ses.exceptions.EventDestinationDoesNotExistException) as missing:
        ses.delete_configuration_set_event_destination(
            ConfigurationSetName="cs", EventDestinationName="ghost"
        )
    assert error_of(missing) == (
        "EventDestinationDoesNotExist",
        400,
        "No EventDestination found for cs",
    )
    with pytest.raises(ses.exceptions.EventDestinationDoesNotExistException):
        ses.update_configuration_set_event_destination(
            ConfigurationSetName="cs", EventDestination={**destination, "Name": "ghost"}
        )
    for i in range(9):
        ses.create_configuration_set_event_destination(
            ConfigurationSetName="cs", EventDestination={**destination, "Name": f"d{i}"}
        )
    with pytest.raises(ses.exceptions.LimitExceededException) as limit:
        ses.create_configuration_set_event_destination(
            ConfigurationSetName="cs", EventDestination={**destination, "Name": "eleventh"}
        )
    assert error_of(limit)[:2] == ("LimitExceeded", 400)


def test_v1_tracking_options_lifecycle(ses: Any) -> None:
    ses.create_configuration_set(ConfigurationSet={"Name": "cs"})
    ses.create_configuration_set_tracking_options(
        ConfigurationSetName="cs", TrackingOptions={"CustomRedirectDomain": "t.example.com"}
    )
    with pytest.raises(ses.exceptions.TrackingOptionsAlreadyExistsException) as dup:
        ses.create_configuration_set_tracking_options(
            ConfigurationSetName="cs", TrackingOptions={"CustomRedirectDomain": "v.example.com"}
        )
    assert error_of(dup) == (
        "TrackingOptionsAlreadyExistsException",
        400,
        "Tracking options already exist for configuration set cs.",
    )
    ses.update_configuration_set_tracking_options(
        ConfigurationSetName="cs", TrackingOptions={"CustomRedirectDomain": "u.example.com"}
    )
    described = ses.describe_configuration_set(
        ConfigurationSetName="cs", ConfigurationSetAttributeNames=["trackingOptions"]
    )
    assert described["TrackingOptions"] == {"CustomRedirectDomain": "u.example.com"}
    ses.delete_configuration_set_tracking_options(ConfigurationSetName="cs")
    with pytest.raises(ses.exceptions.TrackingOptionsDoesNotExistException) as missing:
        ses.delete_configuration_set_tracking_options(ConfigurationSetName="cs")
    assert error_of(missing)[:2] == ("TrackingOptionsDoesNotExistException", 400)


def test_v1_sending_reputation_and_delivery_options(ses: Any) -> None:
    ses.create_configuration_set(ConfigurationSet={"Name": "cs"})
    ses.update_configuration_set_sending_enabled(ConfigurationSetName="cs", Enabled=False)
    ses.update_configuration_set_reputation_metrics_enabled(ConfigurationSetName="cs", Enabled=True)
    ses.put_configuration_set_delivery_options(
        ConfigurationSetName="cs", DeliveryOptions={"TlsPolicy": "Require"}
    )
    described = ses.describe_configuration_set(
        ConfigurationSetName="cs",
        ConfigurationSetAttributeNames=["reputationOptions", "deliveryOptions"],
    )
    assert described["ReputationOptions"] == {
        "SendingEnabled": False,
        "ReputationMetricsEnabled": True,
    }
    assert described["DeliveryOptions"] == {"TlsPolicy": "Require"}


# --- v2 ---------------------------------------------------------------------------------


def test_v2_create_with_options_and_get(sesv2: Any) -> None:
    fresh_start = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    sesv2.create_configuration_set(
        ConfigurationSetName="cs",
        TrackingOptions={"CustomRedirectDomain": "t.example.com", "HttpsPolicy": "REQUIRE"},
        DeliveryOptions={"TlsPolicy": "REQUIRE", "MaxDeliverySeconds": 600},
        ReputationOptions={"ReputationMetricsEnabled": True, "LastFreshStart": fresh_start},
        SendingOptions={"SendingEnabled": False},
        SuppressionOptions={"SuppressedReasons": ["BOUNCE"]},
        VdmOptions={"DashboardOptions": {"EngagementMetrics": "ENABLED"}},
        Tags=[{"Key": "env", "Value": "test"}],
    )
    got = sesv2.get_configuration_set(ConfigurationSetName="cs")
    assert got["ConfigurationSetName"] == "cs"
    assert got["TrackingOptions"] == {
        "CustomRedirectDomain": "t.example.com",
        "HttpsPolicy": "REQUIRE",
    }
    assert got["DeliveryOptions"] == {"TlsPolicy": "REQUIRE", "MaxDeliverySeconds": 600}
    assert got["ReputationOptions"]["ReputationMetricsEnabled"] is True
    assert got["ReputationOptions"]["LastFreshStart"] == fresh_start
    assert got["SendingOptions"] == {"SendingEnabled": False}
    assert got["SuppressionOptions"] == {"SuppressedReasons": ["BOUNCE"]}
    assert got["VdmOptions"] == {"DashboardOptions": {"EngagementMetrics": "ENABLED"}}
    assert got["Tags"] == [{"Key": "env", "Value": "test"}]


def test_v2_put_options(sesv2: Any) -> None:
    sesv2.create_configuration_set(ConfigurationSetName="cs")
    sesv2.put_configuration_set_sending_options(ConfigurationSetName="cs", SendingEnabled=False)
    sesv2.put_configuration_set_reputation_options(
        ConfigurationSetName="cs", ReputationMetricsEnabled=True
    )
    sesv2.put_configuration_set_suppression_options(
        ConfigurationSetName="cs", SuppressedReasons=["COMPLAINT"]
    )
    sesv2.put_configuration_set_tracking_options(
        ConfigurationSetName="cs", CustomRedirectDomain="t.example.com"
    )
    sesv2.put_configuration_set_delivery_options(ConfigurationSetName="cs", TlsPolicy="OPTIONAL")
    sesv2.put_configuration_set_vdm_options(
        ConfigurationSetName="cs",
        VdmOptions={"GuardianOptions": {"OptimizedSharedDelivery": "DISABLED"}},
    )
    got = sesv2.get_configuration_set(ConfigurationSetName="cs")
    assert got["SendingOptions"] == {"SendingEnabled": False}
    assert got["ReputationOptions"] == {"ReputationMetricsEnabled": True}
    assert got["SuppressionOptions"] == {"SuppressedReasons": ["COMPLAINT"]}
    assert got["TrackingOptions"] == {"CustomRedirectDomain": "t.example.com"}
    assert got["DeliveryOptions"] == {"TlsPolicy": "OPTIONAL"}
    assert got["VdmOptions"] == {"GuardianOptions": {"OptimizedSharedDelivery": "DISABLED"}}


def test_v2_list_configuration_sets_pages(sesv2: Any) -> None:
    for name in ("a", "b", "c"):
        sesv2.create_configuration_set(ConfigurationSetName=name)
    first = sesv2.list_configuration_sets(PageSize=2)
    second = sesv2.list_configuration_sets(PageSize=2, NextToken=first["NextToken"])
    assert first["ConfigurationSets"] + second["ConfigurationSets"] == ["a", "b", "c"]
    assert "NextToken" not in second


def test_v2_duplicate_and_unknown_sets(sesv2: Any) -> None:
    sesv2.create_configuration_set(ConfigurationSetName="cs")
    with pytest.raises(sesv2.exceptions.AlreadyExistsException) as dup:
        sesv2.create_configuration_set(ConfigurationSetName="cs")
    assert error_of(dup) == (
        "AlreadyExistsException",
        400,
        "Configuration set <cs> already exists.",
    )
    with pytest.raises(sesv2.exceptions.NotFoundException) as missing:
        sesv2.get_configuration_set(ConfigurationSetName="ghost")
    assert error_of(missing) == (
        "NotFoundException",
        404,
        "Configuration set <ghost> does not exist.",
    )
    with pytest.raises(sesv2.exceptions.NotFoundException):
        sesv2.delete_configuration_set(ConfigurationSetName="ghost")
    with pytest.raises(sesv2.exceptions.NotFoundException):
        sesv2.put_configuration_set_sending_options(ConfigurationSetName="ghost")
    with pytest.raises(sesv2.exceptions.BadRequestException) as bad:
        sesv2.create_configuration_set(ConfigurationSetName="bad name")
    assert error_of(bad)[:2] == ("BadRequestException", 400)


def test_v2_event_destinations_crud(sesv2: Any) -> None:
    sesv2.create_configuration_set(ConfigurationSetName="cs")
    bridge = {
        "Enabled": True,
        "MatchingEventTypes": ["SEND", "DELIVERY_DELAY"],
        "EventBridgeDestination": {
            "EventBusArn": "arn:aws:events:us-east-1:000000000000:event-bus/default"
        },
    }
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName="cs", EventDestinationName="bus", EventDestination=bridge
    )
    with pytest.raises(sesv2.exceptions.AlreadyExistsException):
        sesv2.create_configuration_set_event_destination(
            ConfigurationSetName="cs", EventDestinationName="bus", EventDestination=bridge
        )
    got = sesv2.get_configuration_set_event_destinations(ConfigurationSetName="cs")
    assert got["EventDestinations"] == [{"Name": "bus", **bridge}]
    sesv2.update_configuration_set_event_destination(
        ConfigurationSetName="cs",
        EventDestinationName="bus",
        EventDestination={**bridge, "Enabled": False},
    )
    got = sesv2.get_configuration_set_event_destinations(ConfigurationSetName="cs")
    assert got["EventDestinations"][0]["Enabled"] is False
    sesv2.delete_configuration_set_event_destination(
        ConfigurationSetName="cs", EventDestinationName="bus"
    )
    with pytest.raises(sesv2.exceptions.NotFoundException) as missing:
        sesv2.delete_configuration_set_event_destination(
            ConfigurationSetName="cs", EventDestinationName="bus"
        )
    assert error_of(missing) == ("NotFoundException", 404, "No EventDestination found for cs")
    got = sesv2.get_configuration_set_event_destinations(ConfigurationSetName="cs")
    assert got["EventDestinations"] == []


def test_configuration_set_tags_by_arn(sesv2: Any) -> None:
    sesv2.create_configuration_set(ConfigurationSetName="cs", Tags=[{"Key": "a", "Value": "1"}])
    arn = "arn:aws:ses:us-east-1:000000000000:configuration-set/cs"
    sesv2.tag_resource(
        ResourceArn=arn, Tags=[{"Key": "a", "Value": "2"}, {"Key": "b", "Value": ""}]
    )
    assert sesv2.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "a", "Value": "2"},
        {"Key": "b", "Value": ""},
    ]
    sesv2.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert sesv2.get_configuration_set(ConfigurationSetName="cs")["Tags"] == [
        {"Key": "b", "Value": ""}
    ]
    with pytest.raises(sesv2.exceptions.BadRequestException):
        sesv2.list_tags_for_resource(ResourceArn="not-an-arn")
    other_region = "arn:aws:ses:eu-west-1:000000000000:configuration-set/cs"
    with pytest.raises(sesv2.exceptions.NotFoundException):
        sesv2.list_tags_for_resource(ResourceArn=other_region)


# --- sharing ----------------------------------------------------------------------------


def test_v1_and_v2_share_configuration_sets(ses: Any, sesv2: Any) -> None:
    ses.create_configuration_set(ConfigurationSet={"Name": "from-v1"})
    sesv2.create_configuration_set(ConfigurationSetName="from-v2")
    assert sesv2.list_configuration_sets()["ConfigurationSets"] == ["from-v1", "from-v2"]
    ses.create_configuration_set_event_destination(
        ConfigurationSetName="from-v1",
        EventDestination={
            "Name": "d",
            "Enabled": True,
            "MatchingEventTypes": ["send", "open"],
            "SNSDestination": {"TopicARN": TOPIC},
        },
    )
    got = sesv2.get_configuration_set_event_destinations(ConfigurationSetName="from-v1")
    assert got["EventDestinations"] == [
        {
            "Name": "d",
            "Enabled": True,
            "MatchingEventTypes": ["SEND", "OPEN"],
            "SnsDestination": {"TopicArn": TOPIC},
        }
    ]
    sesv2.put_configuration_set_sending_options(
        ConfigurationSetName="from-v1", SendingEnabled=False
    )
    described = ses.describe_configuration_set(
        ConfigurationSetName="from-v1", ConfigurationSetAttributeNames=["reputationOptions"]
    )
    assert described["ReputationOptions"]["SendingEnabled"] is False
    sesv2.delete_configuration_set(ConfigurationSetName="from-v1")
    assert ses.list_configuration_sets()["ConfigurationSets"] == [{"Name": "from-v2"}]
