#!/usr/bin/env bash
# Builds the real Pulumi CLI, its Node.js language host and the resource
# provider plugins this project uses, from the Go module proxy, and caches the
# binaries outside the clone so that later runs (and CI's fresh clones on the
# same machine) reuse them.
#
#   dir="$(bash scripts/counterparts/build-pulumi.sh)" && export PATH="$dir:$PATH"
#
# stdout: exactly one line, the directory to put first on PATH. It holds
#   pulumi, pulumi-language-nodejs, pulumi-resource-kubernetes,
#   pulumi-resource-random, pulumi-resource-keycloak and the
#   pulumi-resource-pulumi-nodejs launcher for dynamic providers.
# stderr: progress lines, and the go command's own output when a build fails
#   (the script then exits non-zero).
#
# The Go modules that pin what is built live in tools/counterparts/pulumi*/
# (go.mod + go.sum); /work/notes/pulumi-counterparts.md has the why of every
# version. Environment:
#   MAAS_CACHE      cache root (default ~/.cache/maas); binaries go to
#                   $MAAS_CACHE/counterparts/<name>-<version>-<hash>/bin/<binary>,
#                   <hash> = short sha256 of the module's go.mod, go.sum and
#                   own sources, the Go version and the build flags/env.
#   MAAS_PULUMI_ONLY space-separated subset of binary names to build (default all).
#
# Use with: PULUMI_SKIP_UPDATE_CHECK=true
#           PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true (never download a
#           plugin: a missing one is an error instead)
# and do NOT set PULUMI_IGNORE_AMBIENT_PLUGINS (the plugins are found on PATH).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
mods="$root/tools/counterparts"
cache="${MAAS_CACHE:-$HOME/.cache/maas}/counterparts"

export GOTOOLCHAIN=local # every go.mod here names a Go this machine has
export CGO_ENABLED=0
export GOFLAGS="-mod=readonly -buildvcs=false"

