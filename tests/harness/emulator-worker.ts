/**
 * The 3scale emulator in a worker thread, for measurements: a real tenant is another machine, so the emulator's own
 * work (routing, JSON, state) must not take turns with the program and the providers on one event loop. Tests keep
 * the in-process emulator (`startEmulator`), whose state they inspect.
 */
import { isMainThread, parentPort, Worker, workerData } from "worker_threads";
import { startEmulator, type EmulatorOptions } from "../emulator";

/** The worker-side emulator seen from the main thread: what the server counted, nothing more. */
export interface EmulatorInWorker {
  url: string;
  accessToken: string;
  /** Requests the emulator answered since the last reset, and how many of them were writes. */
  counts(): Promise<{ calls: number; writes: number }>;
  resetCalls(): Promise<void>;
  close(): Promise<void>;
}

type Request = { id: number; op: "counts" | "reset" | "close" };
type Reply = { id: number; result?: unknown; error?: string };

const ROLE = "maas-emulator-worker";

/** Options must be plain data (they are cloned into the worker): latency, seed, tenant, strictness... */
export async function startEmulatorInWorker(options: EmulatorOptions = {}): Promise<EmulatorInWorker> {
  // The worker has no TypeScript loader of its own: register ts-node (transpile only) before loading this file.
  const bootstrap = `require("ts-node").register({ transpileOnly: true }); require(${JSON.stringify(__filename)});`;
  const worker = new Worker(bootstrap, { eval: true, workerData: { role: ROLE, options } });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on("error", failAll);
  worker.on("exit", (code) => failAll(new Error(`emulator worker exited with code ${code}`)));
  const ready = new Promise<{ url: string; accessToken: string }>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  worker.on("message", (reply: Reply) => {
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    if (reply.error !== undefined) waiter.reject(new Error(reply.error));
    else waiter.resolve(reply.result);
  });
  const ask = <T>(op: Request["op"]) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, op } satisfies Request);
    });
  const { url, accessToken } = await ready;
  return {
    url,
    accessToken,
    counts: () => ask("counts"),
    resetCalls: () => ask("reset"),
    close: async () => {
      await ask("close");
      await worker.terminate();
    },
  };
}

/** Worker side: start the emulator, announce its URL and token, answer requests. */
async function serve(port: NonNullable<typeof parentPort>, options: EmulatorOptions): Promise<void> {
  const emulator = await startEmulator(options);
  port.postMessage({ url: emulator.url, accessToken: emulator.accessToken });
  port.on("message", async ({ id, op }: Request) => {
    try {
      let result: unknown;
      if (op === "counts") result = { calls: emulator.calls.length, writes: emulator.writes().length };
      else if (op === "reset") emulator.resetCalls();
      else if (op === "close") await emulator.close();
      port.postMessage({ id, result } satisfies Reply);
    } catch (err) {
      port.postMessage({ id, error: err instanceof Error ? err.message : String(err) } satisfies Reply);
    }
  });
}

if (!isMainThread && parentPort && workerData?.role === ROLE) {
  void serve(parentPort, workerData.options as EmulatorOptions);
}
