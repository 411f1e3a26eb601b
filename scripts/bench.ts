/**
 * Benchmark of the 3scale layer (not a test): the whole program under the harness with the real dynamic providers
 * against the emulator adding 20 ms to every admin API call, for 1, 10 and 50 models. For a first up, a no-op up,
 * a refresh and a one-field change it reports admin API calls, wall time and the critical path (the longest chain
 * of dependent calls, i.e. the floor any engine would hit at this latency). Prints one markdown table and saves it
 * to out/bench.md.
 *
 * Usage: npm run bench [-- --models 1,10,50 --latency 20 --concurrency 32]
 */
import * as fs from "fs";
import * as path from "path";
import { startEmulator } from "../tests/emulator";
import { createDynamicEngine, isDynamic } from "../tests/harness/dynamic-engine";
import { HarnessState, PROJECT_ROOT, runProgram } from "../tests/harness";
import { inThreescaleLayer, manyModels, otherLayers } from "../tests/e2e/support";

interface Row {
  models: number;
  phase: string;
  /** 3scale objects managed by the stack (dynamic resources of the layer). */
  objects: number;
  calls: number;
  writes: number;
  seconds: number;
  criticalPath: number;
}

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function benchStack(count: number, latencyMs: number, concurrency: number): Promise<Row[]> {
  const emulator = await startEmulator({ latencyMs });
  const engine = createDynamicEngine({
    connection: { adminUrl: emulator.url, accessToken: emulator.accessToken, verifyTls: false },
    clientOptions: { concurrency },
    manages: inThreescaleLayer,
    fallback: otherLayers,
  });
  const models = manyModels(count);
  let state: HarnessState = { resources: {} };
  const rows: Row[] = [];
  const measure = async (phase: string, run: () => Promise<void>) => {
    emulator.resetCalls();
    engine.resetOperations();
    const started = process.hrtime.bigint();
    await run();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    rows.push({
      models: count,
      phase,
      objects: Object.values(state.resources).filter((r) => isDynamic(r.type) && inThreescaleLayer(r)).length,
      calls: emulator.calls.length,
      writes: emulator.writes().length,
      seconds,
      criticalPath: engine.criticalPath(),
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
    await emulator.close();
  }
  return rows;
}

function table(rows: Row[], latencyMs: number, concurrency: number): string {
  const lines = [
    `3scale layer, emulator latency ${latencyMs} ms per call, client concurrency ${concurrency} per admin URL ` +
      "(after one unmeasured warm-up up that loads the program and serializes the providers)",
    "",
    "| models | phase | 3scale objects | admin API calls | writes | wall time (s) | critical path (calls) | floor at latency (s) |",
    "|---:|---|---:|---:|---:|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${r.models} | ${r.phase} | ${r.objects} | ${r.calls} | ${r.writes} | ${r.seconds.toFixed(2)} | ${r.criticalPath} | ` +
        `${((r.criticalPath * latencyMs) / 1000).toFixed(2)} |`,
    ),
  ];
  return lines.join("\n") + "\n";
}

async function main(): Promise<void> {
  const counts = option("models", "1,10,50").split(",").map(Number);
  const latencyMs = Number(option("latency", "20"));
  const concurrency = Number(option("concurrency", "32"));
  const rows: Row[] = [];
  process.stderr.write("bench: warm-up...\n");
  await benchStack(1, 0, concurrency);
  for (const count of counts) {
    process.stderr.write(`bench: ${count} model(s)...\n`);
    rows.push(...(await benchStack(count, latencyMs, concurrency)));
  }
  const markdown = table(rows, latencyMs, concurrency);
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
