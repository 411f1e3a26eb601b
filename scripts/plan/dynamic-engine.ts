/**
 * What the Pulumi engine and its dynamic-provider host do with `pulumi-nodejs:dynamic/*` resources, as a harness
 * ResourceHandler: load the provider from `inputs.__provider` exactly like the host (`require-from-string`, cached by
 * text), then check + create when the resource is new, check + diff against the previous outputs otherwise and
 * update, replace (delete first when asked) or leave it untouched (zero calls). `refresh` reads every resource of a
 * prior state, `destroy` deletes resources dependents-first with independent branches in parallel, as the engine does.
 *
 * Connection: the program's ThreescalePlatform outputs are fakes under mocks, so the engine substitutes the given
 * `connection` (the emulator's URL and token) for every resource's `connection` before calling the provider. The
 * recorded state keeps what the provider returned; the harness keeps secret input keys secret.
 *
 * Every provider call runs in an AsyncLocalStorage context so the HTTP requests it makes are counted per operation
 * (node's `http.client.request.start` diagnostics channel): `criticalPath()` is the longest chain of dependent calls.
 *
 * Providers run in this thread by default. With `host: "worker"` they run in a worker thread instead, as Pulumi runs
 * them in a provider host process of its own: their calls then do not queue behind program evaluation on one event
 * loop, which is what a measurement of the providers needs.
 */
import { AsyncLocalStorage } from "async_hooks";
import * as diagnostics from "diagnostics_channel";
import * as path from "path";
import { performance } from "perf_hooks";
import type * as pulumi from "@pulumi/pulumi";
import type { ClientOptions, Connection } from "../../dynamic-providers/threescale/client";
import { defaultHandler } from "./default-handlers";
import type { HarnessState, RecordedResource, ResourceHandler, ResourceHandlerArgs } from "./mock-runner";
import {
  fromThrownValue,
  serveInWorker,
  startWorker,
  ThrownValue,
  toThrownValue,
} from "../../tools/threescale-emulator/worker-rpc";

export const DYNAMIC_TYPE_PREFIX = "pulumi-nodejs:dynamic/";
const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

export type OperationKind = "create" | "update" | "replace" | "same" | "read" | "delete";

export interface EngineOperation {
  urn: string;
  type: string;
  name: string;
  kind: OperationKind;
  /** HTTP requests the provider made during this operation (retries included). */
  calls: number;
  /** Of which not GET/HEAD. */
  writes: number;
  /** When the first request started and the last response arrived, in epoch ms (sub-ms precision; calls > 0 only). */
  firstRequestAt?: number;
  lastResponseAt?: number;
  /** URNs this resource depends on (inputs and dependsOn). */
  dependencies: string[];
  startedAt: number;
  endedAt: number;
}

export interface DynamicEngineOptions {
  /** `preview` runs check and diff only and reports what `up` would do. */
  mode?: "up" | "preview";
  /** Replaces every resource's `connection` before the provider sees it (e.g. the emulator's URL and token). */
  connection?: Connection;
  /** Admin client options set on every loaded provider (tests: fast retries; bench: concurrency). */
  clientOptions?: ClientOptions;
  /**
   * Which dynamic resources this engine runs (default: all). Others get the harness's default handler and are left
   * out of refresh and destroy, e.g. to exercise one layer against the emulator.
   */
  manages?: (resource: { urn: string; type: string }) => boolean;
  /** Handler for the dynamic resources it does not manage (default: the harness's default handler). */
  fallback?: ResourceHandler;
  /** Where providers run: this thread (default) or a worker thread standing in for Pulumi's provider host. */
  host?: "in-process" | "worker";
}

export interface RefreshResult {
  state: HarnessState;
  /** URNs whose outputs changed on read (drift). */
  drifted: string[];
  /** URNs the read found gone (dropped from state). */
  gone: string[];
}

