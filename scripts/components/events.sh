#!/usr/bin/env bash
# Django and django-anymail, for tests/integration/test_anymail_webhook.py (anymail's Amazon SES
# tracking webhook on a real Django server). Both coexist with the main venv's pins, so they go
# into .venv; the webhook needs boto3, which the venv already has, so anymail's "amazon-ses"
# extra (which adds an S3 encryption client for inbound mail) is left out. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
if "$PY" -c "import django, anymail.webhooks.amazon_ses" 2>/dev/null; then
    echo "django-anymail: already installed"
else
    "$PY" -m pip install -q --disable-pip-version-check "django>=4.2" "django-anymail>=13"
fi
"$PY" -c "import django, anymail; print('django', django.get_version(), '/ django-anymail', anymail.__version__)"
