#!/usr/bin/env bash
# Builds or fetches the REAL counterparts that tools/real/*.ts start, each only when missing from the cache:
#   cluster:  etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok, compiled from the Go module
#             proxy with the versions pinned in tools/counterparts/cluster/go.mod (one module, so the five binaries
#             share one dependency graph and one compile of it), plus kwok's own Stage documents.
#   keycloak: the keycloak-quarkus-dist zip from Maven Central, unpacked and pre-augmented for start-dev.
#
# Usage: bash scripts/counterparts/build-cluster.sh [all|cluster|keycloak]     (default: all)
#
# Output contract: progress and errors go to stderr; stdout carries only `export NAME='value'` lines, so a caller can
#   eval "$(bash scripts/counterparts/build-cluster.sh)"
# and tools/real/counterparts.ts parses the same lines. Variables:
#   MAAS_CLUSTER_BIN         directory with etcd kube-apiserver kube-controller-manager kube-scheduler kwok
#   MAAS_KWOK_STAGES         kwok Stage YAML (node initialise + lease heartbeat, pod ready/complete/delete)
#   MAAS_KUBERNETES_VERSION  e.g. v1.36.3
#   MAAS_KEYCLOAK_HOME       unpacked keycloak-<version> directory (bin/kc.sh)
#   MAAS_KEYCLOAK_JAVA_HOME  the JDK to run it with (Keycloak 26 needs Java 21+; Debian bookworm ships 17)
#   MAAS_KEYCLOAK_VERSION    e.g. 26.7.3
#
# Cache: ${MAAS_CACHE:-$HOME/.cache/maas}/counterparts/
#   cluster-<k8s version>-<12 hex of sha256(go.mod, go.sum, this recipe)>/{bin,share}
#   keycloak-<version>/keycloak-<version>
# It lives outside the clone so CI's fresh clones reuse it; entries are built in a temp dir beside them and renamed
# into place, and a flock serialises concurrent callers (two jest workers, say). Building a new cluster entry removes
# the other cluster-* entries (stale go.sum or recipe).
#
# Needs: go (the version go.mod names, no GOTOOLCHAIN switch), mvn, unzip, node (to pick a free port), flock, and a
# Java 21+ JDK at MAAS_KEYCLOAK_JAVA_HOME (default /usr/lib/jvm/temurin-25-jdk-amd64).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MODULE_DIR="$ROOT/tools/counterparts/cluster"
TARGET="${1:-all}"
CACHE_ROOT="${MAAS_CACHE:-$HOME/.cache/maas}/counterparts"
KEYCLOAK_VERSION="26.7.3"
# The polyglot machine image ships a Temurin 25 JDK beside Debian's OpenJDK 17; any JDK 21+ under /usr/lib/jvm is
# taken when that exact one is missing (see java_home_21 below).
KEYCLOAK_JAVA_HOME="${MAAS_KEYCLOAK_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
MAVEN_DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
# Bump when the build flags or the cache layout below change, so old cache entries are not reused.
RECIPE="cluster-recipe-2"

log() { printf '[build-cluster] %s\n' "$*" >&2; }
die() {
  printf '[build-cluster] ERROR: %s\n' "$*" >&2
  exit 1
}
now() { date +%s; }

case "$TARGET" in
  all | cluster | keycloak) ;;
  *) die "unknown target '$TARGET' (use all, cluster or keycloak)" ;;
esac

mkdir -p "$CACHE_ROOT"
# Temp dirs to remove however the script ends (a failed build leaves nothing half-made in the cache).
TMPS=()
trap 'rm -rf "${TMPS[@]}"' EXIT

# Reads a required module's version from go.mod, the single place versions are pinned.
module_version() {
  local v
  v="$(awk -v m="$1" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$MODULE_DIR/go.mod")"
  [ -n "$v" ] || die "$1 not found in $MODULE_DIR/go.mod"
  printf '%s' "$v"
}

