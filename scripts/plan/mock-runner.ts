/**
 * Runs a Pulumi program under the SDK's mock monitor with a stack file as config, and records every registered (or
 * read) resource with its inputs, parent, dependencies and provider. Tests plug in handlers per resource type; the
 * offline plan (scripts/plan.ts) uses the same runner.
 *
 *   const result = await runProgram({ stack: "dev", config: { models: [...] } });
 *   const isvc = result.get("kubernetes:serving.kserve.io/v1beta1:InferenceService", "maas-model-x-isvc");
 *
 * Runs are sequential (the SDK's runtime state is global); each run resets it, so a test file may run many.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { clusterFixtureHandlers } from "./cluster-fixture";
import { defaultHandler } from "./default-handlers";
import { SECRET_SIG, SIG_KEY, toPlain } from "./plain";
import { withCheapSdkStacks } from "./sdk-stacks";
import { PROJECT_ROOT, stackConfig, stackFilePath } from "./stack-config";

export { fakeSecretValue, stackFilePath, PROJECT_ROOT } from "./stack-config";

export interface ResourceHandlerArgs {
  type: string;
  name: string;
  urn: string;
  custom: boolean;
  /** Set for reads (`.get`). */
  id?: string;
  /** Plain values, secret envelopes unwrapped. */
  inputs: Record<string, any>;
  /** Top-level input keys that were secret. */
  secretInputKeys: string[];
  provider?: string;
  parent?: string;
  dependencies: string[];
  /** The same URN in the prior state. */
  previous?: { id: string; inputs: Record<string, any>; outputs: Record<string, any> };
}
export type ResourceHandler = (a: ResourceHandlerArgs) => Promise<{ id: string; state: Record<string, any> }>;

export interface RecordedResource {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  id: string;
  inputs: Record<string, any>;
  secretInputKeys: string[];
  outputs: Record<string, any>;
  parent?: string;
  dependencies: string[];
  provider?: string;
  order: number;
  /** True for resources read from the cluster (`.get`) rather than managed. */
  read?: boolean;
  /** Output keys that are secret (secret inputs echoed back plus additionalSecretOutputs). */
  secretOutputKeys?: string[];
  /** Former identities (`aliases` option) as the SDK sends them: a URN, or a spec relative to this resource. */
  aliases?: AliasSpec[];
}
/** One alias: `urn`, or a spec whose empty fields mean "the same as now" (name, type, parent). */
export interface AliasSpec {
  urn?: string;
  name?: string;
  type?: string;
  parentUrn?: string;
  noParent?: boolean;
}

/** JSON-serializable. */
export interface HarnessState {
  resources: Record<string, RecordedResource>;
}

export interface RunOptions {
  /** Reads Pulumi.<stack>.yaml from the project root (or `stackFile`). */
  stack: string;
  /** Another stack file (e.g. a fixture); the stack name still names the stack. */
  stackFile?: string;
  /** Replaces whole top-level keys of the stack file (e.g. { models: [...] }); `undefined` removes a key. */
  config?: Record<string, unknown>;
  /** Values for secure: keys (default: deterministic fake values, marked secret). */
  secrets?: Record<string, string>;
  /** Key: exact type token, or a prefix ending with "*". */
  handlers?: Record<string, ResourceHandler>;
  /** Prior run (for `previous` and `removed`). */
  state?: HarnessState;
  preview?: boolean;
  /** The program to run; default: the function `index.ts` exports. Its return value becomes `outputs`. */
  program?: () => unknown;
}

export interface RunResult {
  resources: RecordedResource[];
  /** The program's return value with Outputs resolved. */
  outputs: Record<string, any>;
  /** Top-level output names whose value is secret. */
  secretOutputNames: string[];
  state: HarnessState;
  /** In prior state, not registered now; in a valid delete order (dependents first). */
  removed: RecordedResource[];
  byType(type: string): RecordedResource[];
  get(type: string, name: string): RecordedResource;
}

/** Thrown when the program fails; `errors` holds every failure (e.g. one per resource that failed to register). */
export class ProgramError extends Error {
  constructor(public readonly errors: Error[]) {
    super(errors.map((e) => e.message).join("\n"));
    this.name = "ProgramError";
  }
}

export const PROJECT_NAME = "maas";

const rpc = require("@pulumi/pulumi/runtime/rpc") as {
  serializeProperties(label: string, props: Record<string, unknown>): Promise<Record<string, unknown>>;
};
const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
const resproto = require("@pulumi/pulumi/proto/resource_pb");
const gstruct = require("google-protobuf/google/protobuf/struct_pb");