export interface DynamicEngine {
  /** Handler for every dynamic resource; pass as `handlers: engine.handlers`. */
  handler: ResourceHandler;
  handlers: Record<string, ResourceHandler>;
  operations: EngineOperation[];
  /** Operations planned in preview mode, by URN. */
  planned: Map<string, OperationKind>;
  resetOperations(): void;
  /** `pulumi refresh`: read every dynamic resource of a prior state. */
  refresh(state: HarnessState): Promise<RefreshResult>;
  /** `pulumi destroy` (or the deletions of an update): delete dependents first, independent branches in parallel. */
  destroy(resources: RecordedResource[]): Promise<void>;
  /** Longest chain of dependent HTTP calls among the recorded operations (reads are unordered: refresh). */
  criticalPath(): number;
  /** From the first request to the last response among the recorded operations, in ms; 0 without calls. */
  apiMilliseconds(): number;
  /** Resolves once the provider host runs (a worker starts in about a second; measurements should wait for it). */
  ready(): Promise<void>;
  /** Stops the worker provider host, if any. */
  close(): Promise<void>;
}

type Provider = pulumi.dynamic.ResourceProvider & { clientOptions?: ClientOptions };
type Method = "check" | "diff" | "create" | "update" | "read" | "delete";

interface CallCounter {
  calls: number;
  writes: number;
  firstRequestAt?: number;
  lastResponseAt?: number;
}

const newCounter = (): CallCounter => ({ calls: 0, writes: 0 });
const epochNow = () => performance.timeOrigin + performance.now();

function addCalls(into: CallCounter, from: CallCounter): void {
  into.calls += from.calls;
  into.writes += from.writes;
  if (from.firstRequestAt !== undefined)
    into.firstRequestAt = Math.min(into.firstRequestAt ?? Infinity, from.firstRequestAt);
  if (from.lastResponseAt !== undefined)
    into.lastResponseAt = Math.max(into.lastResponseAt ?? -Infinity, from.lastResponseAt);
}

const counters = new AsyncLocalStorage<CallCounter>();
/** Responses may arrive in another async context (a reused socket's), so requests remember their counter. */
const counterOfRequest = new WeakMap<object, CallCounter>();
let channelSubscribed = false;

function countRequests(): void {
  if (channelSubscribed) return;
  channelSubscribed = true;
  diagnostics.subscribe("http.client.request.start", (message) => {
    const counter = counters.getStore();
    if (!counter) return;
    const request = (message as { request: { method?: string } }).request;
    counter.calls++;
    if (request.method !== "GET" && request.method !== "HEAD") counter.writes++;
    counter.firstRequestAt ??= epochNow();
    counterOfRequest.set(request, counter);
  });
  diagnostics.subscribe("http.client.response.finish", (message) => {
    const counter = counterOfRequest.get((message as { request: object }).request);
    if (counter) counter.lastResponseAt = epochNow();
  });
}

/** Loads providers like the host (`require-from-string`, one instance per distinct text) and calls their methods. */
class ProviderRunner {
  private readonly providers = new Map<string, Provider>();

  constructor(private readonly clientOptions?: ClientOptions) {
    countRequests();
  }

  /** `present` is false when the provider does not implement `method`; the calls it made land in `counter`. */
  async invoke(
    text: string,
    method: Method,
    args: unknown[],
    counter: CallCounter,
  ): Promise<{ present: boolean; value?: any }> {
    const provider = this.load(text);
    const fn = provider[method] as ((...a: unknown[]) => Promise<unknown>) | undefined;
    if (typeof fn !== "function") return { present: false };
    return { present: true, value: await counters.run(counter, () => fn.apply(provider, args)) };
  }

  private load(text: string): Provider {
    let provider = this.providers.get(text);
    if (!provider) {
      const requireFromString = require("require-from-string");
      provider = requireFromString(text, path.join(PROJECT_ROOT, "__provider.js")).handler() as Provider;
      if (this.clientOptions) provider.clientOptions = { ...provider.clientOptions, ...this.clientOptions };
      this.providers.set(text, provider);
    }
    return provider;
  }
}

interface ProviderHost {
  invoke(
    text: string,
    method: Method,
    args: unknown[],
    counter: CallCounter,
  ): Promise<{ present: boolean; value?: any }>;
  ready(): Promise<void>;
  close(): Promise<void>;
}