build_cluster() {
  command -v go >/dev/null || die "go not found on PATH"
  local k8s_version kwok_version etcd_version hash dir
  k8s_version="$(module_version k8s.io/kubernetes)"
  kwok_version="$(module_version sigs.k8s.io/kwok)"
  etcd_version="$(module_version go.etcd.io/etcd/server/v3)"
  hash="$( (cat "$MODULE_DIR/go.mod" "$MODULE_DIR/go.sum"; printf '%s' "$RECIPE") | sha256sum | cut -c1-12)"
  dir="$CACHE_ROOT/cluster-$k8s_version-$hash"

  local bins=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
  local missing=()
  local b
  for b in "${bins[@]}"; do [ -x "$dir/bin/$b" ] || missing+=("$b"); done
  [ -s "$dir/share/kwok-stages.yaml" ] || missing+=(kwok-stages)

  if [ "${#missing[@]}" -eq 0 ]; then
    log "cluster $k8s_version (etcd $etcd_version, kwok $kwok_version) cached in $dir"
  else
    log "cluster: building ${missing[*]} (kubernetes $k8s_version, etcd $etcd_version, kwok $kwok_version) into $dir"
    mkdir -p "$dir/bin" "$dir/share"
    local tmp
    tmp="$(mktemp -d "$dir/.tmp.XXXXXX")"
    TMPS+=("$tmp")

    # Version stamps as hack/lib/version.sh sets them, so /version and --version report the real release.
    # The module proxy does not carry the commit, so gitCommit stays empty (rather than the "$Format:%H$"
    # placeholder) and buildDate is the release's publication time, which keeps the binaries reproducible.
    local minor ldflags pkg release_time
    minor="$(printf '%s' "$k8s_version" | cut -d. -f2)"
    release_time="$(cd "$MODULE_DIR" && GOFLAGS=-mod=readonly go list -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes)"
    [ -n "$release_time" ] || release_time="1970-01-01T00:00:00Z"
    ldflags="-s -w"
    for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
      ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitCommit="
      ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$release_time"
    done

    local k8s_pkgs=()
    for b in "${missing[@]}"; do
      case "$b" in
        kube-*) k8s_pkgs+=("k8s.io/kubernetes/cmd/$b") ;;
        kwok) k8s_pkgs+=("sigs.k8s.io/kwok/cmd/kwok") ;;
      esac
    done

    (
      cd "$MODULE_DIR"
      export GOFLAGS="-mod=readonly -buildvcs=false" GOWORK=off CGO_ENABLED=0
      local t0
      if [ "${#k8s_pkgs[@]}" -gt 0 ]; then
        # One invocation: the shared dependency graph is compiled once and the links run in parallel.
        t0="$(now)"
        log "go build ${k8s_pkgs[*]}"
        go build -trimpath -ldflags="$ldflags" -o "$tmp/" "${k8s_pkgs[@]}" ||
          die "go build of ${k8s_pkgs[*]} failed (see the compiler output above)"
        log "built ${k8s_pkgs[*]} in $(($(now) - t0)) s"
      fi
      if [[ " ${missing[*]} " == *" etcd "* ]]; then
        # Separate because `go build -o dir/` would name it after the module path's last element (v3).
        t0="$(now)"
        go build -trimpath -ldflags="-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3 ||
          die "go build of etcd ($etcd_version) failed (see the compiler output above)"
        log "built etcd in $(($(now) - t0)) s"
      fi
      if [[ " ${missing[*]} " == *" kwok-stages "* ]]; then
        # kwok's own default Stages for this exact version: nodes become Ready (and keep a lease), pods become
        # Running/Ready, pods owned by a Job then Succeed, deleted pods go away.
        local kwok_dir f first=1
        kwok_dir="$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
        [ -n "$kwok_dir" ] || die "could not locate the sigs.k8s.io/kwok module source"
        for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
          pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
          [ -f "$kwok_dir/kustomize/stage/$f" ] || die "kwok stage $f missing in $kwok_dir"
          [ "$first" -eq 1 ] || printf -- '---\n'
          first=0
          cat "$kwok_dir/kustomize/stage/$f"
        done >"$tmp/kwok-stages.yaml"
      fi
    )

    for b in "${bins[@]}"; do [ -f "$tmp/$b" ] && mv -f "$tmp/$b" "$dir/bin/$b"; done
    [ -f "$tmp/kwok-stages.yaml" ] && mv -f "$tmp/kwok-stages.yaml" "$dir/share/kwok-stages.yaml"
    for b in "${bins[@]}"; do [ -x "$dir/bin/$b" ] || die "$dir/bin/$b missing after the build"; done
    "$dir/bin/kube-apiserver" --version >&2
    # Older entries (another go.sum or recipe) are ~400 MB each and nothing selects them any more.
    local old
    for old in "$CACHE_ROOT"/cluster-*; do
      [ "$old" = "$dir" ] || [ ! -d "$old" ] || { log "removing stale cache entry $old"; rm -rf "$old"; }
    done
  fi

  printf "export MAAS_CLUSTER_BIN='%s'\n" "$dir/bin"
  printf "export MAAS_KWOK_STAGES='%s'\n" "$dir/share/kwok-stages.yaml"
  printf "export MAAS_KUBERNETES_VERSION='%s'\n" "$k8s_version"
}

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# Starts the fresh dist once in dev mode and stops it once augmentation is done. start-dev re-augments (rewrites lib/quarkus,
# ~20 s) on its first run; doing it here keeps that out of every test's startup and stops concurrent test instances
# from rewriting the shared dist at the same moment.
preaugment_keycloak() {
  local home="$1" work port pid t0
  work="$(mktemp -d)"
  TMPS+=("$work")
  port="$(free_port)"
  t0="$(now)"
  log "keycloak: first start-dev (augmentation) on 127.0.0.1:$port"
  JAVA_HOME="$KEYCLOAK_JAVA_HOME" KC_BOOTSTRAP_ADMIN_USERNAME=admin KC_BOOTSTRAP_ADMIN_PASSWORD=admin \
    JAVA_OPTS_KC_HEAP="-Xms64m -Xmx768m" \
    JAVA_OPTS_APPEND="-Djava.io.tmpdir=$work -Dquarkus.transaction-manager.object-store.directory=$work/tx -XX:TieredStopAtLevel=1" \
    setsid "$home/bin/kc.sh" start-dev --http-host=127.0.0.1 --http-port="$port" \
    --db-url="jdbc:h2:file:$work/h2/keycloakdb;NON_KEYWORDS=VALUE" >"$work/keycloak.log" 2>&1 </dev/null &
  pid=$!
  # kc.sh runs a first JVM that augments and exits with 10, then execs (same pid) a JVM with
  # -Dkc.config.built=true that starts the server: once that one runs, lib/quarkus is complete and the rest of the
  # start is not needed here.
  augmented() {
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kc.config.built=true" ||
      grep -q "Listening on:" "$work/keycloak.log"
  }
  for _ in $(seq 1 600); do
    if augmented; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -40 "$work/keycloak.log" >&2
      rm -rf "$work"
      die "keycloak start-dev exited during the first start (log above)"
    fi
    sleep 0.5
  done
  local ok=0
  augmented && ok=1
  kill -TERM -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ "$ok" -ne 1 ]; then
    tail -40 "$work/keycloak.log" >&2
    rm -rf "$work"
    die "keycloak start-dev did not get past augmentation within 300 s (log above)"
  fi
  log "keycloak: augmented for start-dev in $(($(now) - t0)) s"
  rm -rf "$work"
}

