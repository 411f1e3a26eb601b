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