const PROVIDER_HOST_ROLE = "maas-provider-host";
interface HostRequest {
  /** Texts are sent once; later requests name them by number. */
  providerId: number;
  text?: string;
  method: Method;
  args: unknown[];
}
type HostReply = { counter: CallCounter } & ({ present: boolean; value?: unknown } | { thrown: ThrownValue });

function inProcessHost(clientOptions?: ClientOptions): ProviderHost {
  const runner = new ProviderRunner(clientOptions);
  return { invoke: (...a) => runner.invoke(...a), ready: async () => {}, close: async () => {} };
}

function workerHost(clientOptions?: ClientOptions): ProviderHost {
  const started = startWorker<HostRequest, HostReply>(__filename, PROVIDER_HOST_ROLE, clientOptions ?? null);
  started.catch(() => {}); // reported by the first invoke; unused engines must not fail the process
  const textIds = new Map<string, number>();
  return {
    async invoke(text, method, args, counter) {
      const worker = await started;
      let providerId = textIds.get(text);
      const firstUse = providerId === undefined;
      if (providerId === undefined) textIds.set(text, (providerId = textIds.size));
      const reply = await worker.ask({ providerId, text: firstUse ? text : undefined, method, args });
      addCalls(counter, reply.counter);
      if ("thrown" in reply) throw fromThrownValue(reply.thrown);
      return reply;
    },
    ready: async () => {
      await started;
    },
    close: async () => {
      const worker = await started.catch(() => undefined);
      await worker?.terminate();
    },
  };
}

serveInWorker<HostRequest, HostReply>(PROVIDER_HOST_ROLE, async (clientOptions: ClientOptions | null) => {
  const runner = new ProviderRunner(clientOptions ?? undefined);
  const texts = new Map<number, string>();
  return {
    hello: "ready",
    async handle({ providerId, text, method, args }) {
      if (text !== undefined) texts.set(providerId, text);
      const counter = newCounter();
      try {
        return { counter, ...(await runner.invoke(texts.get(providerId)!, method, args, counter)) };
      } catch (err) {
        return { counter, thrown: toThrownValue(err) };
      }
    },
  };
});

/** The 3scale configuration layer (products, verification account, the tenant's portal settings). */
export const inThreescaleLayer = (r: { urn: string }) =>
  r.urn.includes("$maas:products:") || /dynamic\/threescale:(DeveloperPortalAccess|TenantDefaults)::/.test(r.urn);

export function isDynamic(type: string): boolean {
  return type.startsWith(DYNAMIC_TYPE_PREFIX);
}

export class CheckFailedError extends Error {
  constructor(
    readonly urn: string,
    readonly failures: Array<{ property: string; reason: string }>,
  ) {
    super(`check failed for ${urn}: ${failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`);
    this.name = "CheckFailedError";
  }
}