/**
 * The process that owns the event loop. Under jest, `process` is a per-test-file copy whose events never fire, while
 * `vm.runInThisContext` evaluates in Node's main context.
 */
const hostProcess = require("vm").runInThisContext("process") as NodeJS.Process;

/**
 * The SDK reports a resource that fails to register (e.g. its dynamic provider cannot be serialized) by rejecting
 * promises nobody awaits; Pulumi's language host catches them process-wide. Do the same for the duration of `body`,
 * standing in for other listeners (jest's would fail the test with the raw rejection instead of our report).
 */
async function collectingUnhandledRejections<T>(errors: Error[], body: () => Promise<T>): Promise<T> {
  const others = hostProcess.listeners("unhandledRejection");
  hostProcess.removeAllListeners("unhandledRejection");
  const collect = (e: unknown) => errors.push(e instanceof Error ? e : new Error(String(e)));
  hostProcess.on("unhandledRejection", collect);
  try {
    return await body();
  } finally {
    // Rejections are reported after the microtask queue drains.
    await new Promise((resolve) => setImmediate(resolve));
    hostProcess.off("unhandledRejection", collect);
    for (const listener of others) hostProcess.on("unhandledRejection", listener as (...args: unknown[]) => void);
  }
}

/**
 * Waits for the program's outstanding resource registrations. A registration whose inputs failed never completes
 * (its RPC stays open); Pulumi's language host ends the run at the first unhandled rejection, so once one has been
 * collected, stop waiting a quarter second later (what is registered by then is recorded).
 */
async function rpcsSettled(errors: Error[]): Promise<void> {
  let stop = false;
  const failedAndQuiet = (async () => {
    while (!stop && errors.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 250));
  })();
  try {
    await Promise.race([settings.waitForRPCs(), failedAndQuiet]);
  } finally {
    stop = true;
  }
}

/** Exact type first, then the longest matching `prefix*`. */
export function findHandler(handlers: Record<string, ResourceHandler>, type: string): ResourceHandler | undefined {
  if (handlers[type]) return handlers[type];
  const prefixes = Object.keys(handlers)
    .filter((k) => k.endsWith("*") && type.startsWith(k.slice(0, -1)))
    .sort((a, b) => b.length - a.length);
  return prefixes.length > 0 ? handlers[prefixes[0]] : undefined;
}

/** The project's entry point: like Pulumi, call the function it exports; what it returns are the stack outputs. */
function defaultProgram(): unknown {
  const main = require(path.join(PROJECT_ROOT, "index")) as () => unknown;
  return main();
}

const STACK_TYPE = "pulumi:pulumi:Stack";

/** URNs as the engine builds them: parent types chained with `$`, the root stack left out. */
export function urnFor(stack: string, parent: string | undefined, type: string, name: string): string {
  const parentType = parent?.split("::")[2];
  const qualified = parentType === undefined || parentType === STACK_TYPE ? type : `${parentType}$${type}`;
  return `urn:pulumi:${stack}::${PROJECT_NAME}::${qualified}::${name}`;
}

function aliasesOf(req: any): { aliases?: AliasSpec[] } {
  const aliases: AliasSpec[] = (req.getAliasesList() as any[]).map((a) => {
    const o = a.toObject();
    if (o.urn) return { urn: o.urn };
    const spec = o.spec ?? {};
    return {
      ...(spec.name ? { name: spec.name } : {}),
      ...(spec.type ? { type: spec.type } : {}),
      ...(spec.parenturn ? { parentUrn: spec.parenturn } : {}),
      ...(spec.noparent ? { noParent: true } : {}),
    };
  });
  return aliases.length > 0 ? { aliases } : {};
}

/** Provider references are `<provider urn>::<id>`. */
export const providerUrn = (ref: string) => ref.slice(0, ref.lastIndexOf("::"));

/** What a resource depends on: explicit and input dependencies, its parent and its provider. */
function dependsOn(r: RecordedResource): string[] {
  return [...r.dependencies, ...(r.parent ? [r.parent] : []), ...(r.provider ? [providerUrn(r.provider)] : [])];
}

