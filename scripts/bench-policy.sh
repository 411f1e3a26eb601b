#!/usr/bin/env bash
# Benchmark of the llm-metrics APIcast policy in real nginx (loopback only, about 2-3 minutes):
# throughput and latency without the policy, with batched backend reports and with one report per response (wrk),
# and peak nginx worker memory, for 1 KB, 1 MB and 10 MB streamed (SSE) and JSON responses. Prints a markdown
# table and writes it to out/bench-policy.md.
# BENCH_SECONDS (default 3) sets the duration of each wrk run, BENCH_ROUNDS (default 2) the alternating rounds per
# variant (the best counts), BENCH_SIZES (e.g. "1 KB") limits the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in nginx wrk; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run sudo bash scripts/install-system-deps.sh" >&2; exit 1; }
done
exec npx ts-node --transpile-only scripts/bench-policy.ts "$@"
