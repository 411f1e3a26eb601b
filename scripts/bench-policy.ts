/**
 * Measures what the llm-metrics policy costs: wrk runs against the same fake model upstream through nginx without the
 * policy, with batched backend reports, and with one backend report per response (fresh nginx per run, so the
 * worker's VmHWM is the peak of that run only); then, for 1 KB responses, what admission adds (the caller's limits
 * asked from the fake 3scale backend on loopback) with the backend answering, answering for every request, slow and
 * down.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  FakeBackendOptions,
  startFakeBackend,
  startFakeUpstream,
  startNginx,
} from "../tools/policy-gateway/nginx-fixture";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
/**
 * Policy configuration under test; max_json_bytes is raised so that the 10 MB JSON case is metered too, and the
 * report interval is shorter than a run so that batched flushes happen while wrk measures.
 */
const POLICY_CONFIG = JSON.parse(
  process.env.BENCH_POLICY_CONFIG ?? '{"max_json_bytes": 67108864, "report_interval_seconds": 1}',
);
/** Comma-separated size labels to run (e.g. `1 KB`); all when unset. */
const ONLY_SIZES = process.env.BENCH_SIZES?.split(",").map((s) => s.trim());
/** Alternating rounds per variant; the best round counts, which filters out load from other processes. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
/** BENCH_ADMISSION=0 skips the admission table. */
const ADMISSION = process.env.BENCH_ADMISSION !== "0";
/** wrk connections of the admission runs (1 measures latency without queueing on a busy machine). */
const ADMISSION_CONNECTIONS = Number(process.env.BENCH_ADMISSION_CONNECTIONS ?? 8);
/** The application wrk calls as, with limits it never reaches (the fake backend checks them on every authorize). */
const BENCH_APP: FakeBackendOptions = {
  apps: {
    "bench-key": {
      limits: [
        { metric: "total_tokens", period: "minute", max: 1e12 },
        { metric: "hits", period: "minute", max: 1e12 },
      ],
    },
  },
};
/** How the fake 3scale backend behaves during an admission run. */
type BackendMode = "up" | "slow" | "down";
/** `slow`: authorize answers later than the policy's timeout (limits_backend_timeout_ms, default 500). */
const SLOW_BACKEND_MS = 2000;
const CASES: { mode: "sse" | "json"; size: number; label: string }[] = [];
for (const mode of ["sse", "json"] as const) {
  for (const [size, label] of [
    [1024, "1 KB"],
    [1024 * 1024, "1 MB"],
    [10 * 1024 * 1024, "10 MB"],
  ] as const) {
    if (!ONLY_SIZES || ONLY_SIZES.includes(label)) CASES.push({ mode, size, label });
  }
}

interface RunResult {
  requests: number;
  /** Report calls the fake 3scale backend received, including the flush when nginx stopped. */
  backendCalls: number;
  rps: number;
  p50ms: number;
  p99ms: number;
  hwmKb: number;
  /** CPU time of the nginx worker per completed request: unlike req/s, it hardly moves with other load. */
  cpuUsPerRequest: number;
  errors: string;
  /** Responses that were not 2xx/3xx. */
  non2xx: number;
  /** Authorize calls the fake 3scale backend received. */
  authorizeCalls: number;
}

