/**
 * Process plumbing shared by the real counterparts (control plane, Keycloak): spawning each server in its own
 * process group with its output in a log file, free loopback ports, polling, and a last-resort cleanup when the
 * Node process exits so a crashed or forgotten test never leaves etcd or a JVM behind.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Set once the process has exited (code or signal), while it runs undefined. */
  exited(): string | undefined;
  /** SIGTERM to the whole process group, then SIGKILL after `graceMs`. Resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines of its log, for error messages. */
  tail(lines?: number): string;
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Everything still to kill or delete if the Node process goes away before the owner's stop(). */
const liveGroups = new Set<number>();
const liveDirs = new Set<string>();
let exitHooked = false;

function killGroupNow(pid: number, signal: NodeJS.Signals): void {
  try {
    // A negative pid addresses the process group that `detached: true` created, so wrappers such as kc.sh take
    // their java child with them.
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function cleanupEverything(): void {
  for (const pid of liveGroups) killGroupNow(pid, "SIGKILL");
  liveGroups.clear();
  for (const dir of liveDirs) fs.rmSync(dir, { recursive: true, force: true });
  liveDirs.clear();
}

/** Installs once: on exit, and on SIGINT/SIGTERM (then re-raised so the default exit behaviour stays). */
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on("exit", cleanupEverything);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      cleanupEverything();
      process.kill(process.pid, signal);
    });
  }
}

/** A fresh temp directory that is removed on stop() by its owner, or at process exit at the latest. */
export function makeTempDir(prefix: string): string {
  hookExit();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  liveDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  liveDirs.delete(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Leaves the directory on disk (for a post-mortem) but forgets it for the exit cleanup. */
export function keepTempDir(dir: string): void {
  liveDirs.delete(dir);
}

const WATCHDOG =
  '( while kill -0 "$MAAS_OWNER_PID" 2>/dev/null; do sleep 1; done; kill -KILL 0 ) </dev/null >/dev/null 2>&1 & exec "$0" "$@"';

export function startProcess(
  name: string,
  command: string,
  args: string[],
  logFile: string,
  opts: SpawnOptions = {},
): ManagedProcess {
  hookExit();
  const out = fs.openSync(logFile, "a");
  fs.writeSync(out, `# ${command} ${args.join(" ")}\n`);
  // `detached` makes the child the leader of a new process group. The wrapper then forks a watchdog into that group
  // and execs the real command (same pid, so exit codes and the group stay as they were): if this Node process dies
  // without running its exit hook (SIGKILL of a jest worker), the watchdog kills the whole group within a second.
  const child: ChildProcess = spawn("bash", ["-c", WATCHDOG, command, ...args], {
    detached: true,
    stdio: ["ignore", out, out],
    env: { ...(opts.env ?? process.env), MAAS_OWNER_PID: String(process.pid) },
    cwd: opts.cwd,
  });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`${name}: could not spawn ${command}`);
  const pid = child.pid;
  liveGroups.add(pid);
  // Do not keep the event loop alive for the child: a test that forgets stop() still lets Node exit, and the exit
  // hook then kills the group.
  child.unref();

  let exitInfo: string | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.on("exit", (code, signal) => {
      exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
      resolve();
    });
    child.on("error", (err) => {
      exitInfo = `spawn error: ${err.message}`;
      resolve();
    });
  });

  const tail = (lines = 30): string => readTail(logFile, lines);

  const stop = async (graceMs = 5000): Promise<void> => {
    if (exitInfo === undefined) {
      killGroupNow(pid, "SIGTERM");
      const timer = setTimeout(() => killGroupNow(pid, "SIGKILL"), graceMs);
      await exitedPromise;
      clearTimeout(timer);
    }
    // The leader is gone; make sure nothing it forked survives it.
    killGroupNow(pid, "SIGKILL");
    liveGroups.delete(pid);
  };

  return { name, pid, logFile, exited: () => exitInfo, stop, tail };
}

export function readTail(file: string, lines: number): string {
  try {
    const text = fs.readFileSync(file, "utf8");
    return text.split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** A port the kernel just handed out on 127.0.0.1; a tiny race with other binders is accepted (loopback only). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("no free port"))));
    });
  });
}

export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns a value other than undefined. Fails fast when one of `watch` has died, quoting
 * its log, because waiting out the timeout on a crashed server only hides the reason.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs?: number; watch?: ManagedProcess[] },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError = "";
  for (;;) {
    for (const proc of opts.watch ?? []) {
      const info = proc.exited();
      if (info !== undefined) {
        throw new Error(
          `${proc.name} exited (${info}) while waiting for ${what}; log ${proc.logFile}:\n${proc.tail()}`,
        );
      }
    }
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${opts.timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ""}`,
      );
    }
    await sleep(opts.intervalMs ?? 200);
  }
}