/** Dependents before dependencies; among independent resources, the latest registered first. Throws on a cycle. */
export function deleteOrder(resources: RecordedResource[]): RecordedResource[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const dependencies = new Map(resources.map((r) => [r.urn, [...new Set(dependsOn(r))].filter((d) => byUrn.has(d))]));
  const dependents = new Map<string, number>(resources.map((r) => [r.urn, 0]));
  for (const deps of dependencies.values()) for (const d of deps) dependents.set(d, dependents.get(d)! + 1);
  const ready = new LatestFirst(resources.filter((r) => dependents.get(r.urn) === 0));
  const out: RecordedResource[] = [];
  for (let next = ready.pop(); next; next = ready.pop()) {
    out.push(next);
    for (const d of dependencies.get(next.urn)!) {
      const left = dependents.get(d)! - 1;
      dependents.set(d, left);
      if (left === 0) ready.push(byUrn.get(d)!);
    }
  }
  if (out.length !== resources.length) {
    const done = new Set(out.map((r) => r.urn));
    const stuck = resources.filter((r) => !done.has(r.urn)).map((r) => r.urn);
    throw new Error(`dependency cycle among: ${stuck.join(", ")}`);
  }
  return out;
}

/** A binary max-heap on registration order: the latest registered resource comes out first. */
class LatestFirst {
  private readonly heap: RecordedResource[] = [];

  constructor(items: RecordedResource[]) {
    for (const item of items) this.push(item);
  }

  push(item: RecordedResource): void {
    const heap = this.heap;
    heap.push(item);
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (heap[parent].order >= heap[i].order) break;
      [heap[parent], heap[i]] = [heap[i], heap[parent]];
      i = parent;
    }
  }

  pop(): RecordedResource | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return top;
    heap[0] = last;
    for (let i = 0; ;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let largest = i;
      if (left < heap.length && heap[left].order > heap[largest].order) largest = left;
      if (right < heap.length && heap[right].order > heap[largest].order) largest = right;
      if (largest === i) return top;
      [heap[largest], heap[i]] = [heap[i], heap[largest]];
      i = largest;
    }
  }
}

/** Wraps secret keys of a handler's state in the SDK's secret envelope, as the engine does for outputs. */
function markSecrets(state: Record<string, any>, secretKeys: string[]): Record<string, any> {
  const out = { ...state };
  for (const k of secretKeys) if (out[k] !== undefined) out[k] = { [SIG_KEY]: SECRET_SIG, value: out[k] };
  return out;
}

async function resolveOutputs(value: unknown): Promise<{ value: any; secret: boolean }> {
  if (pulumi.Output.isInstance(value)) {
    const secret = await pulumi.isSecret(value);
    const inner = await (value as any).promise();
    const resolved = await resolveOutputs(inner);
    return { value: resolved.value, secret: secret || resolved.secret };
  }
  if (pulumi.Resource.isInstance(value)) return { value: await (value.urn as any).promise(), secret: false };
  if (Array.isArray(value)) {
    const items = await Promise.all(value.map(resolveOutputs));
    return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
  }
  if (value && typeof value === "object") {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await resolveOutputs(v)] as const),
    );
    return {
      value: Object.fromEntries(entries.map(([k, v]) => [k, v.value])),
      secret: entries.some(([, v]) => v.secret),
    };
  }
  return { value, secret: false };
}