function toMs(value: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(value.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return { us: n / 1000, ms: n, s: n * 1000, m: n * 60000 }[m[2] as "us" | "ms" | "s" | "m"];
}

/** User + system CPU time of a process, in microseconds (from /proc/<pid>/stat, clock ticks of 10 ms). */
function cpuMicros(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10000;
}

function procStatusKb(pid: number, field: string): number {
  const line = fs
    .readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${field}:`));
  return line ? Number(line.split(/\s+/)[1]) : NaN;
}

function runWrk(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`wrk failed (${code}): ${stderr}`))));
  });
}

function wrkScript(dir: string, mode: "sse" | "json", size: number): string {
  const body = JSON.stringify({
    model: "granite-bench",
    stream: mode === "sse",
    messages: [{ role: "user", content: "hi" }],
  });
  const file = path.join(dir, `${mode}-${size}.lua`);
  fs.writeFileSync(
    file,
    [
      `wrk.method = "POST"`,
      `wrk.body = [[${body}]]`,
      `wrk.headers["Content-Type"] = "application/json"`,
      `wrk.headers["Authorization"] = "Bearer bench-key"`,
      `wrk.headers["x-upstream-size"] = "${size}"`,
    ].join("\n"),
  );
  return file;
}

/** A loopback URL nothing listens on (a 3scale backend that is down). */
async function closedUrl(): Promise<string> {
  const probe = await startFakeBackend();
  await probe.close();
  return probe.url;
}

/** One wrk run; `policyConfig` null means the location without the policy. */
async function run(
  policyConfig: Record<string, unknown> | null,
  mode: "sse" | "json",
  size: number,
  scriptDir: string,
  backendMode: BackendMode = "up",
  connections = size > 1024 * 1024 ? 2 : 8,
): Promise<RunResult> {
  const upstream = await startFakeUpstream(false);
  const backend = await startFakeBackend(BENCH_APP);
  if (backendMode === "slow") backend.delayMs = SLOW_BACKEND_MS;
  const nginx = await startNginx({
    upstreamPort: upstream.port,
    backendUrl: backendMode === "down" ? await closedUrl() : backend.url,
    policyConfig: policyConfig ?? {},
  });
  try {
    const url = `${policyConfig ? nginx.url : nginx.baselineUrl}/chat/completions`;
    // Asynchronous: the fake upstream and backend live in this process's event loop.
    const [worker] = nginx.workerPids();
    const cpuBefore = cpuMicros(worker);
    const out = await runWrk([
      "-t1",
      `-c${connections}`,
      `-d${SECONDS}s`,
      "--latency",
      "-s",
      wrkScript(scriptDir, mode, size),
      url,
    ]);
    const cpuUs = cpuMicros(worker) - cpuBefore;
    const hwmKb = procStatusKb(worker, "VmHWM");
    await nginx.stop(); // the workers send what is still batched on their way out
    const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: [^\n]+/.exec(out)?.[0] ?? "";
    const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
    return {
      requests,
      non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
      authorizeCalls: backend.authsReceived,
      cpuUsPerRequest: cpuUs / requests,
      backendCalls: backend.reports.length,
      rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
      p50ms: toMs(/^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? ""),
      p99ms: toMs(/^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? ""),
      hwmKb,
      errors,
    };
  } finally {
    await nginx.stop();
    await backend.close();
    await upstream.close();
  }
}

const best = (runs: RunResult[]) => runs.reduce((a, b) => (b.rps > a.rps ? b : a));
const mb = (kb: number) => (kb / 1024).toFixed(1);
const ms = (v: number) => v.toFixed(2);

async function main() {
  const loadBefore = os.loadavg()[0];
  const scriptDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-policy-"));
  const rows: string[] = [];
  for (const c of CASES) {
    // Without the policy, with batched reports, and with one report per response (the fake backend shares this
    // process with the fake upstream, so each report also takes upstream capacity).
    const variants = [null, POLICY_CONFIG, { ...POLICY_CONFIG, report_interval_seconds: 0 }];
    const results: RunResult[][] = variants.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, config] of variants.entries()) results[i].push(await run(config, c.mode, c.size, scriptDir));
    }
    const [base, batched, perRequest] = results.map(best);
    const all = [base, batched, perRequest];
    const notes = all
      .map((r) => r.errors)
      .filter(Boolean)
      .join("; ");
    rows.push(
      `| ${c.mode.toUpperCase()} | ${c.label} | ${all.map((r) => r.rps.toFixed(0)).join(" / ")} | ` +
        `${(batched.rps / base.rps).toFixed(2)} / ${(perRequest.rps / base.rps).toFixed(2)} | ` +
        `${all.map((r) => ms(r.p50ms)).join(" / ")} | ${all.map((r) => ms(r.p99ms)).join(" / ")} | ` +
        `${all.map((r) => mb(r.hwmKb)).join(" / ")} | ` +
        `${all.map((r) => r.cpuUsPerRequest.toFixed(r.cpuUsPerRequest < 1000 ? 1 : 0)).join(" / ")} | ` +
        `${batched.requests} / ${batched.backendCalls} | ${perRequest.requests} / ${perRequest.backendCalls} |` +
        `${notes ? ` ${notes}` : ""}`,
    );
    console.error(rows[rows.length - 1]);
  }
  const admissionRows = ADMISSION ? await admissionTable(scriptDir) : [];
  fs.rmSync(scriptDir, { recursive: true, force: true });
  const table = [
    `# llm-metrics policy benchmark`,
    ``,
    `${new Date().toISOString()}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "unknown"}), nginx + lua module, ` +
      `best of ${ROUNDS} alternating wrk runs of ${SECONDS}s, fake upstream and 3scale backend on loopback, ` +
      `policy configuration ${JSON.stringify(POLICY_CONFIG)}, 1-minute load average ${loadBefore.toFixed(1)} ` +
      `before / ${os.loadavg()[0].toFixed(1)} after. a / b / c = without the policy / with batched backend reports / ` +
      `with report_interval_seconds 0 (one backend report per response). Memory: the nginx worker's peak resident ` +
      `size (VmHWM) during the run. Worker CPU: user + system time of the nginx worker per completed request (best ` +
      `round's run; steadier than req/s on a loaded machine). Requests / calls: requests wrk completed and backend ` +
      `report calls in that run.`,
    ``,
    `| Response | Size | req/s a / b / c | b÷a / c÷a | p50 ms a / b / c | p99 ms a / b / c | ` +
      `worker VmHWM MiB a / b / c | worker CPU µs/request a / b / c | b requests / calls | c requests / calls |`,
    `|---|---|---|---|---|---|---|---|---|---|`,
    ...rows,
    ``,
    ...admissionRows,
  ].join("\n");
  fs.mkdirSync("out", { recursive: true });
  fs.writeFileSync("out/bench-policy.md", table);
  console.log(table);
}

