/**
 * Benchmark of the 3scale layer (not a test): the whole program under the harness with the real dynamic providers
 * against the emulator, for 1, 10 and 50 models. As in a real deployment, three parties do not share one event
 * loop: the program (this thread, Pulumi mocks), the providers (a worker thread standing in for Pulumi's provider
 * host process) and the tenant (the emulator in another worker, adding `--latency` ms to every admin API call).
 * For a first up, a no-op up, a refresh and a one-field change it reports:
 * - admin API calls and writes as the emulator counted them, and calls per managed object;
 * - API time: first request to last response of the phase, i.e. what the providers cost;
 * - wall time: the whole phase, program evaluation under Pulumi mocks included; how much of it the program's
 *   thread was busy; CPU time of all threads (on a loaded machine wall time grows, CPU time does not);
 * - critical path: the longest chain of dependent calls, and the floor any engine hits at this latency and
 *   concurrency: max(critical path x latency, calls x latency / concurrency).
 * Then the first-up scaling (largest vs smallest stack) against the 2x target, and refresh reads per object by
 * type. Prints markdown and saves it to out/bench.md.
 *
 * Then the same program on the real engine (tools/real/: the pulumi CLI and plugins, a real API server, Keycloak, the
 * emulator at the same latency) for 1 and 10 models: first up, no-op up and refresh, wall time and the engine's own
 * overhead per resource.
 *
 * Then the plan of a stack with a 16 GiB local model, hash cache cold and warm (scripts/bench-weights.ts).
 *
 * Usage: npm run bench [-- --models 1,10,50 --latency 20 --concurrency 8[,32] --real 1,10|none --weights-gib 16|0]
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { createDynamicEngine, EngineOperation, inThreescaleLayer, isDynamic } from "./plan/dynamic-engine";
import { startEmulatorInWorker } from "../tools/threescale-emulator/worker";
import { HarnessState, PROJECT_ROOT, runProgram } from "./plan/mock-runner";
import { DEFAULT_CLIENT_OPTIONS } from "../dynamic-providers/threescale/client";
import { startDeployment } from "../tools/real/deployment";
import { realModels } from "../tools/real/stack";
import { benchWeights, weightsTable } from "./bench-weights";

/**
 * The admin client's own default (requests in flight per admin URL): what a deployment gets, since the stack
 * config does not change it. Pulumi's engine runs at most 4 x cores operations at once anyway.
 */
const SHIPPED_CLIENT_CONCURRENCY = DEFAULT_CLIENT_OPTIONS.concurrency;
type Phase = "first up" | "no-op up" | "refresh" | "one-field change";

interface Row {
  models: number;
  concurrency: number;
  phase: Phase;
  /** 3scale objects managed by the stack (dynamic resources of the layer). */
  objects: number;
  calls: number;
  writes: number;
  apiSeconds: number;
  wallSeconds: number;
  busySeconds: number;
  cpuSeconds: number;
  criticalPath: number;
  floorSeconds: number;
  operations: EngineOperation[];
}

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function numbers(name: string, fallback: string): number[] {
  const values = option(name, fallback).split(",").map(Number);
  if (values.some((v) => !Number.isFinite(v) || v < 0)) {
    throw new Error(`--${name} must be comma-separated numbers, e.g. --${name} ${fallback}`);
  }
  return values;
}

async function benchStack(count: number, latencyMs: number, concurrency: number): Promise<Row[]> {
  const emulator = await startEmulatorInWorker({ latencyMs });
  const engine = createDynamicEngine({
    connection: { adminUrl: emulator.url, accessToken: emulator.accessToken, verifyTls: false },
    clientOptions: { concurrency },
    manages: inThreescaleLayer,
    host: "worker",
  });
  await engine.ready();
  const models = realModels(count);
  let state: HarnessState = { resources: {} };
  const rows: Row[] = [];
  const measure = async (phase: Phase, run: () => Promise<void>) => {
    await emulator.resetCalls();
    engine.resetOperations();
    const started = performance.now();
    const loopBefore = performance.eventLoopUtilization();
    const cpuBefore = process.cpuUsage();
    await run();
    const busy = performance.eventLoopUtilization(loopBefore);
    const cpu = process.cpuUsage(cpuBefore);
    const wallSeconds = (performance.now() - started) / 1000;
    const { calls, writes } = await emulator.counts();
    const criticalPath = engine.criticalPath();
    rows.push({
      models: count,
      concurrency,
      phase,
      objects: Object.values(state.resources).filter((r) => isDynamic(r.type) && inThreescaleLayer(r)).length,
      calls,
      writes,
      apiSeconds: engine.apiMilliseconds() / 1000,
      wallSeconds,
      busySeconds: busy.active / 1000,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      criticalPath,
      floorSeconds: Math.max(criticalPath * latencyMs, (calls * latencyMs) / concurrency) / 1000,
      operations: [...engine.operations],
    });
  };
  const up = async (config: Record<string, unknown>) => {
    const result = await runProgram({ stack: "dev", config, handlers: engine.handlers, state });
    await engine.destroy(result.removed);
    state = result.state;
  };
  try {
    await measure("first up", () => up({ models }));
    await measure("no-op up", () => up({ models }));
    await measure("refresh", async () => {
      state = (await engine.refresh(state)).state;
    });
    const changed = [{ ...models[0], description: `${models[0].description} (changed)` }, ...models.slice(1)];
    await measure("one-field change", () => up({ models: changed }));
  } finally {
    await engine.close();
    await emulator.close();
  }
  return rows;
}

