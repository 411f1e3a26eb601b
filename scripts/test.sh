#!/usr/bin/env bash
# `npm test`: system packages, type check, lint, format check, then every jest suite. Stops at the first failing
# section and names it. Extra arguments go to jest (e.g. `npm test -- tests/config`).
set -euo pipefail
cd "$(dirname "$0")/.."

current=""
section() {
  current="$1"
  printf '\n==== %s ====\n' "$1"
}
trap 'status=$?; [ "$status" -eq 0 ] || printf "\n==== FAILED: %s (exit %s) ====\n" "$current" "$status" >&2' EXIT

section "contracts directory"
# Tests read upstream CRDs and API specs from CONTRACTS_DIR, by default ../shared/contracts beside the project.
if [ -z "${CONTRACTS_DIR:-}" ] && [ -d ../shared/contracts ]; then
  CONTRACTS_DIR="$(cd ../shared/contracts && pwd)"
fi
if [ -z "${CONTRACTS_DIR:-}" ] || [ ! -d "$CONTRACTS_DIR" ]; then
  echo "contracts not found: set CONTRACTS_DIR to the shared contracts directory (default ../shared/contracts)" >&2
  exit 1
fi
export CONTRACTS_DIR
echo "CONTRACTS_DIR=$CONTRACTS_DIR"

section "system packages (scripts/install-system-deps.sh)"
bash scripts/install-system-deps.sh

section "type check (tsc --noEmit)"
npx tsc --noEmit -p tsconfig.json
echo "no type errors"

section "lint (eslint .)"
npx eslint .
echo "no lint errors"

section "format (prettier --check .)"
npx prettier --check .

section "tests (jest)"
npx jest "$@"
