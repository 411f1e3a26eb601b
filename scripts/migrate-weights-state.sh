#!/usr/bin/env bash
# One-time state migration for stacks that uploaded local weights (maas:models[].localPath) before ModelWeights:
# removes the per-file `aws:s3/bucketObjectv2:BucketObjectv2` resources (`<model>-weights-<file>`) from the stack's
# state WITHOUT touching the objects in the bucket, so that the next `pulumi up` does not delete the objects the new
# ModelWeights resource has just uploaded under the same keys.
#
#   bash scripts/migrate-weights-state.sh [--stack <stack>]     # then: pulumi up
#
# Run it before the first `pulumi up` of this version (after it is harmless: it finds nothing). `pulumi state
# delete <urn>...` cannot do this: each InferenceService depends on its model's objects, and
# `--target-dependents` would drop the InferenceServices from the state too. So the state is exported, the objects
# removed (and every dependency on them), and imported back; the export is kept as a backup.
# Forgotten? The first `up` deletes the objects after uploading them; the next `up` sees them missing (ModelWeights
# checks each object with HEAD) and uploads them again.
# Needs: pulumi, jq.
set -euo pipefail

type="${MAAS_WEIGHTS_OBJECT_TYPE:-aws:s3/bucketObjectv2:BucketObjectv2}"
stack_args=()
if [[ "${1:-}" == "--stack" && -n "${2:-}" ]]; then stack_args=(--stack "$2"); fi
command -v jq >/dev/null || { echo "migrate-weights-state: jq is required" >&2; exit 1; }

backup="weights-state-backup-$(date +%Y%m%d%H%M%S).json"
migrated="$(mktemp)"
trap 'rm -f "$migrated"' EXIT
pulumi stack export "${stack_args[@]}" --file "$backup"

# shellcheck disable=SC2016 # a jq program, not shell
filter='
  [.deployment.resources[] | select(.type == $type and (.urn | test("-weights-"))) | .urn] as $old
  | .deployment.resources |= map(
      select(.urn | IN($old[]) | not)
      | if .dependencies then .dependencies -= $old else . end
      | if .propertyDependencies then .propertyDependencies |= map_values(. - $old) else . end)'
old="$(jq -r --arg type "$type" '.deployment.resources[] | select(.type == $type and (.urn | test("-weights-"))) | .urn' "$backup")"
if [[ -z "$old" ]]; then
  echo "migrate-weights-state: no per-file weight objects in the state; nothing to do (backup: $backup)"
  exit 0
fi
jq --arg type "$type" "$filter" "$backup" >"$migrated"
pulumi stack import "${stack_args[@]}" --file "$migrated"
echo "migrate-weights-state: removed from the state (the objects stay in the bucket):"
while IFS= read -r urn; do echo "  $urn"; done <<<"$old"
echo "backup of the previous state: $backup (restore: pulumi stack import --file $backup)"
