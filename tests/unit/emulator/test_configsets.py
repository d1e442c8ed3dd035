"""Configuration sets: name rules, limits, event destinations shared by v1 and v2."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.config import Settings
from emulator.ses import configsets, v1_ops, v2_ops
from emulator.ses.context import RequestContext
from emulator.ses.errors import Api, SesError
from emulator.ses.state import AccountState, Backend

SNS = {"TopicARN": "arn:aws:sns:us-east-1:000000000000:events"}


def _state() -> AccountState:
    return Backend(Settings()).account()


def _ctx(api: Api, backend: Backend) -> RequestContext:
    return RequestContext(
        api=api,
        operation="Test",
        account_id="000000000000",
        region="us-east-1",
        request_id="r-1",
        backend=backend,
    )


def _call(ctx: RequestContext, operation: str, **params: Any) -> dict[str, Any]:
    handlers = v1_ops.HANDLERS if ctx.api == "v1" else v2_ops.HANDLERS
    return handlers[operation](ctx, params)


@given(st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True))
def test_valid_names_are_accepted(name: str) -> None:
    configsets.check_name(name)


@pytest.mark.parametrize("name", ["", "a b", "a.b", "ü", "x" * 65])
def test_invalid_names_are_invalid_configuration_set(name: str) -> None:
    with pytest.raises(SesError) as caught:
        configsets.create(_state(), name, now=0)
    assert caught.value.for_api("v1").code == "InvalidConfigurationSet"
    assert caught.value.for_api("v2").code == "BadRequestException"


def test_duplicate_and_unknown_sets_use_ses_codes_and_texts() -> None:
    state = _state()
    configsets.create(state, "cs", now=0)
    with pytest.raises(SesError) as dup:
        configsets.create(state, "cs", now=0)
    assert dup.value.for_api("v1").code == "ConfigurationSetAlreadyExists"
    assert dup.value.for_api("v2").code == "AlreadyExistsException"
    with pytest.raises(SesError) as missing:
        configsets.get_configuration_set(state, "nope")
    assert missing.value.message == "Configuration set <nope> does not exist."
    assert missing.value.for_api("v1").code == "ConfigurationSetDoesNotExist"
    assert missing.value.for_api("v2").status == 404
    with pytest.raises(SesError):
        configsets.delete(state, "nope")


def test_event_destination_round_trips_between_v1_and_v2_shapes() -> None:
    v1 = {
        "Name": "d1",
        "Enabled": True,
        "MatchingEventTypes": ["send", "renderingFailure", "bounce"],
        "CloudWatchDestination": {
            "DimensionConfigurations": [
                {
                    "DimensionName": "campaign",
                    "DimensionValueSource": "messageTag",
                    "DefaultDimensionValue": "none",
                }
            ]
        },
    }
    stored = configsets.event_destination_from_v1(v1)
    assert stored["MatchingEventTypes"] == ["SEND", "RENDERING_FAILURE", "BOUNCE"]
    dims = stored["CloudWatchDestination"]["DimensionConfigurations"]
    assert dims[0]["DimensionValueSource"] == "MESSAGE_TAG"
    assert configsets.event_destination_to_v1("d1", stored) == v1


def test_v2_only_event_types_are_hidden_from_v1() -> None:
    stored = {"Enabled": True, "MatchingEventTypes": ["SEND", "DELIVERY_DELAY", "SUBSCRIPTION"]}
    assert configsets.event_destination_to_v1("d", stored)["MatchingEventTypes"] == ["send"]


def test_at_most_ten_event_destinations_per_set() -> None:
    state = _state()
    cs = configsets.create(state, "cs", now=0)
    destination = {"SnsDestination": {"TopicArn": "arn:x"}, "MatchingEventTypes": ["SEND"]}
    for i in range(configsets.MAX_EVENT_DESTINATIONS):
        configsets.put_event_destination(cs, f"d{i}", destination, create=True)
    with pytest.raises(SesError) as caught:
        configsets.put_event_destination(cs, "one-more", destination, create=True)
    assert caught.value.for_api("v1").code == "LimitExceeded"
    assert caught.value.for_api("v2").code == "LimitExceededException"


def test_destination_needs_exactly_one_target() -> None:
    cs = configsets.create(_state(), "cs", now=0)
    with pytest.raises(SesError):
        configsets.put_event_destination(cs, "d", {"MatchingEventTypes": ["SEND"]}, create=True)


def test_missing_event_destination_names_the_set() -> None:
    cs = configsets.create(_state(), "cs", now=0)
    with pytest.raises(SesError) as caught:
        configsets.delete_event_destination(cs, "ghost")
    assert caught.value.message == "No EventDestination found for cs"
    assert caught.value.for_api("v1").code == "EventDestinationDoesNotExist"
    assert caught.value.for_api("v2").code == "NotFoundException"


def test_v1_destination_is_visible_through_v2_and_back() -> None:
    backend = Backend(Settings())
    v1, v2 = _ctx("v1", backend), _ctx("v2", backend)
    _call(v1, "CreateConfigurationSet", ConfigurationSet={"Name": "cs"})
    _call(
        v1,
        "CreateConfigurationSetEventDestination",
        ConfigurationSetName="cs",
        EventDestination={
            "Name": "d1",
            "Enabled": True,
            "MatchingEventTypes": ["send"],
            "SNSDestination": SNS,
        },
    )
    _call(
        v2,
        "CreateConfigurationSetEventDestination",
        ConfigurationSetName="cs",
        EventDestinationName="d2",
        EventDestination={
            "MatchingEventTypes": ["BOUNCE"],
            "EventBridgeDestination": {
                "EventBusArn": "arn:aws:events:us-east-1:000000000000:event-bus/default"
            },
        },
    )
    got = _call(v2, "GetConfigurationSetEventDestinations", ConfigurationSetName="cs")
    assert got["EventDestinations"][0] == {
        "Name": "d1",
        "Enabled": True,
        "MatchingEventTypes": ["SEND"],
        "SnsDestination": {"TopicArn": SNS["TopicARN"]},
    }
    assert got["EventDestinations"][1]["Enabled"] is False
    described = _call(
        v1,
        "DescribeConfigurationSet",
        ConfigurationSetName="cs",
        ConfigurationSetAttributeNames=["eventDestinations", "reputationOptions"],
    )
    assert [d["Name"] for d in described["EventDestinations"]] == ["d1", "d2"]
    assert described["ReputationOptions"] == {
        "SendingEnabled": True,
        "ReputationMetricsEnabled": False,
    }
    assert "TrackingOptions" not in described


def test_v1_tracking_options_must_be_created_before_updated() -> None:
    backend = Backend(Settings())
    v1 = _ctx("v1", backend)
    _call(v1, "CreateConfigurationSet", ConfigurationSet={"Name": "cs"})
    with pytest.raises(SesError) as missing:
        _call(
            v1,
            "UpdateConfigurationSetTrackingOptions",
            ConfigurationSetName="cs",
            TrackingOptions={},
        )
    assert missing.value.for_api("v1").code == "TrackingOptionsDoesNotExistException"
    _call(
        v1,
        "CreateConfigurationSetTrackingOptions",
        ConfigurationSetName="cs",
        TrackingOptions={"CustomRedirectDomain": "t.example.com"},
    )
    with pytest.raises(SesError) as dup:
        _call(
            v1,
            "CreateConfigurationSetTrackingOptions",
            ConfigurationSetName="cs",
            TrackingOptions={},
        )
    assert dup.value.for_api("v1").code == "TrackingOptionsAlreadyExistsException"
    got = _call(_ctx("v2", backend), "GetConfigurationSet", ConfigurationSetName="cs")
    assert got["TrackingOptions"] == {"CustomRedirectDomain": "t.example.com"}


def test_delivery_options_convert_tls_policy_spelling() -> None:
    backend = Backend(Settings())
    _call(_ctx("v2", backend), "CreateConfigurationSet", ConfigurationSetName="cs")
    _call(
        _ctx("v1", backend),
        "PutConfigurationSetDeliveryOptions",
        ConfigurationSetName="cs",
        DeliveryOptions={"TlsPolicy": "Require"},
    )
    assert _call(_ctx("v2", backend), "GetConfigurationSet", ConfigurationSetName="cs")[
        "DeliveryOptions"
    ] == {"TlsPolicy": "REQUIRE"}
    described = _call(
        _ctx("v1", backend),
        "DescribeConfigurationSet",
        ConfigurationSetName="cs",
        ConfigurationSetAttributeNames=["deliveryOptions"],
    )
    assert described["DeliveryOptions"] == {"TlsPolicy": "Require"}


def test_sending_paused_through_one_api_shows_in_the_other() -> None:
    backend = Backend(Settings())
    _call(_ctx("v1", backend), "CreateConfigurationSet", ConfigurationSet={"Name": "cs"})
    _call(
        _ctx("v1", backend),
        "UpdateConfigurationSetSendingEnabled",
        ConfigurationSetName="cs",
        Enabled=False,
    )
    got = _call(_ctx("v2", backend), "GetConfigurationSet", ConfigurationSetName="cs")
    assert got["SendingOptions"] == {"SendingEnabled": False}
    assert configsets.get_configuration_set(backend.account(), "cs").sending_enabled is False


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ([{"Key": f"k{i}", "Value": "v"} for i in range(51)], "at most 50 tags"),
        ([{"Key": "aws:owner", "Value": "v"}], "reserved"),
        ([{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}], "unique"),
        ([{"Key": "k" * 129, "Value": "v"}], "1 to 128 characters"),
        ([{"Key": "k", "Value": "v" * 257}], "at most 256 characters"),
    ],
)
def test_resource_tag_limits_are_bad_requests(tags: list[dict[str, str]], message: str) -> None:
    ctx = _ctx("v2", Backend(Settings()))
    with pytest.raises(SesError) as caught:
        _call(ctx, "CreateConfigurationSet", ConfigurationSetName="cs", Tags=tags)
    assert caught.value.for_api("v2").code == "BadRequestException"
    assert message in caught.value.message
    assert ctx.state.configuration_sets == {}
