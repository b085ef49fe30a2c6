#!/bin/sh
# The demo behind `make demo`: a fresh embedded store (in .demo/), the sample organisation,
# and thirteen reports from twelve tools, imported as a CI pipeline would, then the findings
# per service, risk and an exception, a threat model; then it serves the web UI and the API
# at http://127.0.0.1:8000 with one login per role (DEMO_SERVE=no stops before serving).
# Every command is one a user types.
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

echo
echo "Intelligence (demo excerpts in the publishers' formats; \`shieldwall intel sync\` downloads the real feeds):"
step shieldwall intel load kev examples/demo/intel/kev.json
step shieldwall intel load epss examples/demo/intel/epss.csv
step shieldwall intel status

echo
echo "The queue: every open finding by priority (SSVC: exploitation, automatable, impact, the service's context):"
step shieldwall findings list --limit 15
top=$(shieldwall findings list --format json | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')
step shieldwall findings explain "$top"
step shieldwall sla report

echo
echo "One login per role (demo passwords; a real installation gets its first admin from \`shieldwall serve\`):"
logins=""
for entry in admin:admin@acme.example: security:sec@acme.example: manager:ana@acme.example:payments \
             engineer:raj@acme.example:payments auditor:audit@acme.example:; do
    role=${entry%%:*} rest=${entry#*:}
    email=${rest%%:*} team=${rest#*:}
    password="demo-$role-password"
    printf '%s\n' "$password" | shieldwall user create --email "$email" --role "$role" \
        ${team:+--team "$team"} --password-stdin >/dev/null 2>&1
    logins="$logins$(printf '  %-9s %-20s %s' "$role" "$email" "$password")
"
done
echo
echo "An engineer asks to accept a finding's risk; the policy says who may approve it (not the requester):"
accept=$(shieldwall findings list --service ledger --format json | python3 -c 'import json, sys; print(json.load(sys.stdin)[-1]["id"])')
exception=$(shieldwall exception request --finding "$accept" --reason "internal batch job; fix planned in Q1" \
    --compensating-controls "no network path from outside" --expires "$(python3 -c 'import datetime; print(datetime.date.today() + datetime.timedelta(days=21))')" \
    --as raj@acme.example)
step shieldwall exception approve "$exception" --as sec@acme.example
step shieldwall exception list

echo
echo "Design review: the payments team's threat model, checked, then stored for payments-api"
echo "(its open threats raise the findings with the same CWE) and threat-model coverage:"
step shieldwall threatmodel check examples/demo/threatmodels/payments-api.yaml
step shieldwall threatmodel push examples/demo/threatmodels/payments-api.yaml
step shieldwall threatmodel coverage

token=$(shieldwall token create --name demo-ci --team payments --scope ingest --json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
step shieldwall audit verify

[ "${DEMO_SERVE:-yes}" = no ] && exit 0
printf '\n%sShieldwall is serving the demo at http://127.0.0.1:8000 (Ctrl-C stops it)%s\n' "$bold" "$plain"
printf '%s' "$logins"
printf '\nA CI pipeline uploads a report with an ingest token of team payments:\n'
printf '  curl -H "Authorization: Bearer %s" -F file=@%s -F service=ledger -F branch=main http://127.0.0.1:8000/api/v1/imports\n\n' \
    "$token" "$reports/ledger.bandit.json"
exec shieldwall serve --host 127.0.0.1 --port 8000
