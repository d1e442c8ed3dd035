"""State is partitioned by (account, region) taken from each request's SigV4 credential."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from emulator.ses import v1_ops, v2_ops
from emulator.ses.context import Params, RequestContext

ClientFactory = Callable[..., Any]


def test_handlers_get_account_region_and_request_id_from_the_request(
    make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str, str, str, str]] = []

    def probe(context: RequestContext, params: Params) -> Params:
        seen.append(
            (context.api, context.operation, context.account_id, context.region, context.request_id)
        )
        return {}

    monkeypatch.setitem(v1_ops.HANDLERS, "ListIdentities", probe)
    monkeypatch.setitem(v2_ops.HANDLERS, "ListEmailTemplates", probe)
    v1 = make_client("ses", account_key="123456789012", region="eu-central-1")
    v2 = make_client("sesv2")
    first = v1.list_identities()["ResponseMetadata"]["RequestId"]
    second = v2.list_email_templates()["ResponseMetadata"]["RequestId"]
    assert seen == [
        ("v1", "ListIdentities", "123456789012", "eu-central-1", first),
        ("v2", "ListEmailTemplates", "000000000000", "us-east-1", second),
    ]


def test_accounts_never_see_each_others_identities(make_client: ClientFactory) -> None:
    alice = make_client("sesv2", account_key="111111111111")
    bob = make_client("sesv2", account_key="222222222222")
    default = make_client("ses")
    alice.create_email_identity(EmailIdentity="alice.example")
    bob.create_email_identity(EmailIdentity="bob.example")
    assert [i["IdentityName"] for i in alice.list_email_identities()["EmailIdentities"]] == [
        "alice.example"
    ]
    assert [i["IdentityName"] for i in bob.list_email_identities()["EmailIdentities"]] == [
        "bob.example"
    ]
    assert default.list_identities()["Identities"] == []


def test_regions_of_one_account_are_separate(make_client: ClientFactory) -> None:
    east = make_client("ses", account_key="333333333333", region="us-east-1")
    west = make_client("ses", account_key="333333333333", region="us-west-2")
    east.verify_domain_identity(Domain="east.example")
    assert east.list_identities()["Identities"] == ["east.example"]
    assert west.list_identities()["Identities"] == []
