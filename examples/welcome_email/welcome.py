"""A tiny application module: send a templated welcome email with SES v2 (boto3).

This is the code under test in the example; nothing here knows about the emulator. In
production ``client`` is ``boto3.client("sesv2")``; in tests it points at the emulator.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

__all__ = ["SENDER", "TEMPLATE_NAME", "create_welcome_template", "send_welcome_email"]

SENDER = "Example App <hello@example.com>"
TEMPLATE_NAME = "welcome"


def create_welcome_template(client: SESV2Client) -> None:
    """Store the welcome template (run once per account, e.g. from a deploy script)."""
    client.create_email_template(
        TemplateName=TEMPLATE_NAME,
        TemplateContent={
            "Subject": "Welcome to Example App, {{name}}!",
            "Text": "Hi {{name}},\n\nYour {{plan}} plan is ready.\n",
            "Html": "<p>Hi {{name}},</p><p>Your <b>{{plan}}</b> plan is ready.</p>",
        },
    )


def send_welcome_email(client: SESV2Client, *, to: str, name: str, plan: str = "free") -> str:
    """Send the welcome email to one new user; returns SES's MessageId."""
    response = client.send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": [to]},
        Content={
            "Template": {
                "TemplateName": TEMPLATE_NAME,
                "TemplateData": json.dumps({"name": name, "plan": plan}),
            }
        },
        EmailTags=[{"Name": "kind", "Value": "welcome"}],
    )
    return response["MessageId"]
