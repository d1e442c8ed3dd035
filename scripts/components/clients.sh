#!/usr/bin/env bash
# Non-Python SES clients for tests/integration/test_js_sdk.py and test_aws_cli.py:
# - the AWS SDK for JavaScript v3 (@aws-sdk/client-ses, @aws-sdk/client-sesv2), versions pinned in
#   tests/js/package.json, installed into tests/js/node_modules (git-ignored);
# - the AWS CLI v1 from PyPI in its own venv, .components/awscli: it pins a newer botocore than
#   the project's venv, which is the point (a second botocore talking to the emulator).
# Idempotent: each part is skipped when the pinned version is already installed.
set -euo pipefail
cd "$(dirname "$0")/../.."

AWSCLI_VERSION=1.46.2

js_installed() {
    local package version
    for package in client-ses client-sesv2; do
        version=$(node -p "require('./tests/js/node_modules/@aws-sdk/$package/package.json').version" 2>/dev/null) || return 1
        [ "$version" = "$(node -p "require('./tests/js/package.json').dependencies['@aws-sdk/$package']")" ] || return 1
    done
}

if js_installed; then
    echo "js: @aws-sdk clients already installed"
else
    # No lock file: package.json pins the two clients exactly.
    npm install --prefix tests/js --no-package-lock --no-audit --no-fund --omit=dev
    js_installed
    echo "js: installed"
fi

aws=.components/awscli/bin/aws
if [ -x "$aws" ] && "$aws" --version 2>&1 | grep -q "^aws-cli/$AWSCLI_VERSION "; then
    echo "awscli: $AWSCLI_VERSION already installed"
else
    mkdir -p .components
    python3 -m venv --clear .components/awscli
    .components/awscli/bin/pip install --quiet --disable-pip-version-check "awscli==$AWSCLI_VERSION"
    "$aws" --version
    echo "awscli: installed"
fi
