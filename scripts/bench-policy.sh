#!/usr/bin/env bash
# Benchmark of the llm-metrics APIcast policy in real nginx (loopback only, about 1-2 minutes):
# throughput and latency with and without the policy (wrk), and peak nginx worker memory, for 1 KB, 1 MB and
# 10 MB streamed (SSE) and JSON responses. Prints a markdown table and writes it to out/bench-policy.md.
# BENCH_SECONDS (default 5) sets the duration of each wrk run.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in nginx wrk; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run sudo bash scripts/install-system-deps.sh" >&2; exit 1; }
done
exec npx ts-node --transpile-only scripts/bench-policy.ts "$@"