java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ { print int($2) }'; }

# Keycloak 26 needs Java 21+; Debian bookworm packages only 17.
java_home_21() {
  local d major
  for d in "$KEYCLOAK_JAVA_HOME" /usr/lib/jvm/*; do
    [ -x "$d/bin/java" ] || continue
    major="$(java_major "$d")"
    if [ -n "$major" ] && [ "$major" -ge 21 ]; then
      printf '%s' "$d"
      return 0
    fi
  done
  return 1
}

build_keycloak() {
  local dir="$CACHE_ROOT/keycloak-$KEYCLOAK_VERSION"
  local home="$dir/keycloak-$KEYCLOAK_VERSION"
  KEYCLOAK_JAVA_HOME="$(java_home_21)" ||
    die "no Java 21+ JDK at ${MAAS_KEYCLOAK_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64} nor under /usr/lib/jvm (Keycloak $KEYCLOAK_VERSION needs one); set MAAS_KEYCLOAK_JAVA_HOME"
  if [ -f "$dir/.ready" ] && [ -x "$home/bin/kc.sh" ]; then
    log "keycloak $KEYCLOAK_VERSION cached in $home"
  else
    command -v mvn >/dev/null || die "mvn not found on PATH"
    command -v unzip >/dev/null || die "unzip not found on PATH"
    rm -rf "$dir"
    local tmp t0
    tmp="$(mktemp -d "$CACHE_ROOT/.keycloak-tmp.XXXXXX")"
    TMPS+=("$tmp")
    t0="$(now)"
    log "keycloak: fetching org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip from Maven"
    # Output kept aside (mvn -q still prints colour resets) and shown only on failure.
    if ! mvn -B -q "$MAVEN_DEPENDENCY_PLUGIN:copy" -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" \
      -DoutputDirectory="$tmp" >"$tmp/mvn.log" 2>&1; then
      cat "$tmp/mvn.log" >&2
      die "mvn could not fetch org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip (output above)"
    fi
    rm -f "$tmp/mvn.log"
    unzip -q "$tmp/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip" -d "$tmp" || die "unzip failed"
    rm -f "$tmp/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"
    [ -x "$tmp/keycloak-$KEYCLOAK_VERSION/bin/kc.sh" ] || die "zip did not contain keycloak-$KEYCLOAK_VERSION/bin/kc.sh"
    log "keycloak: fetched and unpacked in $(($(now) - t0)) s"
    preaugment_keycloak "$tmp/keycloak-$KEYCLOAK_VERSION"
    rm -rf "$tmp/keycloak-$KEYCLOAK_VERSION/data"
    touch "$tmp/.ready"
    mv "$tmp" "$dir"
  fi
  printf "export MAAS_KEYCLOAK_HOME='%s'\n" "$home"
  printf "export MAAS_KEYCLOAK_JAVA_HOME='%s'\n" "$KEYCLOAK_JAVA_HOME"
  printf "export MAAS_KEYCLOAK_VERSION='%s'\n" "$KEYCLOAK_VERSION"
}

run_locked() {
  local name="$1"
  shift
  # One builder per cache entry kind at a time; a second caller waits and then finds the cache warm.
  exec {lock_fd}>"$CACHE_ROOT/.$name.lock"
  flock "$lock_fd"
  "$@"
  flock -u "$lock_fd"
  exec {lock_fd}>&-
}

case "$TARGET" in
  cluster) run_locked cluster build_cluster ;;
  keycloak) run_locked keycloak build_keycloak ;;
  all)
    run_locked cluster build_cluster
    run_locked keycloak build_keycloak
    ;;
esac
