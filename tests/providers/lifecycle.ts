/**
 * The idempotency lifecycle every 3scale resource type of this suite goes through, shared by the direct (layer 1)
 * and serialized (layer 2) suites: create, create again (adopts, no duplicate), update without change (zero
 * writes), drift made in the emulator (visible in read, repaired by update), an in-place change, delete (gone,
 * and deleting again is fine).
 */
import type * as pulumi from "@pulumi/pulumi";
import { AdminClient, Connection } from "../../dynamic-providers/threescale/client";
import { BackendProvider } from "../../dynamic-providers/backend";
import { BackendUsageProvider } from "../../dynamic-providers/backend-usage";
import { MetricProvider } from "../../dynamic-providers/metric";
import { ProductProvider } from "../../dynamic-providers/product";
import type { EmulatorState } from "../emulator";
import { Emulator, FAST_CLIENT } from "./support";

export type AnyProvider = Required<pulumi.dynamic.ResourceProvider>;

/** Objects the lifecycles hang off: a product with a backend, a method and the hits metric. */
export interface World {
  productId: number;
  hitsMetricId: number;
  backendId: number;
  spareBackendId: number;
  methodId: number;
  backendHitsId: number;
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
  const method = await new MetricProvider("product", "method", FAST_CLIENT).create({
    connection,
    productId,
    systemName: "world_chat",
    friendlyName: "World chat",
  });
  const client = new AdminClient(connection, FAST_CLIENT);
  const backendMetrics = await client.list(`/admin/api/backend_apis/${backendId}/metrics.json`, "metrics", "metric");
  return {
    productId,
    hitsMetricId,
    backendId,
    spareBackendId: spare.outs.backendId,
    methodId: method.outs.metricId,
    backendHitsId: backendMetrics.find((m) => m.system_name.startsWith("hits"))!.id,
  };
}

export interface LifecycleCase {
  type: string;
  /** A provider with test client options (layer 1); layer 2 serializes the shared instance instead. */
  direct: () => AnyProvider;
  inputs: (w: World) => Record<string, any>;
  /** The same object with an in-place (non-replacing) change. */
  changed: (inputs: Record<string, any>) => Record<string, any>;
  /** Someone edits the object in the admin UI. */
  drift: (state: EmulatorState, id: number, w: World) => void;
  /** How many objects with this resource's key exist (API view); omit for per-product singletons. */
  count?: (client: AdminClient, inputs: Record<string, any>) => Promise<number>;
  /** What must hold after delete for singletons (settings, chain). */
  afterDelete?: (state: EmulatorState, w: World) => void;
}

const byId = <T extends { id: number }>(items: T[], id: number): T => {
  const found = items.find((i) => i.id === id);
  if (!found) throw new Error(`no object ${id} in the emulator state`);
  return found;
};

async function countMetrics(client: AdminClient, base: string, systemName: string): Promise<number> {
  const items = await client.list(`${base}/metrics.json`, "metrics", undefined);
  return items.map((i) => i.metric ?? i.method).filter((m) => m.system_name.split(".")[0] === systemName).length;
}

async function countRules(client: AdminClient, base: string, inputs: Record<string, any>): Promise<number> {
  const rules = await client.list(`${base}.json`, "mapping_rules", "mapping_rule");
  return rules.filter((r) => r.http_method === inputs.httpMethod && r.pattern === inputs.pattern).length;
}

