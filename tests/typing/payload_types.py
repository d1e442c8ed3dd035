"""Typing tests: checked by ``mypy --strict`` (``make typecheck``), never run.

Positive cases must type-check; each negative case carries a ``# type: ignore[code]`` that
``warn_unused_ignores`` turns into a failure the day the mistake stops being caught.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from seskit import BulkEntry, Email, Template, v1, v2

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient
    from mypy_boto3_ses.type_defs import MessageTagTypeDef, SendEmailRequestTypeDef
    from mypy_boto3_sesv2 import SESV2Client

EMAIL = Email(sender="s@example.com", to=["a@example.com"], subject="Hi", text="Hello")
TEMPLATED = Email(sender="s@example.com", to="a@example.com", tags={"campaign": "x"})
ENTRIES = [BulkEntry(to="a@example.com", replacement_data={"n": 1})]


def v1_builders_fit_the_v1_client(client: SESClient) -> None:
    client.send_email(**v1.send_email(EMAIL))
    client.send_raw_email(**v1.send_raw_email(EMAIL))
    client.send_templated_email(**v1.send_templated_email(TEMPLATED, "T1", {"a": 1}))
    client.send_bulk_templated_email(
        **v1.send_bulk_templated_email(sender="s@example.com", template="T1", entries=ENTRIES)
    )
    for payload in v1.send_bulk_templated_email_batches(
        sender="s@example.com", template="T1", entries=ENTRIES
    ):
        client.send_bulk_templated_email(**payload)


def v2_builders_fit_the_v2_client(client: SESV2Client) -> None:
    client.send_email(**v2.send_email(EMAIL))
    client.send_email(**v2.send_email(EMAIL, raw=True))
    client.send_email(**v2.send_email(TEMPLATED, template=Template.inline(subject="s", text="t")))
    client.send_bulk_email(
        **v2.send_bulk_email(sender="s@example.com", template="T1", entries=ENTRIES)
    )


def payloads_are_typed_dicts_not_dict_any() -> None:
    payload: SendEmailRequestTypeDef = v1.send_email(EMAIL)
    payload["Source"].upper()
    payload["NoSuchKey"]  # type: ignore[typeddict-item]


def v2_payload_to_a_v1_client_fails(client: SESClient) -> None:
    client.send_email(**v2.send_email(EMAIL))  # type: ignore[misc]


def v1_payload_to_a_v2_client_fails(client: SESV2Client) -> None:
    client.send_email(**v1.send_email(EMAIL))  # type: ignore[misc]


def hand_written_tag_with_a_wrong_key_fails() -> None:
    tag: MessageTagTypeDef = {"Name": "campaign", "Val": "x"}  # type: ignore[typeddict-unknown-key, typeddict-item]
    del tag


def raw_payload_to_send_email_fails(client: SESClient) -> None:
    client.send_email(**v1.send_raw_email(EMAIL))  # type: ignore[misc]


def email_fields_are_typed() -> None:
    EMAIL.to[0].email.upper()
    EMAIL.subject.upper()  # type: ignore[union-attr]
    Email(sender="s@example.com", to=[1])  # type: ignore[list-item]


def hand_written_payload_missing_a_required_key_fails(client: SESClient) -> None:
    payload: SendEmailRequestTypeDef = {  # type: ignore[typeddict-item]
        "Source": "s@example.com",
        "Destination": {"ToAddresses": ["a@example.com"]},
    }
    client.send_email(**payload)
