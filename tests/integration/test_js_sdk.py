"""The AWS SDK for JavaScript v3 (``@aws-sdk/client-ses`` and ``-sesv2``) against the emulator.

``tests/js/ses_client.mjs`` runs once, under real node, against the session's emulator: it sends
through both APIs, reads back timestamps (v2 answers epoch seconds, which the SDK must parse
into ``Date``) and provokes three errors. The tests check its answers against what the
emulator recorded. Installed by ``scripts/components/clients.sh``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from emulator.client import EmulatorClient, SentMessage
from emulator.server import EmulatorServer
from tests.components import require_component

JS_DIR = Path(__file__).resolve().parents[1] / "js"
SCRIPT = JS_DIR / "ses_client.mjs"
SHOP = "shop@example.com"
ANA = "ana@example.net"


def _sdk_installed() -> bool:
    modules = JS_DIR / "node_modules" / "@aws-sdk"
    return all(
        (modules / name / "package.json").is_file() for name in ("client-ses", "client-sesv2")
    )


@dataclass(frozen=True)
class JsRun:
    results: dict[str, Any]
    messages: dict[str, SentMessage]  # by message id
    started: float
    finished: float


@pytest.fixture(scope="module")
def js_run(emulator_server: EmulatorServer) -> JsRun:
    node = shutil.which("node")
    require_component("node", node is not None, "node is not on PATH (apt-get install nodejs)")
    require_component(
        "@aws-sdk/client-ses[v2]",
        _sdk_installed(),
        "tests/js/node_modules is missing; run scripts/components/clients.sh",
    )
    assert node is not None
    emulator_server.backend.reset()
    emulator_server.backend.clock.use_real_time()
    emu = EmulatorClient(emulator_server.endpoint_url, token=emulator_server.settings.control_token)
    emu.verify_identity(SHOP)

    started = time.time()
    # NODE_NO_WARNINGS: the SDK warns on stderr about future node versions; not our concern.
    env = {**os.environ, "NODE_NO_WARNINGS": "1"}
    done = subprocess.run(
        [node, str(SCRIPT), emulator_server.endpoint_url, SHOP, ANA],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    finished = time.time()
    assert done.returncode == 0, f"node failed ({done.returncode}):\n{done.stderr}"
    return JsRun(
        results=json.loads(done.stdout),
        messages={m.id: m for m in emu.messages()},
        started=started,
        finished=finished,
    )


def test_v2_send_email_is_recorded_with_its_content_and_tags(js_run: JsRun) -> None:
    sent = js_run.results["v2_send"]
    assert sent["status"] == 200
    message = js_run.messages[sent["message_id"]]
    assert (message.api, message.operation, message.kind) == ("v2", "SendEmail", "simple")
    assert message.subject == "Hello from JS v2"
    assert message.html is not None
    assert "<p>v2</p>" in message.html
    assert message.recipients == (ANA,)
    assert message.tag_map == {"sdk": "js-v2"}


def test_v1_send_email_is_recorded_with_cc_and_tags(js_run: JsRun) -> None:
    sent = js_run.results["v1_send"]
    assert sent["status"] == 200
    message = js_run.messages[sent["message_id"]]
    assert (message.api, message.operation) == ("v1", "SendEmail")
    assert message.subject == "Hello from JS v1"
    assert message.recipients == (ANA, f"cc.{ANA}")
    assert message.tag_map == {"sdk": "js-v1"}


def test_v2_templated_send_is_rendered(js_run: JsRun) -> None:
    message = js_run.messages[js_run.results["v2_template"]["message_id"]]
    assert (message.kind, message.template, message.subject) == ("template", "JsTemplate", "Hi JS")


def test_v2_bulk_send_gives_each_entry_its_own_rendered_message(js_run: JsRun) -> None:
    results = js_run.results["v2_bulk"]
    assert [r["status"] for r in results] == ["SUCCESS", "SUCCESS"]
    messages = [js_run.messages[r["message_id"]] for r in results]
    assert [(m.operation, m.recipients, m.subject) for m in messages] == [
        ("SendBulkEmail", (f"bulk1.{ANA}",), "Hi Bulk 1"),
        ("SendBulkEmail", (f"bulk2.{ANA}",), "Hi everyone"),
    ]


@pytest.mark.parametrize(("case", "api"), [("v2_raw", "v2"), ("v1_raw", "v1")])
def test_raw_mime_blobs_arrive_intact(js_run: JsRun, case: str, api: str) -> None:
    message = js_run.messages[js_run.results[case]["message_id"]]
    assert (message.api, message.kind) == (api, "raw")
    assert message.subject == f"Raw from JS {api}"
    assert message.recipients == (ANA,)
    assert message.text is not None
    assert message.text.strip() == "Raw body \u00e9"


def test_failed_calls_record_nothing(js_run: JsRun) -> None:
    # v2 and v1 sends, one templated send, two bulk entries, two raw sends.
    assert len(js_run.messages) == 7


def test_v2_timestamps_parse_into_js_dates(js_run: JsRun) -> None:
    [template] = js_run.results["templates"]
    assert template["name"] == "JsTemplate"
    assert template["created_is_date"] is True
    created = template["created_ms"] / 1000
    # Whole seconds may be dropped on the wire; the creation fell inside the node run.
    assert js_run.started - 1 <= created <= js_run.finished


def test_identity_reads_back_as_verified(js_run: JsRun) -> None:
    assert js_run.results["identity"] == {
        "type": "EMAIL_ADDRESS",
        "verified": True,
        "status": "SUCCESS",
    }


@pytest.mark.parametrize(
    ("case", "name", "status", "message"),
    [
        (
            "v2_missing_template",
            "NotFoundException",
            404,
            "Template NoSuchTemplate does not exist.",
        ),
        (
            "v1_missing_template",
            "TemplateDoesNotExistException",
            400,
            "Template NoSuchTemplate does not exist.",
        ),
        (
            "v2_unverified_sender",
            "MessageRejected",
            400,
            "Email address is not verified. The following identities failed the check in "
            "region US-EAST-1: nobody@unverified.example",
        ),
    ],
)
def test_errors_arrive_as_the_sdks_named_exceptions(
    js_run: JsRun, case: str, name: str, status: int, message: str
) -> None:
    assert js_run.results[case] == {
        "name": name,
        "status": status,
        "message": message,
        "fault": "client",
    }
