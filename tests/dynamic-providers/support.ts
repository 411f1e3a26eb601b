/**
 * Shared support for the 3scale dynamic-provider suites, one helper per test layer:
 *   1. direct calls: `useEmulator()` / `withEmulator()` and `FAST_CLIENT` (short timeouts and backoff);
 *   2. serialized round trip: `serialize(provider)` does exactly what the provider host does with `__provider`;
 *   3. real host over gRPC: `startHost()` spawns @pulumi/pulumi's dynamic-provider host and returns a `HostClient`.
 * Plus fixtures made through the admin API (`makeProduct`, `buildWorld`, ...) and `expectNoToken()` for the
 * "no credential anywhere" assertions.
 */
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { BackendProvider } from "../../dynamic-providers/backend";
import { BackendUsageProvider } from "../../dynamic-providers/backend-usage";
import { MetricProvider } from "../../dynamic-providers/metric";
import { ProductProvider } from "../../dynamic-providers/product";
import { AdminClient, type ClientOptions, type Connection } from "../../dynamic-providers/threescale/client";
import { startEmulator } from "../../tools/threescale-emulator";

export type Emulator = Awaited<ReturnType<typeof startEmulator>>;
export type EmulatorOptions = NonNullable<Parameters<typeof startEmulator>[0]>;

/** Project root: the host resolves `require()`s of the serialized providers from here, as `pulumi up` does. */
export const PROJECT_ROOT = path.resolve(__dirname, "../..");

/** Client options for tests: fail fast, retry quickly (the emulator's faults are immediate). */
export const FAST_CLIENT: ClientOptions = { timeoutMs: 5_000, maxAttempts: 12, baseDelayMs: 2, maxDelayMs: 20 };

/** The connection input for an emulator, as the components pass it (token included). */
export function connectionFor(emulator: Emulator): Connection {
  return { adminUrl: emulator.url, accessToken: emulator.accessToken };
}

/** Runs `fn` against a fresh emulator that is always closed afterwards. */
export async function withEmulator<T>(
  fn: (emulator: Emulator, connection: Connection) => Promise<T>,
  opts: EmulatorOptions = {},
): Promise<T> {
  const emulator = await startEmulator(opts);
  try {
    return await fn(emulator, connectionFor(emulator));
  } finally {
    await emulator.close();
  }
}

/**
 * One emulator per test file (jest beforeAll/afterAll). Read `.emulator`/`.connection` inside tests only.
 * Faults and latency are reset before each test so one test's chaos never leaks into the next.
 */
export function useEmulator(opts: EmulatorOptions = {}): {
  readonly emulator: Emulator;
  readonly connection: Connection;
} {
  let current: Emulator | undefined;
  beforeAll(async () => {
    current = await startEmulator(opts);
  });
  beforeEach(() => {
    current?.setFaults(null);
    current?.failAfter(null);
    current?.setLatency(0);
    current?.resetCalls();
  });
  afterAll(async () => {
    await current?.close();
  });
  return {
    get emulator(): Emulator {
      if (!current) throw new Error("the emulator is only available inside tests");
      return current;
    },
    get connection(): Connection {
      return connectionFor(this.emulator);
    },
  };
}

/** Fails when `text` holds the token, raw or as the HTTP Basic credential the client sends. */
export function expectNoToken(text: string, token: string): void {
  expect(token.length).toBeGreaterThan(0);
  const basic = Buffer.from(":" + token).toString("base64");
  const leaks = [token, basic].filter((needle) => text.includes(needle));
  expect(leaks).toEqual([]);
}

/** The message of whatever `promise` rejects with (fails the test when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures made through the admin API or the providers

export function adminClient(connection: Connection): AdminClient {
  return new AdminClient(connection, FAST_CLIENT);
}

/** A product made directly through the API, with its hits metric. */
export async function makeProduct(connection: Connection, systemName: string): Promise<{ id: number; hitsId: number }> {
  const client = adminClient(connection);
  const product = (await client.post("/admin/api/services.json", { name: systemName, system_name: systemName }))
    .service;
  const metrics = await client.list(`/admin/api/services/${product.id}/metrics.json`, "metrics", "metric");
  return { id: product.id, hitsId: metrics.find((m) => m.system_name === "hits").id };
}

export async function makeMetric(connection: Connection, productId: number, systemName: string): Promise<number> {
  const body = { system_name: systemName, friendly_name: systemName, unit: "token" };
  return (await adminClient(connection).post(`/admin/api/services/${productId}/metrics.json`, body)).metric.id;
}

