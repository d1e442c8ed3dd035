"""The policy checks: their order, SES's texts, and what each one looks at.

Driven through `emulator.ses.sending.send` with a `RequestContext` (no network): each test
breaks two rules at once and asserts that the earlier one in `policy.RULES` answers.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.config import Settings
from emulator.jsontext import dumps_writer
from emulator.ses import account, policy, sending
from emulator.ses.context import RequestContext
from emulator.ses.errors import SesError
from emulator.ses.state import Backend, ConfigurationSet, Identity, Template

T0 = 1_700_000_000.0
SENDER = "sender@example.com"


@pytest.fixture
def backend() -> Backend:
    b = Backend(Settings())
    b.clock.set(T0)
    state = b.account()
    state.identities[SENDER] = Identity(name=SENDER, kind="EmailAddress")
    state.identities["ok.example"] = Identity(name="ok.example", kind="Domain")
    return b


def ctx(backend: Backend, api: str = "v1", operation: str = "SendEmail") -> RequestContext:
    return RequestContext(
        api=api,  # type: ignore[arg-type]  # tests pass the two literal values
        operation=operation,
        account_id="000000000000",
        region="us-east-1",
        request_id="r",
        backend=backend,
    )


def simple(**changes: object) -> sending.SendRequest:
    fields: dict[str, object] = {
        "api": "v1",
        "operation": "SendEmail",
        "kind": "simple",
        "source": SENDER,
        "destination": sending.Destination(to=("a@ok.example",)),
        "subject": "s",
        "text": "t",
    }
    fields.update(changes)
    return sending.SendRequest(**fields)  # type: ignore[arg-type]


def error_of(backend: Backend, request: sending.SendRequest) -> SesError:
    with pytest.raises(SesError) as info:
        sending.send(ctx(backend, request.api, request.operation), request)
    return info.value


def test_rule_order_is_ses_order() -> None:
    assert [rule.name for rule in policy.RULES] == [
        "request-constraints",
        "message-tags",
        "recipients",
        "message-size",
        "raw-message",
        "account-sending-enabled",
        "configuration-set",
        "template",
        "verified-sender",
        "sandbox-recipients",
        "daily-quota",
        "send-rate",
    ]


def test_docs_list_the_rules_in_the_same_order() -> None:
    docs = Path(__file__).parents[3] / "docs" / "emulator-rules.md"
    names = re.findall(r"^### \d+\. `([a-z-]+)`", docs.read_text(), flags=re.M)
    assert names == [rule.name for rule in policy.RULES]


def test_tags_are_checked_before_recipients(backend: Backend) -> None:
    request = simple(tags=(("a b", "v"),), destination=sending.Destination(to=("bad",)))
    assert error_of(backend, request).message.startswith("Invalid tag name <a b>")


def test_recipients_before_account_paused(backend: Backend) -> None:
    backend.account().sending_enabled = False
    request = simple(
        destination=sending.Destination(to=tuple(f"r{i}@ok.example" for i in range(51)))
    )
    assert error_of(backend, request).message == "Recipient count exceeds 50."


def test_account_paused_before_missing_configuration_set(backend: Backend) -> None:
    backend.account().sending_enabled = False
    err = error_of(backend, simple(configuration_set="nope"))
    assert (err.v1.code, err.v2.code) == ("AccountSendingPausedException", "SendingPausedException")


def test_configuration_set_before_template(backend: Backend) -> None:
    request = simple(kind="template", template_name="missing", configuration_set="nope")
    err = error_of(backend, request)
    assert err.message == "Configuration set <nope> does not exist."
    assert (err.v1.code, err.v2.code, err.v2.status) == (
        "ConfigurationSetDoesNotExist",
        "NotFoundException",
        404,
    )


def test_paused_configuration_set(backend: Backend) -> None:
    backend.account().configuration_sets["cs"] = ConfigurationSet(name="cs", sending_enabled=False)
    err = error_of(backend, simple(configuration_set="cs"))
    assert (err.v1.code, err.v2.code) == (
        "ConfigurationSetSendingPausedException",
        "SendingPausedException",
    )


def test_template_before_sender_verification(backend: Backend) -> None:
    request = simple(kind="template", template_name="T9", source="nobody@else.example")
    err = error_of(backend, request)
    assert err.message == "Template T9 does not exist."
    assert (err.v1.code, err.v2.code, err.v2.status) == (
        "TemplateDoesNotExist",
        "NotFoundException",
        404,
    )


def test_unverified_sender_in_sandbox_lists_unverified_recipients_too(backend: Backend) -> None:
    account.apply_settings(backend.account(), {"sandbox": True}, now=T0)
    request = simple(
        source="Nobody <nobody@else.example>",
        destination=sending.Destination(
            to=("x@ok.example", "Who <who@else.example>"),
            bcc=("bounce@simulator.amazonses.com",),
        ),
    )
    err = error_of(backend, request)
    assert err.message == (
        "Email address is not verified. The following identities failed the check in region "
        "US-EAST-1: Nobody <nobody@else.example>, Who <who@else.example>"
    )
    assert (err.v1.code, err.v1.status, err.v2.code) == ("MessageRejected", 400, "MessageRejected")


def test_sandbox_before_daily_quota(backend: Backend) -> None:
    state = backend.account()
    account.apply_settings(state, {"sandbox": True, "max_24h_send": 1}, now=T0)
    state.sent_window.append((T0, 1))
    state.sent_window_total = 1
    err = error_of(backend, simple(destination=sending.Destination(to=("a@else.example",))))
    assert err.message.endswith("US-EAST-1: a@else.example")


def test_quota_before_rate(backend: Backend) -> None:
    account.apply_settings(backend.account(), {"max_send_rate": 1, "max_24h_send": 1}, now=T0)
    sending.send(ctx(backend), simple())
    err = error_of(backend, simple())
    assert err.message == "Daily message quota exceeded."
    assert (err.v1.code, err.v1.status, err.v2.code, err.v2.status) == (
        "Throttling",
        400,
        "LimitExceededException",
        400,
    )


def test_daily_quota_v2_error_is_configurable() -> None:
    b = Backend(Settings(daily_quota_v2_error="TooManyRequestsException", auto_verify=True))
    b.clock.set(T0)
    account.apply_settings(b.account(), {"max_24h_send": 1}, now=T0)
    sending.send(ctx(b), simple())
    err = error_of(b, simple())
    assert (err.v2.code, err.v2.status) == ("TooManyRequestsException", 429)


def test_refused_call_counts_nowhere(backend: Backend) -> None:
    state = backend.account()
    account.apply_settings(state, {"max_send_rate": 1, "max_24h_send": 10}, now=T0)
    sending.send(ctx(backend), simple())
    with pytest.raises(SesError):
        sending.send(ctx(backend), simple())
    assert state.sent_window_total == 1
    assert len(backend.store) == 1
    assert sum(p["DeliveryAttempts"] for p in state.statistics.values()) == 1


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("plain", "Missing final '@domain'"),
        ("a@", "Missing domain"),
        ("@b.com", "Missing local name"),
        ("a b@c.com", "Local address contains control or whitespace"),
        ("é@c.com", "Local address contains control or whitespace"),
        ("a@c d.com", "Domain contains control or whitespace"),
        ("a@c_d.com", "Domain contains illegal character"),
        ("a@xn--bcher-kva.example", None),
        ("Name <a@b.com>", None),
        ('"quoted name" <a.b+c@b.com>', None),
        (
            "x" * 310 + "@example.com",
            f"Address length is more than 320 characters long: '{'x' * 310}@example.com'.",
        ),
    ],
)
def test_address_problems_use_javamail_texts(address: str, problem: str | None) -> None:
    assert policy.address_problem(address) == problem


def test_one_bad_address_rejects_the_call(backend: Backend) -> None:
    request = simple(destination=sending.Destination(to=("a@ok.example",), cc=("broken",)))
    err = error_of(backend, request)
    assert (err.message, err.v1.code, err.v2.code) == (
        "Missing final '@domain'",
        "InvalidParameterValue",
        "BadRequestException",
    )


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        (("", ""), "The tag name must be specified."),
        (("n", ""), "The tag value must be specified."),
        (("x" * 256, "!"), "Tag name cannot exceed 255 characters."),
        (
            ("x:1", "v"),
            "Invalid tag name <x:1>: only alphanumeric ASCII characters, '_',  '-' are allowed.",
        ),
        (("n", "v" * 256), "Tag value cannot exceed 255 characters."),
        (
            ("n", "x:1"),
            "Invalid tag value <x:1>: only alphanumeric ASCII characters, '_',  '-' , '.', '@' "
            "are allowed.",
        ),
    ],
)
def test_tag_checks_in_ses_order(backend: Backend, tag: tuple[str, str], message: str) -> None:
    assert error_of(backend, simple(tags=(tag,))).message == message


def test_tag_values_accept_dot_and_at_and_feedback_id_names(backend: Backend) -> None:
    tags = (("campaign", "a.b@c"), ("ses:feedback-id-a", "x"), ("ses:feedback-id-b", "y"))
    assert sending.send(ctx(backend), simple(tags=tags))[0].message_id


def test_tag_count_cap_is_a_setting(backend: Backend) -> None:
    tags = tuple((f"t{i}", "v") for i in range(51))
    assert error_of(backend, simple(tags=tags)).message == "Too many message tags: 51; at most 50."


def test_v1_size_limit_counts_the_mime_message(backend: Backend) -> None:
    body = "x" * 10_485_760
    err = error_of(backend, simple(text=body))
    assert re.fullmatch(r"Message length is more than 10485760 bytes long: '\d+'\.", err.message)
    assert err.v1.code == "InvalidParameterValue"


def test_v1_size_base64_counting_is_a_setting() -> None:
    b = Backend(Settings(v1_size_counting="base64", auto_verify=True))
    b.clock.set(T0)
    raw = b"From: s@x.com\r\nTo: a@x.com\r\nSubject: s\r\n\r\n" + b"x" * 8_000_000
    request = sending.SendRequest(api="v1", operation="SendRawEmail", kind="raw", raw=raw)
    err = error_of(b, request)
    assert (
        err.message
        == f"Message length is more than 10485760 bytes long: '{-(-len(raw) // 3) * 4}'."
    )


def raw(data: bytes, **changes: object) -> sending.SendRequest:
    fields: dict[str, object] = {
        "api": "v1",
        "operation": "SendRawEmail",
        "kind": "raw",
        "raw": data,
    }
    fields.update(changes)
    return sending.SendRequest(**fields)  # type: ignore[arg-type]


def test_raw_duplicate_header_names_the_header_as_sent(backend: Backend) -> None:
    data = (
        b"From: sender@example.com\r\nTo: a@ok.example\r\n"
        b"Message-ID: <1@x>\r\nmessage-id: <2@x>\r\n\r\nb"
    )
    assert error_of(backend, raw(data)).message == "Duplicate header 'message-id'."


def test_raw_without_recipients_is_missing_to(backend: Backend) -> None:
    data = b"From: sender@example.com\r\nSubject: s\r\n\r\nb"
    assert error_of(backend, raw(data)).message == "Missing required header 'To'."


def test_raw_header_section_too_long(backend: Backend) -> None:
    pad = (b"X-Pad: " + b"p" * 900 + b"\r\n") * 1200
    data = b"From: sender@example.com\r\nTo: a@ok.example\r\n" + pad + b"\r\nbody"
    assert error_of(backend, raw(data)).message == "Header section too long."


def test_raw_source_wins_over_from_header_but_both_must_be_verified(backend: Backend) -> None:
    data = b"From: Other <other@else.example>\r\nTo: a@ok.example\r\n\r\nb"
    err = error_of(backend, raw(data, source=SENDER))
    assert err.message.endswith("US-EAST-1: Other <other@else.example>")


def test_bulk_with_more_than_50_destinations_is_refused(backend: Backend) -> None:
    backend.account().templates["T"] = Template(name="T", subject="s", text="t")
    entries = tuple(
        sending.BulkEntry(destination=sending.Destination(to=(f"r{i}@ok.example",)))
        for i in range(51)
    )
    request = sending.SendRequest(
        api="v2",
        operation="SendBulkEmail",
        kind="template",
        source=SENDER,
        template_name="T",
        bulk=entries,
    )
    assert error_of(backend, request).message == "Number of destinations (51) exceeds 50."


def test_data_for_entry_merges_replacement_keys_over_default() -> None:
    assert policy.data_for_entry('{"a": 1, "b": 2}', '{"b": 3}') == '{"a": 1, "b": 3}'
    assert policy.data_for_entry('{"a": 1}', None) == '{"a": 1}'
    assert policy.data_for_entry('{"a": 1}', "not json") == "not json"


def test_v2_size_limit_is_40_mib(backend: Backend) -> None:
    head = b"From: sender@example.com\r\nTo: a@ok.example\r\n\r\n"
    at_limit = head + b"x" * (41_943_040 - len(head))
    assert sending.send(ctx(backend, "v2"), raw(at_limit, api="v2", operation="SendEmail"))
    over = at_limit + b"x"
    err = error_of(backend, raw(over, api="v2", operation="SendEmail"))
    assert err.message == "Message length is more than 41943040 bytes long: '41943041'."
    assert (err.v2.code, err.v2.status) == ("BadRequestException", 400)


@given(st.emails())
def test_valid_addresses_pass_bare_and_with_a_display_name(address: str) -> None:
    assert policy.address_problem(address) is None
    assert policy.address_problem(f"Some One <{address}>") is None


@given(st.text(max_size=40))
def test_address_check_never_crashes(text: str) -> None:
    problem = policy.address_problem(text)
    assert problem is None or isinstance(problem, str)


def test_line_breaks_in_display_names_are_refused() -> None:
    assert policy.address_problem("Evil\r\nBcc: x@y.z <a@b.c>") == (
        "Local address contains control or whitespace"
    )


# The character classes of address_problem, written as regexes, hold to the rules they stand
# for (JavaMail's: printable ASCII without space; its specials; a domain's letters, digits,
# dot and dash), for every character of Latin-1 and a sample beyond it.
_CHARACTERS = [chr(i) for i in range(0x100)] + ["\u2003", "\u00a0", "\ud800", "\U0001f600"]


@pytest.mark.parametrize("char", _CHARACTERS)
def test_address_character_classes_match_their_rules(char: str) -> None:
    assert bool(policy._CONTROL_OR_SPACE.search(char)) == (char <= " " or char >= "\x7f")
    assert bool(policy._LOCAL_SPECIAL.search(char)) == (char in '()<>,;:\\"[]@')
    legal_in_domain = char.isascii() and (char.isalnum() or char in ".-")
    assert bool(policy._DOMAIN_ILLEGAL.search(char)) == (not legal_in_domain)


def test_address_longer_than_the_cache_bound_is_still_judged() -> None:
    long_address = " " * 600 + "a@b.com"  # surrounding space is not part of the address
    assert policy.address_problem(long_address) is None
    assert policy.address_problem("x" * 700 + "@example.com") == (
        f"Address length is more than 320 characters long: '{'x' * 700}@example.com'."
    )


@given(st.text(alphabet='ab.@<>"()[],;:\\ \r\n\x7fé-', max_size=24))
def test_cached_address_answers_equal_fresh_ones(text: str) -> None:
    fresh = policy._address_problem(text)
    assert policy.address_problem(text) == fresh
    assert policy.address_problem(text) == fresh  # the second answer comes from the cache


@given(st.text(alphabet="ab:_-.@ é", max_size=6), st.text(alphabet="ab:_-.@ é", max_size=6))
def test_cached_tag_answers_equal_fresh_ones(name: str, value: str) -> None:
    fresh = policy._tag_problem(name, value)
    assert policy._tag_problem_of(name, value) == fresh
    assert policy._tag_problem_of(name, value) == fresh  # the second answer comes from the cache


def test_tag_longer_than_the_cache_bound_is_judged_without_it() -> None:
    before = policy._tag_problem_of.cache_info().currsize
    assert policy._tag_problem_of("n" * 300, "v") == "Tag name cannot exceed 255 characters."
    assert policy._tag_problem_of.cache_info().currsize == before


def test_bulk_tags_are_judged_per_entry_after_the_shared_defaults(backend: Backend) -> None:
    backend.account().templates["T"] = Template(name="T", subject="s", text="t")
    entries = tuple(
        sending.BulkEntry(
            destination=sending.Destination(to=(f"r{i}@ok.example",)),
            tags=(("bad name", "v"),) if i == 2 else (("entry", str(i)),),
        )
        for i in range(3)
    )
    request = sending.SendRequest(
        api="v2",
        operation="SendBulkEmail",
        kind="template",
        source=SENDER,
        template_name="T",
        tags=(("campaign", "c1"),),
        bulk=entries,
    )
    assert error_of(backend, request).message == (
        "Invalid tag name <bad name>: only alphanumeric ASCII characters, '_',  '-' are allowed."
    )


_DEEP = "[" * 100_000 + "]" * 100_000  # deeper than json can read


@pytest.mark.parametrize(
    ("default", "replacement"),
    [
        ('{"a": 1, "b": 2}', '{"b": 3}'),
        ('{"a": 1}', None),
        ('{"a": 1}', ""),
        (None, '{"b": 3}'),
        ("", None),
        ("[1]", '{"b": 3}'),
        ('{"a": 1}', "[1]"),
        ("not json", '{"b": 3}'),
        ('{"a": 1}', "not json"),
        ('{"a": {"x": [1.5, null, true]}}', '{"c": "\\u00e9"}'),
    ],
)
def test_bulk_data_gives_the_merged_text_and_its_object(
    default: str | None, replacement: str | None
) -> None:
    text, values = policy.BulkData(default).entry(replacement)
    assert text == policy.data_for_entry(default, replacement)
    if values is not None:
        assert values == json.loads(text)


def test_data_too_deeply_nested_to_read_is_passed_through_for_rendering_to_report() -> None:
    assert policy.data_for_entry('{"a": 1}', _DEEP) == _DEEP
    assert policy.data_for_entry(_DEEP, '{"a": 1}') == '{"a": 1}'
    assert policy.BulkData('{"a": 1}').entry(_DEEP) == (_DEEP, None)


def test_bulk_entry_with_unreadably_deep_data_is_a_rendering_failure(backend: Backend) -> None:
    backend.account().templates["T"] = Template(name="T", subject="s", text="t {{a}}")
    request = sending.SendRequest(
        api="v2",
        operation="SendBulkEmail",
        kind="template",
        source=SENDER,
        template_name="T",
        template_data='{"a": 1}',
        bulk=(
            sending.BulkEntry(destination=sending.Destination(to=("r1@ok.example",))),
            sending.BulkEntry(
                destination=sending.Destination(to=("r2@ok.example",)), template_data=_DEEP
            ),
        ),
    )
    first, second = sending.send(ctx(backend, "v2", "SendBulkEmail"), request)
    assert first.message_id is not None
    assert second.message_id is not None
    accepted = backend.store.get(first.message_id)
    assert accepted is not None
    assert accepted.status == "accepted"
    record = backend.store.get(second.message_id)
    assert record is not None
    assert (record.status, record.rendering_error) == (
        "rendering_failure",
        "Template data is nested too deeply.",
    )


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=6), _JSON_VALUES, max_size=4))
def test_merged_data_text_is_what_json_dumps_writes(value: dict[str, object]) -> None:
    assert dumps_writer(value) == json.dumps(value)