const fixed = (n: number, digits = 2) => n.toFixed(digits);

function mainTable(rows: Row[]): string[] {
  return [
    "| models | concurrency | phase | 3scale objects | admin API calls | calls per object | writes | API time (s) | wall time (s) | program thread busy (s) | CPU, all threads (s) | critical path (calls) | floor (s) |",
    "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.models} | ${r.concurrency} | ${r.phase} | ${r.objects} | ${r.calls} | ${fixed(r.calls / r.objects)} | ` +
        `${r.writes} | ${fixed(r.apiSeconds)} | ${fixed(r.wallSeconds)} | ${fixed(r.busySeconds)} | ${fixed(r.cpuSeconds)} | ` +
        `${r.criticalPath} | ` +
        `${fixed(r.floorSeconds)} |`,
    ),
  ];
}

/** First up of the largest stack against the smallest, per concurrency: the target is at most 2x. */
function scalingTable(rows: Row[]): string[] {
  const lines = [
    "| concurrency | models | API time ratio | wall time ratio | floor ratio | API time within 2x | wall time within 2x |",
    "|---:|---|---:|---:|---:|---|---|",
  ];
  for (const concurrency of new Set(rows.map((r) => r.concurrency))) {
    const firstUps = rows.filter((r) => r.concurrency === concurrency && r.phase === "first up");
    const small = firstUps.reduce((a, b) => (b.models < a.models ? b : a));
    const large = firstUps.reduce((a, b) => (b.models > a.models ? b : a));
    if (small === large) continue;
    const api = large.apiSeconds / small.apiSeconds;
    const wall = large.wallSeconds / small.wallSeconds;
    lines.push(
      `| ${concurrency} | ${large.models} vs ${small.models} | ${fixed(api, 1)}x | ${fixed(wall, 1)}x | ` +
        `${fixed(large.floorSeconds / small.floorSeconds, 1)}x | ${api <= 2 ? "yes" : "no"} | ${wall <= 2 ? "yes" : "no"} |`,
    );
  }
  return lines;
}

/** Refresh of the largest stack: reads per object and the longest single read, by resource type. */
function readsTable(rows: Row[]): string[] {
  const refresh = rows.filter((r) => r.phase === "refresh").reduce((a, b) => (b.models > a.models ? b : a));
  const byType = new Map<string, { objects: number; calls: number; longest: number }>();
  for (const op of refresh.operations) {
    const type = op.type.slice(op.type.lastIndexOf(":") + 1);
    const entry = byType.get(type) ?? { objects: 0, calls: 0, longest: 0 };
    entry.objects++;
    entry.calls += op.calls;
    entry.longest = Math.max(entry.longest, op.calls);
    byType.set(type, entry);
  }
  return [
    `Refresh reads by type (${refresh.models} models, ${refresh.calls} calls for ${refresh.objects} objects):`,
    "",
    "| type | objects | read calls | per object | longest read (calls) |",
    "|---|---:|---:|---:|---:|",
    ...[...byType.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, e]) => `| ${type} | ${e.objects} | ${e.calls} | ${fixed(e.calls / e.objects)} | ${e.longest} |`),
  ];
}

/** Like `uptime`: time since boot and the 1, 5 and 15 minute load averages. */
function uptime(): string {
  const up = os.uptime();
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(", ");
  return `up ${Math.floor(up / 3600)}:${String(Math.floor((up % 3600) / 60)).padStart(2, "0")}, load average: ${load}`;
}

function report(rows: Row[], latencyMs: number, uptimeAtStart: string): string {
  return [
    `3scale layer: providers in a worker thread (the provider host), emulator in another adding ${latencyMs} ms per ` +
      "admin API call; client concurrency per " +
      `admin URL as listed (${SHIPPED_CLIENT_CONCURRENCY} is the client's default, what a deployment gets); ` +
      "after one unmeasured warm-up up that loads the program and serializes the providers.",
    `Machine: ${os.cpus().length} CPUs, node ${process.version}; uptime at start: ${uptimeAtStart}; at end: ${uptime()}.`,
    "API time: first admin API request to last response of the phase (what the providers cost). Wall time: the " +
      "whole phase with program evaluation under Pulumi mocks. Program thread busy: event-loop active time of the " +
      "thread running the program. CPU: user + system time of the whole process (program, providers, emulator). " +
      "Floor: max(critical path x latency, calls x latency / concurrency).",
    "",
    ...mainTable(rows),
    "",
    "First up, largest vs smallest stack (target: within 2x):",
    "",
    ...scalingTable(rows),
    "",
    ...readsTable(rows),
  ].join("\n");
}

