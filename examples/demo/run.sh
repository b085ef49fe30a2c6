#!/bin/sh
# The demo behind `make demo`: a fresh embedded store (in .demo/), the sample organisation,
# and thirteen reports from twelve tools, imported as a CI pipeline would, then the findings
# per service. Every command is one a user types.
set -eu
cd "$(dirname "$0")/../.."
export SHIELDWALL_HOME="$PWD/.demo"
unset SHIELDWALL_DATABASE_URL SHIELDWALL_CONFIG
rm -rf "$SHIELDWALL_HOME"
reports=examples/demo/reports

if [ -t 1 ]; then bold=$(printf '\033[1m') plain=$(printf '\033[0m'); else bold= plain=; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; "$@"; }

step shieldwall db upgrade
step shieldwall inventory import examples/demo/org.yaml
step shieldwall inventory list

for report in "$reports"/*; do
    name=$(basename "$report")
    service=${name%%.*}
    step shieldwall import "$report" --service "$service" --branch main --commit 4f2a9c1
done

echo
echo "Re-running one pipeline changes nothing; the finding reported by both Trivy and Grype is one:"
step shieldwall import "$reports/payments-api.trivy.json" --service payments-api --branch main --json

step shieldwall findings summary
for service in payments-api ledger identity web; do
    step shieldwall findings list --service "$service" --limit 12
done
step shieldwall audit verify
printf '\nThe demo store is in %s: try `SHIELDWALL_HOME=.demo .venv/bin/shieldwall findings show ID`.\n' "$SHIELDWALL_HOME"
