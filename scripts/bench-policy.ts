/**
 * Measures what the llm-metrics policy costs: wrk runs against the same fake model upstream through nginx without the
 * policy, with batched backend reports, and with one backend report per response (fresh nginx per run, so the
 * worker's VmHWM is the peak of that run only).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startFakeBackend, startFakeUpstream, startNginx } from "../tools/policy-gateway/nginx-fixture";

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

/** One wrk run; `policyConfig` null means the location without the policy. */
async function run(
  policyConfig: Record<string, unknown> | null,
  mode: "sse" | "json",
  size: number,
  scriptDir: string,
): Promise<RunResult> {
  const upstream = await startFakeUpstream(false);
  const backend = await startFakeBackend();
  const nginx = await startNginx({
    upstreamPort: upstream.port,
    backendUrl: backend.url,
    policyConfig: policyConfig ?? {},
  });
  try {
    const url = `${policyConfig ? nginx.url : nginx.baselineUrl}/chat/completions`;
    // Asynchronous: the fake upstream and backend live in this process's event loop.
    const [worker] = nginx.workerPids();
    const cpuBefore = cpuMicros(worker);
    const out = await runWrk([
      "-t1",
      `-c${size > 1024 * 1024 ? 2 : 8}`,
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
  ].join("\n");
  fs.mkdirSync("out", { recursive: true });
  fs.writeFileSync("out/bench-policy.md", table);
  console.log(table);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
