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
 */
import { AsyncLocalStorage } from "async_hooks";
import * as diagnostics from "diagnostics_channel";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import type { ClientOptions, Connection } from "../../dynamic-providers/threescale/client";
import { defaultHandler } from "./default-handlers";
import type { HarnessState, RecordedResource, ResourceHandler, ResourceHandlerArgs } from "./index";

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
  /** `performance.now()` when the first request started and when the last response arrived (calls > 0 only). */
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
}

type Provider = pulumi.dynamic.ResourceProvider & { clientOptions?: ClientOptions };

interface CallCounter {
  calls: number;
  writes: number;
  firstRequestAt?: number;
  lastResponseAt?: number;
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
    counter.firstRequestAt ??= performance.now();
    counterOfRequest.set(request, counter);
  });
  diagnostics.subscribe("http.client.response.finish", (message) => {
    const counter = counterOfRequest.get((message as { request: object }).request);
    if (counter) counter.lastResponseAt = performance.now();
  });
}

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
  countRequests();
  const mode = options.mode ?? "up";
  const manages = (r: { urn: string; type: string }) => isDynamic(r.type) && (options.manages?.(r) ?? true);
  const providers = new Map<string, Provider>();
  const operations: EngineOperation[] = [];
  const planned = new Map<string, OperationKind>();

  function load(text: unknown, urn: string): Provider {
    if (typeof text !== "string") throw new Error(`${urn}: no __provider text in the resource's properties`);
    let provider = providers.get(text);
    if (!provider) {
      const requireFromString = require("require-from-string");
      provider = requireFromString(text, path.join(PROJECT_ROOT, "__provider.js")).handler() as Provider;
      if (options.clientOptions) provider.clientOptions = { ...provider.clientOptions, ...options.clientOptions };
      providers.set(text, provider);
    }
    return provider;
  }

  /** What the provider sees: the engine-substituted connection, no `__provider`. */
  function providerInputs(inputs: Record<string, any>): Record<string, any> {
    const { __provider: _ignored, ...rest } = inputs;
    return options.connection ? { ...rest, connection: { ...options.connection } } : rest;
  }

  async function measured<T>(
    resource: { urn: string; type: string; name: string; dependencies: string[] },
    kind: OperationKind,
    fn: () => Promise<T>,
  ): Promise<T> {
    const counter: CallCounter = { calls: 0, writes: 0 };
    const startedAt = Date.now();
    try {
      return await counters.run(counter, fn);
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

  async function check(provider: Provider, urn: string, olds: any, news: any): Promise<Record<string, any>> {
    if (!provider.check) return news;
    const result = await provider.check(olds, news);
    if (result.failures && result.failures.length > 0) throw new CheckFailedError(urn, result.failures);
    return result.inputs ?? news;
  }

  const handler: ResourceHandler = async (a: ResourceHandlerArgs) => {
    if (!manages(a)) return (options.fallback ?? defaultHandler)(a);
    const provider = load(a.inputs.__provider, a.urn);
    const withProvider = (outs: Record<string, any> | undefined) => ({ ...outs, __provider: a.inputs.__provider });
    const news = providerInputs(a.inputs);
    const previous = a.previous;
    if (!previous) {
      const inputs = await check(provider, a.urn, {}, news);
      if (mode === "preview") {
        planned.set(a.urn, "create");
        return { id: "", state: a.inputs };
      }
      const created = await measured(a, "create", () => provider.create(inputs));
      return { id: created.id, state: withProvider(created.outs) };
    }
    const olds = providerInputs(previous.outputs);
    const inputs = await check(provider, a.urn, providerInputs(previous.inputs), news);
    const diff = provider.diff ? await provider.diff(previous.id, olds, inputs) : { changes: true, replaces: [] };
    const replaces = diff.replaces ?? [];
    const kind: OperationKind = diff.changes === false ? "same" : replaces.length > 0 ? "replace" : "update";
    if (mode === "preview") {
      planned.set(a.urn, kind);
      return { id: previous.id, state: previous.outputs };
    }
    if (kind === "same") return { id: previous.id, state: previous.outputs };
    if (kind === "update") {
      if (!provider.update) throw new Error(`${a.urn}: provider has no update but diff reported a change`);
      const updated = await measured(a, "update", () => provider.update!(previous.id, olds, inputs));
      return { id: previous.id, state: withProvider(updated.outs) };
    }
    return measured(a, "replace", async () => {
      if (diff.deleteBeforeReplace) await provider.delete?.(previous.id, olds);
      const created = await provider.create(inputs);
      if (!diff.deleteBeforeReplace) await provider.delete?.(previous.id, olds);
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
        const provider = load(r.inputs.__provider, r.urn);
        if (!provider.read) {
          resources[r.urn] = r;
          return;
        }
        const read = await measured(r, "read", () => provider.read!(r.id, providerInputs(r.outputs)));
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
          const provider = load(r.inputs.__provider, r.urn);
          await measured(r, "delete", async () => provider.delete?.(r.id, providerInputs(r.outputs)));
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
