/**
 * Request/reply over a worker thread running one of this project's TypeScript modules (ts-node, transpile only):
 * the harness runs the emulator and the dynamic-provider host in workers when measuring, as they are other
 * processes (or machines) in a real deployment. The module calls `serveInWorker(role, start)` at load; the main
 * thread calls `startWorker(file, role, data)`.
 */
import { isMainThread, parentPort, Worker, workerData } from "worker_threads";

export interface WorkerClient<Request, Reply> {
  /** What the worker announced once started (e.g. the emulator's URL). */
  hello: unknown;
  ask(request: Request): Promise<Reply>;
  terminate(): Promise<void>;
}

type Envelope = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: ThrownValue };

/** A thrown value as it crosses threads: Errors keep name, message and stack; anything else is cloned. */
export type ThrownValue = { error: { name: string; message: string; stack?: string } } | { value: unknown };

export function toThrownValue(err: unknown): ThrownValue {
  const e = err as { name?: unknown; message?: unknown; stack?: unknown } | null;
  if (e && typeof e === "object" && typeof e.message === "string") {
    return {
      error: {
        name: typeof e.name === "string" ? e.name : "Error",
        message: e.message,
        stack: typeof e.stack === "string" ? e.stack : undefined,
      },
    };
  }
  try {
    return { value: structuredClone(err) };
  } catch {
    return { value: String(err) };
  }
}

export function fromThrownValue(thrown: ThrownValue): unknown {
  if ("value" in thrown) return thrown.value;
  const error = new Error(thrown.error.message);
  error.name = thrown.error.name;
  if (thrown.error.stack) error.stack = thrown.error.stack;
  return error;
}

export async function startWorker<Request, Reply>(
  file: string,
  role: string,
  data: unknown,
): Promise<WorkerClient<Request, Reply>> {
  const bootstrap = `require("ts-node").register({ transpileOnly: true }); require(${JSON.stringify(file)});`;
  const worker = new Worker(bootstrap, { eval: true, workerData: { role, data } });
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: unknown) => void }>();
  let nextId = 0;
  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  const hello = await new Promise<unknown>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`${role} worker exited with code ${code} before starting`)));
  });
  worker.on("error", failAll);
  worker.on("exit", (code) => failAll(new Error(`${role} worker exited with code ${code}`)));
  worker.on("message", (reply: Envelope) => {
    const waiter = pending.get(reply.id);
    if (!waiter) return;
    pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply.value);
    else waiter.reject(fromThrownValue(reply.error));
  });
  return {
    hello,
    ask: (request) =>
      new Promise<Reply>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, request });
      }),
    terminate: async () => {
      await worker.terminate();
    },
  };
}

/** Worker side: when this thread was started for `role`, run `start` and answer every request with `handle`. */
export function serveInWorker<Request, Reply>(
  role: string,
  start: (data: any) => Promise<{ hello: unknown; handle(request: Request): Promise<Reply> }>,
): void {
  if (isMainThread || !parentPort || workerData?.role !== role) return;
  const port = parentPort;
  void start(workerData.data).then(({ hello, handle }) => {
    port.on("message", async ({ id, request }: { id: number; request: Request }) => {
      try {
        port.postMessage({ id, ok: true, value: await handle(request) } satisfies Envelope);
      } catch (err) {
        port.postMessage({ id, ok: false, error: toThrownValue(err) } satisfies Envelope);
      }
    });
    port.postMessage(hello);
  });
}
