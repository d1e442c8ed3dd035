"""Fakes for your own unit tests: an SES client that records calls and can be told to fail.

`FakeClient` stands in for a boto3 ``ses`` or ``sesv2`` client (and `AsyncFakeClient` for an
aiobotocore one). Every call's parameters are checked with botocore's own `ParamValidator`
against the real service model, exactly as boto3 checks them before sending, so a payload that
passes here is one boto3 would send. Successful sends return SES-shaped responses; scripted
failures raise real ``botocore.exceptions.ClientError``s shaped like SES's, so
`seskit.classify` and the senders treat them as they treat the real thing::

    from seskit.sender import Sender
    from seskit.testing import FakeClient

    fake = FakeClient("v2")
    fake.throttle(times=1)                # the next send call is throttled once
    fake.reject("bad@example.com")        # sends to this address are MessageRejected
    summary = Sender(fake, options=SendOptions(max_send_rate=-1)).send_many(payloads)
    assert [c.operation for c in fake.calls] == [...]

`FakeClient` does not pace or model time: throttles and quota errors happen when scripted
(`throttle`, `fail_next`) or when ``max_24h_send`` recipients have been sent.
"""

from __future__ import annotations

import functools
import threading
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import botocore.session
from botocore.exceptions import ClientError
from botocore.model import ServiceModel
from botocore.validate import validate_parameters

from seskit.bulk import Api, count_recipients

__all__ = ["AsyncFakeClient", "FakeClient", "RecordedCall"]

# Message texts SES sends (ses-spec Appendix A).
RATE_EXCEEDED: Final = "Maximum sending rate exceeded."
DAILY_QUOTA_EXCEEDED: Final = "Daily message quota exceeded."
ADDRESS_REJECTED: Final = "Address blacklisted."

_SEND_OPERATIONS: Final[Mapping[Api, frozenset[str]]] = {
    "v1": frozenset(
        {"send_email", "send_raw_email", "send_templated_email", "send_bulk_templated_email"}
    ),
    "v2": frozenset({"send_email", "send_bulk_email"}),
}
_QUOTA_OPERATION: Final[Mapping[Api, str]] = {"v1": "get_send_quota", "v2": "get_account"}


@functools.cache
def _service_model(api: Api) -> ServiceModel:
    # botocore's bundled model for the API: the one boto3 validates against.
    return botocore.session.get_session().get_service_model("ses" if api == "v1" else "sesv2")


@functools.cache
def _operation_names(api: Api) -> Mapping[str, str]:
    # boto3 method name -> model operation name (send_email -> SendEmail).
    return {botocore.xform_name(n): n for n in _service_model(api).operation_names}


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedCall:
    """One call made to a fake client: what was asked and what it answered."""

    operation: str
    params: Mapping[str, Any]
    response: Mapping[str, Any] | None = None
    error: ClientError | None = None

    @property
    def succeeded(self) -> bool:
        """True when the call returned a response."""
        return self.error is None


@dataclass(frozen=True, slots=True)
class _Meta:
    service_model: ServiceModel
    region_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class _Failure:
    code: str
    message: str
    status: int


@dataclass(slots=True, kw_only=True)
class _FakeState:
    api: Api
    region: str
    max_send_rate: float
    max_24h_send: float
    sent_recipients: int = 0
    calls: list[RecordedCall] = field(default_factory=list)
    failures: deque[_Failure] = field(default_factory=deque)
    rejected: dict[str, str] = field(default_factory=dict)