/** DeveloperAccount inputs (without connection) for a developer named after `unique`. */
export const developerAccount = (unique: string) => ({
  orgName: `Acme ${unique}`,
  username: `dev_${unique}`,
  email: `dev_${unique}@acme.example.test`,
  password: "s3cret-Passw0rd",
});

/** Objects the catalog resources hang off: a product with its hits metric, a method and a backend, and a spare backend. */
export interface World {
  productId: number;
  hitsMetricId: number;
  backendId: number;
  spareBackendId: number;
  methodId: number;
}

export async function buildWorld(connection: Connection): Promise<World> {
  const product = await new ProductProvider(FAST_CLIENT).create({ connection, systemName: "world", name: "World" });
  const backends = new BackendProvider(FAST_CLIENT);
  const backend = await backends.create({
    connection,
    systemName: "world_be",
    name: "W",
    privateEndpoint: "https://w.svc",
  });
  const spare = await backends.create({
    connection,
    systemName: "spare_be",
    name: "S",
    privateEndpoint: "http://s.svc",
  });
  const { productId, hitsMetricId } = product.outs;
  const { backendId } = backend.outs;
  await new BackendUsageProvider(FAST_CLIENT).create({ connection, productId, backendId, path: "/" });
  const method = await new MetricProvider("method", FAST_CLIENT).create({
    connection,
    productId,
    systemName: "world_chat",
    friendlyName: "World chat",
  });
  return { productId, hitsMetricId, backendId, spareBackendId: spare.outs.backendId, methodId: method.outs.metricId };
}

// ---------------------------------------------------------------------------------------------------------------
// Layer 2: serialized round trip

export interface SerializedProvider<P> {
  /** The module text Pulumi stores in `__provider`. */
  text: string;
  /** The provider as the host re-creates it from `text`. */
  provider: P;
}

/** Serializes `provider` exactly like `pulumi.dynamic.Resource` does and loads it back like the host does. */
export async function serialize<P>(provider: P): Promise<SerializedProvider<P>> {
  const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  const requireFromString = require("require-from-string");
  const loaded = requireFromString(sf.text, path.join(PROJECT_ROOT, "__provider.js"));
  return { text: sf.text, provider: loaded.handler() as P };
}

/** The two forms the direct suites run a provider in: as constructed, and re-loaded from its serialized text. */
export const FORMS = ["direct", "serialized"] as const;

/** `provider` in the given form; the serialized copy keeps the test client options, as the test engine sets them. */
export async function inForm<P extends { clientOptions: ClientOptions }>(
  form: (typeof FORMS)[number],
  provider: P,
): Promise<P> {
  if (form === "direct") return provider;
  const loaded = (await serialize(provider)).provider;
  loaded.clientOptions = provider.clientOptions;
  return loaded;
}

// ---------------------------------------------------------------------------------------------------------------
// Layer 3: the real dynamic-provider host over gRPC

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** Wraps a value as a Pulumi secret envelope, the way the engine marks secret property values. */
export function secret<T>(value: T): { [SECRET_SIG]: string; value: T } {
  return { [SECRET_SIG]: SECRET_VALUE, value };
}

export function isSecretEnvelope(value: unknown): value is { value: unknown } {
  return !!value && typeof value === "object" && (value as any)[SECRET_SIG] === SECRET_VALUE;
}