/** Runs the program once; rejects with ProgramError listing every failure (e.g. dynamic-provider serialization). */
export async function runProgram(opts: RunOptions): Promise<RunResult> {
  const { values, secretKeys } = stackConfig(opts.stack, opts.stackFile ?? stackFilePath(opts.stack), opts);
  pulumi.runtime.setAllConfig(values, secretKeys);
  await pulumi.runtime.setMocks(
    { newResource: () => Promise.reject(new Error("replaced by the harness")), call: (a) => a.inputs },
    PROJECT_NAME,
    opts.stack,
    opts.preview ?? false,
  );
  const monitor = pulumi.runtime.getMonitor() as any;
  const prior = opts.state?.resources ?? {};
  const recorded = new Map<string, RecordedResource>();
  const failures: Error[] = [];
  let order = 0;

  const handle = async (req: any, read: boolean) => {
    const type: string = req.getType();
    const name: string = req.getName();
    const parent: string | undefined = req.getParent() || undefined;
    const urn = urnFor(opts.stack, parent, type, name);
    const { inputs, secretKeys: secretInputKeys } = toPlain(
      (read ? req.getProperties() : req.getObject()).toJavaScript(),
    );
    const previous = prior[urn];
    const args: ResourceHandlerArgs = {
      type,
      name,
      urn,
      custom: read ? true : req.getCustom(),
      id: (read ? req.getId() : req.getImportid()) || undefined,
      inputs,
      secretInputKeys,
      provider: req.getProvider() || undefined,
      parent,
      dependencies: read ? [] : req.getDependenciesList(),
      previous: previous && { id: previous.id, inputs: previous.inputs, outputs: previous.outputs },
    };
    // Test handlers win over the cluster fixture, whose handlers win over the default.
    const handler =
      findHandler(opts.handlers ?? {}, type) ?? findHandler(clusterFixtureHandlers, type) ?? defaultHandler;
    const { id, state } = await handler(args).catch((e: unknown) => {
      // Answer with an empty resource so the program runs to the end; the run fails with this error afterwards.
      failures.push(new Error(`${type} "${name}": ${e instanceof Error ? e.message : String(e)}`));
      return { id: "", state: {} as Record<string, any> };
    });
    const secretOutputKeys = [
      ...new Set([...secretInputKeys, ...(read ? [] : (req.getAdditionalsecretoutputsList() as string[]))]),
    ];
    recorded.set(urn, {
      urn,
      type,
      name,
      custom: args.custom,
      id,
      inputs,
      secretInputKeys,
      outputs: toPlain(state).inputs,
      parent,
      dependencies: args.dependencies,
      provider: args.provider,
      order: order++,
      ...(read ? { read: true } : {}),
      secretOutputKeys,
      ...(read ? {} : aliasesOf(req)),
    });
    const serialized = await rpc.serializeProperties(`harness:${urn}`, markSecrets(state, secretOutputKeys));
    monitor.resources.set(urn, { urn, id, state: serialized });
    return { urn, id, object: gstruct.Struct.fromJavaScript(serialized) };
  };

  monitor.registerResource = (req: any, callback: (err: unknown, resp?: unknown) => void) => {
    handle(req, false).then(
      ({ urn, id, object }) => {
        const resp = new resproto.RegisterResourceResponse();
        resp.setUrn(urn);
        resp.setId(id);
        resp.setObject(object);
        callback(null, resp);
      },
      (err) => callback(err),
    );
  };
  monitor.readResource = (req: any, callback: (err: unknown, resp?: unknown) => void) => {
    handle(req, true).then(
      ({ urn, object }) => {
        const resp = new resproto.ReadResourceResponse();
        resp.setUrn(urn);
        resp.setProperties(object);
        callback(null, resp);
      },
      (err) => callback(err),
    );
  };

  const errors: Error[] = [];
  let returned: unknown;
  let programError: unknown;
  await collectingUnhandledRejections(errors, () =>
    withCheapSdkStacks(async () => {
      await pulumi.runtime.runInPulumiStack(async () => {
        try {
          returned = await (opts.program ?? defaultProgram)();
        } catch (e) {
          programError = e;
        }
        return {};
      });
      await rpcsSettled(errors);
    }),
  );
  // The program's own error (e.g. ConfigValidationError) is the most useful one: rethrow it unchanged.
  if (programError !== undefined) throw programError;
  const allErrors = dedupe([...failures, ...errors]);
  if (allErrors.length > 0) throw new ProgramError(allErrors);

  const outputs: Record<string, any> = {};
  const secretOutputNames: string[] = [];
  if (returned && typeof returned === "object") {
    for (const [k, v] of Object.entries(returned)) {
      const r = await resolveOutputs(v);
      outputs[k] = r.value;
      if (r.secret) secretOutputNames.push(k);
    }
  }

  const resources = [...recorded.values()];
  const removed = deleteOrder(Object.values(prior).filter((r) => !recorded.has(r.urn)));
  return {
    resources,
    outputs,
    secretOutputNames,
    state: { resources: Object.fromEntries(resources.map((r) => [r.urn, r])) },
    removed,
    ...typeIndex(resources),
  };
}

/** `byType` and `get` from one pass over the resources (tests call them many times on large stacks). */
function typeIndex(resources: RecordedResource[]): Pick<RunResult, "byType" | "get"> {
  const ofType = new Map<string, RecordedResource[]>();
  for (const r of resources) {
    const list = ofType.get(r.type);
    if (list) list.push(r);
    else ofType.set(r.type, [r]);
  }
  const byTypeAndName = new Map<string, RecordedResource>();
  // The first registration wins, as a linear search would find it.
  for (const r of [...resources].reverse()) byTypeAndName.set(`${r.type}::${r.name}`, r);
  return {
    byType: (type) => [...(ofType.get(type) ?? [])],
    get: (type, name) => {
      const found = byTypeAndName.get(`${type}::${name}`);
      if (!found) {
        const names = (ofType.get(type) ?? []).map((r) => r.name);
        throw new Error(
          `no ${type} named "${name}"; registered: ${names.length ? names.join(", ") : "none of this type"}`,
        );
      }
      return found;
    },
  };
}

function dedupe(errors: Error[]): Error[] {
  const seen = new Set<string>();
  return errors.filter((e) => !seen.has(e.message) && (seen.add(e.message), true));
}
