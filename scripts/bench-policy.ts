/**
 * Measures what the llm-metrics policy costs: wrk runs against the same fake model upstream through nginx with and
 * without the policy (fresh nginx per run, so the worker's VmHWM is the peak of that run only).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startFakeBackend, startFakeUpstream, startNginx } from "../tests/policy/nginx-fixture";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
/** Policy configuration under test; max_json_bytes is raised so that the 10 MB JSON case is metered too. */
const POLICY_CONFIG = JSON.parse(process.env.BENCH_POLICY_CONFIG ?? '{"max_json_bytes": 67108864}');
/** Alternating rounds per variant; the best round counts, which filters out load from other processes. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CASES: { mode: "sse" | "json"; size: number; label: string }[] = [];
for (const mode of ["sse", "json"] as const) {
  for (const [size, label] of [
    [1024, "1 KB"],
    [1024 * 1024, "1 MB"],
    [10 * 1024 * 1024, "10 MB"],
  ] as const) {
    CASES.push({ mode, size, label });
  }
}

interface RunResult {
  rps: number;
  p50ms: number;
  p99ms: number;
  hwmKb: number;
  rssKb: number;
  errors: string;
}

function toMs(value: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(value.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return { us: n / 1000, ms: n, s: n * 1000, m: n * 60000 }[m[2] as "us" | "ms" | "s" | "m"];
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

async function run(withPolicy: boolean, mode: "sse" | "json", size: number, scriptDir: string): Promise<RunResult> {
  const upstream = await startFakeUpstream(false);
  const backend = await startFakeBackend();
  const nginx = await startNginx({ upstreamPort: upstream.port, backendUrl: backend.url, policyConfig: POLICY_CONFIG });
  try {
    const url = `${withPolicy ? nginx.url : nginx.baselineUrl}/chat/completions`;
    // Asynchronous: the fake upstream and backend live in this process's event loop.
    const out = await runWrk([
      "-t1",
      `-c${size > 1024 * 1024 ? 2 : 8}`,
      `-d${SECONDS}s`,
      "--latency",
      "-s",
      wrkScript(scriptDir, mode, size),
      url,
    ]);
    const [worker] = nginx.workerPids();
    const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: [^\n]+/.exec(out)?.[0] ?? "";
    return {
      rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
      p50ms: toMs(/^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? ""),
      p99ms: toMs(/^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? ""),
      hwmKb: procStatusKb(worker, "VmHWM"),
      rssKb: procStatusKb(worker, "VmRSS"),
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
    const bases: RunResult[] = [];
    const policies: RunResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      bases.push(await run(false, c.mode, c.size, scriptDir));
      policies.push(await run(true, c.mode, c.size, scriptDir));
    }
    const base = best(bases);
    const policy = best(policies);
    const cost = ((1 - policy.rps / base.rps) * 100).toFixed(1);
    const notes = [base.errors, policy.errors].filter(Boolean).join("; ");
    rows.push(
      `| ${c.mode.toUpperCase()} | ${c.label} | ${base.rps.toFixed(0)} | ${policy.rps.toFixed(0)} | ` +
        `${(policy.rps / base.rps).toFixed(3)} (${cost}% cost) | ${ms(base.p50ms)} / ${ms(policy.p50ms)} | ` +
        `${ms(base.p99ms)} / ${ms(policy.p99ms)} | ${mb(base.hwmKb)} / ${mb(policy.hwmKb)} | ` +
        `${mb(base.rssKb)} / ${mb(policy.rssKb)} |${notes ? ` ${notes}` : ""}`,
    );
    console.error(rows[rows.length - 1]);
  }
  fs.rmSync(scriptDir, { recursive: true, force: true });
  const table = [
    `# llm-metrics policy benchmark`,
    ``,
    `${new Date().toISOString()}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "unknown"}), nginx + lua module, ` +
      `best of ${ROUNDS} alternating wrk runs of ${SECONDS}s, fake upstream on loopback, policy configuration ` +
      `${JSON.stringify(POLICY_CONFIG)}, 1-minute load average ${loadBefore.toFixed(1)} before / ${os.loadavg()[0].toFixed(1)} after. "a / b" = without / with the policy; memory is the nginx ` +
      `worker's peak (VmHWM) and resident (VmRSS) size in MiB after the run.`,
    ``,
    `| Response | Size | req/s without | req/s with | with/without | p50 ms | p99 ms | worker VmHWM MiB | worker VmRSS MiB |`,
    `|---|---|---|---|---|---|---|---|---|`,
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
