/**
 * The machine-readable record of a real-suite run, `out/real/summary.json`: what was real (with versions), what was
 * not (with the exact error), and each scenario's result and time. Every test file of the suite merges its part in;
 * the README's "Tested against" table is written from it. Also prints the lines CI shows.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { clusterBins } from "./counterparts";
import { PROJECT_ROOT, PulumiBins } from "./pulumi";

export const SUMMARY_FILE = path.join(PROJECT_ROOT, "out", "real", "summary.json");

export interface ScenarioResult {
  file: string;
  status: "passed" | "failed";
  seconds: number;
  error?: string;
  details?: Record<string, unknown>;
}

export interface Summary {
  startedAt: string;
  counterparts: Record<string, { real: boolean; version?: string; note?: string }>;
  notReal: string[];
  scenarios: Record<string, ScenarioResult>;
}

function read(): Summary {
  try {
    return JSON.parse(fs.readFileSync(SUMMARY_FILE, "utf8"));
  } catch {
    return { startedAt: new Date().toISOString(), counterparts: {}, notReal: [], scenarios: {} };
  }
}

function write(s: Summary): void {
  fs.mkdirSync(path.dirname(SUMMARY_FILE), { recursive: true });
  fs.writeFileSync(SUMMARY_FILE, JSON.stringify(s, null, 2) + "\n");
}

/** Prints to the terminal even under jest (which buffers console.*). */
export function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Starts a fresh summary (the first file of a run calls it through the jest global setup). */
export function resetSummary(): void {
  write({ startedAt: new Date().toISOString(), counterparts: {}, notReal: [], scenarios: {} });
}

function versionOf(bin: string, args: string[], pattern: RegExp): string | undefined {
  try {
    const out = execFileSync(bin, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return pattern.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

/** Records the counterparts this file ran against, and prints them. */
export function recordCounterparts(o: {
  bins: PulumiBins;
  kubernetesVersion: string;
  keycloakVersion?: string;
  notReal: string[];
}): void {
  const s = read();
  const { binDir } = clusterBins();
  const sdk = JSON.parse(
    fs.readFileSync(path.join(PROJECT_ROOT, "node_modules/@pulumi/pulumi/package.json"), "utf8"),
  ).version;
  const p = o.bins.plugins;
  s.counterparts = {
    ...s.counterparts,
    "pulumi CLI": { real: true, version: o.bins.cliVersion },
    "pulumi-language-nodejs": { real: true, version: p["pulumi-language-nodejs"] },
    "@pulumi/pulumi (SDK, Automation API)": { real: true, version: sdk },
    "pulumi-resource-kubernetes": { real: true, version: p["pulumi-resource-kubernetes"] },
    "pulumi-resource-random": { real: true, version: p["pulumi-resource-random"] },
    "pulumi-resource-keycloak": { real: true, version: p["pulumi-resource-keycloak"] },
    "dynamic providers (pulumi-resource-pulumi-nodejs)": {
      real: true,
      note: "launcher of @pulumi/pulumi's dynamic-provider host",
    },
    "kube-apiserver + kube-controller-manager + kube-scheduler": { real: true, version: o.kubernetesVersion },
    etcd: { real: true, version: versionOf(path.join(binDir, "etcd"), ["--version"], /etcd Version: (\S+)/) },
    "kwok (kubelets)": {
      real: true,
      version: versionOf(path.join(binDir, "kwok"), ["--version"], /(v\d+\.\d+\.\d+\S*)/),
    },
    Keycloak: o.keycloakVersion
      ? { real: true, version: o.keycloakVersion }
      : (s.counterparts.Keycloak ?? { real: true }),
    "OLM and operators": {
      real: false,
      note: "stand-ins (tools/real/operators.ts) writing components/readiness.ts statuses",
    },
    "3scale admin API": { real: false, note: "tools/threescale-emulator (HTTP server, OpenAPI-strict)" },
    "OpenShift router": {
      real: !o.notReal.some((n) => n.startsWith("router:")),
      note: "tools/real/router.ts on 127.0.0.1:443",
    },
    "@pulumi/aws": {
      real: false,
      note: "plugin cannot be built here; the stack creates no aws resource (mock suites cover it)",
    },
  };
  s.notReal = [...new Set([...s.notReal, ...o.notReal])];
  write(s);
}

export function recordScenario(name: string, result: ScenarioResult): void {
  const s = read();
  s.scenarios[name] = result;
  write(s);
}

export function recordKeycloak(version: string): void {
  const s = read();
  s.counterparts.Keycloak = { real: true, version };
  write(s);
}

/** `test()` that records the scenario's result and time and prints `scenario <name>: passed (n s)`. */
export function scenario(
  file: string,
  name: string,
  body: (details: Record<string, unknown>) => Promise<void>,
  timeoutMs: number,
): void {
  test(
    name,
    async () => {
      const t0 = Date.now();
      const details: Record<string, unknown> = {};
      try {
        await body(details);
        const seconds = (Date.now() - t0) / 1000;
        recordScenario(name, { file, status: "passed", seconds, details });
        say(`scenario ${name}: passed (${seconds.toFixed(1)} s)`);
      } catch (e) {
        const seconds = (Date.now() - t0) / 1000;
        recordScenario(name, { file, status: "failed", seconds, error: String(e).slice(0, 4000), details });
        say(`scenario ${name}: FAILED (${seconds.toFixed(1)} s): ${String(e).split("\n")[0]}`);
        throw e;
      }
    },
    timeoutMs,
  );
}
