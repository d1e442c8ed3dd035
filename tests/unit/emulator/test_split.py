"""Split mode's wire format and the owner's operation calls (emulator/split.py, owner.py,
front.py)."""

from __future__ import annotations

import asyncio
import pickle
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from emulator.app import build_app
from emulator.config import Settings
from emulator.faults import FAULT_RULES
from emulator.front import FRAME_CALLS, OwnerLink, is_sns_request
from emulator.guards import GUARDS
from emulator.owner import OperationServer
from emulator.persistence import StateStore
from emulator.ses import v2_ops
from emulator.ses.context import Params, RequestContext
from emulator.ses.errors import SesError, Wire, template_does_not_exist
from emulator.ses.state import AccountState
from emulator.split import (
    DELAY,
    ERROR,
    OK,
    Call,
    encode_frame,
    error_data,
    error_from,
    read_frame,
)

SENDER = "sender@example.com"
SEND: Params = {
    "FromEmailAddress": SENDER,
    "Destination": {"ToAddresses": ["to@example.com"]},
    "Content": {"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}},
}
ACCOUNT = "000000000000"


def call(
    operation: str,
    params: Params | None,
    *,
    call_id: int = 1,
    api: Any = "v2",
    check_faults: bool = True,
) -> Call:
    return (call_id, api, operation, params, ACCOUNT, "us-east-1", "rid-1", check_faults)


@pytest.fixture
def app() -> web.Application:
    return build_app(Settings(verified_identities=(SENDER,)))


@pytest.fixture
def owner(app: web.Application) -> OperationServer:
    return OperationServer.of(app)


def stored(owner: OperationServer) -> int:
    return len(owner.backend.store)


# ---- frames


def test_a_frame_is_a_length_then_a_pickle() -> None:
    frame = encode_frame([(1, "ok", {"MessageId": "m"})])
    assert int.from_bytes(frame[:4], "big") == len(frame) - 4
    assert pickle.loads(frame[4:]) == [(1, "ok", {"MessageId": "m"})]


def test_frames_read_back_in_order_and_end_at_eof() -> None:
    async def scenario() -> list[Any]:
        reader = asyncio.StreamReader()
        reader.feed_data(encode_frame("one") + encode_frame({"two": b"\x00" * 70_000}))
        reader.feed_eof()
        values = [await read_frame(reader), await read_frame(reader)]
        with pytest.raises(asyncio.IncompleteReadError):
            await read_frame(reader)
        return values

    assert asyncio.run(scenario()) == ["one", {"two": b"\x00" * 70_000}]


def test_an_error_crosses_as_data_with_both_wire_forms() -> None:
    error = template_does_not_exist("T1")
    again = error_from(error_data(error))
    assert (again.message, again.v1, again.v2) == (
        "Template T1 does not exist.",
        Wire("TemplateDoesNotExist", 400),
        Wire("NotFoundException", 404),
    )
    assert pickle.loads(pickle.dumps(error_data(error), protocol=5)) == error_data(error)


# ---- the owner's answers


def test_a_send_runs_the_handler_and_stores_the_message(owner: OperationServer) -> None:
    call_id, kind, output = owner.answer(call("SendEmail", SEND, call_id=7))
    assert (call_id, kind) == (7, OK)
    assert output["MessageId"]
    assert stored(owner) == 1


def test_a_handler_error_comes_back_as_data(owner: OperationServer) -> None:
    _, kind, value = owner.answer(call("GetEmailTemplate", {"TemplateName": "nope"}))
    assert kind == ERROR
    assert value == (
        "Template nope does not exist.",
        "TemplateDoesNotExist",
        400,
        "NotFoundException",
        404,
    )


def test_an_operation_without_handler_is_not_implemented(owner: OperationServer) -> None:
    _, kind, value = owner.answer(call("NoSuchOperation", {}))
    assert kind == ERROR
    assert value[0] == "The operation NoSuchOperation is not implemented by this SES emulator."
    assert value[2] == 501


@pytest.fixture
def broken_handler(monkeypatch: pytest.MonkeyPatch) -> str:
    def broken(context: RequestContext, params: Params) -> Params:
        raise KeyError("a bug")

    monkeypatch.setitem(v2_ops.HANDLERS, "BrokenForTest", broken)
    return "BrokenForTest"


def test_a_handler_bug_is_internal_failure_and_the_owner_keeps_serving(
    owner: OperationServer, broken_handler: str
) -> None:
    _, kind, value = owner.answer(call(broken_handler, {}))
    assert kind == ERROR
    assert (value[3], value[4]) == ("InternalServiceErrorException", 500)
    assert (value[1], value[2]) == ("InternalFailure", 500)
    assert owner.answer(call("SendEmail", SEND))[1] == OK


def test_a_fault_error_answers_instead_of_the_handler(
    app: web.Application, owner: OperationServer
) -> None:
    app[FAULT_RULES].add(
        {"operation": "SendEmail", "error": {"code": "Throttling", "status": 400, "message": "m"}}
    )
    _, kind, value = owner.answer(call("SendEmail", SEND))
    assert (kind, value) == (ERROR, ("m", "Throttling", 400, "Throttling", 400))
    assert stored(owner) == 0


def test_a_fault_latency_asks_the_front_to_wait_then_call_again(
    app: web.Application, owner: OperationServer
) -> None:
    app[FAULT_RULES].add({"operation": "SendEmail", "latency_ms": 250, "count": 1})
    assert owner.answer(call("SendEmail", SEND)) == (1, DELAY, (250, None))
    assert stored(owner) == 0
    _, kind, _ = owner.answer(call("SendEmail", SEND, check_faults=False))
    assert kind == OK
    assert stored(owner) == 1


def test_a_fault_with_latency_and_error_sends_both(
    app: web.Application, owner: OperationServer
) -> None:
    app[FAULT_RULES].add(
        {"latency_ms": 5, "error": {"code": "Slow", "status": 503, "message": "later"}}
    )
    assert owner.answer(call("SendEmail", SEND)) == (
        1,
        DELAY,
        (5, ("later", "Slow", 503, "Slow", 503)),
    )


def test_a_call_without_params_meets_the_faults_only(
    app: web.Application, owner: OperationServer
) -> None:
    assert owner.answer(call("SendEmail", None)) == (1, OK, None)
    app[FAULT_RULES].add({"error": {"code": "Boom", "status": 500, "message": "x"}})
    assert owner.answer(call("SendEmail", None))[1:] == (ERROR, ("x", "Boom", 500, "Boom", 500))
    assert stored(owner) == 0


def with_data_dir(tmp_path: Path) -> tuple[OperationServer, StateStore]:
    """An owner whose application keeps its state in ``tmp_path``, and that state store."""
    app = build_app(Settings(verified_identities=(SENDER,), data_dir=str(tmp_path)))
    states = app[GUARDS].states
    assert states is not None
    return OperationServer.of(app), states


def test_state_is_saved_after_a_change_with_a_data_dir(tmp_path: Path) -> None:
    owner, states = with_data_dir(tmp_path)
    saved: list[str] = []
    real_save = states.save

    def save(state: AccountState) -> None:
        saved.append(state.account_id)
        real_save(state)

    states.save = save  # type: ignore[method-assign]  # spy on the real store
    owner.answer(call("GetAccount", {}))
    assert saved == []  # a read-only operation saves nothing
    owner.answer(call("PutAccountSendingAttributes", {"SendingEnabled": True}))
    assert saved == [ACCOUNT]


def test_a_failed_save_is_answered_as_internal_failure(tmp_path: Path) -> None:
    owner, states = with_data_dir(tmp_path)

    def fail(state: object) -> None:
        raise sqlite3.OperationalError("disk full")

    states.save = fail  # type: ignore[method-assign]  # a store that cannot write
    _, kind, value = owner.answer(call("PutAccountSendingAttributes", {"SendingEnabled": True}))
    assert kind == ERROR
    assert value[0] == "State not saved: disk full"
    assert value[4] == 500


def test_an_unexpected_failure_fails_that_call_alone(tmp_path: Path) -> None:
    owner, states = with_data_dir(tmp_path)

    def fail(state: object) -> None:
        raise OSError("the data dir went away")

    states.save = fail  # type: ignore[method-assign]  # fails as save_after does not expect
    frame = owner.answer_frame(
        [
            call("PutAccountSendingAttributes", {"SendingEnabled": True}, call_id=1),
            call("GetAccount", {}, call_id=2),
        ]
    )
    first, second = pickle.loads(frame[4:])
    assert first[:2] == (1, ERROR)
    assert first[2][1:3] == ("InternalFailure", 500)
    assert second[:2] == (2, OK)


@pytest.fixture
def unpicklable_handler(monkeypatch: pytest.MonkeyPatch) -> str:
    def unpicklable(context: RequestContext, params: Params) -> Params:
        return {"Value": lambda: None}

    monkeypatch.setitem(v2_ops.HANDLERS, "UnpicklableForTest", unpicklable)
    return "UnpicklableForTest"


def test_an_unsendable_output_fails_that_call_alone(
    owner: OperationServer, unpicklable_handler: str
) -> None:
    frame = owner.answer_frame(
        [call(unpicklable_handler, {}, call_id=1), call("GetAccount", {}, call_id=2)]
    )
    first, second = pickle.loads(frame[4:])
    assert first[:2] == (1, ERROR)
    assert first[2][2] == 500
    assert second[:2] == (2, OK)


# ---- the front's side


@pytest.mark.parametrize(
    ("raw_query", "body", "sns"),
    [
        ("", b"Action=Subscribe&TopicArn=arn", True),
        ("", b"Action=ConfirmSubscription&Token=t", True),
        ("Action=Unsubscribe&SubscriptionArn=a", b"", True),
        ("", b"Action=SendEmail&Source=a", False),
        ("", b"Action=Subscriber", False),
        ("Action=SendEmail", b"", False),
    ],
)
def test_sns_actions_on_the_root_are_told_from_ses(raw_query: str, body: bytes, sns: bool) -> None:
    assert is_sns_request(raw_query, body) is sns


def test_calls_made_in_one_loop_turn_travel_in_frames_of_at_most_frame_calls(
    tmp_path: Path, owner: OperationServer
) -> None:
    frames: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                calls = await read_frame(reader)
                frames.append(len(calls))
                writer.write(owner.answer_frame(calls))
        except asyncio.IncompleteReadError:
            writer.close()

    async def scenario() -> list[tuple[str, object]]:
        path = str(tmp_path / "ops.sock")
        server = await asyncio.start_unix_server(serve, path)
        link = OwnerLink(*await asyncio.open_unix_connection(path))
        replies = asyncio.ensure_future(link.read_replies())
        futures = [
            link.call(
                "v2",
                operation,
                params,
                account_id=ACCOUNT,
                region="us-east-1",
                request_id="r",
                check_faults=True,
            )
            for operation, params in [("SendEmail", SEND), ("GetAccount", {}), ("Nope", {})] * 3
        ]
        answers = list(await asyncio.gather(*futures))
        link.writer.close()
        server.close()
        await server.wait_closed()
        replies.cancel()
        return answers

    answers = asyncio.run(scenario())
    # Nine calls in one loop turn: full frames as soon as they fill, the rest at the turn's end.
    assert FRAME_CALLS < 9
    assert frames == [FRAME_CALLS] * (9 // FRAME_CALLS) + (
        [9 % FRAME_CALLS] if 9 % FRAME_CALLS else []
    )
    assert [kind for kind, _ in answers] == [OK, OK, ERROR] * 3


def test_a_gone_owner_fails_pending_and_later_calls(tmp_path: Path) -> None:
    async def scenario() -> tuple[BaseException | None, BaseException | None]:
        path = str(tmp_path / "ops.sock")

        async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await read_frame(reader)
            writer.close()

        server = await asyncio.start_unix_server(hang_up, path)
        link = OwnerLink(*await asyncio.open_unix_connection(path))
        replies = asyncio.ensure_future(link.read_replies())
        pending = link.call(
            "v2",
            "GetAccount",
            {},
            account_id=ACCOUNT,
            region="r",
            request_id="r",
            check_faults=True,
        )
        await replies
        later = link.call(
            "v2",
            "GetAccount",
            {},
            account_id=ACCOUNT,
            region="r",
            request_id="r",
            check_faults=True,
        )
        server.close()
        await server.wait_closed()
        return pending.exception(), later.exception()

    pending, later = asyncio.run(scenario())
    assert isinstance(pending, ConnectionError)
    assert isinstance(later, ConnectionError)


def test_ses_error_from_data_is_an_ses_error() -> None:
    assert isinstance(error_from(("m", "A", 400, "B", 404)), SesError)
