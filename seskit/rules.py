"""SES's limits, each as a named constant citing where it comes from, and pure checks.

The emulator imports these numbers too, so SES's limits are written down once.
References: "ses-spec" is shared/ses-spec.md; "model" is botocore's bundled service model
(ses 2010-12-01, sesv2 2019-09-27); "quotas" is the SES developer guide's "Service quotas" page.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "CONFIGURATION_SET_NAME_RE",
    "FEEDBACK_ID_TAGS",
    "HEADER_NAME_RE",
    "HEADER_VALUE_RE",
    "MAX_ADDRESS_LENGTH",
    "MAX_ATTACHMENT_FILENAME_LENGTH",
    "MAX_BULK_ENTRIES",
    "MAX_CONFIGURATION_SET_NAME_LENGTH",
    "MAX_DOMAIN_LABEL_LENGTH",
    "MAX_DOMAIN_LENGTH",
    "MAX_HEADERS_V2",
    "MAX_HEADER_NAME_LENGTH",
    "MAX_HEADER_NAME_VALUE_LENGTH",
    "MAX_HEADER_VALUE_LENGTH",
    "MAX_MESSAGE_BYTES_V1",
    "MAX_MESSAGE_BYTES_V2",
    "MAX_RECIPIENTS",
    "MAX_TAG_LENGTH",
    "MAX_TEMPLATE_DATA_LENGTH",
    "MAX_TEMPLATE_NAME_LENGTH",
    "SIMULATOR_DOMAIN",
    "TAG_NAME_RE",
    "TAG_VALUE_RE",
]

# Recipients per message, To+Cc+Bcc combined; and per bulk destination. [D] quotas page;
# v1 text "Recipient count exceeds 50." [O] (ses-spec §2.1).
MAX_RECIPIENTS: Final = 50
# Destinations (entries) per SendBulkTemplatedEmail / SendBulkEmail call. [D] (ses-spec §2.4).
MAX_BULK_ENTRIES: Final = 50

# Message size on the encoded MIME message. v1: 10 MB = 10,485,760 bytes, text
# "Message length is more than 10485760 bytes long: 'N'." [D][O]; v2: 40 MB [D] (ses-spec §2.1).
MAX_MESSAGE_BYTES_V1: Final = 10_485_760
MAX_MESSAGE_BYTES_V2: Final = 40 * 1024 * 1024

# Message tags: name [A-Za-z0-9_-], value also '.' and '@' (the service accepts them though the
# docs do not) [O]; 1-255 characters each [O] (ses-spec §2.3). Only these ses: tags may be set [D].
MAX_TAG_LENGTH: Final = 255
TAG_NAME_RE: Final = re.compile(r"[A-Za-z0-9_-]+")
TAG_VALUE_RE: Final = re.compile(r"[A-Za-z0-9_.@-]+")
FEEDBACK_ID_TAGS: Final = frozenset({"ses:feedback-id-a", "ses:feedback-id-b"})

# v2 custom headers (Simple.Headers, Template.Headers, ReplacementHeaders): model MessageHeaderList
# max 15; name 1-126, pattern ^[!-9;-@A-~]+$; value 1-995, [ -~]*; name+value <= 996 [M][D].
MAX_HEADERS_V2: Final = 15
MAX_HEADER_NAME_LENGTH: Final = 126
MAX_HEADER_VALUE_LENGTH: Final = 995
MAX_HEADER_NAME_VALUE_LENGTH: Final = 996
HEADER_NAME_RE: Final = re.compile(r"[!-9;-@A-~]+")
HEADER_VALUE_RE: Final = re.compile(r"[ -~]*")

# v2 Attachment.FileName max 255 [M].
MAX_ATTACHMENT_FILENAME_LENGTH: Final = 255

# TemplateData / DefaultTemplateData / ReplacementTemplateData max 262,144 characters [M].
MAX_TEMPLATE_DATA_LENGTH: Final = 262_144
MAX_TEMPLATE_NAME_LENGTH: Final = 64  # [D] template names: letters, digits, _ and -, <= 64

# Configuration set names: <= 64 characters of [A-Za-z0-9_-] [D] (ses-spec §2.5).
MAX_CONFIGURATION_SET_NAME_LENGTH: Final = 64
CONFIGURATION_SET_NAME_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")

# Addresses: whole "Name <addr>" <= 320 characters [O-weak]; DNS label <= 63, domain <= 255 [D].
MAX_ADDRESS_LENGTH: Final = 320
MAX_DOMAIN_LABEL_LENGTH: Final = 63
MAX_DOMAIN_LENGTH: Final = 255

# The mailbox simulator's domain [D] (ses-spec §4).
SIMULATOR_DOMAIN: Final = "simulator.amazonses.com"
