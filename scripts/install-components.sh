#!/usr/bin/env bash
# Installs the real components the ecosystem tests drive (browsers, other SDKs, the AWS CLI...).
# Each scripts/components/*.sh is idempotent and installs into .components/ (ignored by git) or
# through apt. Under CI (CI=true) a component that cannot be installed fails the run; locally it
# prints a warning and its tests skip with that reason.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .components
status=0
for script in scripts/components/*.sh; do
    [ -e "$script" ] || continue
    name=$(basename "$script" .sh)
    if bash "$script" >".components/$name.log" 2>&1; then
        echo "component $name: ok"
    else
        echo "component $name: FAILED (see .components/$name.log)" >&2
        tail -n 20 ".components/$name.log" >&2
        if [ "${CI:-}" = "true" ]; then status=1; fi
    fi
done
exit $status