log() { printf '%s\n' "build-pulumi: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v go >/dev/null || die "go is not on PATH"
gover="$(go env GOVERSION)"
mkdir -p "$cache"

# Version of a required module, from a go.mod here ("v3.276.0" -> "3.276.0").
modver() {
  awk -v m="$2" '$1 == "require" { $1 = ""; $0 = $0 }
    $1 == m && $2 ~ /^v/ { sub(/^v/, "", $2); print $2; exit }' "$mods/$1/go.mod"
}
cli_version="$(modver pulumi github.com/pulumi/pulumi/pkg/v3)"
lang_version="$(modver pulumi-language-nodejs github.com/pulumi/pulumi/sdk/v3)"
[[ -n "$cli_version" && -n "$lang_version" ]] || die "cannot read the pulumi versions from tools/counterparts/pulumi*/go.mod"

# One line per binary: name|module dir|version|go package|-X flag|estimate (cold, min)
# The CLI and language host versions come from their go.mod (to move the CLI to another
# release: go get github.com/pulumi/pulumi/pkg/v3@vX.Y.Z github.com/pulumi/pulumi/sdk/v3@vX.Y.Z
# in tools/counterparts/pulumi, then go mod tidy). The estimates were measured with an empty
# Go build cache and a warm module cache on 2 cores shared with other builds (load 6-9):
# 24 min wall, 25 CPU-minutes in all; on idle cores about half. Warm (all cached): 0.1 s.
version_var=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version
specs=(
  "pulumi|pulumi|$cli_version|github.com/pulumi/pulumi/pkg/v3/cmd/pulumi|$version_var=v$cli_version|8"
  "pulumi-language-nodejs|pulumi-language-nodejs|$lang_version|github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs|$version_var=v$lang_version|1"
  "pulumi-resource-kubernetes|pulumi-kubernetes|4.25.0|./cmd/pulumi-resource-kubernetes|github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=4.25.0|13"
  "pulumi-resource-random|pulumi-tfbridge|4.21.2+maas|./cmd/pulumi-resource-random|main.Version=4.21.2+maas|3"
  "pulumi-resource-keycloak|pulumi-tfbridge|6.13.0+maas|./cmd/pulumi-resource-keycloak|main.Version=6.13.0+maas|1"
)

# Short hash of everything that decides a module's binaries.
module_hash() {
  local dir="$1" extra="$2"
  {
    printf '%s\n%s\n' "$gover" "$extra"
    (cd "$dir" && find . -type f \( -name go.mod -o -name go.sum -o -name '*.go' \) \
      -not -name '*-embed.json' | LC_ALL=C sort | xargs sha256sum)
  } | sha256sum | cut -c1-12
}

# Files a package main embeds but the module zip lacks.
prepare_kubernetes() {
  local src="$1" dir
  # `go list -m` prints no Dir for a module not yet in the module cache (a cold cache): download it first.
  (cd "$src" && go mod download github.com/pulumi/pulumi-kubernetes/provider/v4) ||
    die "could not download github.com/pulumi/pulumi-kubernetes/provider/v4 (see go's error above)"
  dir="$(cd "$src" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)"
  [[ -n "$dir" && -d "$dir" ]] || die "github.com/pulumi/pulumi-kubernetes/provider/v4 is not in the module cache after go mod download"
  (cd "$src" && go run genembed.go "$dir" cmd/pulumi-resource-kubernetes 4.25.0) ||
    die "generating the kubernetes provider's embedded schema failed"
}

build_one() {
  local name="$1" mod="$2" version="$3" pkg="$4" xflag="$5" est="$6"
  local ldflags="-s -w -X $xflag"
  local hash out stage start secs
  hash="$(module_hash "$mods/$mod" "$pkg $ldflags CGO_ENABLED=$CGO_ENABLED GOFLAGS=$GOFLAGS")"
  out="$cache/$name-$version-$hash"
  if [[ -x "$out/bin/$name" ]]; then
    log "$name $version: cached ($out)"
    printf '%s\n' "$out/bin/$name"
    return
  fi
  log "building $name $version (cold: up to ~$est min on 2 cores; less when the Go build cache is warm)..."
  start=$(date +%s)
  stage="$(mktemp -d "$cache/.stage-pulumi-$name.XXXXXX")"
  chmod 755 "$stage"
  # Build from a copy so that generated files never land in the clone.
  cp -a "$mods/$mod/." "$stage/src"
  [[ "$name" == pulumi-resource-kubernetes ]] && prepare_kubernetes "$stage/src"
  mkdir -p "$stage/bin"
  if ! (cd "$stage/src" && go build -trimpath -ldflags="$ldflags" -o "$stage/bin/$name" "$pkg"); then
    rm -rf "$stage"
    die "go build of $name $version failed (module tools/counterparts/$mod); go's error is above"
  fi
  rm -rf "$stage/src"
  rm -rf "$out"
  mv "$stage" "$out"
  secs=$(( $(date +%s) - start ))
  log "built $name $version in ${secs}s -> $out/bin/$name"
  printf '%s\n' "$out/bin/$name"
}

# Serialise concurrent runs (two shells, or CI next to a developer).
exec 9>"$cache/.pulumi.lock"
if command -v flock >/dev/null; then
  flock 9
fi
# Leftovers of an interrupted or failed run (safe to drop while holding the lock).
rm -rf "$cache"/.stage-pulumi*

only=" ${MAAS_PULUMI_ONLY:-} "
bins=()
for spec in "${specs[@]}"; do
  IFS='|' read -r name mod version pkg xflag est <<<"$spec"
  if [[ -n "${MAAS_PULUMI_ONLY:-}" && "$only" != *" $name "* ]]; then
    continue
  fi
  bin="$(build_one "$name" "$mod" "$version" "$pkg" "$xflag" "$est")" || exit 1
  bins+=("$bin")
done

[[ ${#bins[@]} -gt 0 ]] || die "MAAS_PULUMI_ONLY='${MAAS_PULUMI_ONLY:-}' names none of: pulumi pulumi-language-nodejs pulumi-resource-kubernetes pulumi-resource-random pulumi-resource-keycloak"

# One directory for PATH. Hard links (copies across file systems) rather than
# symlinks: the CLI looks for its bundled language host next to its own
# resolved path and warns when the one on PATH is elsewhere.
key="$(printf '%s\n' launcher-v1 "${bins[@]}" | sha256sum | cut -c1-12)" # bump v1 when the launcher changes
pathdir="$cache/pulumi-path-$key"
if [[ ! -x "$pathdir/pulumi-resource-pulumi-nodejs" ]]; then
  stage="$(mktemp -d "$cache/.stage-pulumi-path.XXXXXX")"
  chmod 755 "$stage"
  for b in "${bins[@]}"; do
    ln "$b" "$stage/" 2>/dev/null || cp "$b" "$stage/"
  done
  # Dynamic providers (pulumi.dynamic.Resource): the engine starts the bundled
  # plugin "pulumi-nodejs" in the program's directory. Pulumi's release archive
  # ships a launcher for it; this is ours.
  cat >"$stage/pulumi-resource-pulumi-nodejs" <<'EOF'
#!/bin/sh
exec node ./node_modules/@pulumi/pulumi/cmd/dynamic-provider "$@"
EOF
  chmod +x "$stage/pulumi-resource-pulumi-nodejs"
  rm -rf "$pathdir"
  mv "$stage" "$pathdir"
fi
log "ready: export PATH=\"$pathdir:\$PATH\""
printf '%s\n' "$pathdir"
