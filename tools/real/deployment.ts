/**
 * One stack of the program on the real counterparts: the environment (environment.ts), the real Pulumi CLI through
 * the Automation API (pulumi.ts), the suite's stack (stack.ts), and a record of every command: its wall time, the
 * engine's steps with the time each took (from the engine's event stream), and its output in a log file.
 *
 *   const d = await startDeployment({ models: realModels(2) });
 *   const up = await d.up();              // up.ops.create === n, up.steps...
 *   await d.stop();
 */
import { ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import type { EmulatorOptions } from "../threescale-emulator";
import { RealEnvironment, startEnvironment } from "./environment";
import { makeProject, openStack, PROJECT_ROOT, pulumiBins, RealStack } from "./pulumi";
import { sleep } from "./procs";
import { APPS_DOMAIN, RealModel, realStackConfig, S3_SECRET, STACK } from "./stack";

export type Command = "preview" | "up" | "refresh" | "destroy";

export interface Step {
  urn: string;
  type: string;
  op: string;
  start: number;
  end?: number;
  failed?: boolean;
}

export interface CommandReport {
  command: Command;
  wallMs: number;
  /** Steps by operation (create, update, same, delete, replace, read, refresh...). */
  ops: Record<string, number>;
  steps: Step[];
  log: string;
  /** Wall time during which no resource step was in flight: program start, plugin start, planning, checkpoints. */
  engineIdleMs: number;
  /** Resources the engine visited. */
  resources: number;
}

export interface DeploymentOptions {
  models: RealModel[];
  emulator?: EmulatorOptions;
  gpuNodes?: number;
  /** Directory for command logs (default out/real/logs). */
  logDir?: string;
  stack?: string;
}

export interface Deployment {
  env: RealEnvironment;
  stack: RealStack;
  reports: CommandReport[];
  /** Rewrites the stack's plain config for these models (and GPU nodes). */
  configure(models: RealModel[], gpuNodes?: number, threescale?: Record<string, unknown>): Promise<void>;
  preview(opts?: { expectNoChanges?: boolean; diff?: boolean }): Promise<CommandReport>;
  up(opts?: { expectNoChanges?: boolean }): Promise<CommandReport>;
  refresh(opts?: { expectNoChanges?: boolean; clearPendingCreates?: boolean }): Promise<CommandReport>;
  destroy(): Promise<CommandReport>;
  /** `pulumi up` run by the CLI directly and killed with everything it started after `afterMs`. */
  killedUp(afterMs: number): Promise<{ killedAtMs: number; exited: string; log: string }>;
  exportState(): Promise<any>;
  stop(): Promise<void>;
}

/** Union length of [start, end] intervals. */
function busyMs(steps: Step[], t0: number, t1: number): number {
  const spans = steps
    .map((s) => [Math.max(s.start, t0), Math.min(s.end ?? t1, t1)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let cur: [number, number] | undefined;
  for (const [a, b] of spans) {
    if (cur && a <= cur[1]) cur[1] = Math.max(cur[1], b);
    else {
      if (cur) total += cur[1] - cur[0];
      cur = [a, b];
    }
  }
  if (cur) total += cur[1] - cur[0];
  return total;
}

/** Every descendant of `pid` (from /proc), deepest first. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      walk(c);
      out.push(c);
    }
  };
  walk(pid);
  return out;
}

export async function startDeployment(opts: DeploymentOptions): Promise<Deployment> {
  const logDir = opts.logDir ?? path.join(PROJECT_ROOT, "out", "real", "logs");
  fs.mkdirSync(logDir, { recursive: true });
  const env = await startEnvironment({ appsDomain: APPS_DOMAIN, emulator: opts.emulator });
  let stack: RealStack;
  try {
    const bins = pulumiBins();
    const project = makeProject();
    const name = opts.stack ?? STACK;
    stack = await openStack(
      project,
      bins,
      name,
      realStackConfig({ kubeconfig: env.kubeconfigPath, models: opts.models, gpuNodes: opts.gpuNodes }),
      S3_SECRET,
    );
  } catch (e) {
    await env.stop();
    throw e;
  }
  const reports: CommandReport[] = [];
  let n = 0;

  const run = async (
    command: Command,
    body: (hooks: { onOutput: (s: string) => void; onEvent: (e: EngineEvent) => void }) => Promise<unknown>,
  ) => {
    const log = path.join(logDir, `${String(++n).padStart(2, "0")}-${command}.log`);
    const out = fs.createWriteStream(log);
    const steps = new Map<string, Step>();
    const t0 = Date.now();
    const onEvent = (e: EngineEvent) => {
      const now = Date.now();
      const pre = e.resourcePreEvent?.metadata;
      if (pre) steps.set(`${pre.op} ${pre.urn}`, { urn: pre.urn, type: pre.type, op: pre.op, start: now });
      const done = e.resOutputsEvent?.metadata;
      if (done) {
        const s = steps.get(`${done.op} ${done.urn}`);
        if (s) s.end = now;
        else steps.set(`${done.op} ${done.urn}`, { urn: done.urn, type: done.type, op: done.op, start: now, end: now });
      }
      const failed = e.resOpFailedEvent?.metadata;
      if (failed) {
        const s = steps.get(`${failed.op} ${failed.urn}`);
        if (s) {
          s.end = now;
          s.failed = true;
        }
      }
    };
    let error: unknown;
    try {
      await body({ onOutput: (s) => out.write(s), onEvent });
    } catch (e) {
      error = e;
      out.write(`\n${String(e)}\n`);
    }
    const t1 = Date.now();
    await new Promise<void>((resolve) => out.end(resolve));
    const list = [...steps.values()];
    const ops: Record<string, number> = {};
    for (const s of list) ops[s.op] = (ops[s.op] ?? 0) + 1;
    const report: CommandReport = {
      command,
      wallMs: t1 - t0,
      ops,
      steps: list,
      log,
      engineIdleMs: t1 - t0 - busyMs(list, t0, t1),
      resources: new Set(list.map((s) => s.urn)).size,
    };
    reports.push(report);
    fs.writeFileSync(log.replace(/\.log$/, ".steps.json"), JSON.stringify({ t0, t1, steps: list }, null, 0));
    if (error) {
      const text = fs.readFileSync(log, "utf8");
      const diagnostics = text.slice(text.lastIndexOf("Diagnostics:")).slice(0, 4000);
      throw new Error(
        `pulumi ${command} failed after ${report.wallMs} ms (log ${log}):\n${diagnostics}\n${String(error).slice(0, 2000)}`,
      );
    }
    return report;
  };

  const deployment: Deployment = {
    env,
    stack,
    reports,
    configure: (models, gpuNodes, threescale) =>
      stack.setConfig(
        realStackConfig({ kubeconfig: env.kubeconfigPath, models, gpuNodes: gpuNodes ?? opts.gpuNodes, threescale }),
      ),
    preview: (o = {}) =>
      run("preview", (h) => stack.stack.preview({ ...h, expectNoChanges: o.expectNoChanges, diff: o.diff })),
    up: (o = {}) => run("up", (h) => stack.stack.up({ ...h, expectNoChanges: o.expectNoChanges, diff: true })),
    refresh: (o = {}) =>
      run("refresh", (h) =>
        stack.stack.refresh({ ...h, expectNoChanges: o.expectNoChanges, clearPendingCreates: o.clearPendingCreates }),
      ),
    destroy: () => run("destroy", (h) => stack.stack.destroy(h)),
    killedUp: async (afterMs) => {
      const log = path.join(logDir, `${String(++n).padStart(2, "0")}-killed-up.log`);
      const child: ChildProcess = stack.spawnCli(["up", "--yes", "--skip-preview"], log);
      let exited: string | undefined;
      child.on("exit", (code, signal) => (exited = signal ? `signal ${signal}` : `exit code ${code}`));
      const t0 = Date.now();
      while (exited === undefined && Date.now() - t0 < afterMs) await sleep(50);
      const killedAtMs = Date.now() - t0;
      if (exited === undefined && child.pid) {
        // The machine running `pulumi up` dies: the CLI and every plugin and language host it started, at once.
        const all = [...descendants(child.pid), child.pid];
        for (const pid of all) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
        while (exited === undefined) await sleep(20);
      }
      return { killedAtMs, exited: exited as string, log };
    },
    exportState: async () => (await stack.stack.exportStack()).deployment,
    stop: () => env.stop(),
  };
  return deployment;
}
