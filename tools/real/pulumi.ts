/**
 * The REAL Pulumi engine for tests: the `pulumi` CLI, its Node.js language host and the provider plugins built by
 * scripts/counterparts/build-pulumi.sh, driven through the Automation API (`@pulumi/pulumi/automation`, LocalWorkspace)
 * on a local file backend with the passphrase secrets provider.
 *
 *   const bins = pulumiBins();                       // builds or reuses the cache
 *   const project = makeProject();                   // temp dir: Pulumi.yaml + the program, linked
 *   const s = await openStack(project, bins, "real", stackConfig, { "maas:s3SecretAccessKey": "..." });
 *   await s.stack.up({ onOutput });
 *
 * The program runs from a temporary project directory holding a copy of Pulumi.yaml and symlinks to the program's
 * sources, so the stack file (`Pulumi.<stack>.yaml`) and the backend never land in the clone. Nothing reaches the
 * network: plugins come from the PATH directory (PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION turns a missing plugin
 * into an error instead of a download) and the update check is off.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import * as YAML from "yaml";
import { makeTempDir } from "./procs";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
const BUILD_SCRIPT = path.join(PROJECT_ROOT, "scripts", "counterparts", "build-pulumi.sh");
/** What the program needs at run time, linked into the project directory. */
const PROGRAM_ENTRIES = [
  "index.ts",
  "components",
  "dynamic-providers",
  "assets",
  "node_modules",
  "package.json",
  "tsconfig.json",
];

export interface PulumiBins {
  /** The directory put first on PATH: pulumi, pulumi-language-nodejs, pulumi-resource-*. */
  dir: string;
  /** `pulumi version`, e.g. v3.248.0. */
  cliVersion: string;
  /** Each plugin binary's own version (`<binary> -version` is not universal: read from the cache path). */
  plugins: Record<string, string>;
}

let binsCache: PulumiBins | undefined;

/** Runs the build script (instant when warm) unless MAAS_PULUMI_BIN names the directory already. */
export function pulumiBins(): PulumiBins {
  if (binsCache) return binsCache;
  let dir = process.env.MAAS_PULUMI_BIN;
  if (!dir) {
    dir = execFileSync("bash", [BUILD_SCRIPT], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 1024 * 1024,
    })
      .trim()
      .split("\n")
      .pop() as string;
  }
  if (!fs.existsSync(path.join(dir, "pulumi"))) throw new Error(`${dir} holds no pulumi binary; rerun ${BUILD_SCRIPT}`);
  const cliVersion = execFileSync(path.join(dir, "pulumi"), ["version"], {
    encoding: "utf8",
    env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
  }).trim();
  binsCache = { dir, cliVersion, plugins: pluginVersions(dir) };
  return binsCache;
}

/**
 * The version each binary was built as. The build script names each cache entry `<binary>-<version>-<hash>` and
 * hard-links the binary into the PATH directory, so the entry is found by inode.
 */
function pluginVersions(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const cache = path.dirname(dir);
  const entries = fs.existsSync(cache) ? fs.readdirSync(cache) : [];
  for (const name of fs.readdirSync(dir)) {
    const ino = fs.statSync(path.join(dir, name)).ino;
    const entry = entries.find((e) => {
      const bin = path.join(cache, e, "bin", name);
      return e.startsWith(`${name}-`) && fs.existsSync(bin) && fs.statSync(bin).ino === ino;
    });
    out[name] = entry ? entry.slice(name.length + 1).replace(/-[0-9a-f]{12}$/, "") : "(unknown)";
  }
  return out;
}

/** A throw-away project directory: Pulumi.yaml copied (its config defaults apply), the program linked. */
export function makeProject(): string {
  const dir = makeTempDir("maas-pulumi-");
  const project = path.join(dir, "project");
  fs.mkdirSync(project);
  fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
  for (const entry of PROGRAM_ENTRIES) fs.symlinkSync(path.join(PROJECT_ROOT, entry), path.join(project, entry));
  fs.mkdirSync(path.join(dir, "state"));
  fs.mkdirSync(path.join(dir, "home"));
  return project;
}

export const PASSPHRASE = "maas-real-suite";

/** The CLI's environment: our binaries first on PATH, local backend, no update check, no plugin download. */
export function cliEnv(project: string, bins: PulumiBins): Record<string, string> {
  const base = path.dirname(project);
  return {
    PATH: `${bins.dir}:${process.env.PATH}`,
    PULUMI_HOME: path.join(base, "home"),
    PULUMI_BACKEND_URL: `file://${path.join(base, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    // Type checking is `npm run typecheck`; ts-node would otherwise check the whole program on every run.
    PULUMI_NODEJS_TRANSPILE_ONLY: "true",
    // Inherited settings that would point the CLI elsewhere.
    PULUMI_ACCESS_TOKEN: "",
    PULUMI_IGNORE_AMBIENT_PLUGINS: "",
    PULUMI_CONFIG_PASSPHRASE_FILE: "",
  };
}

export interface RealStack {
  name: string;
  project: string;
  stack: Stack;
  env: Record<string, string>;
  bins: PulumiBins;
  /** Rewrites the plain part of the stack config (secrets stay). */
  setConfig(config: Record<string, unknown>): Promise<void>;
  /** Runs the CLI directly (not through the Automation API), detached in its own process group. */
  spawnCli(args: string[], logFile: string): ChildProcess;
}

/**
 * Creates (or selects) the stack in `project` with `config` (namespaced keys → plain values, written to the stack
 * file) and `secrets` (set with `pulumi config set --secret`).
 */
export async function openStack(
  project: string,
  bins: PulumiBins,
  name: string,
  config: Record<string, unknown>,
  secrets: Record<string, string> = {},
): Promise<RealStack> {
  const env = cliEnv(project, bins);
  const root = path.join(path.dirname(project), "cli");
  if (!fs.existsSync(root)) {
    fs.mkdirSync(root);
    fs.symlinkSync(bins.dir, path.join(root, "bin"));
  }
  const pulumiCommand = await PulumiCommand.get({ root, skipVersionCheck: false });
  const workspace = await LocalWorkspace.create({ workDir: project, envVars: env, pulumiCommand });
  const stack = await Stack.createOrSelect(name, workspace);
  const stackFile = path.join(project, `Pulumi.${name}.yaml`);
  const setConfig = async (plain: Record<string, unknown>) => {
    const current = fs.existsSync(stackFile) ? (YAML.parse(fs.readFileSync(stackFile, "utf8")) ?? {}) : {};
    const kept = Object.fromEntries(
      Object.entries((current.config ?? {}) as Record<string, unknown>).filter(
        ([, v]) => typeof v === "object" && v !== null && "secure" in (v as object),
      ),
    );
    fs.writeFileSync(stackFile, YAML.stringify({ ...current, config: { ...plain, ...kept } }));
  };
  await setConfig(config);
  for (const [key, value] of Object.entries(secrets)) await stack.setConfig(key, { value, secret: true });
  return {
    name,
    project,
    stack,
    env,
    bins,
    setConfig,
    spawnCli: (args, logFile) => {
      const out = fs.openSync(logFile, "a");
      const child = spawn(path.join(bins.dir, "pulumi"), [...args, "--stack", name, "--non-interactive"], {
        cwd: project,
        env: { ...process.env, ...env },
        detached: true,
        stdio: ["ignore", out, out],
      });
      fs.closeSync(out);
      return child;
    },
  };
}