class FakeClient:
    """A recording, validating stand-in for a boto3 ``ses`` (``"v1"``) or ``sesv2`` client.

    Supports the send operations (v1 ``send_email``, ``send_raw_email``,
    ``send_templated_email``, ``send_bulk_templated_email``; v2 ``send_email``,
    ``send_bulk_email``) and the quota lookups (v1 ``get_send_quota``, v2 ``get_account``).
    ``max_send_rate`` / ``max_24h_send`` are what the quota lookups report (-1 = unlimited);
    sends beyond ``max_24h_send`` recipients fail with SES's daily-quota error.
    """

    def __init__(
        self,
        api: Api = "v2",
        *,
        region: str = "us-east-1",
        max_send_rate: float = -1.0,
        max_24h_send: float = -1.0,
    ) -> None:
        if api not in _SEND_OPERATIONS:
            raise ValueError(f"api: must be 'v1' or 'v2' (got {api!r})")
        self._state = _FakeState(
            api=api, region=region, max_send_rate=max_send_rate, max_24h_send=max_24h_send
        )
        self.meta = _Meta(service_model=_service_model(api), region_name=region)
        self._lock = threading.Lock()

    # --- scripting --------------------------------------------------------------------------

    def throttle(self, times: int = 1) -> None:
        """Make the next ``times`` send calls fail with SES's rate throttle.

        v1: ``Throttling`` 400 "Maximum sending rate exceeded."; v2:
        ``TooManyRequestsException`` 429 (ses-spec §5).
        """
        code, status = (
            ("Throttling", 400) if self.api == "v1" else ("TooManyRequestsException", 429)
        )
        self.fail_next(code, RATE_EXCEEDED, status=status, times=times)

    def fail_next(self, code: str, message: str, *, status: int = 400, times: int = 1) -> None:
        """Make the next ``times`` send calls raise a ``ClientError`` with this code and text."""
        if times < 0:
            raise ValueError(f"times: must not be negative (got {times!r})")
        self._state.failures.extend(
            _Failure(code=code, message=message, status=status) for _ in range(times)
        )

    def reject(self, address: str, message: str = ADDRESS_REJECTED) -> None:
        """Reject every message (or bulk entry) with ``address`` among its recipients."""
        self._state.rejected[address] = message

    # --- inspection -------------------------------------------------------------------------

    @property
    def api(self) -> Api:
        """``"v1"`` or ``"v2"``."""
        return self._state.api

    @property
    def calls(self) -> list[RecordedCall]:
        """Every call made, in order, including the failed ones."""
        return self._state.calls

    @property
    def sent_recipients(self) -> int:
        """Recipients accepted so far (what counts against ``max_24h_send``)."""
        return self._state.sent_recipients

    # --- the client surface ------------------------------------------------------------------

    def __getattr__(self, name: str) -> Callable[..., dict[str, Any]]:
        if name.startswith("_"):  # never an operation; and _state may not exist yet
            raise AttributeError(name)
        if name in _SEND_OPERATIONS[self.api] or name == _QUOTA_OPERATION[self.api]:
            return functools.partial(self._invoke, name)
        raise AttributeError(f"FakeClient({self.api!r}) has no operation {name!r}")

    def _invoke(self, operation: str, **params: Any) -> dict[str, Any]:
        state = self._state
        op_name = _operation_names(state.api)[operation]
        shape = self.meta.service_model.operation_model(op_name).input_shape
        if shape is not None:  # GetSendQuota takes no input at all
            # Raises botocore.exceptions.ParamValidationError, as boto3 does before sending.
            validate_parameters(params, shape)
        # One call at a time, so a sender running calls on several threads sees a consistent
        # script and quota.
        with self._lock:
            try:
                response = self._answer(operation, op_name, params)
            except ClientError as err:
                state.calls.append(RecordedCall(operation=operation, params=params, error=err))
                raise
            state.calls.append(RecordedCall(operation=operation, params=params, response=response))
            return response

    def _answer(self, operation: str, op_name: str, params: Mapping[str, Any]) -> dict[str, Any]:
        state = self._state
        if operation == _QUOTA_OPERATION[state.api]:
            quota = {
                "Max24HourSend": state.max_24h_send,
                "MaxSendRate": state.max_send_rate,
                "SentLast24Hours": float(state.sent_recipients),
            }
            if state.api == "v1":
                return {**quota, **self._meta_ok()}
            return {
                "SendQuota": quota,
                "SendingEnabled": True,
                "ProductionAccessEnabled": True,
                "EnforcementStatus": "HEALTHY",
                **self._meta_ok(),
            }
        if state.failures:
            failure = state.failures.popleft()
            raise self._error(op_name, failure.code, failure.message, failure.status)
        recipients = count_recipients(state.api, params)
        if 0 <= state.max_24h_send < state.sent_recipients + recipients:
            # "Would this call exceed the quota" decides, for the whole call (ses-spec §6.19).
            if state.api == "v1":
                raise self._error(op_name, "Throttling", DAILY_QUOTA_EXCEEDED, 400)
            raise self._error(op_name, "LimitExceededException", DAILY_QUOTA_EXCEEDED, 400)
        if operation in {"send_bulk_email", "send_bulk_templated_email"}:
            return self._bulk(params)
        reason = self._rejection(params.get("Destination"))
        if reason is not None:
            raise self._error(op_name, "MessageRejected", reason, 400)
        state.sent_recipients += recipients
        return {"MessageId": self._message_id(), **self._meta_ok()}

    def _bulk(self, params: Mapping[str, Any]) -> dict[str, Any]:
        state = self._state
        v1 = state.api == "v1"
        results: list[dict[str, Any]] = []
        for entry in params["Destinations" if v1 else "BulkEmailEntries"]:
            reason = self._rejection(entry.get("Destination"))
            if reason is not None:
                status = "MessageRejected" if v1 else "MESSAGE_REJECTED"
                results.append({"Status": status, "Error": reason})
                continue
            destination = entry.get("Destination") or {}
            state.sent_recipients += sum(len(v) for v in destination.values())
            results.append(
                {"Status": "Success" if v1 else "SUCCESS", "MessageId": self._message_id()}
            )
        return {("Status" if v1 else "BulkEmailEntryResults"): results, **self._meta_ok()}

    def _rejection(self, destination: Mapping[str, Any] | None) -> str | None:
        for addresses in (destination or {}).values():
            for address in addresses:
                if address in self._state.rejected:
                    return self._state.rejected[address]
        return None

    def _message_id(self) -> str:
        # SES's observed shape: 4 hex + 12 hex of epoch ms, a uuid4, "-000000" (ses-spec §6.16).
        return f"0100{int(time.time() * 1000):012x}-{uuid.uuid4()}-000000"

    def _meta_ok(self) -> dict[str, Any]:
        return {"ResponseMetadata": {"RequestId": str(uuid.uuid4()), "HTTPStatusCode": 200}}

    def _error(self, op_name: str, code: str, message: str, status: int) -> ClientError:
        error: dict[str, Any] = {"Code": code, "Message": message}
        if self.api == "v1":
            # v1 errors carry <Type>: Sender for client faults, Receiver for 5xx (ses-spec §1.4).
            error["Type"] = "Receiver" if status >= 500 else "Sender"
        response: dict[str, Any] = {
            "Error": error,
            "ResponseMetadata": {"RequestId": str(uuid.uuid4()), "HTTPStatusCode": status},
        }
        return ClientError(response, op_name)


class AsyncFakeClient(FakeClient):
    """`FakeClient` with coroutine methods, standing in for an aiobotocore client.

    Usable as ``async with AsyncFakeClient("v2") as client:`` like an aiobotocore client.
    """

    def __getattr__(self, name: str) -> Callable[..., Awaitable[dict[str, Any]]]:  # type: ignore[override]  # async twin
        method = super().__getattr__(name)

        async def call(**params: Any) -> dict[str, Any]:
            return method(**params)

        return call

    async def __aenter__(self) -> AsyncFakeClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None
