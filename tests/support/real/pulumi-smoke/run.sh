#!/usr/bin/env bash
# Smoke check, run by hand, of the Pulumi counterparts that
# scripts/counterparts/build-pulumi.sh builds: CLI version, local backend,
# preview / up / destroy of index.ts (random, kubernetes render-to-directory,
# keycloak provider, a dynamic resource), no plugin download, and the
# Automation API driving the same CLI.
#
#   bash tests/support/real/pulumi-smoke/run.sh            # builds or reuses the cache
#   PULUMI_BIN_DIR=/some/dir bash tests/support/real/pulumi-smoke/run.sh
#   MAAS_SMOKE_KEEP=1 ...   keeps the temp dir (logs: <check>.log) and prints its path
#
# Prints "N passed, N failed" at the end; exits non-zero when a check fails.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../../.." && pwd)"

if [[ -z "${PULUMI_BIN_DIR:-}" ]]; then
  PULUMI_BIN_DIR="$(bash "$root/scripts/counterparts/build-pulumi.sh")" || exit 1
fi
export PATH="$PULUMI_BIN_DIR:$PATH"

work="$(mktemp -d)"
if [[ -n "${MAAS_SMOKE_KEEP:-}" ]]; then
  echo "keeping logs and state in $work"
else
  trap 'rm -rf "$work"' EXIT
fi
export PULUMI_HOME="$work/home"
export PULUMI_CONFIG_PASSPHRASE=test
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
unset PULUMI_IGNORE_AMBIENT_PLUGINS PULUMI_ACCESS_TOKEN PULUMI_BACKEND_URL

passed=0
failed=0
check() { # check NAME COMMAND... ; runs COMMAND, logs to $work/NAME.log
  local name="$1"
  shift
  if "$@" >"$work/$name.log" 2>&1; then
    passed=$((passed + 1))
    echo "ok   $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name (log below)"
    sed 's/^/     | /' "$work/$name.log" | tail -40
  fi
}

prog="$work/prog"
export NODE_PATH="$root/node_modules"
mkdir -p "$prog" "$work/state" "$work/rendered"
cp "$here/Pulumi.yaml" "$here/package.json" "$here/index.ts" "$prog/"
ln -s "$root/node_modules" "$prog/node_modules"

want="v$(awk '$1 == "require" { $1 = ""; $0 = $0 } $1 == "github.com/pulumi/pulumi/pkg/v3" { print substr($2, 2); exit }' \
  "$root/tools/counterparts/pulumi/go.mod")"
version_is() {
  echo "pulumi $(pulumi version) (want $want); node $(node --version); @pulumi/pulumi $(node -p 'require("@pulumi/pulumi/package.json").version')"
  [[ "$(pulumi version)" == "$want" ]]
}
check cli-version version_is
check login pulumi login "file://$work/state"
cd "$prog" || exit 1
check stack-init pulumi stack init smoke
check config pulumi config set renderDir "$work/rendered"
check preview pulumi preview --non-interactive --diff -v=9 --logtostderr
check up pulumi up --yes --non-interactive -v=9 --logtostderr
rendered() { grep -rq 'name: smoke' "$work/rendered"; }
check rendered-configmap rendered
outputs() {
  pulumi stack output --show-secrets --json | tee /dev/stderr | node -e '
    const o = JSON.parse(require("fs").readFileSync(0, "utf8"));
    if (o.passwordLength !== 24 || o.configMapName !== "smoke" || o.dynamicId !== "echo-hello") process.exit(1);'
}
check outputs outputs
check destroy pulumi destroy --yes --non-interactive -v=9 --logtostderr
no_plugin_cache() { [[ -z "$(ls -A "$PULUMI_HOME/plugins" 2>/dev/null)" ]] && pulumi plugin ls; }
check no-plugins-installed no_plugin_cache
no_download() {
  ! grep -h -i -E 'downloading plugin|installing plugin|plugin install|get\.pulumi\.com|api\.github\.com|doing install' \
    "$work/preview.log" "$work/up.log" "$work/destroy.log"
}
check no-download-attempt no_download
ambient() { # every plugin came from the PATH dir, whatever version the SDKs asked for
  local p ok=0
  for p in "language, nodejs" "resource, kubernetes" "resource, random" "resource, keycloak" "resource, pulumi-nodejs"; do
    if grep -h "GetPluginPath($p, " "$work/up.log" | grep -F -m1 "found on \$PATH $PULUMI_BIN_DIR/"; then :; else
      echo "not from $PULUMI_BIN_DIR: $p"
      ok=1
    fi
  done
  return $ok
}
check plugins-from-path ambient

automation() {
  cat >"$work/auto.js" <<EOF
const { LocalWorkspace } = require("$root/node_modules/@pulumi/pulumi/automation");
(async () => {
  const stack = await LocalWorkspace.selectStack({ stackName: "smoke", workDir: "$prog" });
  const prev = await stack.preview();
  console.log("automation preview:", JSON.stringify(prev.changeSummary));
  const info = await stack.workspace.whoAmI();
  console.log("automation whoami:", info.user);
})().catch((e) => { console.error(e); process.exit(1); });
EOF
  node "$work/auto.js"
}
check automation-api automation
check stack-rm pulumi stack rm --yes smoke

echo "smoke: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