interface RealRow {
  models: number;
  phase: "first up" | "no-op up" | "refresh";
  resources: number;
  calls: number;
  writes: number;
  wallSeconds: number;
  /** Wall time during which no resource step was in flight (program start, plugins, planning, checkpoints). */
  engineIdleSeconds: number;
}

/**
 * The whole program on the real engine (pulumi CLI, language host, plugins) against the real counterparts
 * (tools/real/): a fresh environment per stack size, the tenant's admin API at `latencyMs` per call.
 */
async function benchReal(count: number, latencyMs: number): Promise<RealRow[]> {
  const d = await startDeployment({
    models: realModels(count),
    gpuNodes: Math.ceil(count / 4),
    emulator: { latencyMs },
  });
  const rows: RealRow[] = [];
  try {
    for (const n of d.env.notReal) process.stderr.write(`not real: ${n}\n`);
    const measure = async (
      phase: RealRow["phase"],
      run: () => Promise<import("../tools/real/deployment").CommandReport>,
    ) => {
      d.env.operators.tenant("3scale")?.emulator.resetCalls();
      const r = await run();
      const emulator = d.env.operators.tenant("3scale")?.emulator;
      rows.push({
        models: count,
        phase,
        resources: r.resources,
        calls: emulator?.calls.length ?? 0,
        writes: emulator?.writes().length ?? 0,
        wallSeconds: r.wallMs / 1000,
        engineIdleSeconds: r.engineIdleMs / 1000,
      });
    };
    await measure("first up", () => d.up());
    await measure("no-op up", () => d.up({ expectNoChanges: true }));
    await measure("refresh", () => d.refresh({ expectNoChanges: true }));
  } finally {
    await d.stop();
  }
  return rows;
}

function realTable(rows: RealRow[], latencyMs: number, version: string): string[] {
  return [
    `Real engine (pulumi ${version}, tools/real/ counterparts), tenant admin API at ${latencyMs} ms per call. *Engine idle* is the ` +
      "wall time during which no resource step was in flight (program start, plugin start, planning, checkpoints); " +
      "per resource it is the engine's own overhead.",
    "",
    "| models | phase | resources | admin API calls | writes | wall time (s) | engine idle (s) | engine idle per resource (ms) |",
    "|---:|---|---:|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.models} | ${r.phase} | ${r.resources} | ${r.calls} | ${r.writes} | ${fixed(r.wallSeconds)} | ` +
        `${fixed(r.engineIdleSeconds)} | ${fixed((r.engineIdleSeconds * 1000) / r.resources, 0)} |`,
    ),
  ];
}

async function main(): Promise<void> {
  const counts = numbers("models", "1,10,50");
  const latencyMs = numbers("latency", "20")[0];
  const concurrencies = numbers("concurrency", String(SHIPPED_CLIENT_CONCURRENCY));
  const rows: Row[] = [];
  const uptimeAtStart = uptime();
  process.stderr.write("bench: warm-up...\n");
  await benchStack(1, 0, concurrencies[0]);
  for (const concurrency of concurrencies) {
    for (const count of counts) {
      process.stderr.write(`bench: ${count} model(s), concurrency ${concurrency}...\n`);
      rows.push(...(await benchStack(count, latencyMs, concurrency)));
    }
  }
  let markdown = report(rows, latencyMs, uptimeAtStart) + "\n";
  const weightsGib = numbers("weights-gib", "16")[0];
  if (weightsGib > 0) {
    process.stderr.write(`bench: planning a ${weightsGib} GiB local model, cold and warm...\n`);
    const weights = await benchWeights({ gib: weightsGib });
    markdown += "\nPlanning the dev stack with one local model (preview, harness), hash cache empty then filled:\n\n";
    markdown += weightsTable(weights).join("\n") + "\n";
  }
  const realCounts = option("real", "1,10") === "none" ? [] : numbers("real", "1,10");
  if (realCounts.length > 0) {
    const realRows: RealRow[] = [];
    let version = "";
    for (const count of realCounts) {
      process.stderr.write(`bench: real engine, ${count} model(s)...\n`);
      try {
        realRows.push(...(await benchReal(count, latencyMs)));
        version = (await import("../tools/real/pulumi")).pulumiBins().cliVersion;
      } catch (e) {
        process.stderr.write(`not real: real-engine rows (${count} models): ${(e as Error).message.split("\n")[0]}\n`);
      }
    }
    if (realRows.length > 0) markdown += "\n" + realTable(realRows, latencyMs, version).join("\n") + "\n";
  }
  process.stdout.write(markdown);
  const out = path.join(PROJECT_ROOT, "out");
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, "bench.md"), markdown);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
