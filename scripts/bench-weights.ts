/**
 * Benchmark of planning a stack with local weights (not a test): a 16 GiB sparse file and a few small files as one
 * model's `localPath`, planned by the whole program under the harness (the dev stack, preview), twice:
 * - cold: an empty hash cache, so every file is read and hashed once (16 GiB of zeros from a sparse file: no disk
 *   I/O, so this is the hashing cost, a floor for a real disk);
 * - warm: the cache knows every file by path, size and mtime, so the plan reads no weight file at all.
 * The weights reach Pulumi as ModelWeights inputs (paths, sizes, sha256: plain data), so the engine itself reads
 * nothing either — with FileAssets it read every byte on each preview.
 * Reported per phase: plan wall time, weight files opened for reading, and the bytes the whole process read
 * (`rchar` of /proc/self/io, Linux). The temporary directory and cache are removed afterwards.
 *
 * Usage: ts-node --transpile-only scripts/bench-weights.ts [--gib 16]
 * As a library: `benchWeights()` returns the rows, `weightsTable(rows)` renders them as markdown lines.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { performance } from "perf_hooks";
import { runProgram } from "./plan/mock-runner";

export interface WeightsRow {
  phase: "cold" | "warm";
  /** Bytes of the model directory. */
  modelBytes: number;
  files: number;
  planSeconds: number;
  /** Weight files opened for reading during the plan. */
  filesRead: number;
  /** Bytes the process read during the plan (all files, not only weights); undefined off Linux. */
  bytesRead?: number;
}

export interface BenchWeightsOptions {
  /** Size of the large (sparse) file in GiB (default 16). */
  gib?: number;
}

const GiB = 1024 ** 3;

/** Bytes this process has read so far (`rchar`: read(2) and friends, page cache included), or undefined. */
function processBytesRead(): number | undefined {
  try {
    const match = /^rchar:\s*(\d+)$/m.exec(fs.readFileSync("/proc/self/io", "utf8"));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Counts `fs.createReadStream`/`fs.readFileSync` calls on files under `dir` while `body` runs. */
async function countingReads<T>(dir: string, body: () => Promise<T>): Promise<{ value: T; reads: number }> {
  const nodeFs = require("fs");
  const originals = { createReadStream: nodeFs.createReadStream, readFileSync: nodeFs.readFileSync };
  let reads = 0;
  const counted =
    (original: (...args: any[]) => any) =>
    (...args: any[]) => {
      if (typeof args[0] === "string" && path.resolve(args[0]).startsWith(dir + path.sep)) reads++;
      return original.apply(nodeFs, args);
    };
  nodeFs.createReadStream = counted(originals.createReadStream);
  nodeFs.readFileSync = counted(originals.readFileSync);
  try {
    return { value: await body(), reads };
  } finally {
    Object.assign(nodeFs, originals);
  }
}

export async function benchWeights(options: BenchWeightsOptions = {}): Promise<WeightsRow[]> {
  const gib = options.gib ?? 16;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-weights-"));
  const savedCache = process.env.MAAS_CACHE;
  try {
    const modelDir = path.join(root, "model");
    fs.mkdirSync(modelDir);
    const big = path.join(modelDir, "model.safetensors");
    fs.writeFileSync(big, "");
    fs.truncateSync(big, gib * GiB); // sparse: takes no disk space
    fs.writeFileSync(path.join(modelDir, "config.json"), JSON.stringify({ architectures: ["GraniteForCausalLM"] }));
    fs.writeFileSync(path.join(modelDir, "tokenizer.json"), JSON.stringify({ version: "1.0", vocab: {} }));
    fs.writeFileSync(path.join(modelDir, "generation_config.json"), "{}");
    const files = fs.readdirSync(modelDir).length;
    const modelBytes = fs.readdirSync(modelDir).reduce((n, f) => n + fs.statSync(path.join(modelDir, f)).size, 0);

    // Warm-up: load and compile the program once (a small model, its own cache), so phases measure planning.
    const warmupDir = path.join(root, "warmup");
    fs.mkdirSync(warmupDir);
    fs.writeFileSync(path.join(warmupDir, "config.json"), "{}");
    process.env.MAAS_CACHE = path.join(root, "warmup-cache");
    await runProgram({ stack: "dev", config: { models: [{ name: "warmup", localPath: warmupDir }] }, preview: true });

    process.env.MAAS_CACHE = path.join(root, "cache"); // empty: the cold phase hashes everything
    const rows: WeightsRow[] = [];
    for (const phase of ["cold", "warm"] as const) {
      const before = processBytesRead();
      const started = performance.now();
      const { reads } = await countingReads(modelDir, () =>
        runProgram({ stack: "dev", config: { models: [{ name: "bench", localPath: modelDir }] }, preview: true }),
      );
      const planSeconds = (performance.now() - started) / 1000;
      const after = processBytesRead();
      rows.push({
        phase,
        modelBytes,
        files,
        planSeconds,
        filesRead: reads,
        bytesRead: before === undefined || after === undefined ? undefined : after - before,
      });
    }
    return rows;
  } finally {
    if (savedCache === undefined) delete process.env.MAAS_CACHE;
    else process.env.MAAS_CACHE = savedCache;
    fs.rmSync(root, { recursive: true, force: true });
  }
}

const size = (bytes: number) =>
  bytes >= GiB ? `${(bytes / GiB).toFixed(2)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

export function weightsTable(rows: WeightsRow[]): string[] {
  return [
    "| local model | files | hash cache | plan time (s) | weight files read | bytes read by the process |",
    "|---|---:|---|---:|---:|---:|",
    ...rows.map(
      (r) =>
        `| ${size(r.modelBytes)} (sparse) | ${r.files} | ${r.phase === "cold" ? "empty (cold)" : "filled (warm)"} | ` +
        `${r.planSeconds.toFixed(2)} | ${r.filesRead} | ${r.bytesRead === undefined ? "n/a" : size(r.bytesRead)} |`,
    ),
  ];
}

if (require.main === module) {
  const i = process.argv.indexOf("--gib");
  const gib = i >= 0 ? Number(process.argv[i + 1]) : undefined;
  benchWeights({ gib }).then(
    (rows) => {
      process.stdout.write(
        [
          `Planning a stack with a local model (dev stack, preview, harness); machine: ${os.cpus().length} CPUs, node ${process.version}.`,
          "",
          ...weightsTable(rows),
          "",
        ].join("\n"),
      );
      process.exit(0);
    },
    (err) => {
      process.stderr.write(`bench-weights failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
