"""Configuration sets and their event destinations: the protocol-free core.

v1 and v2 see the same configuration sets. Options are stored in the v2 shape (v2 member names,
upper-case enums); the v1 handlers convert with the ``*_from_v1`` / ``*_to_v1`` functions here,
so a destination created through v1 reads back through v2 and the reverse.

Limits (ses-spec §2.5): names ≤ 64 characters of ``[A-Za-z0-9_-]`` [D]; 10,000 sets per
region [D]; 10 event destinations per set [D].
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from emulator.ses import errors
from emulator.ses.state import AccountState, ConfigurationSet
from seskit.rules import CONFIGURATION_SET_NAME_RE, MAX_CONFIGURATION_SET_NAME_LENGTH

__all__ = [
    "MAX_CONFIGURATION_SETS",
    "MAX_EVENT_DESTINATIONS",
    "check_name",
    "create",
    "delete",
    "delete_event_destination",
    "event_destination_from_v1",
    "event_destination_to_v1",
    "get_configuration_set",
    "list_configuration_sets",
    "put_event_destination",
    "v1_enum",
    "v2_enum",
]

# "Configuration sets per Region: 10,000"; "Event destinations per configuration set: 10" [D].
MAX_CONFIGURATION_SETS = 10_000
MAX_EVENT_DESTINATIONS = 10
# Event destination names follow the configuration-set name rule [D].
_DESTINATION_NAME_RE = CONFIGURATION_SET_NAME_RE

# v1 event types → v2 (ses model EventType / sesv2 model EventType) [M].
_EVENT_TYPES_V1_TO_V2 = {
    "send": "SEND",
    "reject": "REJECT",
    "bounce": "BOUNCE",
    "complaint": "COMPLAINT",
    "delivery": "DELIVERY",
    "open": "OPEN",
    "click": "CLICK",
    "renderingFailure": "RENDERING_FAILURE",
}
_EVENT_TYPES_V2_TO_V1 = {v2: v1 for v1, v2 in _EVENT_TYPES_V1_TO_V2.items()}


def v2_enum(value: str) -> str:
    """``messageTag`` / ``Require`` / ``UseDefaultValue`` → ``MESSAGE_TAG`` / ``REQUIRE`` / …"""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", value).upper()


def v1_enum(value: str, *, lower_first: bool = False) -> str:
    """``MESSAGE_TAG`` → ``MessageTag`` (or ``messageTag`` with ``lower_first``)."""
    camel = "".join(word.capitalize() for word in value.split("_"))
    return camel[:1].lower() + camel[1:] if lower_first else camel


def check_name(name: str) -> None:
    """Raise v1 ``InvalidConfigurationSet`` / v2 ``BadRequestException`` for a bad name."""
    if not CONFIGURATION_SET_NAME_RE.fullmatch(name):
        # Text inferred; the rule is documented [D].
        raise errors.invalid_configuration_set(
            f"Configuration set name <{name}> is invalid: only alphanumeric ASCII characters, "
            f"'_' and '-' are allowed, up to {MAX_CONFIGURATION_SET_NAME_LENGTH} characters."
        )


def create(state: AccountState, name: str, *, now: float, **options: Any) -> ConfigurationSet:
    """Create a configuration set; ``options`` are ConfigurationSet fields (v2 shapes)."""
    check_name(name)
    with state.lock:
        if name in state.configuration_sets:
            raise errors.configuration_set_already_exists(name)
        if len(state.configuration_sets) >= MAX_CONFIGURATION_SETS:
            raise errors.limit_exceeded(
                f"Maximum number of configuration sets ({MAX_CONFIGURATION_SETS}) reached."
            )
        configuration_set = ConfigurationSet(name=name, created=now, **options)
        state.configuration_sets[name] = configuration_set
    return configuration_set


def get_configuration_set(state: AccountState, name: str) -> ConfigurationSet:
    """The set, or v1 ``ConfigurationSetDoesNotExist`` 400 / v2 ``NotFoundException`` 404."""
    configuration_set = state.configuration_sets.get(name)
    if configuration_set is None:
        raise errors.configuration_set_does_not_exist(name)
    return configuration_set


def delete(state: AccountState, name: str) -> None:
    """Delete a configuration set; unknown names are an error in both APIs [M]."""
    with state.lock:
        if state.configuration_sets.pop(name, None) is None:
            raise errors.configuration_set_does_not_exist(name)


def list_configuration_sets(state: AccountState) -> list[ConfigurationSet]:
    """Configuration sets in creation order."""
    return sorted(state.configuration_sets.values(), key=lambda c: c.created)


def _check_destination(name: str, destination: Mapping[str, Any]) -> None:
    if not _DESTINATION_NAME_RE.fullmatch(name):
        raise errors.bad_request(
            f"Event destination name <{name}> is invalid: only alphanumeric ASCII characters, "
            f"'_' and '-' are allowed, up to {MAX_CONFIGURATION_SET_NAME_LENGTH} characters."
        )
    targets = [
        key
        for key in (
            "SnsDestination",
            "KinesisFirehoseDestination",
            "CloudWatchDestination",
            "EventBridgeDestination",
            "PinpointDestination",
        )
        if destination.get(key) is not None
    ]
    # An event destination publishes to exactly one place [D]. Text inferred.
    if len(targets) != 1:
        raise errors.bad_request(
            f"Event destination {name} must specify exactly one destination (got {len(targets)})."
        )


def put_event_destination(
    configuration_set: ConfigurationSet,
    name: str,
    destination: Mapping[str, Any],
    *,
    create: bool,
) -> None:
    """Add (``create``) or replace an event destination given in the v2 shape."""
    _check_destination(name, destination)
    existing = configuration_set.event_destinations
    if create:
        if name in existing:
            raise errors.event_destination_already_exists(configuration_set.name, name)
        if len(existing) >= MAX_EVENT_DESTINATIONS:
            raise errors.limit_exceeded(
                f"Configuration set {configuration_set.name} already has "
                f"{MAX_EVENT_DESTINATIONS} event destinations."
            )
    elif name not in existing:
        raise errors.event_destination_does_not_exist(configuration_set.name, name)
    stored = {k: v for k, v in destination.items() if v is not None}
    stored["Enabled"] = bool(destination.get("Enabled", False))
    stored.setdefault("MatchingEventTypes", [])
    existing[name] = stored


def delete_event_destination(configuration_set: ConfigurationSet, name: str) -> None:
    if configuration_set.event_destinations.pop(name, None) is None:
        raise errors.event_destination_does_not_exist(configuration_set.name, name)


def event_destination_from_v1(destination: Mapping[str, Any]) -> dict[str, Any]:
    """A v1 ``EventDestination`` (without its Name) in the stored v2 shape."""
    out: dict[str, Any] = {
        "Enabled": bool(destination.get("Enabled", False)),
        "MatchingEventTypes": [
            _EVENT_TYPES_V1_TO_V2[t] for t in destination.get("MatchingEventTypes", [])
        ],
    }
    if (sns := destination.get("SNSDestination")) is not None:
        out["SnsDestination"] = {"TopicArn": sns["TopicARN"]}
    if (firehose := destination.get("KinesisFirehoseDestination")) is not None:
        out["KinesisFirehoseDestination"] = {
            "IamRoleArn": firehose["IAMRoleARN"],
            "DeliveryStreamArn": firehose["DeliveryStreamARN"],
        }
    if (cloudwatch := destination.get("CloudWatchDestination")) is not None:
        out["CloudWatchDestination"] = {
            "DimensionConfigurations": [
                {**dim, "DimensionValueSource": v2_enum(dim["DimensionValueSource"])}
                for dim in cloudwatch["DimensionConfigurations"]
            ]
        }
    return out


def event_destination_to_v1(name: str, destination: Mapping[str, Any]) -> dict[str, Any]:
    """A stored destination as a v1 ``EventDestination``; v2-only event types are left out."""
    out: dict[str, Any] = {
        "Name": name,
        "Enabled": destination["Enabled"],
        "MatchingEventTypes": [
            _EVENT_TYPES_V2_TO_V1[t]
            for t in destination["MatchingEventTypes"]
            if t in _EVENT_TYPES_V2_TO_V1
        ],
    }
    if (sns := destination.get("SnsDestination")) is not None:
        out["SNSDestination"] = {"TopicARN": sns["TopicArn"]}
    if (firehose := destination.get("KinesisFirehoseDestination")) is not None:
        out["KinesisFirehoseDestination"] = {
            "IAMRoleARN": firehose["IamRoleArn"],
            "DeliveryStreamARN": firehose["DeliveryStreamArn"],
        }
    if (cloudwatch := destination.get("CloudWatchDestination")) is not None:
        out["CloudWatchDestination"] = {
            "DimensionConfigurations": [
                {
                    **dim,
                    "DimensionValueSource": v1_enum(dim["DimensionValueSource"], lower_first=True),
                }
                for dim in cloudwatch["DimensionConfigurations"]
            ]
        }
    return out