export const CASES: LifecycleCase[] = [
  {
    type: "Product",
    direct: () => new ProductProvider(FAST_CLIENT) as AnyProvider,
    inputs: () => ({ systemName: "llama_3", name: "Llama 3", description: "chat model" }),
    changed: (i) => ({ ...i, description: "chat model, 8B" }),
    drift: (s, id) => (byId(s.products, id).name = "Renamed in the UI"),
    count: async (c, i) =>
      (await c.list("/admin/api/services.json", "services", "service")).filter((s) => s.system_name === i.systemName)
        .length,
  },
  {
    type: "Backend",
    direct: () => new BackendProvider(FAST_CLIENT) as AnyProvider,
    inputs: () => ({ systemName: "llama_be", name: "Llama backend", privateEndpoint: "https://llama.models.svc" }),
    changed: (i) => ({ ...i, privateEndpoint: "https://llama.models.svc:8443/v1" }),
    drift: (s, id) => (byId(s.backends, id).private_endpoint = "http://elsewhere.svc:80"),
    count: async (c, i) =>
      (await c.list("/admin/api/backend_apis.json", "backend_apis", "backend_api")).filter(
        (b) => b.system_name === i.systemName,
      ).length,
  },
  {
    type: "ProductMetric",
    direct: () => new MetricProvider("product", "metric", FAST_CLIENT) as AnyProvider,
    inputs: (w) => ({
      productId: w.productId,
      systemName: "total_tokens",
      friendlyName: "Total tokens",
      unit: "token",
    }),
    changed: (i) => ({ ...i, description: "prompt + completion" }),
    drift: (s, id) => (byId(s.metrics, id).friendly_name = "Tokens (edited)"),
    count: (c, i) => countMetrics(c, `/admin/api/services/${i.productId}`, i.systemName),
  },
  {
    type: "ProductMethod",
    direct: () => new MetricProvider("product", "method", FAST_CLIENT) as AnyProvider,
    inputs: (w) => ({ productId: w.productId, systemName: "embeddings", friendlyName: "Embeddings" }),
    changed: (i) => ({ ...i, friendlyName: "Embeddings API" }),
    drift: (s, id) => (byId(s.metrics, id).friendly_name = "Edited in the UI"),
    count: (c, i) => countMetrics(c, `/admin/api/services/${i.productId}`, i.systemName),
  },
  {
    type: "BackendMetric",
    direct: () => new MetricProvider("backend", "metric", FAST_CLIENT) as AnyProvider,
    inputs: (w) => ({ backendId: w.backendId, systemName: "gpu_seconds", friendlyName: "GPU seconds", unit: "s" }),
    changed: (i) => ({ ...i, unit: "second" }),
    drift: (s, id) => (byId(s.metrics, id).unit = "ms"),
    count: (c, i) => countMetrics(c, `/admin/api/backend_apis/${i.backendId}`, i.systemName),
  },
  {
    type: "BackendMethod",
    direct: () => new MetricProvider("backend", "method", FAST_CLIENT) as AnyProvider,
    inputs: (w) => ({ backendId: w.backendId, systemName: "completions", friendlyName: "Completions" }),
    changed: (i) => ({ ...i, description: "legacy completions" }),
    drift: (s, id) => (byId(s.metrics, id).friendly_name = "Edited"),
    count: (c, i) => countMetrics(c, `/admin/api/backend_apis/${i.backendId}`, i.systemName),
  },
  {
    type: "ProductMappingRule",
    direct: () => new (require("../../dynamic-providers/mapping-rule").MappingRuleProvider)("product", FAST_CLIENT),
    inputs: (w) => ({
      productId: w.productId,
      httpMethod: "POST",
      pattern: "/v1/embeddings$",
      metricId: w.methodId,
      delta: 1,
    }),
    changed: (i) => ({ ...i, delta: 3, last: true }),
    drift: (s, id) => (byId(s.mappingRules, id).metric_id = s.metrics.find((m) => m.system_name === "hits")!.id),
    count: (c, i) => countRules(c, `/admin/api/services/${i.productId}/proxy/mapping_rules`, i),
  },
  {
    type: "BackendMappingRule",
    direct: () => new (require("../../dynamic-providers/mapping-rule").MappingRuleProvider)("backend", FAST_CLIENT),
    inputs: (w) => ({
      backendId: w.backendId,
      httpMethod: "GET",
      pattern: "/v1/models",
      metricId: w.backendHitsId,
      delta: 1,
    }),
    changed: (i) => ({ ...i, httpMethod: "HEAD" }),
    drift: (s, id) => (byId(s.mappingRules, id).delta = 9),
    count: (c, i) => countRules(c, `/admin/api/backend_apis/${i.backendId}/mapping_rules`, i),
  },
  {
    type: "BackendUsage",
    direct: () => new BackendUsageProvider(FAST_CLIENT) as AnyProvider,
    inputs: (w) => ({ productId: w.productId, backendId: w.spareBackendId, path: "/v2/" }),
    changed: (i) => ({ ...i, path: "/v3" }),
    drift: (s, id) => (byId(s.backendUsages, id).path = "/moved"),
    count: async (c, i) =>
      (await c.list(`/admin/api/services/${i.productId}/backend_usages.json`, undefined, "backend_usage")).filter(
        (u) => u.backend_id === i.backendId,
      ).length,
  },
  {
    type: "ProxySettings",
    direct: () => new (require("../../dynamic-providers/proxy-settings").ProxySettingsProvider)(FAST_CLIENT),
    inputs: (w) => ({ productId: w.productId, credentialsLocation: "authorization", errorStatusAuthFailed: 401 }),
    changed: (i) => ({ ...i, errorAuthFailed: "Invalid API key", errorStatusLimitsExceeded: 429 }),
    drift: (s, id) => (byId(s.products, id).proxy.settings.credentials_location = "query"),
    afterDelete: (s, w) =>
      expect(byId(s.products, w.productId).proxy.settings.credentials_location).toBe("authorization"),
  },
  {
    type: "PolicyChain",
    direct: () => new (require("../../dynamic-providers/policy-chain").PolicyChainProvider)(FAST_CLIENT),
    inputs: (w) => ({
      productId: w.productId,
      policies: [{ name: "cors", version: "builtin", configuration: { allow_origin: "*", allow_methods: ["POST"] } }],
    }),
    changed: (i) => ({
      ...i,
      policies: [
        ...i.policies,
        { name: "upstream_connection", version: "builtin", configuration: { read_timeout: 300 } },
      ],
    }),
    drift: (s, id) => (byId(s.products, id).proxy.policies_config[0].configuration = { allow_origin: "evil.example" }),
    afterDelete: (s, w) =>
      expect(byId(s.products, w.productId).proxy.policies_config).toEqual([
        { name: "apicast", version: "builtin", configuration: {}, enabled: true },
      ]),
  },
];