/** Removes secret envelopes (the engine does this for providers that do not accept secrets, like this host). */
function unwrapSecrets(value: unknown): unknown {
  if (isSecretEnvelope(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

/** Top-level keys whose value is (or contains) a secret envelope. */
function secretKeys(props: Record<string, unknown>): string[] {
  return Object.keys(props).filter((k) => JSON.stringify(props[k] ?? null).includes(SECRET_SIG));
}

/** Re-applies the secret flag to outputs whose key was secret in the inputs (the engine's annotateSecrets). */
function annotate(outputs: Record<string, any>, keys: string[]): Record<string, any> {
  return Object.fromEntries(
    Object.entries(outputs).map(([k, v]) => [k, keys.includes(k) && !isSecretEnvelope(v) ? secret(v) : v]),
  );
}

export type DiffChanges = "unknown" | "none" | "some";
export interface HostCheckResult {
  inputs: Record<string, any>;
  failures: Array<{ property: string; reason: string }>;
}
export interface HostDiffResult {
  changes: DiffChanges;
  replaces: string[];
  deleteBeforeReplace: boolean;
}
export interface HostReadResult {
  id: string;
  properties: Record<string, any>;
  inputs?: Record<string, any>;
}
export interface HostCreateResult {
  id: string;
  properties: Record<string, any>;
}

/** A URN for a dynamic resource of type `type` (e.g. `pulumi-nodejs:dynamic/threescale:Product`). */
export function urnOf(type: string, name: string): string {
  return `urn:pulumi:test::maas::${type}::${name}`;
}

export interface HostClient {
  /** Network address of the host's gRPC server. */
  readonly address: string;
  check(urn: string, news: Record<string, any>, olds?: Record<string, any>): Promise<HostCheckResult>;
  diff(urn: string, id: string, olds: Record<string, any>, news: Record<string, any>): Promise<HostDiffResult>;
  create(urn: string, properties: Record<string, any>): Promise<HostCreateResult>;
  read(urn: string, id: string, properties: Record<string, any>): Promise<HostReadResult>;
  update(urn: string, id: string, olds: Record<string, any>, news: Record<string, any>): Promise<Record<string, any>>;
  delete(urn: string, id: string, properties: Record<string, any>): Promise<void>;
  /** Everything the host printed on stdout and stderr so far. */
  logs(): string;
  close(): Promise<void>;
}

/** Spawns the host shipped in @pulumi/pulumi (cwd = project root) and connects a gRPC client to it. */
export async function startHost(): Promise<HostClient> {
  const grpc = require("@grpc/grpc-js");
  const { ResourceProviderClient } = require("@pulumi/pulumi/proto/provider_grpc_pb");
  const proto = require("@pulumi/pulumi/proto/provider_pb");
  const { Struct } = require("google-protobuf/google/protobuf/struct_pb");

  const child: ChildProcess = spawn(
    process.execPath,
    [require.resolve("@pulumi/pulumi/cmd/dynamic-provider"), "127.0.0.1:1"],
    { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`provider host did not start: ${output}`)), 20_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /^(\d+)\s*$/m.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("exit", (code) => reject(new Error(`provider host exited with ${code}: ${output}`)));
  });
  const address = `127.0.0.1:${port}`;
  const client = new ResourceProviderClient(address, grpc.credentials.createInsecure());

  const call = <T>(method: string, request: unknown): Promise<T> =>
    new Promise((resolve, reject) =>
      client[method](request, (err: Error | null, response: T) => (err ? reject(err) : resolve(response))),
    );
  const struct = (props: Record<string, any>) => Struct.fromJavaScript(unwrapSecrets(props));
  const changesName: Record<number, DiffChanges> = { 0: "unknown", 1: "none", 2: "some" };

  return {
    address,
    async check(urn, news, olds = {}) {
      const req = new proto.CheckRequest();
      req.setUrn(urn);
      req.setOlds(struct(olds));
      req.setNews(struct(news));
      const res = await call<any>("check", req);
      return {
        inputs: res.getInputs()?.toJavaScript() ?? {},
        failures: res.getFailuresList().map((f: any) => ({ property: f.getProperty(), reason: f.getReason() })),
      };
    },
    async diff(urn, id, olds, news) {
      const req = new proto.DiffRequest();
      req.setUrn(urn);
      req.setId(id);
      req.setOlds(struct(olds));
      req.setNews(struct(news));
      const res = await call<any>("diff", req);
      return {
        changes: changesName[res.getChanges()],
        replaces: res.getReplacesList(),
        deleteBeforeReplace: res.getDeletebeforereplace(),
      };
    },
    async create(urn, properties) {
      const req = new proto.CreateRequest();
      req.setUrn(urn);
      req.setProperties(struct(properties));
      const res = await call<any>("create", req);
      return { id: res.getId(), properties: annotate(res.getProperties().toJavaScript(), secretKeys(properties)) };
    },
    async read(urn, id, properties) {
      const req = new proto.ReadRequest();
      req.setUrn(urn);
      req.setId(id);
      req.setProperties(struct(properties));
      const res = await call<any>("read", req);
      return {
        id: res.getId(),
        properties: annotate(res.getProperties()?.toJavaScript() ?? {}, secretKeys(properties)),
        inputs: res.getInputs()?.toJavaScript(),
      };
    },
    async update(urn, id, olds, news) {
      const req = new proto.UpdateRequest();
      req.setUrn(urn);
      req.setId(id);
      req.setOlds(struct(olds));
      req.setNews(struct(news));
      const res = await call<any>("update", req);
      return annotate(res.getProperties().toJavaScript(), secretKeys(news));
    },
    async delete(urn, id, properties) {
      const req = new proto.DeleteRequest();
      req.setUrn(urn);
      req.setId(id);
      req.setProperties(struct(properties));
      await call<unknown>("delete", req);
    },
    logs: () => output,
    async close() {
      client.close();
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill();
        await exited;
      }
    },
  };
}
