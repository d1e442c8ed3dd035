"""Route drift (ses-spec Appendix C): clients built on older and newer sesv2 models both work.

botocore 1.43.11 listed identities and configuration sets with ``GET`` and query-string paging;
the bundled model uses ``POST`` with a JSON body. A real boto3 client is built here from the
bundled model with those two routes put back the way 1.43.11 shipped them.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.loaders import create_loader

from emulator.server import EmulatorServer
from emulator.ses import v2_ops
from emulator.ses.context import Params, RequestContext
from tests.components import require_aws_cli

OLD_ROUTES = {
    "ListEmailIdentities": ("/v2/email/identities", "ListEmailIdentitiesRequest"),
    "ListConfigurationSets": ("/v2/email/configuration-sets", "ListConfigurationSetsRequest"),
}


@pytest.fixture
def old_sesv2(tmp_path: Path, emulator: EmulatorServer) -> Any:
    model = copy.deepcopy(create_loader().load_service_model("sesv2", "service-2"))
    for operation, (uri, request_shape) in OLD_ROUTES.items():
        model["operations"][operation]["http"] = {"method": "GET", "requestUri": uri}
        members = model["shapes"][request_shape]["members"]
        members.pop("Filter", None)
        for name in ("NextToken", "PageSize"):
            members[name].update(location="querystring", locationName=name)
    version_dir = tmp_path / "sesv2" / model["metadata"]["apiVersion"]
    version_dir.mkdir(parents=True)
    (version_dir / "service-2.json").write_text(json.dumps(model))
    session = botocore.session.get_session()
    session.set_config_variable("data_path", str(tmp_path))
    client = boto3.session.Session(botocore_session=session).client(
        "sesv2",
        endpoint_url=emulator.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
        config=Config(retries={"total_max_attempts": 1}),
    )
    assert client.meta.service_model.operation_model("ListEmailIdentities").http == {
        "method": "GET",
        "requestUri": "/v2/email/identities",
    }
    return client


def test_old_get_routes_reach_the_same_handlers_as_the_new_post_routes(
    sesv2: Any, old_sesv2: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, Params]] = []

    def probe(context: RequestContext, params: Params) -> Params:
        calls.append((context.operation, params))
        return {}

    monkeypatch.setitem(v2_ops.HANDLERS, "ListEmailIdentities", probe)
    monkeypatch.setitem(v2_ops.HANDLERS, "ListConfigurationSets", probe)
    old_sesv2.list_email_identities(PageSize=7, NextToken="abc")
    sesv2.list_email_identities(PageSize=7, NextToken="abc")
    old_sesv2.list_configuration_sets(PageSize=3)
    sesv2.list_configuration_sets(PageSize=3)
    assert calls == [
        ("ListEmailIdentities", {"PageSize": 7, "NextToken": "abc"}),
        ("ListEmailIdentities", {"NextToken": "abc", "PageSize": 7}),
        ("ListConfigurationSets", {"PageSize": 3}),
        ("ListConfigurationSets", {"PageSize": 3}),
    ]


def test_old_and_new_clients_see_the_same_state(sesv2: Any, old_sesv2: Any) -> None:
    sesv2.create_email_identity(EmailIdentity="example.com")
    sesv2.create_configuration_set(ConfigurationSetName="cs-1")
    new_names = [i["IdentityName"] for i in sesv2.list_email_identities()["EmailIdentities"]]
    old_names = [i["IdentityName"] for i in old_sesv2.list_email_identities()["EmailIdentities"]]
    assert new_names == old_names == ["example.com"]
    assert old_sesv2.list_configuration_sets()["ConfigurationSets"] == ["cs-1"]
    assert sesv2.list_configuration_sets()["ConfigurationSets"] == ["cs-1"]


def test_the_installed_aws_cli_reaches_the_same_state(sesv2: Any, emulator: EmulatorServer) -> None:
    """The AWS CLI v1 bundles its own botocore build, a second client generation to check."""
    aws = require_aws_cli()
    sesv2.create_email_identity(EmailIdentity="cli.example")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",
    }
    result = subprocess.run(
        [aws, "--endpoint-url", emulator.endpoint_url, "sesv2", "list-email-identities"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    names = [i["IdentityName"] for i in json.loads(result.stdout)["EmailIdentities"]]
    assert names == ["cli.example"]
