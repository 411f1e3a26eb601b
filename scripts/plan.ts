/**
 * Offline plan: runs the real program (index.ts) under Pulumi mocks with a stack file as config — no cluster and
 * no Pulumi CLI needed — and shows what `pulumi up` would create:
 *   stdout: the resource tree with key properties and counts per type;
 *   out/<stack>/manifests/<NN>-<kind>-<ns>-<name>.yaml, out/<stack>/plan.json (3scale and Keycloak objects),
 *   out/<stack>/graph.mmd (Mermaid dependency graph).
 * Secret values are never printed or written. Usage:
 *   npm run plan -- --stack dev [--stack-file path/to/Pulumi.x.yaml] [--out dir]
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { ConfigValidationError } from "../components/config/validate";
import { ProgramError, PROJECT_ROOT, RunResult, runProgram } from "./plan/mock-runner";
import { adminObjects, kubernetesManifests, mermaidGraph, resourceTree, summary } from "./plan/render";

export interface PlanOptions {
  stack: string;
  stackFile?: string;
  outDir?: string;
  /** Values for `secure:` keys (default: fake values). */
  secrets?: Record<string, string>;
  /** Receives the report (tree and counts). */
  print?: (text: string) => void;
  /** Receives progress lines. */
  progress?: (line: string) => void;
}

export interface PlanArgs {
  stack?: string;
  stackFile?: string;
  outDir?: string;
}

const USAGE = "usage: npm run plan -- --stack <dev|prod|...> [--stack-file <Pulumi.x.yaml>] [--out <dir>]";

export function parseArgs(argv: string[]): PlanArgs {
  const args: PlanArgs = {};
  const flags: Record<string, keyof PlanArgs> = { "--stack": "stack", "--stack-file": "stackFile", "--out": "outDir" };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split("=", 2);
    const key = flags[flag];
    if (!key) throw new UsageError(`unknown argument "${argv[i]}"`);
    const value = inline ?? argv[++i];
    if (value === undefined || value.startsWith("--")) throw new UsageError(`${flag} needs a value`);
    args[key] = value;
  }
  if (!args.stack && !args.stackFile) throw new UsageError("--stack or --stack-file is required");
  return args;
}

export class UsageError extends Error {}

/** Stack name from `Pulumi.<name>.yaml`, else the file's base name. */
const stackNameOf = (file: string) => path.basename(file).replace(/^Pulumi\.(.+)\.ya?ml$/, "$1");

export async function plan(opts: PlanOptions): Promise<RunResult> {
  const progress = opts.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const print = opts.print ?? ((text: string) => process.stdout.write(`${text}\n`));
  const outDir = opts.outDir ?? path.join(PROJECT_ROOT, "out", opts.stack);
  progress(
    `plan: running the program for stack "${opts.stack}" under mocks${opts.stackFile ? ` (${opts.stackFile})` : ""}`,
  );
  const result = await runProgram({
    stack: opts.stack,
    stackFile: opts.stackFile,
    secrets: opts.secrets,
    preview: true,
  });
  progress(
    `plan: ${result.resources.length} resources registered; writing ${path.relative(process.cwd(), outDir) || "."}`,
  );

  const manifestsDir = path.join(outDir, "manifests");
  fs.rmSync(manifestsDir, { recursive: true, force: true });
  fs.mkdirSync(manifestsDir, { recursive: true });
  const manifests = kubernetesManifests(result.resources);
  for (const m of manifests)
    fs.writeFileSync(path.join(manifestsDir, m.file), YAML.stringify(m.manifest, { lineWidth: 0 }));
  const outputs = Object.fromEntries(
    Object.entries(result.outputs).map(([k, v]) => [k, result.secretOutputNames.includes(k) ? "[secret]" : v]),
  );
  fs.writeFileSync(
    path.join(outDir, "plan.json"),
    JSON.stringify({ stack: opts.stack, outputs, objects: adminObjects(result.resources) }, null, 2) + "\n",
  );
  fs.writeFileSync(path.join(outDir, "graph.mmd"), mermaidGraph(result.resources));

  print(
    [
      `Plan for stack "${opts.stack}"`,
      "",
      resourceTree(result.resources),
      "",
      "Resources by type:",
      summary(result.resources),
      "",
      "Outputs:",
      ...Object.entries(outputs).map(([k, v]) => `  ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`),
    ].join("\n"),
  );
  progress(`plan: wrote ${manifests.length} manifests, plan.json and graph.mmd`);
  return result;
}

/** Messages without stack traces: config problems as listed by the loader, program failures one per line. */
export function failureMessage(error: unknown): string {
  if (error instanceof ConfigValidationError) return error.message;
  if (error instanceof ProgramError)
    return `The program failed:\n${error.errors.map((e) => `  - ${e.message}`).join("\n")}`;
  if (error instanceof UsageError) return `${error.message}\n${USAGE}`;
  return `plan failed: ${error instanceof Error ? error.message : String(error)}`;
}

async function main(): Promise<number> {
  try {
    const args = parseArgs(process.argv.slice(2));
    const stack = args.stack ?? stackNameOf(args.stackFile!);
    const stackFile = args.stackFile ? path.resolve(args.stackFile) : undefined;
    if (stackFile && !fs.existsSync(stackFile)) throw new UsageError(`stack file ${stackFile} does not exist`);
    await plan({ stack, stackFile, outDir: args.outDir && path.resolve(args.outDir) });
    return 0;
  } catch (e) {
    process.stderr.write(`${failureMessage(e)}\n`);
    return 1;
  }
}

if (require.main === module) {
  // Exit explicitly: the mocked runtime may keep handles open after the program is done.
  main().then((code) => process.stdout.write("", () => process.exit(code)));
}