/**
 * Admission (1 KB responses, SSE and JSON): the policy without admission, then with admission and rate-limit headers
 * (answers cached for 5 s, the default), asking the backend for every request (limits_cache_seconds 0), with the
 * backend slower than the timeout and with the backend down (fail open, the default, and fail closed).
 */
async function admissionTable(scriptDir: string): Promise<string[]> {
  const admission = { ...POLICY_CONFIG, admission: true, rate_limit_headers: true };
  const variants: [string, Record<string, unknown> | null, BackendMode][] = [
    ["without the policy", null, "up"],
    ["policy, admission off", POLICY_CONFIG, "up"],
    ["admission on (answers cached 5 s)", admission, "up"],
    ["admission on, backend asked per request (cache 0)", { ...admission, limits_cache_seconds: 0 }, "up"],
    [`admission on, backend slow (${SLOW_BACKEND_MS} ms > 500 ms timeout), fail open`, admission, "slow"],
    ["admission on, backend down, fail open", admission, "down"],
    ["admission on, backend down, fail closed", { ...admission, admission_failure_mode: "closed" }, "down"],
  ];
  const rows: string[] = [];
  for (const mode of ["sse", "json"] as const) {
    const results: RunResult[][] = variants.map(() => []);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, [, config, backendMode]] of variants.entries()) {
        results[i].push(await run(config, mode, 1024, scriptDir, backendMode, ADMISSION_CONNECTIONS));
      }
    }
    const base = best(results[1]);
    for (const [i, [label]] of variants.entries()) {
      const r = best(results[i]);
      const row =
        `| ${mode.toUpperCase()} | ${label} | ${r.rps.toFixed(0)} | ${ms(r.p50ms)} | ` +
        `${i > 1 ? `${(r.p50ms - base.p50ms >= 0 ? "+" : "") + ms(r.p50ms - base.p50ms)}` : "-"} | ${ms(r.p99ms)} | ` +
        `${r.cpuUsPerRequest.toFixed(1)} | ${r.requests} | ${r.non2xx} | ${r.authorizeCalls} |`;
      rows.push(row);
      console.error(row);
    }
  }
  return [
    `## Admission (1 KB responses)`,
    ``,
    `Same setup, ${ADMISSION_CONNECTIONS} wrk connection(s); the fake 3scale backend (authorize with limits, on ` +
      `loopback, in the benchmark's Node process) and the policy configuration above plus {"admission": true, ` +
      `"rate_limit_headers": true}. Δp50: against "policy, admission off". Non-2xx: responses wrk counted as errors ` +
      `(fail closed answers 503 by design).`,
    ``,
    `| Response | Variant | req/s | p50 ms | Δp50 ms | p99 ms | worker CPU µs/request | requests | non-2xx | authorize calls |`,
    `|---|---|---|---|---|---|---|---|---|---|`,
    ...rows,
    ``,
  ];
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
