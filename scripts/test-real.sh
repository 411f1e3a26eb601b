#!/usr/bin/env bash
# `npm run test:real`: the program against real counterparts (tests/real; jest.real.config.js).
# Builds the counterparts or reuses them from ${MAAS_CACHE:-$HOME/.cache/maas} (scripts/counterparts/*.sh), prints the
# versions it runs against, runs the suites one file at a time, and prints the summary (out/real/summary.json).
# Needs root (the router binds 127.0.0.1:443 and edits /etc/hosts; without it the suite prints `not real: router: ...`).
# Extra arguments go to jest (e.g. `npm run test:real -- tests/real/platform.test.ts`).
set -euo pipefail
cd "$(dirname "$0")/.."

t0=$(date +%s)
eval "$(bash scripts/counterparts/build-cluster.sh all)"
MAAS_PULUMI_BIN="$(bash scripts/counterparts/build-pulumi.sh)"
export MAAS_PULUMI_BIN
echo "counterparts ready in $(($(date +%s) - t0)) s"

echo "pulumi version: $(PULUMI_SKIP_UPDATE_CHECK=true "$MAAS_PULUMI_BIN/pulumi" version)"
echo "kube-apiserver: $("$MAAS_CLUSTER_BIN/kube-apiserver" --version)"
echo "Keycloak: $MAAS_KEYCLOAK_VERSION ($(cat "$MAAS_KEYCLOAK_HOME/version.txt" 2>/dev/null | head -1))"
echo "node: $(node --version), @pulumi/pulumi $(node -p 'require("@pulumi/pulumi/package.json").version')"

status=0
npx jest -c jest.real.config.js "$@" || status=$?

node -e '
const s = JSON.parse(require("fs").readFileSync("out/real/summary.json", "utf8"));
console.log("\nreal suite summary (out/real/summary.json):");
for (const [name, c] of Object.entries(s.counterparts)) console.log(`  ${c.real ? "real    " : "stand-in"} ${name}${c.version ? " " + c.version : ""}${c.note ? " — " + c.note : ""}`);
for (const n of s.notReal) console.log(`  not real: ${n}`);
let total = 0;
for (const [name, r] of Object.entries(s.scenarios)) { total += r.seconds; console.log(`  ${r.status === "passed" ? "passed" : "FAILED"} ${name} (${r.seconds.toFixed(1)} s)`); }
console.log(`  scenarios: ${total.toFixed(0)} s`);
' || true
echo "test:real took $(($(date +%s) - t0)) s"
exit "$status"
