/**
 * The 3scale emulator in a worker thread, for measurements: a real tenant is another machine, so the emulator's own
 * work (routing, JSON, state) must not take turns with the program and the providers on one event loop. Tests keep
 * the in-process emulator (`startEmulator`), whose state they inspect.
 */
import type { EmulatorOptions } from "./index";
import { serveInWorker, startWorker } from "./worker-rpc";

/** The worker-side emulator seen from the main thread: what the server counted, nothing more. */
export interface EmulatorInWorker {
  url: string;
  accessToken: string;
  /** Requests the emulator answered since the last reset, and how many of them were writes. */
  counts(): Promise<{ calls: number; writes: number }>;
  resetCalls(): Promise<void>;
  close(): Promise<void>;
}

type Request = "counts" | "reset" | "close";
const ROLE = "maas-emulator";

/** Options must be plain data (they are cloned into the worker): latency, seed, tenant, strictness... */
export async function startEmulatorInWorker(options: EmulatorOptions = {}): Promise<EmulatorInWorker> {
  const worker = await startWorker<Request, any>(__filename, ROLE, options);
  const { url, accessToken } = worker.hello as { url: string; accessToken: string };
  return {
    url,
    accessToken,
    counts: () => worker.ask("counts"),
    resetCalls: () => worker.ask("reset"),
    close: async () => {
      await worker.ask("close");
      await worker.terminate();
    },
  };
}

serveInWorker<Request, unknown>(ROLE, async (options: EmulatorOptions) => {
  // Loaded here: the main thread only needs the types.
  const { startEmulator } = require("./index") as typeof import("./index");
  const emulator = await startEmulator(options);
  return {
    hello: { url: emulator.url, accessToken: emulator.accessToken },
    handle: async (request) => {
      if (request === "counts") return { calls: emulator.calls.length, writes: emulator.writes().length };
      if (request === "reset") emulator.resetCalls();
      else await emulator.close();
      return undefined;
    },
  };
});
