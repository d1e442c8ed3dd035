"""aiobotocore (the async client seskit's AsyncSender uses) speaks to the emulator too."""

from __future__ import annotations

import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

from emulator.server import EmulatorServer


async def test_aiobotocore_v1_and_v2_clients_round_trip(emulator: EmulatorServer) -> None:
    session = get_session()
    options = {
        "endpoint_url": emulator.endpoint_url,
        "region_name": "us-east-1",
        "aws_access_key_id": "123456789012",
        "aws_secret_access_key": "secret",
        "config": AioConfig(retries={"total_max_attempts": 1}),
    }
    async with (
        session.create_client("sesv2", **options) as sesv2,
        session.create_client("ses", **options) as ses,
    ):
        await sesv2.create_email_identity(EmailIdentity="async.example")
        listed = await ses.list_identities()
        assert listed["Identities"] == ["async.example"]
        with pytest.raises(sesv2.exceptions.NotFoundException) as caught:
            await sesv2.get_email_template(TemplateName="missing")
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert emulator.backend.account("123456789012", "us-east-1").identities