/**
 * Runs the lifecycle of `c` with `provider`; `strictWrites` asserts the zero-write update (off under faults).
 * Returns how many calls the emulator failed on purpose meanwhile.
 */
export async function runLifecycle(
  c: LifecycleCase,
  provider: AnyProvider,
  emulator: Emulator,
  connection: Connection,
  world: World,
  strictWrites = true,
): Promise<number> {
  const faulted = () => emulator.calls.filter((call) => call.fault !== undefined).length;
  const client = new AdminClient(connection, FAST_CLIENT);
  const inputs = { connection, ...c.inputs(world) };
  expect((await provider.check({}, inputs)).failures ?? []).toEqual([]);

  const created = await provider.create(inputs);
  const id = created.id;
  const again = await provider.create(inputs);
  expect(again.id).toBe(id);
  if (c.count) expect(await c.count(client, inputs)).toBe(1);

  const faults = faulted();
  emulator.resetCalls();
  await provider.update(id, created.outs, inputs);
  if (strictWrites) expect(emulator.writes()).toEqual([]);
  expect((await provider.diff(id, created.outs, inputs)).changes).toBe(false);

  c.drift(emulator.state, Number(id), world);
  const drifted = await provider.read(id, created.outs);
  expect(drifted.id).toBe(id);
  expect((await provider.diff(id, drifted.props, inputs)).changes).toBe(true);
  const repaired = await provider.update(id, drifted.props, inputs);
  expect((await provider.diff(id, (await provider.read(id, repaired.outs)).props, inputs)).changes).toBe(false);

  const changed = c.changed(inputs);
  const diff = await provider.diff(id, repaired.outs, changed);
  expect(diff).toMatchObject({ changes: true, replaces: [] });
  const updated = await provider.update(id, repaired.outs, changed);
  const reread = await provider.read(id, updated.outs);
  expect((await provider.diff(id, reread.props, changed)).changes).toBe(false);

  await provider.delete(id, updated.outs);
  await provider.delete(id, updated.outs); // already gone (or reset): still fine
  if (c.count) {
    expect(await c.count(client, inputs)).toBe(0);
    expect((await provider.read(id, updated.outs)).id).toBeUndefined();
  }
  c.afterDelete?.(emulator.state, world);
  return faults + faulted();
}
