"""SES errors, independent of the protocol that reports them.

One semantic error often has a different wire code and HTTP status in each API (a missing
template is v1 ``TemplateDoesNotExist`` 400 but v2 ``NotFoundException`` 404), so a `SesError`
carries both forms and the protocol layer picks the one for the API that was called:

```
SesError(message, v1=Wire("TemplateDoesNotExist", 400), v2=Wire("NotFoundException", 404))
```

Constructors below are named after the situation, not the code, and quote SES's exact texts
(ses-spec.md Appendix A). Core code raises only through these constructors or `SesError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "Api",
    "SesError",
    "Wire",
    "already_exists",
    "bad_request",
    "configuration_set_already_exists",
    "configuration_set_does_not_exist",
    "conflict",
    "daily_quota_exceeded",
    "event_destination_already_exists",
    "event_destination_does_not_exist",
    "identity_does_not_exist",
    "internal_failure",
    "invalid_configuration_set",
    "invalid_policy",
    "invalid_rendering_parameter",
    "invalid_template",
    "limit_exceeded",
    "malformed_http_request",
    "message_rejected",
    "missing_rendering_attribute",
    "not_found",
    "not_implemented",
    "rate_exceeded",
    "request_too_large",
    "sending_paused",
    "template_does_not_exist",
    "tracking_options_already_exist",
    "tracking_options_do_not_exist",
]

Api = Literal["v1", "v2"]


@dataclass(frozen=True, slots=True)
class Wire:
    """How one API reports an error: the code on the wire and the HTTP status."""

    code: str
    status: int


class SesError(Exception):
    """An error SES would return. `for_api` gives the (code, status) a given API uses."""

    def __init__(self, message: str, *, v1: Wire, v2: Wire) -> None:
        super().__init__(message)
        self.message = message
        self.v1 = v1
        self.v2 = v2

    def for_api(self, api: Api) -> Wire:
        return self.v1 if api == "v1" else self.v2

    def sender_fault(self, api: Api) -> bool:
        """v1 ``<Type>``: Sender for client faults, Receiver for 5xx."""
        return self.for_api(api).status < 500

    def __repr__(self) -> str:
        return f"SesError({self.message!r}, v1={self.v1}, v2={self.v2})"


def bad_request(message: str, *, v1_code: str = "InvalidParameterValue") -> SesError:
    """Invalid input: v1 ``InvalidParameterValue`` (or another v1 code) 400, v2 400."""
    return SesError(message, v1=Wire(v1_code, 400), v2=Wire("BadRequestException", 400))


def message_rejected(message: str) -> SesError:
    return SesError(message, v1=Wire("MessageRejected", 400), v2=Wire("MessageRejected", 400))


def not_found(message: str, *, v1_code: str) -> SesError:
    """A missing resource: v1 uses a resource-specific code (400), v2 ``NotFoundException`` 404."""
    return SesError(message, v1=Wire(v1_code, 400), v2=Wire("NotFoundException", 404))


def already_exists(message: str, *, v1_code: str = "AlreadyExists") -> SesError:
    return SesError(message, v1=Wire(v1_code, 400), v2=Wire("AlreadyExistsException", 400))


def template_does_not_exist(name: str) -> SesError:
    # v1 text observed from SES: "Template T1 does not exist." (no brackets).
    return not_found(f"Template {name} does not exist.", v1_code="TemplateDoesNotExist")


def configuration_set_does_not_exist(name: str) -> SesError:
    # v1 text observed from SES, angle brackets literal.
    return not_found(
        f"Configuration set <{name}> does not exist.", v1_code="ConfigurationSetDoesNotExist"
    )


def sending_paused(message: str, *, configuration_set: bool = False) -> SesError:
    v1 = (
        "ConfigurationSetSendingPausedException"
        if configuration_set
        else "AccountSendingPausedException"
    )
    return SesError(message, v1=Wire(v1, 400), v2=Wire("SendingPausedException", 400))


def rate_exceeded() -> SesError:
    """Maximum send rate exceeded: v1 ``Throttling`` 400, v2 ``TooManyRequestsException`` 429."""
    text = "Maximum sending rate exceeded."
    return SesError(text, v1=Wire("Throttling", 400), v2=Wire("TooManyRequestsException", 429))


def daily_quota_exceeded(v2: Wire = Wire("LimitExceededException", 400)) -> SesError:
    """Daily quota exceeded: v1 ``Throttling`` 400; v2 is undocumented, so it is configurable."""
    return SesError("Daily message quota exceeded.", v1=Wire("Throttling", 400), v2=v2)


def conflict(message: str) -> SesError:
    """v2 only (PutAccountDetails during a review); v1 has no such operation."""
    return SesError(
        message, v1=Wire("InvalidParameterValue", 400), v2=Wire("ConflictException", 409)
    )


def not_implemented(operation: str) -> SesError:
    text = f"The operation {operation} is not implemented by this SES emulator."
    return SesError(text, v1=Wire("NotImplemented", 501), v2=Wire("NotImplemented", 501))


def internal_failure(message: str = "An internal error occurred.") -> SesError:
    return SesError(
        message, v1=Wire("InternalFailure", 500), v2=Wire("InternalServiceErrorException", 500)
    )


def identity_does_not_exist(name: str, api: Api) -> SesError:
    """An identity-scoped call on an identity that does not exist.

    v1 answers ``MessageRejected`` 400 "Identity <identity> is not verified or does not exist."
    [O] (ses-spec §2.5); v2 answers ``NotFoundException`` 404 [M] with an inferred text.
    """
    text = (
        f"Identity {name} is not verified or does not exist."
        if api == "v1"
        else f"Email identity {name} does not exist."
    )
    return SesError(text, v1=Wire("MessageRejected", 400), v2=Wire("NotFoundException", 404))


def limit_exceeded(message: str) -> SesError:
    """Too many resources of one kind: v1 ``LimitExceeded`` 400, v2 ``LimitExceededException``."""
    return SesError(message, v1=Wire("LimitExceeded", 400), v2=Wire("LimitExceededException", 400))


def invalid_template(message: str) -> SesError:
    """A template that cannot be parsed: v1 ``InvalidTemplate`` 400, v2 400 [M]."""
    return SesError(message, v1=Wire("InvalidTemplate", 400), v2=Wire("BadRequestException", 400))


def missing_rendering_attribute(message: str) -> SesError:
    """TestRender* data lacks a referenced variable: v1 ``MissingRenderingAttribute`` 400 [M]."""
    return SesError(
        message, v1=Wire("MissingRenderingAttribute", 400), v2=Wire("BadRequestException", 400)
    )


def invalid_rendering_parameter(message: str) -> SesError:
    """TestRender* data is not a JSON object: v1 ``InvalidRenderingParameter`` 400 [M]."""
    return SesError(
        message, v1=Wire("InvalidRenderingParameter", 400), v2=Wire("BadRequestException", 400)
    )


def configuration_set_already_exists(name: str) -> SesError:
    # Text inferred, mirroring the observed "does not exist" wording.
    return already_exists(
        f"Configuration set <{name}> already exists.", v1_code="ConfigurationSetAlreadyExists"
    )


def invalid_configuration_set(message: str) -> SesError:
    return SesError(
        message, v1=Wire("InvalidConfigurationSet", 400), v2=Wire("BadRequestException", 400)
    )


def event_destination_does_not_exist(configuration_set: str, name: str) -> SesError:
    # v1 text observed: "No EventDestination found for <config-set-name>" (no period) [O].
    del name  # SES names only the configuration set
    return not_found(
        f"No EventDestination found for {configuration_set}",
        v1_code="EventDestinationDoesNotExist",
    )


def event_destination_already_exists(configuration_set: str, name: str) -> SesError:
    # Text inferred.
    return already_exists(
        f"Event destination {name} already exists in configuration set {configuration_set}.",
        v1_code="EventDestinationAlreadyExists",
    )


def tracking_options_already_exist(configuration_set: str) -> SesError:
    # v1 only; the wire code keeps its "Exception" suffix [M]. Text inferred.
    return already_exists(
        f"Tracking options already exist for configuration set {configuration_set}.",
        v1_code="TrackingOptionsAlreadyExistsException",
    )


def tracking_options_do_not_exist(configuration_set: str) -> SesError:
    # v1 only; the wire code keeps its "Exception" suffix [M]. Text inferred.
    return not_found(
        f"Tracking options do not exist for configuration set {configuration_set}.",
        v1_code="TrackingOptionsDoesNotExistException",
    )


def invalid_policy(message: str) -> SesError:
    """A sending-authorization policy that is not valid: v1 ``InvalidPolicy`` 400 [M]."""
    return SesError(message, v1=Wire("InvalidPolicy", 400), v2=Wire("BadRequestException", 400))


def request_too_large(limit: int) -> SesError:
    """A request body over ``Settings.max_request_bytes``: 413 in both APIs."""
    text = f"The request body exceeds the emulator's limit of {limit} bytes."
    wire = Wire("RequestEntityTooLarge", 413)
    return SesError(text, v1=wire, v2=wire)


def malformed_http_request(cause: Exception) -> SesError:
    """A body that cannot be decoded at the HTTP level (AWS Common Errors, HTTP 400)."""
    # aiohttp's errors read "400, message:\n  Can not decode …": keep only the reason.
    reason = re.sub(r"^\d{3}, message:", "", " ".join(str(cause).split())).strip()
    wire = Wire("MalformedHttpRequestException", 400)
    return SesError(f"The request body cannot be decoded: {reason}", v1=wire, v2=wire)