export function createDynamicEngine(options: DynamicEngineOptions = {}): DynamicEngine {
  const mode = options.mode ?? "up";
  const manages = (r: { urn: string; type: string }) => isDynamic(r.type) && (options.manages?.(r) ?? true);
  const host = options.host === "worker" ? workerHost(options.clientOptions) : inProcessHost(options.clientOptions);
  const operations: EngineOperation[] = [];
  const planned = new Map<string, OperationKind>();

  /** The resource's provider: `call(method, ...args)` resolves undefined when the method is not implemented. */
  function providerOf(resource: { urn: string; inputs: Record<string, any> }) {
    const text = resource.inputs.__provider;
    if (typeof text !== "string") throw new Error(`${resource.urn}: no __provider text in the resource's properties`);
    return {
      implements: async (method: Method, counter: CallCounter, ...args: unknown[]) =>
        host.invoke(text, method, args, counter),
      call: async (method: Method, counter: CallCounter, ...args: unknown[]) =>
        (await host.invoke(text, method, args, counter)).value,
    };
  }

  /** What the provider sees: the engine-substituted connection, no `__provider`. */
  function providerInputs(inputs: Record<string, any>): Record<string, any> {
    const { __provider: _ignored, ...rest } = inputs;
    return options.connection ? { ...rest, connection: { ...options.connection } } : rest;
  }

  async function measured<T>(
    resource: { urn: string; type: string; name: string; dependencies: string[] },
    kind: OperationKind,
    fn: (counter: CallCounter) => Promise<T>,
  ): Promise<T> {
    const counter = newCounter();
    const startedAt = Date.now();
    try {
      return await fn(counter);
    } catch (err) {
      throw describeError(resource.urn, kind, err);
    } finally {
      operations.push({
        urn: resource.urn,
        type: resource.type,
        name: resource.name,
        kind,
        ...counter,
        dependencies: resource.dependencies,
        startedAt,
        endedAt: Date.now(),
      });
    }
  }

  /** Calls made while planning (check, diff) are not part of any operation, as in the engine's own accounting. */
  const planning = () => newCounter();

  async function check(provider: ReturnType<typeof providerOf>, urn: string, olds: any, news: any) {
    const result = await provider.implements("check", planning(), olds, news);
    if (!result.present) return news as Record<string, any>;
    const checked = result.value as pulumi.dynamic.CheckResult;
    if (checked.failures && checked.failures.length > 0) throw new CheckFailedError(urn, checked.failures);
    return (checked.inputs ?? news) as Record<string, any>;
  }

  const handler: ResourceHandler = async (a: ResourceHandlerArgs) => {
    if (!manages(a)) return (options.fallback ?? defaultHandler)(a);
    const provider = providerOf(a);
    const withProvider = (outs: Record<string, any> | undefined) => ({ ...outs, __provider: a.inputs.__provider });
    const news = providerInputs(a.inputs);
    const previous = a.previous;
    if (!previous) {
      const inputs = await check(provider, a.urn, {}, news);
      if (mode === "preview") {
        planned.set(a.urn, "create");
        return { id: "", state: a.inputs };
      }
      const created: pulumi.dynamic.CreateResult = await measured(a, "create", (c) =>
        provider.call("create", c, inputs),
      );
      return { id: created.id, state: withProvider(created.outs) };
    }
    const olds = providerInputs(previous.outputs);
    const inputs = await check(provider, a.urn, providerInputs(previous.inputs), news);
    const diffed = await provider.implements("diff", planning(), previous.id, olds, inputs);
    const diff: pulumi.dynamic.DiffResult = diffed.present ? diffed.value : { changes: true, replaces: [] };
    const replaces = diff.replaces ?? [];
    const kind: OperationKind = diff.changes === false ? "same" : replaces.length > 0 ? "replace" : "update";
    if (mode === "preview") {
      planned.set(a.urn, kind);
      return { id: previous.id, state: previous.outputs };
    }
    if (kind === "same") return { id: previous.id, state: previous.outputs };
    if (kind === "update") {
      const updated = await measured(a, "update", async (c) => {
        const result = await provider.implements("update", c, previous.id, olds, inputs);
        if (!result.present) throw new Error(`${a.urn}: provider has no update but diff reported a change`);
        return result.value as pulumi.dynamic.UpdateResult;
      });
      return { id: previous.id, state: withProvider(updated.outs) };
    }
    return measured(a, "replace", async (c) => {
      if (diff.deleteBeforeReplace) await provider.call("delete", c, previous.id, olds);
      const created: pulumi.dynamic.CreateResult = await provider.call("create", c, inputs);
      if (!diff.deleteBeforeReplace) await provider.call("delete", c, previous.id, olds);
      return { id: created.id, state: withProvider(created.outs) };
    });
  };

  async function refresh(state: HarnessState): Promise<RefreshResult> {
    const resources: HarnessState["resources"] = {};
    const drifted: string[] = [];
    const gone: string[] = [];
    await Promise.all(
      Object.values(state.resources).map(async (r) => {
        if (!manages(r)) {
          resources[r.urn] = r;
          return;
        }
        const provider = providerOf(r);
        const result = await measured(r, "read", (c) =>
          provider.implements("read", c, r.id, providerInputs(r.outputs)),
        );
        if (!result.present) {
          resources[r.urn] = r;
          return;
        }
        const read = result.value as pulumi.dynamic.ReadResult;
        if (!read.id) {
          gone.push(r.urn);
          return;
        }
        const outputs = { ...read.props, __provider: r.inputs.__provider };
        if (JSON.stringify(sorted(providerInputs(outputs))) !== JSON.stringify(sorted(providerInputs(r.outputs)))) {
          drifted.push(r.urn);
        }
        resources[r.urn] = { ...r, id: read.id, outputs };
      }),
    );
    return { state: { resources }, drifted: drifted.sort(), gone: gone.sort() };
  }

  async function destroy(resources: RecordedResource[]): Promise<void> {
    const dynamic = resources.filter(manages);
    const byUrn = new Map(dynamic.map((r) => [r.urn, r]));
    const dependents = new Map<string, RecordedResource[]>();
    for (const r of dynamic) {
      for (const dep of new Set(r.dependencies)) {
        if (!byUrn.has(dep)) continue;
        const list = dependents.get(dep);
        if (list) list.push(r);
        else dependents.set(dep, [r]);
      }
    }
    const deletions = new Map<string, Promise<void>>();
    const remove = (r: RecordedResource): Promise<void> => {
      let pending = deletions.get(r.urn);
      if (!pending) {
        pending = (async () => {
          await Promise.all((dependents.get(r.urn) ?? []).map(remove));
          const provider = providerOf(r);
          await measured(r, "delete", (c) => provider.call("delete", c, r.id, providerInputs(r.outputs)));
        })();
        deletions.set(r.urn, pending);
      }
      return pending;
    };
    const results = await Promise.allSettled(dynamic.map(remove));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  function criticalPath(): number {
    const callsByUrn = new Map<string, number>();
    const depsByUrn = new Map<string, string[]>();
    for (const op of operations) {
      callsByUrn.set(op.urn, (callsByUrn.get(op.urn) ?? 0) + op.calls);
      // `pulumi refresh` reads every resource at once: a read waits for nothing.
      if (op.kind !== "read") depsByUrn.set(op.urn, op.dependencies);
    }
    const memo = new Map<string, number>();
    const longest = (urn: string): number => {
      const known = memo.get(urn);
      if (known !== undefined) return known;
      memo.set(urn, 0); // cycle guard
      const upstream = (depsByUrn.get(urn) ?? []).filter((d) => callsByUrn.has(d)).map(longest);
      const value = (callsByUrn.get(urn) ?? 0) + Math.max(0, ...upstream);
      memo.set(urn, value);
      return value;
    };
    let max = 0;
    for (const urn of callsByUrn.keys()) max = Math.max(max, longest(urn));
    return max;
  }

  function apiMilliseconds(): number {
    let first = Infinity;
    let last = -Infinity;
    for (const op of operations) {
      if (op.firstRequestAt !== undefined) first = Math.min(first, op.firstRequestAt);
      if (op.lastResponseAt !== undefined) last = Math.max(last, op.lastResponseAt);
    }
    return last > first ? last - first : 0;
  }

  return {
    handler,
    handlers: { [`${DYNAMIC_TYPE_PREFIX}*`]: handler },
    operations,
    planned,
    resetOperations: () => {
      operations.length = 0;
      planned.clear();
    },
    refresh,
    destroy,
    criticalPath,
    apiMilliseconds,
    ready: () => host.ready(),
    close: () => host.close(),
  };
}

/**
 * Providers may throw non-Error values (e.g. the host's partial-failure object `{id, properties, reasons}`):
 * turn them into Errors that name the resource and keep what the provider said.
 */
function describeError(urn: string, kind: OperationKind, err: unknown): Error {
  if (err instanceof Error) return err;
  // Errors from the provider module may come from another realm (jest's sandbox): instanceof fails, keep message.
  const { reasons, message, stack } = (err ?? {}) as { reasons?: unknown; message?: unknown; stack?: unknown };
  const detail = Array.isArray(reasons)
    ? reasons.join("; ")
    : typeof message === "string"
      ? `${message}${typeof stack === "string" ? `\n${stack}` : ""}`
      : JSON.stringify(err);
  return new Error(`${kind} of ${urn} failed: ${detail}`);
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value as object)
        .sort()
        .filter((k) => (value as any)[k] !== undefined && k !== "connection")
        .map((k) => [k, sorted((value as any)[k])]),
    );
  }
  return value;
}
